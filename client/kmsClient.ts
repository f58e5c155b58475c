// The KMS client for Key Protect (`kms`) and HPCS (`hs-crypto`): keys, key actions (wrap, unwrap,
// rewrap, rotate), key rings and key policies. Its wire types are in ./kmsWire (re-exported here).
import * as crypto from "crypto";
import { HttpClient, HttpMethod, HttpResponse, QueryValue } from "./http";
import { IbmCloudError, isNotFound } from "./errors";
import { createdSince, createWithRecovery } from "./createRecovery";
import { CloudSettings, EndpointOrigin, KmsService, kmsEndpointFromSettings } from "./config";
import { IamTokenManager } from "./tokenManager";
import { BearerAuth, BearerTokenSource, collectPages, pathSegment, ResponseReader } from "./authenticatedCall";
import { retrying, sleep as realSleep } from "./backoff";
import {
    aadOf,
    bytesIn,
    bytesOut,
    collectionSchema,
    CreateKeyInput,
    DataKey,
    KMS_KEY_TYPE,
    KMS_POLICY_TYPE,
    KmsActionOptions,
    KmsBytes,
    KmsKeyResource,
    KmsKeyPolicies,
    KmsKeyRingResource,
    keySchema,
    UnwrapResult,
    versionOf,
} from "./kmsWire";

import {
    instancePoliciesBody,
    KmsInstancePolicySettings,
    KmsKeyAlias,
    KmsKeyVersion,
    KmsRegistration,
    parseAlias,
    parseInstancePolicies,
    parseRegistrations,
    parseVersions,
} from "./kmsLifecycle";

export * from "./kmsWire";
export type { KmsInstancePolicySettings, KmsKeyAlias, KmsKeyVersion, KmsRegistration } from "./kmsLifecycle";
/** @deprecated Renamed `KmsInstancePolicySettings` (the resource class `KmsInstancePolicies` is the Pulumi resource). */
export type KmsInstancePolicies = KmsInstancePolicySettings;

export interface RewrapResult {
    ciphertext: Buffer;
    /** The root key version that had wrapped the ciphertext given. */
    keyVersion: string;
    /** The (newest) version that wraps the ciphertext returned. */
    rewrappedKeyVersion: string;
}

export interface KmsClientOptions extends BearerTokenSource {
    /** KMS base URL (see `kmsEndpointFor`). */
    endpoint: string;
    /** Instance GUID, sent as `bluemix-instance`. */
    instanceId: string;
    /** `x-kms-key-ring`; IBM's default ring when absent. */
    keyRing?: string;
    httpClient?: HttpClient;
    /** Where `endpoint` came from (a resource argument, a setting, derived): a connection failure names it. */
    endpointOrigin?: EndpointOrigin;
    pageSize?: number;
}

export interface WaitUntilAuthorizedOptions {
    /** Give up after this long (default 60 s). */
    timeoutMs?: number;
    /** First pause between polls (default 500 ms), doubling up to `maxIntervalMs` (default 5 s). */
    initialIntervalMs?: number;
    maxIntervalMs?: number;
    /** Injected wait (tests). */
    sleep?: (ms: number) => Promise<void>;
    now?: () => number;
}

/** Where a KMS client points: the instance's endpoint and GUID, and the key ring its key calls use. */
export interface KmsClientTarget {
    endpoint: string;
    instanceId: string;
    keyRing?: string;
    /** Where `endpoint` came from, for connection errors. */
    origin?: EndpointOrigin;
}

export class KmsClient {
    readonly endpoint: string;
    readonly instanceId: string;
    readonly keyRing: string | undefined;
    readonly http: HttpClient;
    private readonly auth: BearerAuth;
    private readonly pageSize: number;
    private readonly responses = new ResponseReader("KMS", "correlation-id");
    private readonly endpointOrigin: EndpointOrigin | undefined;

    constructor(options: KmsClientOptions) {
        this.endpoint = options.endpoint.replace(/\/+$/, "");
        this.instanceId = options.instanceId;
        this.keyRing = options.keyRing;
        this.auth = new BearerAuth(options);
        this.http = options.httpClient ?? new HttpClient();
        this.pageSize = options.pageSize ?? 200;
        this.endpointOrigin = options.endpointOrigin;
    }

    /** How often a 401 led to a fresh token and a second attempt (a token refused before the client thought it expired). */
    get stats(): { retriesAfter401: number } {
        return this.auth.stats;
    }

    /**
     * A client for `target` that authenticates with `tokens` (sharing its HTTP client); a token refused
     * with 401 is replaced once by a fresh one.
     */
    static withTokens(tokens: IamTokenManager, target: KmsClientTarget): KmsClient {
        return new KmsClient({
            endpoint: target.endpoint,
            instanceId: target.instanceId,
            tokenSource: () => tokens.getToken(),
            invalidateToken: () => tokens.invalidate(),
            httpClient: tokens.http,
            ...(target.keyRing !== undefined ? { keyRing: target.keyRing } : {}),
            ...(target.origin !== undefined ? { endpointOrigin: target.origin } : {}),
        });
    }

    /**
     * A client for one instance, authenticated by `tokens` (sharing its HTTP client), with the
     * endpoint derived from settings (override, region, visibility).
     */
    static forInstance(
        tokens: IamTokenManager,
        settings: CloudSettings,
        target: { service: KmsService; instanceId: string; region?: string; keyRing?: string },
    ): KmsClient {
        return KmsClient.withTokens(tokens, {
            endpoint: kmsEndpointFromSettings(settings, target),
            instanceId: target.instanceId,
            ...(target.keyRing !== undefined ? { keyRing: target.keyRing } : {}),
        });
    }

    /**
     * Creates a root key (default) or a standard key (`extractable: true`); `payload` imports material.
     * When the answer is lost (`outcomeUnknown`), a live key of the same name, type and description
     * created since the first attempt is adopted; with none, the create is sent again.
     */
    async createKey(input: CreateKeyInput): Promise<KmsKeyResource> {
        const resource: { [k: string]: unknown } = {
            type: KMS_KEY_TYPE,
            name: input.name,
            extractable: input.extractable ?? false,
        };
        if (input.description !== undefined) resource.description = input.description;
        if (input.expirationDate !== undefined) resource.expirationDate = input.expirationDate;
        if (input.payload !== undefined) resource.payload = input.payload;
        return createWithRecovery<KmsKeyResource>({
            operation: "create KMS key",
            leftover: `a KMS key named ${JSON.stringify(input.name)} in instance ${this.instanceId}`,
            send: async () => {
                const res = await this.call("create KMS key", "POST", "/api/v2/keys", {
                    json: { metadata: { collectionType: KMS_KEY_TYPE, collectionTotal: 1 }, resources: [resource] },
                    secrets: [input.payload],
                });
                return this.firstKey(res, "create KMS key");
            },
            lookup: async (since) =>
                (await this.listKeys()).filter(
                    (k) =>
                        k.name === input.name &&
                        k.extractable === (input.extractable ?? false) &&
                        (k.description ?? "") === (input.description ?? "") &&
                        k.state !== 5 &&
                        k.deleted !== true &&
                        createdSince(k.creationDate, since),
                ),
            idOf: (k) => k.id,
        });
    }

    /** All keys of the instance (and key ring), following offset paging. */
    async listKeys(): Promise<KmsKeyResource[]> {
        return collectPages(0, async (offset: number) => {
            const items = await this.listPage(offset, this.pageSize);
            return items.length < this.pageSize ? { items } : { items, next: offset + this.pageSize };
        });
    }

    /** One key, with its payload when it is a standard key the caller may read. */
    async getKey(id: string): Promise<KmsKeyResource> {
        const res = await this.call("get KMS key", "GET", `/api/v2/keys/${pathSegment(id)}`);
        const key = this.firstKey(res, "get KMS key");
        if (typeof key.payload === "string") this.http.addSecret(key.payload);
        return key;
    }

    async getKeyMetadata(id: string): Promise<KmsKeyResource> {
        const res = await this.call("get KMS key metadata", "GET", `/api/v2/keys/${pathSegment(id)}/metadata`);
        return this.firstKey(res, "get KMS key metadata");
    }

    /** Deletes a key; `force` also deletes keys still protecting resources. Returns false when already gone (404/410). */
    async deleteKey(id: string, options: { force?: boolean } = {}): Promise<boolean> {
        try {
            await this.call("delete KMS key", "DELETE", `/api/v2/keys/${pathSegment(id)}`, { query: { force: options.force ? "true" : undefined } });
            return true;
        } catch (err) {
            if (isNotFound(err)) return false;
            throw err;
        }
    }

    // ---------- key lifecycle ----------

    /** The root key's versions, newest first (IBM: `GET /api/v2/keys/{id}/versions`). */
    async listKeyVersions(keyId: string): Promise<KmsKeyVersion[]> {
        return collectPages(0, async (offset: number) => {
            const res = await this.call("list KMS key versions", "GET", `/api/v2/keys/${pathSegment(keyId)}/versions`, {
                query: { limit: this.pageSize, offset },
            });
            const items = parseVersions(res, "list KMS key versions");
            return items.length < this.pageSize ? { items } : { items, next: offset + this.pageSize };
        });
    }

    /** Disables root key `keyId` (state 2): it stays readable and refuses wrap and unwrap until enabled. */
    async disableKey(keyId: string): Promise<void> {
        await this.call("disable KMS key", "POST", `/api/v2/keys/${pathSegment(keyId)}/actions/disable`, {
            contentType: "application/vnd.ibm.kms.key_action_disable+json",
        });
    }

    /** Enables a disabled root key; IBM refuses it (409 REQ_TOO_EARLY_ERR) within 30 s of the disable. */
    async enableKey(keyId: string): Promise<void> {
        await this.call("enable KMS key", "POST", `/api/v2/keys/${pathSegment(keyId)}/actions/enable`, {
            contentType: "application/vnd.ibm.kms.key_action_enable+json",
        });
    }

    /** Restores a deleted key (30 s to 30 days after its deletion) with its versions and policies; returns it. */
    async restoreKey(keyId: string): Promise<KmsKeyResource> {
        const res = await this.call("restore KMS key", "POST", `/api/v2/keys/${pathSegment(keyId)}/restore`, { headers: { prefer: "return=representation" } });
        if (res.status === 204 || res.body === null) return this.getKeyMetadata(keyId);
        return this.firstKey(res, "restore KMS key");
    }

    /** Purges a deleted key for good (KeyPurge role, 4 h after the delete). Returns false when it was already gone. */
    async purgeKey(keyId: string): Promise<boolean> {
        try {
            await this.call("purge KMS key", "DELETE", `/api/v2/keys/${pathSegment(keyId)}/purge`);
            return true;
        } catch (err) {
            if (err instanceof IbmCloudError && err.status === 404) return false;
            throw err;
        }
    }

    /** Gives key `keyId` another name, usable wherever an id is (at most 5 per key, unique in the instance). */
    async createKeyAlias(keyId: string, alias: string): Promise<KmsKeyAlias> {
        const res = await this.call("create KMS key alias", "POST", `/api/v2/keys/${pathSegment(keyId)}/aliases/${pathSegment(alias)}`, { idempotent: true });
        return parseAlias(res, "create KMS key alias");
    }

    /** Removes an alias; false when the key did not have it (404). */
    async deleteKeyAlias(keyId: string, alias: string): Promise<boolean> {
        try {
            await this.call("delete KMS key alias", "DELETE", `/api/v2/keys/${pathSegment(keyId)}/aliases/${pathSegment(alias)}`);
            return true;
        } catch (err) {
            if (err instanceof IbmCloudError && err.status === 404) return false;
            throw err;
        }
    }

    /** Other services' registrations of key `keyId`, or of every key of the instance when no key is given. */
    async listRegistrations(keyId?: string): Promise<KmsRegistration[]> {
        const path = keyId === undefined ? "/api/v2/keys/registrations" : `/api/v2/keys/${pathSegment(keyId)}/registrations`;
        return collectPages(0, async (offset: number) => {
            const res = await this.call("list KMS registrations", "GET", path, { query: { limit: this.pageSize, offset } });
            const items = parseRegistrations(res, "list KMS registrations");
            return items.length < this.pageSize ? { items } : { items, next: offset + this.pageSize };
        });
    }

    /** The first half of a dual-authorization delete: this identity authorizes another one to delete the key (7 days). */
    async setKeyForDeletion(keyId: string): Promise<void> {
        await this.call("set KMS key for deletion", "POST", `/api/v2/keys/${pathSegment(keyId)}/actions/setKeyForDeletion`, { idempotent: true });
    }

    /** Withdraws an authorization to delete. */
    async unsetKeyForDeletion(keyId: string): Promise<void> {
        await this.call("unset KMS key for deletion", "POST", `/api/v2/keys/${pathSegment(keyId)}/actions/unsetKeyForDeletion`, { idempotent: true });
    }

    /** The instance's policies (each present only when set). */
    async getInstancePolicies(): Promise<KmsInstancePolicySettings> {
        const res = await this.call("get KMS instance policies", "GET", "/api/v2/instance/policies", { noKeyRing: true });
        return parseInstancePolicies(res, "get KMS instance policies");
    }

    /** Sets the policies given (the others stay as they are). */
    async setInstancePolicies(policies: KmsInstancePolicySettings): Promise<void> {
        await this.call("set KMS instance policies", "PUT", "/api/v2/instance/policies", {
            json: instancePoliciesBody(policies),
            contentType: KMS_POLICY_TYPE,
            idempotent: true,
            noKeyRing: true,
        });
    }

    // ---------- envelope encryption (root keys) ----------

    /** Wraps `plaintext` (a data key, up to 7,500 bytes) with root key `keyId`; returns the ciphertext bytes. */
    async wrap(keyId: string, plaintext: Uint8Array, options: KmsActionOptions = {}): Promise<Buffer> {
        const pt = bytesIn(plaintext, "plaintext", false);
        const res = await this.action("wrap KMS data key", keyId, "wrap", { plaintext: pt, ...aadOf(options) }, [pt]);
        return bytesOut(this.field(res, "wrap KMS data key", "ciphertext"));
    }

    /** Has Key Protect generate a 256-bit data key: returns it in the clear and wrapped by root key `keyId`. */
    async generateDataKey(keyId: string, options: KmsActionOptions = {}): Promise<DataKey> {
        const res = await this.action("generate KMS data key", keyId, "wrap", { ...aadOf(options) });
        return {
            plaintext: bytesOut(this.field(res, "generate KMS data key", "plaintext")),
            ciphertext: bytesOut(this.field(res, "generate KMS data key", "ciphertext")),
            keyVersion: versionOf(res.body, "keyVersion") ?? "",
        };
    }

    /** The data key inside `ciphertext` (bytes, or IBM's base64), wrapped by root key `keyId` with the same `aad`. */
    async unwrap(keyId: string, ciphertext: KmsBytes, options: KmsActionOptions = {}): Promise<Buffer> {
        return (await this.unwrapDetailed(keyId, ciphertext, options)).plaintext;
    }

    /** As `unwrap`, with the key version and, after a rotation, the ciphertext rewrapped by the newest version. */
    async unwrapDetailed(keyId: string, ciphertext: KmsBytes, options: KmsActionOptions = {}): Promise<UnwrapResult> {
        const ct = bytesIn(ciphertext, "ciphertext", true);
        const res = await this.action("unwrap KMS data key", keyId, "unwrap", { ciphertext: ct, ...aadOf(options) });
        const out: UnwrapResult = {
            plaintext: bytesOut(this.field(res, "unwrap KMS data key", "plaintext")),
            keyVersion: versionOf(res.body, "keyVersion") ?? "",
        };
        const rewrappedVersion = versionOf(res.body, "rewrappedKeyVersion");
        const body = res.body as { ciphertext?: unknown };
        if (rewrappedVersion && typeof body.ciphertext === "string") out.rewrapped = { ciphertext: bytesOut(body.ciphertext), keyVersion: rewrappedVersion };
        return out;
    }

    /** `ciphertext` wrapped again by the newest version of root key `keyId` (after a rotation). */
    async rewrap(keyId: string, ciphertext: KmsBytes, options: KmsActionOptions = {}): Promise<Buffer> {
        return (await this.rewrapDetailed(keyId, ciphertext, options)).ciphertext;
    }

    /** As `rewrap`, with the version that had wrapped the ciphertext given and the (newest) one that wraps the result. */
    async rewrapDetailed(keyId: string, ciphertext: KmsBytes, options: KmsActionOptions = {}): Promise<RewrapResult> {
        const ct = bytesIn(ciphertext, "ciphertext", true);
        const res = await this.action("rewrap KMS data key", keyId, "rewrap", { ciphertext: ct, ...aadOf(options) });
        const out = bytesOut(this.field(res, "rewrap KMS data key", "ciphertext"));
        const rewrapped = versionOf(res.body, "rewrappedKeyVersion") ?? "";
        return { ciphertext: out, keyVersion: versionOf(res.body, "keyVersion") ?? "", rewrappedKeyVersion: rewrapped };
    }

    /**
     * Rotates root key `keyId` (a new version; older ciphertext still unwraps) and returns the key, with
     * its new `keyVersion` and `lastRotateDate`. An imported root key needs new material (`payload`, base64).
     * Not retried after a lost answer: a replay would rotate twice.
     */
    async rotate(keyId: string, options: { payload?: string } = {}): Promise<KmsKeyResource> {
        const body = options.payload !== undefined ? { payload: options.payload } : undefined;
        const res = await this.call("rotate KMS key", "POST", `/api/v2/keys/${pathSegment(keyId)}/actions/rotate`, {
            json: body,
            contentType: "application/vnd.ibm.kms.key_action_rotate+json",
            headers: { prefer: "return=representation" },
            secrets: [options.payload],
        });
        if (res.status === 204 || res.body === null) return this.getKeyMetadata(keyId);
        return this.firstKey(res, "rotate KMS key");
    }

    // ---------- key rings ----------

    /**
     * Creates key ring `id` (2–100 letters, digits, dashes). Returns false when it already existed
     * before this call; a 409 met on a retry (an earlier attempt's answer was lost) is this call's ring: true.
     */
    async createKeyRing(id: string): Promise<boolean> {
        try {
            await this.call("create KMS key ring", "POST", `/api/v2/key_rings/${pathSegment(id)}`, { idempotent: true, noKeyRing: true });
            return true;
        } catch (err) {
            if (err instanceof IbmCloudError && err.status === 409 && err.code === "KEY_RING_ALREADY_EXISTS_ERR") return (err.attempts ?? 1) > 1;
            throw err;
        }
    }

    /** The instance's key rings, `default` included. */
    async listKeyRings(): Promise<KmsKeyRingResource[]> {
        const res = await this.call("list KMS key rings", "GET", "/api/v2/key_rings", { noKeyRing: true });
        const body = this.parseCollection(res, "list KMS key rings");
        return (body.resources ?? []).map((r, i) => {
            const o = r as { id?: unknown; creationDate?: unknown; createdBy?: unknown };
            if (!o || typeof o.id !== "string") throw this.responses.invalid(res, "list KMS key rings", `resources[${i}].id: expected a string`);
            const ring: KmsKeyRingResource = { id: o.id };
            if (typeof o.creationDate === "string") ring.creationDate = o.creationDate;
            if (typeof o.createdBy === "string") ring.createdBy = o.createdBy;
            return ring;
        });
    }

    /**
     * Deletes key ring `id`; refused (409 KEY_RING_NOT_EMPTY_ERR) while it holds keys, unless `force` and
     * all of them are deleted. Returns false when it did not exist (404).
     */
    async deleteKeyRing(id: string, options: { force?: boolean } = {}): Promise<boolean> {
        try {
            await this.call("delete KMS key ring", "DELETE", `/api/v2/key_rings/${pathSegment(id)}`, {
                query: { force: options.force ? "true" : undefined },
                noKeyRing: true,
            });
            return true;
        } catch (err) {
            if (isNotFound(err)) return false;
            throw err;
        }
    }

    // ---------- key policies ----------

    /** The key's rotation and dual-authorization-delete policies (absent when never set). */
    async getKeyPolicies(keyId: string): Promise<KmsKeyPolicies> {
        const res = await this.call("get KMS key policies", "GET", `/api/v2/keys/${pathSegment(keyId)}/policies`);
        return this.parsePolicies(res, "get KMS key policies");
    }

    /** Sets the given policies (others stay as they are); returns the policies as set. */
    async setKeyPolicies(keyId: string, policies: KmsKeyPolicies): Promise<KmsKeyPolicies> {
        const resources: unknown[] = [];
        if (policies.rotation) {
            resources.push({ type: KMS_POLICY_TYPE, rotation: { enabled: policies.rotation.enabled, interval_month: policies.rotation.intervalMonth } });
        }
        if (policies.dualAuthDelete) resources.push({ type: KMS_POLICY_TYPE, dualAuthDelete: { enabled: policies.dualAuthDelete.enabled } });
        if (resources.length === 0) throw new Error("setKeyPolicies: give rotation and/or dualAuthDelete");
        const res = await this.call("set KMS key policies", "PUT", `/api/v2/keys/${pathSegment(keyId)}/policies`, {
            json: { metadata: { collectionType: KMS_POLICY_TYPE, collectionTotal: resources.length }, resources },
            contentType: KMS_POLICY_TYPE,
            // setting the same policies twice leaves the same state
            idempotent: true,
        });
        return this.parsePolicies(res, "set KMS key policies");
    }

    /**
     * Polls a cheap list call until the token's identity is allowed in (a new access policy takes a few
     * seconds to apply). Only 401/403 are waited out; other errors are thrown at once. On timeout
     * throws the last 401/403 with a note.
     */
    async waitUntilAuthorized(options: WaitUntilAuthorizedOptions = {}): Promise<void> {
        const timeoutMs = options.timeoutMs ?? 60_000;
        const maxInterval = options.maxIntervalMs ?? 5_000;
        const initialInterval = options.initialIntervalMs ?? 500;
        const now = options.now ?? (() => Date.now());
        const deadline = now() + timeoutMs;
        await retrying(
            () => this.listPage(0, 1),
            (err, attempt) => {
                if (!(err instanceof IbmCloudError) || (err.status !== 401 && err.status !== 403)) return undefined;
                const remaining = deadline - now();
                if (remaining <= 0) {
                    throw err.withContext({
                        operation: "wait for KMS access",
                        attempts: attempt,
                        note: `still not authorized after ${Math.round(timeoutMs / 1000)} s; check that an access policy grants this identity a role on instance ${this.instanceId}`,
                    });
                }
                return Math.min(initialInterval * 2 ** (attempt - 1), maxInterval, remaining);
            },
            options.sleep ?? realSleep,
        );
    }

    // ---------- plumbing ----------

    private async listPage(offset: number, limit: number): Promise<KmsKeyResource[]> {
        const res = await this.call("list KMS keys", "GET", "/api/v2/keys", { query: { limit, offset } });
        const body = this.parseCollection(res, "list KMS keys");
        const schema = this.responses.schema("keySchema", keySchema);
        return (body.resources ?? []).map((r, i) => {
            const parsed = schema.safeParse(r);
            if (!parsed.success) throw this.responses.invalid(res, "list KMS keys", `resources[${i}]: ${parsed.error.issues[0]?.message ?? "invalid"}`);
            return parsed.data as KmsKeyResource;
        });
    }

    /** One read of the smallest kind (the first key, if any): throws what KMS says when the caller may not use the instance. */
    async checkAccess(): Promise<void> {
        await this.listPage(0, 1);
    }

    /** An authenticated KMS call with the instance headers (a 401 gets one fresh token: see BearerAuth). */
    async call(operation: string, method: HttpMethod, path: string, extra: KmsCallExtra = {}): Promise<HttpResponse<unknown>> {
        return this.auth.send(this.http, () => {
            const correlationId = crypto.randomUUID();
            const headers: { [k: string]: string } = {
                "bluemix-instance": this.instanceId,
                "correlation-id": correlationId,
                ...(extra.headers ?? {}),
            };
            if (this.keyRing && !extra.noKeyRing) headers["x-kms-key-ring"] = this.keyRing;
            const contentType = extra.contentType ?? KMS_KEY_TYPE;
            if (extra.json !== undefined) headers["content-type"] = contentType;
            return {
                operation,
                method,
                url: `${this.endpoint}${path}`,
                query: extra.query,
                json: extra.json,
                headers,
                ...(extra.json !== undefined ? { contentType } : {}),
                ...(extra.idempotent !== undefined ? { idempotent: extra.idempotent } : {}),
                correlationId,
                secrets: extra.secrets ?? [],
                ...(this.endpointOrigin ? { origin: this.endpointOrigin } : {}),
            };
        });
    }

    /** A key action; wrap, unwrap and rewrap change nothing at IBM, so they are retried like reads. */
    private action(
        operation: string,
        keyId: string,
        action: "wrap" | "unwrap" | "rewrap",
        body: { [k: string]: unknown },
        secrets: string[] = [],
    ): Promise<HttpResponse<unknown>> {
        return this.call(operation, "POST", `/api/v2/keys/${pathSegment(keyId)}/actions/${action}`, {
            json: body,
            contentType: `application/vnd.ibm.kms.key_action_${action}+json`,
            idempotent: true,
            secrets,
        });
    }

    private field(res: HttpResponse<unknown>, operation: string, name: string): string {
        const v = (res.body as { [k: string]: unknown } | null)?.[name];
        if (typeof v !== "string" || v === "") throw this.responses.invalid(res, operation, `${name}: expected a base64 string`);
        return v;
    }

    private parsePolicies(res: HttpResponse<unknown>, operation: string): KmsKeyPolicies {
        const body = this.parseCollection(res, operation);
        const out: KmsKeyPolicies = {};
        for (const r of body.resources ?? []) {
            const o = r as { rotation?: { enabled?: unknown; interval_month?: unknown }; dualAuthDelete?: { enabled?: unknown } };
            if (o?.rotation && typeof o.rotation.interval_month === "number") {
                out.rotation = { enabled: o.rotation.enabled !== false, intervalMonth: o.rotation.interval_month };
            }
            if (o?.dualAuthDelete && typeof o.dualAuthDelete.enabled === "boolean") out.dualAuthDelete = { enabled: o.dualAuthDelete.enabled };
        }
        return out;
    }

    private parseCollection(res: HttpResponse<unknown>, operation: string): { resources?: unknown[] } {
        const r = this.responses.schema("collectionSchema", collectionSchema).safeParse(res.body);
        if (!r.success) throw this.responses.invalid(res, operation, r.error.issues[0]?.message ?? "not a KMS collection");
        return r.data as { resources?: unknown[] };
    }

    private firstKey(res: HttpResponse<unknown>, operation: string): KmsKeyResource {
        const body = this.parseCollection(res, operation);
        const first = body.resources?.[0];
        const r = this.responses.schema("keySchema", keySchema).safeParse(first);
        if (!r.success) throw this.responses.invalid(res, operation, `resources[0]: ${r.error.issues[0]?.message ?? "missing"}`);
        return r.data as KmsKeyResource;
    }
}

export interface KmsCallExtra {
    json?: unknown;
    query?: { [k: string]: QueryValue };
    secrets?: ReadonlyArray<string | undefined>;
    /** Request type (default the key type). */
    contentType?: string;
    headers?: { [k: string]: string };
    idempotent?: boolean;
    /** Instance-level calls (key rings) go without `x-kms-key-ring`. */
    noKeyRing?: boolean;
}
