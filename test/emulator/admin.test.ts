// Contract of the admin API under /__emulator/ and of the per-request middleware slot.
import * as assert from "assert";
import { RunningEmulator, startEmulator } from "../../emulator";
import { Emulator } from "../../emulator/app";
import { call, expectStatus, grant, ROLE, serviceIdWithKey, tokenFor } from "./helpers";

const KEY_TYPE = "application/vnd.ibm.kms.key+json";

describe("emulator: admin API", () => {
    let emu: RunningEmulator;
    let owner: string;

    before(async () => {
        emu = await startEmulator({ port: 0 });
        owner = await tokenFor(emu.url, emu.apiKey);
    });
    after(() => emu.stop());

    it("GET /__emulator/state shows everything except secrets, with counts, and needs no token", async () => {
        const sid = await serviceIdWithKey(emu, owner, "admin-view");
        const stored = await call(emu.url, "POST", "/v1/apikeys", { token: owner, body: { iam_id: sid.iamId, name: "stored", store_value: true } });
        expectStatus(stored, 201);
        await grant(emu, owner, sid.iamId, [ROLE.reader], { serviceName: "hs-crypto" });
        const key = await call(emu.url, "POST", "/api/v2/keys", {
            token: owner,
            headers: { "bluemix-instance": emu.instances[0].guid, "Content-Type": KEY_TYPE },
            body: { metadata: { collectionType: KEY_TYPE, collectionTotal: 1 }, resources: [{ type: KEY_TYPE, name: "std", extractable: true }] },
        });
        expectStatus(key, 201);

        const r = await call(emu.url, "GET", "/__emulator/state");
        expectStatus(r, 200);
        const s = r.body;
        assert.strictEqual(s.accountId, emu.accountId);
        assert.deepStrictEqual(s.instances, emu.instances);
        assert.ok(s.serviceIds.some((x: { id: string }) => x.id === sid.id));
        assert.strictEqual(s.counts.serviceIds, 1);
        assert.strictEqual(s.counts.apiKeys, 3, "owner key + inline key + stored key");
        assert.strictEqual(s.counts.policies, 1);
        assert.strictEqual(s.counts.kmsKeys, 1);
        assert.strictEqual(s.policies[0].state, "active");
        assert.ok(s.apiKeys.every((k: Record<string, unknown>) => !("apikey" in k) && !("valueHash" in k) && !("storedValue" in k)));
        assert.ok(!r.text.includes(emu.apiKey), "the owner key never appears");
        assert.ok(!r.text.includes(sid.apikey), "generated values never appear");
        assert.ok(!r.text.includes(stored.body.apikey), "stored values never appear");
        assert.ok(!r.text.includes('"payload"'), "KMS material never appears");
        assert.strictEqual(r.headers.get("transaction-id"), null, "admin answers are not IBM answers");
    });

    it("POST /__emulator/reset empties the account but keeps the owner, account id and seeded instances", async () => {
        expectStatus(await call(emu.url, "POST", "/__emulator/instances", { body: { service: "kms" } }), 201);
        expectStatus(await call(emu.url, "POST", "/__emulator/reset"), 204);
        const s = (await call(emu.url, "GET", "/__emulator/state")).body;
        assert.strictEqual(s.accountId, emu.accountId);
        assert.deepStrictEqual(s.instances, emu.instances);
        assert.deepStrictEqual([s.counts.serviceIds, s.counts.apiKeys, s.counts.policies, s.counts.kmsKeys], [0, 1, 0, 0]);
        // the owner key still works, and so does a token issued before the reset
        const fresh = await tokenFor(emu.url, emu.apiKey);
        expectStatus(await call(emu.url, "GET", `/v1/serviceids/?account_id=${emu.accountId}`, { token: fresh }), 200);
        expectStatus(await call(emu.url, "GET", `/v1/serviceids/?account_id=${emu.accountId}`, { token: owner }), 200);
    });

    it("answers unknown admin paths with 404 and bad bodies with 400", async () => {
        expectStatus(await call(emu.url, "GET", "/__emulator/nope"), 404);
        expectStatus(await call(emu.url, "POST", "/__emulator/instances", { body: "not json" }), 400);
        expectStatus(await call(emu.url, "GET", "/__emulator/reset"), 405);
    });

    it("unknown IBM paths come back in each family's envelope", async () => {
        const iam = await call(emu.url, "GET", "/v1/nothing", { token: owner });
        expectStatus(iam, 404);
        assert.strictEqual(iam.body.errors[0].code, "not_found");
        const kms = await call(emu.url, "GET", "/api/v2/nothing", { token: owner, headers: { "bluemix-instance": emu.instances[0].guid } });
        expectStatus(kms, 404);
        assert.strictEqual(kms.body.metadata.collectionType, "application/vnd.ibm.kms.error+json");
    });

    it("runs per-request middlewares before the routes (the fault-injection slot)", async () => {
        const inner = new Emulator({});
        inner.use(async (ctx, next) => {
            if (ctx.path === "/identity/token" && ctx.header("x-test-fault") === "503") {
                ctx.send(503, { errorCode: "BXNIM0503E", errorMessage: "injected" });
                return;
            }
            await next();
        });
        const url = await inner.listen(0, "127.0.0.1");
        try {
            const form = (h: Record<string, string>) =>
                call(url, "POST", "/identity/token", {
                    body: new URLSearchParams({ grant_type: "urn:ibm:params:oauth:grant-type:apikey", apikey: inner.store.data.ownerApiKey }).toString(),
                    headers: { "Content-Type": "application/x-www-form-urlencoded", ...h },
                });
            expectStatus(await form({ "x-test-fault": "503" }), 503);
            expectStatus(await form({}), 200);
        } finally {
            await inner.close();
        }
    });
});
