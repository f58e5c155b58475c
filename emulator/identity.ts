// IAM Identity v1: service IDs and API keys, with IBM's entity tags, locks and error codes.
import * as crypto from "crypto";
import { may } from "./access";
import type { Emulator } from "./app";
import { Caller, Ctx, IamError, Router } from "./server";
import { ApiKeyRecord, ServiceIdRecord, generateApiKeyValue, hashApiKey, identityTime, parseIdentityTime, randomHex } from "./state";

// IAM Identity error catalogue. The BXNIM numbers other than BXNIM0308E are the emulator's choice.
export const identityErrors = {
    invalid: (message: string) => new IamError(400, "invalid_request", message, "BXNIM0509E"),
    forbidden: () => new IamError(403, "insufficent_permissions", "You are not authorized to perform this action.", "BXNIM0513E"),
    notFound: (what: string, id: string) => new IamError(404, "not_found", `${what} with id '${id}' not found.`, "BXNIM0102E"),
    locked: (message: string) => new IamError(409, "entity_locked", message, "BXNIM0526E"),
    conflict: (message: string) => new IamError(409, "conflict", message, "BXNIM0520E"),
    etagMismatch: () =>
        new IamError(412, "entity_tag_mismatch", "The If-Match value does not match the current entity tag; read the entity again and retry.", "BXNIM0512E"),
};
const E = identityErrors;

const MAX_NAME = 1000;
const MAX_DESCRIPTION = 1000;
const MAX_PAGESIZE = 100;
const DEFAULT_PAGESIZE = 20;

export function entityTag(r: { etagVersion: number; etagHash: string }): string {
    return `${r.etagVersion}-${r.etagHash}`;
}

function bumpTag(r: { etagVersion: number; etagHash: string; modifiedAt: string }): void {
    r.etagVersion += 1;
    r.etagHash = randomHex(16);
    r.modifiedAt = identityTime();
}

function boolHeader(ctx: Ctx, name: string): boolean {
    return (ctx.header(name) ?? "").toLowerCase() === "true";
}

/** Strips quotes and a weak prefix so `"1-abc"`, `W/"1-abc"` and `1-abc` compare equal. */
export function ifMatchValue(ctx: Ctx): string | undefined {
    const v = ctx.header("if-match");
    return v === undefined ? undefined : v.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

function checkIfMatch(ctx: Ctx, current: string): void {
    const v = ifMatchValue(ctx);
    if (v === undefined || v === "") throw E.invalid("The If-Match header is required: pass the entity_tag of the entity or '*'.");
    if (v !== "*" && v !== current) throw E.etagMismatch();
}

function requireName(v: unknown, field = "name"): string {
    if (typeof v !== "string" || v.trim() === "") throw E.invalid(`The field '${field}' is required and must not be empty.`);
    if (v.length > MAX_NAME) throw E.invalid(`The field '${field}' must not be longer than ${MAX_NAME} characters.`);
    return v;
}

function optionalString(v: unknown, field: string, max = MAX_DESCRIPTION): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw E.invalid(`The field '${field}' must be a string.`);
    if (v.length > max) throw E.invalid(`The field '${field}' must not be longer than ${max} characters.`);
    return v;
}

function optionalBool(v: unknown, field: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") throw E.invalid(`The field '${field}' must be a boolean.`);
    return v;
}

function stringArray(v: unknown, field: string): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw E.invalid(`The field '${field}' must be an array of strings.`);
    return v as string[];
}

function objectBody(ctx: Ctx): Record<string, unknown> {
    let body: unknown;
    try {
        body = ctx.json();
    } catch (e) {
        throw E.invalid(e instanceof Error ? e.message : "invalid body");
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) throw E.invalid("The request body must be a JSON object.");
    return body as Record<string, unknown>;
}

const LEAK_ACTIONS = ["none", "disable", "delete"] as const;

function expiresAtField(v: unknown): string | undefined {
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string" || !parseIdentityTime(v)) {
        throw E.invalid("The field 'expires_at' must have the format yyyy-MM-ddTHH:mm+0000.");
    }
    if (parseIdentityTime(v)!.getTime() <= Date.now()) throw E.invalid("The field 'expires_at' must be in the future.");
    return v;
}

// paging ----------------------------------------------------------------------

interface Page<T> {
    items: T[];
    envelope: Record<string, unknown>;
}

/** IBM's identity paging: `pagetoken` is opaque and read back from the `next` URL. */
function paginate<T>(ctx: Ctx, all: T[], basePath: string): Page<T> {
    const rawSize = ctx.query.get("pagesize");
    const pagesize = rawSize === null ? DEFAULT_PAGESIZE : Number(rawSize);
    if (!Number.isInteger(pagesize) || pagesize < 1 || pagesize > MAX_PAGESIZE) {
        throw E.invalid(`The parameter 'pagesize' must be an integer between 1 and ${MAX_PAGESIZE}.`);
    }
    let offset = 0;
    const token = ctx.query.get("pagetoken");
    if (token) {
        const decoded = /^o:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
        if (!decoded) throw E.invalid("The parameter 'pagetoken' is invalid.");
        offset = Number(decoded[1]);
    }
    const link = (o: number | undefined) => {
        const q = new URLSearchParams(ctx.query);
        q.delete("pagetoken");
        q.set("pagesize", String(pagesize));
        if (o !== undefined) q.set("pagetoken", Buffer.from(`o:${o}`).toString("base64url"));
        return `${ctx.origin}${basePath}?${q.toString()}`;
    };
    const items = all.slice(offset, offset + pagesize);
    const envelope: Record<string, unknown> = { offset, limit: pagesize, first: link(undefined) };
    if (offset > 0) envelope.previous = link(Math.max(0, offset - pagesize));
    if (offset + pagesize < all.length) envelope.next = link(offset + pagesize);
    return { items, envelope };
}

function sortBy<T>(ctx: Ctx, items: T[], fields: Record<string, (x: T) => string>): T[] {
    const sort = ctx.query.get("sort");
    const order = (ctx.query.get("order") ?? "asc").toLowerCase();
    if (order !== "asc" && order !== "desc") throw E.invalid("The parameter 'order' must be 'asc' or 'desc'.");
    if (!sort) return order === "desc" ? [...items].reverse() : items;
    const key = fields[sort];
    if (!key) throw E.invalid(`The parameter 'sort' must be one of ${Object.keys(fields).join(", ")}.`);
    const sorted = [...items].sort((a, b) => key(a).localeCompare(key(b)));
    return order === "desc" ? sorted.reverse() : sorted;
}

// rendering -------------------------------------------------------------------

export function renderServiceId(emu: Emulator, s: ServiceIdRecord): Record<string, unknown> {
    const o: Record<string, unknown> = {
        id: s.id,
        iam_id: s.iamId,
        entity_tag: entityTag(s),
        crn: `crn:v1:bluemix:public:iam-identity::a/${s.accountId}::serviceid:${s.id}`,
        locked: s.locked,
        created_at: s.createdAt,
        modified_at: s.modifiedAt,
        account_id: s.accountId,
        name: s.name,
    };
    if (s.description !== undefined) o.description = s.description;
    o.unique_instance_crns = [...s.uniqueInstanceCrns];
    return o;
}

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

// access ----------------------------------------------------------------------

function caller(ctx: Ctx): Caller {
    return ctx.caller!;
}

function requireIdentityAction(emu: Emulator, ctx: Ctx, action: string, accountId: string): void {
    if (!may(emu.store, caller(ctx), action, { accountId, serviceName: "iam-identity" })) throw E.forbidden();
}

function serviceIdOr404(emu: Emulator, ctx: Ctx, id: string): ServiceIdRecord {
    const s = emu.store.serviceIdById(id);
    // another account's entity is indistinguishable from a missing one
    if (!s || s.accountId !== caller(ctx).accountId) throw E.notFound("Service ID", id);
    return s;
}

function apiKeyOr404(emu: Emulator, ctx: Ctx, id: string): ApiKeyRecord {
    const k = emu.store.apiKeyById(id);
    if (!k || k.accountId !== caller(ctx).accountId) throw E.notFound("API key", id);
    return k;
}

/** Writes on a user's key are the user's own business; on a service ID's key they need IAM Identity access. */
function requireKeyWrite(emu: Emulator, ctx: Ctx, k: ApiKeyRecord, action: string): void {
    if (k.iamId.startsWith("IBMid-")) {
        if (caller(ctx).iamId !== k.iamId) throw E.forbidden();
        return;
    }
    requireIdentityAction(emu, ctx, action, k.accountId);
}

// API key creation shared by POST /v1/apikeys and the inline key of a new service ID ----------

interface ApiKeyInput {
    name: string;
    description?: string;
    value?: string;
    storeValue: boolean;
    supportSessions: boolean;
    actionWhenLeaked: ApiKeyRecord["actionWhenLeaked"];
    expiresAt?: string;
}

function parseApiKeyInput(emu: Emulator, b: Record<string, unknown>, forServiceId: boolean): ApiKeyInput {
    const name = requireName(b.name);
    const description = optionalString(b.description, "description");
    const value = optionalString(b.apikey, "apikey", 128);
    if (value !== undefined) {
        if (value.length < 32 || /\s/.test(value)) throw E.invalid("The field 'apikey' must have at least 32 characters and no whitespace.");
        if (emu.store.apiKeyByValue(value)) throw E.conflict("The provided API key value is already in use.");
    }
    const storeValue = optionalBool(b.store_value, "store_value") ?? false;
    if (storeValue && !forServiceId) throw E.invalid("The field 'store_value' is only supported for API keys of service IDs.");
    const supportSessions = optionalBool(b.support_sessions, "support_sessions") ?? false;
    const leak = b.action_when_leaked ?? "none";
    if (!LEAK_ACTIONS.includes(leak as ApiKeyRecord["actionWhenLeaked"])) {
        throw E.invalid("The field 'action_when_leaked' must be one of none, disable, delete.");
    }
    return {
        name,
        description,
        value,
        storeValue,
        supportSessions,
        actionWhenLeaked: leak as ApiKeyRecord["actionWhenLeaked"],
        expiresAt: expiresAtField(b.expires_at),
    };
}

interface KeyFlags {
    locked: boolean;
    disabled: boolean;
}

function createApiKey(emu: Emulator, createdBy: string, iamId: string, accountId: string, input: ApiKeyInput, flags: KeyFlags): { record: ApiKeyRecord; value: string } {
    const value = input.value ?? generateApiKeyValue();
    const now = identityTime();
    const record: ApiKeyRecord = {
        id: `ApiKey-${crypto.randomUUID()}`,
        iamId,
        accountId,
        name: input.name,
        description: input.description,
        locked: flags.locked,
        disabled: flags.disabled,
        createdAt: now,
        modifiedAt: now,
        createdBy,
        supportSessions: input.supportSessions,
        actionWhenLeaked: input.actionWhenLeaked,
        expiresAt: input.expiresAt,
        storeValue: input.storeValue,
        valueHash: hashApiKey(value),
        storedValue: input.storeValue ? value : undefined,
        etagVersion: 1,
        etagHash: randomHex(16),
    };
    if (record.description === undefined) delete record.description;
    if (record.expiresAt === undefined) delete record.expiresAt;
    if (record.storedValue === undefined) delete record.storedValue;
    emu.store.data.apiKeys.push(record);
    return { record, value };
}

// routes ------------------------------------------------------------------------

export function registerIdentityRoutes(router: Router, emu: Emulator): void {
    const iam = { family: "iam" as const, auth: true };

    // service IDs -----------------------------------------------------------------
    router.add("POST", "/v1/serviceids", iam, (ctx) => {
        const b = objectBody(ctx);
        if (typeof b.account_id !== "string" || b.account_id === "") throw E.invalid("The field 'account_id' is required.");
        const name = requireName(b.name);
        const description = optionalString(b.description, "description");
        const crns = stringArray(b.unique_instance_crns, "unique_instance_crns") ?? [];
        if (b.account_id !== caller(ctx).accountId) throw E.forbidden();
        requireIdentityAction(emu, ctx, "iam-identity.serviceid.create", b.account_id);
        let keyInput: ApiKeyInput | undefined;
        if (b.apikey !== undefined && b.apikey !== null) {
            if (typeof b.apikey !== "object" || Array.isArray(b.apikey)) throw E.invalid("The field 'apikey' must be an object.");
            keyInput = parseApiKeyInput(emu, b.apikey as Record<string, unknown>, true);
        }
        const id = `ServiceId-${crypto.randomUUID()}`;
        const now = identityTime();
        const record: ServiceIdRecord = {
            id,
            iamId: `iam-${id}`,
            accountId: b.account_id,
            name,
            uniqueInstanceCrns: crns,
            locked: boolHeader(ctx, "entity-lock"),
            createdAt: now,
            modifiedAt: now,
            createdBy: caller(ctx).iamId,
            etagVersion: 1,
            etagHash: randomHex(16),
        };
        if (description !== undefined) record.description = description;
        emu.store.data.serviceIds.push(record);
        const out = renderServiceId(emu, record);
        if (keyInput) {
            // Entity-Lock on this call locks the service ID, not its inline key
            const flags = { locked: false, disabled: false };
            const { record: key, value } = createApiKey(emu, caller(ctx).iamId, record.iamId, record.accountId, keyInput, flags);
            out.apikey = renderApiKey(key, value);
        }
        emu.store.save();
        ctx.send(201, out);
    });

    router.add("GET", "/v1/serviceids", iam, (ctx) => {
        const accountId = ctx.query.get("account_id");
        if (!accountId) throw E.invalid("The parameter 'account_id' is required.");
        if (accountId !== caller(ctx).accountId) throw E.forbidden();
        const name = ctx.query.get("name");
        let all = emu.store.data.serviceIds.filter((s) => s.accountId === accountId && (name === null || s.name === name));
        all = sortBy(ctx, all, { name: (s) => s.name, description: (s) => s.description ?? "", created_at: (s) => s.createdAt, modified_at: (s) => s.modifiedAt });
        const page = paginate(ctx, all, "/v1/serviceids/");
        ctx.send(200, { ...page.envelope, serviceids: page.items.map((s) => withHistory(ctx, renderServiceId(emu, s))) });
    });

    router.add("GET", "/v1/serviceids/:id", iam, (ctx) => {
        ctx.send(200, withHistory(ctx, renderServiceId(emu, serviceIdOr404(emu, ctx, ctx.params.id))));
    });

    router.add("PUT", "/v1/serviceids/:id", iam, (ctx) => {
        const s = serviceIdOr404(emu, ctx, ctx.params.id);
        requireIdentityAction(emu, ctx, "iam-identity.serviceid.update", s.accountId);
        if (s.locked) throw E.locked(`Service ID '${s.id}' is locked and cannot be updated.`);
        checkIfMatch(ctx, entityTag(s));
        const b = objectBody(ctx);
        const name = b.name === undefined ? undefined : requireName(b.name);
        const description = optionalString(b.description, "description");
        const crns = stringArray(b.unique_instance_crns, "unique_instance_crns");
        if (name !== undefined) s.name = name;
        if (description !== undefined) {
            if (description === "") delete s.description;
            else s.description = description;
        }
        if (crns !== undefined) s.uniqueInstanceCrns = crns;
        bumpTag(s);
        emu.store.save();
        ctx.send(200, renderServiceId(emu, s));
    });

    router.add("DELETE", "/v1/serviceids/:id", iam, (ctx) => {
        const s = serviceIdOr404(emu, ctx, ctx.params.id);
        requireIdentityAction(emu, ctx, "iam-identity.serviceid.delete", s.accountId);
        if (s.locked) throw E.locked(`Service ID '${s.id}' is locked and cannot be deleted.`);
        const keys = emu.store.data.apiKeys.filter((k) => k.iamId === s.iamId);
        // the cascade must succeed as a whole: a locked key keeps the service ID alive
        const lockedKey = keys.find((k) => k.locked);
        if (lockedKey) throw E.locked(`Service ID '${s.id}' has the locked API key '${lockedKey.id}'; unlock it before deleting the service ID.`);
        emu.store.data.apiKeys = emu.store.data.apiKeys.filter((k) => k.iamId !== s.iamId);
        emu.store.data.serviceIds = emu.store.data.serviceIds.filter((x) => x.id !== s.id);
        const now = new Date().toISOString();
        for (const p of emu.store.data.policies) {
            const subjectIds = p.body.subjects.flatMap((sub) => sub.attributes.filter((a) => a.name === "iam_id").map((a) => a.value));
            if (p.state === "active" && subjectIds.includes(s.iamId)) {
                p.state = "deleted";
                p.lastModifiedAt = now;
            }
        }
        emu.store.save();
        ctx.send(204);
    });

    const setServiceIdLock = (locked: boolean) => (ctx: Ctx) => {
        const s = serviceIdOr404(emu, ctx, ctx.params.id);
        requireIdentityAction(emu, ctx, "iam-identity.serviceid.update", s.accountId);
        s.locked = locked;
        emu.store.save();
        ctx.send(204);
    };
    router.add("POST", "/v1/serviceids/:id/lock", iam, setServiceIdLock(true));
    router.add("DELETE", "/v1/serviceids/:id/lock", iam, setServiceIdLock(false));

    // API keys --------------------------------------------------------------------
    router.add("POST", "/v1/apikeys", iam, (ctx) => {
        const b = objectBody(ctx);
        if (typeof b.iam_id !== "string" || b.iam_id === "") throw E.invalid("The field 'iam_id' is required.");
        const me = caller(ctx);
        let iamId: string;
        let accountId: string;
        const isUser = b.iam_id.startsWith("IBMid-");
        if (isUser) {
            if (b.iam_id !== emu.store.data.owner.iamId) throw E.notFound("User", b.iam_id);
            if (me.iamId !== b.iam_id) throw E.forbidden();
            iamId = b.iam_id;
            accountId = emu.store.data.accountId;
        } else {
            const s = emu.store.serviceIdByIamId(b.iam_id);
            if (!s || s.accountId !== me.accountId) throw E.notFound("Service ID", b.iam_id);
            iamId = s.iamId;
            accountId = s.accountId;
        }
        if (b.account_id !== undefined && b.account_id !== accountId) throw E.invalid("The field 'account_id' does not match the account of the iam_id.");
        const input = parseApiKeyInput(emu, b, !isUser);
        if (!isUser) requireIdentityAction(emu, ctx, "iam-identity.apikey.create", accountId);
        const flags = { locked: boolHeader(ctx, "entity-lock"), disabled: boolHeader(ctx, "entity-disable") };
        const { record, value } = createApiKey(emu, me.iamId, iamId, accountId, input, flags);
        emu.store.save();
        ctx.send(201, renderApiKey(record, value));
    });

    router.add("GET", "/v1/apikeys", iam, (ctx) => {
        const me = caller(ctx);
        const accountId = ctx.query.get("account_id") ?? me.accountId;
        if (accountId !== me.accountId) throw E.forbidden();
        const scope = ctx.query.get("scope") ?? "entity";
        if (scope !== "entity" && scope !== "account") throw E.invalid("The parameter 'scope' must be 'entity' or 'account'.");
        const type = ctx.query.get("type");
        if (type !== null && type !== "user" && type !== "serviceid") throw E.invalid("The parameter 'type' must be 'user' or 'serviceid'.");
        const rawIam = ctx.query.get("iam_id");
        const iamId = rawIam && rawIam.startsWith("ServiceId-") ? `iam-${rawIam}` : rawIam;
        let all = emu.store.data.apiKeys.filter((k) => k.accountId === accountId);
        if (iamId) all = all.filter((k) => k.iamId === iamId);
        else if (scope === "entity") all = all.filter((k) => k.iamId === me.iamId);
        if (type === "user") all = all.filter((k) => k.iamId.startsWith("IBMid-"));
        if (type === "serviceid") all = all.filter((k) => !k.iamId.startsWith("IBMid-"));
        all = sortBy(ctx, all, { name: (k) => k.name, created_at: (k) => k.createdAt, modified_at: (k) => k.modifiedAt });
        const page = paginate(ctx, all, "/v1/apikeys");
        ctx.send(200, { ...page.envelope, apikeys: page.items.map((k) => renderApiKey(k)) });
    });

    // before /v1/apikeys/:id so "details" is not taken for an id
    router.add("GET", "/v1/apikeys/details", iam, (ctx) => {
        const value = ctx.header("iam-apikey");
        if (!value) throw E.invalid("The header 'IAM-ApiKey' is required.");
        const k = emu.store.apiKeyByValue(value);
        if (!k || k.accountId !== caller(ctx).accountId) throw new IamError(404, "not_found", "API key not found.", "BXNIM0102E");
        ctx.send(200, renderApiKey(k, undefined, true));
    });

    router.add("GET", "/v1/apikeys/:id", iam, (ctx) => {
        ctx.send(200, withHistory(ctx, renderApiKey(apiKeyOr404(emu, ctx, ctx.params.id))));
    });

    router.add("PUT", "/v1/apikeys/:id", iam, (ctx) => {
        const k = apiKeyOr404(emu, ctx, ctx.params.id);
        requireKeyWrite(emu, ctx, k, "iam-identity.apikey.update");
        if (k.locked) throw E.locked(`API key '${k.id}' is locked and cannot be updated.`);
        checkIfMatch(ctx, entityTag(k));
        const b = objectBody(ctx);
        const name = b.name === undefined ? undefined : requireName(b.name);
        const description = optionalString(b.description, "description");
        const supportSessions = optionalBool(b.support_sessions, "support_sessions");
        if (b.action_when_leaked !== undefined && !LEAK_ACTIONS.includes(b.action_when_leaked as ApiKeyRecord["actionWhenLeaked"])) {
            throw E.invalid("The field 'action_when_leaked' must be one of none, disable, delete.");
        }
        const clearsExpiry = b.expires_at === "" || b.expires_at === null;
        const expiresAt = expiresAtField(b.expires_at);
        if (name !== undefined) k.name = name;
        if (description !== undefined) {
            if (description === "") delete k.description;
            else k.description = description;
        }
        if (supportSessions !== undefined) k.supportSessions = supportSessions;
        if (b.action_when_leaked !== undefined) k.actionWhenLeaked = b.action_when_leaked as ApiKeyRecord["actionWhenLeaked"];
        if (expiresAt !== undefined) k.expiresAt = expiresAt;
        else if (clearsExpiry) delete k.expiresAt;
        bumpTag(k);
        emu.store.save();
        ctx.send(200, renderApiKey(k));
    });

    router.add("DELETE", "/v1/apikeys/:id", iam, (ctx) => {
        const k = apiKeyOr404(emu, ctx, ctx.params.id);
        requireKeyWrite(emu, ctx, k, "iam-identity.apikey.delete");
        if (k.locked) throw E.locked(`API key '${k.id}' is locked and cannot be deleted.`);
        emu.store.data.apiKeys = emu.store.data.apiKeys.filter((x) => x.id !== k.id);
        emu.store.save();
        ctx.send(204);
    });

    const setKeyFlag = (flag: "locked" | "disabled", on: boolean) => (ctx: Ctx) => {
        const k = apiKeyOr404(emu, ctx, ctx.params.id);
        requireKeyWrite(emu, ctx, k, "iam-identity.apikey.update");
        k[flag] = on;
        emu.store.save();
        ctx.send(204);
    };
    router.add("POST", "/v1/apikeys/:id/lock", iam, setKeyFlag("locked", true));
    router.add("DELETE", "/v1/apikeys/:id/lock", iam, setKeyFlag("locked", false));
    router.add("POST", "/v1/apikeys/:id/disable", iam, setKeyFlag("disabled", true));
    router.add("DELETE", "/v1/apikeys/:id/disable", iam, setKeyFlag("disabled", false));
}

/** `include_history=true` adds an (empty) history: the emulator keeps no audit trail. */
function withHistory(ctx: Ctx, o: Record<string, unknown>): Record<string, unknown> {
    if (ctx.query.get("include_history") === "true") o.history = [];
    return o;
}
