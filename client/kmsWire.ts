// The wire of the KMS API shared by Key Protect (`kms`) and HPCS (`hs-crypto`): request and response
// types, the response schemas the client validates with, and how bytes and AAD travel. Wire objects
// keep IBM's camelCase KMS field names (`extractable`, `expirationDate`, `keyVersion`).
import { z } from "zod";

export const KMS_KEY_TYPE = "application/vnd.ibm.kms.key+json";

export interface KmsKeyResource {
    id: string;
    name: string;
    description?: string;
    /** 0 pre-active, 1 active, 2 suspended, 3 deactivated, 5 destroyed. */
    state: number;
    extractable: boolean;
    imported?: boolean;
    crn?: string;
    creationDate?: string;
    lastUpdateDate?: string;
    createdBy?: string;
    algorithmType?: string;
    algorithmBitSize?: number;
    expirationDate?: string;
    keyVersion?: { id: string; creationDate?: string };
    deleted?: boolean;
    /** Only for standard keys (extractable) when the caller may read payloads. */
    payload?: string;
    [extra: string]: unknown;
}

export interface CreateKeyInput {
    name: string;
    description?: string;
    /** false (default) = root key; true = standard key. */
    extractable?: boolean;
    expirationDate?: string;
    /** Base64 key material to import. */
    payload?: string;
}

/** Bytes in: a Buffer, a Uint8Array, or (ciphertext only) the base64 string IBM returns. */
export type KmsBytes = Uint8Array | string;

export interface KmsActionOptions {
    /** Additional authenticated data: the same list must be given to unwrap what was wrapped with it. */
    aad?: string[];
}

export interface DataKey {
    /** The generated 256-bit data key: use it, then drop it. */
    plaintext: Buffer;
    /** The data key wrapped by the root key: store it beside the data. */
    ciphertext: Buffer;
    /** The root key version that wrapped it. */
    keyVersion: string;
}

export interface UnwrapResult {
    plaintext: Buffer;
    /** The root key version the ciphertext was wrapped with. */
    keyVersion: string;
    /** Set when that version is not the newest: the same data key wrapped by the newest, to store instead. */
    rewrapped?: { ciphertext: Buffer; keyVersion: string };
}

export interface KmsKeyRingResource {
    id: string;
    creationDate?: string;
    createdBy?: string;
}

export interface KmsKeyPolicies {
    /** Rotation every `intervalMonth` months (1–12). */
    rotation?: { enabled: boolean; intervalMonth: number };
    /** Deleting the key then needs a second user's authorization. */
    dualAuthDelete?: { enabled: boolean };
}

export const KMS_POLICY_TYPE = "application/vnd.ibm.kms.policy+json";

export function keySchema() {
    return z.looseObject({
        id: z.string().min(1),
        name: z.string(),
        state: z.number(),
        extractable: z.boolean(),
    });
}

export function collectionSchema() {
    return z.looseObject({
        metadata: z.looseObject({ collectionType: z.string().optional(), collectionTotal: z.number().optional() }).optional(),
        resources: z.array(z.unknown()).optional(),
    });
}

export function bytesIn(v: KmsBytes, name: string, base64Allowed: boolean): string {
    if (typeof v === "string") {
        if (!base64Allowed) throw new Error(`${name} must be bytes (a Buffer or Uint8Array)`);
        if (v === "" || !/^[A-Za-z0-9+/]+={0,2}$/.test(v)) throw new Error(`${name} must be bytes or IBM's base64 text`);
        return v;
    }
    if (!(v instanceof Uint8Array) || v.length === 0) throw new Error(`${name} must be non-empty bytes (a Buffer or Uint8Array)`);
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
}

export function bytesOut(b64: string): Buffer {
    return Buffer.from(b64, "base64");
}

export function aadOf(options: KmsActionOptions): { aad?: string[] } {
    if (options.aad === undefined) return {};
    if (!Array.isArray(options.aad) || !options.aad.every((s) => typeof s === "string")) throw new Error("aad must be an array of strings");
    return { aad: options.aad };
}

export function versionOf(body: unknown, field: string): string | undefined {
    const v = (body as { [k: string]: { id?: unknown } | undefined } | null)?.[field]?.id;
    return typeof v === "string" ? v : undefined;
}

/** @deprecated Renamed `KmsKeyResource` (the resource class `KmsKey` is the Pulumi resource). */
export type KmsKey = KmsKeyResource;
/** @deprecated Renamed `KmsKeyRingResource` (the resource class `KmsKeyRing` is the Pulumi resource). */
export type KmsKeyRing = KmsKeyRingResource;
