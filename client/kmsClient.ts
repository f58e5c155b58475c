// Keys API shared by Key Protect (`kms`) and HPCS (`hs-crypto`). Wire objects keep IBM's camelCase
// KMS field names (`extractable`, `expirationDate`, `keyVersion`), as the service sends them.
import { z } from "zod";
import * as crypto from "crypto";
import { HttpClient, HttpMethod, HttpResponse, QueryValue } from "./http";
import { IbmCloudError, isNotFound } from "./errors";
import { createdSince, createWithRecovery } from "./createRecovery";
import { CloudSettings, KmsService, kmsEndpointFromSettings } from "./config";
import { IamTokenManager } from "./tokenManager";

export const KMS_KEY_TYPE = "application/vnd.ibm.kms.key+json";

export interface KmsKey {
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

export interface KmsClientOptions {
    /** KMS base URL (see `kmsEndpointFor`). */
    endpoint: string;
    /** Instance GUID, sent as `bluemix-instance`. */
    instanceId: string;
    /** Supplies a current IAM access token (usually `tokenManager.getToken()`). */
    tokenSource: () => Promise<string>;
    /** `x-kms-key-ring`; IBM's default ring when absent. */
    keyRing?: string;
    httpClient?: HttpClient;
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

function keySchema() {
    return z.looseObject({
        id: z.string().min(1),
        name: z.string(),
        state: z.number(),
        extractable: z.boolean(),
    });
}

function collectionSchema() {
    return z.looseObject({
        metadata: z.looseObject({ collectionType: z.string().optional(), collectionTotal: z.number().optional() }).optional(),
        resources: z.array(z.unknown()).optional(),
    });
}

const MAX_PAGES = 1000;

export class KmsClient {
    readonly endpoint: string;
    readonly instanceId: string;
    readonly keyRing: string | undefined;
    readonly http: HttpClient;
    private readonly tokenSource: () => Promise<string>;
    private readonly pageSize: number;
    /** Response schemas, built on first use per client: building a zod object schema costs far more than parsing with it, and none may live at module scope (closure serialization). */
    private readonly schemas: { [name: string]: z.ZodType } = {};

    constructor(options: KmsClientOptions) {
        this.endpoint = options.endpoint.replace(/\/+$/, "");
        this.instanceId = options.instanceId;
        this.keyRing = options.keyRing;
        this.tokenSource = options.tokenSource;
        this.http = options.httpClient ?? new HttpClient();
        this.pageSize = options.pageSize ?? 200;
    }

    private schemaFor<T extends z.ZodType>(name: string, build: () => T): T {
        return (this.schemas[name] ??= build()) as T;
    }

    /**
     * A client for one instance, authenticated by `tokens` (sharing its HTTP client), with the
     * endpoint derived from settings (override, region, visibility).
     */
    static forInstance(tokens: IamTokenManager, settings: CloudSettings, target: { service: KmsService; instanceId: string; region?: string; keyRing?: string }): KmsClient {
        return new KmsClient({
            endpoint: kmsEndpointFromSettings(settings, target),
            instanceId: target.instanceId,
            tokenSource: () => tokens.getToken(),
            httpClient: tokens.http,
            ...(target.keyRing !== undefined ? { keyRing: target.keyRing } : {}),
        });
    }

    /**
     * Creates a root key (default) or a standard key (`extractable: true`); `payload` imports material.
     * When the answer is lost (`outcomeUnknown`), a live key of the same name, type and description
     * created since the first attempt is adopted; with none, the create is sent again.
     */
    async createKey(input: CreateKeyInput): Promise<KmsKey> {
        const resource: { [k: string]: unknown } = {
            type: KMS_KEY_TYPE,
            name: input.name,
            extractable: input.extractable ?? false,
        };
        if (input.description !== undefined) resource.description = input.description;
        if (input.expirationDate !== undefined) resource.expirationDate = input.expirationDate;
        if (input.payload !== undefined) resource.payload = input.payload;
        return createWithRecovery<KmsKey>({
            operation: "create KMS key",
            send: async () => {
                const res = await this.call("create KMS key", "POST", "/api/v2/keys", {
                    json: { metadata: { collectionType: KMS_KEY_TYPE, collectionTotal: 1 }, resources: [resource] },
                    secrets: [input.payload],
                });
                return this.firstKey(res, "create KMS key");
            },
            lookup: async (since) => (await this.listKeys()).filter((k) =>
                k.name === input.name && k.extractable === (input.extractable ?? false) && (k.description ?? "") === (input.description ?? "") &&
                k.state !== 5 && k.deleted !== true && createdSince(k.creationDate, since)),
            idOf: (k) => k.id,
        });
    }

    /** All keys of the instance (and key ring), following offset paging. */
    async listKeys(): Promise<KmsKey[]> {
        const out: KmsKey[] = [];
        for (let page = 0; page < MAX_PAGES; page++) {
            const batch = await this.listPage(page * this.pageSize, this.pageSize);
            out.push(...batch);
            if (batch.length < this.pageSize) break;
        }
        return out;
    }

    /** One key, with its payload when it is a standard key the caller may read. */
    async getKey(id: string): Promise<KmsKey> {
        const res = await this.call("get KMS key", "GET", `/api/v2/keys/${enc(id)}`);
        const key = this.firstKey(res, "get KMS key");
        if (typeof key.payload === "string") this.http.addSecret(key.payload);
        return key;
    }

    async getKeyMetadata(id: string): Promise<KmsKey> {
        const res = await this.call("get KMS key metadata", "GET", `/api/v2/keys/${enc(id)}/metadata`);
        return this.firstKey(res, "get KMS key metadata");
    }

    /** Deletes a key; `force` also deletes keys still protecting resources. Returns false when already gone (404/410). */
    async deleteKey(id: string, options: { force?: boolean } = {}): Promise<boolean> {
        try {
            await this.call("delete KMS key", "DELETE", `/api/v2/keys/${enc(id)}`, { query: { force: options.force ? "true" : undefined } });
            return true;
        } catch (err) {
            if (isNotFound(err)) return false;
            throw err;
        }
    }

    /**
     * Polls a cheap list call until the token's identity is allowed in (a new access policy takes a few
     * seconds to apply). Only 401/403 are waited out; other errors are thrown at once. On timeout
     * throws the last 401/403 with a note.
     */
    async waitUntilAuthorized(options: WaitUntilAuthorizedOptions = {}): Promise<void> {
        const timeoutMs = options.timeoutMs ?? 60_000;
        const maxInterval = options.maxIntervalMs ?? 5_000;
        let interval = options.initialIntervalMs ?? 500;
        const now = options.now ?? (() => Date.now());
        const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
        const deadline = now() + timeoutMs;
        for (let attempt = 1; ; attempt++) {
            try {
                await this.listPage(0, 1);
                return;
            } catch (err) {
                if (!(err instanceof IbmCloudError) || (err.status !== 401 && err.status !== 403)) throw err;
                const remaining = deadline - now();
                if (remaining <= 0) {
                    throw err.withContext({
                        operation: "wait for KMS access", attempts: attempt,
                        note: `still not authorized after ${Math.round(timeoutMs / 1000)} s; check that an access policy grants this identity a role on instance ${this.instanceId}`,
                    });
                }
                await sleep(Math.min(interval, remaining));
                interval = Math.min(interval * 2, maxInterval);
            }
        }
    }

    // ---------- plumbing ----------

    private async listPage(offset: number, limit: number): Promise<KmsKey[]> {
        const res = await this.call("list KMS keys", "GET", "/api/v2/keys", { query: { limit, offset } });
        const body = this.parseCollection(res, "list KMS keys");
        const schema = this.schemaFor("keySchema", keySchema);
        return (body.resources ?? []).map((r, i) => {
            const parsed = schema.safeParse(r);
            if (!parsed.success) throw this.invalid(res, "list KMS keys", `resources[${i}]: ${parsed.error.issues[0]?.message ?? "invalid"}`);
            return parsed.data as KmsKey;
        });
    }

    /** An authenticated KMS call with the instance headers. */
    async call(operation: string, method: HttpMethod, path: string, extra: {
        json?: unknown; query?: { [k: string]: QueryValue }; secrets?: ReadonlyArray<string | undefined>;
    } = {}): Promise<HttpResponse<unknown>> {
        const token = await this.tokenSource();
        const correlationId = cryptoRandomId();
        const headers: { [k: string]: string } = {
            Authorization: `Bearer ${token}`,
            "bluemix-instance": this.instanceId,
            "correlation-id": correlationId,
        };
        if (this.keyRing) headers["x-kms-key-ring"] = this.keyRing;
        if (extra.json !== undefined) headers["content-type"] = KMS_KEY_TYPE;
        return this.http.request({
            operation, method, url: `${this.endpoint}${path}`, query: extra.query, json: extra.json, headers,
            ...(extra.json !== undefined ? { contentType: KMS_KEY_TYPE } : {}),
            correlationId,
            secrets: [token, ...(extra.secrets ?? [])],
        });
    }

    private parseCollection(res: HttpResponse<unknown>, operation: string): { resources?: unknown[] } {
        const r = this.schemaFor("collectionSchema", collectionSchema).safeParse(res.body);
        if (!r.success) throw this.invalid(res, operation, r.error.issues[0]?.message ?? "not a KMS collection");
        return r.data as { resources?: unknown[] };
    }

    private firstKey(res: HttpResponse<unknown>, operation: string): KmsKey {
        const body = this.parseCollection(res, operation);
        const first = body.resources?.[0];
        const r = this.schemaFor("keySchema", keySchema).safeParse(first);
        if (!r.success) throw this.invalid(res, operation, `resources[0]: ${r.error.issues[0]?.message ?? "missing"}`);
        return r.data as KmsKey;
    }

    private invalid(res: HttpResponse<unknown>, operation: string, why: string): IbmCloudError {
        return new IbmCloudError({
            operation, status: res.status, code: "unexpected_response", ibmMessage: `KMS answered with an unexpected body: ${why}`,
            traceId: res.headers["correlation-id"] ?? res.correlationId,
        });
    }
}

function cryptoRandomId(): string {
    return crypto.randomUUID();
}

function enc(id: string): string {
    if (typeof id !== "string" || id === "") throw new Error("a key id is required");
    return encodeURIComponent(id);
}
