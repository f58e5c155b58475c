// AES-256-GCM with a caller-given nonce: the primitive under envelope.seal/open, kept out of the public
// `envelope` namespace (a caller-chosen nonce is how GCM is misused) and tested with known-answer vectors.
import * as crypto from "crypto";

const TAG_BYTES = 16;
const KEY_BYTES = 32;

function keyOf(key: Uint8Array): Buffer {
    // The key is never put in the message: only its length.
    if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
        throw new TypeError(`AES-256-GCM needs a 32-byte data key; got ${key instanceof Uint8Array ? `${key.length} bytes` : typeof key}`);
    }
    return Buffer.from(key);
}

/** AES-256-GCM with the given nonce: the primitive, for known-answer tests. Use `seal` in applications. */
export function gcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): { ciphertext: Buffer; tag: Buffer } {
    const cipher = crypto.createCipheriv("aes-256-gcm", keyOf(key), Buffer.from(nonce), { authTagLength: TAG_BYTES });
    if (aad !== undefined) cipher.setAAD(Buffer.from(aad));
    const ciphertext = Buffer.concat([cipher.update(Buffer.from(plaintext)), cipher.final()]);
    return { ciphertext, tag: cipher.getAuthTag() };
}

/** The inverse of `gcmEncrypt`; throws when the tag does not verify (tampered data, wrong key or AAD). */
export function gcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad?: Uint8Array): Buffer {
    const decipher = crypto.createDecipheriv("aes-256-gcm", keyOf(key), Buffer.from(nonce), { authTagLength: TAG_BYTES });
    if (aad !== undefined) decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag));
    try {
        return Buffer.concat([decipher.update(Buffer.from(ciphertext)), decipher.final()]);
    } catch {
        throw new Error("AES-256-GCM: the message does not authenticate (tampered, or another key or AAD)");
    }
}
