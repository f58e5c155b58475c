// A key's life after creation: its versions, disable and enable, restore after a delete, and the sync that
// tells registered services about the key again. Windows follow IBM's documentation: enable and restore wait
// 30 s after the last state change, restore is possible for 30 days, sync once an hour.
import { KmsError } from "../core/errors";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { envelope, K, KEY_TYPE, KmsRoutes, renderKey, RESTORE_WINDOW_MS } from "./keys";

const STATE_CHANGE_WAIT_MS = 30_000;
const SYNC_WAIT_MS = 3600_000;

const L = {
    restoreExpired: () =>
        new KmsError(
            400,
            "KEY_RESTORE_EXPIRED",
            "Key restoration has expired",
            "Bad Request: Key could not be restored. Please see `reasons` for more details.",
        ),
};

function intParam(ctx: Ctx, name: string, dflt: number, max: number): number {
    const raw = ctx.query.get(name);
    if (raw === null) return dflt;
    if (!/^\d+$/.test(raw) || Number(raw) > max) throw K.badParam(`${name} must be an integer between 0 and ${max}`);
    return Number(raw);
}

function boolParam(ctx: Ctx, name: string): boolean {
    const raw = ctx.query.get(name);
    if (raw !== null && raw !== "true" && raw !== "false") throw K.badParam(`${name} must be true or false`);
    return raw === "true";
}

export function keyLifecycleHandlers(r: KmsRoutes) {
    const emu = r.emu;

    const versions: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const limit = intParam(ctx, "limit", 200, 5000);
        const offset = intParam(ctx, "offset", 0, Number.MAX_SAFE_INTEGER);
        const totalCount = boolParam(ctx, "totalCount");
        // allKeyStates: a deleted key's versions too (else 410 like any read of a deleted key)
        const k = r.authorizedKey(ctx, inst, "secrets.listkeyversions", boolParam(ctx, "allKeyStates"));
        if (k.extractable) throw K.rootRequired("Key versions could not be listed");
        const all = [...r.crypto.versionsOf(k)].reverse().map((v) => ({ id: v.id, creationDate: v.creationDate }));
        const page = all.slice(offset, offset + limit);
        const body = envelope(page, KEY_TYPE) as { metadata: Record<string, unknown> };
        if (totalCount) body.metadata.totalCount = all.length;
        r.send(ctx, 200, body);
    };

    const disable: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const k = r.authorizedKey(ctx, inst, "secrets.disable");
        if (k.extractable) throw K.rootRequired("Key could not be disabled");
        if (k.state !== 1) throw K.invalidState("Key could not be disabled");
        k.state = 2;
        k.stateChangedAt = r.nowMs();
        k.lastUpdateDate = r.time();
        emu.store.save();
        r.send(ctx, 204);
    };

    const enable: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const k = r.authorizedKey(ctx, inst, "secrets.enable");
        if (k.extractable) throw K.rootRequired("Key could not be enabled");
        if (k.state !== 2) throw K.invalidState("Key could not be enabled");
        if (r.nowMs() - (k.stateChangedAt ?? 0) < STATE_CHANGE_WAIT_MS) throw K.tooEarly("Key could not be enabled");
        k.state = 1;
        k.stateChangedAt = r.nowMs();
        k.lastUpdateDate = r.time();
        emu.store.save();
        r.send(ctx, 204);
    };

    const restore: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const k = r.authorizedKey(ctx, inst, "secrets.restore", true);
        if (!k.deleted) throw K.invalidState("Key could not be restored");
        const now = r.nowMs();
        const deletedAt = Date.parse(k.deletionDate!);
        if (now - deletedAt > RESTORE_WINDOW_MS || (k.expirationDate && Date.parse(k.expirationDate) <= now)) throw L.restoreExpired();
        if (now - (k.stateChangedAt ?? deletedAt) < STATE_CHANGE_WAIT_MS) throw K.tooEarly("Key could not be restored");
        // any key (root or standard, generated or imported) comes back as it was, with its versions and policies
        k.deleted = false;
        k.state = 1;
        delete k.deletionDate;
        delete k.deletedBy;
        k.stateChangedAt = now;
        k.lastUpdateDate = r.time();
        emu.store.save();
        r.send(ctx, 201, envelope([renderKey(emu, inst, k, false)]));
    };

    const sync: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const k = r.authorizedKey(ctx, inst, "secrets.sync", true);
        // IBM lets a key's associated resources be synced once an hour after the key last changed
        if (r.nowMs() - Date.parse(k.lastUpdateDate) < SYNC_WAIT_MS) throw K.tooEarly("Key could not be synced");
        k.lastUpdateDate = r.time();
        emu.store.save();
        r.send(ctx, 204);
    };

    return { versions, disable, enable, restore, sync };
}
