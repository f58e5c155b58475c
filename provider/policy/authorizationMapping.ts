// An AuthorizationPolicy as plain values and how it maps onto IAM: its state shapes, the attributes its fields
// become, the Policy Management body and what its diff decides. Pure, and apart from the resource file so that
// only the resource and its provider are that module's API (the state shapes are re-exported there).
import type { PolicyBody } from "../../client/iamClient";
import { sameSet } from "../core/diff";
import { containsUnknown, UNKNOWN } from "../core/props";
import { attribute } from "./accessMapping";

/** The arguments as plain values (after check: `roles` defaulted). */
export interface AuthorizationPolicyFields {
    sourceServiceName: string;
    sourceServiceInstance?: string;
    sourceResourceGroupId?: string;
    sourceResourceType?: string;
    targetServiceName: string;
    targetServiceInstance?: string;
    targetResourceType?: string;
    targetResource?: string;
    roles: string[];
    description?: string;
    adoptExisting?: boolean;
}

/** What state holds: the live identity and the arguments as given. */
export interface AuthorizationPolicyOutputs extends AuthorizationPolicyFields {
    /** The authorization's id (an IAM policy of type `authorization`). */
    policyId: string;
    /** ETag as last written or read; sent with If-Match on update. */
    etag: string;
    /** The policy's URL in the IAM Policy Management API. */
    href: string;
    /** `active` (one IAM left `deleted` reads as gone). */
    state: string;
    /** The granted roles' CRNs, in the order of `roles`. */
    roleCrns: string[];
    /** The deployer's account: the `accountId` of subject and resource. */
    accountId: string;
    /** When IAM created the authorization (ISO 8601). */
    createdAt: string;
    /** When IAM last changed it (ISO 8601). */
    lastModifiedAt: string;
}

/** Inputs after check: `roleCrns` resolved offline. */
export interface AuthorizationPolicyInputs extends AuthorizationPolicyFields {
    roleCrns?: string[];
}

// The fields of the subject and of the resource, and the IAM attribute each one is.
export const SOURCE_ATTRIBUTES = Object.freeze([
    ["sourceServiceName", "serviceName"],
    ["sourceServiceInstance", "serviceInstance"],
    ["sourceResourceType", "resourceType"],
    ["sourceResourceGroupId", "resourceGroupId"],
] as const);
export const TARGET_ATTRIBUTES = Object.freeze([
    ["targetServiceName", "serviceName"],
    ["targetServiceInstance", "serviceInstance"],
    ["targetResourceType", "resourceType"],
    ["targetResource", "resource"],
] as const);
const REPLACING_FIELDS = Object.freeze([...SOURCE_ATTRIBUTES, ...TARGET_ATTRIBUTES].map(([field]) => field));

/** The Policy Management v1 body. Subject attributes carry no operator (as IBM's own tools send them). */
export function authorizationPolicyBody(inputs: AuthorizationPolicyInputs, roleCrns: string[], accountId: string): PolicyBody {
    const subject = [{ name: "accountId", value: accountId }];
    for (const [field, name] of SOURCE_ATTRIBUTES) if (typeof inputs[field] === "string") subject.push({ name, value: inputs[field] as string });
    const resource = [attribute("accountId", accountId)];
    for (const [field, name] of TARGET_ATTRIBUTES) if (typeof inputs[field] === "string") resource.push(attribute(name, inputs[field] as string));
    const body: PolicyBody = {
        type: "authorization",
        subjects: [{ attributes: subject }],
        roles: roleCrns.map((role_id) => ({ role_id })),
        resources: [{ attributes: resource }],
    };
    if (typeof inputs.description === "string" && inputs.description !== "") body.description = inputs.description;
    return body;
}

/** The live policy's subject and resource in the shape of the arguments. */
/** What `diff` decides (pure): source and target replace, roles and description update. */
export function diffAuthorizationPolicy(
    olds: Partial<AuthorizationPolicyOutputs>,
    news: Partial<AuthorizationPolicyInputs>,
): { changes: boolean; replaces: string[]; updates: string[] } {
    const replaces = REPLACING_FIELDS.filter((f) => news[f] === UNKNOWN || (news[f] ?? "") !== (olds[f] ?? ""));
    const updates: string[] = [];
    const planned = Array.isArray(news.roleCrns) ? news.roleCrns : undefined;
    if (!planned || containsUnknown(news.roles) || !sameSet(olds.roleCrns, planned)) updates.push("roles");
    if (news.description === UNKNOWN || (news.description ?? "") !== (olds.description ?? "")) updates.push("description");
    return { changes: replaces.length > 0 || updates.length > 0, replaces, updates };
}
