// Contract of the state file: loaded at start, rewritten atomically after each change, survives restarts.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startEmulator } from "../../emulator";
import { APIKEY_GRANT, call, expectStatus, grant, ROLE, ServiceIdWithKey, serviceIdWithKey, tokenFor, tokenRequest } from "./helpers";

describe("emulator: state file", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-state-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("keeps account, owner key, signing key, identities, policies and KMS keys across a restart", async () => {
        const file = path.join(dir, "nested", "state.json");
        const first = await startEmulator({ port: 0, stateFile: file });
        let sid: ServiceIdWithKey, token: string, policyId: string, keyId: string;
        try {
            assert.ok(fs.existsSync(file), "written at start");
            const owner = await tokenFor(first.url, first.apiKey);
            sid = await serviceIdWithKey(first, owner, "persisted");
            policyId = (await grant(first, owner, sid.iamId, [ROLE.reader], { serviceName: "hs-crypto" })).body.id;
            token = await tokenFor(first.url, sid.apikey);
            const key = await call(first.url, "POST", "/api/v2/keys", {
                token: owner,
                headers: { "bluemix-instance": first.instances[0].guid, "Content-Type": "application/json" },
                body: { metadata: { collectionType: "application/vnd.ibm.kms.key+json", collectionTotal: 1 }, resources: [{ name: "kept" }] },
            });
            expectStatus(key, 201);
            keyId = key.body.resources[0].id;
            assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), ["state.json"], "no temporary files left behind");
            assert.strictEqual(fs.statSync(file).mode & 0o077, 0, "the file holds keys: owner-only permissions");
        } finally {
            await first.stop();
        }

        const second = await startEmulator({ port: 0, stateFile: file });
        try {
            assert.strictEqual(second.accountId, first.accountId);
            assert.strictEqual(second.apiKey, first.apiKey);
            assert.deepStrictEqual(second.instances, first.instances);
            assert.notStrictEqual(second.url, first.url);
            // a token minted by the first run is still valid: the signing key was persisted
            const got = await call(second.url, "GET", `/v1/serviceids/${sid.id}`, { token });
            expectStatus(got, 200);
            assert.strictEqual(got.body.name, "persisted");
            expectStatus(await tokenRequest(second.url, { grant_type: APIKEY_GRANT, apikey: sid.apikey }), 200);
            const owner = await tokenFor(second.url, second.apiKey);
            expectStatus(await call(second.url, "GET", `/v1/policies/${policyId}`, { token: owner }), 200);
            const listed = await call(second.url, "GET", "/api/v2/keys", { token, headers: { "bluemix-instance": second.instances[0].guid } });
            expectStatus(listed, 200);
            assert.deepStrictEqual(
                listed.body.resources.map((k: { id: string }) => k.id),
                [keyId],
            );
        } finally {
            await second.stop();
        }
    });

    it("stores API key values only as hashes unless store_value was asked for", async () => {
        const file = path.join(dir, "hashes.json");
        const emu = await startEmulator({ port: 0, stateFile: file });
        try {
            const owner = await tokenFor(emu.url, emu.apiKey);
            const sid = await serviceIdWithKey(emu, owner, "hashed");
            const text = fs.readFileSync(file, "utf8");
            assert.ok(!text.includes(sid.apikey), "a service ID's key value is not in the file");
        } finally {
            await emu.stop();
        }
    });

    it("refuses an expired API key after the state says so (expires_at in the past)", async () => {
        const file = path.join(dir, "expiry.json");
        let apikey: string;
        const first = await startEmulator({ port: 0, stateFile: file });
        try {
            const owner = await tokenFor(first.url, first.apiKey);
            const sid = await serviceIdWithKey(first, owner, "expiring");
            apikey = sid.apikey;
        } finally {
            await first.stop();
        }
        // time travel by editing the file: the API refuses past dates, so this is the only way in
        const state = JSON.parse(fs.readFileSync(file, "utf8"));
        for (const k of state.apiKeys) if (k.iamId.startsWith("iam-")) k.expiresAt = "2001-01-01T00:00+0000";
        fs.writeFileSync(file, JSON.stringify(state));
        const second = await startEmulator({ port: 0, stateFile: file });
        try {
            const r = await tokenRequest(second.url, { grant_type: APIKEY_GRANT, apikey });
            expectStatus(r, 400);
            assert.strictEqual(r.body.errorCode, "BXNIM0415E");
        } finally {
            await second.stop();
        }
    });

    it("refuses to start on a file that is not emulator state, and leaves it untouched", async () => {
        const file = path.join(dir, "foreign.json");
        fs.writeFileSync(file, '{"hello":"world"}');
        await assert.rejects(startEmulator({ port: 0, stateFile: file }), /not an emulator state/);
        assert.strictEqual(fs.readFileSync(file, "utf8"), '{"hello":"world"}');
    });

    it("honours accountId and ownerApiKey options on a fresh state", async () => {
        const ownerApiKey = "k".repeat(44);
        const emu = await startEmulator({ port: 0, accountId: "a".repeat(32), ownerApiKey });
        try {
            assert.strictEqual(emu.accountId, "a".repeat(32));
            const token = await tokenFor(emu.url, ownerApiKey);
            expectStatus(await call(emu.url, "GET", `/v1/serviceids/?account_id=${"a".repeat(32)}`, { token }), 200);
        } finally {
            await emu.stop();
        }
    });
});
