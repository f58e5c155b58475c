// The mark that ties an IBM Cloud object to the create that made it, so a create whose process died can be
// found again from the engine's journal (the pending operations of the checkpoint). `check` adds a fresh random
// `recoveryNonce` to the inputs of a ServiceId and a ServiceApiKey; the engine journals checked inputs before it
// calls `create`, so after a kill of the CLI the nonce of every create that may have reached IBM is on disk. The
// create turns it into a value IBM stores without changing anything the user asked for: an API key's own value,
// and the value of a short-lived marker key sent inline with a service ID. Both are an HMAC of the deployer's
// API key, so the journal holds no usable secret and only someone holding that key can compute them.
// docs/crash-recovery.md describes the whole recovery.
import * as crypto from "crypto";
import type { IamClient } from "../../client/iamClient";

/** The input `check` adds; not an IBM property, so no `diff` compares it. */
export const RECOVERY_NONCE = "recoveryNonce";

/** The name of the marker key a service-ID create carries inline, deleted as soon as the create returns. */
export const MARKER_KEY_NAME = "pulumi-recovery-mark";

/** What the marker key's description says, for anyone who meets one left by a killed deployment. */
export const MARKER_KEY_DESCRIPTION =
    "Left by a pulumi-ibmcloud-iam create that did not finish; `npx pulumi-ibmcloud-iam recover` deletes it (or delete it by hand)";

/** 16 random bytes, base64url. */
export function newRecoveryNonce(): string {
    return crypto.randomBytes(16).toString("base64url");
}

export function isRecoveryNonce(v: unknown): v is string {
    return typeof v === "string" && /^[A-Za-z0-9_-]{22}$/.test(v);
}

/**
 * Checked inputs with a fresh nonce. Fresh on every check, not kept from the old inputs: `check` cannot tell a
 * replacement from an update, and a replacement must not make an API key with its predecessor's value. An
 * existing resource never uses its nonce (only a create does), and `diff` ignores it, so a new one per run
 * changes nothing; state written before the nonce existed reads and refreshes as before.
 */
export function withRecoveryNonce<T extends object>(inputs: T): T & { recoveryNonce: string } {
    return { ...inputs, recoveryNonce: newRecoveryNonce() };
}

/** `news` without the nonce (it comes back in the inputs `read` returns to an import): the schemas never see it. */
export function withoutRecoveryNonce(news: unknown): unknown {
    if (news === null || typeof news !== "object" || Array.isArray(news) || !(RECOVERY_NONCE in news)) return news;
    const { [RECOVERY_NONCE]: _ignored, ...rest } = news as Record<string, unknown>;
    return rest;
}

export type MarkPurpose = "apikey" | "serviceid";

/**
 * `base64url` of the first 33 bytes of `HMAC-SHA384(deployer API key, purpose NUL nonce)`: 44 characters of IBM's
 * API-key alphabet, as long as a key IBM generates. The purpose keeps a service ID's marker and an API key's value
 * apart even if a nonce were reused.
 */
export function markValue(deployerApiKey: string, purpose: MarkPurpose, nonce: string): string {
    return crypto.createHmac("sha384", deployerApiKey).update(`${purpose}\0${nonce}`).digest().subarray(0, 33).toString("base64url");
}

/** The mark of a create, or undefined when it cannot have one (no nonce: an old caller; no deployer key: a trusted-profile login). */
export function markOf(deployerApiKey: string | undefined, purpose: MarkPurpose, inputs: { recoveryNonce?: unknown }): string | undefined {
    if (!deployerApiKey || !isRecoveryNonce(inputs.recoveryNonce)) return undefined;
    return markValue(deployerApiKey, purpose, inputs.recoveryNonce);
}

/** The value an API key created from `inputs` has when the user gives none: derived from the journaled nonce (undefined without one). */
export function recoveryValueOf(deployerApiKey: string | undefined, inputs: { recoveryNonce?: unknown }): string | undefined {
    return markOf(deployerApiKey, "apikey", inputs);
}

/** Deletes the marker key holding `mark`, if there is one (false when there was none). */
export async function deleteMarkerKey(iam: IamClient, mark: string): Promise<boolean> {
    const key = await iam.findApiKeyByValue(mark);
    if (!key) return false;
    if (key.locked) await iam.unlockApiKey(key.id);
    return iam.deleteApiKey(key.id);
}
