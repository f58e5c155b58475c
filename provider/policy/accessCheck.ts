// AccessPolicy's arguments as `check` judges them: the schema, the cross-field rules zod cannot express
// alone (subject, resource scope, attribute and tag names) and offline role resolution. Pure: the
// provider, the KmsAccess component and tests call it.
import { z } from "zod";
import { serviceIamId } from "../../client/iamClient";
import type { AccessPolicyResource } from "./accessState";
import { canResolveOffline, KNOWN_ROLE_SERVICES, knownRoles, normalizeRoleName, resolveRole, RoleInfo } from "./roles";
import { descriptionField, rolesField } from "../check/fields";
import { CheckFailure, closestName } from "../check/validate";
import { containsUnknown, UNKNOWN } from "../core/props";

// The `resource` fields that are IAM attributes of the same name, in the order they are sent.
export const NAMED_ATTRIBUTES: ReadonlyArray<keyof AccessPolicyResource> = Object.freeze([
    "serviceName",
    "serviceType",
    "serviceInstance",
    "region",
    "resourceType",
    "resource",
    "resourceGroupId",
] as const);
const MAX_ATTRIBUTE_VALUE = 1000;
const MAX_DESCRIPTION = 300;
// IBM access management tags: `name:value`, at most 128 characters, letters, digits, spaces, `_`, `-`, `.`.
const TAG_PART_PATTERN = "^[A-Za-z0-9 _.-]+$";
const MAX_TAG = 128;
const SERVICE_ID_PATTERN = "^(iam-)?ServiceId-[A-Za-z0-9-]+$";
const IAM_ID_PATTERN = "^(IBMid-|iam-)[^\\s]+$";

function attributeValue(what: string) {
    return z
        .string({ error: `${what} must be a string` })
        .min(1, { error: `${what} must not be empty; leave it out instead` })
        .max(MAX_ATTRIBUTE_VALUE, { error: `${what} must be at most ${MAX_ATTRIBUTE_VALUE} characters (an IAM limit)` });
}

export function accessPolicySchema() {
    const resource = z
        .object(
            {
                serviceName: attributeValue("resource.serviceName").optional(),
                serviceType: z
                    .enum(["service", "platform_service"], {
                        error: 'resource.serviceType must be "service" (all IAM-enabled services) or "platform_service" (all account management services)',
                    })
                    .optional(),
                serviceInstance: attributeValue("resource.serviceInstance").optional(),
                region: attributeValue("resource.region").optional(),
                resourceType: attributeValue("resource.resourceType").optional(),
                resource: attributeValue("resource.resource").optional(),
                resourceGroupId: attributeValue("resource.resourceGroupId").optional(),
                attributes: z
                    .record(z.string(), attributeValue("an attribute value"), {
                        error: 'resource.attributes must be a map of attribute name to string value, e.g. { keyRing: "app" }',
                    })
                    .optional(),
                tags: z
                    .record(z.string(), z.string({ error: "a tag value must be a string" }), {
                        error: 'resource.tags must be a map of tag name to value, e.g. { env: "prod" }',
                    })
                    .optional(),
            },
            { error: 'resource must be an object such as { serviceName: "hs-crypto", serviceInstance: "<instance guid>" }' },
        )
        .strict();
    return z
        .object({
            serviceId: z
                .string({ error: "serviceId must be a string" })
                .regex(new RegExp(SERVICE_ID_PATTERN), {
                    error: "serviceId must be a service ID such as ServiceId-1a2b3c4d-… (or its IAM id iam-ServiceId-…); for another kind of subject use iamId",
                })
                .optional(),
            iamId: z
                .string({ error: "iamId must be a string" })
                .regex(new RegExp(IAM_ID_PATTERN), {
                    error: "iamId must be an IAM id such as iam-ServiceId-…, iam-Profile-… or IBMid-…; a bare ServiceId-… goes in serviceId",
                })
                .optional(),
            roles: rolesField("Writer", false),
            resource,
            description: descriptionField(MAX_DESCRIPTION).optional(),
            adoptExisting: z.boolean({ error: "adoptExisting must be true or false" }).optional(),
        })
        .strict();
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function given(v: unknown): boolean {
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
export function offlineCatalog(serviceName: string | undefined, serviceType: string | undefined): RoleInfo[] {
    const all = knownRoles(serviceName);
    // All account management services: only platform roles exist there.
    return !serviceName && serviceType === "platform_service" ? all.filter((r) => r.kind === "platform") : all;
}

// Other names people give the services whose roles resolve offline (ibmcloud CLI / console wording).
const SERVICE_ALIASES: { readonly [alias: string]: string } = Object.freeze({
    hpcs: "hs-crypto",
    "hyper-protect-crypto-services": "hs-crypto",
    keyprotect: "kms",
    "key-protect": "kms",
    kp: "kms",
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
    const alias = Object.hasOwn(SERVICE_ALIASES, name.toLowerCase()) ? SERVICE_ALIASES[name.toLowerCase()] : undefined;
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
export function checkAccessPolicy(inputs: Record<string, unknown>, onlineCatalog?: RoleInfo[]): { failures: CheckFailure[]; roleCrns?: string[] } {
    const failures: CheckFailure[] = [];
    const hasServiceId = given(inputs.serviceId);
    const hasIamId = given(inputs.iamId);
    if (hasServiceId && hasIamId) {
        failures.push({
            property: "serviceId",
            reason: "give the subject as serviceId or as iamId, not both: serviceId takes a service ID (ServiceId-… or iam-ServiceId-…), iamId any IAM id",
        });
    } else if (!hasServiceId && !hasIamId) {
        failures.push({
            property: "serviceId",
            reason: "the policy needs a subject: set serviceId (a service ID such as ServiceId-…, e.g. serviceId: app.id) or iamId (any IAM id such as iam-ServiceId-… or IBMid-…)",
        });
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
            failures.push({
                property: "resource.serviceType",
                reason: `${res.serviceName} is not an account management service, so serviceType "platform_service" would make the policy match nothing; remove serviceType (serviceName alone scopes the policy)`,
            });
        }
        if (!given(res.serviceName) && !given(res.serviceType) && !given(res.resourceGroupId)) {
            failures.push({
                property: "resource.serviceName",
                reason: 'resource needs serviceName (e.g. "hs-crypto"), serviceType ("service" or "platform_service") or resourceGroupId: IAM refuses a policy scoped by none of them',
            });
        } else if (given(res.serviceInstance) && !given(res.serviceName)) {
            failures.push({
                property: "resource.serviceName",
                reason: 'resource.serviceInstance needs resource.serviceName: an instance id means nothing without its service (e.g. serviceName: "hs-crypto")',
            });
        }
        if (isPlainObject(res.attributes)) {
            for (const name of Object.keys(res.attributes)) {
                const property = `resource.attributes.${name}`;
                if (name === "accountId") failures.push({ property, reason: "accountId is taken from the deployer's credentials; remove it" });
                else if ((NAMED_ATTRIBUTES as ReadonlyArray<string>).includes(name))
                    failures.push({ property, reason: `${name} has its own field: use resource.${name} instead` });
                else if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name) || name.length > 100) {
                    failures.push({
                        property,
                        reason: `"${name}" is not an attribute name: use letters, digits, "_", "-" or "." starting with a letter, e.g. keyRing`,
                    });
                }
            }
        }
        if (isPlainObject(res.tags)) {
            for (const [name, value] of Object.entries(res.tags)) {
                const property = `resource.tags.${name}`;
                if (!new RegExp(TAG_PART_PATTERN).test(name)) {
                    failures.push({
                        property,
                        reason: `tag name "${name}" may only hold letters, digits, spaces, "_", "-" and "." (IBM access management tags are name:value)`,
                    });
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
    if (!isPlainObject(res)) return { failures };
    const roleCheck = checkRoles(inputs.roles, serviceName, serviceType, onlineCatalog);
    failures.push(...roleCheck.failures);
    return roleCheck.roleCrns && failures.length === 0 ? { failures, roleCrns: roleCheck.roleCrns } : { failures };
}

/**
 * The `roles` of a policy on `serviceName` (and `serviceType`) as check judges them: duplicates (by name
 * or by CRN) and, where the offline catalog knows the service, unknown roles. `roleCrns` is set when
 * every role resolved. Shared by AccessPolicy and AuthorizationPolicy (the target service's roles).
 */
export function checkRoles(
    roles: unknown,
    serviceName: unknown,
    serviceType?: unknown,
    onlineCatalog?: RoleInfo[],
): { failures: CheckFailure[]; roleCrns?: string[] } {
    const failures: CheckFailure[] = [];
    if (!Array.isArray(roles) || containsUnknown(serviceName) || containsUnknown(serviceType)) return { failures };
    const svc = typeof serviceName === "string" ? serviceName : undefined;
    const type = typeof serviceType === "string" ? serviceType : undefined;
    // A service the offline catalog does not know is judged only with the list IAM gave for it.
    const offline = canResolveOffline(svc) || onlineCatalog !== undefined;
    const catalog = canResolveOffline(svc) || onlineCatalog === undefined ? offlineCatalog(svc, type) : onlineCatalog;
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
