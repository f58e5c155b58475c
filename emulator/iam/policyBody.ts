// Policy Management v1 bodies: the error catalogue, attribute helpers and how a policy body is checked
// (access and authorization types), compared (conflicts) and attributed to a subject.
import { Target } from "./access";
import type { StoreContext } from "../core/context";
import { IamError } from "../core/errors";
import { Caller } from "../core/request";
import { PolicyAttribute, PolicyBody, PolicyRecord } from "../core/state";
import { findRole } from "./roles";

// Policy Management answers in the common envelope without BXNIM message codes.
export const P = {
    invalid: (message: string) => new IamError(400, "invalid_body", message),
    invalidQuery: (message: string) => new IamError(400, "missing_required_query_parameter", message),
    roleNotFound: (crn: string, where: string) => new IamError(400, "role_not_found", `Role '${crn}' is not a valid role for ${where}.`),
    forbidden: () => new IamError(403, "insufficent_permissions", "You are not allowed to perform this action on policies of this resource."),
    notFound: (id: string) => new IamError(404, "policy_not_found", `Policy with id '${id}' was not found.`),
    // (choice) a write whose subject is a locked service ID: 409, like identity's own lock errors
    locked: (iamId: string) => new IamError(409, "entity_locked", `The subject '${iamId}' is a locked service ID; unlock it before changing its policies.`),
    conflict: (message: string, existing: Record<string, unknown>, etag: string) =>
        new IamError(409, "policy_conflict_error", message, undefined, { conflicts_with: { etag, policy: existing } }),
    etagMismatch: () => new IamError(412, "precondition_failed", "The If-Match value does not match the current ETag of the policy."),
    ifMatchMissing: () => new IamError(400, "invalid_body", "The If-Match header is required: pass the ETag of the policy."),
};

const OPERATORS = ["stringEquals", "stringMatch", "stringExists"];
/** What IBM lists as the subject attributes of an authorization (source service, instance, group, type). */
const AUTHORIZATION_SUBJECT_ATTRIBUTES = ["accountId", "serviceName", "serviceInstance", "region", "resourceType", "resource", "resourceGroupId"];
const MAX_VALUE = 1000;
const MAX_DESCRIPTION = 300;

export function etagOf(p: PolicyRecord): string {
    return `${p.etagVersion}-${p.etagHash}`;
}

export function attr(list: PolicyAttribute[], name: string): string | undefined {
    const a = list.find((x) => x.name === name);
    return typeof a?.value === "string" ? a.value : undefined;
}

export function subjectIamId(body: PolicyBody): string | undefined {
    return body.subjects.flatMap((s) => s.attributes).find((a) => a.name === "iam_id")?.value as string | undefined;
}

export function targetOf(accountId: string, body: PolicyBody): Target {
    const a = body.resources[0].attributes;
    return {
        accountId,
        serviceName: attr(a, "serviceName"),
        serviceType: attr(a, "serviceType"),
        serviceInstance: attr(a, "serviceInstance"),
        resourceGroupId: attr(a, "resourceGroupId"),
    };
}

// validation --------------------------------------------------------------------------

function attributes(v: unknown, where: string, requireNonEmpty = true): PolicyAttribute[] {
    if (!Array.isArray(v) || (requireNonEmpty && v.length === 0)) throw P.invalid(`'${where}' must be a non-empty array of attributes.`);
    return v.map((a, i) => {
        if (!a || typeof a !== "object") throw P.invalid(`'${where}[${i}]' must be an object.`);
        const { name, value, operator } = a as Record<string, unknown>;
        if (typeof name !== "string" || name === "") throw P.invalid(`'${where}[${i}].name' is required.`);
        if (operator !== undefined && (typeof operator !== "string" || !OPERATORS.includes(operator))) {
            throw P.invalid(`'${where}[${i}].operator' must be one of ${OPERATORS.join(", ")}.`);
        }
        if (operator === "stringExists") {
            if (typeof value !== "boolean") throw P.invalid(`'${where}[${i}].value' must be a boolean with stringExists.`);
        } else if (typeof value !== "string" || value.length < 1 || value.length > MAX_VALUE) {
            throw P.invalid(`'${where}[${i}].value' (${name}) must be a string of 1 to ${MAX_VALUE} characters.`);
        }
        const out: PolicyAttribute = { name, value };
        if (operator !== undefined) out.operator = operator as string;
        return out;
    });
}

/** Parses and checks a policy body the way IBM does; returns it in the emulator's stored form. */
export function parsePolicy(emu: StoreContext, caller: Caller, raw: unknown): PolicyBody {
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw P.invalid("The request body must be a JSON object.");
    const b = raw as Record<string, unknown>;
    if (b.type !== "access" && b.type !== "authorization") throw P.invalid("'type' is required and must be 'access' or 'authorization'.");
    if (b.description !== undefined && (typeof b.description !== "string" || b.description.length > MAX_DESCRIPTION)) {
        throw P.invalid(`'description' must be a string of at most ${MAX_DESCRIPTION} characters.`);
    }
    if (!Array.isArray(b.subjects) || b.subjects.length !== 1) throw P.invalid("'subjects' must be an array with exactly one subject.");
    const subjects = b.subjects.map((s, i) => ({ attributes: attributes((s as Record<string, unknown>)?.attributes, `subjects[${i}].attributes`) }));
    if (!Array.isArray(b.resources) || b.resources.length !== 1) throw P.invalid("'resources' must be an array with exactly one resource.");
    const resources = b.resources.map((r, i) => {
        const o = (r ?? {}) as Record<string, unknown>;
        const res: { attributes: PolicyAttribute[]; tags?: PolicyAttribute[] } = { attributes: attributes(o.attributes, `resources[${i}].attributes`) };
        if (o.tags !== undefined) res.tags = attributes(o.tags, `resources[${i}].tags`, false);
        return res;
    });
    if (!Array.isArray(b.roles) || b.roles.length === 0) throw P.invalid("'roles' must be a non-empty array.");
    const roles = b.roles.map((r, i) => {
        const id = (r as Record<string, unknown>)?.role_id;
        if (typeof id !== "string" || id === "") throw P.invalid(`'roles[${i}].role_id' is required.`);
        return { role_id: id };
    });

    const ra = resources[0].attributes;
    const accountId = attr(ra, "accountId");
    if (!accountId) throw P.invalid("A resource needs an 'accountId' attribute.");
    if (accountId !== caller.accountId) throw P.forbidden();
    const serviceName = attr(ra, "serviceName");
    const serviceType = attr(ra, "serviceType");
    const serviceGroup = attr(ra, "service_group_id");
    if (!serviceName && !serviceType && !attr(ra, "resourceGroupId") && !serviceGroup) {
        throw P.invalid("A resource needs one of the attributes 'serviceType', 'serviceName', 'resourceGroupId' or 'service_group_id'.");
    }
    if (serviceType !== undefined && serviceType !== "service" && serviceType !== "platform_service") {
        throw P.invalid("'serviceType' must be 'service' or 'platform_service'.");
    }
    if (attr(ra, "serviceInstance") && !serviceName) throw P.invalid("A 'serviceInstance' attribute needs a 'serviceName' attribute.");

    const body: PolicyBody = { type: b.type, subjects, roles, resources };
    if (typeof b.description === "string") body.description = b.description;

    const sa = subjects[0].attributes;
    if (b.type === "access") {
        const iamId = attr(sa, "iam_id");
        if (attr(sa, "access_group_id")) throw P.invalid("Access group subjects are not supported by this account: no access group exists.");
        if (!iamId) throw P.invalid("An access policy subject needs an 'iam_id' attribute.");
        checkSubject(emu, iamId);
    } else {
        // a source service: IBM wants its accountId and a serviceName or resourceGroupId
        if (!attr(sa, "accountId")) throw P.invalid("An authorization policy subject needs an 'accountId' attribute.");
        if (!attr(sa, "serviceName") && !attr(sa, "resourceGroupId")) {
            throw P.invalid("An authorization policy subject needs a 'serviceName' or a 'resourceGroupId' attribute.");
        }
        const unknown = sa.find((a) => !AUTHORIZATION_SUBJECT_ATTRIBUTES.includes(a.name));
        if (unknown) throw P.invalid(`'${unknown.name}' is not an authorization subject attribute (${AUTHORIZATION_SUBJECT_ATTRIBUTES.join(", ")}).`);
    }
    const where = serviceName
        ? `service '${serviceName}'`
        : serviceType
          ? `serviceType '${serviceType}'`
          : serviceGroup
            ? `service group '${serviceGroup}'`
            : "a resource group";
    // (choice) a service group (IAM: account management services) takes the platform roles only
    const scopeType = serviceType ?? (serviceGroup ? "platform_service" : undefined);
    for (const r of roles) if (!findRole(r.role_id, serviceName, scopeType)) throw P.roleNotFound(r.role_id, where);
    return body;
}

/**
 * IBM accepts any user (`IBMid-…`) without checking that the user is in the account (its SDK tests create
 * policies for made-up IBMids); a policy for a user nobody can log in as grants nothing here, since only the
 * owner, service IDs and trusted profiles get tokens. Service IDs and trusted profiles (`iam-Profile-<uuid>`, `iam-`
 * and the profile's id) must exist: IBM looks them up (a locked service ID fails the write).
 */
function checkSubject(emu: StoreContext, iamId: string): void {
    if (iamId.startsWith("IBMid-")) return;
    if (iamId.startsWith("iam-Profile-")) {
        if (!emu.store.profileById(iamId)) throw P.invalid(`The subject iam_id '${iamId}' does not exist.`);
        return;
    }
    if (!iamId.startsWith("iam-ServiceId-")) {
        throw P.invalid(`The subject iam_id '${iamId}' is not valid: service IDs are written iam-ServiceId-<uuid>, trusted profiles iam-Profile-<uuid>.`);
    }
    if (!emu.store.serviceIdByIamId(iamId)) throw P.invalid(`The subject iam_id '${iamId}' does not exist.`);
}

export function lockedSubject(emu: StoreContext, body: PolicyBody): string | undefined {
    const iamId = subjectIamId(body);
    if (!iamId) return undefined;
    const sid = emu.store.serviceIdByIamId(iamId);
    return sid?.locked ? iamId : undefined;
}

/** Order-insensitive identity of a policy: what makes two policies "the same". */
export function canonical(body: PolicyBody): string {
    const attrs = (l: PolicyAttribute[] = []) =>
        l.map((a) => [a.name, a.operator ?? "stringEquals", a.value] as const).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    return JSON.stringify({
        type: body.type,
        subjects: body.subjects.map((s) => attrs(s.attributes)),
        roles: body.roles.map((r) => r.role_id).sort(),
        resources: body.resources.map((r) => ({ a: attrs(r.attributes), t: attrs(r.tags) })),
    });
}
