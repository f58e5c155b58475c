// In-memory account state of the emulator, optionally mirrored to a JSON file.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export type KmsService = "hs-crypto" | "kms";

export interface KmsInstanceSpec {
    guid?: string;
    service: KmsService;
    region?: string;
    name?: string;
}

export interface InstanceRecord {
    guid: string;
    service: KmsService;
    region: string;
    name: string;
}

export interface OwnerRecord {
    iamId: string; // IBMid-<identifier>
    identifier: string;
    email: string;
    givenName: string;
    familyName: string;
    imsUserId: number;
}

export interface ServiceIdRecord {
    id: string;
    iamId: string;
    accountId: string;
    name: string;
    description?: string;
    uniqueInstanceCrns: string[];
    locked: boolean;
    createdAt: string;
    modifiedAt: string;
    createdBy: string;
    etagVersion: number;
    etagHash: string;
}

export interface ApiKeyRecord {
    id: string;
    iamId: string;
    accountId: string;
    name: string;
    description?: string;
    locked: boolean;
    disabled: boolean;
    createdAt: string;
    modifiedAt: string;
    createdBy: string;
    supportSessions: boolean;
    actionWhenLeaked: "none" | "disable" | "delete";
    expiresAt?: string; // yyyy-MM-ddTHH:mm+0000
    storeValue: boolean;
    valueHash: string; // sha-256 hex; the value itself is kept only when storeValue
    storedValue?: string;
    etagVersion: number;
    etagHash: string;
}

export interface PolicyAttribute {
    name: string;
    value: unknown;
    operator?: string;
}

export interface PolicyBody {
    type: string;
    description?: string;
    subjects: { attributes: PolicyAttribute[] }[];
    roles: { role_id: string }[];
    resources: { attributes: PolicyAttribute[]; tags?: PolicyAttribute[] }[];
}

export interface PolicyRecord {
    id: string;
    body: PolicyBody;
    state: "active" | "deleted";
    createdAt: string;
    createdById: string;
    lastModifiedAt: string;
    lastModifiedById: string;
    etagVersion: number;
    etagHash: string;
    effectiveAt: number; // epoch ms from which this version counts for access decisions
    previousBody?: PolicyBody; // still in force until effectiveAt (propagation of a replace)
}

export interface KmsKeyRecord {
    id: string;
    instance: string;
    keyRing: string;
    name: string;
    description?: string;
    state: number;
    extractable: boolean;
    imported: boolean;
    payload?: string; // base64; root keys never reveal it
    expirationDate?: string;
    creationDate: string;
    lastUpdateDate: string;
    createdBy: string;
    keyVersion: { id: string; creationDate: string };
    deleted: boolean;
    deletionDate?: string;
    deletedBy?: string;
    /** Root keys: every version's material, sealed under `kmsSecret` (kms/keyMaterial.ts); newest last. */
    versions?: KmsKeyVersionRecord[];
    lastRotateDate?: string;
    policies?: { rotation?: KmsKeyPolicyRecord & { enabled: boolean; intervalMonth: number }; dualAuthDelete?: KmsKeyPolicyRecord & { enabled: boolean } };
    /** Dual authorization delete: who set the key for deletion, and when (epoch ms). */
    deletionAuthorization?: { by: string; at: number };
    /** Names the key also answers to (up to 5, unique in the instance). */
    aliases?: KmsAliasRecord[];
    /** Other services' registrations of their use of the key (made through the admin API). */
    registrations?: KmsRegistrationRecord[];
    /** When the key last changed state (disable, enable, delete, restore), in the KMS clock's epoch ms. */
    stateChangedAt?: number;
}

export interface KmsAliasRecord {
    alias: string;
    creationDate: string;
    createdBy: string;
}

export interface KmsRegistrationRecord {
    resourceCrn: string;
    description?: string;
    preventKeyDeletion: boolean;
    /** The key version the registered resource uses. */
    keyVersion: string;
    createdBy: string;
    creationDate: string;
    updatedBy: string;
    lastUpdated: string;
}

export interface KmsInstancePolicyRecord {
    instance: string;
    policyType: string;
    /** As set: `{enabled, attributes?}`. */
    policyData: { enabled: boolean; attributes?: Record<string, unknown> };
    createdBy: string;
    creationDate: string;
    updatedBy: string;
    lastUpdated: string;
}

export interface KmsKeyVersionRecord {
    id: string;
    creationDate: string;
    /** base64 nonce | tag | AES-256-GCM ciphertext of the 32-byte material. */
    sealed: string;
}

export interface KmsKeyPolicyRecord {
    id: string;
    creationDate: string;
    createdBy: string;
    lastUpdateDate: string;
    updatedBy: string;
}

export interface KmsKeyRingRecord {
    instance: string;
    id: string;
    creationDate: string;
    createdBy: string;
}

/** A compute resource a trusted profile is linked to; the `link` fields IBM names for its `cr_type`. */
export interface ProfileLinkRecord {
    id: string;
    crType: ComputeResourceType;
    crn: string;
    namespace?: string;
    name?: string; // IKS_SA / ROKS_SA: the service account
    componentType?: string; // CE
    componentName?: string; // CE
    linkName?: string;
    isCrossAccount: boolean;
    createdAt: string;
    modifiedAt: string;
    etagVersion: number;
    etagHash: string;
}

export interface ClaimRuleCondition {
    claim: string;
    operator: string;
    value: string; // JSON-encoded, as IBM stores it
}

export interface ClaimRuleRecord {
    id: string;
    type: "Profile-CR" | "Profile-SAML";
    name?: string;
    crType?: ComputeResourceType;
    realmName?: string;
    expiration: number;
    conditions: ClaimRuleCondition[];
    createdAt: string;
    modifiedAt: string;
    etagVersion: number;
    etagHash: string;
}

export interface ProfileIdentityRecord {
    iamId: string;
    identifier: string;
    type: "user" | "serviceid" | "crn";
    accounts?: string[];
    description?: string;
}

export type ComputeResourceType = "VSI" | "BMS" | "PVS" | "IKS_SA" | "ROKS_SA" | "CE";

export interface ProfileRecord {
    id: string;
    iamId: string;
    accountId: string;
    name: string;
    description?: string;
    email?: string;
    createdAt: string;
    modifiedAt: string;
    createdBy: string;
    etagVersion: number;
    etagHash: string;
    rules: ClaimRuleRecord[];
    links: ProfileLinkRecord[];
    identities: ProfileIdentityRecord[];
    /** The identities list has its own entity tag. */
    identitiesEtag: { etagVersion: number; etagHash: string; modifiedAt: string };
}

export interface SigningKeyRecord {
    kid: string;
    privateKeyPem: string;
}

export interface StateData {
    version: 1;
    accountId: string;
    resourceGroupId: string;
    signingKey: SigningKeyRecord;
    owner: OwnerRecord;
    ownerApiKey: string; // persisted so a restarted emulator answers with the same owner key
    ownerApiKeyId: string;
    instances: InstanceRecord[];
    serviceIds: ServiceIdRecord[];
    apiKeys: ApiKeyRecord[];
    policies: PolicyRecord[];
    kmsKeys: KmsKeyRecord[];
    /** Key rings other than `default` (which every instance always has). */
    kmsKeyRings?: KmsKeyRingRecord[];
    /** Instance policies of the KMS instances (one per instance and type). */
    kmsInstancePolicies?: KmsInstancePolicyRecord[];
    /** How far KMS's clock runs ahead of real time (`POST /__emulator/kms/clock`), in ms. */
    kmsClockOffsetMs?: number;
    /** 32 random bytes (base64) sealing root key material at rest; made on first use, never served. */
    kmsSecret?: string;
    /** Trusted profiles (absent in state files written before they were modelled). */
    profiles?: ProfileRecord[];
}

export interface SeedOptions {
    accountId?: string;
    ownerApiKey?: string;
    instances?: KmsInstanceSpec[];
}

export function randomHex(bytes: number): string {
    return crypto.randomBytes(bytes).toString("hex");
}

export function hashApiKey(value: string): string {
    return crypto.createHash("sha256").update(value, "utf8").digest("hex");
}

/** A 44-character URL-safe value, the shape of IBM's generated API keys. */
export function generateApiKeyValue(): string {
    return crypto.randomBytes(33).toString("base64url");
}

/** `2024-10-04T14:05+0000`: IAM Identity's minute-precision timestamps. */
export function identityTime(d: Date = new Date()): string {
    return d.toISOString().slice(0, 16) + "+0000";
}

export function parseIdentityTime(s: string): Date | undefined {
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})\+0000$/.exec(s);
    if (!m) return undefined;
    const d = new Date(m[1] + ":00Z");
    return Number.isNaN(d.getTime()) ? undefined : d;
}

export function normalizeInstance(spec: KmsInstanceSpec, index: number): InstanceRecord {
    const region = spec.region ?? "us-south";
    return {
        guid: spec.guid ?? crypto.randomUUID(),
        service: spec.service,
        region,
        name: spec.name ?? `${spec.service}-${region}-${index + 1}`,
    };
}

function timestampKid(d: Date): string {
    return d.toISOString().replace(/[-:T]/g, "").slice(0, 12);
}

function newOwner(): OwnerRecord {
    // IBMid identifiers look like 270003GUSX: digits then uppercase alphanumerics
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let tail = "";
    for (const b of crypto.randomBytes(5)) tail += alphabet[b % alphabet.length];
    const identifier = `27000${tail}`;
    return {
        iamId: `IBMid-${identifier}`,
        identifier,
        email: "owner@example.com",
        givenName: "Account",
        familyName: "Owner",
        imsUserId: 1000000 + crypto.randomInt(8999999),
    };
}

export function seedState(opts: SeedOptions): StateData {
    const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const instances = (opts.instances ?? [{ service: "hs-crypto", region: "us-south" }]).map(normalizeInstance);
    const accountId = opts.accountId ?? randomHex(16);
    const owner = newOwner();
    const ownerApiKey = opts.ownerApiKey ?? generateApiKeyValue();
    const now = identityTime();
    const ownerKey: ApiKeyRecord = {
        id: `ApiKey-${crypto.randomUUID()}`,
        iamId: owner.iamId,
        accountId,
        name: "emulator-owner-key",
        description: "API key of the seeded account owner",
        locked: false,
        disabled: false,
        createdAt: now,
        modifiedAt: now,
        createdBy: owner.iamId,
        supportSessions: false,
        actionWhenLeaked: "none",
        storeValue: false,
        valueHash: hashApiKey(ownerApiKey),
        etagVersion: 1,
        etagHash: randomHex(16),
    };
    return {
        version: 1,
        accountId,
        resourceGroupId: randomHex(16),
        signingKey: {
            kid: timestampKid(new Date()),
            privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        },
        owner,
        ownerApiKey,
        ownerApiKeyId: ownerKey.id,
        instances,
        serviceIds: [],
        apiKeys: [ownerKey],
        policies: [],
        kmsKeys: [],
    };
}

/** Holds the state; every mutation goes through `save()` so the file never lags behind. */
export class StateStore {
    data: StateData;
    private readonly file?: string;

    private constructor(data: StateData, file?: string) {
        this.data = data;
        this.file = file;
    }

    static open(opts: SeedOptions & { stateFile?: string }): StateStore {
        const file = opts.stateFile ? path.resolve(opts.stateFile) : undefined;
        if (file && fs.existsSync(file)) {
            // a corrupt file is an error, never silently overwritten: it may hold someone's work
            const loaded = JSON.parse(fs.readFileSync(file, "utf8")) as StateData;
            if (loaded.version !== 1 || !loaded.signingKey || !loaded.accountId) {
                throw new Error(`state file ${file} is not an emulator state (version 1)`);
            }
            const store = new StateStore(loaded, file);
            // only instances with an explicit guid can be matched against the file; others were seeded on first start
            for (const spec of opts.instances ?? []) {
                if (spec.guid && !loaded.instances.some((i) => i.guid === spec.guid)) {
                    loaded.instances.push(normalizeInstance(spec, loaded.instances.length));
                }
            }
            store.save();
            return store;
        }
        const store = new StateStore(seedState(opts), file);
        store.save();
        return store;
    }

    /** Back to a freshly seeded account, keeping account id, owner, signing key and instances. */
    reset(seedInstances: InstanceRecord[]): void {
        this.data = {
            ...this.data,
            instances: seedInstances.map((i) => ({ ...i })),
            serviceIds: [],
            apiKeys: this.data.apiKeys.filter((k) => k.id === this.data.ownerApiKeyId).map((k) => ({ ...k, locked: false, disabled: false })),
            policies: [],
            kmsKeys: [],
            kmsKeyRings: [],
            kmsInstancePolicies: [],
            profiles: [],
        };
        this.save();
    }

    save(): void {
        if (!this.file) return;
        // write-then-rename so a reader (or a crash) never sees a half-written file
        const tmp = `${this.file}.${process.pid}.${randomHex(4)}.tmp`;
        fs.mkdirSync(path.dirname(this.file), { recursive: true });
        fs.writeFileSync(tmp, JSON.stringify(this.data, null, 2), { mode: 0o600 });
        fs.renameSync(tmp, this.file);
    }

    // lookups -----------------------------------------------------------------

    serviceIdById(id: string): ServiceIdRecord | undefined {
        return this.data.serviceIds.find((s) => s.id === id);
    }

    /** Accepts both `iam-ServiceId-…` and `ServiceId-…`. */
    serviceIdByIamId(iamId: string): ServiceIdRecord | undefined {
        const id = iamId.startsWith("iam-") ? iamId.slice(4) : iamId;
        return this.serviceIdById(id);
    }

    apiKeyById(id: string): ApiKeyRecord | undefined {
        return this.data.apiKeys.find((k) => k.id === id);
    }

    apiKeyByValue(value: string): ApiKeyRecord | undefined {
        const h = hashApiKey(value);
        return this.data.apiKeys.find((k) => k.valueHash === h);
    }

    profiles(): ProfileRecord[] {
        this.data.profiles ??= [];
        return this.data.profiles;
    }

    /** Accepts both `iam-Profile-…` and `Profile-…`. */
    profileById(id: string): ProfileRecord | undefined {
        const plain = id.startsWith("iam-") ? id.slice(4) : id;
        return this.profiles().find((p) => p.id === plain);
    }

    policyById(id: string): PolicyRecord | undefined {
        return this.data.policies.find((p) => p.id === id);
    }

    instance(guid: string): InstanceRecord | undefined {
        return this.data.instances.find((i) => i.guid === guid);
    }
}
