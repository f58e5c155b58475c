// Policy Management v1 (access policies) and the v2 roles listing.
import * as crypto from "crypto";
import { may, Target } from "./access";
import type { Emulator } from "./app";
import { ifMatchValue } from "./identityCommon";
import { describeRole, findRole, rolesFor, rolesForServiceGroup, serviceTypeOf } from "./roles";
import { IamError } from "./errors";
import { Caller, Ctx, Router } from "./server";
import { PolicyAttribute, PolicyBody, PolicyRecord, randomHex } from "./state";

// Policy Management answers in the common envelope without BXNIM message codes.
const P = {
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
const DEFAULT_LIMIT = 50;

function etagOf(p: PolicyRecord): string {
    return `${p.etagVersion}-${p.etagHash}`;
}

function attr(list: PolicyAttribute[], name: string): string | undefined {
    const a = list.find((x) => x.name === name);
    return typeof a?.value === "string" ? a.value : undefined;
}

function subjectIamId(body: PolicyBody): string | undefined {
    return body.subjects.flatMap((s) => s.attributes).find((a) => a.name === "iam_id")?.value as string | undefined;
}

function targetOf(accountId: string, body: PolicyBody): Target {
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
function parsePolicy(emu: Emulator, caller: Caller, raw: unknown): PolicyBody {
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
    const where = serviceName ? `service '${serviceName}'` : serviceType ? `serviceType '${serviceType}'` : serviceGroup ? `service group '${serviceGroup}'` : "a resource group";
    // (choice) a service group (IAM: account management services) takes the platform roles only
    const scopeType = serviceType ?? (serviceGroup ? "platform_service" : undefined);
    for (const r of roles) if (!findRole(r.role_id, serviceName, scopeType)) throw P.roleNotFound(r.role_id, where);
    return body;
}

/**
 * IBM accepts any user (`IBMid-…`) without checking that the user is in the account (its SDK tests create
 * policies for made-up IBMids); a policy for a user nobody can log in as grants nothing here, since only the
 * owner and service IDs get tokens. Service IDs must exist: IBM looks them up (a locked one fails the write).
 */
function checkSubject(emu: Emulator, iamId: string): void {
    if (iamId.startsWith("IBMid-")) return;
    if (!iamId.startsWith("iam-ServiceId-")) {
        throw P.invalid(`The subject iam_id '${iamId}' is not valid: service IDs are written iam-ServiceId-<uuid>.`);
    }
    if (!emu.store.serviceIdByIamId(iamId)) throw P.invalid(`The subject iam_id '${iamId}' does not exist.`);
}

function lockedSubject(emu: Emulator, body: PolicyBody): string | undefined {
    const iamId = subjectIamId(body);
    if (!iamId) return undefined;
    const sid = emu.store.serviceIdByIamId(iamId);
    return sid?.locked ? iamId : undefined;
}

/** Order-insensitive identity of a policy: what makes two policies "the same". */
function canonical(body: PolicyBody): string {
    const attrs = (l: PolicyAttribute[] = []) =>
        l.map((a) => [a.name, a.operator ?? "stringEquals", a.value] as const).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    return JSON.stringify({
        type: body.type,
        subjects: body.subjects.map((s) => attrs(s.attributes)),
        roles: body.roles.map((r) => r.role_id).sort(),
        resources: body.resources.map((r) => ({ a: attrs(r.attributes), t: attrs(r.tags) })),
    });
}

// rendering ------------------------------------------------------------------------------

export function renderPolicy(ctx: Ctx, p: PolicyRecord): Record<string, unknown> {
    const serviceName = attr(p.body.resources[0]?.attributes ?? [], "serviceName");
    const o: Record<string, unknown> = { id: p.id, type: p.body.type };
    if (p.body.description !== undefined) o.description = p.body.description;
    o.subjects = p.body.subjects;
    o.roles = p.body.roles.map((r) => ({ role_id: r.role_id, ...(describeRole(r.role_id, serviceName) ?? {}) }));
    o.resources = p.body.resources;
    o.href = `${ctx.origin}/v1/policies/${p.id}`;
    o.created_at = p.createdAt;
    o.created_by_id = p.createdById;
    o.last_modified_at = p.lastModifiedAt;
    o.last_modified_by_id = p.lastModifiedById;
    o.state = p.state;
    return o;
}

// routes ------------------------------------------------------------------------------------

export function registerPolicyRoutes(router: Router, emu: Emulator): void {
    const iam = { family: "iam" as const, auth: true };
    const callerOf = (ctx: Ctx) => ctx.caller!;

    const requireWrite = (ctx: Ctx, body: PolicyBody, action: string) => {
        if (!may(emu.store, callerOf(ctx), action, targetOf(callerOf(ctx).accountId, body))) throw P.forbidden();
    };
    const findConflict = (body: PolicyBody, exceptId?: string) => {
        const c = canonical(body);
        return emu.store.data.policies.find((p) => p.state === "active" && p.id !== exceptId && canonical(p.body) === c);
    };
    const policyOr404 = (ctx: Ctx): PolicyRecord => {
        const p = emu.store.policyById(ctx.params.id);
        const acct = p && attr(p.body.resources[0].attributes, "accountId");
        if (!p || acct !== callerOf(ctx).accountId) throw P.notFound(ctx.params.id);
        return p;
    };
    const parseBody = (ctx: Ctx): PolicyBody => {
        let raw: unknown;
        try {
            raw = ctx.json();
        } catch (e) {
            throw P.invalid(e instanceof Error ? e.message : "invalid body");
        }
        return parsePolicy(emu, callerOf(ctx), raw);
    };

    router.add("POST", "/v1/policies", iam, (ctx) => {
        const body = parseBody(ctx);
        requireWrite(ctx, body, "iam.policy.create");
        const locked = lockedSubject(emu, body);
        if (locked) throw P.locked(locked);
        const existing = findConflict(body);
        if (existing) throw P.conflict("Failed to create policy: an identical policy already exists.", renderPolicy(ctx, existing), etagOf(existing));
        const now = new Date();
        const p: PolicyRecord = {
            id: crypto.randomUUID(),
            body,
            state: "active",
            createdAt: now.toISOString(),
            createdById: callerOf(ctx).iamId,
            lastModifiedAt: now.toISOString(),
            lastModifiedById: callerOf(ctx).iamId,
            etagVersion: 1,
            etagHash: randomHex(16),
            effectiveAt: now.getTime() + emu.policyPropagationDelayMs,
        };
        emu.store.data.policies.push(p);
        emu.store.save();
        ctx.send(201, renderPolicy(ctx, p), { ETag: etagOf(p) });
    });

    router.add("GET", "/v1/policies", iam, (ctx) => {
        const q = ctx.query;
        const accountId = q.get("account_id");
        if (!accountId) throw P.invalidQuery("The query parameter 'account_id' is required.");
        if (accountId !== callerOf(ctx).accountId) throw P.forbidden();
        const state = q.get("state") ?? "active";
        if (state !== "active" && state !== "deleted") throw P.invalid("'state' must be 'active' or 'deleted'.");
        const iamId = q.get("iam_id");
        const type = q.get("type");
        const serviceType = q.get("service_type");
        const serviceName = q.get("service_name");
        let list = emu.store.data.policies.filter((p) => {
            const ra = p.body.resources[0].attributes;
            if (attr(ra, "accountId") !== accountId || p.state !== state) return false;
            if (iamId && subjectIamId(p.body) !== iamId) return false;
            if (type && p.body.type !== type) return false;
            if (serviceName && attr(ra, "serviceName") !== serviceName) return false;
            if (serviceType) {
                const name = attr(ra, "serviceName");
                const derived = attr(ra, "serviceType") ?? (name ? serviceTypeOf(name) : undefined);
                if (derived !== serviceType) return false;
            }
            return true;
        });
        list = sortPolicies(ctx, list);
        const rawLimit = q.get("limit");
        const limit = rawLimit === null ? DEFAULT_LIMIT : Number(rawLimit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw P.invalid("'limit' must be an integer between 1 and 100.");
        let offset = 0;
        const start = q.get("start");
        if (start) {
            const m = /^s:(\d+)$/.exec(Buffer.from(start, "base64url").toString("utf8"));
            if (!m) throw P.invalid("'start' is not a valid page token.");
            offset = Number(m[1]);
        }
        const link = (o?: number) => {
            const p = new URLSearchParams(q);
            p.delete("start");
            p.set("limit", String(limit));
            if (o !== undefined) p.set("start", Buffer.from(`s:${o}`).toString("base64url"));
            return `${ctx.origin}/v1/policies?${p.toString()}`;
        };
        const out: Record<string, unknown> = { limit, first: { href: link() } };
        if (offset + limit < list.length) {
            const token = Buffer.from(`s:${offset + limit}`).toString("base64url");
            out.next = { href: link(offset + limit), start: token };
        }
        out.policies = list.slice(offset, offset + limit).map((p) => renderPolicy(ctx, p));
        ctx.send(200, out);
    });

    router.add("GET", "/v1/policies/:id", iam, (ctx) => {
        const p = policyOr404(ctx);
        ctx.send(200, renderPolicy(ctx, p), { ETag: etagOf(p) });
    });

    router.add("PUT", "/v1/policies/:id", iam, (ctx) => {
        const p = policyOr404(ctx);
        // (choice) a policy left behind by a deleted service ID is read-only: 404 like a missing one
        if (p.state !== "active") throw P.notFound(p.id);
        const tag = ifMatchValue(ctx);
        if (!tag) throw P.ifMatchMissing();
        if (tag !== "*" && tag !== etagOf(p)) throw P.etagMismatch();
        const body = parseBody(ctx);
        if (body.type !== p.body.type) throw P.invalid(`The policy type cannot change (it is '${p.body.type}').`);
        requireWrite(ctx, p.body, "iam.policy.update");
        requireWrite(ctx, body, "iam.policy.update");
        const locked = lockedSubject(emu, p.body) ?? lockedSubject(emu, body);
        if (locked) throw P.locked(locked);
        const existing = findConflict(body, p.id);
        if (existing) throw P.conflict("Failed to update policy: an identical policy already exists.", renderPolicy(ctx, existing), etagOf(existing));
        const now = Date.now();
        // the old version keeps deciding access until the new one has propagated
        p.previousBody = now >= p.effectiveAt ? p.body : p.previousBody;
        if (!p.previousBody) delete p.previousBody;
        p.body = body;
        p.effectiveAt = now + emu.policyPropagationDelayMs;
        p.etagVersion += 1;
        p.etagHash = randomHex(16);
        p.lastModifiedAt = new Date(now).toISOString();
        p.lastModifiedById = callerOf(ctx).iamId;
        emu.store.save();
        ctx.send(200, renderPolicy(ctx, p), { ETag: etagOf(p) });
    });

    router.add("DELETE", "/v1/policies/:id", iam, (ctx) => {
        const p = policyOr404(ctx);
        // (choice) deleting a policy orphaned by a service-ID delete fails like a missing policy
        if (p.state !== "active") throw P.notFound(p.id);
        requireWrite(ctx, p.body, "iam.policy.delete");
        const locked = lockedSubject(emu, p.body);
        if (locked) throw P.locked(locked);
        // revocation takes effect at once: stricter than the cloud, never grants too long
        emu.store.data.policies = emu.store.data.policies.filter((x) => x.id !== p.id);
        emu.store.save();
        ctx.send(204);
    });

    router.add("PATCH", "/v1/policies/:id", iam, (ctx) => {
        const p = policyOr404(ctx);
        const tag = ifMatchValue(ctx);
        if (!tag) throw P.ifMatchMissing();
        if (tag !== "*" && tag !== etagOf(p)) throw P.etagMismatch();
        let raw: unknown;
        try {
            raw = ctx.json();
        } catch (e) {
            throw P.invalid(e instanceof Error ? e.message : "invalid body");
        }
        const state = (raw as { state?: unknown } | null)?.state;
        if (state !== "active" && state !== "deleted") throw P.invalid("'state' is required and must be 'active' or 'deleted'.");
        requireWrite(ctx, p.body, "iam.policy.update");
        const locked = lockedSubject(emu, p.body);
        if (locked) throw P.locked(locked);
        if (state !== p.state) {
            if (state === "active") {
                // (choice) a policy whose service ID is gone stays deleted, like PUT and DELETE on it
                const iamId = subjectIamId(p.body);
                if (iamId?.startsWith("iam-") && !emu.store.serviceIdByIamId(iamId)) throw P.notFound(p.id);
                const existing = findConflict(p.body, p.id);
                if (existing) throw P.conflict("Failed to update policy: an identical policy already exists.", renderPolicy(ctx, existing), etagOf(existing));
                // a restored policy propagates like a new one
                delete p.previousBody;
                p.effectiveAt = Date.now() + emu.policyPropagationDelayMs;
            }
            p.state = state;
            p.etagVersion += 1;
            p.etagHash = randomHex(16);
            p.lastModifiedAt = new Date().toISOString();
            p.lastModifiedById = callerOf(ctx).iamId;
            emu.store.save();
        }
        ctx.send(200, renderPolicy(ctx, p), { ETag: etagOf(p) });
    });

    router.add("GET", "/v2/roles", iam, (ctx) => {
        const accountId = ctx.query.get("account_id");
        if (accountId && accountId !== callerOf(ctx).accountId) throw P.forbidden();
        const serviceName = ctx.query.get("service_name") ?? undefined;
        const serviceGroup = ctx.query.get("service_group_id") ?? undefined;
        // IBM: "Both service_name and service_group_id attributes are mutually exclusive."
        if (serviceName && serviceGroup) throw P.invalidQuery("The query parameters 'service_name' and 'service_group_id' are mutually exclusive.");
        ctx.send(200, serviceGroup ? rolesForServiceGroup(serviceGroup) : rolesFor(serviceName));
    });
}

const SORT_FIELDS: Record<string, (p: PolicyRecord) => string> = {
    id: (p) => p.id,
    type: (p) => p.body.type,
    created_at: (p) => p.createdAt,
    created_by_id: (p) => p.createdById,
    last_modified_at: (p) => p.lastModifiedAt,
    last_modified_by_id: (p) => p.lastModifiedById,
    state: (p) => p.state,
};

function sortPolicies(ctx: Ctx, list: PolicyRecord[]): PolicyRecord[] {
    const sort = ctx.query.get("sort");
    if (!sort) return list;
    const desc = sort.startsWith("-");
    const key = SORT_FIELDS[desc ? sort.slice(1) : sort];
    if (!key) throw P.invalid(`'sort' must be one of ${Object.keys(SORT_FIELDS).join(", ")} (prefix '-' for descending).`);
    const sorted = [...list].sort((a, b) => key(a).localeCompare(key(b)));
    return desc ? sorted.reverse() : sorted;
}
