// Out-of-band admin API under /__emulator/ (no token): inspect, declare instances, reset, faults, rate limit, stats.
import { checkFaultRule, checkRateLimit, checkSeed, FaultConfigError, FaultInjector, FaultRule } from "../chaos/faults";
import type { EmulatorContext } from "../core/context";
import { AdminError } from "../core/errors";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { InstanceRecord, KmsInstanceSpec, normalizeInstance } from "../core/state";
import { redactedApiKey } from "../iam/apiKeys";
import { renderServiceId } from "../iam/serviceIds";

/** The admin API sees more than IBM's routes do: the seed a reset returns to, and the fault injector it configures. */
export interface AdminContext extends EmulatorContext {
    readonly seedInstances: InstanceRecord[];
    readonly faults: FaultInjector;
}

/** Inspect the account, declare instances, reset to the seed. */
export function adminHandlers(emu: AdminContext) {
    const state: Handler = (ctx) => {
        const d = emu.store.data;
        const policies = d.policies.map((p) => ({ id: p.id, state: p.state, ...p.body, created_at: p.createdAt, last_modified_at: p.lastModifiedAt }));
        // KMS payloads stay secret here too: the admin view is for assertions, not for extraction
        const kmsKeys = d.kmsKeys.map(({ payload: _payload, versions, ...k }) => ({ ...k, versions: (versions ?? []).map(({ sealed: _s, ...v }) => v) }));
        ctx.send(200, {
            accountId: d.accountId,
            owner: { iam_id: d.owner.iamId, apikey_id: d.ownerApiKeyId },
            instances: d.instances,
            serviceIds: d.serviceIds.map((s) => renderServiceId(s)),
            apiKeys: d.apiKeys.map(redactedApiKey),
            policies,
            kmsKeys,
            counts: {
                serviceIds: d.serviceIds.length,
                apiKeys: d.apiKeys.length,
                policies: d.policies.length,
                activePolicies: d.policies.filter((p) => p.state === "active").length,
                kmsKeys: d.kmsKeys.length,
                instances: d.instances.length,
                tokenRequests: emu.tokenRequests,
            },
        });
    };

    const addInstance: Handler = (ctx) => {
        const b = parse(ctx);
        if (b.service !== "hs-crypto" && b.service !== "kms") throw new AdminError(400, "service must be 'hs-crypto' or 'kms'");
        for (const f of ["guid", "region", "name"] as const) {
            if (b[f] !== undefined && (typeof b[f] !== "string" || b[f] === "")) throw new AdminError(400, `${f} must be a non-empty string`);
        }
        const spec = b as unknown as KmsInstanceSpec;
        if (spec.guid && emu.store.instance(spec.guid)) throw new AdminError(409, `instance ${spec.guid} already exists`);
        const inst = normalizeInstance(spec, emu.store.data.instances.length);
        emu.store.data.instances.push(inst);
        emu.store.save();
        ctx.send(201, inst);
    };

    const reset: Handler = (ctx) => {
        emu.store.reset(emu.seedInstances);
        ctx.send(204);
    };

    return { state, addInstance, reset };
}

/** Faults, rate limit and stats; a bad body is a 400 naming the field, and changes nothing. */
export function faultConfigHandlers(faults: FaultInjector) {
    const listFaults: Handler = (ctx) => {
        ctx.send(200, { rules: faults.list(), seed: faults.seed, rateLimit: faults.rateLimit });
    };

    const addFaults: Handler = (ctx) => {
        const b = parse(ctx);
        const { rules, seed } = configured(() => {
            for (const k of Object.keys(b)) {
                if (k !== "rules" && k !== "seed") throw new FaultConfigError(`${k} is not a field of this body (fields: rules, seed)`);
            }
            if (!Array.isArray(b.rules)) throw new FaultConfigError('rules must be an array of fault rules, like [{"kind":"status","status":503}]');
            const checked: FaultRule[] = b.rules.map((r, i) => checkFaultRule(r, `rules[${i}]`));
            return { rules: checked, seed: b.seed === undefined ? undefined : checkSeed(b.seed, "seed") };
        });
        if (seed !== undefined) faults.reseed(seed);
        ctx.send(201, { ids: faults.add(rules) });
    };

    const clearFaults: Handler = (ctx) => {
        faults.clear();
        ctx.send(204);
    };

    const removeFault: Handler = (ctx) => {
        if (!faults.remove(ctx.params.id)) throw new AdminError(404, `no fault rule ${ctx.params.id} (GET /__emulator/faults lists them)`);
        ctx.send(204);
    };

    const setRateLimit: Handler = (ctx) => {
        const b = parse(ctx);
        faults.setRateLimit(configured(() => checkRateLimit(b, "")));
        ctx.send(200, faults.rateLimit);
    };

    const removeRateLimit: Handler = (ctx) => {
        faults.setRateLimit(null);
        ctx.send(204);
    };

    const stats: Handler = (ctx) => {
        ctx.send(200, faults.stats());
    };

    const resetStats: Handler = (ctx) => {
        faults.resetStats();
        ctx.send(204);
    };

    return { listFaults, addFaults, clearFaults, removeFault, setRateLimit, removeRateLimit, stats, resetStats };
}

function configured<T>(check: () => T): T {
    try {
        return check();
    } catch (e) {
        if (e instanceof FaultConfigError) throw new AdminError(400, e.message);
        throw e;
    }
}

function parse(ctx: Ctx): Record<string, unknown> {
    let b: unknown;
    try {
        b = JSON.parse(ctx.body.toString("utf8") || "{}");
    } catch {
        throw new AdminError(400, "body must be JSON");
    }
    if (!b || typeof b !== "object" || Array.isArray(b)) throw new AdminError(400, "body must be a JSON object");
    return b as Record<string, unknown>;
}
