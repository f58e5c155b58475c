// How Pulumi marks a secret on the wire (engine RPC, checkpoint JSON, mock monitor): an object whose
// signature key holds the secret signature. Both strings come from Pulumi's own exports.
import * as pulumi from "@pulumi/pulumi";

/** The key that tags a special value (`4dabf…`). */
export const SIG_KEY: string = pulumi.runtime.specialSigKey;
/** The tag of a secret (`1b470…`). */
export const SECRET_SIG: string = pulumi.runtime.specialSecretSig;

/** A secret input or output as the engine and the mock monitor see it. */
export const secretInput = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });

/** Whether a value read from state or RPC is a secret envelope. */
export function isSecretEnvelope(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}
