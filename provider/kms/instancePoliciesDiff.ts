// What KmsInstancePolicies' diff decides, as pure functions of the stored outputs and the new inputs (tests call
// them directly): the policies given that KMS does not already hold update in place; another instance replaces.
import type { KmsInstancePolicySettings } from "../../client/kmsClient";
import { differs } from "../core/diff";
import { UNKNOWN } from "../core/props";
import { diffKmsInstance, KmsInstanceFields } from "./instance";

/** The policy arguments, in the order they are told. */
export const INSTANCE_POLICY_FIELDS = ["dualAuthDelete", "rotation", "metrics", "keyCreateImportAccess", "allowedNetwork"] as const;
export type PolicyField = (typeof INSTANCE_POLICY_FIELDS)[number];

/** The fields of the resource's state and inputs the diff compares. */
export interface InstancePoliciesDiffFields extends KmsInstanceFields, KmsInstancePolicySettings {
    apiKey?: string;
}

/** A policy with its defaults, as KMS answers it; a rotation turned off compares by `enabled` alone. */
function normalized(field: PolicyField, v: unknown): unknown {
    if (v === UNKNOWN || v === null || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    switch (field) {
        case "rotation":
            return o.enabled === false ? { enabled: false } : { enabled: o.enabled ?? true, intervalMonth: o.intervalMonth };
        case "keyCreateImportAccess":
            return {
                enabled: o.enabled,
                createRootKey: o.createRootKey ?? true,
                createStandardKey: o.createStandardKey ?? true,
                importRootKey: o.importRootKey ?? true,
                importStandardKey: o.importStandardKey ?? true,
                enforceToken: o.enforceToken ?? false,
            };
        default:
            return o;
    }
}

/** The policies given that KMS (as `olds` last saw it) does not already hold. */
export function instancePoliciesToSet(olds: Partial<InstancePoliciesDiffFields>, news: Partial<InstancePoliciesDiffFields>): KmsInstancePolicySettings {
    const out: Record<string, unknown> = {};
    for (const f of INSTANCE_POLICY_FIELDS) {
        if (news[f] !== undefined && differs(normalized(f, olds[f]), normalized(f, news[f]))) out[f] = news[f];
    }
    return out as KmsInstancePolicySettings;
}

/** What `diff` decides (pure): another instance replaces; policies, credential and endpoint change in place. */
export function diffKmsInstancePolicies(
    olds: Partial<InstancePoliciesDiffFields>,
    news: Partial<InstancePoliciesDiffFields>,
): { changes: boolean; replaces: string[]; updates: string[] } {
    const target = diffKmsInstance(olds, news);
    const updates = [
        ...Object.keys(instancePoliciesToSet(olds, news)),
        ...(news.apiKey === UNKNOWN || (news.apiKey ?? "") !== (olds.apiKey ?? "") ? ["apiKey"] : []),
        ...target.updates,
    ];
    return { changes: target.replaces.length > 0 || updates.length > 0, replaces: target.replaces, updates };
}
