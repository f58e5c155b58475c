// KmsClient's run-time API (wrap, unwrap, rewrap, rotate, key rings, key policies) through the client
// entry point, against the emulator; errors carry neither the token nor the data key.
import * as assert from "assert";
import { startEmulator, RunningEmulator } from "../../emulator";
import { IamTokenManager, IbmCloudError, KmsClient } from "../../client";

describe("kmsClient: wrap, unwrap, rotate, key rings and key policies", () => {
    let emu: RunningEmulator;
    let tokens: IamTokenManager;
    let kms: KmsClient;

    before(async () => {
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }] });
        tokens = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
        kms = new KmsClient({
            endpoint: emu.url,
            instanceId: emu.instances[0].guid,
            httpClient: tokens.http,
            tokenSource: () => tokens.getToken(),
            invalidateToken: () => tokens.invalidate(),
        });
    });
    after(async () => {
        await tokens.http.close();
        await emu.stop();
    });

    it("wraps bytes and unwraps them (AAD optional), survives a rotation and rewraps to the newest version", async () => {
        const key = await kms.createKey({ name: "app-root" });
        const secret = Buffer.from("0123456789abcdef0123456789abcdef");
        const ct = await kms.wrap(key.id, secret, { aad: ["orders"] });
        assert.ok(Buffer.isBuffer(ct) && ct.length > secret.length);
        assert.ok((await kms.unwrap(key.id, ct, { aad: ["orders"] })).equals(secret));
        assert.ok((await kms.unwrap(key.id, ct.toString("base64"), { aad: ["orders"] })).equals(secret), "IBM's base64 text is accepted too");

        const dk = await kms.generateDataKey(key.id);
        assert.strictEqual(dk.plaintext.length, 32);
        assert.strictEqual(dk.keyVersion, key.keyVersion?.id);

        const rotated = await kms.rotate(key.id);
        assert.notStrictEqual(rotated.keyVersion?.id, key.keyVersion?.id);
        assert.ok(rotated.lastRotateDate);
        const detailed = await kms.unwrapDetailed(key.id, ct, { aad: ["orders"] });
        assert.ok(detailed.plaintext.equals(secret));
        assert.strictEqual(detailed.keyVersion, key.keyVersion?.id);
        assert.strictEqual(detailed.rewrapped?.keyVersion, rotated.keyVersion?.id);
        const moved = await kms.rewrap(key.id, ct, { aad: ["orders"] });
        assert.strictEqual((await kms.unwrapDetailed(key.id, moved, { aad: ["orders"] })).rewrapped, undefined);

        await assert.rejects(kms.unwrap(key.id, ct, { aad: ["other"] }), (e: IbmCloudError) => {
            assert.strictEqual(e.status, 400);
            assert.strictEqual(e.code, "INVALID_FIELD_ERR");
            assert.ok(!e.message.includes(secret.toString("base64")) && !/eyJ/.test(e.message), "no data key or token in the error");
            return true;
        });
    });

    it("creates, lists and deletes key rings and places keys in them with x-kms-key-ring", async () => {
        assert.strictEqual(await kms.createKeyRing("payments"), true);
        assert.strictEqual(await kms.createKeyRing("payments"), false, "an existing ring is not an error");
        assert.deepStrictEqual(
            (await kms.listKeyRings()).map((r) => r.id),
            ["default", "payments"],
        );
        const inRing = new KmsClient({
            endpoint: emu.url,
            instanceId: emu.instances[0].guid,
            keyRing: "payments",
            httpClient: tokens.http,
            tokenSource: () => tokens.getToken(),
        });
        const k = await inRing.createKey({ name: "ringed" });
        assert.strictEqual(k.keyRingID, "payments");
        await assert.rejects(kms.deleteKeyRing("payments"), (e: IbmCloudError) => e.status === 409 && e.code === "KEY_RING_KEYS_NOT_DELETED_ERR");
        await inRing.deleteKey(k.id);
        await assert.rejects(kms.deleteKeyRing("payments"), (e: IbmCloudError) => e.status === 409 && e.code === "KEY_RING_NOT_EMPTY_ERR");
        assert.strictEqual(await kms.deleteKeyRing("payments", { force: true }), true);
        assert.strictEqual(await kms.deleteKeyRing("payments"), false);
    });

    it("sets and reads key policies", async () => {
        const key = await kms.createKey({ name: "policed" });
        assert.deepStrictEqual(await kms.getKeyPolicies(key.id), {});
        const set = await kms.setKeyPolicies(key.id, { rotation: { enabled: true, intervalMonth: 2 }, dualAuthDelete: { enabled: false } });
        assert.deepStrictEqual(set, { rotation: { enabled: true, intervalMonth: 2 }, dualAuthDelete: { enabled: false } });
        assert.deepStrictEqual(await kms.getKeyPolicies(key.id), set);
    });

    it("a 401 that is missing access, not expiry, costs at most one extra token", async () => {
        const before = await tokenRequests();
        const stranger = new KmsClient({
            endpoint: emu.url,
            instanceId: "00000000-0000-0000-0000-000000000000",
            httpClient: tokens.http,
            tokenSource: () => tokens.getToken(),
            invalidateToken: () => tokens.invalidate(),
        });
        for (let i = 0; i < 5; i++) await assert.rejects(stranger.listKeys(), (e: IbmCloudError) => e.status === 401);
        assert.ok((await tokenRequests()) - before <= 1, "a refused fresh token is not exchanged again and again");
    });

    async function tokenRequests(): Promise<number> {
        return ((await (await fetch(`${emu.url}/__emulator/state`)).json()) as { counts: { tokenRequests: number } }).counts.tokenRequests;
    }
});
