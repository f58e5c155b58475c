// Key Protect / HPCS keys API (/api/v2/keys), enforcing IAM policies per instance and action.
import * as crypto from "crypto";
import { may } from "./access";
import type { Emulator } from "./app";
import { correlationHeader, Ctx, KmsError, kmsUnauthorized, Router } from "./server";
import { InstanceRecord, KmsKeyRecord } from "./state";

const KEY_TYPE = "application/vnd.ibm.kms.key+json";
const DEFAULT_RING = "default";
const MAX_LIMIT = 5000;
const DEFAULT_LIMIT = 200;

const K = {
    badBody: (message: string) => new KmsError(400, "BAD_BODY_ERR", message, "Bad Request: Invalid body data"),
    badParam: (message: string) => new KmsError(400, "INVALID_QUERY_PARAM_ERR", message, "Bad Request: Invalid query parameter"),
    badHeader: (message: string, name: string) =>
        new KmsError(400, "BAD_HEADERS_ERR", message, "Bad Request: Invalid header", { type: "header", name }),
    notFound: () => new KmsError(404, "KEY_NOT_FOUND_ERR", "Key does not exist", "Not Found: Key could not be found"),
    gone: () => new KmsError(410, "KEY_DELETED_ERR", "The key has been deleted and is no longer available", "Gone: The key was deleted"),
    standardOnly: (message: string) => new KmsError(400, "KEY_ACTION_INVALID_ERR", message, "Bad Request: Action not valid for this key"),
    notDeleted: () => new KmsError(409, "KEY_NOT_DELETED_ERR", "Only a deleted key can be purged", "Conflict: The key is not deleted"),
};

function kmsTime(d: Date = new Date()): string {
    return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function renderKey(emu: Emulator, inst: InstanceRecord, k: KmsKeyRecord, withPayload: boolean): Record<string, unknown> {
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
        dualAuthDelete: { enabled: false },
        deleted: k.deleted,
    });
    if (k.expirationDate) o.expirationDate = k.expirationDate;
    if (k.deletionDate) o.deletionDate = k.deletionDate;
    if (k.deletedBy) o.deletedBy = k.deletedBy;
    if (withPayload && k.payload !== undefined) o.payload = k.payload;
    return o;
}

function envelope(resources: unknown[]): Record<string, unknown> {
    return { metadata: { collectionType: KEY_TYPE, collectionTotal: resources.length }, resources };
}

export function registerKmsRoutes(router: Router, emu: Emulator): void {
    const kms = { family: "kms" as const, auth: true };

    const instanceOf = (ctx: Ctx): InstanceRecord => {
        const guid = ctx.header("bluemix-instance");
        if (!guid) throw K.badHeader("The bluemix-instance header is required", "bluemix-instance");
        const inst = emu.store.instance(guid);
        // (choice) as in the cloud, IAM cannot authorize anything on an unknown instance: 401
        if (!inst) throw kmsUnauthorized();
        return inst;
    };
    const authorize = (ctx: Ctx, inst: InstanceRecord, verb: string): void => {
        const target = { accountId: emu.store.data.accountId, serviceName: inst.service, serviceInstance: inst.guid, resourceGroupId: emu.store.data.resourceGroupId };
        if (!may(emu.store, ctx.caller!, `${inst.service}.secrets.${verb}`, target)) throw kmsUnauthorized();
    };
    const keyOf = (ctx: Ctx, inst: InstanceRecord, allowDeleted = false): KmsKeyRecord => {
        const k = emu.store.data.kmsKeys.find((x) => x.instance === inst.guid && x.id === ctx.params.id);
        if (!k) throw K.notFound();
        if (k.deleted && !allowDeleted) throw K.gone();
        return k;
    };
    const keyRingOf = (ctx: Ctx): string | undefined => {
        const ring = ctx.header("x-kms-key-ring");
        if (ring === undefined) return undefined;
        if (!/^[a-zA-Z0-9-]{2,100}$/.test(ring)) throw K.badHeader("x-kms-key-ring must be 2 to 100 letters, digits or dashes", "x-kms-key-ring");
        return ring;
    };
    const send = (ctx: Ctx, status: number, body?: unknown) => ctx.send(status, body, correlationHeader(ctx));

    router.add("POST", "/api/v2/keys", kms, (ctx) => {
        const inst = instanceOf(ctx);
        const type = (ctx.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
        if (type !== KEY_TYPE && type !== "application/json") throw K.badBody(`Content-Type must be ${KEY_TYPE}`);
        const ring = keyRingOf(ctx) ?? DEFAULT_RING;
        const spec = parseCreate(ctx);
        authorize(ctx, inst, spec.payload !== undefined ? "import" : "create");
        const now = kmsTime();
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
        // root key material never leaves the HSM, so the emulator does not even keep it
        if (spec.extractable) k.payload = spec.payload ?? crypto.randomBytes(32).toString("base64");
        emu.store.data.kmsKeys.push(k);
        emu.store.save();
        send(ctx, 201, envelope([renderKey(emu, inst, k, false)]));
    });

    router.add("GET", "/api/v2/keys", kms, (ctx) => {
        const inst = instanceOf(ctx);
        const ring = keyRingOf(ctx);
        authorize(ctx, inst, "list");
        const limit = intParam(ctx, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT);
        const offset = intParam(ctx, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
        const states = stateParam(ctx);
        const extractable = ctx.query.get("extractable");
        if (extractable !== null && extractable !== "true" && extractable !== "false") throw K.badParam("extractable must be true or false");
        const all = emu.store.data.kmsKeys.filter(
            (k) =>
                k.instance === inst.guid &&
                states.includes(k.state) &&
                (ring === undefined || k.keyRing === ring) &&
                (extractable === null || String(k.extractable) === extractable),
        );
        send(ctx, 200, envelope(all.slice(offset, offset + limit).map((k) => renderKey(emu, inst, k, false))));
    });

    router.add("GET", "/api/v2/keys/:id", kms, (ctx) => {
        const inst = instanceOf(ctx);
        authorize(ctx, inst, "readmetadata");
        const k = keyOf(ctx, inst);
        // only a standard key has a payload to reveal, and that needs ReaderPlus or more
        if (k.extractable) authorize(ctx, inst, "read");
        send(ctx, 200, envelope([renderKey(emu, inst, k, true)]));
    });

    router.add("GET", "/api/v2/keys/:id/metadata", kms, (ctx) => {
        const inst = instanceOf(ctx);
        authorize(ctx, inst, "readmetadata");
        // (choice) metadata of a deleted key stays readable (state 5), as Key Protect keeps it
        send(ctx, 200, envelope([renderKey(emu, inst, keyOf(ctx, inst, true), false)]));
    });

    router.add("DELETE", "/api/v2/keys/:id", kms, (ctx) => {
        const inst = instanceOf(ctx);
        const force = ctx.query.get("force");
        if (force !== null && force !== "true" && force !== "false") throw K.badParam("force must be true or false");
        authorize(ctx, inst, "delete");
        const k = keyOf(ctx, inst);
        const now = kmsTime();
        k.deleted = true;
        k.state = 5;
        k.deletionDate = now;
        k.deletedBy = ctx.caller!.iamId;
        k.lastUpdateDate = now;
        emu.store.save();
        if (prefersRepresentation(ctx)) send(ctx, 200, envelope([renderKey(emu, inst, k, false)]));
        else send(ctx, 204);
    });

    router.add("POST", "/api/v2/keys/:id/actions/rotate", kms, (ctx) => {
        const inst = instanceOf(ctx);
        authorize(ctx, inst, "rotate");
        const k = keyOf(ctx, inst);
        if (k.extractable) throw K.standardOnly("Standard keys cannot be rotated");
        const now = kmsTime();
        k.keyVersion = { id: crypto.randomUUID(), creationDate: now };
        k.lastUpdateDate = now;
        emu.store.save();
        send(ctx, 204);
    });

    router.add("DELETE", "/api/v2/keys/:id/purge", kms, (ctx) => {
        const inst = instanceOf(ctx);
        authorize(ctx, inst, "purge");
        const k = keyOf(ctx, inst, true);
        // (choice) the cloud's 4-hour wait after delete is not modelled
        if (!k.deleted) throw K.notDeleted();
        emu.store.data.kmsKeys = emu.store.data.kmsKeys.filter((x) => x !== k);
        emu.store.save();
        if (prefersRepresentation(ctx)) send(ctx, 200, envelope([renderKey(emu, inst, k, false)]));
        else send(ctx, 204);
    });
}

function prefersRepresentation(ctx: Ctx): boolean {
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

function parseCreate(ctx: Ctx): CreateSpec {
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
        if (isNaN(d.getTime()) || d.getTime() <= Date.now()) throw K.badBody("expirationDate must be a future RFC 3339 date");
        expirationDate = kmsTime(d);
    }
    return { name: r.name, description: r.description as string | undefined, extractable, payload, expirationDate };
}
