// Access decisions: which actions a caller's ACTIVE, propagated policies grant on a target resource.
import { actionsOf, serviceTypeOf } from "./roles";
import { Caller } from "./server";
import { PolicyAttribute, PolicyBody, StateStore } from "./state";

/** A concrete resource an action is attempted on. */
export interface Target {
    accountId: string;
    /** Absent for account-wide targets such as "all IAM-enabled services". */
    serviceName?: string;
    serviceType?: string;
    serviceInstance?: string;
    resourceGroupId?: string;
}

function attrMatches(a: PolicyAttribute, actual: string | undefined): boolean {
    const op = a.operator ?? "stringEquals";
    if (op === "stringExists") return (actual !== undefined) === (a.value === true || a.value === "true");
    if (actual === undefined || typeof a.value !== "string") return false;
    if (op === "stringEquals") return a.value === actual;
    if (op === "stringMatch") {
        const re = new RegExp("^" + a.value.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
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
    return attrs.every((a) => a.name in facts && attrMatches(a, facts[a.name]));
}

function subjectIs(body: PolicyBody, iamId: string): boolean {
    return body.subjects.some((s) => s.attributes.some((a) => a.name === "iam_id" && a.value === iamId));
}

/** The body of a policy as access decisions see it at `now` (a fresh policy or replace propagates with a delay). */
function bodyInForce(p: { body: PolicyBody; effectiveAt: number; previousBody?: PolicyBody }, now: number): PolicyBody | undefined {
    if (now >= p.effectiveAt) return p.body;
    return p.previousBody;
}

export function grantedActions(store: StateStore, iamId: string, target: Target, now: number = Date.now()): Set<string> {
    const out = new Set<string>();
    for (const p of store.data.policies) {
        if (p.state !== "active") continue;
        const body = bodyInForce(p, now);
        if (!body || body.type !== "access" || !subjectIs(body, iamId)) continue;
        if (!body.resources.some((r) => !(r.tags && r.tags.length) && resourceCovers(r.attributes, target))) continue;
        for (const role of body.roles) for (const a of actionsOf(role.role_id, target.serviceName ?? "")) out.add(a);
    }
    return out;
}

/** The account owner may do anything in the account; everyone else needs a policy. */
export function may(store: StateStore, caller: Caller, action: string, target: Target): boolean {
    if (caller.accountId !== target.accountId) return false;
    if (caller.isOwner) return true;
    return grantedActions(store, caller.iamId, target).has(action);
}
