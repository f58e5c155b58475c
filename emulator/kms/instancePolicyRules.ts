// What an instance policy means for a key being created: whether keyCreateImportAccess lets it be made, and the
// dual-authorization and rotation policies it inherits. Apart from the policy routes (instancePolicies.ts), so
// that key creation (keys.ts) can consult them without the two importing each other.
import * as crypto from "crypto";
import { InstanceRecord, KmsInstancePolicyRecord, KmsKeyRecord, StateStore } from "../core/state";

export const INSTANCE_POLICY_TYPES = ["dualAuthDelete", "rotation", "metrics", "keyCreateImportAccess", "allowedNetwork"] as const;
export type InstancePolicyType = (typeof INSTANCE_POLICY_TYPES)[number];

export function policyOf(store: StateStore, inst: InstanceRecord, type: InstancePolicyType): KmsInstancePolicyRecord | undefined {
    return (store.data.kmsInstancePolicies ?? []).find((p) => p.instance === inst.guid && p.policyType === type);
}

/** Whether the instance's keyCreateImportAccess policy lets this kind of key be created or imported. */
export function createAllowed(store: StateStore, inst: InstanceRecord, standard: boolean, imported: boolean): boolean {
    const p = policyOf(store, inst, "keyCreateImportAccess");
    if (!p?.policyData.enabled) return true;
    const a = p.policyData.attributes ?? {};
    // import tokens are not modelled, so an instance that enforces them refuses every import
    if (imported && a.enforce_token === true) return false;
    const field = `${imported ? "import" : "create"}_${standard ? "standard" : "root"}_key`;
    return a[field] !== false;
}

/** Keys created under an enabled dual-authorization or rotation instance policy carry that policy themselves. */
export function inheritInstancePolicies(store: StateStore, inst: InstanceRecord, k: KmsKeyRecord, by: string, now: string): void {
    const stamp = () => ({ id: crypto.randomUUID(), creationDate: now, createdBy: by, lastUpdateDate: now, updatedBy: by });
    const dual = policyOf(store, inst, "dualAuthDelete");
    const rotation = policyOf(store, inst, "rotation");
    const policies: NonNullable<KmsKeyRecord["policies"]> = { ...k.policies };
    if (dual?.policyData.enabled) policies.dualAuthDelete = { ...stamp(), enabled: true };
    if (rotation?.policyData.enabled && !k.extractable) {
        policies.rotation = { ...stamp(), enabled: true, intervalMonth: rotation.policyData.attributes?.interval_month as number };
    }
    if (Object.keys(policies).length > 0) k.policies = policies;
}
