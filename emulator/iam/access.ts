// Access decisions: which actions a caller's ACTIVE, propagated policies grant on a target resource.
// Users and service IDs are granted by `access` policies (subject `iam_id`); a source service acting
// with a service-to-service token (see ../admin/serviceToken.ts) by `authorization` policies (subject
// `serviceName` [+ `serviceInstance`]). Both honour resources narrowed to a key ring or one key.
import { actionsOf, serviceTypeOf } from "./roles";
import { Caller } from "../core/request";
import { PolicyAttribute, PolicyBody, StateStore } from "../core/state";

/** A part of an instance a policy may be narrowed to (`resourceType: key-ring|key`, `resource: <id>`). */
export interface Scope {
    resourceType: string;
    resource: string;
}

/** A concrete resource an action is attempted on. */
export interface Target {
    accountId: string;
    /** Absent for account-wide targets such as "all IAM-enabled services". */
    serviceName?: string;
    serviceType?: string;
    serviceInstance?: string;
    resourceGroupId?: string;
    /**
     * What the target lies in below the instance, e.g. a key: `[{key, <id>}, {key-ring, <ring>}]`. A policy
     * naming `resourceType`/`resource` covers the target when one of these matches; with none, only
     * instance-wide policies cover it.
     */
    scopes?: Scope[];
}

const SCOPE_ATTRS = new Set(["resourceType", "resource"]);

function attrMatches(a: PolicyAttribute, actual: string | undefined): boolean {
    const op = a.operator ?? "stringEquals";
    if (op === "stringExists") return (actual !== undefined) === (a.value === true || a.value === "true");
    if (actual === undefined || typeof a.value !== "string") return false;
    if (op === "stringEquals") return a.value === actual;
    if (op === "stringMatch") {
        const re = new RegExp(
            "^" +
                a.value
                    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                    .replace(/\*/g, ".*")
                    .replace(/\?/g, ".") +
                "$",
        );
        return re.test(actual);
    }
    return false; // operators the emulator does not model never grant access
}

/** True when every attribute of the policy's resource holds for the target; unknown attributes deny. */
export function resourceCovers(attrs: PolicyAttribute[], t: Target): boolean {
    const facts: Record<string, string | undefined> = {
        accountId: t.accountId,
        serviceName: t.serviceName,
        serviceType: t.serviceType ?? (t.serviceName ? serviceTypeOf(t.serviceName) : undefined),
        serviceInstance: t.serviceInstance,
        resourceGroupId: t.resourceGroupId,
    };
    const scoped = attrs.filter((a) => SCOPE_ATTRS.has(a.name));
    if (!attrs.every((a) => SCOPE_ATTRS.has(a.name) || (a.name in facts && attrMatches(a, facts[a.name])))) return false;
    if (scoped.length === 0) return true;
    return (t.scopes ?? []).some((s) => scoped.every((a) => attrMatches(a, a.name === "resourceType" ? s.resourceType : s.resource)));
}

function subjectIs(body: PolicyBody, iamId: string): boolean {
    return body.subjects.some((s) => s.attributes.some((a) => a.name === "iam_id" && a.value === iamId));
}

/** A source service acting through a service-to-service token. */
export interface SourceService {
    accountId: string;
    serviceName: string;
    serviceInstance?: string;
    resourceGroupId?: string;
}

/** Every subject attribute of an authorization policy must hold for the source; unknown ones deny. */
function sourceMatches(body: PolicyBody, src: SourceService): boolean {
    const facts: Record<string, string | undefined> = {
        accountId: src.accountId,
        serviceName: src.serviceName,
        serviceInstance: src.serviceInstance,
        resourceGroupId: src.resourceGroupId,
        // (choice) a source is always a whole service instance, never a narrower resource type
        resourceType: undefined,
    };
    return body.subjects.some((s) => s.attributes.length > 0 && s.attributes.every((a) => a.name in facts && attrMatches(a, facts[a.name])));
}

/** The body of a policy as access decisions see it at `now` (a fresh policy or replace propagates with a delay). */
function bodyInForce(p: { body: PolicyBody; effectiveAt: number; previousBody?: PolicyBody }, now: number): PolicyBody | undefined {
    if (now >= p.effectiveAt) return p.body;
    return p.previousBody;
}

function granted(store: StateStore, target: Target, now: number, applies: (body: PolicyBody) => boolean): Set<string> {
    const out = new Set<string>();
    for (const p of store.data.policies) {
        if (p.state !== "active") continue;
        const body = bodyInForce(p, now);
        if (!body || !applies(body)) continue;
        if (!body.resources.some((r) => !r.tags?.length && resourceCovers(r.attributes, target))) continue;
        for (const role of body.roles) for (const a of actionsOf(role.role_id, target.serviceName ?? "")) out.add(a);
    }
    return out;
}

export function grantedActions(store: StateStore, iamId: string, target: Target, now: number = Date.now()): Set<string> {
    return granted(store, target, now, (b) => b.type === "access" && subjectIs(b, iamId));
}

/** What `authorization` policies grant a source service on the target. */
export function authorizedActions(store: StateStore, src: SourceService, target: Target, now: number = Date.now()): Set<string> {
    return granted(store, target, now, (b) => b.type === "authorization" && sourceMatches(b, src));
}

/** The source service a caller acts for, when its token is a service-to-service one. */
export function sourceServiceOf(caller: Caller): SourceService | undefined {
    const s = caller.claims.source_service as Record<string, unknown> | undefined;
    if (caller.claims.sub_type !== "CRN" || !s || typeof s.serviceName !== "string") return undefined;
    return {
        accountId: caller.accountId,
        serviceName: s.serviceName,
        ...(typeof s.serviceInstance === "string" ? { serviceInstance: s.serviceInstance } : {}),
        ...(typeof s.resourceGroupId === "string" ? { resourceGroupId: s.resourceGroupId } : {}),
    };
}

/** The account owner may do anything in the account; everyone else needs a policy. */
export function may(store: StateStore, caller: Caller, action: string, target: Target): boolean {
    if (caller.accountId !== target.accountId) return false;
    if (caller.isOwner) return true;
    const src = sourceServiceOf(caller);
    if (src) return authorizedActions(store, src, target).has(action);
    return grantedActions(store, caller.iamId, target).has(action);
}

/**
 * True when some policy of the caller grants `action` anywhere in the instance, narrowed or not: a
 * caller with access to one key ring may list keys, and sees only those it may list.
 */
export function mayInPart(store: StateStore, caller: Caller, action: string, target: Target, parts: Scope[][]): boolean {
    if (may(store, caller, action, target)) return true;
    return parts.some((scopes) => may(store, caller, action, { ...target, scopes }));
}
