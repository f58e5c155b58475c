// Root key material and the wrap format. Material is made here and never served; at rest (the state
// file) each version's 32 bytes are sealed with AES-256-GCM under the emulator's own `kmsSecret`, the
// one secret a local emulator must keep to unwrap after a restart. Unsealed material is cached in memory.
//
// Ciphertext (base64): 0x01 | key version id (16 bytes, the UUID) | nonce (12) | tag (16) | AES-256-GCM(data key).
// The GCM additional data binds the key id and the caller's AAD list, so another key, a changed AAD or
// any flipped bit fails authentication.
import * as crypto from "crypto";
import { KmsKeyRecord, KmsKeyVersionRecord, StateStore } from "../core/state";

const FORMAT = 1;
const HEADER = 1 + 16 + 12 + 16;

function secretOf(store: StateStore): Buffer {
    if (!store.data.kmsSecret) store.data.kmsSecret = crypto.randomBytes(32).toString("base64");
    return Buffer.from(store.data.kmsSecret, "base64");
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): { nonce: Buffer; tag: Buffer; ct: Buffer } {
    const nonce = crypto.randomBytes(12);
    const c = crypto.createCipheriv("aes-256-gcm", key, nonce);
    c.setAAD(aad);
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return { nonce, tag: c.getAuthTag(), ct };
}

function gcmOpen(key: Buffer, nonce: Buffer, tag: Buffer, ct: Buffer, aad: Buffer): Buffer | undefined {
    try {
        const d = crypto.createDecipheriv("aes-256-gcm", key, nonce);
        d.setAAD(aad);
        d.setAuthTag(tag);
        return Buffer.concat([d.update(ct), d.final()]);
    } catch {
        return undefined;
    }
}

function uuidBytes(id: string): Buffer {
    return Buffer.from(id.replace(/-/g, ""), "hex");
}

function uuidOf(b: Buffer): string {
    const h = b.toString("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class KmsCrypto {
    private readonly cache = new Map<string, Buffer>();

    constructor(private readonly store: StateStore) {}

    /** A new version holding `material` (imported) or 32 fresh random bytes. */
    newVersion(keyId: string, creationDate: string, material?: Buffer, id: string = crypto.randomUUID()): KmsKeyVersionRecord {
        const m = material ?? crypto.randomBytes(32);
        const s = gcmSeal(secretOf(this.store), m, Buffer.from(`seal\0${keyId}\0${id}`));
        this.cache.set(id, m);
        return { id, creationDate, sealed: Buffer.concat([s.nonce, s.tag, s.ct]).toString("base64") };
    }

    /** The key's versions, giving a key stored before versions existed one for its current version. */
    versionsOf(k: KmsKeyRecord): KmsKeyVersionRecord[] {
        if (!k.versions || k.versions.length === 0) {
            k.versions = [this.newVersion(k.id, k.keyVersion.creationDate, undefined, k.keyVersion.id)];
            this.store.save();
        }
        return k.versions;
    }

    private material(keyId: string, v: KmsKeyVersionRecord): Buffer {
        const hit = this.cache.get(v.id);
        if (hit) return hit;
        const raw = Buffer.from(v.sealed, "base64");
        const m = gcmOpen(secretOf(this.store), raw.subarray(0, 12), raw.subarray(12, 28), raw.subarray(28), Buffer.from(`seal\0${keyId}\0${v.id}`));
        if (!m) throw new Error(`key version ${v.id} cannot be unsealed: the state file's kmsSecret does not match`);
        this.cache.set(v.id, m);
        return m;
    }

    /** Wraps `plaintext` with the key's newest version. */
    wrap(k: KmsKeyRecord, plaintext: Buffer, aad: string[]): { ciphertext: string; version: KmsKeyVersionRecord } {
        const versions = this.versionsOf(k);
        const v = versions[versions.length - 1];
        const s = gcmSeal(this.material(k.id, v), plaintext, additionalData(k.id, aad));
        return { ciphertext: Buffer.concat([Buffer.from([FORMAT]), uuidBytes(v.id), s.nonce, s.tag, s.ct]).toString("base64"), version: v };
    }

    /** The version of this key a ciphertext names in its header, whether or not it then authenticates. */
    versionNamed(k: KmsKeyRecord, ciphertext: string): KmsKeyVersionRecord | undefined {
        const raw = Buffer.from(ciphertext, "base64");
        if (raw.length <= HEADER || raw[0] !== FORMAT) return undefined;
        const versionId = uuidOf(raw.subarray(1, 17));
        return this.versionsOf(k).find((x) => x.id === versionId);
    }

    /** The data key inside `ciphertext` and the version that wrapped it; undefined when it is not this key's or was altered. */
    unwrap(k: KmsKeyRecord, ciphertext: string, aad: string[]): { plaintext: Buffer; version: KmsKeyVersionRecord } | undefined {
        const raw = Buffer.from(ciphertext, "base64");
        if (raw.length <= HEADER || raw[0] !== FORMAT) return undefined;
        const versionId = uuidOf(raw.subarray(1, 17));
        const v = this.versionsOf(k).find((x) => x.id === versionId);
        if (!v) return undefined;
        const plaintext = gcmOpen(this.material(k.id, v), raw.subarray(17, 29), raw.subarray(29, 45), raw.subarray(45), additionalData(k.id, aad));
        return plaintext ? { plaintext, version: v } : undefined;
    }
}

function additionalData(keyId: string, aad: string[]): Buffer {
    return Buffer.from(`wrap\0${keyId}\0${JSON.stringify(aad)}`);
}
