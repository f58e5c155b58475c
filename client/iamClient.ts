// IAM Identity (service IDs, API keys), Policy Management and roles: the client. Its wire types are in
// ./iamWire (re-exported here). Options that are not part of IBM's body (headers such as Entity-Lock,
// paging, the entity tag for If-Match) are camelCase method options.
import * as crypto from "crypto";
import { HttpClient, HttpClientOptions, HttpMethod, HttpResponse, QueryValue } from "./http";
import { BearerAuth, collectPages, pathSegment, ResponseReader } from "./authenticatedCall";
import { IbmCloudError, isEtagMismatch, isNotFound, isPolicyConflict } from "./errors";
import { createdSince, createWithRecovery } from "./createRecovery";
import { IamTokenManager, TokenInfo } from "./tokenManager";
import { CloudSettings, httpOptionsFromSettings } from "./config";

export { isNotFound };
export * from "./iamWire";
import {
    ApiKey,
    apiKeySchema,
    CreateApiKeyBody,
    CreateServiceIdBody,
    ListPoliciesFilter,
    Policy,
    PolicyBody,
    policySchema,
    PolicyWithEtag,
    queryParamOf,
    Role,
    RoleList,
    roleSchema,
    sameGrant,
    ServiceIdEntity,
    serviceIamId,
    serviceIdSchema,
    UpdateApiKeyBody,
    UpdateServiceIdBody,
} from "./iamWire";

// ---------- options ----------

export interface IamClientOptions {
    tokenManager: IamTokenManager;
    /** Defaults to the token manager's endpoint. */
    iamEndpoint?: string;
    /** Defaults to the token manager's client. */
    httpClient?: HttpClient;
    /** Page size for list calls (IBM caps service IDs and keys at 100). */
    pageSize?: number;
}

export interface EntityCreateOptions {
    /** `Entity-Lock: true`: created locked (cannot be changed or deleted until unlocked). */
    locked?: boolean;
}

export interface ApiKeyCreateOptions extends EntityCreateOptions {
    /** `Entity-Disable: true`: created disabled. */
    disabled?: boolean;
}

export class IamClient {
    readonly tokens: IamTokenManager;
    readonly http: HttpClient;
    readonly iamEndpoint: string;
    private readonly pageSize: number;
    private readonly auth: BearerAuth;
    private readonly responses = new ResponseReader("IBM Cloud", "transaction-id");

    constructor(options: IamClientOptions) {
        this.tokens = options.tokenManager;
        this.http = options.httpClient ?? options.tokenManager.http;
        this.iamEndpoint = (options.iamEndpoint ?? options.tokenManager.iamEndpoint).replace(/\/+$/, "");
        this.pageSize = options.pageSize ?? 100;
        const tokens = options.tokenManager;
        this.auth = new BearerAuth({ tokenSource: () => tokens.getToken(), invalidateToken: () => tokens.invalidate() });
    }

    /** The account of the configured API key (`account.bss` of its token). */
    async accountId(): Promise<string> {
        const info = await this.tokens.getTokenInfo();
        if (!info.accountId) {
            throw new IbmCloudError({ operation: "read account id", status: 0, code: "no_account", ibmMessage: "the IAM token carries no account.bss claim" });
        }
        return info.accountId;
    }

    /** The decoded token of the configured API key (its iam_id, account). */
    tokenInfo(): Promise<TokenInfo> {
        return this.tokens.getTokenInfo();
    }

    /** A client (with its own token manager and HTTP client) for resolved settings. */
    static fromSettings(settings: CloudSettings, http?: HttpClientOptions): IamClient {
        const tokenManager = new IamTokenManager({
            apiKey: settings.apiKey,
            iamEndpoint: settings.iamEndpoint,
            http: { ...httpOptionsFromSettings(settings), ...http },
        });
        return new IamClient({ tokenManager });
    }

    // ---------- service IDs ----------

    /**
     * Creates a service ID. When the answer is lost (`outcomeUnknown`), looks for a service ID of the same
     * name and description created since the first attempt: adopts exactly one, sends again if none.
     */
    async createServiceId(body: CreateServiceIdBody, options: EntityCreateOptions = {}): Promise<ServiceIdEntity> {
        const account_id = body.account_id ?? (await this.accountId());
        const schema = this.responses.schema("serviceIdSchema", serviceIdSchema);
        return createWithRecovery<ServiceIdEntity>({
            operation: "create service ID",
            leftover: `a service ID named ${JSON.stringify(body.name)}`,
            send: async () => {
                const res = await this.call("create service ID", "POST", "/v1/serviceids/", {
                    json: { ...body, account_id },
                    headers: options.locked ? { "Entity-Lock": "true" } : undefined,
                    secrets: [body.apikey?.apikey],
                });
                return this.responses.parse(res, schema, "create service ID") as ServiceIdEntity;
            },
            lookup: async (since) =>
                (await this.listServiceIds({ accountId: account_id, name: body.name })).filter(
                    (s) => (s.description ?? "") === (body.description ?? "") && createdSince(s.created_at, since),
                ),
            idOf: (s) => s.id,
        });
    }

    /** All service IDs of the account (every page), optionally only those named exactly `name`. */
    async listServiceIds(filter: { accountId?: string; name?: string } = {}): Promise<ServiceIdEntity[]> {
        const account_id = filter.accountId ?? (await this.accountId());
        const items = await this.listPages("list service IDs", "/v1/serviceids/", { account_id, name: filter.name }, "serviceids");
        const schema = this.responses.schema("serviceIdSchema", serviceIdSchema);
        const out = items.map((item, i) => this.responses.check(schema, item, "list service IDs", `serviceids[${i}]`) as ServiceIdEntity);
        // IBM's `name` filter is documented as exact; enforce it in case the server matches loosely.
        return filter.name === undefined ? out : out.filter((s) => s.name === filter.name);
    }

    async getServiceId(id: string): Promise<ServiceIdEntity> {
        const res = await this.call("get service ID", "GET", `/v1/serviceids/${pathSegment(id)}`);
        return this.responses.parse(res, this.responses.schema("serviceIdSchema", serviceIdSchema), "get service ID") as ServiceIdEntity;
    }

    /** Updates with `If-Match: etag` (the service ID's `entity_tag`, or `*`). A stale tag fails with 412 (or 409). */
    async updateServiceId(id: string, etag: string, body: UpdateServiceIdBody): Promise<ServiceIdEntity> {
        requireEtag(etag, "update service ID");
        return this.replayedWrite(
            body,
            () => this.getServiceId(id),
            async () => {
                const res = await this.call("update service ID", "PUT", `/v1/serviceids/${pathSegment(id)}`, { json: body, headers: { "If-Match": etag } });
                return this.responses.parse(res, this.responses.schema("serviceIdSchema", serviceIdSchema), "update service ID") as ServiceIdEntity;
            },
        );
    }

    /** Deletes the service ID (and its API keys). Returns false when it was already gone. */
    async deleteServiceId(id: string): Promise<boolean> {
        return this.deleteIdempotent("delete service ID", `/v1/serviceids/${pathSegment(id)}`);
    }

    async lockServiceId(id: string): Promise<void> {
        await this.call("lock service ID", "POST", `/v1/serviceids/${pathSegment(id)}/lock`, { idempotent: true });
    }

    async unlockServiceId(id: string): Promise<void> {
        await this.call("unlock service ID", "DELETE", `/v1/serviceids/${pathSegment(id)}/lock`);
    }

    // ---------- API keys ----------

    /**
     * Creates an API key. When the answer is lost (`outcomeUnknown`): with a caller-chosen `apikey` value
     * the key is looked up by that value, exactly; without one, a key of the same name and identity made
     * since the first attempt cannot be used (its value is gone with the answer), so it is deleted and
     * the create sent again. Either way no second key is left behind.
     */
    async createApiKey(body: CreateApiKeyBody & { iam_id: string }, options: ApiKeyCreateOptions = {}): Promise<ApiKey> {
        const headers: { [k: string]: string } = {};
        if (options.locked) headers["Entity-Lock"] = "true";
        if (options.disabled) headers["Entity-Disable"] = "true";
        if (body.apikey) this.http.addSecret(body.apikey);
        const schema = this.responses.schema("apiKeySchema", apiKeySchema);
        const key = await createWithRecovery<ApiKey>({
            operation: "create API key",
            leftover: `an API key named ${JSON.stringify(body.name)} of ${body.iam_id}`,
            send: async () => {
                const res = await this.call("create API key", "POST", "/v1/apikeys", { json: body, headers, secrets: [body.apikey] });
                return this.responses.parse(res, schema, "create API key") as ApiKey;
            },
            lookup: async (since) => {
                if (body.apikey) {
                    const found = await this.findApiKeyByValue(body.apikey);
                    // The details call does not return the value; we hold it.
                    return found && serviceIamId(found.iam_id) === serviceIamId(body.iam_id) ? [{ ...found, apikey: body.apikey }] : [];
                }
                const made = (await this.listApiKeys({ iamId: serviceIamId(body.iam_id), accountId: body.account_id })).filter(
                    (k) => k.name === body.name && createdSince(k.created_at, since),
                );
                for (const k of made) {
                    if (k.locked) await this.unlockApiKey(k.id);
                    await this.deleteApiKey(k.id);
                }
                return [];
            },
            idOf: (k) => k.id,
        });
        if (key.apikey) this.http.addSecret(key.apikey);
        return key;
    }

    /** The key holding `value`, or undefined when there is none. */
    async findApiKeyByValue(value: string): Promise<ApiKey | undefined> {
        try {
            return await this.getApiKeyDetailsByValue(value);
        } catch (err) {
            if (isNotFound(err)) return undefined;
            throw err;
        }
    }

    /** All API keys of one identity (every page). */
    async listApiKeys(filter: { iamId: string; accountId?: string }): Promise<ApiKey[]> {
        const account_id = filter.accountId ?? (await this.accountId());
        const items = await this.listPages("list API keys", "/v1/apikeys", { account_id, iam_id: filter.iamId }, "apikeys");
        const schema = this.responses.schema("apiKeySchema", apiKeySchema);
        return items.map((item, i) => this.responses.check(schema, item, "list API keys", `apikeys[${i}]`) as ApiKey);
    }

    async getApiKey(id: string): Promise<ApiKey> {
        const res = await this.call("get API key", "GET", `/v1/apikeys/${pathSegment(id)}`);
        const key = this.responses.parse(res, this.responses.schema("apiKeySchema", apiKeySchema), "get API key") as ApiKey;
        if (key.apikey) this.http.addSecret(key.apikey);
        return key;
    }

    /** Looks a key up by its value (`IAM-ApiKey` header; the value never goes in a URL). */
    async getApiKeyDetailsByValue(value: string): Promise<ApiKey> {
        this.http.addSecret(value);
        const res = await this.call("get API key details", "GET", "/v1/apikeys/details", { headers: { "IAM-ApiKey": value }, secrets: [value] });
        return this.responses.parse(res, this.responses.schema("apiKeySchema", apiKeySchema), "get API key details") as ApiKey;
    }

    async updateApiKey(id: string, etag: string, body: UpdateApiKeyBody): Promise<ApiKey> {
        requireEtag(etag, "update API key");
        return this.replayedWrite(
            body,
            () => this.getApiKey(id),
            async () => {
                const res = await this.call("update API key", "PUT", `/v1/apikeys/${pathSegment(id)}`, { json: body, headers: { "If-Match": etag } });
                return this.responses.parse(res, this.responses.schema("apiKeySchema", apiKeySchema), "update API key") as ApiKey;
            },
        );
    }

    /** Returns false when the key was already gone. Tokens issued from it stay valid until they expire. */
    async deleteApiKey(id: string): Promise<boolean> {
        return this.deleteIdempotent("delete API key", `/v1/apikeys/${pathSegment(id)}`);
    }

    async lockApiKey(id: string): Promise<void> {
        await this.call("lock API key", "POST", `/v1/apikeys/${pathSegment(id)}/lock`, { idempotent: true });
    }

    async unlockApiKey(id: string): Promise<void> {
        await this.call("unlock API key", "DELETE", `/v1/apikeys/${pathSegment(id)}/lock`);
    }

    async disableApiKey(id: string): Promise<void> {
        await this.call("disable API key", "POST", `/v1/apikeys/${pathSegment(id)}/disable`, { idempotent: true });
    }

    async enableApiKey(id: string): Promise<void> {
        await this.call("enable API key", "DELETE", `/v1/apikeys/${pathSegment(id)}/disable`);
    }

    // ---------- policies ----------

    /**
     * Creates a policy. An identical active policy fails with 409 (`isPolicyConflict(err)`,
     * `err.conflictingPolicyId`). When the answer is lost (`outcomeUnknown`), looks for the policy
     * granting exactly `body` created since the first attempt: adopts it, sends again if there is none
     * (IBM takes no idempotency key); a 409 met after such a lost attempt is that attempt's own policy,
     * and is returned.
     */
    async createPolicy(body: PolicyBody): Promise<PolicyWithEtag> {
        const operation = `create ${body.type} policy`;
        let lostAttemptSince: number | undefined;
        try {
            return await createWithRecovery<PolicyWithEtag>({
                operation,
                leftover: `an ${body.type} policy with this one's subject, resource and roles`,
                send: async () => this.withEtag(await this.call(operation, "POST", "/v1/policies", { json: body }), operation),
                lookup: async (since) => {
                    lostAttemptSince ??= since;
                    const found = await this.findIdenticalPolicy(body, since);
                    return found ? [found] : [];
                },
                idOf: (p) => p.policy.id,
            });
        } catch (err) {
            if (lostAttemptSince === undefined || !isPolicyConflict(err)) throw err;
            const ours = await this.findIdenticalPolicy(body, lostAttemptSince);
            if (!ours || (err.conflictingPolicyId !== undefined && err.conflictingPolicyId !== ours.policy.id)) throw err;
            return ours;
        }
    }

    /** The active policy granting exactly what `body` grants (created at or after `since`, when given), read with its ETag. */
    async findIdenticalPolicy(body: PolicyBody, since?: number): Promise<PolicyWithEtag | undefined> {
        const match = (await this.listIdenticalPolicies(body, since))[0];
        return match ? this.getPolicy(match.id) : undefined;
    }

    /** Every active policy granting exactly what `body` grants (created at or after `since`, when given). */
    async listIdenticalPolicies(body: PolicyBody, since?: number): Promise<Policy[]> {
        const subject = body.subjects[0]?.attributes ?? [];
        const iamId = subject.find((a) => a.name === "iam_id")?.value;
        const accountId = String(body.resources[0]?.attributes.find((a) => a.name === "accountId")?.value ?? (await this.accountId()));
        const candidates = await this.listPolicies({ accountId, type: body.type, ...(iamId !== undefined ? { iamId: String(iamId) } : {}) });
        return candidates.filter((p) => (p.state ?? "active") === "active" && sameGrant(p, body) && (since === undefined || createdSince(p.created_at, since)));
    }

    async listPolicies(filter: ListPoliciesFilter = {}): Promise<Policy[]> {
        const account_id = filter.accountId ?? (await this.accountId());
        const query: { [k: string]: QueryValue } = {
            account_id,
            iam_id: filter.iamId,
            type: filter.type,
            service_type: filter.serviceType,
            service_name: filter.serviceName,
            state: filter.state,
            sort: filter.sort,
        };
        const schema = this.responses.schema("policySchema", policySchema);
        return collectPages(undefined as string | undefined, async (start) => {
            const res = await this.call<Record<string, unknown>>("list access policies", "GET", "/v1/policies", {
                query: { ...query, limit: Math.min(this.pageSize, 100), start },
            });
            const body = res.body ?? {};
            const raw = Array.isArray(body.policies) ? body.policies : [];
            const items = raw.map((item, i) => this.responses.check(schema, item, "list access policies", `policies[${i}]`) as Policy);
            const next = body.next as { href?: unknown; start?: unknown } | string | undefined;
            const nextStart =
                typeof next === "string" ? queryParamOf(next, "start") : typeof next?.start === "string" ? next.start : queryParamOf(next?.href, "start");
            return { items, next: nextStart || undefined };
        });
    }

    async getPolicy(id: string): Promise<PolicyWithEtag> {
        const res = await this.call("get access policy", "GET", `/v1/policies/${pathSegment(id)}`);
        return this.withEtag(res, "get access policy");
    }

    /** Replaces the whole policy (`type` cannot change) with `If-Match: etag`. */
    async replacePolicy(id: string, etag: string, body: PolicyBody): Promise<PolicyWithEtag> {
        requireEtag(etag, "replace access policy");
        return this.replayedWrite(
            body,
            () => this.getPolicy(id),
            async () => {
                const res = await this.call("replace access policy", "PUT", `/v1/policies/${pathSegment(id)}`, { json: body, headers: { "If-Match": etag } });
                return this.withEtag(res, "replace access policy");
            },
            (p) => p.policy,
        );
    }

    /** Returns false when the policy was already gone. */
    async deletePolicy(id: string): Promise<boolean> {
        return this.deleteIdempotent("delete access policy", `/v1/policies/${pathSegment(id)}`);
    }

    // ---------- roles ----------

    /** The roles that can be granted on a service (`GET /v2/roles`). */
    async listRoles(args: { serviceName: string; accountId?: string }): Promise<RoleList> {
        const account_id = args.accountId ?? (await this.accountId());
        const res = await this.call<Record<string, unknown>>("list roles", "GET", "/v2/roles", { query: { service_name: args.serviceName, account_id } });
        const schema = this.responses.schema("roleSchema", roleSchema);
        const read = (key: keyof RoleList): Role[] => {
            const arr = res.body?.[key];
            return Array.isArray(arr) ? arr.map((r, i) => this.responses.check(schema, r, "list roles", `${key}[${i}]`) as Role) : [];
        };
        return { custom_roles: read("custom_roles"), service_roles: read("service_roles"), system_roles: read("system_roles") };
    }

    // ---------- plumbing ----------

    /** An authenticated IAM call (a 401 gets one fresh token: see BearerAuth). */
    async call<T = unknown>(
        operation: string,
        method: HttpMethod,
        path: string,
        extra: {
            json?: unknown;
            query?: { [k: string]: QueryValue };
            headers?: { [k: string]: string } | undefined;
            idempotent?: boolean;
            secrets?: ReadonlyArray<string | undefined>;
        } = {},
    ): Promise<HttpResponse<T>> {
        return this.auth.send<T>(this.http, () => ({
            operation,
            method,
            url: `${this.iamEndpoint}${path}`,
            query: extra.query,
            json: extra.json,
            headers: { ...(extra.headers ?? {}) },
            ...(extra.idempotent !== undefined ? { idempotent: extra.idempotent } : {}),
            secrets: extra.secrets ?? [],
        }));
    }

    private async deleteIdempotent(operation: string, path: string): Promise<boolean> {
        try {
            await this.call(operation, "DELETE", path);
            return true;
        } catch (err) {
            if (isNotFound(err)) return false;
            throw err;
        }
    }

    private async listPages(operation: string, path: string, query: { [k: string]: QueryValue }, field: string): Promise<unknown[]> {
        return collectPages(undefined as string | undefined, async (pagetoken) => {
            const res = await this.call<Record<string, unknown>>(operation, "GET", path, {
                query: { ...query, pagesize: Math.min(this.pageSize, 100), pagetoken },
            });
            const items = res.body?.[field];
            if (!Array.isArray(items)) throw this.responses.invalid(res, operation, `the response has no ${field} list`);
            return { items, next: queryParamOf(res.body?.next, "pagetoken") || undefined };
        });
    }

    /**
     * An If-Match write the HTTP client replayed after losing the first answer can meet 412 because the
     * first attempt WAS applied (the entity tag moved on). Then the live object already holds `body`:
     * that is success, read back. If it holds something else, someone else changed it: the 412 stands.
     */
    private async replayedWrite<T>(body: object, read: () => Promise<T>, write: () => Promise<T>, view: (t: T) => unknown = (t) => t): Promise<T> {
        try {
            return await write();
        } catch (err) {
            if (!(err instanceof IbmCloudError) || !err.outcomeUnknown || !isEtagMismatch(err)) throw err;
            const live = await read();
            if (holds(view(live), body)) return live;
            throw err;
        }
    }

    private withEtag(res: HttpResponse<unknown>, operation: string): PolicyWithEtag {
        const policy = this.responses.parse(res, this.responses.schema("policySchema", policySchema), operation) as Policy;
        return { policy, etag: res.headers["etag"] ?? "" };
    }
}

export function requireEtag(etag: string, operation: string): void {
    if (typeof etag !== "string" || etag === "") {
        throw new IbmCloudError({
            operation,
            status: 0,
            code: "missing_etag",
            ibmMessage: 'an entity tag is required for If-Match (read the object first, or pass "*")',
        });
    }
}

/**
 * Does `live` hold what `wanted` asked for? Every field of `wanted` equal in `live` (which may have more);
 * arrays match element for element in any order (IBM may reorder CRNs, roles, attributes).
 */
export function holds(live: unknown, wanted: unknown): boolean {
    if (Array.isArray(wanted)) {
        if (wanted.length === 0 && (live === undefined || live === null)) return true; // IBM omits empty lists
        if (!Array.isArray(live) || live.length !== wanted.length) return false;
        const left = [...live];
        return wanted.every((w) => {
            const i = left.findIndex((l) => holds(l, w));
            if (i < 0) return false;
            left.splice(i, 1);
            return true;
        });
    }
    if (wanted !== null && typeof wanted === "object") {
        if (live === null || typeof live !== "object" || Array.isArray(live)) return false;
        return Object.entries(wanted as Record<string, unknown>).every(([k, v]) => v === undefined || holds((live as Record<string, unknown>)[k], v));
    }
    return live === wanted || ((live === undefined || live === null) && wanted === "");
}

/**
 * A fresh API key value shaped like IBM's own (44 characters of [A-Za-z0-9_-], 264 random bits). The
 * resources choose the value themselves so that a create whose answer is lost can be found again by it.
 */
export function newApiKeyValue(): string {
    return crypto.randomBytes(33).toString("base64url");
}
