// What KmsKey's diff and update decide, as pure functions of the stored outputs and the new inputs
// (tests call them directly): which changes replace the key (KMS cannot change them), which apply in
// place, which key policies to send and whether to rotate.
import { KmsKeyPolicies } from "../../client/kmsClient";
import type { KmsKeyInputs, KmsKeyOutputs } from "./keyState";
import { DEFAULT_KMS_SERVICE, diffKmsInstance } from "./instance";
import { differs } from "../core/diff";
import { UNKNOWN } from "../core/props";

// Fields whose change replaces the key (KMS has no API to change them), compared input → stored output.
const REPLACE_FIELDS: ReadonlyArray<"instanceId" | "service" | "name" | "description" | "keyRing" | "expirationDate" | "type" | "payload"> = Object.freeze([
    "instanceId",
    "service",
    "name",
    "description",
    "keyRing",
    "expirationDate",
    "type",
    "payload",
]);

/** What `diff` decides, as a pure function of stored outputs and new inputs (tests call it directly). */
export function diffKmsKey(olds: Partial<KmsKeyOutputs>, news: Partial<KmsKeyInputs>): { changes: boolean; replaces: string[]; updates: string[] } {
    const replaces: string[] = [];
    const updates: string[] = [];
    const storedRing = olds.keyRing ?? "default";
    for (const field of REPLACE_FIELDS) {
        const before: unknown = field === "keyRing" ? storedRing : field === "type" ? (olds.type ?? (olds.extractable ? "standard" : "root")) : olds[field];
        const after: unknown =
            field === "keyRing"
                ? (news.keyRing ?? "default")
                : field === "service"
                  ? (news.service ?? DEFAULT_KMS_SERVICE)
                  : field === "type"
                    ? (news.type ?? "root")
                    : news[field];
        // An unknown (preview) value may turn out different: report the replacement it could cause.
        if (after === UNKNOWN || !sameValue(before, after, field)) replaces.push(field);
    }
    if (news.apiKey === UNKNOWN || news.apiKey !== olds.apiKey) updates.push("apiKey");
    if ((news.force ?? false) !== (olds.force ?? false)) updates.push("force");
    updates.push(...diffKmsInstance(olds, news).updates);
    // Policies are managed when given; left out, KMS keeps what it holds.
    const policies = policiesToSet(olds, news);
    if (policies?.rotation) updates.push("rotation");
    if (policies?.dualAuthDelete) updates.push("dualAuthDelete");
    if (news.rotationTrigger === UNKNOWN || news.rotationTrigger !== olds.rotationTrigger) {
        if (news.rotationTrigger !== undefined || olds.rotationTrigger !== undefined) updates.push("rotationTrigger");
    }
    return { changes: replaces.length > 0 || updates.length > 0, replaces, updates };
}

// Defaults filled in, so that a policy given without `enabled` matches the one KMS holds; a preview
// unknown stays unknown. (differs compares structurally: key order does not matter.)
function rotationOf(r: unknown): unknown {
    if (r === UNKNOWN || r === null || typeof r !== "object") return r;
    const o = r as { enabled?: unknown; intervalMonth?: unknown };
    return { enabled: o.enabled ?? true, intervalMonth: o.intervalMonth };
}
function dualAuthOf(d: unknown): unknown {
    return d !== null && typeof d === "object" ? { enabled: (d as { enabled?: unknown }).enabled } : d;
}

/** True when this update rotates the key: `rotationTrigger` given a new value. */
export function rotatesOnUpdate(olds: Partial<KmsKeyOutputs>, news: Partial<KmsKeyInputs>): boolean {
    return news.rotationTrigger !== undefined && news.rotationTrigger !== olds.rotationTrigger;
}

/** The key policies an update (or create) must send: those given that KMS does not already hold. */
export function policiesToSet(olds: Partial<KmsKeyOutputs>, news: Partial<KmsKeyInputs>): KmsKeyPolicies | undefined {
    const out: KmsKeyPolicies = {};
    if (news.rotation !== undefined && differs(rotationOf(olds.rotation), rotationOf(news.rotation))) out.rotation = news.rotation;
    if (news.dualAuthDelete !== undefined && differs(dualAuthOf(olds.dualAuthDelete), dualAuthOf(news.dualAuthDelete)))
        out.dualAuthDelete = news.dualAuthDelete;
    return out.rotation || out.dualAuthDelete ? out : undefined;
}

function sameValue(before: unknown, after: unknown, field: string): boolean {
    if (field === "instanceId" && typeof before === "string" && typeof after === "string") return before.toLowerCase() === after.toLowerCase();
    if (field === "expirationDate" && typeof before === "string" && typeof after === "string") return Date.parse(before) === Date.parse(after);
    // Absent and empty description are the same thing to KMS.
    if (field === "description") return (before ?? "") === (after ?? "");
    return before === after;
}
