// Policy Management v1 routes (access and authorization policies) and the v2 roles listing.
import * as crypto from "crypto";
import type { PolicyContext } from "../core/context";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { PolicyBody, PolicyRecord, randomHex } from "../core/state";
import { may } from "./access";
import { ifMatchValue } from "./identityCommon";
import { attr, canonical, etagOf, lockedSubject, P, parsePolicy, subjectIamId, targetOf } from "./policyBody";
import { describeRole, rolesFor, rolesForServiceGroup, serviceTypeOf } from "./roles";

const DEFAULT_LIMIT = 50;

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

export function policyHandlers(emu: PolicyContext) {
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

    const create: Handler = (ctx) => {
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
    };

    const list: Handler = (ctx) => {
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
    };

    const get: Handler = (ctx) => {
        const p = policyOr404(ctx);
        ctx.send(200, renderPolicy(ctx, p), { ETag: etagOf(p) });
    };

    const replace: Handler = (ctx) => {
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
    };

    const remove: Handler = (ctx) => {
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
    };

    const setState: Handler = (ctx) => {
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
    };

    const listRoles: Handler = (ctx) => {
        const accountId = ctx.query.get("account_id");
        if (accountId && accountId !== callerOf(ctx).accountId) throw P.forbidden();
        const serviceName = ctx.query.get("service_name") ?? undefined;
        const serviceGroup = ctx.query.get("service_group_id") ?? undefined;
        // IBM: "Both service_name and service_group_id attributes are mutually exclusive."
        if (serviceName && serviceGroup) throw P.invalidQuery("The query parameters 'service_name' and 'service_group_id' are mutually exclusive.");
        ctx.send(200, serviceGroup ? rolesForServiceGroup(serviceGroup) : rolesFor(serviceName));
    };

    return { create, list, get, replace, remove, setState, listRoles };
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
