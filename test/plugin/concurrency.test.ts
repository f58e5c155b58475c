// Concurrency through the REAL dynamic-provider plugin: a change made outside Pulumi
// between refresh and update (a stale entity tag / ETag) is reported with a clear message naming the
// object and telling the user to run `pulumi refresh`, and is never overwritten.
//
// For every resource that updates with If-Match (ServiceId, ServiceApiKey, AccessPolicy) the sequence
// is the one a user lives through: create → refresh (read) → a colleague changes the object with the
// CLI (IamClient, the owner's key) → `pulumi up` from the state of that refresh. The colleague changes
// a field the update does not touch, so only the entity tag can tell. Afterwards IBM holds exactly
// what the colleague left (same tag: Pulumi wrote nothing), and refresh + up converge. Also: two
// deployers updating the same object from the same refreshed state (two plugin processes), and
// updates that send no If-Match (lock / disable only) against a stale state, refused the same way.
// (test/plugin/serviceId|serviceApiKey|accessPolicy.test.ts cover a stale update without the
// preceding refresh, and the stale update of a locked entity.)
import { strict as assert } from "assert";
import "../support/failFast";
import { RunningEmulator } from "../../emulator";
import { serviceIdProvider, serviceApiKeyProvider, accessPolicyProvider } from "../../provider";
import { IamClient } from "../../client";
import { PluginCallError, Props, RunningPlugin, startPlugin } from "./harness";
import { PluginOnEmulator, startPluginOnEmulator } from "./onEmulator";

interface Deployed {
    id: string;
    inputs: Props;
    outs: Props;
}

/** One resource type that updates with If-Match. */
interface Kind {
    /** How the provider's messages name it. */
    what: string;
    provider: object;
    /** Program inputs of a new object. */
    program(): Promise<Props>;
    /** The program after the user's edit (a field the colleague does not touch). */
    edit(p: Props): Props;
    /** The colleague's change, with a fresh read of the object (as the CLI does). */
    colleague(id: string): Promise<void>;
    /** Everything IBM holds for the object, entity tag included. */
    live(id: string): Promise<Record<string, unknown>>;
    /** The colleague's change is there. */
    holdsColleague(live: Record<string, unknown>): boolean;
    /** The user's edit is there. */
    holdsEdit(live: Record<string, unknown>): boolean;
    /** State (outputs after a refresh) shows the colleague's change. */
    stateShowsColleague(outs: Props): boolean;
}

describe("plugin: a change made outside Pulumi between refresh and update is reported, never overwritten", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    let plugin: RunningPlugin;
    let world: PluginOnEmulator;
    let owner: IamClient;

    async function create(provider: object, news: Props, via = plugin): Promise<Deployed> {
        const checked = await via.check(provider, {}, news);
        assert.deepStrictEqual(checked.failures, []);
        const created = await via.create(provider, checked.inputs);
        return { id: created.id, inputs: checked.inputs, outs: created.outs };
    }

    /** `pulumi refresh`: state becomes what read returned. */
    async function refresh(provider: object, d: Deployed, via = plugin): Promise<Deployed> {
        const r = await via.read(provider, d.id, d.outs, d.inputs);
        assert.strictEqual(r.id, d.id, "still there");
        assert.ok(r.inputs, "read returns inputs");
        return { id: r.id, inputs: r.inputs, outs: r.props };
    }

    /** `pulumi up` against state `d`: check, diff (must be an in-place update), update. */
    async function up(provider: object, d: Deployed, news: Props, via = plugin): Promise<Deployed> {
        const checked = await via.check(provider, d.inputs, news);
        assert.deepStrictEqual(checked.failures, []);
        const diff = await via.diff(provider, d.id, d.outs, checked.inputs);
        assert.deepStrictEqual(diff, { changes: "some", replaces: [], deleteBeforeReplace: false }, "an in-place update");
        const updated = await via.update(provider, d.id, d.outs, checked.inputs);
        return { id: d.id, inputs: checked.inputs, outs: updated.outs };
    }

    async function noChanges(provider: object, d: Deployed, news: Props): Promise<void> {
        const checked = await plugin.check(provider, d.inputs, news);
        assert.strictEqual((await plugin.diff(provider, d.id, d.outs, checked.inputs)).changes, "none", "converged: nothing left to do");
    }

    /** The refusal: names the object, says it changed outside Pulumi since it was read, and what to run. */
    async function refused(kind: Kind, id: string, attempt: Promise<unknown>): Promise<PluginCallError> {
        let caught: unknown;
        await attempt.then(
            () => assert.fail(`the update of ${kind.what} ${id} from stale state succeeded`),
            (e: unknown) => (caught = e),
        );
        assert.ok(caught instanceof PluginCallError, String(caught));
        assert.match(caught.details, new RegExp(`${kind.what} ${id} was changed outside Pulumi since (Pulumi )?(it was )?last read`));
        assert.match(caught.details, /run `pulumi refresh`/);
        assert.ok(!caught.details.includes(emu.apiKey), "no key in the message");
        assert.strictEqual(caught.partial, undefined, "nothing was written, so no partial state is recorded");
        return caught;
    }

    let instance: string;
    const kinds: Kind[] = [
        {
            what: "service ID",
            provider: serviceIdProvider,
            program: async () => ({ name: `orders-${Math.random().toString(36).slice(2, 8)}`, description: "v1" }),
            edit: (p) => ({ ...p, name: `${p.name}-renamed` }),
            colleague: async (id) => {
                const s = await owner.getServiceId(id);
                await owner.updateServiceId(id, s.entity_tag, { description: "set by a colleague" });
            },
            live: async (id) => ({ ...(await owner.getServiceId(id)) }),
            holdsColleague: (l) => l.description === "set by a colleague",
            holdsEdit: (l) => String(l.name).endsWith("-renamed"),
            stateShowsColleague: (o) => o.description === "set by a colleague",
        },
        {
            what: "API key",
            provider: serviceApiKeyProvider,
            program: async () => {
                const sid = await owner.createServiceId({ name: "key-owner" });
                return { serviceId: sid.id, name: "app-key", description: "v1" };
            },
            edit: (p) => ({ ...p, name: "app-key-renamed" }),
            colleague: async (id) => {
                const k = await owner.getApiKey(id);
                await owner.updateApiKey(id, k.entity_tag, { description: "set by a colleague", action_when_leaked: "delete" });
            },
            live: async (id) => ({ ...(await owner.getApiKey(id)) }),
            holdsColleague: (l) => l.description === "set by a colleague" && l.action_when_leaked === "delete",
            holdsEdit: (l) => l.name === "app-key-renamed",
            stateShowsColleague: (o) => o.description === "set by a colleague" && o.actionWhenLeaked === "delete",
        },
        {
            what: "access policy",
            provider: accessPolicyProvider,
            program: async () => {
                const sid = await owner.createServiceId({ name: "policy-subject" });
                return { serviceId: sid.id, roles: ["Reader"], resource: { serviceName: "hs-crypto", serviceInstance: instance }, description: "v1" };
            },
            edit: (p) => ({ ...p, roles: ["Writer"] }),
            colleague: async (id) => {
                const { policy, etag } = await owner.getPolicy(id);
                await owner.replacePolicy(id, etag, {
                    type: policy.type,
                    subjects: policy.subjects,
                    roles: policy.roles,
                    resources: policy.resources,
                    description: "set by a colleague",
                });
            },
            live: async (id) => {
                const { policy, etag } = await owner.getPolicy(id);
                return { ...policy, etag };
            },
            holdsColleague: (l) => l.description === "set by a colleague",
            holdsEdit: (l) => (l.roles as Array<{ role_id: string }>).some((r) => r.role_id.endsWith(":Writer")),
            stateShowsColleague: (o) => o.description === "set by a colleague",
        },
    ];

    before(async function () {
        world = await startPluginOnEmulator();
        ({ emu, plugin, owner } = world);
        instance = emu.instances[0].guid;
    });
    after(async function () {
        await world?.stop();
    });

    for (const kind of kinds) {
        it(`${kind.what}: create → refresh → colleague's change → up from that state is refused and writes nothing; refresh + up converge`, async function () {
            const p = kind.provider;
            const program = await kind.program();
            const d = await create(p, program);
            const refreshed = await refresh(p, d);

            await kind.colleague(d.id);
            const theirs = await kind.live(d.id);
            assert.ok(kind.holdsColleague(theirs));

            const edited = kind.edit(program);
            await refused(kind, d.id, up(p, refreshed, edited));
            const after = await kind.live(d.id);
            assert.deepStrictEqual(after, theirs, "IBM holds exactly what the colleague left: same fields, same entity tag");
            assert.ok(!kind.holdsEdit(after), "the user's edit was not applied either");

            // Trying again without a refresh changes nothing: the state is still stale.
            await refused(kind, d.id, up(p, refreshed, edited));
            assert.deepStrictEqual(await kind.live(d.id), theirs);

            // What the message says to do: refresh (the colleague's change shows), then up.
            const again = await refresh(p, refreshed);
            assert.ok(kind.stateShowsColleague(again.outs), "refresh takes in the colleague's change");
            const done = await up(p, again, edited);
            const final = await kind.live(d.id);
            assert.ok(kind.holdsEdit(final), "up applies the user's edit with the current tag");
            await noChanges(p, done, edited);
            await plugin.delete(p, d.id, done.outs);
        });
    }

    it("two deployers update the same objects from the same refreshed state: the second is refused, the first one's change stays", async function () {
        const second = await startPlugin({
            config: { "ibmcloud:apiKey": emu.apiKey, "ibmcloud:iamEndpoint": emu.url },
            secretKeys: ["ibmcloud:apiKey"],
        });
        try {
            for (const kind of kinds) {
                const p = kind.provider;
                const program = await kind.program();
                const d = await create(p, program);
                const stateA = await refresh(p, d);
                const stateB = await refresh(p, d, second);
                // Deployer A edits one thing and wins the race.
                const byA = await up(p, stateA, kind.edit(program));
                const afterA = await kind.live(d.id);
                assert.ok(kind.holdsEdit(afterA));
                // Deployer B, from the same (now stale) state, edits something else.
                const bProgram = { ...program, description: "deployer B" };
                await refused(kind, d.id, up(p, stateB, bProgram, second));
                assert.deepStrictEqual(await kind.live(d.id), afterA, `${kind.what}: deployer A's change is untouched`);
                await plugin.delete(p, d.id, byA.outs);
            }
        } finally {
            await second.stop();
        }
    });

    it("updates that send no If-Match (lock, disable) against a stale state are refused too, and change nothing", async function () {
        const serviceId = kinds.find((k) => k.what === "service ID")!;
        const apiKey = kinds.find((k) => k.what === "API key")!;
        // ServiceId: only `locked` changes in the program; a colleague renamed it meanwhile.
        const program = { name: "lock-me", description: "v1" };
        const d = await refresh(serviceIdProvider, await create(serviceIdProvider, program));
        const s = await owner.getServiceId(d.id);
        const renamed = await owner.updateServiceId(d.id, s.entity_tag, { name: "renamed-by-a-colleague" });
        await refused(serviceId, d.id, up(serviceIdProvider, d, { ...program, locked: true }));
        const live = await owner.getServiceId(d.id);
        assert.deepStrictEqual(
            [live.name, live.locked, live.entity_tag],
            ["renamed-by-a-colleague", false, renamed.entity_tag],
            "not locked, the rename untouched",
        );
        // refresh, then the lock goes through
        const locked = await up(serviceIdProvider, await refresh(serviceIdProvider, d), { ...program, name: "renamed-by-a-colleague", locked: true });
        assert.strictEqual((await owner.getServiceId(d.id)).locked, true);

        // ServiceApiKey: only `disabled` changes; a colleague changed the description meanwhile.
        const sid = await owner.createServiceId({ name: "disable-me" });
        const keyProgram = { serviceId: sid.id, name: "k", description: "v1" };
        const k = await refresh(serviceApiKeyProvider, await create(serviceApiKeyProvider, keyProgram));
        const key = await owner.getApiKey(k.id);
        await owner.updateApiKey(k.id, key.entity_tag, { description: "set by a colleague" });
        await refused(apiKey, k.id, up(serviceApiKeyProvider, k, { ...keyProgram, disabled: true }));
        const liveKey = await owner.getApiKey(k.id);
        assert.deepStrictEqual([liveKey.description, liveKey.disabled === true], ["set by a colleague", false]);

        await plugin.delete(serviceApiKeyProvider, k.id, k.outs);
        await plugin.delete(serviceIdProvider, d.id, locked.outs);
        await owner.deleteServiceId(sid.id);
    });
});
