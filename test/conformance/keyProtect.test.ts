// IBM's own Key Protect Node SDK (@ibm-cloud/ibm-key-protect 0.1.2, with its ibm-cloud-sdk-core 2.x and
// IamAuthenticator) against the emulator: every KMS endpoint, asserting IBM's documented statuses and
// envelopes. If the SDK can use the emulator, the emulator answers the way Key Protect does.
import * as assert from "assert";
import { RunningEmulator, startEmulator } from "../../emulator";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const KeyProtectV2 = require("@ibm-cloud/ibm-key-protect/ibm-key-protect-api/v2");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { IamAuthenticator } = require("@ibm-cloud/ibm-key-protect/auth");

const KEY_TYPE = "application/vnd.ibm.kms.key+json";
const POLICY_TYPE = "application/vnd.ibm.kms.policy+json";

interface SdkError {
    status: number;
    body?: string;
    message: string;
}

async function refused(p: Promise<unknown>, status: number, code: string): Promise<void> {
    try {
        await p;
    } catch (e) {
        const err = e as SdkError;
        assert.strictEqual(err.status, status, err.message);
        const body = JSON.parse(err.body ?? "{}");
        assert.strictEqual(body.metadata.collectionType, "application/vnd.ibm.kms.error+json");
        assert.strictEqual(body.resources[0].reasons[0].code, code);
        assert.strictEqual(body.resources[0].reasons[0].status, status);
        return;
    }
    assert.fail(`expected ${status} ${code}`);
}

describe("conformance: IBM's Key Protect Node SDK against the emulator", function () {
    this.timeout(20_000);
    let emu: RunningEmulator;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let kp: any;
    let bluemixInstance: string;

    before(async () => {
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }] });
        bluemixInstance = emu.instances[0].guid;
        kp = new KeyProtectV2({ authenticator: new IamAuthenticator({ apikey: emu.apiKey, url: emu.url }), serviceUrl: emu.url });
    });
    after(() => emu.stop());

    const keyBody = (name: string, extra: Record<string, unknown> = {}) => ({
        metadata: { collectionType: KEY_TYPE, collectionTotal: 1 },
        resources: [{ type: KEY_TYPE, name, extractable: false, ...extra }],
    });

    it("creates, gets, lists and deletes keys", async () => {
        const created = await kp.createKey({ bluemixInstance, body: keyBody("sdk-root"), prefer: "return=representation" });
        assert.strictEqual(created.status, 201);
        assert.strictEqual(created.result.metadata.collectionType, KEY_TYPE);
        const key = created.result.resources[0];
        assert.strictEqual(key.extractable, false);
        assert.match(key.crn, new RegExp(`:kms:us-south:a/${emu.accountId}:${bluemixInstance}:key:${key.id}$`));

        const got = await kp.getKey({ id: key.id, bluemixInstance });
        assert.strictEqual(got.status, 200);
        assert.strictEqual(got.result.resources[0].id, key.id);
        const md = await kp.getKeyMetadata({ id: key.id, bluemixInstance });
        assert.strictEqual(md.result.resources[0].keyVersion.id, key.keyVersion.id);
        const listed = await kp.getKeys({ bluemixInstance, limit: 10 });
        assert.strictEqual(listed.status, 200);
        assert.ok(listed.result.resources.some((k: { id: string }) => k.id === key.id));

        const del = await kp.deleteKey({ id: key.id, bluemixInstance, prefer: "return=representation" });
        assert.strictEqual(del.status, 200);
        assert.strictEqual(del.result.resources[0].state, 5);
        await refused(kp.getKey({ id: key.id, bluemixInstance }), 410, "KEY_DELETED_ERR");
    });

    it("key rings: create, list, refuse a key in an unknown ring and a delete of a ring with keys", async () => {
        const c = await kp.createKeyRing({ keyRingId: "sdk-ring", bluemixInstance });
        assert.strictEqual(c.status, 201);
        await refused(kp.createKeyRing({ keyRingId: "sdk-ring", bluemixInstance }), 409, "KEY_RING_ALREADY_EXISTS_ERR");
        const l = await kp.listKeyRings({ bluemixInstance });
        assert.strictEqual(l.status, 200);
        assert.strictEqual(l.result.metadata.collectionType, "application/vnd.ibm.kms.key_ring+json");
        assert.deepStrictEqual(l.result.resources.map((r: { id: string }) => r.id).sort(), ["default", "sdk-ring"]);

        await refused(kp.createKey({ bluemixInstance, xKmsKeyRing: "missing-ring", body: keyBody("lost") }), 404, "KEY_RING_NOT_FOUND_ERR");
        const k = (await kp.createKey({ bluemixInstance, xKmsKeyRing: "sdk-ring", body: keyBody("ringed") })).result.resources[0];
        assert.strictEqual(k.keyRingID, "sdk-ring");
        // a key not yet deleted: IBM's KEY_RING_KEYS_NOT_DELETED_ERR; only deleted ones left: KEY_RING_NOT_EMPTY_ERR
        await refused(kp.deleteKeyRing({ keyRingId: "sdk-ring", bluemixInstance }), 409, "KEY_RING_KEYS_NOT_DELETED_ERR");
        await kp.deleteKey({ id: k.id, bluemixInstance });
        await refused(kp.deleteKeyRing({ keyRingId: "sdk-ring", bluemixInstance }), 409, "KEY_RING_NOT_EMPTY_ERR");
        await fetch(`${emu.url}/__emulator/kms/clock`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ advanceSeconds: 4 * 3600 }),
        });
        const purge = await fetch(`${emu.url}/api/v2/keys/${k.id}/purge`, {
            method: "DELETE",
            headers: { authorization: `Bearer ${await tokenOf()}`, "bluemix-instance": bluemixInstance },
        });
        assert.strictEqual(purge.status, 204);
        const d = await kp.deleteKeyRing({ keyRingId: "sdk-ring", bluemixInstance });
        assert.strictEqual(d.status, 204);
    });

    async function tokenOf(): Promise<string> {
        const r = await fetch(`${emu.url}/identity/token`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ grant_type: "urn:ibm:params:oauth:grant-type:apikey", apikey: emu.apiKey }).toString(),
        });
        return ((await r.json()) as { access_token: string }).access_token;
    }

    it("wraps, unwraps, rotates and rewraps; a wrong or missing AAD is 400 INVALID_FIELD_ERR; a standard key 400 KEY_ROOT_REQ_ERR", async () => {
        const key = (await kp.createKey({ bluemixInstance, body: keyBody("sdk-wrap") })).result.resources[0];
        const plaintext = Buffer.from("a data encryption key").toString("base64");
        const w = await kp.wrapKey({ id: key.id, bluemixInstance, keyActionWrapBody: { plaintext, aad: ["ctx"] } });
        assert.strictEqual(w.status, 200);
        assert.strictEqual(w.result.keyVersion.id, key.keyVersion.id);
        const u = await kp.unwrapKey({ id: key.id, bluemixInstance, keyActionUnwrapBody: { ciphertext: w.result.ciphertext, aad: ["ctx"] } });
        assert.strictEqual(u.status, 200);
        assert.strictEqual(u.result.plaintext, plaintext);
        // what real Key Protect answers for an AAD other than the wrap's (missing, partial, reordered)
        for (const aad of [["other"], undefined, []]) {
            await refused(
                kp.unwrapKey({ id: key.id, bluemixInstance, keyActionUnwrapBody: { ciphertext: w.result.ciphertext, ...(aad ? { aad } : {}) } }),
                400,
                "INVALID_FIELD_ERR",
            );
        }

        const gen = await kp.wrapKey({ id: key.id, bluemixInstance });
        assert.strictEqual(Buffer.from(gen.result.plaintext, "base64").length, 32);

        const rot = await kp.rotateKey({ id: key.id, bluemixInstance });
        assert.strictEqual(rot.status, 204);
        const md = (await kp.getKeyMetadata({ id: key.id, bluemixInstance })).result.resources[0];
        assert.ok(md.lastRotateDate);
        assert.notStrictEqual(md.keyVersion.id, key.keyVersion.id);
        const old = await kp.unwrapKey({ id: key.id, bluemixInstance, keyActionUnwrapBody: { ciphertext: w.result.ciphertext, aad: ["ctx"] } });
        assert.strictEqual(old.result.plaintext, plaintext);
        assert.strictEqual(old.result.rewrappedKeyVersion.id, md.keyVersion.id);
        const rw = await kp.rewrapKey({ id: key.id, bluemixInstance, keyActionRewrapBody: { ciphertext: w.result.ciphertext, aad: ["ctx"] } });
        assert.strictEqual(rw.status, 200);
        // IBM: keyVersion is the version that wrapped the ciphertext given, rewrappedKeyVersion the newest
        assert.strictEqual(rw.result.keyVersion.id, key.keyVersion.id);
        assert.strictEqual(rw.result.rewrappedKeyVersion.id, md.keyVersion.id);
        const versions = (await kp.getKeyVersions({ id: key.id, bluemixInstance })).result.resources;
        assert.deepStrictEqual(
            versions.map((v: { id: string }) => v.id),
            [rw.result.rewrappedKeyVersion.id, rw.result.keyVersion.id],
            "the versions list, newest first, names the same two",
        );

        const std = (await kp.createKey({ bluemixInstance, body: keyBody("sdk-std", { extractable: true }) })).result.resources[0];
        await refused(kp.rotateKey({ id: std.id, bluemixInstance }), 400, "KEY_ROOT_REQ_ERR");
        await refused(kp.wrapKey({ id: std.id, bluemixInstance, keyActionWrapBody: { plaintext } }), 400, "KEY_ROOT_REQ_ERR");
    });

    it("puts and gets key policies (rotation interval, dual authorization delete)", async () => {
        const key = (await kp.createKey({ bluemixInstance, body: keyBody("sdk-policies") })).result.resources[0];
        const put = await kp.putPolicy({
            id: key.id,
            bluemixInstance,
            setKeyPoliciesOneOf: {
                metadata: { collectionType: POLICY_TYPE, collectionTotal: 2 },
                resources: [
                    { type: POLICY_TYPE, rotation: { interval_month: 6 } },
                    { type: POLICY_TYPE, dualAuthDelete: { enabled: false } },
                ],
            },
        });
        assert.strictEqual(put.status, 200);
        assert.strictEqual(put.result.metadata.collectionType, POLICY_TYPE);
        const got = await kp.getPolicy({ id: key.id, bluemixInstance });
        assert.strictEqual(got.status, 200);
        const rotation = got.result.resources.find((p: { rotation?: unknown }) => p.rotation);
        assert.strictEqual(rotation.rotation.interval_month, 6);
        assert.strictEqual(rotation.type, POLICY_TYPE);
        assert.ok(rotation.id && rotation.crn && rotation.creationDate && rotation.createdBy);
        const only = await kp.getPolicy({ id: key.id, bluemixInstance, policy: "dualAuthDelete" });
        assert.deepStrictEqual(
            only.result.resources.map((p: { dualAuthDelete: unknown }) => p.dualAuthDelete),
            [{ enabled: false }],
        );
        await refused(
            kp.putPolicy({
                id: key.id,
                bluemixInstance,
                setKeyPoliciesOneOf: {
                    metadata: { collectionType: POLICY_TYPE, collectionTotal: 1 },
                    resources: [{ type: POLICY_TYPE, rotation: { interval_month: 13 } }],
                },
            }),
            400,
            "BAD_BODY_ERR",
        );
    });
});
