// Envelope encryption on the application side: the data is encrypted locally with a data key
// (AES-256-GCM, node:crypto), and only the data key is wrapped by the KMS root key (KmsClient.wrap /
// generateDataKey / unwrap). Standard and small on purpose: a fresh random 96-bit nonce per message
// (NIST SP 800-38D's recommended IV length; random IVs stay far below its 2^32-messages-per-key bound
// for one data key per message or per object), a 128-bit tag, optional additional authenticated data.
// Sealed form: nonce (12 bytes) | ciphertext | tag (16 bytes).
import * as crypto from "crypto";
import { gcmDecrypt, gcmEncrypt } from "./gcm";

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Encrypts `plaintext` under the 32-byte data key with a fresh random nonce: nonce | ciphertext | tag. */
export function seal(dataKey: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Buffer {
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const { ciphertext, tag } = gcmEncrypt(dataKey, nonce, plaintext, aad);
    return Buffer.concat([nonce, ciphertext, tag]);
}

/** Decrypts what `seal` made with the same data key and AAD; throws if anything was changed. */
export function open(dataKey: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Buffer {
    if (!(sealed instanceof Uint8Array) || sealed.length < NONCE_BYTES + TAG_BYTES) {
        throw new Error(`AES-256-GCM: a sealed message is at least ${NONCE_BYTES + TAG_BYTES} bytes (nonce and tag)`);
    }
    const b = Buffer.from(sealed);
    return gcmDecrypt(dataKey, b.subarray(0, NONCE_BYTES), b.subarray(NONCE_BYTES, b.length - TAG_BYTES), b.subarray(b.length - TAG_BYTES), aad);
}
