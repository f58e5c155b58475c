// Contract of the KMS keys API (Key Protect / HPCS) and its enforcement of IAM policies.
import * as assert from "assert";
import * as crypto from "crypto";
import { RunningEmulator, startEmulator } from "../../emulator";
import { advanceKmsClock, call, CallOptions, expectStatus, grant, Reply, ROLE, serviceIdWithKey, sleep, tokenFor } from "./helpers";

const KEY_TYPE = "application/vnd.ibm.kms.key+json";
const UNAUTHORIZED = "Unauthorized: The user does not have access to the specified resource";

function keyBody(name: string, extra: Record<string, unknown> = {}) {
    return { metadata: { collectionType: KEY_TYPE, collectionTotal: 1 }, resources: [{ type: KEY_TYPE, name, extractable: false, ...extra }] };
}

describe("emulator: KMS keys", () => {
    let emu: RunningEmulator;
    let owner: string;
    let hpcs: string;
    let kp: string;

    before(async () => {
        emu = await startEmulator({
            port: 0,
            instances: [
                { service: "hs-crypto", region: "us-south", guid: crypto.randomUUID() },
                { service: "kms", region: "eu-de", name: "kp" },
            ],
        });
        owner = await tokenFor(emu.url, emu.apiKey);
        hpcs = emu.instances[0].guid;
        kp = emu.instances[1].guid;
    });
    after(() => emu.stop());

    const kms = (method: string, path: string, instance: string, token: string | undefined, opts: CallOptions = {}) =>
        call(emu.url, method, `/api/v2/keys${path}`, {
            ...opts,
            token,
            headers: { "bluemix-instance": instance, ...(opts.body ? { "Content-Type": KEY_TYPE } : {}), ...opts.headers },
        });
    const createKey = (instance: string, token: string, name: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
        kms("POST", "", instance, token, { body: keyBody(name, extra), headers });

    function assertUnauthorized(r: Reply) {
        expectStatus(r, 401);
        assert.strictEqual(r.body.metadata.collectionType, "application/vnd.ibm.kms.error+json");
        assert.strictEqual(r.body.resources[0].errorMsg, UNAUTHORIZED);
        assert.strictEqual(r.body.resources[0].reasons[0].status, 401);
    }

    describe("as the owner", () => {
        it("creates a root key with the KMS envelope and key fields", async () => {
            const r = await createKey(hpcs, owner, "root-1", { description: "root" }, { "correlation-id": "corr-42" });
            expectStatus(r, 201);
            assert.strictEqual(r.headers.get("correlation-id"), "corr-42");
            assert.deepStrictEqual(r.body.metadata, { collectionType: KEY_TYPE, collectionTotal: 1 });
            const k = r.body.resources[0];
            assert.match(k.id, /^[0-9a-f-]{36}$/);
            assert.strictEqual(k.name, "root-1");
            assert.strictEqual(k.description, "root");
            assert.strictEqual(k.state, 1);
            assert.strictEqual(k.extractable, false);
            assert.strictEqual(k.imported, false);
            assert.strictEqual(k.crn, `crn:v1:bluemix:public:hs-crypto:us-south:a/${emu.accountId}:${hpcs}:key:${k.id}`);
            assert.strictEqual(k.algorithmType, "AES");
            assert.strictEqual(k.algorithmBitSize, 256);
            assert.strictEqual(k.keyVersion.id, k.id);
            assert.strictEqual(k.deleted, false);
            assert.strictEqual(k.keyRingID, "default");
            assert.match(k.createdBy, /^IBMid-/);
            assert.match(k.creationDate, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
            assert.strictEqual(k.payload, undefined);
            const got = await kms("GET", `/${k.id}`, hpcs, owner);
            expectStatus(got, 200);
            assert.strictEqual(got.body.resources[0].payload, undefined, "root keys never reveal material");
        });

        it("creates standard keys (generated or imported) whose payload GET returns", async () => {
            const gen = await createKey(kp, owner, "std-gen", { extractable: true });
            expectStatus(gen, 201);
            assert.match(gen.body.resources[0].crn, /^crn:v1:bluemix:public:kms:eu-de:/);
            const got = await kms("GET", `/${gen.body.resources[0].id}`, kp, owner);
            assert.strictEqual(Buffer.from(got.body.resources[0].payload, "base64").length, 32);
            const payload = crypto.randomBytes(48).toString("base64");
            const imp = await createKey(kp, owner, "std-imp", { extractable: true, payload });
            expectStatus(imp, 201);
            assert.strictEqual(imp.body.resources[0].imported, true);
            assert.strictEqual((await kms("GET", `/${imp.body.resources[0].id}`, kp, owner)).body.resources[0].payload, payload);
            const rootImport = await createKey(kp, owner, "root-imp", { payload: crypto.randomBytes(32).toString("base64") });
            expectStatus(rootImport, 201);
            assert.strictEqual(rootImport.body.resources[0].imported, true);
        });

        it("validates bodies, headers and content type in the KMS error envelope", async () => {
            const cases = [
                kms("POST", "", hpcs, owner, { body: { resources: [{ name: "x1" }] } }),
                createKey(hpcs, owner, "x"),
                createKey(hpcs, owner, "bad-payload", { payload: "!!notbase64" }),
                createKey(hpcs, owner, "short-root", { payload: crypto.randomBytes(7).toString("base64") }),
                kms("POST", "", hpcs, owner, { body: keyBody("ct"), headers: { "Content-Type": "text/plain" } }),
                createKey(hpcs, owner, "ring", {}, { "x-kms-key-ring": "bad ring!" }),
                kms("GET", "?limit=5001", hpcs, owner),
                kms("GET", "?offset=-1", hpcs, owner),
            ];
            for (const r of await Promise.all(cases)) {
                expectStatus(r, 400);
                assert.strictEqual(r.body.metadata.collectionType, "application/vnd.ibm.kms.error+json");
                assert.ok(r.body.resources[0].reasons[0].code);
            }
            const noInstance = await call(emu.url, "GET", "/api/v2/keys", { token: owner });
            expectStatus(noInstance, 400);
        });

        it("answers an unknown instance like the cloud: 401", async () => {
            assertUnauthorized(await kms("GET", "", crypto.randomUUID(), owner));
        });

        it("lists with limit/offset and filters by key ring", async () => {
            const ring = `ring-${crypto.randomBytes(3).toString("hex")}`;
            // as on IBM, the ring is created before keys go in it
            expectStatus(await call(emu.url, "POST", `/api/v2/key_rings/${ring}`, { token: owner, headers: { "bluemix-instance": hpcs } }), 201);
            for (let i = 0; i < 3; i++) expectStatus(await createKey(hpcs, owner, `ringed-${i}`, {}, { "x-kms-key-ring": ring }), 201);
            const inRing = await kms("GET", "", hpcs, owner, { headers: { "x-kms-key-ring": ring } });
            expectStatus(inRing, 200);
            assert.strictEqual(inRing.body.resources.length, 3);
            assert.strictEqual(inRing.body.metadata.collectionTotal, 3);
            assert.ok(inRing.body.resources.every((k: { keyRingID: string; payload?: string }) => k.keyRingID === ring && k.payload === undefined));
            const page = await kms("GET", "?limit=2&offset=1", hpcs, owner, { headers: { "x-kms-key-ring": ring } });
            assert.deepStrictEqual(
                page.body.resources.map((k: { name: string }) => k.name),
                ["ringed-1", "ringed-2"],
            );
            const all = await kms("GET", "", hpcs, owner);
            assert.ok(all.body.resources.length >= 4);
            const otherInstance = await kms("GET", "", kp, owner);
            assert.ok(otherInstance.body.resources.every((k: { crn: string }) => k.crn.includes(`:${kp}:`)));
        });

        it("reads metadata, deletes with and without a representation, and then answers 410", async () => {
            const a = (await createKey(hpcs, owner, "del-a")).body.resources[0];
            const b = (await createKey(hpcs, owner, "del-b")).body.resources[0];
            const md = await kms("GET", `/${a.id}/metadata`, hpcs, owner);
            expectStatus(md, 200);
            assert.strictEqual(md.body.resources[0].id, a.id);

            const quiet = await kms("DELETE", `/${a.id}`, hpcs, owner);
            expectStatus(quiet, 204);
            assert.strictEqual(quiet.text, "");
            const rep = await kms("DELETE", `/${b.id}?force=true`, hpcs, owner, { headers: { Prefer: "return=representation" } });
            expectStatus(rep, 200);
            assert.strictEqual(rep.body.resources[0].state, 5);
            assert.strictEqual(rep.body.resources[0].deleted, true);
            assert.ok(rep.body.resources[0].deletionDate);

            const gone = await kms("GET", `/${a.id}`, hpcs, owner);
            expectStatus(gone, 410);
            assert.strictEqual(gone.body.metadata.collectionType, "application/vnd.ibm.kms.error+json");
            expectStatus(await kms("DELETE", `/${a.id}`, hpcs, owner), 410);
            const deletedMd = await kms("GET", `/${a.id}/metadata`, hpcs, owner);
            expectStatus(deletedMd, 200);
            assert.strictEqual(deletedMd.body.resources[0].state, 5);
            const listed = await kms("GET", "", hpcs, owner);
            assert.ok(!listed.body.resources.some((k: { id: string }) => k.id === a.id), "deleted keys are not listed by default");
            const listedDeleted = await kms("GET", "?state=5", hpcs, owner);
            assert.ok(listedDeleted.body.resources.some((k: { id: string }) => k.id === a.id));
        });

        it("answers an unknown key with 404 KEY_NOT_FOUND_ERR", async () => {
            const r = await kms("GET", `/${crypto.randomUUID()}`, hpcs, owner);
            expectStatus(r, 404);
            assert.strictEqual(r.body.resources[0].reasons[0].code, "KEY_NOT_FOUND_ERR");
            assert.strictEqual(r.body.resources[0].reasons[0].status, 404);
        });

        it("rotates root keys (new version) and purges deleted keys", async () => {
            const k = (await createKey(hpcs, owner, "rot")).body.resources[0];
            expectStatus(await kms("POST", `/${k.id}/actions/rotate`, hpcs, owner), 204);
            const after = (await kms("GET", `/${k.id}/metadata`, hpcs, owner)).body.resources[0];
            assert.notStrictEqual(after.keyVersion.id, k.keyVersion.id);
            const notDeleted = await kms("DELETE", `/${k.id}/purge`, hpcs, owner);
            expectStatus(notDeleted, 409);
            assert.strictEqual(notDeleted.body.resources[0].reasons[0].code, "KEY_ACTION_INVALID_STATE_ERR");
            expectStatus(await kms("DELETE", `/${k.id}`, hpcs, owner), 204);
            // IBM: purge waits 4 hours after the delete
            const early = await kms("DELETE", `/${k.id}/purge`, hpcs, owner);
            expectStatus(early, 409);
            assert.strictEqual(early.body.resources[0].reasons[0].code, "REQ_TOO_EARLY_ERR");
            await advanceKmsClock(emu.url, 4 * 3600);
            expectStatus(await kms("DELETE", `/${k.id}/purge`, hpcs, owner), 204);
            expectStatus(await kms("GET", `/${k.id}/metadata`, hpcs, owner), 404);
        });
    });

    describe("enforcement by policy", () => {
        it("refuses a missing or invalid token with 401 in the KMS envelope", async () => {
            assertUnauthorized(await kms("GET", "", hpcs, undefined));
            assertUnauthorized(await kms("GET", "", hpcs, "garbage.token.here"));
        });

        it("a service ID without a policy gets 401 for every call", async () => {
            const sid = await serviceIdWithKey(emu, owner, "kms-none");
            const token = await tokenFor(emu.url, sid.apikey);
            const existing = (await createKey(hpcs, owner, "someone-elses")).body.resources[0];
            assertUnauthorized(await kms("GET", "", hpcs, token));
            assertUnauthorized(await createKey(hpcs, token, "mine"));
            assertUnauthorized(await kms("GET", `/${existing.id}/metadata`, hpcs, token));
            // existence does not leak: an unknown key id is also 401, not 404
            assertUnauthorized(await kms("GET", `/${crypto.randomUUID()}/metadata`, hpcs, token));
        });

        it("Reader lists and reads metadata but cannot create, read standard payloads or delete", async () => {
            const sid = await serviceIdWithKey(emu, owner, "kms-reader");
            await grant(emu, owner, sid.iamId, [ROLE.reader], { serviceName: "kms", serviceInstance: kp });
            const token = await tokenFor(emu.url, sid.apikey);
            const std = (await createKey(kp, owner, "std-for-reader", { extractable: true })).body.resources[0];
            expectStatus(await kms("GET", "", kp, token), 200);
            expectStatus(await kms("GET", `/${std.id}/metadata`, kp, token), 200);
            assertUnauthorized(await createKey(kp, token, "nope"));
            assertUnauthorized(await kms("GET", `/${std.id}`, kp, token));
            assertUnauthorized(await kms("DELETE", `/${std.id}`, kp, token));
            // the policy names one instance: the other one stays closed
            assertUnauthorized(await kms("GET", "", hpcs, token));
        });

        it("ReaderPlus also reads standard-key payloads", async () => {
            const sid = await serviceIdWithKey(emu, owner, "kms-readerplus");
            await grant(emu, owner, sid.iamId, [ROLE.kmsReaderPlus], { serviceName: "kms", serviceInstance: kp });
            const token = await tokenFor(emu.url, sid.apikey);
            const std = (await createKey(kp, owner, "std-for-rp", { extractable: true })).body.resources[0];
            const got = await kms("GET", `/${std.id}`, kp, token);
            expectStatus(got, 200);
            assert.ok(got.body.resources[0].payload);
            assertUnauthorized(await createKey(kp, token, "nope"));
        });

        it("Writer creates, imports and rotates but cannot delete; Manager deletes", async () => {
            const sid = await serviceIdWithKey(emu, owner, "kms-writer");
            const pol = await grant(emu, owner, sid.iamId, [ROLE.writer], { serviceName: "hs-crypto", serviceInstance: hpcs });
            const token = await tokenFor(emu.url, sid.apikey);
            const created = await createKey(hpcs, token, "by-writer");
            expectStatus(created, 201);
            const k = created.body.resources[0];
            assert.strictEqual(k.createdBy, sid.iamId);
            expectStatus(await createKey(hpcs, token, "imported", { payload: crypto.randomBytes(32).toString("base64") }), 201);
            expectStatus(await kms("POST", `/${k.id}/actions/rotate`, hpcs, token), 204);
            expectStatus(await kms("GET", "", hpcs, token), 200);
            assertUnauthorized(await kms("DELETE", `/${k.id}`, hpcs, token));

            const upgraded = { ...pol.body, roles: [{ role_id: ROLE.manager }] };
            const put = await call(emu.url, "PUT", `/v1/policies/${pol.body.id}`, {
                token: owner,
                body: upgraded,
                headers: { "If-Match": pol.headers.get("etag")! },
            });
            expectStatus(put, 200);
            expectStatus(await kms("DELETE", `/${k.id}`, hpcs, token), 204);
        });

        it("KeyPurge only purges", async () => {
            const sid = await serviceIdWithKey(emu, owner, "kms-purger");
            await grant(emu, owner, sid.iamId, [ROLE.hpcsKeyPurge], { serviceName: "hs-crypto", serviceInstance: hpcs });
            const token = await tokenFor(emu.url, sid.apikey);
            const k = (await createKey(hpcs, owner, "to-purge")).body.resources[0];
            assertUnauthorized(await kms("GET", "", hpcs, token));
            assertUnauthorized(await kms("DELETE", `/${k.id}`, hpcs, token));
            expectStatus(await kms("DELETE", `/${k.id}`, hpcs, owner), 204);
            await advanceKmsClock(emu.url, 4 * 3600);
            expectStatus(await kms("DELETE", `/${k.id}/purge`, hpcs, token), 204);
        });

        it("a service-wide policy (no serviceInstance) covers every instance of that service only", async () => {
            const sid = await serviceIdWithKey(emu, owner, "kms-servicewide");
            await grant(emu, owner, sid.iamId, [ROLE.reader], { serviceName: "hs-crypto" });
            const token = await tokenFor(emu.url, sid.apikey);
            expectStatus(await kms("GET", "", hpcs, token), 200);
            assertUnauthorized(await kms("GET", "", kp, token));
        });

        it("a deleted policy, or a deleted service ID, closes access again", async () => {
            const sid = await serviceIdWithKey(emu, owner, "kms-revoked");
            const pol = await grant(emu, owner, sid.iamId, [ROLE.reader], { serviceName: "hs-crypto", serviceInstance: hpcs });
            const token = await tokenFor(emu.url, sid.apikey);
            expectStatus(await kms("GET", "", hpcs, token), 200);
            expectStatus(await call(emu.url, "DELETE", `/v1/policies/${pol.body.id}`, { token: owner }), 204);
            assertUnauthorized(await kms("GET", "", hpcs, token));

            await grant(emu, owner, sid.iamId, [ROLE.reader], { serviceName: "hs-crypto", serviceInstance: hpcs });
            expectStatus(await kms("GET", "", hpcs, token), 200);
            expectStatus(await call(emu.url, "DELETE", `/v1/serviceids/${sid.id}`, { token: owner }), 204);
            // the token is still a valid bearer, but its policies are now in state deleted
            assertUnauthorized(await kms("GET", "", hpcs, token));
        });
    });

    describe("propagation delay and declared instances", () => {
        let slow: RunningEmulator;
        before(async () => {
            slow = await startEmulator({ port: 0, policyPropagationDelayMs: 300 });
        });
        after(() => slow.stop());

        it("a new KMS policy counts only after policyPropagationDelayMs; a replace keeps the old grant meanwhile", async () => {
            const o = await tokenFor(slow.url, slow.apiKey);
            const inst = slow.instances[0].guid;
            const sid = await serviceIdWithKey(slow, o, "slow-kms");
            const token = await tokenFor(slow.url, sid.apikey);
            const list = () => call(slow.url, "GET", "/api/v2/keys", { token, headers: { "bluemix-instance": inst } });
            const create = () =>
                call(slow.url, "POST", "/api/v2/keys", { token, body: keyBody("slow"), headers: { "bluemix-instance": inst, "Content-Type": KEY_TYPE } });
            const pol = await grant(slow, o, sid.iamId, [ROLE.reader], { serviceName: "hs-crypto", serviceInstance: inst });
            assertUnauthorized(await list());
            await sleep(350);
            expectStatus(await list(), 200);

            const upgraded = { ...pol.body, roles: [{ role_id: ROLE.writer }] };
            expectStatus(await call(slow.url, "PUT", `/v1/policies/${pol.body.id}`, { token: o, body: upgraded, headers: { "If-Match": "*" } }), 200);
            expectStatus(await list(), 200); // the Reader grant is still in force
            assertUnauthorized(await create());
            await sleep(350);
            expectStatus(await create(), 201);
        });

        it("declares instances through POST /__emulator/instances", async () => {
            const guid = crypto.randomUUID();
            const r = await call(slow.url, "POST", "/__emulator/instances", { body: { service: "kms", region: "eu-gb", guid } });
            expectStatus(r, 201);
            assert.deepStrictEqual(r.body, { guid, service: "kms", region: "eu-gb", name: "kms-eu-gb-2" });
            expectStatus(await call(slow.url, "POST", "/__emulator/instances", { body: { service: "kms", guid } }), 409);
            expectStatus(await call(slow.url, "POST", "/__emulator/instances", { body: { service: "s3" } }), 400);
            const o = await tokenFor(slow.url, slow.apiKey);
            const k = await call(slow.url, "POST", "/api/v2/keys", {
                token: o,
                body: keyBody("new-inst"),
                headers: { "bluemix-instance": guid, "Content-Type": KEY_TYPE },
            });
            expectStatus(k, 201);
            assert.match(k.body.resources[0].crn, new RegExp(`^crn:v1:bluemix:public:kms:eu-gb:a/${slow.accountId}:${guid}:key:`));
        });
    });
});
