// KmsClient's key-lifecycle methods against the emulator: versions, disable/enable, restore and purge,
// aliases, registrations, dual-authorization deletion, instance policies, and which version wrapped what.
import * as assert from "assert";
import { IamTokenManager, IbmCloudError, KmsClient } from "../../client";
import { RunningEmulator, startEmulator } from "../../emulator";
import { advanceKmsClock, grant, ROLE, serviceIdWithKey, tokenFor } from "../emulator/helpers";

describe("kmsClient: the key lifecycle", () => {
    let emu: RunningEmulator;
    let tokens: IamTokenManager;
    let secondTokens: IamTokenManager;
    let kms: KmsClient;
    let second: KmsClient;
    const refusedWith = (code: string) => (e: unknown) => e instanceof IbmCloudError && e.code === code;

    before(async () => {
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }] });
        const instanceId = emu.instances[0].guid;
        tokens = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
        kms = new KmsClient({ endpoint: emu.url, instanceId, httpClient: tokens.http, tokenSource: () => tokens.getToken() });
        const owner = await tokenFor(emu.url, emu.apiKey);
        const sid = await serviceIdWithKey(emu, owner, "approver");
        await grant(emu, owner, sid.iamId, [ROLE.manager], { serviceName: "kms", serviceInstance: instanceId });
        secondTokens = new IamTokenManager({ apiKey: sid.apikey, iamEndpoint: emu.url });
        second = new KmsClient({ endpoint: emu.url, instanceId, httpClient: secondTokens.http, tokenSource: () => secondTokens.getToken() });
    });
    after(async () => {
        await tokens.http.close();
        await secondTokens.http.close();
        await emu.stop();
    });

    it("lists versions newest first; unwrapDetailed and rewrapDetailed name the version that wrapped the ciphertext", async () => {
        const key = await kms.createKey({ name: "versioned" });
        const ct = await kms.wrap(key.id, Buffer.from("a data key of 32 bytes, exactly!"));
        const rotated = await kms.rotate(key.id);
        const versions = await kms.listKeyVersions(key.id);
        assert.deepStrictEqual(
            versions.map((v) => v.id),
            [rotated.keyVersion?.id, key.keyVersion?.id],
        );
        assert.ok(versions.every((v) => typeof v.creationDate === "string"));
        assert.strictEqual((await kms.unwrapDetailed(key.id, ct)).keyVersion, key.keyVersion?.id, "an application learns the ciphertext is on the old version");
        const moved = await kms.rewrapDetailed(key.id, ct);
        assert.strictEqual(moved.keyVersion, key.keyVersion?.id);
        assert.strictEqual(moved.rewrappedKeyVersion, rotated.keyVersion?.id);
        assert.strictEqual((await kms.unwrapDetailed(key.id, moved.ciphertext)).keyVersion, rotated.keyVersion?.id);
    });

    it("disables and enables; restores a deleted key and purges it 4 h after the delete", async () => {
        const key = await kms.createKey({ name: "lifecycle" });
        await kms.disableKey(key.id);
        assert.strictEqual((await kms.getKeyMetadata(key.id)).state, 2);
        await assert.rejects(kms.wrap(key.id, Buffer.from("x")), refusedWith("KEY_ACTION_INVALID_STATE_ERR"));
        await assert.rejects(kms.enableKey(key.id), refusedWith("REQ_TOO_EARLY_ERR"));
        await advanceKmsClock(emu.url, 30);
        await kms.enableKey(key.id);
        assert.strictEqual((await kms.getKeyMetadata(key.id)).state, 1);

        await kms.deleteKey(key.id);
        await advanceKmsClock(emu.url, 30);
        const back = await kms.restoreKey(key.id);
        assert.strictEqual(back.state, 1);
        await kms.deleteKey(key.id);
        await assert.rejects(kms.purgeKey(key.id), refusedWith("REQ_TOO_EARLY_ERR"));
        await advanceKmsClock(emu.url, 4 * 3600);
        assert.strictEqual(await kms.purgeKey(key.id), true);
        assert.strictEqual(await kms.purgeKey(key.id), false, "already gone");
    });

    it("aliases name a key wherever an id goes", async () => {
        const key = await kms.createKey({ name: "aliased" });
        const a = await kms.createKeyAlias(key.id, "orders-root");
        assert.deepStrictEqual([a.keyId, a.alias], [key.id, "orders-root"]);
        assert.strictEqual((await kms.getKeyMetadata("orders-root")).id, key.id);
        const ct = await kms.wrap("orders-root", Buffer.from("by alias"));
        assert.strictEqual((await kms.unwrap(key.id, ct)).toString(), "by alias");
        assert.strictEqual(await kms.deleteKeyAlias(key.id, "orders-root"), true);
        assert.strictEqual(await kms.deleteKeyAlias(key.id, "orders-root"), false);
    });

    it("a registered key needs force; under dual authorization another identity authorizes the delete first", async () => {
        const key = await kms.createKey({ name: "registered" });
        const crn = "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:cos:bucket:b1";
        const r = await fetch(`${emu.url}/__emulator/kms/registrations`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ instance: emu.instances[0].guid, key: key.id, resourceCrn: crn }),
        });
        assert.strictEqual(r.status, 201);
        assert.deepStrictEqual(
            (await kms.listRegistrations(key.id)).map((g) => g.resourceCrn),
            [crn],
        );
        assert.deepStrictEqual(
            (await kms.listRegistrations()).map((g) => g.keyId),
            [key.id],
        );
        await kms.setKeyPolicies(key.id, { dualAuthDelete: { enabled: true } });
        await assert.rejects(kms.deleteKey(key.id), refusedWith("PROTECTED_RESOURCE_ERR"));
        await assert.rejects(kms.deleteKey(key.id, { force: true }), refusedWith("AUTHORIZATIONS_NOT_MET"));
        await second.setKeyForDeletion(key.id);
        await second.unsetKeyForDeletion(key.id);
        await assert.rejects(kms.deleteKey(key.id, { force: true }), refusedWith("AUTHORIZATIONS_NOT_MET"));
        await second.setKeyForDeletion(key.id);
        assert.strictEqual(await kms.deleteKey(key.id, { force: true }), true);
    });

    it("sets and reads instance policies", async () => {
        assert.deepStrictEqual(await kms.getInstancePolicies(), {});
        await kms.setInstancePolicies({
            rotation: { enabled: true, intervalMonth: 6 },
            allowedNetwork: { enabled: true, allowedNetwork: "private-only" },
            keyCreateImportAccess: { enabled: true, createStandardKey: false },
        });
        await kms.setInstancePolicies({ metrics: { enabled: true } });
        assert.deepStrictEqual(await kms.getInstancePolicies(), {
            rotation: { enabled: true, intervalMonth: 6 },
            allowedNetwork: { enabled: true, allowedNetwork: "private-only" },
            keyCreateImportAccess: {
                enabled: true,
                createRootKey: true,
                createStandardKey: false,
                importRootKey: true,
                importStandardKey: true,
                enforceToken: false,
            },
            metrics: { enabled: true },
        });
        await assert.rejects(kms.createKey({ name: "std", extractable: true }), refusedWith("KEY_CREATE_IMPORT_ACCESS_ERR"));
        await assert.rejects(kms.setInstancePolicies({}), /give at least one/);
    });
});
