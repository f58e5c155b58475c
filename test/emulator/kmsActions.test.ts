// Contract of the KMS routes beyond keys: key rings, rotation, key policies, wrap/unwrap/rewrap, access
// narrowed to a key ring or one key, and service-to-service authorization policies.
import * as assert from "assert";
import * as crypto from "crypto";
import { RunningEmulator, startEmulator } from "../../emulator";
import { call, CallOptions, expectStatus, grant, Reply, ROLE, serviceIdWithKey, sleep, tokenFor } from "./helpers";

const KEY_TYPE = "application/vnd.ibm.kms.key+json";
const POLICY_TYPE = "application/vnd.ibm.kms.policy+json";

function reason(r: Reply): { code: string; status: number } {
    return r.body.resources[0].reasons[0];
}

describe("emulator: KMS key rings, actions, policies and authorizations", () => {
    const PROPAGATION_MS = 400;
    let emu: RunningEmulator;
    let owner: string;
    let kp: string;

    before(async () => {
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }], policyPropagationDelayMs: PROPAGATION_MS });
        owner = await tokenFor(emu.url, emu.apiKey);
        kp = emu.instances[0].guid;
    });
    after(() => emu.stop());

    const kms = (method: string, path: string, token: string | undefined, opts: CallOptions = {}) =>
        call(emu.url, method, `/api/v2${path}`, { ...opts, token, headers: { "bluemix-instance": kp, ...opts.headers } });
    const createKey = async (token: string, name: string, extra: Record<string, unknown> = {}, ring?: string) => {
        const r = await kms("POST", "/keys", token, {
            body: { metadata: { collectionType: KEY_TYPE, collectionTotal: 1 }, resources: [{ type: KEY_TYPE, name, extractable: false, ...extra }] },
            headers: { "Content-Type": KEY_TYPE, ...(ring ? { "x-kms-key-ring": ring } : {}) },
        });
        return r;
    };
    const rootKey = async (name: string, ring?: string) => {
        const r = await createKey(owner, name, {}, ring);
        expectStatus(r, 201);
        return r.body.resources[0] as { id: string; keyVersion: { id: string } };
    };
    const act = (token: string, id: string, action: string, body?: unknown) =>
        kms("POST", `/keys/${id}/actions/${action}`, token, body === undefined ? {} : { body });
    const b64 = (s: string) => Buffer.from(s).toString("base64");

    describe("key rings", () => {
        it("lists default, creates, refuses duplicates and keys in unknown rings, refuses to delete a ring with keys", async () => {
            const list0 = await kms("GET", "/key_rings", owner);
            expectStatus(list0, 200);
            assert.strictEqual(list0.body.metadata.collectionType, "application/vnd.ibm.kms.key_ring+json");
            assert.deepStrictEqual(
                list0.body.resources.map((r: { id: string }) => r.id),
                ["default"],
            );

            const missing = await createKey(owner, "nowhere", {}, "no-such-ring");
            expectStatus(missing, 404);
            assert.strictEqual(reason(missing).code, "KEY_RING_NOT_FOUND_ERR");

            expectStatus(await kms("POST", "/key_rings/team-a", owner), 201);
            const dup = await kms("POST", "/key_rings/team-a", owner);
            expectStatus(dup, 409);
            assert.strictEqual(reason(dup).code, "KEY_RING_ALREADY_EXISTS_ERR");
            const listed = await kms("GET", "/key_rings", owner);
            const ring = listed.body.resources.find((r: { id: string }) => r.id === "team-a");
            assert.ok(ring?.creationDate && ring.createdBy);
            assert.strictEqual(listed.body.metadata.collectionTotal, 2);

            const k = await rootKey("in-ring", "team-a");
            // an active key: IBM's KEY_RING_KEYS_NOT_DELETED_ERR, with or without force
            for (const q of ["", "?force=true"]) {
                const busy = await kms("DELETE", `/key_rings/team-a${q}`, owner);
                expectStatus(busy, 409);
                assert.strictEqual(reason(busy).code, "KEY_RING_KEYS_NOT_DELETED_ERR");
                assert.strictEqual(busy.body.resources[0].errorMsg, "Conflict: Key ring could not be deleted. Please see `reasons` for more details.");
            }
            expectStatus(await kms("DELETE", `/keys/${k.id}`, owner), 204);
            // only deleted keys left and no force: KEY_RING_NOT_EMPTY_ERR (a deleted key still counts)
            const notEmpty = await kms("DELETE", "/key_rings/team-a", owner);
            expectStatus(notEmpty, 409);
            assert.strictEqual(reason(notEmpty).code, "KEY_RING_NOT_EMPTY_ERR");
            expectStatus(await kms("DELETE", "/key_rings/team-a?force=true", owner), 204);
            expectStatus(await kms("DELETE", "/key_rings/team-a", owner), 404);
            expectStatus(await kms("DELETE", "/key_rings/default", owner), 400);
        });
    });

    describe("wrap, unwrap, rewrap and rotate", () => {
        it("round-trips a data key with AAD; a wrong or missing AAD (or a flipped bit) is 400 INVALID_FIELD_ERR, another key's ciphertext 422", async () => {
            const k = await rootKey("wrapper");
            const other = await rootKey("other");
            const w = await act(owner, k.id, "wrap", { plaintext: b64("data key 1"), aad: ["tenant-1"] });
            expectStatus(w, 200);
            assert.strictEqual(w.body.keyVersion.id, k.keyVersion.id);
            assert.strictEqual(w.body.plaintext, undefined, "a given plaintext is not echoed");
            const u = await act(owner, k.id, "unwrap", { ciphertext: w.body.ciphertext, aad: ["tenant-1"] });
            expectStatus(u, 200);
            assert.strictEqual(Buffer.from(u.body.plaintext, "base64").toString(), "data key 1");
            assert.strictEqual(u.body.rewrappedKeyVersion, undefined);

            const bad = async (body: unknown, status: number, code: string, key = k.id) => {
                const r = await act(owner, key, "unwrap", body);
                expectStatus(r, status);
                assert.strictEqual(reason(r).code, code);
            };
            await bad({ ciphertext: w.body.ciphertext, aad: ["tenant-2"] }, 400, "INVALID_FIELD_ERR");
            await bad({ ciphertext: w.body.ciphertext }, 400, "INVALID_FIELD_ERR");
            const two = await act(owner, k.id, "wrap", { plaintext: b64("data key 2"), aad: ["a", "b"] });
            await bad({ ciphertext: two.body.ciphertext, aad: ["b", "a"] }, 400, "INVALID_FIELD_ERR");
            await bad({ ciphertext: two.body.ciphertext, aad: ["a"] }, 400, "INVALID_FIELD_ERR");
            const raw = Buffer.from(w.body.ciphertext, "base64");
            raw[raw.length - 1] ^= 1;
            await bad({ ciphertext: raw.toString("base64"), aad: ["tenant-1"] }, 400, "INVALID_FIELD_ERR");
            await bad({ ciphertext: w.body.ciphertext, aad: ["tenant-1"] }, 422, "UNPROCESSABLE_CIPHERTEXT_ERR", other.id);
            expectStatus(await act(owner, k.id, "unwrap", {}), 400);
        });

        it("generates a 256-bit data key when no plaintext is given; standard keys are refused with KEY_ROOT_REQ_ERR", async () => {
            const k = await rootKey("generator");
            const w = await act(owner, k.id, "wrap");
            expectStatus(w, 200);
            assert.strictEqual(Buffer.from(w.body.plaintext, "base64").length, 32);
            const u = await act(owner, k.id, "unwrap", { ciphertext: w.body.ciphertext });
            assert.strictEqual(u.body.plaintext, w.body.plaintext);

            const std = (await createKey(owner, "std", { extractable: true })).body.resources[0];
            for (const a of ["wrap", "rotate"]) {
                const r = await act(owner, std.id, a, a === "wrap" ? { plaintext: b64("x") } : undefined);
                expectStatus(r, 400);
                assert.strictEqual(reason(r).code, "KEY_ROOT_REQ_ERR");
            }
        });

        it("rotation records lastRotateDate and a new version; old ciphertext unwraps and rewrap moves it to the newest", async () => {
            const k = await rootKey("rotating");
            const w = (await act(owner, k.id, "wrap", { plaintext: b64("before rotation") })).body;
            expectStatus(await act(owner, k.id, "rotate"), 204);
            const md = (await kms("GET", `/keys/${k.id}/metadata`, owner)).body.resources[0];
            assert.notStrictEqual(md.keyVersion.id, k.keyVersion.id);
            assert.ok(md.lastRotateDate, "lastRotateDate is recorded");

            const u = await act(owner, k.id, "unwrap", { ciphertext: w.ciphertext });
            expectStatus(u, 200);
            assert.strictEqual(Buffer.from(u.body.plaintext, "base64").toString(), "before rotation");
            assert.strictEqual(u.body.keyVersion.id, k.keyVersion.id);
            assert.strictEqual(u.body.rewrappedKeyVersion.id, md.keyVersion.id);
            assert.ok(u.body.ciphertext && u.body.ciphertext !== w.ciphertext);

            const rw = await act(owner, k.id, "rewrap", { ciphertext: w.ciphertext });
            expectStatus(rw, 200);
            // IBM: keyVersion wrapped the ciphertext given, rewrappedKeyVersion (the newest) the one returned
            assert.strictEqual(rw.body.keyVersion.id, k.keyVersion.id);
            assert.strictEqual(rw.body.rewrappedKeyVersion.id, md.keyVersion.id);
            const u2 = await act(owner, k.id, "unwrap", { ciphertext: rw.body.ciphertext });
            assert.strictEqual(u2.body.keyVersion.id, md.keyVersion.id);
            assert.strictEqual(u2.body.rewrappedKeyVersion, undefined);

            const state = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { kmsKeys: { id: string; versions: unknown[] }[] };
            const stored = state.kmsKeys.find((x) => x.id === k.id)!;
            assert.strictEqual(stored.versions.length, 2);
            assert.ok(!JSON.stringify(stored).includes("sealed"), "the admin view shows no key material, sealed or not");
        });
    });

    describe("key policies", () => {
        it("sets and reads rotation and dual-auth-delete in IBM's policy envelope; bad intervals are 400", async () => {
            const k = await rootKey("with-policies");
            const none = await kms("GET", `/keys/${k.id}/policies`, owner);
            expectStatus(none, 200);
            assert.strictEqual(none.body.metadata.collectionType, POLICY_TYPE);
            assert.strictEqual(none.body.metadata.collectionTotal, 0);
            const body = (resources: unknown[]) => ({ metadata: { collectionType: POLICY_TYPE, collectionTotal: resources.length }, resources });
            const put = await kms("PUT", `/keys/${k.id}/policies`, owner, {
                body: body([
                    { type: POLICY_TYPE, rotation: { interval_month: 3 } },
                    { type: POLICY_TYPE, dualAuthDelete: { enabled: true } },
                ]),
            });
            expectStatus(put, 200);
            assert.strictEqual(put.body.metadata.collectionTotal, 2);
            const got = (await kms("GET", `/keys/${k.id}/policies?policy=rotation`, owner)).body;
            assert.deepStrictEqual(
                got.resources.map((p: { rotation: unknown }) => p.rotation),
                [{ enabled: true, interval_month: 3 }],
            );
            assert.ok(got.resources[0].id && got.resources[0].crn.endsWith(`:key:${k.id}`) && got.resources[0].type === POLICY_TYPE);
            for (const m of [0, 13, 1.5]) {
                expectStatus(await kms("PUT", `/keys/${k.id}/policies`, owner, { body: body([{ type: POLICY_TYPE, rotation: { interval_month: m } }]) }), 400);
            }
            const mismatch = await kms("PUT", `/keys/${k.id}/policies`, owner, {
                body: { ...body([{ type: POLICY_TYPE, rotation: { interval_month: 2 } }]), metadata: { collectionType: POLICY_TYPE, collectionTotal: 2 } },
            });
            assert.strictEqual(reason(mismatch).code, "COLLECTION_TOTAL_MISMATCH_ERR");
            assert.strictEqual((await kms("GET", `/keys/${k.id}/metadata`, owner)).body.resources[0].dualAuthDelete.enabled, true);

            // dual authorization: the owner alone cannot delete; a second identity's authorization is needed
            const alone = await kms("DELETE", `/keys/${k.id}`, owner);
            expectStatus(alone, 409);
            assert.strictEqual(reason(alone).code, "AUTHORIZATIONS_NOT_MET");
            const admin = await serviceIdWithKey(emu, owner, "second-admin");
            await grant(emu, owner, admin.iamId, [ROLE.manager], { serviceName: "kms", serviceInstance: kp });
            await sleep(PROPAGATION_MS + 50);
            const second = await tokenFor(emu.url, admin.apikey);
            expectStatus(await act(second, k.id, "setKeyForDeletion"), 204);
            expectStatus(await kms("DELETE", `/keys/${k.id}`, second), 409);
            expectStatus(await kms("DELETE", `/keys/${k.id}`, owner), 204);
        });
    });

    describe("access", () => {
        it("Reader wraps, unwraps and rewraps but cannot create, rotate or set policies; Writer rotates; Manager manages rings", async () => {
            const k = await rootKey("role-key");
            const reader = await serviceIdWithKey(emu, owner, "reader");
            const writer = await serviceIdWithKey(emu, owner, "writer");
            await grant(emu, owner, reader.iamId, [ROLE.reader], { serviceName: "kms", serviceInstance: kp });
            await grant(emu, owner, writer.iamId, [ROLE.writer], { serviceName: "kms", serviceInstance: kp });
            await sleep(PROPAGATION_MS + 50);
            const rt = await tokenFor(emu.url, reader.apikey);
            const wt = await tokenFor(emu.url, writer.apikey);
            const w = await act(rt, k.id, "wrap", { plaintext: b64("r") });
            expectStatus(w, 200);
            expectStatus(await act(rt, k.id, "unwrap", { ciphertext: w.body.ciphertext }), 200);
            expectStatus(await act(rt, k.id, "rewrap", { ciphertext: w.body.ciphertext }), 200);
            expectStatus(await kms("GET", "/key_rings", rt), 200);
            expectStatus(await act(rt, k.id, "rotate"), 401);
            expectStatus(await createKey(rt, "nope"), 401);
            const pol = { metadata: { collectionType: POLICY_TYPE, collectionTotal: 1 }, resources: [{ type: POLICY_TYPE, rotation: { interval_month: 1 } }] };
            expectStatus(await kms("PUT", `/keys/${k.id}/policies`, rt, { body: pol }), 401);
            expectStatus(await kms("PUT", `/keys/${k.id}/policies`, wt, { body: pol }), 401);
            expectStatus(await act(wt, k.id, "rotate"), 204);
            expectStatus(await kms("POST", "/key_rings/writer-ring", wt), 401);
        });

        it("a policy scoped to a key ring or to one key covers only that ring or key", async () => {
            expectStatus(await kms("POST", "/key_rings/scoped", owner), 201);
            const inRing = await rootKey("ringed", "scoped");
            const single = await rootKey("single");
            const elsewhere = await rootKey("elsewhere");
            const app = await serviceIdWithKey(emu, owner, "scoped-app");
            await grant(emu, owner, app.iamId, [ROLE.writer], { serviceName: "kms", serviceInstance: kp, resourceType: "key-ring", resource: "scoped" });
            await grant(emu, owner, app.iamId, [ROLE.reader], { serviceName: "kms", serviceInstance: kp, resourceType: "key", resource: single.id });
            await sleep(PROPAGATION_MS + 50);
            const t = await tokenFor(emu.url, app.apikey);
            expectStatus(await act(t, inRing.id, "wrap", { plaintext: b64("a") }), 200);
            expectStatus(await act(t, single.id, "wrap", { plaintext: b64("a") }), 200);
            expectStatus(await act(t, elsewhere.id, "wrap", { plaintext: b64("a") }), 401);
            expectStatus(await act(t, crypto.randomUUID(), "wrap", { plaintext: b64("a") }), 401);
            expectStatus(await createKey(t, "new-in-ring", {}, "scoped"), 201);
            expectStatus(await createKey(t, "new-in-default"), 401);
            expectStatus(await act(t, single.id, "rotate"), 401);
            const listed = await kms("GET", "/keys", t);
            expectStatus(listed, 200);
            const ids = listed.body.resources.map((x: { id: string }) => x.id);
            assert.ok(ids.includes(inRing.id) && ids.includes(single.id) && !ids.includes(elsewhere.id), "a list shows only the keys the policies cover");
        });

        it("a source service acts only under an authorization policy, after its propagation delay, scoped to one key if so written", async () => {
            const k = await rootKey("for-cos");
            const other = await rootKey("not-for-cos");
            const cosInstance = crypto.randomUUID();
            const mint = async (body: unknown) => {
                const r = await call(emu.url, "POST", "/__emulator/service-token", { body });
                expectStatus(r, 200);
                return r.body.access_token as string;
            };
            const cos = await mint({ serviceName: "cloud-object-storage", serviceInstance: cosInstance });
            const otherCos = await mint({ serviceName: "cloud-object-storage", serviceInstance: crypto.randomUUID() });
            expectStatus(await call(emu.url, "POST", "/__emulator/service-token", { body: { serviceName: "" } }), 400);
            expectStatus(await act(cos, k.id, "wrap", { plaintext: b64("x") }), 401);

            const r = await call(emu.url, "POST", "/v1/policies", {
                token: owner,
                body: {
                    type: "authorization",
                    subjects: [
                        {
                            attributes: [
                                { name: "accountId", value: emu.accountId },
                                { name: "serviceName", value: "cloud-object-storage" },
                                { name: "serviceInstance", value: cosInstance },
                            ],
                        },
                    ],
                    roles: [{ role_id: ROLE.reader }],
                    resources: [
                        {
                            attributes: [
                                { name: "accountId", value: emu.accountId, operator: "stringEquals" },
                                { name: "serviceName", value: "kms", operator: "stringEquals" },
                                { name: "serviceInstance", value: kp, operator: "stringEquals" },
                                { name: "resourceType", value: "key", operator: "stringEquals" },
                                { name: "resource", value: k.id, operator: "stringEquals" },
                            ],
                        },
                    ],
                },
            });
            expectStatus(r, 201);
            expectStatus(await act(cos, k.id, "wrap", { plaintext: b64("x") }), 401); // not yet propagated
            await sleep(PROPAGATION_MS + 50);
            expectStatus(await act(cos, k.id, "wrap", { plaintext: b64("x") }), 200);
            expectStatus(await act(cos, other.id, "wrap", { plaintext: b64("x") }), 401);
            expectStatus(await act(otherCos, k.id, "wrap", { plaintext: b64("x") }), 401);
            expectStatus(await act(cos, k.id, "rotate"), 401);
            expectStatus(await call(emu.url, "DELETE", `/v1/policies/${r.body.id}`, { token: owner }), 204);
            expectStatus(await act(cos, k.id, "wrap", { plaintext: b64("x") }), 401);
        });
    });
});
