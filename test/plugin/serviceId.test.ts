// ServiceId through the REAL dynamic-provider plugin (serialized as Pulumi does) against the emulator:
// what IBM ends up holding, what the outputs say, and what the user reads when something is wrong.
import { strict as assert } from "assert";
import "../support/failFast";
import { RunningEmulator } from "../../emulator";
import { serviceIdProvider } from "../../provider";
import { IamClient } from "../../client";
import { PluginCallError, Props, RunningPlugin, UNKNOWN } from "./harness";
import { PluginOnEmulator, startPluginOnEmulator } from "./onEmulator";
import { isRecoveryNonce } from "../../provider/core/recoveryMark";

interface LiveServiceId {
    id: string;
    name: string;
    description?: string;
    unique_instance_crns: string[];
    locked: boolean;
    entity_tag: string;
}

interface Deployed {
    id: string;
    inputs: Props;
    outs: Props;
}

const CRN = "crn:v1:bluemix:public:hs-crypto:us-south:a/0123456789abcdef0123456789abcdef:11111111-2222-3333-4444-555555555555::";
const STALE = /^update: service ID ServiceId-[0-9a-f-]+ was changed outside Pulumi since it was last read; run `pulumi refresh`, then `pulumi up`/;

describe("plugin: ServiceId through the real dynamic-provider plugin", function () {
    this.timeout(30_000);
    let emu: RunningEmulator;
    let plugin: RunningPlugin;
    let world: PluginOnEmulator;
    let owner: IamClient;
    const p = serviceIdProvider;

    async function live(id: string): Promise<LiveServiceId | undefined> {
        const res = await fetch(`${emu.url}/__emulator/state`);
        const state = (await res.json()) as { serviceIds: LiveServiceId[] };
        return state.serviceIds.find((s) => s.id === id);
    }

    /** What `pulumi up` does for a new resource: check, then create. */
    async function create(news: Props): Promise<Deployed> {
        const checked = await plugin.check(p, {}, news);
        assert.deepStrictEqual(checked.failures, []);
        const created = await plugin.create(p, checked.inputs);
        return { id: created.id, inputs: checked.inputs, outs: created.outs };
    }

    /** What `pulumi up` does for an existing resource: check against the old inputs, diff against the old outputs, update. */
    async function up(d: Deployed, news: Props): Promise<Deployed> {
        const checked = await plugin.check(p, d.inputs, news);
        assert.deepStrictEqual(checked.failures, []);
        const diff = await plugin.diff(p, d.id, d.outs, checked.inputs);
        assert.deepStrictEqual(diff, { changes: "some", replaces: [], deleteBeforeReplace: false }, "every ServiceId change is an in-place update");
        const updated = await plugin.update(p, d.id, d.outs, checked.inputs);
        return { id: d.id, inputs: checked.inputs, outs: updated.outs };
    }

    async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<PluginCallError> {
        let caught: unknown;
        await promise.then(
            () => assert.fail(`expected a failure matching ${pattern}`),
            (e: unknown) => (caught = e),
        );
        assert.ok(caught instanceof PluginCallError, String(caught));
        assert.match(caught.message, pattern);
        assert.ok(!caught.message.includes(emu.apiKey), "no key value in an error");
        return caught;
    }

    before(async function () {
        world = await startPluginOnEmulator();
        ({ emu, plugin, owner } = world);
    });
    after(async function () {
        await world?.stop();
    });

    it("create → read → diff → update in place (same id, new entity tag) → delete, as IBM holds it", async function () {
        const d = await create({ name: "orders-app", description: "runs the orders service" });
        assert.match(d.id, /^ServiceId-[0-9a-f-]{36}$/);
        assert.deepStrictEqual(
            { ...d.outs, entityTag: "", createdAt: "", modifiedAt: "" },
            {
                serviceId: d.id,
                iamId: `iam-${d.id}`,
                crn: `crn:v1:bluemix:public:iam-identity::a/${emu.accountId}::serviceid:${d.id}`,
                accountId: emu.accountId,
                entityTag: "",
                createdAt: "",
                modifiedAt: "",
                name: "orders-app",
                description: "runs the orders service",
                uniqueInstanceCrns: [],
                locked: false,
            },
        );
        assert.match(String(d.outs.createdAt), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}\+0000$/);
        assert.deepStrictEqual((await live(d.id))?.name, "orders-app");

        const read = await plugin.read(p, d.id, d.outs);
        assert.strictEqual(read.id, d.id);
        assert.deepStrictEqual(read.props, d.outs);
        // all but the recovery nonce check() adds, which only a create uses and diff ignores
        const { recoveryNonce, ...checkedInputs } = d.inputs as Record<string, unknown>;
        assert.ok(isRecoveryNonce(recoveryNonce));
        assert.deepStrictEqual(read.inputs, checkedInputs, "read returns inputs, so a refresh causes no diff");

        const same = await plugin.check(p, d.inputs, { name: "orders-app", description: "runs the orders service" });
        assert.deepStrictEqual(await plugin.diff(p, d.id, d.outs, same.inputs), { changes: "none", replaces: [], deleteBeforeReplace: false });

        const u = await up(d, { name: "orders-app-v2", uniqueInstanceCrns: [CRN] });
        assert.strictEqual(u.outs.serviceId, d.id, "same service ID");
        assert.notStrictEqual(u.outs.entityTag, d.outs.entityTag, "the entity tag moved");
        const stored = await live(d.id);
        assert.strictEqual(stored?.name, "orders-app-v2");
        assert.strictEqual(stored?.description, undefined, "dropping description clears it");
        assert.deepStrictEqual(stored?.unique_instance_crns, [CRN]);
        assert.strictEqual(u.outs.entityTag, stored?.entity_tag, "state holds IBM's current entity tag");

        await plugin.delete(p, d.id, u.outs);
        assert.strictEqual(await live(d.id), undefined);
        await plugin.delete(p, d.id, u.outs); // already gone = success
    });

    it("locks at creation, updates a locked service ID (unlock, update, lock again), unlocks and locks in place, deletes while locked", async function () {
        const d = await create({ name: "vault-reader", locked: true });
        assert.strictEqual((await live(d.id))?.locked, true, "created with Entity-Lock");
        await assert.rejects(owner.updateServiceId(d.id, String(d.outs.entityTag), { name: "x" }), /409 entity_locked/, "IBM refuses others while locked");

        const renamed = await up(d, { name: "vault-reader-2", locked: true });
        let stored = await live(d.id);
        assert.strictEqual(stored?.name, "vault-reader-2");
        assert.strictEqual(stored?.locked, true, "locked again after Pulumi's own update");
        assert.strictEqual(renamed.outs.locked, true);
        assert.strictEqual(renamed.outs.entityTag, stored?.entity_tag);

        const unlocked = await up(renamed, { name: "vault-reader-2", locked: false });
        assert.strictEqual((await live(d.id))?.locked, false);
        assert.strictEqual(unlocked.outs.locked, false);

        const relocked = await up(unlocked, { name: "vault-reader-2", locked: true });
        stored = await live(d.id);
        assert.strictEqual(stored?.locked, true);
        assert.strictEqual(relocked.outs.entityTag, stored?.entity_tag);

        await plugin.delete(p, d.id, relocked.outs);
        assert.strictEqual(await live(d.id), undefined, "delete unlocks first");
    });

    it("a change made elsewhere is not overwritten: the stale entity tag fails with the refresh advice, and nothing changes", async function () {
        const d = await create({ name: "billing", description: "v1" });
        await owner.updateServiceId(d.id, String(d.outs.entityTag), { name: "billing-renamed-by-a-colleague" });

        await rejects(plugin.update(p, d.id, d.outs, { ...d.inputs, description: "v2" }), STALE);
        let stored = await live(d.id);
        assert.strictEqual(stored?.name, "billing-renamed-by-a-colleague");
        assert.strictEqual(stored?.description, "v1");

        // Also when the service ID is locked: it is unlocked to try, and locked again after the refusal.
        await owner.lockServiceId(d.id);
        await rejects(plugin.update(p, d.id, { ...d.outs, locked: true }, { ...d.inputs, description: "v2", locked: true }), STALE);
        stored = await live(d.id);
        assert.strictEqual(stored?.locked, true, "left as protected as it was");
        assert.strictEqual(stored?.description, "v1");
        await owner.unlockServiceId(d.id);

        // Refresh shows the rename; `pulumi up` then restores the desired name with the fresh tag.
        const read = await plugin.read(p, d.id, d.outs);
        assert.strictEqual(read.props.name, "billing-renamed-by-a-colleague");
        assert.strictEqual(read.inputs?.name, "billing-renamed-by-a-colleague");
        const refreshed: Deployed = { id: d.id, inputs: read.inputs!, outs: read.props };
        const fixed = await up(refreshed, { name: "billing", description: "v1" });
        assert.strictEqual((await live(d.id))?.name, "billing");
        await plugin.delete(p, d.id, fixed.outs);
    });

    it("drift: locks, descriptions and CRNs changed elsewhere show up in read; deleted elsewhere reads as gone and deletes cleanly", async function () {
        const d = await create({ name: "drifter" });
        const s = await owner.getServiceId(d.id);
        await owner.updateServiceId(d.id, s.entity_tag, { description: "added by hand", unique_instance_crns: [CRN] });
        await owner.lockServiceId(d.id);
        const read = await plugin.read(p, d.id, d.outs);
        assert.deepStrictEqual(read.inputs, { name: "drifter", description: "added by hand", uniqueInstanceCrns: [CRN], locked: true });
        // The program still says: no description, no CRNs, unlocked.
        const checked = await plugin.check(p, read.inputs!, { name: "drifter" });
        assert.strictEqual((await plugin.diff(p, d.id, read.props, checked.inputs)).changes, "some");
        const restored = await plugin.update(p, d.id, read.props, checked.inputs);
        const stored = await live(d.id);
        assert.deepStrictEqual([stored?.description, stored?.unique_instance_crns, stored?.locked], [undefined, [], false]);
        assert.strictEqual(restored.outs.entityTag, stored?.entity_tag);

        await owner.deleteServiceId(d.id);
        const gone = await plugin.read(p, d.id, restored.outs);
        assert.strictEqual(gone.id, "", "read says the resource is gone");
        await plugin.delete(p, d.id, restored.outs);
        await rejects(plugin.update(p, d.id, restored.outs, { ...checked.inputs, name: "again" }), /ServiceId-[0-9a-f-]+ no longer exists/);
    });

    it("adopts an existing service ID from its id alone (static get / the id option)", async function () {
        const s = await owner.createServiceId({ name: "made-by-hand", description: "legacy" }, { locked: true });
        const read = await plugin.read(p, s.id, {});
        assert.strictEqual(read.id, s.id);
        assert.deepStrictEqual(
            [read.props.name, read.props.description, read.props.locked, read.props.iamId, read.props.entityTag],
            ["made-by-hand", "legacy", true, s.iam_id, s.entity_tag],
        );
        assert.deepStrictEqual(read.inputs, { name: "made-by-hand", description: "legacy", uniqueInstanceCrns: [], locked: true });
        await plugin.delete(p, s.id, read.props);
        assert.strictEqual(await live(s.id), undefined);
    });

    it("check names the field and the fix; preview unknowns pass", async function () {
        const bad = await plugin.check(p, {}, { name: " ", uniqueInstanceCrns: ["not-a-crn"], locked: "yes", colour: "blue" });
        const by = Object.fromEntries(bad.failures.map((f) => [f.property, f.reason]));
        assert.match(by.name, /must not be empty; give it a name/);
        assert.match(by["uniqueInstanceCrns[0]"], /must be a CRN such as crn:v1:/);
        assert.match(by.locked, /true or false/);
        assert.match(by.colour, /unknown argument "colour"/);
        const preview = await plugin.check(p, {}, { name: UNKNOWN, uniqueInstanceCrns: [UNKNOWN] });
        assert.deepStrictEqual(preview.failures, []);
        const { recoveryNonce, ...previewInputs } = preview.inputs as Record<string, unknown>;
        assert.ok(isRecoveryNonce(recoveryNonce), "check() adds a recovery nonce");
        assert.deepStrictEqual(previewInputs, { name: UNKNOWN, description: "", uniqueInstanceCrns: [UNKNOWN], locked: false });
    });

    it("never wrote the deployer's key to the plugin's output", function () {
        assert.ok(!plugin.stderr().includes(emu.apiKey));
        assert.ok(!plugin.stdout().includes(emu.apiKey));
    });
});
