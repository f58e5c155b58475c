// KmsKeyRing, and KmsKey in a ring with its rotation and key policies, through the REAL
// dynamic-provider plugin against the emulator, as a service ID with Manager on a Key Protect instance
// given by its CRN: create → read → update → drift → delete, a key refused in a ring that does not
// exist, policies set in place, a rotation from code (a new key version, never a new key), adopt with get.
import * as assert from "assert";
import "../support/failFast";
import { KmsClient } from "../../client";
import { kmsKeyProvider } from "../../provider/kmsKey";
import { kmsKeyRingProvider } from "../../provider/kmsKeyRing";
import { rejection } from "../support/rejection";
import { Props, RunningPlugin } from "./harness";
import { PluginOnEmulator, startPluginOnEmulator } from "./onEmulator";
import { deploy, kmsManager, redeploy } from "./steps";

describe("plugin/kmsKeyRing: key rings, and keys in them with rotation and policies, as a service ID", function () {
    this.timeout(60_000);
    let world: PluginOnEmulator;
    let plugin: RunningPlugin;
    let instanceCrn: string;
    let guid: string;
    let apiKey: string;
    let iamId: string;
    let ownerKms: KmsClient;

    before(async function () {
        world = await startPluginOnEmulator({ emulator: { instances: [{ service: "kms", region: "us-south" }] } });
        ({ plugin } = world);
        ({ iamId, apiKey, guid, instanceCrn, ownerKms } = await kmsManager(world, "ring-app"));
    });
    after(async () => world?.stop());

    const ring = (extra: Props = {}) => ({ instanceCrn, endpoint: world.emu.url, keyRingId: "app-keys", apiKey, ...extra });

    it("creates a ring by instance CRN as the service ID, reads it, updates force in place, and sees it deleted out of band as gone", async () => {
        const r = await deploy(plugin, kmsKeyRingProvider, ring());
        assert.strictEqual(r.id, "app-keys");
        assert.deepStrictEqual([r.outs.instanceId, r.outs.service, r.outs.region, r.outs.createdBy, r.outs.force], [guid, "kms", "us-south", iamId, false]);
        assert.ok((await ownerKms.listKeyRings()).some((x) => x.id === "app-keys"));

        const read = await plugin.read(kmsKeyRingProvider, r.id, r.outs);
        assert.deepStrictEqual(read.props, r.outs, "refresh finds what create recorded");
        const forced = await redeploy(plugin, kmsKeyRingProvider, r, { force: true });
        assert.deepStrictEqual([forced.diff.changes, forced.diff.replaces], ["some", []]);
        assert.strictEqual(forced.outs.force, true);

        const again = await rejection(deploy(plugin, kmsKeyRingProvider, ring()));
        assert.match(again.details, /key ring "app-keys" already exists .* KmsKeyRing.get/);

        assert.strictEqual(await ownerKms.deleteKeyRing("app-keys"), true);
        assert.strictEqual((await plugin.read(kmsKeyRingProvider, r.id, forced.outs)).id, "", "gone = empty id");
        await plugin.delete(kmsKeyRingProvider, r.id, forced.outs); // already gone: fine
    });

    it("a key in a ring that does not exist is refused with the fix; in the ring it is created there, and the ring's delete waits for it", async () => {
        const key = { instanceCrn, endpoint: world.emu.url, name: "ringed-root", apiKey };
        const missing = await rejection(deploy(plugin, kmsKeyProvider, { ...key, keyRing: "no-such-ring" }));
        assert.match(missing.details, /KEY_RING_NOT_FOUND_ERR/);
        assert.match(missing.details, /create it first with a KmsKeyRing and pass its keyRingId as keyRing/);

        const r = await deploy(plugin, kmsKeyRingProvider, ring({ keyRingId: "orders" }));
        const k = await deploy(plugin, kmsKeyProvider, { ...key, keyRing: r.outs.keyRingId });
        assert.strictEqual(k.outs.keyRing, "orders");
        const notEmpty = await rejection(plugin.delete(kmsKeyRingProvider, r.id, r.outs));
        assert.match(notEmpty.details, /KEY_RING_KEYS_NOT_DELETED_ERR/);
        assert.match(notEmpty.details, /still holds keys that are not deleted: delete them/);
        await plugin.delete(kmsKeyProvider, k.id, k.outs);
        const onlyDeleted = await rejection(plugin.delete(kmsKeyRingProvider, r.id, r.outs));
        assert.match(onlyDeleted.details, /KEY_RING_NOT_EMPTY_ERR/);
        assert.match(onlyDeleted.details, /holds only deleted keys: set force: true/);
        // Only a deleted key left: force deletes the ring.
        const forced = await redeploy(plugin, kmsKeyRingProvider, r, { force: true });
        await plugin.delete(kmsKeyRingProvider, r.id, forced.outs);
        assert.ok(!(await ownerKms.listKeyRings()).some((x) => x.id === "orders"));
    });

    it("KmsKey: policies set at create and in place, a rotation from code keeps the key and moves its version", async () => {
        const k = await deploy(plugin, kmsKeyProvider, {
            instanceCrn,
            endpoint: world.emu.url,
            name: "rotating-root",
            apiKey,
            rotation: { intervalMonth: 3 },
            dualAuthDelete: { enabled: false },
            rotationTrigger: "v1",
        });
        assert.deepStrictEqual(
            [k.outs.rotation, k.outs.dualAuthDelete, k.outs.rotationTrigger],
            [{ enabled: true, intervalMonth: 3 }, { enabled: false }, "v1"],
        );
        assert.ok(typeof k.outs.keyVersion === "string" && k.outs.keyVersion !== "");
        assert.strictEqual(k.outs.lastRotateDate, undefined, "never rotated");
        assert.deepStrictEqual(await ownerKms.getKeyPolicies(k.id), { rotation: { enabled: true, intervalMonth: 3 }, dualAuthDelete: { enabled: false } });
        const wrapped = await ownerKms.generateDataKey(k.id);

        const policy = await redeploy(plugin, kmsKeyProvider, k, { rotation: { intervalMonth: 6 } });
        assert.deepStrictEqual([policy.diff.changes, policy.diff.replaces], ["some", []]);
        assert.deepStrictEqual((await ownerKms.getKeyPolicies(k.id)).rotation, { enabled: true, intervalMonth: 6 });
        assert.strictEqual(policy.outs.keyVersion, k.outs.keyVersion, "a policy change is no rotation");

        const after = { ...k, outs: policy.outs, inputs: policy.inputs };
        const rotated = await redeploy(plugin, kmsKeyProvider, after, { rotationTrigger: "v2" });
        assert.deepStrictEqual([rotated.diff.changes, rotated.diff.replaces], ["some", []], "in place, never a new key");
        assert.strictEqual(rotated.outs.keyId, k.id);
        assert.notStrictEqual(rotated.outs.keyVersion, k.outs.keyVersion);
        assert.ok(typeof rotated.outs.lastRotateDate === "string");
        // Data keys wrapped before still unwrap.
        assert.deepStrictEqual(await ownerKms.unwrap(k.id, wrapped.ciphertext), wrapped.plaintext);

        // Drift: a colleague changes the interval; refresh shows it, the next update puts the program's back.
        await ownerKms.setKeyPolicies(k.id, { rotation: { enabled: true, intervalMonth: 1 } });
        const refreshed = await plugin.read(kmsKeyProvider, k.id, rotated.outs);
        assert.deepStrictEqual(refreshed.props.rotation, { enabled: true, intervalMonth: 1 });
        const back = await plugin.diff(kmsKeyProvider, k.id, refreshed.props, rotated.inputs);
        assert.strictEqual(back.changes, "some");
        await plugin.delete(kmsKeyProvider, k.id, rotated.outs);
    });

    it("state written before key versions were recorded refreshes unchanged (no policy read), and gains them at the next update", async () => {
        const k = await deploy(plugin, kmsKeyProvider, { instanceCrn, endpoint: world.emu.url, name: "old-state", apiKey });
        const { keyVersion: _v, instanceCrn: _c, ...old } = k.outs;
        const read = await plugin.read(kmsKeyProvider, k.id, old);
        assert.deepStrictEqual(read.props, old, "the same outputs an earlier version wrote");
        const up = await plugin.update(kmsKeyProvider, k.id, old, { ...k.inputs, force: true });
        assert.ok(typeof up.outs.keyVersion === "string" && up.outs.keyVersion !== "");
        await plugin.delete(kmsKeyProvider, k.id, up.outs);
    });

    it("adopts an existing ring with get (read by id)", async () => {
        await ownerKms.createKeyRing("adopted");
        const read = await plugin.read(kmsKeyRingProvider, "adopted", { instanceId: guid, service: "kms", endpoint: world.emu.url, apiKey });
        assert.strictEqual(read.id, "adopted");
        assert.deepStrictEqual([read.props.keyRingId, read.inputs?.keyRingId], ["adopted", "adopted"]);
        await plugin.delete(kmsKeyRingProvider, read.id, read.props);
        assert.ok(!(await ownerKms.listKeyRings()).some((x) => x.id === "adopted"));
    });
});
