// IAM Identity v1 API keys: create (also inline in a new service ID), list, get, details, update, delete,
// lock and disable, and the expiry rules.
import * as crypto from "crypto";
import { z } from "zod";
import type { StoreContext } from "../core/context";
import { IamError } from "../core/errors";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { ApiKeyRecord, generateApiKeyValue, hashApiKey, identityTime, parseIdentityTime, randomHex, StateStore } from "../core/state";
import {
    boolHeader,
    bumpTag,
    caller,
    checkIfMatch,
    entityTag,
    expiresAtField,
    fields,
    identityErrors as E,
    listAccount,
    paginate,
    parseBody,
    requireIdentityAction,
    sortBy,
    withHistory,
} from "./identityCommon";

/** IBM deletes a key for good once both its expiry and its last change are this far in the past. */
const PURGE_AFTER_MS = 90 * 24 * 3600 * 1000;

// rendering -----------------------------------------------------------------------------

/** `value` is only ever passed by the create call; a stored value is shown to get/update. */
export function renderApiKey(k: ApiKeyRecord, value?: string, withDetails = false): Record<string, unknown> {
    const o: Record<string, unknown> = {
        id: k.id,
        entity_tag: entityTag(k),
        crn: `crn:v1:bluemix:public:iam-identity::a/${k.accountId}::apikey:${k.id}`,
        locked: k.locked,
        disabled: k.disabled,
        created_at: k.createdAt,
        created_by: k.createdBy,
        modified_at: k.modifiedAt,
        support_sessions: k.supportSessions,
        action_when_leaked: k.actionWhenLeaked,
        name: k.name,
    };
    if (k.description !== undefined) o.description = k.description;
    o.iam_id = k.iamId;
    o.account_id = k.accountId;
    if (k.expiresAt) o.expires_at = k.expiresAt;
    if (withDetails) {
        o.leaked = false;
        o.expires_at ??= null;
    }
    const shown = value ?? k.storedValue;
    if (shown !== undefined) o.apikey = shown;
    return o;
}

/** The API-key view of the admin API: never a value, never a hash. */
export function redactedApiKey(k: ApiKeyRecord): Record<string, unknown> {
    const o = renderApiKey(k);
    delete o.apikey;
    o.store_value = k.storeValue;
    return o;
}

// expiry ----------------------------------------------------------------------------------

/**
 * IBM: "An API key will be permanently and irrevocably deleted when both the expires_at and modified_at
 * timestamps are more than ninety (90) days in the past". Applied lazily, before every identity or token call.
 */
export function purgeLongExpiredKeys(store: StateStore, now = Date.now()): void {
    const old = (t: string | undefined) => {
        const d = t ? parseIdentityTime(t) : undefined;
        return d !== undefined && now - d.getTime() > PURGE_AFTER_MS;
    };
    const before = store.data.apiKeys.length;
    store.data.apiKeys = store.data.apiKeys.filter((k) => !(old(k.expiresAt) && old(k.modifiedAt)));
    if (store.data.apiKeys.length !== before) store.save();
}

// creation, shared by POST /v1/apikeys and the inline key of POST /v1/serviceids ----------------

const apiKeyInput = z.object({
    name: fields.name(),
    description: fields.text("description"),
    apikey: fields.text("apikey", 128),
    store_value: fields.bool("store_value"),
    support_sessions: fields.bool("support_sessions"),
    action_when_leaked: fields.leakAction(),
    expires_at: expiresAtField,
});
export type ApiKeyInput = z.output<typeof apiKeyInput>;

/** The schema of an inline `apikey` object of a service-ID create. */
export const inlineApiKey = z.object(apiKeyInput.shape, { error: "The field 'apikey' must be an object." });

/** Checks that depend on the state (value uniqueness) or on whose key it is (stored values: service IDs only). */
export function checkApiKeyInput(emu: StoreContext, input: ApiKeyInput, forServiceId: boolean): void {
    const value = input.apikey;
    if (value !== undefined) {
        if (value.length < 32 || /\s/.test(value)) throw E.invalid("The field 'apikey' must have at least 32 characters and no whitespace.");
        if (emu.store.apiKeyByValue(value)) throw E.conflict("The provided API key value is already in use.");
    }
    if (input.store_value && !forServiceId) throw E.invalid("The field 'store_value' is only supported for API keys of service IDs.");
}

export interface KeyFlags {
    locked: boolean;
    disabled: boolean;
}

export function createApiKey(
    emu: StoreContext,
    createdBy: string,
    owner: { iamId: string; accountId: string },
    input: ApiKeyInput,
    flags: KeyFlags,
): { record: ApiKeyRecord; value: string } {
    const value = input.apikey ?? generateApiKeyValue();
    const now = identityTime();
    const storeValue = input.store_value ?? false;
    const record: ApiKeyRecord = {
        id: `ApiKey-${crypto.randomUUID()}`,
        iamId: owner.iamId,
        accountId: owner.accountId,
        name: input.name,
        locked: flags.locked,
        disabled: flags.disabled,
        createdAt: now,
        modifiedAt: now,
        createdBy,
        supportSessions: input.support_sessions ?? false,
        actionWhenLeaked: input.action_when_leaked ?? "none",
        storeValue,
        valueHash: hashApiKey(value),
        etagVersion: 1,
        etagHash: randomHex(16),
    };
    if (input.description !== undefined) record.description = input.description;
    if (input.expires_at) record.expiresAt = input.expires_at;
    if (storeValue) record.storedValue = value;
    emu.store.data.apiKeys.push(record);
    return { record, value };
}

// routes ------------------------------------------------------------------------------------

const createBody = apiKeyInput.extend({
    iam_id: z.string({ error: "The field 'iam_id' is required." }).min(1, { error: "The field 'iam_id' is required." }),
    account_id: fields.text("account_id"),
});

const updateBody = z.object({
    name: fields.name().optional(),
    description: fields.text("description"),
    support_sessions: fields.bool("support_sessions"),
    action_when_leaked: fields.leakAction(),
    expires_at: expiresAtField,
});

export function apiKeyHandlers(emu: StoreContext) {
    const keyOr404 = (ctx: Ctx, id: string): ApiKeyRecord => {
        purgeLongExpiredKeys(emu.store);
        const k = emu.store.apiKeyById(id);
        // another account's key is indistinguishable from a missing one
        if (!k || k.accountId !== caller(ctx).accountId) throw E.notFound("API key", id);
        return k;
    };
    /** Writes on a user's key are the user's own business; on a service ID's key they need IAM Identity access. */
    const requireKeyWrite = (ctx: Ctx, k: ApiKeyRecord, action: string) => {
        if (k.iamId.startsWith("IBMid-")) {
            if (caller(ctx).iamId !== k.iamId) throw E.forbidden();
            return;
        }
        requireIdentityAction(emu, ctx, action, k.accountId);
    };

    const create: Handler = (ctx) => {
        const b = parseBody(ctx, createBody);
        const me = caller(ctx);
        let owner: { iamId: string; accountId: string };
        const isUser = b.iam_id.startsWith("IBMid-");
        if (isUser) {
            if (b.iam_id !== emu.store.data.owner.iamId) throw E.notFound("User", b.iam_id);
            if (me.iamId !== b.iam_id) throw E.forbidden();
            owner = { iamId: b.iam_id, accountId: emu.store.data.accountId };
        } else {
            const s = emu.store.serviceIdByIamId(b.iam_id);
            if (!s || s.accountId !== me.accountId) throw E.notFound("Service ID", b.iam_id);
            owner = { iamId: s.iamId, accountId: s.accountId };
        }
        if (b.account_id !== undefined && b.account_id !== owner.accountId) throw E.invalid("The field 'account_id' does not match the account of the iam_id.");
        checkApiKeyInput(emu, b, !isUser);
        if (!isUser) requireIdentityAction(emu, ctx, "iam-identity.apikey.create", owner.accountId);
        const flags = { locked: boolHeader(ctx, "entity-lock"), disabled: boolHeader(ctx, "entity-disable") };
        const { record, value } = createApiKey(emu, me.iamId, owner, b, flags);
        emu.store.save();
        ctx.send(201, renderApiKey(record, value));
    };

    const list: Handler = (ctx) => {
        purgeLongExpiredKeys(emu.store);
        const me = caller(ctx);
        const accountId = listAccount(ctx, false);
        const scope = ctx.query.get("scope") ?? "entity";
        if (scope !== "entity" && scope !== "account") throw E.invalid("The parameter 'scope' must be 'entity' or 'account'.");
        const type = ctx.query.get("type");
        if (type !== null && type !== "user" && type !== "serviceid") throw E.invalid("The parameter 'type' must be 'user' or 'serviceid'.");
        const rawIam = ctx.query.get("iam_id");
        const iamId = rawIam?.startsWith("ServiceId-") ? `iam-${rawIam}` : rawIam;
        let all = emu.store.data.apiKeys.filter((k) => k.accountId === accountId);
        if (iamId) all = all.filter((k) => k.iamId === iamId);
        else if (scope === "entity") all = all.filter((k) => k.iamId === me.iamId);
        if (type === "user") all = all.filter((k) => k.iamId.startsWith("IBMid-"));
        if (type === "serviceid") all = all.filter((k) => !k.iamId.startsWith("IBMid-"));
        all = sortBy(ctx, all, { name: (k) => k.name, created_at: (k) => k.createdAt, modified_at: (k) => k.modifiedAt });
        const page = paginate(ctx, all, "/v1/apikeys");
        ctx.send(200, { ...page.envelope, apikeys: page.items.map((k) => withHistory(ctx, renderApiKey(k))) });
    };

    // before /v1/apikeys/:id so "details" is not taken for an id
    const details: Handler = (ctx) => {
        purgeLongExpiredKeys(emu.store);
        const value = ctx.header("iam-apikey");
        if (!value) throw E.invalid("The header 'IAM-ApiKey' is required.");
        const k = emu.store.apiKeyByValue(value);
        if (!k || k.accountId !== caller(ctx).accountId) throw new IamError(404, "not_found", "API key not found.", "BXNIM0102E");
        ctx.send(200, withHistory(ctx, renderApiKey(k, undefined, true)));
    };

    const get: Handler = (ctx) => {
        ctx.send(200, withHistory(ctx, renderApiKey(keyOr404(ctx, ctx.params.id))));
    };

    const update: Handler = (ctx) => {
        const k = keyOr404(ctx, ctx.params.id);
        requireKeyWrite(ctx, k, "iam-identity.apikey.update");
        if (k.locked) throw E.locked(`API key '${k.id}' is locked and cannot be updated.`);
        checkIfMatch(ctx, entityTag(k));
        const b = parseBody(ctx, updateBody);
        if (b.name !== undefined) k.name = b.name;
        if (b.description === "") delete k.description;
        else if (b.description !== undefined) k.description = b.description;
        if (b.support_sessions !== undefined) k.supportSessions = b.support_sessions;
        if (b.action_when_leaked !== undefined) k.actionWhenLeaked = b.action_when_leaked;
        // `""` or `null` clears the expiry; a past date expires the key at once (IBM accepts it)
        if (b.expires_at) k.expiresAt = b.expires_at;
        else if (b.expires_at === "" || b.expires_at === null) delete k.expiresAt;
        bumpTag(k);
        emu.store.save();
        ctx.send(200, renderApiKey(k));
    };

    const remove: Handler = (ctx) => {
        const k = keyOr404(ctx, ctx.params.id);
        requireKeyWrite(ctx, k, "iam-identity.apikey.delete");
        if (k.locked) throw E.locked(`API key '${k.id}' is locked and cannot be deleted.`);
        emu.store.data.apiKeys = emu.store.data.apiKeys.filter((x) => x.id !== k.id);
        emu.store.save();
        ctx.send(204);
    };

    const setKeyFlag = (flag: "locked" | "disabled", on: boolean) => (ctx: Ctx) => {
        const k = keyOr404(ctx, ctx.params.id);
        requireKeyWrite(ctx, k, "iam-identity.apikey.update");
        k[flag] = on;
        emu.store.save();
        ctx.send(204);
    };
    const lock = setKeyFlag("locked", true);
    const unlock = setKeyFlag("locked", false);
    const disable = setKeyFlag("disabled", true);
    const enable = setKeyFlag("disabled", false);

    return { create, list, details, get, update, remove, lock, unlock, disable, enable };
}
