// KmsInstancePolicies, and KmsKey's aliases and enabled, through the REAL dynamic-provider plugin against
// the emulator, as a service ID with Manager on a Key Protect instance: policies set, read back unchanged,
// drift seen and put back, an update in place, destroy forgetting them (as Terraform's does), adopt by get;
// a key created with aliases (a taken alias refused before anything is made), aliases added and removed
// without a new key, a disable and an enable in place, and state of an earlier version refreshed unchanged.
import * as assert from "assert";
import "../support/failFast";
import { IamClient, KmsClient } from "../../client";
import { kmsInstancePoliciesProvider } from "../../provider/kmsInstancePolicies";
import { kmsKeyProvider } from "../../provider/kmsKey";
import { advanceKmsClock } from "../emulator/helpers";
import { rejection } from "../support/rejection";
import { Props, RunningPlugin } from "./harness";
import { PluginOnEmulator, startPluginOnEmulator } from "./onEmulator";
import { deploy, kmsManager, redeploy } from "./steps";

describe("plugin/kmsInstancePolicies: instance policies, and key aliases and enabled, as a service ID", function () {
    this.timeout(60_000);
    let world: PluginOnEmulator;
    let plugin: RunningPlugin;
    let owner: IamClient;
    let instanceCrn: string;
    let guid: string;
    let apiKey: string;
    let ownerKms: KmsClient;

    before(async function () {
        world = await startPluginOnEmulator({ emulator: { instances: [{ service: "kms", region: "us-south" }] } });
        ({ plugin, owner } = world);
        ({ apiKey, guid, instanceCrn, ownerKms } = await kmsManager(world, "policy-admin"));
    });
    after(async () => world?.stop());

    const policies = (extra: Props = {}) => ({ instanceCrn, endpoint: world.emu.url, apiKey, ...extra });
    const key = (extra: Props = {}) => ({ instanceCrn, endpoint: world.emu.url, apiKey, ...extra });

    it("KmsInstancePolicies: sets the policies given, refreshes unchanged, sees drift, updates in place, and destroy leaves them", async () => {
        const p = await deploy(
            plugin,
            kmsInstancePoliciesProvider,
            policies({ rotation: { intervalMonth: 3 }, metrics: { enabled: true }, keyCreateImportAccess: { enabled: true, importStandardKey: false } }),
        );
        assert.strictEqual(p.id, guid);
        assert.deepStrictEqual(p.outs.rotation, { enabled: true, intervalMonth: 3 });
        assert.deepStrictEqual(p.outs.metrics, { enabled: true });
        assert.deepStrictEqual(p.outs.keyCreateImportAccess, {
            enabled: true,
            createRootKey: true,
            createStandardKey: true,
            importRootKey: true,
            importStandardKey: false,
            enforceToken: false,
        });
        assert.strictEqual(p.outs.dualAuthDelete, undefined, "a policy not given is not managed");
        assert.deepStrictEqual((await ownerKms.getInstancePolicies()).rotation, { enabled: true, intervalMonth: 3 });

        const read = await plugin.read(kmsInstancePoliciesProvider, p.id, p.outs);
        assert.deepStrictEqual(read.props, p.outs, "refresh finds what create recorded");
        assert.strictEqual((await plugin.diff(kmsInstancePoliciesProvider, p.id, read.props, p.inputs)).changes, "none");

        // Drift: a colleague turns metrics off; refresh shows it, the next update puts the program's back.
        await ownerKms.setInstancePolicies({ metrics: { enabled: false } });
        const drifted = await plugin.read(kmsInstancePoliciesProvider, p.id, p.outs);
        assert.deepStrictEqual(drifted.props.metrics, { enabled: false });
        const back = await redeploy(plugin, kmsInstancePoliciesProvider, { ...p, outs: drifted.props }, {});
        assert.deepStrictEqual([back.diff.changes, back.diff.replaces], ["some", []]);
        assert.deepStrictEqual((await ownerKms.getInstancePolicies()).metrics, { enabled: true });

        // Dual authorization added in place: keys created from now on inherit it.
        const dual = await redeploy(plugin, kmsInstancePoliciesProvider, back, { dualAuthDelete: { enabled: true } });
        assert.deepStrictEqual([dual.diff.changes, dual.diff.replaces], ["some", []]);
        assert.deepStrictEqual(dual.outs.dualAuthDelete, { enabled: true });
        const inherited = await ownerKms.createKey({ name: "inherits-dual-auth" });
        assert.deepStrictEqual((await ownerKms.getKeyPolicies(inherited.id)).dualAuthDelete, { enabled: true });

        // Destroy forgets: the policies stay on the instance (IBM has no call to remove one), as Terraform's does.
        await plugin.delete(kmsInstancePoliciesProvider, p.id, dual.outs);
        assert.deepStrictEqual((await ownerKms.getInstancePolicies()).dualAuthDelete, { enabled: true });
        await ownerKms.setInstancePolicies({ dualAuthDelete: { enabled: false } });
    });

    it("KmsInstancePolicies.get adopts every policy the instance holds; without access the refusal names the role", async () => {
        const read = await plugin.read(kmsInstancePoliciesProvider, guid, { instanceId: guid, service: "kms", endpoint: world.emu.url, apiKey });
        assert.strictEqual(read.id, guid);
        assert.deepStrictEqual(read.props.rotation, { enabled: true, intervalMonth: 3 });
        assert.deepStrictEqual(read.props.dualAuthDelete, { enabled: false });
        const sid = await owner.createServiceId({ name: "no-access" });
        const stranger = (await owner.createApiKey({ name: "no-access-key", iam_id: sid.iam_id })).apikey!;
        const refused = await rejection(deploy(plugin, kmsInstancePoliciesProvider, policies({ apiKey: stranger, metrics: { enabled: false } })));
        assert.match(refused.details, /may not set instance policies \(Manager\)/);
        assert.ok(!refused.details.includes(stranger));
    });

    it("KmsKey: created with aliases, a taken alias refused before anything is made, aliases changed in place, drift seen", async () => {
        const k = await deploy(plugin, kmsKeyProvider, key({ name: "aliased-root", aliases: ["orders-root", "orders-v1"] }));
        assert.deepStrictEqual([...(k.outs.aliases as string[])].sort(), ["orders-root", "orders-v1"]);
        assert.strictEqual(k.outs.enabled, true);
        assert.strictEqual((await ownerKms.getKeyMetadata("orders-root")).id, k.id, "KMS reads the key by its alias");

        const before = (await ownerKms.listKeys()).length;
        const taken = await rejection(deploy(plugin, kmsKeyProvider, key({ name: "second-root", aliases: ["orders-v1"] })));
        assert.match(taken.details, new RegExp(`alias "orders-v1" already names key ${k.id} .* nothing was created`));
        assert.strictEqual((await ownerKms.listKeys()).length, before, "no key was created");

        const changed = await redeploy(plugin, kmsKeyProvider, k, { aliases: ["orders-root", "orders-v2"] });
        assert.deepStrictEqual([changed.diff.changes, changed.diff.replaces], ["some", []], "aliases change in place, never a new key");
        assert.strictEqual(changed.outs.keyId, k.id);
        assert.deepStrictEqual([...(changed.outs.aliases as string[])].sort(), ["orders-root", "orders-v2"]);
        assert.deepStrictEqual([...((await ownerKms.getKeyMetadata(k.id)).aliases as string[])].sort(), ["orders-root", "orders-v2"]);

        // Drift: an alias removed outside Pulumi shows at refresh, and the next update adds it back.
        await ownerKms.deleteKeyAlias(k.id, "orders-v2");
        const drifted = await plugin.read(kmsKeyProvider, k.id, changed.outs);
        assert.deepStrictEqual(drifted.props.aliases, ["orders-root"]);
        const back = await plugin.diff(kmsKeyProvider, k.id, drifted.props, changed.inputs);
        assert.deepStrictEqual([back.changes, back.replaces], ["some", []]);
        const restored = await plugin.update(kmsKeyProvider, k.id, drifted.props, changed.inputs);
        assert.deepStrictEqual([...(restored.outs.aliases as string[])].sort(), ["orders-root", "orders-v2"]);

        // Left out: KMS keeps what it holds.
        const { aliases: _a, ...without } = changed.inputs;
        assert.strictEqual((await plugin.diff(kmsKeyProvider, k.id, restored.outs, without)).changes, "none");
        await plugin.delete(kmsKeyProvider, k.id, restored.outs);
    });

    it("KmsKey: enabled false disables in place (nothing wraps), true enables again; too soon is refused with the wait named", async () => {
        const k = await deploy(plugin, kmsKeyProvider, key({ name: "switched-root" }));
        const off = await redeploy(plugin, kmsKeyProvider, k, { enabled: false });
        assert.deepStrictEqual([off.diff.changes, off.diff.replaces], ["some", []]);
        assert.deepStrictEqual([off.outs.enabled, off.outs.state], [false, 2]);
        await assert.rejects(ownerKms.generateDataKey(k.id), /KEY_ACTION_INVALID_STATE_ERR/);

        const early = await rejection(redeploy(plugin, kmsKeyProvider, off, { enabled: true }));
        assert.match(early.details, /REQ_TOO_EARLY_ERR/);
        assert.match(early.details, /no sooner than 30 seconds after it was disabled/);
        await advanceKmsClock(world.emu.url, 31);
        const on = await redeploy(plugin, kmsKeyProvider, off, { enabled: true });
        assert.deepStrictEqual([on.outs.enabled, on.outs.state, on.outs.keyId], [true, 1, k.id]);
        await ownerKms.generateDataKey(k.id);

        // Created disabled.
        const d = await deploy(plugin, kmsKeyProvider, key({ name: "born-disabled", enabled: false }));
        assert.deepStrictEqual([d.outs.enabled, d.outs.state], [false, 2]);
        await plugin.delete(kmsKeyProvider, d.id, d.outs);
        await plugin.delete(kmsKeyProvider, k.id, on.outs);
    });

    it("KmsKey state written before aliases and enabled were recorded refreshes unchanged, and gains them at its next update", async () => {
        const k = await deploy(plugin, kmsKeyProvider, key({ name: "older-state" }));
        await ownerKms.createKeyAlias(k.id, "set-outside");
        const { aliases: _a, enabled: _e, ...old } = k.outs;
        const read = await plugin.read(kmsKeyProvider, k.id, old);
        assert.deepStrictEqual(read.props, old, "the same outputs an earlier version wrote");
        const { aliases: _ia, enabled: _ie, ...oldInputs } = k.inputs;
        assert.strictEqual((await plugin.diff(kmsKeyProvider, k.id, old, oldInputs)).changes, "none", "a program without the new arguments");
        const up = await plugin.update(kmsKeyProvider, k.id, old, { ...oldInputs, force: true });
        assert.deepStrictEqual([up.outs.aliases, up.outs.enabled], [["set-outside"], true]);
        await plugin.delete(kmsKeyProvider, k.id, up.outs);
    });
});
