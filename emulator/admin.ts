// Out-of-band admin API under /__emulator/ (no token): inspect, declare instances, reset, faults, rate limit, stats.
import type { Emulator } from "./app";
import { checkFaultRule, checkRateLimit, checkSeed, FaultConfigError, FaultRule } from "./faults";
import { redactedApiKey } from "./apiKeys";
import { renderServiceId } from "./serviceIds";
import { AdminError, Ctx, Router } from "./server";
import { KmsInstanceSpec, normalizeInstance } from "./state";

const admin = { family: "admin" as const, auth: false };

export function registerAdminRoutes(router: Router, emu: Emulator): void {
    router.add("GET", "/__emulator/state", admin, (ctx) => {
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
    });

    router.add("POST", "/__emulator/instances", admin, (ctx) => {
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
    });

    router.add("POST", "/__emulator/reset", admin, (ctx) => {
        emu.store.reset(emu.seedInstances);
        ctx.send(204);
    });

    registerFaultRoutes(router, emu);
}

/** Faults, rate limit and stats; a bad body is a 400 naming the field, and changes nothing. */
function registerFaultRoutes(router: Router, emu: Emulator): void {
    const faults = emu.faults;
    router.add("GET", "/__emulator/faults", admin, (ctx) => {
        ctx.send(200, { rules: faults.list(), seed: faults.seed, rateLimit: faults.rateLimit });
    });

    router.add("POST", "/__emulator/faults", admin, (ctx) => {
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
    });

    router.add("DELETE", "/__emulator/faults", admin, (ctx) => {
        faults.clear();
        ctx.send(204);
    });

    router.add("DELETE", "/__emulator/faults/:id", admin, (ctx) => {
        if (!faults.remove(ctx.params.id)) throw new AdminError(404, `no fault rule ${ctx.params.id} (GET /__emulator/faults lists them)`);
        ctx.send(204);
    });

    router.add("PUT", "/__emulator/rate-limit", admin, (ctx) => {
        const b = parse(ctx);
        faults.setRateLimit(configured(() => checkRateLimit(b, "")));
        ctx.send(200, faults.rateLimit);
    });

    router.add("DELETE", "/__emulator/rate-limit", admin, (ctx) => {
        faults.setRateLimit(null);
        ctx.send(204);
    });

    router.add("GET", "/__emulator/stats", admin, (ctx) => {
        ctx.send(200, faults.stats());
    });

    router.add("POST", "/__emulator/stats/reset", admin, (ctx) => {
        faults.resetStats();
        ctx.send(204);
    });
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
