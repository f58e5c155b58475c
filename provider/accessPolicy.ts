// An IAM access policy: grants one subject (a service ID, or any IAM id) roles on a resource of the
// deployer's account, through Policy Management v1. Role names are resolved to CRNs before any API
// call for the services the offline catalog knows (so a typo fails at preview with the valid list),
// and through `GET /v2/roles` at create/update for the others. The `accountId` attribute always comes
// from the deployer's token.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { IbmCloudError, InputError, isEtagMismatch, isNotFound, isPolicyConflict } from "../client/errors";
import { IamClient, Policy, PolicyAttribute, PolicyBody, PolicyWithEtag, RoleList, serviceIamId } from "../client/iamClient";
import { canResolveOffline, describeRoles, isRoleCrn, KNOWN_ROLE_SERVICES, knownRoles, normalizeRoleName, resolveRole, RoleInfo } from "./roles";
import { CloudSession } from "./session";
import { CheckFailure, closestName, compact, containsUnknown, descriptionField, UNKNOWN, validate } from "./validation";
import { providerForDeployment } from "./dynamicProvider";
import { createdSince, createWithRecovery } from "../client/createRecovery";

// ---------- arguments ----------

/** Which resources the policy covers. Each field becomes a `resources[].attributes` entry (stringEquals). */
export interface AccessPolicyResourceArgs {
    /** The service, e.g. `hs-crypto`, `kms`, `cloud-object-storage`. Roles of `hs-crypto`/`kms` resolve offline, others through IAM. */
    serviceName?: pulumi.Input<string>;
    /** `service` (all IAM-enabled services) or `platform_service` (all account management services), when no serviceName is given. */
    serviceType?: pulumi.Input<"service" | "platform_service">;
    /** Instance GUID within `serviceName` (needs `serviceName`). */
    serviceInstance?: pulumi.Input<string>;
    region?: pulumi.Input<string>;
    /** e.g. `key`, `bucket`, `resource-group`. */
    resourceType?: pulumi.Input<string>;
    /** A resource id within `resourceType`, e.g. a key id. */
    resource?: pulumi.Input<string>;
    resourceGroupId?: pulumi.Input<string>;
    /** Further attributes, name → value (e.g. `{ keyRing: "app" }`); the named fields above and `accountId` are refused here. */
    attributes?: pulumi.Input<{ [name: string]: pulumi.Input<string> }>;
    /** Access management tags, name → value: resources carrying all of them are covered (`resources[].tags`, stringEquals). */
    tags?: pulumi.Input<{ [name: string]: pulumi.Input<string> }>;
}

export interface AccessPolicyArgs {
    /**
     * The subject as a service ID: `ServiceId-…` or its IAM id `iam-ServiceId-…`. Pass the ServiceId resource's `id` (`app.id`),
     * which stays known while a preview plans an update of the service ID (its `serviceId` output does not, and the preview
     * would show the policy replaced). Exactly one of serviceId / iamId. Changing the subject replaces the policy.
     */
    serviceId?: pulumi.Input<string>;
    /** The subject as any IAM id (`iam-ServiceId-…`, `iam-Profile-…`, `IBMid-…`). Exactly one of serviceId / iamId. Changing the subject replaces the policy. */
    iamId?: pulumi.Input<string>;
    /**
     * Roles to grant, each a display name (`Writer`, `Key Custodian - Creator`), id (`KeyCustodianCreator`)
     * or CRN. Order does not matter. Custom roles are given by CRN. Changes update the policy in place.
     */
    roles: pulumi.Input<pulumi.Input<string>[]>;
    /** What the roles apply to; one of serviceName, serviceType or resourceGroupId is required. Changes update in place. */
    resource: pulumi.Input<AccessPolicyResourceArgs>;
    /** Up to 300 characters. Changes update in place. */
    description?: pulumi.Input<string>;
    /**
     * When an identical policy (same subject, roles and resource) already exists, IAM refuses to create
     * another. `false` (default): that is an error naming the existing policy. `true`: the existing
     * policy becomes this resource's (its description is set to this one's), and `pulumi destroy`
     * then DELETES it. To use an existing policy without managing it, use `AccessPolicy.get(name, id)`.
     */
    adoptExisting?: pulumi.Input<boolean>;
}

/** `resource` as plain values (inputs after check, and state). */
export interface AccessPolicyResource {
    serviceName?: string;
    serviceType?: string;
    serviceInstance?: string;
    region?: string;
    resourceType?: string;
    resource?: string;
    resourceGroupId?: string;
    attributes?: { [name: string]: string };
    tags?: { [name: string]: string };
}

/** What state holds for a policy. */
export interface AccessPolicyOutputs {
    policyId: string;
    /** ETag of the policy as last written or read; sent with If-Match on update. */
    etag: string;
    href: string;
    /** `active` (a policy left `deleted` by its subject's deletion reads as gone). */
    state: string;
    /** The granted roles' CRNs, in the order of `roles`. */
    roleCrns: string[];
    /** The subject's IAM id (`iam-ServiceId-…`). */
    subjectIamId: string;
    /** The deployer's account (from the token), the policy's `accountId` attribute. */
    accountId: string;
    createdAt: string;
    lastModifiedAt: string;
    // the arguments as given
    serviceId?: string;
    iamId?: string;
    roles: string[];
    resource: AccessPolicyResource;
    description?: string;
    adoptExisting?: boolean;
}

/** Inputs after `check`: `roleCrns` is added when every role resolved offline (preview shows what will be granted). */
export interface AccessPolicyInputs {
    serviceId?: string;
    iamId?: string;
    roles: string[];
    resource: AccessPolicyResource;
    description?: string;
    adoptExisting?: boolean;
    roleCrns?: string[];
}

// ---------- validation ----------

// The `resource` fields that are IAM attributes of the same name, in the order they are sent.
const NAMED_ATTRIBUTES: ReadonlyArray<keyof AccessPolicyResource> = Object.freeze([
    "serviceName", "serviceType", "serviceInstance", "region", "resourceType", "resource", "resourceGroupId",
] as const);
const MAX_ATTRIBUTE_VALUE = 1000;
const MAX_DESCRIPTION = 300;
// IBM access management tags: `name:value`, at most 128 characters, letters, digits, spaces, `_`, `-`, `.`.
const TAG_PART_PATTERN = "^[A-Za-z0-9 _.-]+$";
const MAX_TAG = 128;
const SERVICE_ID_PATTERN = "^(iam-)?ServiceId-[A-Za-z0-9-]+$";
const IAM_ID_PATTERN = "^(IBMid-|iam-)[^\\s]+$";

function attributeValue(what: string) {
    return z.string({ error: `${what} must be a string` })
        .min(1, { error: `${what} must not be empty; leave it out instead` })
        .max(MAX_ATTRIBUTE_VALUE, { error: `${what} must be at most ${MAX_ATTRIBUTE_VALUE} characters (an IAM limit)` });
}

function accessPolicySchema() {
    const resource = z.object({
        serviceName: attributeValue("resource.serviceName").optional(),
        serviceType: z.enum(["service", "platform_service"], {
            error: "resource.serviceType must be \"service\" (all IAM-enabled services) or \"platform_service\" (all account management services)",
        }).optional(),
        serviceInstance: attributeValue("resource.serviceInstance").optional(),
        region: attributeValue("resource.region").optional(),
        resourceType: attributeValue("resource.resourceType").optional(),
        resource: attributeValue("resource.resource").optional(),
        resourceGroupId: attributeValue("resource.resourceGroupId").optional(),
        attributes: z.record(z.string(), attributeValue("an attribute value"), {
            error: "resource.attributes must be a map of attribute name to string value, e.g. { keyRing: \"app\" }",
        }).optional(),
        tags: z.record(z.string(), z.string({ error: "a tag value must be a string" }), {
            error: "resource.tags must be a map of tag name to value, e.g. { env: \"prod\" }",
        }).optional(),
    }, { error: "resource must be an object such as { serviceName: \"hs-crypto\", serviceInstance: \"<instance guid>\" }" }).strict();
    return z.object({
        serviceId: z.string({ error: "serviceId must be a string" }).regex(new RegExp(SERVICE_ID_PATTERN), {
            error: "serviceId must be a service ID such as ServiceId-1a2b3c4d-… (or its IAM id iam-ServiceId-…); for another kind of subject use iamId",
        }).optional(),
        iamId: z.string({ error: "iamId must be a string" }).regex(new RegExp(IAM_ID_PATTERN), {
            error: "iamId must be an IAM id such as iam-ServiceId-…, iam-Profile-… or IBMid-…; a bare ServiceId-… goes in serviceId",
        }).optional(),
        roles: z.array(
            z.string({ error: "each role must be a string such as \"Writer\"" }).trim().min(1, { error: "a role must not be empty; give a name such as \"Reader\"" }),
            { error: "roles must be a list of role names, ids or CRNs such as [\"Writer\"]" },
        ).min(1, { error: "roles must name at least one role, e.g. [\"Reader\"]" }),
        resource,
        description: descriptionField(MAX_DESCRIPTION).optional(),
        adoptExisting: z.boolean({ error: "adoptExisting must be true or false" }).optional(),
    }).strict();
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

function given(v: unknown): boolean {
    return v !== undefined && v !== null;
}

/** The subject's IAM id from `serviceId` / `iamId`; UNKNOWN while either is unknown, undefined when neither is given. */
export function subjectIamIdOf(inputs: { serviceId?: unknown; iamId?: unknown }): string | undefined {
    if (inputs.serviceId === UNKNOWN || inputs.iamId === UNKNOWN) return UNKNOWN;
    if (typeof inputs.iamId === "string") return inputs.iamId;
    if (typeof inputs.serviceId === "string") return serviceIamId(inputs.serviceId);
    return undefined;
}

/** The roles a policy on this resource may grant, as far as the offline catalog knows. */
function offlineCatalog(serviceName: string | undefined, serviceType: string | undefined): RoleInfo[] {
    const all = knownRoles(serviceName);
    // All account management services: only platform roles exist there.
    return !serviceName && serviceType === "platform_service" ? all.filter((r) => r.kind === "platform") : all;
}

// Other names people give the services whose roles resolve offline (ibmcloud CLI / console wording).
const SERVICE_ALIASES: { readonly [alias: string]: string } = Object.freeze({
    hpcs: "hs-crypto", "hyper-protect-crypto-services": "hs-crypto", keyprotect: "kms", "key-protect": "kms", kp: "kms",
});

/**
 * What is wrong with `resource.serviceName`, if anything visible offline: IBM service names (the
 * global catalog's, e.g. `cloud-object-storage`, `hs-crypto`) are lowercase and policy attributes
 * match case-sensitively, so `HS-Crypto` would grant nothing; a near miss of a service whose roles we
 * know (`hs-crpyto`, `hpcs`) is a typo. Other names are left for IAM to judge.
 */
function serviceNameProblem(name: unknown): string | undefined {
    if (typeof name !== "string" || name === UNKNOWN || name === "") return undefined;
    if (KNOWN_ROLE_SERVICES.includes(name)) return undefined;
    const alias = Object.prototype.hasOwnProperty.call(SERVICE_ALIASES, name.toLowerCase()) ? SERVICE_ALIASES[name.toLowerCase()] : undefined;
    const meant = alias ?? closestName(name, KNOWN_ROLE_SERVICES);
    if (meant !== undefined) return `unknown service "${name}"; did you mean "${meant}"? (hs-crypto is Hyper Protect Crypto Services, kms is Key Protect)`;
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
        return `"${name}" is not a service name: IBM service names are lowercase letters, digits and dashes (e.g. hs-crypto, kms, cloud-object-storage), and IAM compares them case-sensitively`;
    }
    return undefined;
}

function duplicateReason(role: string, index: number, firstRole: string): string {
    return `"${role}" grants the same role as roles[${index}] ("${firstRole}"); list each role once`;
}

/**
 * Cross-field rules zod cannot express alone (subject, resource scope, attribute and tag names) and
 * offline role resolution. Pure: tests call it directly. `roleCrns` is set when every role resolved.
 */
export function checkAccessPolicy(inputs: Record<string, unknown>): { failures: CheckFailure[]; roleCrns?: string[] } {
    const failures: CheckFailure[] = [];
    const hasServiceId = given(inputs.serviceId);
    const hasIamId = given(inputs.iamId);
    if (hasServiceId && hasIamId) {
        failures.push({ property: "serviceId", reason: "give the subject as serviceId or as iamId, not both: serviceId takes a service ID (ServiceId-… or iam-ServiceId-…), iamId any IAM id" });
    } else if (!hasServiceId && !hasIamId) {
        failures.push({ property: "serviceId", reason: "the policy needs a subject: set serviceId (a service ID such as ServiceId-…, e.g. serviceId: app.id) or iamId (any IAM id such as iam-ServiceId-… or IBMid-…)" });
    }

    const res = inputs.resource;
    let serviceName: unknown;
    let serviceType: unknown;
    if (isPlainObject(res)) {
        serviceName = res.serviceName;
        serviceType = res.serviceType;
        const nameProblem = serviceNameProblem(res.serviceName);
        if (nameProblem) failures.push({ property: "resource.serviceName", reason: nameProblem });
        if (res.serviceType === "platform_service" && typeof res.serviceName === "string" && KNOWN_ROLE_SERVICES.includes(res.serviceName)) {
            failures.push({ property: "resource.serviceType", reason: `${res.serviceName} is not an account management service, so serviceType "platform_service" would make the policy match nothing; remove serviceType (serviceName alone scopes the policy)` });
        }
        if (!given(res.serviceName) && !given(res.serviceType) && !given(res.resourceGroupId)) {
            failures.push({ property: "resource.serviceName", reason: "resource needs serviceName (e.g. \"hs-crypto\"), serviceType (\"service\" or \"platform_service\") or resourceGroupId: IAM refuses a policy scoped by none of them" });
        } else if (given(res.serviceInstance) && !given(res.serviceName)) {
            failures.push({ property: "resource.serviceName", reason: "resource.serviceInstance needs resource.serviceName: an instance id means nothing without its service (e.g. serviceName: \"hs-crypto\")" });
        }
        if (isPlainObject(res.attributes)) {
            for (const name of Object.keys(res.attributes)) {
                const property = `resource.attributes.${name}`;
                if (name === "accountId") failures.push({ property, reason: "accountId is taken from the deployer's credentials; remove it" });
                else if ((NAMED_ATTRIBUTES as ReadonlyArray<string>).includes(name)) failures.push({ property, reason: `${name} has its own field: use resource.${name} instead` });
                else if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name) || name.length > 100) {
                    failures.push({ property, reason: `"${name}" is not an attribute name: use letters, digits, "_", "-" or "." starting with a letter, e.g. keyRing` });
                }
            }
        }
        if (isPlainObject(res.tags)) {
            for (const [name, value] of Object.entries(res.tags)) {
                const property = `resource.tags.${name}`;
                if (!new RegExp(TAG_PART_PATTERN).test(name)) {
                    failures.push({ property, reason: `tag name "${name}" may only hold letters, digits, spaces, "_", "-" and "." (IBM access management tags are name:value)` });
                } else if (value !== UNKNOWN && typeof value === "string") {
                    if (!new RegExp(TAG_PART_PATTERN).test(value)) {
                        failures.push({ property, reason: `tag value "${value}" must be 1 or more letters, digits, spaces, "_", "-" or "."` });
                    } else if (name.length + 1 + value.length > MAX_TAG) {
                        failures.push({ property, reason: `the tag "${name}:${value}" is longer than ${MAX_TAG} characters (an IBM tag limit)` });
                    }
                }
            }
        }
    }

    // Roles: resolvable offline only once the service is known (not a preview unknown).
    const roles = inputs.roles;
    if (!Array.isArray(roles) || !isPlainObject(res) || containsUnknown(serviceName) || containsUnknown(serviceType)) return { failures };
    const svc = typeof serviceName === "string" ? serviceName : undefined;
    const type = typeof serviceType === "string" ? serviceType : undefined;
    const offline = canResolveOffline(svc);
    const catalog = offlineCatalog(svc, type);
    const crns: string[] = [];
    let complete = true;
    const seenNames = new Map<string, number>();
    const seenCrns = new Map<string, number>();
    roles.forEach((role, i) => {
        if (typeof role !== "string" || role === UNKNOWN || role.trim() === "") {
            complete = false;
            return;
        }
        const property = `roles[${i}]`;
        const norm = normalizeRoleName(role);
        const sameName = seenNames.get(norm);
        if (sameName !== undefined) {
            failures.push({ property, reason: duplicateReason(role, sameName, roles[sameName] as string) });
            complete = false;
            return;
        }
        seenNames.set(norm, i);
        if (!offline && !role.trim().startsWith("crn:")) {
            complete = false; // resolved through IAM at create/update
            return;
        }
        const r = resolveRole(role, svc, catalog);
        if (!r.ok) {
            failures.push({ property, reason: r.reason });
            complete = false;
            return;
        }
        const first = seenCrns.get(r.crn);
        if (first !== undefined) {
            failures.push({ property, reason: duplicateReason(role, first, roles[first] as string) });
            complete = false;
            return;
        }
        seenCrns.set(r.crn, i);
        crns.push(r.crn);
    });
    return complete && failures.length === 0 ? { failures, roleCrns: crns } : { failures };
}

// ---------- diff ----------

/** `resource` reduced to what IAM compares: sorted attribute and tag pairs (empty maps = absent). */
export function canonicalResource(r: AccessPolicyResource | undefined): string {
    const attrs: Array<[string, string]> = [];
    const tags: Array<[string, string]> = [];
    if (r) {
        for (const name of NAMED_ATTRIBUTES) {
            const v = r[name];
            if (typeof v === "string") attrs.push([name, v]);
        }
        for (const [k, v] of Object.entries(r.attributes ?? {})) attrs.push([k, String(v)]);
        for (const [k, v] of Object.entries(r.tags ?? {})) tags.push([k, String(v)]);
    }
    const order = (a: [string, string], b: [string, string]) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1);
    return JSON.stringify({ attributes: attrs.sort(order), tags: tags.sort(order) });
}

/**
 * The CRN each role of `news` stands for, without calling IAM: from check's `roleCrns`, the offline
 * catalog, or (for services resolved online) the name → CRN pairs already in state. `undefined` for a
 * role only IAM can resolve, or one still unknown.
 */
export function plannedRoleCrns(olds: Partial<AccessPolicyOutputs>, news: Partial<AccessPolicyInputs>): Array<string | undefined> {
    if (!Array.isArray(news.roles)) return [undefined];
    if (Array.isArray(news.roleCrns) && news.roleCrns.length === news.roles.length) return news.roleCrns;
    const svc = typeof news.resource?.serviceName === "string" ? news.resource.serviceName : undefined;
    const catalog = offlineCatalog(svc, news.resource?.serviceType);
    const oldRoles = Array.isArray(olds.roles) ? olds.roles : [];
    const oldCrns = Array.isArray(olds.roleCrns) ? olds.roleCrns : [];
    const paired = oldRoles.length === oldCrns.length;
    return news.roles.map((role) => {
        if (typeof role !== "string" || role === UNKNOWN) return undefined;
        if (role.trim().startsWith("crn:") || canResolveOffline(svc)) {
            const r = resolveRole(role, svc, catalog);
            return r.ok ? r.crn : undefined;
        }
        const norm = normalizeRoleName(role);
        if (paired) {
            const i = oldRoles.findIndex((o) => typeof o === "string" && normalizeRoleName(o) === norm);
            if (i >= 0) return oldCrns[i];
        }
        // IBM role ids are their display names without spaces (`Service ID creator` → ServiceIdCreator).
        return oldCrns.find((c) => normalizeRoleName(c.slice(c.lastIndexOf(":") + 1)) === norm);
    });
}

/** What `diff` decides, as a pure function of stored outputs and checked inputs. */
export function diffAccessPolicy(olds: Partial<AccessPolicyOutputs>, news: Partial<AccessPolicyInputs>): { changes: boolean; replaces: string[]; updates: string[] } {
    const replaces: string[] = [];
    const updates: string[] = [];

    // A policy is about its subject: a new subject is a new policy (IBM's Terraform provider forces new too).
    const before = olds.subjectIamId ?? subjectIamIdOf(olds);
    const after = subjectIamIdOf(news);
    if (after === UNKNOWN || after !== before) {
        if (given(news.iamId)) replaces.push("iamId");
        if (given(news.serviceId) || !given(news.iamId)) replaces.push("serviceId");
    }

    const planned = plannedRoleCrns(olds, news);
    const stored = new Set(Array.isArray(olds.roleCrns) ? olds.roleCrns : []);
    const wanted = new Set(planned.filter((c): c is string => typeof c === "string"));
    const sameRoles = planned.every((c) => c !== undefined) && wanted.size === stored.size && [...wanted].every((c) => stored.has(c));
    if (!sameRoles) updates.push("roles");

    if (containsUnknown(news.resource) || canonicalResource(news.resource) !== canonicalResource(olds.resource)) updates.push("resource");
    if (news.description === UNKNOWN || (news.description ?? "") !== (olds.description ?? "")) updates.push("description");
    return { changes: replaces.length > 0 || updates.length > 0, replaces, updates };
}

// ---------- wire mapping ----------

function attribute(name: string, value: string): PolicyAttribute {
    return { name, value, operator: "stringEquals" };
}

/** The Policy Management v1 body for these inputs. */
export function policyBody(inputs: AccessPolicyInputs, roleCrns: string[], accountId: string): PolicyBody {
    const r = inputs.resource ?? {};
    const attributes: PolicyAttribute[] = [attribute("accountId", accountId)];
    for (const name of NAMED_ATTRIBUTES) {
        const v = r[name];
        if (typeof v === "string") attributes.push(attribute(name, v));
    }
    for (const [name, value] of Object.entries(r.attributes ?? {})) attributes.push(attribute(name, value));
    const tags = Object.entries(r.tags ?? {}).map(([name, value]) => attribute(name, value));
    const body: PolicyBody = {
        type: "access",
        subjects: [{ attributes: [{ name: "iam_id", value: subjectIamIdOf(inputs) as string }] }],
        roles: roleCrns.map((role_id) => ({ role_id })),
        resources: [tags.length > 0 ? { attributes, tags } : { attributes }],
    };
    if (typeof inputs.description === "string" && inputs.description !== "") body.description = inputs.description;
    return body;
}

/** The roles IAM lists for a service, as catalog entries `resolveRole` understands. */
function catalogFromIam(list: RoleList): RoleInfo[] {
    const info = (kind: "platform" | "service") => (r: { crn: string; display_name: string }): RoleInfo =>
        ({ id: r.crn.slice(r.crn.lastIndexOf(":") + 1), displayName: r.display_name, kind, crn: r.crn });
    return [...list.system_roles.map(info("platform")), ...list.service_roles.map(info("service")), ...list.custom_roles.map(info("service"))];
}

/** Every role as a CRN: offline where the catalog knows the service, else through `GET /v2/roles` (one call). */
export async function resolveRoles(iam: IamClient, inputs: AccessPolicyInputs, accountId: string): Promise<string[]> {
    const roles = inputs.roles ?? [];
    const svc = inputs.resource?.serviceName;
    let catalog = offlineCatalog(svc, inputs.resource?.serviceType);
    let source = "valid roles";
    if (!canResolveOffline(svc) && roles.some((role) => !role.trim().startsWith("crn:"))) {
        catalog = catalogFromIam(await iam.listRoles({ serviceName: svc as string, accountId }));
        source = "IAM lists these roles for it";
    }
    const crns: string[] = [];
    roles.forEach((role, i) => {
        const r = resolveRole(role, svc, catalog);
        if (!r.ok) {
            throw new InputError(`roles[${i}]`, `unknown role "${role}" for service ${svc ?? "(none)"}; ${source}: ${describeRoles(catalog)}`,
                "Give a display name, id or CRN from that list");
        }
        if (crns.includes(r.crn)) {
            throw new InputError(`roles[${i}]`, `"${role}" grants a role already listed (${r.crn})`, "List each role once");
        }
        crns.push(r.crn);
    });
    return crns;
}

/** Policy and request bodies describe the same grant (subject, roles, resource, tags; order ignored). */
export function sameGrant(policy: PolicyBody, body: PolicyBody): boolean {
    const attrs = (l: PolicyAttribute[] = []) =>
        l.map((a) => `${a.name}\u0000${a.operator ?? "stringEquals"}\u0000${String(a.value)}`).sort();
    const key = (p: PolicyBody) => JSON.stringify({
        type: p.type,
        subjects: (p.subjects ?? []).map((s) => attrs(s.attributes)),
        roles: (p.roles ?? []).map((r) => r.role_id).sort(),
        resources: (p.resources ?? []).map((r) => ({ a: attrs(r.attributes), t: attrs(r.tags) })),
    });
    return key(policy) === key(body);
}

function stringAttr(list: PolicyAttribute[] | undefined, name: string): string | undefined {
    const a = (list ?? []).find((x) => x.name === name);
    return a === undefined ? undefined : String(a.value);
}

/** The live policy's resource in the shape of the `resource` argument (accountId left out: it is an output). */
function resourceFromLive(policy: Policy): AccessPolicyResource {
    const live = policy.resources?.[0] ?? { attributes: [] };
    const out: Record<string, unknown> = {};
    const extra: { [name: string]: string } = {};
    for (const a of live.attributes ?? []) {
        if (a.name === "accountId") continue;
        if ((NAMED_ATTRIBUTES as ReadonlyArray<string>).includes(a.name)) out[a.name] = String(a.value);
        else extra[a.name] = String(a.value);
    }
    if (Object.keys(extra).length > 0) out.attributes = extra;
    const tags: { [name: string]: string } = {};
    for (const t of live.tags ?? []) tags[t.name] = String(t.value);
    if (Object.keys(tags).length > 0) out.tags = tags;
    return out as AccessPolicyResource;
}

/**
 * The live roles as `roles` + `roleCrns`: a CRN already in state keeps the spelling the program used
 * (no spurious diff), others take IAM's display name, so a refresh shows drift by name and the next
 * `pulumi up` puts the program's roles back.
 */
function rolesFromLive(policy: Policy, props: Partial<AccessPolicyOutputs>): { roles: string[]; roleCrns: string[] } {
    const oldRoles = Array.isArray(props.roles) ? props.roles : [];
    const oldCrns = Array.isArray(props.roleCrns) ? props.roleCrns : [];
    const svc = stringAttr(policy.resources?.[0]?.attributes, "serviceName");
    const catalog = knownRoles(svc);
    const roles: string[] = [];
    const roleCrns: string[] = [];
    for (const r of policy.roles ?? []) {
        const crn = r.role_id;
        const i = oldRoles.length === oldCrns.length ? oldCrns.indexOf(crn) : -1;
        const name = i >= 0 ? oldRoles[i]
            : typeof r.display_name === "string" && r.display_name !== "" ? r.display_name
                : catalog.find((c) => c.crn === crn)?.displayName ?? crn;
        roles.push(name);
        roleCrns.push(crn);
    }
    return { roles, roleCrns };
}

/** The subject argument for a live subject: the form the program used when it still names it. */
function subjectInputs(liveIamId: string, props: Partial<AccessPolicyOutputs>): { serviceId?: string; iamId?: string } {
    if (typeof props.iamId === "string") return { iamId: liveIamId };
    if (typeof props.serviceId === "string" && subjectIamIdOf({ serviceId: props.serviceId }) === liveIamId) return { serviceId: props.serviceId };
    return liveIamId.startsWith("iam-ServiceId-") ? { serviceId: liveIamId.slice("iam-".length) } : { iamId: liveIamId };
}

function liveOutputs(got: PolicyWithEtag): Pick<AccessPolicyOutputs, "policyId" | "etag" | "href" | "state" | "subjectIamId" | "accountId" | "createdAt" | "lastModifiedAt"> {
    const p = got.policy;
    return {
        policyId: p.id,
        etag: got.etag,
        href: p.href ?? "",
        state: p.state ?? "active",
        subjectIamId: stringAttr(p.subjects?.[0]?.attributes, "iam_id") ?? "",
        accountId: stringAttr(p.resources?.[0]?.attributes, "accountId") ?? "",
        createdAt: p.created_at ?? "",
        lastModifiedAt: p.last_modified_at ?? "",
    };
}

/** Outputs after create/update: the live identity and the arguments as given. */
function outputsOf(got: PolicyWithEtag, inputs: AccessPolicyInputs, roleCrns: string[]): AccessPolicyOutputs {
    return compact({
        ...liveOutputs(got),
        roleCrns,
        serviceId: inputs.serviceId,
        iamId: inputs.iamId,
        roles: inputs.roles,
        resource: compact({ ...(inputs.resource ?? {}) }) as AccessPolicyResource,
        description: inputs.description,
        adoptExisting: inputs.adoptExisting,
    }) as AccessPolicyOutputs;
}

/** The inputs a state corresponds to (read's `inputs`). */
function inputsOf(outs: AccessPolicyOutputs): AccessPolicyInputs {
    return compact({
        serviceId: outs.serviceId,
        iamId: outs.iamId,
        roles: outs.roles,
        resource: outs.resource,
        description: outs.description,
        adoptExisting: outs.adoptExisting,
    }) as AccessPolicyInputs;
}

// ---------- errors ----------

/** The same IBM error with a sentence of advice appended (nothing secret is added). */
function withNote(err: unknown, note: string): Error {
    if (!(err instanceof IbmCloudError)) return new Error(`${(err as Error)?.message ?? String(err)}; ${note}`);
    return new IbmCloudError({
        operation: err.operation, status: err.status, code: err.code, messageCode: err.messageCode, ibmMessage: err.ibmMessage,
        traceId: err.traceId, method: err.method, url: err.url, retryable: err.retryable, outcomeUnknown: err.outcomeUnknown,
        conflictingPolicyId: err.conflictingPolicyId, conflictingPolicyEtag: err.conflictingPolicyEtag, details: err.details,
        moreInfo: err.moreInfo, attempts: err.attempts, note,
    });
}

function conflictNote(existingId: string | undefined): string {
    const id = existingId ?? "<id of the existing policy>";
    return `an identical access policy (same subject, roles and resource) already exists: ${id}. Set adoptExisting: true on this AccessPolicy to manage it ` +
        `(pulumi destroy then deletes it), or use it without managing it with AccessPolicy.get("<name>", "${id}")`;
}

function isLockedSubject(err: unknown): boolean {
    return err instanceof IbmCloudError && err.status === 409 && err.code === "entity_locked";
}

// ---------- provider ----------

export class AccessPolicyProvider implements pulumi.dynamic.ResourceProvider {
    private readonly session = new CloudSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
    }

    async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
        const { __provider: _p, roleCrns: _derived, ...inputs } = news;
        const r = validate(accessPolicySchema(), inputs);
        const cross = checkAccessPolicy(inputs);
        const failures = [...(r.ok ? [] : r.failures), ...cross.failures];
        if (failures.length > 0) return { inputs: news, failures };
        const { roleCrns: _stale, ...rest } = news;
        return { inputs: cross.roleCrns ? { ...rest, roleCrns: cross.roleCrns } : rest, failures: [] };
    }

    async diff(_id: string, olds: AccessPolicyOutputs, news: AccessPolicyInputs): Promise<pulumi.dynamic.DiffResult> {
        const d = diffAccessPolicy(olds, news);
        // Two policies for different subjects can coexist: create the new one first.
        return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: false };
    }

    async create(inputs: AccessPolicyInputs): Promise<pulumi.dynamic.CreateResult<AccessPolicyOutputs>> {
        const iam = this.session.iam();
        const accountId = await iam.accountId();
        const roleCrns = await resolveRoles(iam, inputs, accountId);
        const body = policyBody(inputs, roleCrns, accountId);
        let got: PolicyWithEtag;
        // Set once a create's answer was lost: an identical policy appearing after that is the one it made.
        let lostAttemptSince: number | undefined;
        try {
            // A lost answer is recovered by looking for the identical policy made since (IBM has no idempotency key).
            got = await createWithRecovery<PolicyWithEtag>({
                operation: "create access policy",
                send: () => iam.createPolicy(body),
                lookup: async (since) => {
                    lostAttemptSince ??= since;
                    const found = await findIdentical(iam, body, accountId, since);
                    return found ? [found] : [];
                },
                idOf: (p) => p.policy.id,
            });
        } catch (err) {
            if (isPolicyConflict(err)) {
                const existingId = err.conflictingPolicyId ?? (await findIdentical(iam, body, accountId))?.policy.id;
                // The identical policy turned up after our own lost attempt: it is ours, not someone else's.
                const ours = lostAttemptSince !== undefined && existingId !== undefined &&
                    (await findIdentical(iam, body, accountId, lostAttemptSince))?.policy.id === existingId;
                if (!ours && (inputs.adoptExisting !== true || existingId === undefined)) throw withNote(err, conflictNote(existingId));
                got = await adopt(iam, existingId!, body);
            } else if (isLockedSubject(err)) {
                throw withNote(err, `the subject ${subjectIamIdOf(inputs)} is a locked service ID: unlock it to change its policies`);
            } else {
                throw err;
            }
        }
        return { id: got.policy.id, outs: outputsOf(got, inputs, roleCrns) };
    }

    async read(id: string, props: Partial<AccessPolicyOutputs>): Promise<pulumi.dynamic.ReadResult> {
        const p = props ?? {};
        let got: PolicyWithEtag;
        try {
            got = await this.session.iam().getPolicy(id);
        } catch (err) {
            if (isNotFound(err)) return { id: "" };
            throw err;
        }
        // Deleting a service ID leaves its policies behind as `deleted`: gone, as far as the program is concerned.
        if (got.policy.state === "deleted") return { id: "" };
        const live = liveOutputs(got);
        const outs = compact({
            ...live,
            ...rolesFromLive(got.policy, p),
            ...subjectInputs(live.subjectIamId, p),
            resource: resourceFromLive(got.policy),
            description: typeof got.policy.description === "string" && got.policy.description !== "" ? got.policy.description : undefined,
            adoptExisting: p.adoptExisting,
        }) as AccessPolicyOutputs;
        return { id, props: outs, inputs: inputsOf(outs) };
    }

    async update(id: string, olds: AccessPolicyOutputs, news: AccessPolicyInputs): Promise<pulumi.dynamic.UpdateResult<AccessPolicyOutputs>> {
        const iam = this.session.iam();
        const accountId = await iam.accountId();
        const roleCrns = await resolveRoles(iam, news, accountId);
        const body = policyBody(news, roleCrns, accountId);
        const gone = `access policy ${id} no longer exists (deleted outside Pulumi, or its subject was deleted); run \`pulumi refresh\` so Pulumi forgets it, then \`pulumi up\` creates it again`;
        let etag = olds.etag;
        let got: PolicyWithEtag;
        try {
            // State written before an ETag was recorded: take the current one (nothing to protect yet).
            if (typeof etag !== "string" || etag === "") etag = (await iam.getPolicy(id)).etag;
            got = await iam.replacePolicy(id, etag, body);
        } catch (err) {
            if (isEtagMismatch(err)) {
                throw withNote(err, `access policy ${id} was changed outside Pulumi since Pulumi last read it (its ETag ${etag} is stale); ` +
                    "run `pulumi refresh` to take in the change, then `pulumi up` to apply the program's policy");
            }
            if (isNotFound(err)) throw withNote(err, gone);
            if (isPolicyConflict(err)) {
                throw withNote(err, `another policy (${err.conflictingPolicyId ?? "see IAM"}) already grants exactly this; delete it, or delete this AccessPolicy and adopt the other with adoptExisting: true`);
            }
            if (isLockedSubject(err)) throw withNote(err, `the subject ${subjectIamIdOf(news)} is a locked service ID: unlock it to change its policies`);
            throw err;
        }
        return { outs: outputsOf(got, news, roleCrns) };
    }

    async delete(id: string, _props: AccessPolicyOutputs): Promise<void> {
        const iam = this.session.iam();
        try {
            await iam.deletePolicy(id); // false when already gone: fine
        } catch (err) {
            // A policy left `deleted` by its service ID's deletion may refuse a delete: it is gone all the same.
            try {
                const current = await iam.getPolicy(id);
                if (current.policy.state === "deleted") return;
            } catch (probe) {
                if (isNotFound(probe)) return;
            }
            if (isLockedSubject(err)) throw withNote(err, "the policy's subject is a locked service ID: unlock it, then destroy again");
            throw err;
        }
    }
}

/** An active policy granting exactly `body`, if one exists (listing the subject's policies). */
/** The active policy granting exactly what `body` grants (created at or after `since`, when given). */
async function findIdentical(iam: IamClient, body: PolicyBody, accountId: string, since?: number): Promise<PolicyWithEtag | undefined> {
    const iamId = String(body.subjects[0]?.attributes.find((a) => a.name === "iam_id")?.value ?? "");
    const candidates = await iam.listPolicies({ accountId, iamId, type: "access" });
    const match = candidates.find((p) => (p.state ?? "active") === "active" && sameGrant(p, body) &&
        (since === undefined || createdSince(p.created_at, since)));
    return match ? iam.getPolicy(match.id) : undefined;
}

/** Takes over an existing identical policy, giving it this resource's description. */
async function adopt(iam: IamClient, policyId: string, body: PolicyBody): Promise<PolicyWithEtag> {
    const current = await iam.getPolicy(policyId);
    if ((current.policy.description ?? "") === (body.description ?? "")) return current;
    return iam.replacePolicy(policyId, current.etag, body);
}

export const accessPolicyProvider = new AccessPolicyProvider();

// ---------- resource ----------

/**
 * An IAM access policy granting `roles` on `resource` to a service ID (or any IAM id).
 *
 * ```ts
 * new AccessPolicy("app-keys", {
 *     serviceId: app.id,
 *     roles: ["Writer", "ReaderPlus"],
 *     resource: { serviceName: "hs-crypto", serviceInstance: instanceGuid },
 * });
 * ```
 * Role and resource changes update the policy in place; a new subject replaces it.
 */
export class AccessPolicy extends pulumi.dynamic.Resource {
    declare readonly policyId: pulumi.Output<string>;
    declare readonly etag: pulumi.Output<string>;
    declare readonly href: pulumi.Output<string>;
    declare readonly state: pulumi.Output<string>;
    declare readonly roleCrns: pulumi.Output<string[]>;
    declare readonly subjectIamId: pulumi.Output<string>;
    declare readonly accountId: pulumi.Output<string>;
    declare readonly createdAt: pulumi.Output<string>;
    declare readonly lastModifiedAt: pulumi.Output<string>;
    declare readonly serviceId: pulumi.Output<string | undefined>;
    declare readonly iamId: pulumi.Output<string | undefined>;
    declare readonly roles: pulumi.Output<string[]>;
    declare readonly resource: pulumi.Output<AccessPolicyResource>;
    declare readonly description: pulumi.Output<string | undefined>;
    declare readonly adoptExisting: pulumi.Output<boolean | undefined>;

    constructor(name: string, args: AccessPolicyArgs, opts?: pulumi.CustomResourceOptions) {
        // Every output key is listed, arguments included: a get() passes no arguments, and only the keys
        // given here receive values from the engine.
        const props: Record<string, unknown> = {
            ...args,
            serviceId: args.serviceId, iamId: args.iamId, roles: args.roles, resource: args.resource,
            description: args.description, adoptExisting: args.adoptExisting,
            policyId: undefined, etag: undefined, href: undefined, state: undefined, roleCrns: undefined,
            subjectIamId: undefined, accountId: undefined, createdAt: undefined, lastModifiedAt: undefined,
        };
        super(providerForDeployment(accessPolicyProvider), name, props, opts, "ibmcloud-iam", "AccessPolicy");
    }

    /** Uses an existing policy by its id without managing it (the engine reads it; destroy leaves it alone). */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): AccessPolicy {
        return new AccessPolicy(name, {} as AccessPolicyArgs, { ...opts, id });
    }
}
