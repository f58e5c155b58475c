// IAM Identity: service IDs and their API keys. One half of the IAM client (IamClient delegates here; its
// methods carry the documentation). Calls go through IamCalls.
import { createdSince, createWithRecovery } from "./createRecovery";
import { isNotFound } from "./errors";
import { IamCalls, requireEtag } from "./iamCall";
import { pathSegment } from "./authenticatedCall";
import {
    ApiKey,
    apiKeySchema,
    CreateApiKeyBody,
    CreateServiceIdBody,
    ServiceIdEntity,
    serviceIamId,
    serviceIdSchema,
    UpdateApiKeyBody,
    UpdateServiceIdBody,
} from "./iamWire";

export interface EntityCreateOptions {
    /** `Entity-Lock: true`: created locked (cannot be changed or deleted until unlocked). */
    locked?: boolean;
}

export interface ApiKeyCreateOptions extends EntityCreateOptions {
    /** `Entity-Disable: true`: created disabled. */
    disabled?: boolean;
}

export class IamIdentity {
    constructor(private readonly base: IamCalls) {}

    async createServiceId(body: CreateServiceIdBody, options: EntityCreateOptions = {}): Promise<ServiceIdEntity> {
        const account_id = body.account_id ?? (await this.base.accountId());
        const schema = this.base.responses.schema("serviceIdSchema", serviceIdSchema);
        return createWithRecovery<ServiceIdEntity>({
            operation: "create service ID",
            leftover: `a service ID named ${JSON.stringify(body.name)}`,
            send: async () => {
                const res = await this.base.call("create service ID", "POST", "/v1/serviceids/", {
                    json: { ...body, account_id },
                    headers: options.locked ? { "Entity-Lock": "true" } : undefined,
                    secrets: [body.apikey?.apikey],
                });
                return this.base.responses.parse(res, schema, "create service ID") as ServiceIdEntity;
            },
            lookup: async (since) =>
                (await this.listServiceIds({ accountId: account_id, name: body.name })).filter(
                    (s) => (s.description ?? "") === (body.description ?? "") && createdSince(s.created_at, since),
                ),
            idOf: (s) => s.id,
        });
    }

    async listServiceIds(filter: { accountId?: string; name?: string } = {}): Promise<ServiceIdEntity[]> {
        const account_id = filter.accountId ?? (await this.base.accountId());
        const items = await this.base.listPages("list service IDs", "/v1/serviceids/", { account_id, name: filter.name }, "serviceids");
        const schema = this.base.responses.schema("serviceIdSchema", serviceIdSchema);
        const out = items.map((item, i) => this.base.responses.check(schema, item, "list service IDs", `serviceids[${i}]`) as ServiceIdEntity);
        // IBM's `name` filter is documented as exact; enforce it in case the server matches loosely.
        return filter.name === undefined ? out : out.filter((s) => s.name === filter.name);
    }

    async getServiceId(id: string): Promise<ServiceIdEntity> {
        const res = await this.base.call("get service ID", "GET", `/v1/serviceids/${pathSegment(id)}`);
        return this.base.responses.parse(res, this.base.responses.schema("serviceIdSchema", serviceIdSchema), "get service ID") as ServiceIdEntity;
    }

    async updateServiceId(id: string, etag: string, body: UpdateServiceIdBody): Promise<ServiceIdEntity> {
        requireEtag(etag, "update service ID");
        return this.base.replayedWrite(
            body,
            () => this.getServiceId(id),
            async () => {
                const res = await this.base.call("update service ID", "PUT", `/v1/serviceids/${pathSegment(id)}`, {
                    json: body,
                    headers: { "If-Match": etag },
                });
                return this.base.responses.parse(res, this.base.responses.schema("serviceIdSchema", serviceIdSchema), "update service ID") as ServiceIdEntity;
            },
        );
    }

    async deleteServiceId(id: string): Promise<boolean> {
        return this.base.deleteIdempotent("delete service ID", `/v1/serviceids/${pathSegment(id)}`);
    }

    async lockServiceId(id: string): Promise<void> {
        await this.base.call("lock service ID", "POST", `/v1/serviceids/${pathSegment(id)}/lock`, { idempotent: true });
    }

    async unlockServiceId(id: string): Promise<void> {
        await this.base.call("unlock service ID", "DELETE", `/v1/serviceids/${pathSegment(id)}/lock`);
    }

    async createApiKey(body: CreateApiKeyBody & { iam_id: string }, options: ApiKeyCreateOptions = {}): Promise<ApiKey> {
        const headers: { [k: string]: string } = {};
        if (options.locked) headers["Entity-Lock"] = "true";
        if (options.disabled) headers["Entity-Disable"] = "true";
        if (body.apikey) this.base.http.addSecret(body.apikey);
        const schema = this.base.responses.schema("apiKeySchema", apiKeySchema);
        const key = await createWithRecovery<ApiKey>({
            operation: "create API key",
            leftover: `an API key named ${JSON.stringify(body.name)} of ${body.iam_id}`,
            send: async () => {
                const res = await this.base.call("create API key", "POST", "/v1/apikeys", { json: body, headers, secrets: [body.apikey] });
                return this.base.responses.parse(res, schema, "create API key") as ApiKey;
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
        if (key.apikey) this.base.http.addSecret(key.apikey);
        return key;
    }

    async findApiKeyByValue(value: string): Promise<ApiKey | undefined> {
        try {
            return await this.getApiKeyDetailsByValue(value);
        } catch (err) {
            if (isNotFound(err)) return undefined;
            throw err;
        }
    }

    async listApiKeys(filter: { iamId: string; accountId?: string }): Promise<ApiKey[]> {
        const account_id = filter.accountId ?? (await this.base.accountId());
        const items = await this.base.listPages("list API keys", "/v1/apikeys", { account_id, iam_id: filter.iamId }, "apikeys");
        const schema = this.base.responses.schema("apiKeySchema", apiKeySchema);
        return items.map((item, i) => this.base.responses.check(schema, item, "list API keys", `apikeys[${i}]`) as ApiKey);
    }

    async getApiKey(id: string): Promise<ApiKey> {
        const res = await this.base.call("get API key", "GET", `/v1/apikeys/${pathSegment(id)}`);
        const key = this.base.responses.parse(res, this.base.responses.schema("apiKeySchema", apiKeySchema), "get API key") as ApiKey;
        if (key.apikey) this.base.http.addSecret(key.apikey);
        return key;
    }

    async getApiKeyDetailsByValue(value: string): Promise<ApiKey> {
        this.base.http.addSecret(value);
        const res = await this.base.call("get API key details", "GET", "/v1/apikeys/details", { headers: { "IAM-ApiKey": value }, secrets: [value] });
        return this.base.responses.parse(res, this.base.responses.schema("apiKeySchema", apiKeySchema), "get API key details") as ApiKey;
    }

    async updateApiKey(id: string, etag: string, body: UpdateApiKeyBody): Promise<ApiKey> {
        requireEtag(etag, "update API key");
        return this.base.replayedWrite(
            body,
            () => this.getApiKey(id),
            async () => {
                const res = await this.base.call("update API key", "PUT", `/v1/apikeys/${pathSegment(id)}`, { json: body, headers: { "If-Match": etag } });
                return this.base.responses.parse(res, this.base.responses.schema("apiKeySchema", apiKeySchema), "update API key") as ApiKey;
            },
        );
    }

    async deleteApiKey(id: string): Promise<boolean> {
        return this.base.deleteIdempotent("delete API key", `/v1/apikeys/${pathSegment(id)}`);
    }

    async lockApiKey(id: string): Promise<void> {
        await this.base.call("lock API key", "POST", `/v1/apikeys/${pathSegment(id)}/lock`, { idempotent: true });
    }

    async unlockApiKey(id: string): Promise<void> {
        await this.base.call("unlock API key", "DELETE", `/v1/apikeys/${pathSegment(id)}/lock`);
    }

    async disableApiKey(id: string): Promise<void> {
        await this.base.call("disable API key", "POST", `/v1/apikeys/${pathSegment(id)}/disable`, { idempotent: true });
    }

    async enableApiKey(id: string): Promise<void> {
        await this.base.call("enable API key", "DELETE", `/v1/apikeys/${pathSegment(id)}/disable`);
    }
}
