// Out-of-band admin API under /__emulator/ (no token): inspect, declare instances, reset.
import type { Emulator } from "./app";
import { redactedApiKey, renderServiceId } from "./identity";
import { AdminError, Ctx, Router } from "./server";
import { KmsInstanceSpec, normalizeInstance } from "./state";

const admin = { family: "admin" as const, auth: false };

export function registerAdminRoutes(router: Router, emu: Emulator): void {
    router.add("GET", "/__emulator/state", admin, (ctx) => {
        const d = emu.store.data;
        const policies = d.policies.map((p) => ({ id: p.id, state: p.state, ...p.body, created_at: p.createdAt, last_modified_at: p.lastModifiedAt }));
        // KMS payloads stay secret here too: the admin view is for assertions, not for extraction
        const kmsKeys = d.kmsKeys.map(({ payload: _payload, ...k }) => k);
        ctx.send(200, {
            accountId: d.accountId,
            owner: { iam_id: d.owner.iamId, apikey_id: d.ownerApiKeyId },
            instances: d.instances,
            serviceIds: d.serviceIds.map((s) => renderServiceId(emu, s)),
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
