// Key Protect / HPCS keys API (/api/v2/keys), enforcing IAM policies per instance, key ring, key and
// action. The other KMS handlers live beside it: key rings (keyRings.ts), key actions such as wrap and
// rotate (keyActions.ts), key policies (keyPolicies.ts) and the key material (keyMaterial.ts); they share
// the helpers of `KmsRoutes`. Source services reach KMS with tokens from ../admin/serviceToken.ts.
import * as crypto from "crypto";
import type { StoreContext } from "../core/context";
import { correlationHeader, kmsUnauthorized } from "../core/errors";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { InstanceRecord, KmsKeyRecord, StateStore } from "../core/state";
import { may, mayInPart, Scope, Target } from "../iam/access";
import { createAllowed, inheritInstancePolicies } from "./instancePolicyRules";
import { K } from "./errors";
import { KmsCrypto } from "./keyMaterial";

export const KEY_TYPE = "application/vnd.ibm.kms.key+json";
export const DEFAULT_RING = "default";
export const RING_ID = /^[a-zA-Z0-9-]{2,100}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_LIMIT = 5000;
const DEFAULT_LIMIT = 200;

export { K };

export function kmsTime(d: Date = new Date()): string {
    return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * KMS's clock: real time plus the offset `POST /__emulator/kms/clock` added, so the documented waits (30 s
 * before enable or restore, 4 h before purge, 30 days of restore, 7 days of a deletion authorization) can be
 * tested without waiting. Kept in the state so a restarted emulator keeps its time.
 */
export function kmsNow(store: StateStore): number {
    return Date.now() + (store.data.kmsClockOffsetMs ?? 0);
}

export const PURGE_WAIT_MS = 4 * 3600 * 1000;
export const RESTORE_WINDOW_MS = 30 * 24 * 3600 * 1000;
export const AUTO_PURGE_MS = 90 * 24 * 3600 * 1000;

export function renderKey(emu: StoreContext, inst: InstanceRecord, k: KmsKeyRecord, withPayload: boolean): Record<string, unknown> {
    const o: Record<string, unknown> = {
        type: KEY_TYPE,
        id: k.id,
        name: k.name,
    };
    if (k.description !== undefined) o.description = k.description;
    Object.assign(o, {
        state: k.state,
        extractable: k.extractable,
        imported: k.imported,
        crn: `crn:v1:bluemix:public:${inst.service}:${inst.region}:a/${emu.store.data.accountId}:${inst.guid}:key:${k.id}`,
        keyRingID: k.keyRing,
        creationDate: k.creationDate,
        lastUpdateDate: k.lastUpdateDate,
        createdBy: k.createdBy,
        algorithmType: "AES",
        algorithmBitSize: 256,
        keyVersion: { ...k.keyVersion },
        dualAuthDelete: { enabled: k.policies?.dualAuthDelete?.enabled === true },
        deleted: k.deleted,
    });
    if (k.lastRotateDate) o.lastRotateDate = k.lastRotateDate;
    if (k.expirationDate) o.expirationDate = k.expirationDate;
    if (k.deletionDate) o.deletionDate = k.deletionDate;
    if (k.deletedBy) o.deletedBy = k.deletedBy;
    if (k.deleted && k.deletionDate) {
        const at = Date.parse(k.deletionDate);
        const now = kmsNow(emu.store);
        o.restoreAllowed = now - at <= RESTORE_WINDOW_MS;
        o.restoreExpirationDate = kmsTime(new Date(at + RESTORE_WINDOW_MS));
        o.purgeAllowed = now - at >= PURGE_WAIT_MS;
        o.purgeAllowedFrom = kmsTime(new Date(at + PURGE_WAIT_MS));
        o.purgeScheduledOn = kmsTime(new Date(at + AUTO_PURGE_MS));
    }
    if (k.aliases?.length) o.aliases = k.aliases.map((a) => a.alias);
    if (withPayload && k.payload !== undefined) o.payload = k.payload;
    return o;
}

export function envelope(resources: unknown[], collectionType: string = KEY_TYPE): Record<string, unknown> {
    return { metadata: { collectionType, collectionTotal: resources.length }, resources };
}

/** Helpers every KMS route file shares: the instance, access decisions, key and ring lookups. */
export class KmsRoutes {
    readonly crypto: KmsCrypto;

    constructor(readonly emu: StoreContext) {
        this.crypto = new KmsCrypto(emu.store);
    }

    instanceOf(ctx: Ctx): InstanceRecord {
        const guid = ctx.header("bluemix-instance");
        if (!guid) throw K.badHeader("The bluemix-instance header is required", "bluemix-instance");
        const inst = this.emu.store.instance(guid);
        // (choice) as in the cloud, IAM cannot authorize anything on an unknown instance: 401
        if (!inst) throw kmsUnauthorized();
        return inst;
    }

    target(inst: InstanceRecord, scopes?: Scope[]): Target {
        const d = this.emu.store.data;
        return {
            accountId: d.accountId,
            serviceName: inst.service,
            serviceInstance: inst.guid,
            resourceGroupId: d.resourceGroupId,
            ...(scopes ? { scopes } : {}),
        };
    }

    may(ctx: Ctx, inst: InstanceRecord, action: string, scopes?: Scope[]): boolean {
        return may(this.emu.store, ctx.caller!, `${inst.service}.${action}`, this.target(inst, scopes));
    }

    /** 401 unless the caller may do `action` (`secrets.create`, `keyrings.list`) on the instance or the given part of it. */
    authorize(ctx: Ctx, inst: InstanceRecord, action: string, scopes?: Scope[]): void {
        if (!this.may(ctx, inst, action, scopes)) throw kmsUnauthorized();
    }

    /** 401 unless some policy grants `action` somewhere in the instance (the caller then sees only its part). */
    authorizeInPart(ctx: Ctx, inst: InstanceRecord, action: string, parts: Scope[][]): void {
        if (!mayInPart(this.emu.store, ctx.caller!, `${inst.service}.${action}`, this.target(inst), parts)) throw kmsUnauthorized();
    }

    static scopesOf(k: KmsKeyRecord): Scope[] {
        return [
            { resourceType: "key", resource: k.id },
            { resourceType: "key-ring", resource: k.keyRing },
        ];
    }

    nowMs(): number {
        return kmsNow(this.emu.store);
    }

    /** KMS's clock as Key Protect writes dates. */
    time(): string {
        return kmsTime(new Date(this.nowMs()));
    }

    /**
     * The key named by `idOrAlias` (an id, or one of its aliases: IBM takes an alias wherever it takes an id).
     * A key deleted over 90 days ago is purged on the way, as IBM purges it automatically.
     */
    findKey(inst: InstanceRecord, idOrAlias: string): KmsKeyRecord | undefined {
        const d = this.emu.store.data;
        const k = UUID.test(idOrAlias)
            ? d.kmsKeys.find((x) => x.instance === inst.guid && x.id === idOrAlias)
            : d.kmsKeys.find((x) => x.instance === inst.guid && x.aliases?.some((a) => a.alias === idOrAlias));
        if (k?.deleted && k.deletionDate && this.nowMs() - Date.parse(k.deletionDate) > AUTO_PURGE_MS) {
            d.kmsKeys = d.kmsKeys.filter((x) => x !== k);
            this.emu.store.save();
            return undefined;
        }
        return k;
    }

    /**
     * The key of `:id` (an id or an alias), once the caller may do `action` on it. Access is decided before
     * existence is revealed: an unknown key is judged as the instance, so a caller without access gets 401 either way.
     */
    authorizedKey(ctx: Ctx, inst: InstanceRecord, action: string, allowDeleted = false): KmsKeyRecord {
        const k = this.findKey(inst, ctx.params.id);
        this.authorize(ctx, inst, action, k ? KmsRoutes.scopesOf(k) : undefined);
        if (!k) throw K.notFound();
        if (k.deleted && !allowDeleted) throw K.gone();
        return k;
    }

    ringExists(inst: InstanceRecord, ring: string): boolean {
        return ring === DEFAULT_RING || (this.emu.store.data.kmsKeyRings ?? []).some((r) => r.instance === inst.guid && r.id === ring);
    }

    keyRingHeader(ctx: Ctx): string | undefined {
        const ring = ctx.header("x-kms-key-ring");
        if (ring === undefined) return undefined;
        if (!RING_ID.test(ring)) throw K.badHeader("x-kms-key-ring must be 2 to 100 letters, digits or dashes", "x-kms-key-ring");
        return ring;
    }

    send(ctx: Ctx, status: number, body?: unknown): void {
        ctx.send(status, body, correlationHeader(ctx));
    }
}

export function keyHandlers(r: KmsRoutes) {
    const emu = r.emu;
    const instanceOf = (ctx: Ctx) => r.instanceOf(ctx);
    const send = (ctx: Ctx, status: number, body?: unknown) => r.send(ctx, status, body);

    const create: Handler = (ctx) => {
        const inst = instanceOf(ctx);
        const type = (ctx.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
        if (type !== KEY_TYPE && type !== "application/json") throw K.badBody(`Content-Type must be ${KEY_TYPE}`);
        const ring = r.keyRingHeader(ctx) ?? DEFAULT_RING;
        const spec = parseCreate(ctx, r.nowMs());
        r.authorize(ctx, inst, spec.payload !== undefined ? "secrets.import" : "secrets.create", [{ resourceType: "key-ring", resource: ring }]);
        // as on IBM, a ring must be created (POST /api/v2/key_rings/{id}) before a key goes in it
        if (!r.ringExists(inst, ring)) throw K.ringNotFound("Key could not be created");
        if (!createAllowed(emu.store, inst, spec.extractable, spec.payload !== undefined)) throw K.createImportAccess();
        const now = r.time();
        const id = crypto.randomUUID();
        const k: KmsKeyRecord = {
            id,
            instance: inst.guid,
            keyRing: ring,
            name: spec.name,
            state: 1,
            extractable: spec.extractable,
            imported: spec.payload !== undefined,
            creationDate: now,
            lastUpdateDate: now,
            createdBy: ctx.caller!.iamId,
            keyVersion: { id, creationDate: now },
            deleted: false,
        };
        if (spec.description !== undefined) k.description = spec.description;
        if (spec.expirationDate !== undefined) k.expirationDate = spec.expirationDate;
        if (spec.extractable) k.payload = spec.payload ?? crypto.randomBytes(32).toString("base64");
        // a root key's material is sealed at rest (keyMaterial.ts) and never served
        else k.versions = [r.crypto.newVersion(id, now, spec.payload !== undefined ? Buffer.from(spec.payload, "base64") : undefined, id)];
        // the instance's dual-authorization and rotation policies reach the keys created after them
        inheritInstancePolicies(emu.store, inst, k, ctx.caller!.iamId, now);
        emu.store.data.kmsKeys.push(k);
        emu.store.save();
        send(ctx, 201, envelope([renderKey(emu, inst, k, false)]));
    };

    /** The keys a list (or its HEAD) shows: the filters of the query and header, and only what the caller may list. */
    const listed = (ctx: Ctx): { inst: InstanceRecord; keys: KmsKeyRecord[] } => {
        const inst = instanceOf(ctx);
        const ring = r.keyRingHeader(ctx);
        const inInstance = emu.store.data.kmsKeys.filter((k) => k.instance === inst.guid);
        r.authorizeInPart(ctx, inst, "secrets.list", inInstance.map(KmsRoutes.scopesOf));
        const states = stateParam(ctx);
        const extractable = ctx.query.get("extractable");
        if (extractable !== null && extractable !== "true" && extractable !== "false") throw K.badParam("extractable must be true or false");
        const wholeInstance = r.may(ctx, inst, "secrets.list");
        const keys = inInstance.filter(
            (k) =>
                states.includes(k.state) &&
                (ring === undefined || k.keyRing === ring) &&
                (extractable === null || String(k.extractable) === extractable) &&
                (wholeInstance || r.may(ctx, inst, "secrets.list", KmsRoutes.scopesOf(k))),
        );
        return { inst, keys };
    };

    const list: Handler = (ctx) => {
        const { inst, keys } = listed(ctx);
        const limit = intParam(ctx, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT);
        const offset = intParam(ctx, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
        send(ctx, 200, envelope(keys.slice(offset, offset + limit).map((k) => renderKey(emu, inst, k, false))));
    };

    // the key collection's metadata: no body, the count of the keys a list would show in `Key-Total`
    const count: Handler = (ctx) => {
        const { keys } = listed(ctx);
        ctx.send(200, undefined, { ...correlationHeader(ctx), "Key-Total": String(keys.length) });
    };

    const get: Handler = (ctx) => {
        const inst = instanceOf(ctx);
        const k = r.authorizedKey(ctx, inst, "secrets.readmetadata");
        // only a standard key has a payload to reveal, and that needs ReaderPlus or more
        if (k.extractable) r.authorize(ctx, inst, "secrets.read", KmsRoutes.scopesOf(k));
        send(ctx, 200, envelope([renderKey(emu, inst, k, true)]));
    };

    const metadata: Handler = (ctx) => {
        const inst = instanceOf(ctx);
        // (choice) metadata of a deleted key stays readable (state 5), as Key Protect keeps it
        send(ctx, 200, envelope([renderKey(emu, inst, r.authorizedKey(ctx, inst, "secrets.readmetadata", true), false)]));
    };

    const remove: Handler = (ctx) => {
        const inst = instanceOf(ctx);
        const force = ctx.query.get("force");
        if (force !== null && force !== "true" && force !== "false") throw K.badParam("force must be true or false");
        const k = r.authorizedKey(ctx, inst, "secrets.delete");
        const registrations = k.registrations ?? [];
        // a key other services registered as protecting their data goes only with force, and never while a
        // registration carries a retention policy
        if (registrations.some((g) => g.preventKeyDeletion)) throw K.retentionPolicy();
        if (registrations.length > 0 && force !== "true") throw K.protectedResource();
        if (k.policies?.dualAuthDelete?.enabled) {
            const auth = k.deletionAuthorization;
            // IBM: a second user deletes after a first one set the key for deletion (valid for 7 days)
            if (!auth || auth.by === ctx.caller!.iamId || r.nowMs() - auth.at > DUAL_AUTH_WINDOW_MS) throw K.authorizationsNotMet();
        }
        const now = r.time();
        k.deleted = true;
        k.state = 5;
        k.deletionDate = now;
        k.deletedBy = ctx.caller!.iamId;
        k.lastUpdateDate = now;
        k.stateChangedAt = r.nowMs();
        delete k.deletionAuthorization;
        delete k.registrations;
        emu.store.save();
        if (prefersRepresentation(ctx)) send(ctx, 200, envelope([renderKey(emu, inst, k, false)]));
        else send(ctx, 204);
    };

    const purge: Handler = (ctx) => {
        const inst = instanceOf(ctx);
        const k = r.authorizedKey(ctx, inst, "secrets.purge", true);
        if (!k.deleted) throw K.invalidState("Key could not be purged");
        // IBM: a deleted key can be purged 4 hours after its deletion
        if (r.nowMs() - Date.parse(k.deletionDate!) < PURGE_WAIT_MS) throw K.tooEarly("Key could not be purged");
        emu.store.data.kmsKeys = emu.store.data.kmsKeys.filter((x) => x !== k);
        emu.store.save();
        if (prefersRepresentation(ctx)) send(ctx, 200, envelope([renderKey(emu, inst, k, false)]));
        else send(ctx, 204);
    };

    return { create, list, count, get, metadata, remove, purge };
}

export const DUAL_AUTH_WINDOW_MS = 7 * 24 * 3600 * 1000;

export function prefersRepresentation(ctx: Ctx): boolean {
    return /return=representation/i.test(ctx.header("prefer") ?? "");
}

function intParam(ctx: Ctx, name: string, dflt: number, min: number, max: number): number {
    const raw = ctx.query.get(name);
    if (raw === null) return dflt;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) throw K.badParam(`${name} must be an integer between ${min} and ${max}`);
    return n;
}

function stateParam(ctx: Ctx): number[] {
    const raw = ctx.query.get("state");
    if (raw === null) return [0, 1, 2, 3]; // deleted keys (5) only when asked for
    const states = raw.split(",").map((s) => Number(s.trim()));
    if (states.some((s) => ![0, 1, 2, 3, 5].includes(s))) throw K.badParam("state must be a list of 0, 1, 2, 3, 5");
    return states;
}

interface CreateSpec {
    name: string;
    description?: string;
    extractable: boolean;
    payload?: string;
    expirationDate?: string;
}

function parseCreate(ctx: Ctx, nowMs: number): CreateSpec {
    const b = ctx.json<Record<string, unknown>>();
    const md = b?.metadata as Record<string, unknown> | undefined;
    if (!md || md.collectionType !== KEY_TYPE || md.collectionTotal !== 1) {
        throw K.badBody(`metadata must be {collectionType: ${KEY_TYPE}, collectionTotal: 1}`);
    }
    if (!Array.isArray(b.resources) || b.resources.length !== 1) throw K.badBody("resources must hold exactly one key");
    const r = b.resources[0] as Record<string, unknown>;
    if (r?.type !== undefined && r.type !== KEY_TYPE) throw K.badBody(`resources[0].type must be ${KEY_TYPE}`);
    if (typeof r.name !== "string" || r.name.length < 2 || r.name.length > 90) throw K.badBody("name is required: 2 to 90 characters");
    if (r.description !== undefined && (typeof r.description !== "string" || r.description.length > 240)) {
        throw K.badBody("description must be a string of at most 240 characters");
    }
    if (r.extractable !== undefined && typeof r.extractable !== "boolean") throw K.badBody("extractable must be a boolean");
    const extractable = r.extractable === true;
    let payload: string | undefined;
    if (r.payload !== undefined) {
        if (typeof r.payload !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(r.payload) || r.payload.length % 4 !== 0) {
            throw K.badBody("payload must be base64");
        }
        const bytes = Buffer.from(r.payload, "base64").length;
        if (!extractable && ![16, 24, 32].includes(bytes)) throw K.badBody("an imported root key must be 128, 192 or 256 bits");
        if (extractable && (bytes < 1 || bytes > 7500)) throw K.badBody("a standard key payload must be 1 to 7500 bytes");
        payload = r.payload;
    }
    let expirationDate: string | undefined;
    if (r.expirationDate !== undefined) {
        const d = typeof r.expirationDate === "string" ? new Date(r.expirationDate) : new Date(NaN);
        if (Number.isNaN(d.getTime()) || d.getTime() <= nowMs) throw K.badBody("expirationDate must be a future RFC 3339 date");
        expirationDate = kmsTime(d);
    }
    return { name: r.name, description: r.description as string | undefined, extractable, payload, expirationDate };
}
