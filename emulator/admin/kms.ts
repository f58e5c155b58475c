// KMS's part of the admin API (/__emulator/kms/, no token): what only another IBM service or time itself does
// in the cloud. `registrations` stands for a service (Cloud Object Storage, a database) registering or dropping
// its use of a key; `clock` moves KMS's clock forward, so the documented waits can be tested without waiting.
import { AdminError } from "../core/errors";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { InstanceRecord, KmsKeyRecord } from "../core/state";
import { KmsRoutes } from "../kms/keys";
import { renderRegistration } from "../kms/registrations";

const CRN = /^crn:v1:[^:]*:[^:]*:[^:]+:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*$/;

function body(ctx: Ctx): Record<string, unknown> {
    let b: unknown;
    try {
        b = ctx.body.length ? JSON.parse(ctx.body.toString("utf8")) : {};
    } catch {
        throw new AdminError(400, "the body must be JSON");
    }
    if (!b || typeof b !== "object" || Array.isArray(b)) throw new AdminError(400, "the body must be a JSON object");
    return b as Record<string, unknown>;
}

function str(b: Record<string, unknown>, name: string): string {
    const v = b[name];
    if (typeof v !== "string" || v === "") throw new AdminError(400, `${name} must be a non-empty string`);
    return v;
}

export function kmsAdminHandlers(r: KmsRoutes) {
    const emu = r.emu;
    const keyOf = (b: Record<string, unknown>): { inst: InstanceRecord; k: KmsKeyRecord } => {
        const inst = emu.store.instance(str(b, "instance"));
        if (!inst) throw new AdminError(404, `instance ${String(b.instance)} does not exist`);
        const k = r.findKey(inst, str(b, "key"));
        if (!k) throw new AdminError(404, `key ${String(b.key)} does not exist in instance ${inst.guid}`);
        return { inst, k };
    };

    // {instance, key (id or alias), resourceCrn, description?, preventKeyDeletion?, keyVersion?} → 201 the registration
    const register: Handler = (ctx) => {
        const b = body(ctx);
        const { k } = keyOf(b);
        const resourceCrn = str(b, "resourceCrn");
        if (!CRN.test(resourceCrn)) throw new AdminError(400, "resourceCrn must be a CRN (crn:v1:bluemix:public:<service>:<region>:a/<account>:<instance>::)");
        if (b.description !== undefined && typeof b.description !== "string") throw new AdminError(400, "description must be a string");
        if (b.preventKeyDeletion !== undefined && typeof b.preventKeyDeletion !== "boolean") throw new AdminError(400, "preventKeyDeletion must be a boolean");
        if (k.deleted) throw new AdminError(409, `key ${k.id} is deleted: a service registers only an active key`);
        if (k.registrations?.some((g) => g.resourceCrn === resourceCrn)) throw new AdminError(409, `${resourceCrn} is already registered with key ${k.id}`);
        const versions = k.extractable ? [] : r.crypto.versionsOf(k);
        const keyVersion = b.keyVersion === undefined ? (versions[versions.length - 1]?.id ?? k.keyVersion.id) : b.keyVersion;
        if (typeof keyVersion !== "string" || (!k.extractable && !versions.some((v) => v.id === keyVersion))) {
            throw new AdminError(400, `keyVersion must be one of key ${k.id}'s versions`);
        }
        const now = r.time();
        const by = `crn-${resourceCrn}`;
        const g = {
            resourceCrn,
            ...(b.description !== undefined ? { description: b.description as string } : {}),
            preventKeyDeletion: b.preventKeyDeletion === true,
            keyVersion,
            createdBy: by,
            creationDate: now,
            updatedBy: by,
            lastUpdated: now,
        };
        k.registrations = [...(k.registrations ?? []), g];
        emu.store.save();
        ctx.send(201, renderRegistration(r, k, g));
    };

    // ?instance=&key=&resourceCrn= → 204: the service no longer uses the key
    const unregister: Handler = (ctx) => {
        const q = Object.fromEntries(["instance", "key", "resourceCrn"].map((n) => [n, ctx.query.get(n) ?? undefined]));
        const { k } = keyOf(q);
        const resourceCrn = str(q, "resourceCrn");
        if (!k.registrations?.some((g) => g.resourceCrn === resourceCrn)) throw new AdminError(404, `${resourceCrn} is not registered with key ${k.id}`);
        k.registrations = k.registrations.filter((g) => g.resourceCrn !== resourceCrn);
        emu.store.save();
        ctx.send(204);
    };

    const clock: Handler = (ctx) => {
        ctx.send(200, { now: new Date(r.nowMs()).toISOString(), offsetSeconds: (emu.store.data.kmsClockOffsetMs ?? 0) / 1000 });
    };

    // {advanceSeconds} → the clock moves forward (never back: dates already written must stay in the past)
    const advanceClock: Handler = (ctx) => {
        const s = body(ctx).advanceSeconds;
        if (typeof s !== "number" || !Number.isFinite(s) || s <= 0) throw new AdminError(400, "advanceSeconds must be a positive number of seconds");
        emu.store.data.kmsClockOffsetMs = (emu.store.data.kmsClockOffsetMs ?? 0) + s * 1000;
        emu.store.save();
        ctx.send(200, { now: new Date(r.nowMs()).toISOString(), offsetSeconds: emu.store.data.kmsClockOffsetMs / 1000 });
    };

    return { register, unregister, clock, advanceClock };
}
