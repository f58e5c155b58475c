// IAM Identity (service IDs, API keys), Policy Management and roles: the client, one facade over two halves that
// mirror IBM's own API split (./iamIdentity, ./iamPolicies), which share one call path (./iamCall). Its wire types
// are in ./iamWire (re-exported here). Options that are not part of IBM's body (headers such as Entity-Lock,
// paging, the entity tag for If-Match) are camelCase method options.
import * as crypto from "crypto";
import { HttpClient, HttpClientOptions, HttpMethod, HttpResponse, QueryValue } from "./http";
import { isNotFound } from "./errors";
import { IamCalls } from "./iamCall";
import { ApiKeyCreateOptions, EntityCreateOptions, IamIdentity } from "./iamIdentity";
import { IamPolicies } from "./iamPolicies";
import { IamTokenManager, TokenInfo } from "./tokenManager";
import { CloudSettings, httpOptionsFromSettings } from "./config";
import {
    ApiKey,
    CreateApiKeyBody,
    CreateServiceIdBody,
    ListPoliciesFilter,
    Policy,
    PolicyBody,
    PolicyWithEtag,
    RoleList,
    ServiceIdEntity,
    UpdateApiKeyBody,
    UpdateServiceIdBody,
} from "./iamWire";

export { isNotFound };
export * from "./iamWire";
export { holds, requireEtag } from "./iamCall";
export type { ApiKeyCreateOptions, EntityCreateOptions } from "./iamIdentity";

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

export class IamClient {
    readonly tokens: IamTokenManager;
    readonly http: HttpClient;
    readonly iamEndpoint: string;
    // Composition, not inheritance: the halves are plain objects the facade holds.
    private readonly base: IamCalls;
    private readonly identity: IamIdentity;
    private readonly policies: IamPolicies;

    constructor(options: IamClientOptions) {
        this.tokens = options.tokenManager;
        this.http = options.httpClient ?? options.tokenManager.http;
        this.iamEndpoint = (options.iamEndpoint ?? options.tokenManager.iamEndpoint).replace(/\/+$/, "");
        this.base = new IamCalls(this.tokens, this.http, this.iamEndpoint, options.pageSize ?? 100);
        this.identity = new IamIdentity(this.base);
        this.policies = new IamPolicies(this.base);
    }

    /** The account of the configured API key (`account.bss` of its token). */
    accountId(): Promise<string> {
        return this.base.accountId();
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

    // ---------- service IDs and API keys (IAM Identity) ----------

    /**
     * Creates a service ID. When the answer is lost (`outcomeUnknown`), looks for a service ID of the same
     * name and description created since the first attempt: adopts exactly one, sends again if none.
     */
    createServiceId(body: CreateServiceIdBody, options: EntityCreateOptions = {}): Promise<ServiceIdEntity> {
        return this.identity.createServiceId(body, options);
    }

    /** All service IDs of the account (every page), optionally only those named exactly `name`. */
    listServiceIds(filter: { accountId?: string; name?: string } = {}): Promise<ServiceIdEntity[]> {
        return this.identity.listServiceIds(filter);
    }

    getServiceId(id: string): Promise<ServiceIdEntity> {
        return this.identity.getServiceId(id);
    }

    /** Updates with `If-Match: etag` (the service ID's `entity_tag`, or `*`). A stale tag fails with 412 (or 409). */
    updateServiceId(id: string, etag: string, body: UpdateServiceIdBody): Promise<ServiceIdEntity> {
        return this.identity.updateServiceId(id, etag, body);
    }

    /** Deletes the service ID (and its API keys). Returns false when it was already gone. */
    deleteServiceId(id: string): Promise<boolean> {
        return this.identity.deleteServiceId(id);
    }

    lockServiceId(id: string): Promise<void> {
        return this.identity.lockServiceId(id);
    }

    unlockServiceId(id: string): Promise<void> {
        return this.identity.unlockServiceId(id);
    }

    /**
     * Creates an API key. When the answer is lost (`outcomeUnknown`): with a caller-chosen `apikey` value
     * the key is looked up by that value, exactly; without one, a key of the same name and identity made
     * since the first attempt cannot be used (its value is gone with the answer), so it is deleted and
     * the create sent again. Either way no second key is left behind.
     */
    createApiKey(body: CreateApiKeyBody & { iam_id: string }, options: ApiKeyCreateOptions = {}): Promise<ApiKey> {
        return this.identity.createApiKey(body, options);
    }

    /** The key holding `value`, or undefined when there is none. */
    findApiKeyByValue(value: string): Promise<ApiKey | undefined> {
        return this.identity.findApiKeyByValue(value);
    }

    /** All API keys of one identity (every page). */
    listApiKeys(filter: { iamId: string; accountId?: string }): Promise<ApiKey[]> {
        return this.identity.listApiKeys(filter);
    }

    getApiKey(id: string): Promise<ApiKey> {
        return this.identity.getApiKey(id);
    }

    /** Looks a key up by its value (`IAM-ApiKey` header; the value never goes in a URL). */
    getApiKeyDetailsByValue(value: string): Promise<ApiKey> {
        return this.identity.getApiKeyDetailsByValue(value);
    }

    updateApiKey(id: string, etag: string, body: UpdateApiKeyBody): Promise<ApiKey> {
        return this.identity.updateApiKey(id, etag, body);
    }

    /** Returns false when the key was already gone. Tokens issued from it stay valid until they expire. */
    deleteApiKey(id: string): Promise<boolean> {
        return this.identity.deleteApiKey(id);
    }

    lockApiKey(id: string): Promise<void> {
        return this.identity.lockApiKey(id);
    }

    unlockApiKey(id: string): Promise<void> {
        return this.identity.unlockApiKey(id);
    }

    disableApiKey(id: string): Promise<void> {
        return this.identity.disableApiKey(id);
    }

    enableApiKey(id: string): Promise<void> {
        return this.identity.enableApiKey(id);
    }

    // ---------- policies and roles (Policy Management) ----------

    /**
     * Creates a policy. An identical active policy fails with 409 (`isPolicyConflict(err)`,
     * `err.conflictingPolicyId`). When the answer is lost (`outcomeUnknown`), looks for the policy
     * granting exactly `body` created since the first attempt: adopts it, sends again if there is none
     * (IBM takes no idempotency key); a 409 met after such a lost attempt is that attempt's own policy,
     * and is returned.
     */
    createPolicy(body: PolicyBody): Promise<PolicyWithEtag> {
        return this.policies.createPolicy(body);
    }

    /** The active policy granting exactly what `body` grants (created at or after `since`, when given), read with its ETag. */
    findIdenticalPolicy(body: PolicyBody, since?: number): Promise<PolicyWithEtag | undefined> {
        return this.policies.findIdenticalPolicy(body, since);
    }

    /** Every active policy granting exactly what `body` grants (created at or after `since`, when given). */
    listIdenticalPolicies(body: PolicyBody, since?: number): Promise<Policy[]> {
        return this.policies.listIdenticalPolicies(body, since);
    }

    listPolicies(filter: ListPoliciesFilter = {}): Promise<Policy[]> {
        return this.policies.listPolicies(filter);
    }

    getPolicy(id: string): Promise<PolicyWithEtag> {
        return this.policies.getPolicy(id);
    }

    /** Replaces the whole policy (`type` cannot change) with `If-Match: etag`. */
    replacePolicy(id: string, etag: string, body: PolicyBody): Promise<PolicyWithEtag> {
        return this.policies.replacePolicy(id, etag, body);
    }

    /** Returns false when the policy was already gone. */
    deletePolicy(id: string): Promise<boolean> {
        return this.policies.deletePolicy(id);
    }

    /** The roles that can be granted on a service (`GET /v2/roles`). */
    listRoles(args: { serviceName: string; accountId?: string }): Promise<RoleList> {
        return this.policies.listRoles(args);
    }

    // ---------- plumbing ----------

    /** An authenticated IAM call (a 401 gets one fresh token: see BearerAuth). */
    call<T = unknown>(
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
        return this.base.call<T>(operation, method, path, extra);
    }
}

/**
 * A fresh API key value shaped like IBM's own (44 characters of [A-Za-z0-9_-], 264 random bits). The
 * resources choose the value themselves so that a create whose answer is lost can be found again by it.
 */
export function newApiKeyValue(): string {
    return crypto.randomBytes(33).toString("base64url");
}
