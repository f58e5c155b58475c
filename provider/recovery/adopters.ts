// What `recover` does with a pending create of the types whose objects carry no mark: trusted profiles, their claim
// rules, links and trusted identities, authorization policies and KMS key rings. Each of these creates makes an
// object IBM keeps (a server id, or a user-given name a second create collides with), so a create the CLI's death
// interrupted is found by the adopt rules of docs/crash-recovery.md: the identical object, made by the deployer (when
// IBM says who made it) or on a parent this stack owns, made after the stack's last finished update, tracked by no
// stack of the project; exactly one, or nothing is adopted. The other types' creates make nothing to find (a PUT of
// settings, a wait): their pending create is dropped and the `up` runs it again.
import type * as pulumi from "@pulumi/pulumi";
import { authorizationPolicyProvider } from "../authorizationPolicy";
import { kmsKeyRingProvider } from "../kmsKeyRing";
import { trustedProfileProvider } from "../trustedProfile";
import { trustedProfileClaimRuleProvider } from "../trustedProfileClaimRule";
import { trustedProfileIdentityProvider } from "../trustedProfileIdentity";
import { trustedProfileLinkProvider } from "../trustedProfileLink";
import { Deployment, ourTypeName, PendingOperation } from "./journal";

/** Parents first: a rule, link or identity is adopted only on a profile the stack tracks, adopted ones included. */
const ORDER = ["TrustedProfile", "TrustedProfileClaimRule", "TrustedProfileLink", "TrustedProfileIdentity", "AuthorizationPolicy", "KmsKeyRing"] as const;
export type MarklessKind = (typeof ORDER)[number];

/** Types whose create makes no object of its own: nothing can be left behind, the `up` runs the create again. */
const NOTHING_TO_ADOPT: Record<string, string> = {
    KmsInstancePolicies: "its create sets the instance's policies (a PUT, the same again on the next `up`): nothing to adopt",
    KmsAccessReady: "its create waits for access to work and makes nothing in IBM Cloud: the next `up` waits again",
};

/** Outputs `adoptedResource` stores as secrets (the resource's secret outputs). */
export const MARKLESS_SECRET_OUTPUTS: Record<string, readonly string[]> = { KmsKeyRing: ["apiKey"] };

/** IBM's identity timestamps have minute precision, and its clock is not ours. */
const CLOCK_MARGIN_MS = 2 * 60_000;

type Provider = pulumi.dynamic.ResourceProvider;

export function isMarkless(kind: string): kind is MarklessKind {
    return (ORDER as readonly string[]).includes(kind);
}

/** The pending creates of the markless kinds, parents first. */
export function marklessPendingCreates(d: Deployment): Array<PendingOperation & { kind: MarklessKind }> {
    return (d.deployment.pending_operations ?? [])
        .filter((op) => op.type === "creating")
        .map((op) => ({ ...op, kind: ourTypeName(op.resource.type) ?? "" }))
        .filter((op): op is PendingOperation & { kind: MarklessKind } => isMarkless(op.kind))
        .sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
}

/** Why a pending create of one of our types is safe to drop, when its create makes nothing to adopt. */
export function nothingToAdopt(type: string): string | undefined {
    const name = ourTypeName(type);
    return name === undefined ? undefined : NOTHING_TO_ADOPT[name];
}

export function marklessProvider(kind: MarklessKind): Provider {
    const providers: Record<MarklessKind, unknown> = {
        TrustedProfile: trustedProfileProvider,
        TrustedProfileClaimRule: trustedProfileClaimRuleProvider,
        TrustedProfileLink: trustedProfileLinkProvider,
        TrustedProfileIdentity: trustedProfileIdentityProvider,
        AuthorizationPolicy: authorizationPolicyProvider,
        KmsKeyRing: kmsKeyRingProvider,
    };
    return providers[kind] as Provider;
}

export interface MarklessContext {
    deployerIamId: string;
    /** Ids this stack tracks, the ones adopted so far included. */
    tracked: Set<string>;
    /** IAM ids of the service IDs this stack tracks. */
    serviceIamIds: Set<string>;
    /** Ids every stack of the project tracks or has a pending operation on. */
    projectTracked: Set<string>;
    /** When the stack's last finished update ended (ms): the interrupted one began later. None for a stack's first. */
    lastUpdateEnded?: number;
    /**
     * The provider's journal shows this create was sent (by a plugin that died), at `lastUpdateEnded`: a rule, link or
     * trust need not be on a profile of the stack to be its object, and identical objects that do not fit are simply
     * not this create's (the sweep deletes, so it takes nothing else).
     */
    journaled?: boolean;
}

export type MarklessFound =
    | { result: "found"; id: string; props: Record<string, unknown>; how: string }
    | { result: "nothing made" }
    | { result: "unresolved"; why: string };

interface Candidate {
    id: string;
    createdAt?: string;
    createdBy?: string;
    untouched?: boolean;
}

/** The object a pending create of a markless kind made, by the adopt rules (docs/crash-recovery.md). Reads only. */
export async function findMarkless(kind: MarklessKind, inputs: Record<string, unknown>, c: MarklessContext): Promise<MarklessFound> {
    const untracked = (all: Candidate[]) => all.filter((x) => !c.tracked.has(x.id) && !c.projectTracked.has(x.id));
    const since = c.lastUpdateEnded;
    // made after the last finished update (no bound on a stack's first update)
    const madeSince = (x: Candidate) => {
        if (since === undefined) return true;
        const t = x.createdAt ? Date.parse(x.createdAt) : Number.NaN;
        return !Number.isNaN(t) && t >= since - CLOCK_MARGIN_MS;
    };
    const profileOurs = c.journaled === true || (typeof inputs.profileId === "string" && c.tracked.has(inputs.profileId));

    // One candidate that passes `ours`, or why not. Candidates others own are named, never adopted.
    const settle = (all: Candidate[], ours: (x: Candidate) => boolean, how: string, whyNot: string): MarklessFound => {
        const free = untracked(all);
        const fit = free.filter(ours);
        if (fit.length === 1) return { result: "found", id: fit[0].id, props: inputs, how };
        if (fit.length > 1) return { result: "unresolved", why: `${fit.length} objects fit: ${fit.map((x) => x.id).join(", ")}` };
        if (free.length === 0 || c.journaled) return { result: "nothing made" };
        return { result: "unresolved", why: `${whyNot}: ${free.map((x) => x.id).join(", ")}` };
    };

    switch (kind) {
        case "TrustedProfile": {
            // IBM keeps profile names unique in the account and says nothing of who made one: it must be as a create
            // leaves it (nothing trusts it or grants it anything yet) and made after the stack's last finished update.
            const all = await trustedProfileProvider.sameProfiles(inputs as never);
            return settle(
                all,
                (x) => x.untouched === true && madeSince(x),
                "the profile of that name, untouched since its create, made during the interrupted update, tracked by no stack of the project",
                "a profile of that name exists that is in use (rules, links, trusts, policies or edits) or older than the stack's last update",
            );
        }
        case "TrustedProfileClaimRule":
        case "TrustedProfileLink": {
            const all =
                kind === "TrustedProfileClaimRule"
                    ? await trustedProfileClaimRuleProvider.sameRules(inputs as never)
                    : await trustedProfileLinkProvider.sameLinks(inputs as never);
            const what = kind === "TrustedProfileClaimRule" ? "rule" : "link";
            return settle(
                all,
                (x) => profileOurs && madeSince(x),
                `the identical ${what} on a profile of this stack, tracked by nothing`,
                profileOurs ? `an identical ${what} made before the update began exists` : `an identical ${what} exists on a profile this stack does not own`,
            );
        }
        case "TrustedProfileIdentity": {
            // IBM keeps one entry per identity and no date: only on a profile of this stack is a trust taken as ours.
            const id = `${inputs.profileId}|${inputs.identityType}|${inputs.identifier}`;
            const read = await trustedProfileIdentityProvider.read(id);
            if (!read.id) return { result: "nothing made" };
            const live = (read.inputs ?? {}) as Record<string, unknown>;
            const identical =
                JSON.stringify([...((live.accounts as string[] | undefined) ?? [])].sort()) ===
                    JSON.stringify([...((inputs.accounts as string[] | undefined) ?? [])].sort()) && (live.description ?? "") === (inputs.description ?? "");
            return settle(
                [{ id }],
                () => profileOurs && identical,
                "the identical trust on a profile of this stack, tracked by nothing",
                profileOurs ? "the profile trusts that identity with other accounts or description" : "a profile this stack does not own trusts that identity",
            );
        }
        case "AuthorizationPolicy": {
            const all = (await authorizationPolicyProvider.identicalPolicies(inputs as never)).map((p) => ({
                id: p.id,
                createdAt: p.createdAt,
                createdBy: p.createdById,
            }));
            return settle(
                all,
                (p) => p.createdBy === c.deployerIamId && madeSince(p),
                "an identical authorization, made by the deployer during the interrupted update, tracked by no stack of the project",
                "identical authorizations exist that others made, or older than the stack's last update",
            );
        }
        case "KmsKeyRing": {
            const all = (await kmsKeyRingProvider.sameRings(inputs as never)).map((r) => ({ id: r.id, createdAt: r.creationDate, createdBy: r.createdBy }));
            // a ring id is unique in one instance only: one tracked elsewhere under that id may be another instance's
            const free = all.filter((r) => !c.tracked.has(r.id));
            if (free.length > 0 && c.projectTracked.has(free[0].id))
                return { result: "unresolved", why: `a stack of the project tracks a key ring "${free[0].id}" (perhaps of another instance)` };
            return settle(
                all,
                (r) => r.createdBy !== undefined && (r.createdBy === c.deployerIamId || c.serviceIamIds.has(r.createdBy)) && madeSince(r),
                "the ring of that id in the instance, made by an identity of this stack, tracked by nothing",
                "a ring of that id exists that another identity made, or older than the stack's last update",
            );
        }
    }
}

/** When the stack's last finished update ended (ms), from `pulumi stack history --json`; undefined before the first. */
export function lastUpdateEnded(historyJson: string): number | undefined {
    let newest: number | undefined;
    for (const u of JSON.parse(historyJson) as Array<{ endTime?: string }>) {
        const t = u.endTime ? Date.parse(u.endTime) : Number.NaN;
        if (!Number.isNaN(t) && (newest === undefined || t > newest)) newest = t;
    }
    return newest;
}
