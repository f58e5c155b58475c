// ServiceApiKey through the REAL dynamic-provider plugin (serialized as Pulumi does) against the
// emulator: what IBM holds, whether the key really works for a token, the key file on disk, and that no
// key value ever reaches an error message or the plugin's output.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import { serviceApiKeyProvider } from "../../provider";
import { IamClient, IamTokenManager } from "../../client";
import { ServiceIdEntity as ServiceIdWire } from "../../client/iamClient";
import { PluginCallError, Props, RunningPlugin, startPlugin, UNKNOWN } from "./harness";

interface LiveKey {
    id: string;
    iam_id: string;
    name: string;
    description?: string;
    locked: boolean;
    disabled: boolean;
    support_sessions: boolean;
    action_when_leaked: string;
    expires_at?: string;
    store_value: boolean;
    entity_tag: string;
}

interface Deployed {
    id: string;
    inputs: Props;
    outs: Props;
}

const STALE = /^update: API key ApiKey-[0-9a-f-]+ was changed outside Pulumi since it was last read; run `pulumi refresh`, then `pulumi up`/;

describe("plugin: ServiceApiKey through the real dynamic-provider plugin", function () {
    this.timeout(30_000);
    let emu: RunningEmulator;
    let plugin: RunningPlugin;
    let owner: IamClient;
    let sid: ServiceIdWire;
    let dir: string;
    const p = serviceApiKeyProvider;
    /** Every key value seen: none may appear in an error or in the plugin's output. */
    const values: string[] = [];
    const managers: IamTokenManager[] = [];

    async function live(id: string): Promise<LiveKey | undefined> {
        const res = await fetch(`${emu.url}/__emulator/state`);
        const state = (await res.json()) as { apiKeys: LiveKey[] };
        return state.apiKeys.find((k) => k.id === id);
    }

    /** Exchanges `value` for a token the way an application would; resolves to the token's subject or the failure. */
    async function tokenFor(value: string): Promise<string> {
        const tm = new IamTokenManager({ apiKey: value, iamEndpoint: emu.url, http: { retry: { maxRetries: 0 } } });
        managers.push(tm);
        try {
            return String((await tm.getTokenInfo()).iamId);
        } catch (e) {
            return `refused: ${(e as Error).message}`;
        }
    }

    function remember(outs: Props): void {
        if (typeof outs.apikey === "string") values.push(outs.apikey);
    }

    async function create(news: Props): Promise<Deployed> {
        const checked = await plugin.check(p, {}, news);
        assert.deepStrictEqual(checked.failures, []);
        const created = await plugin.create(p, checked.inputs);
        remember(created.outs);
        return { id: created.id, inputs: checked.inputs, outs: created.outs };
    }

    /** An in-place `pulumi up` step: check against old inputs, diff against old outputs (must be an update), update. */
    async function up(d: Deployed, news: Props): Promise<Deployed> {
        const checked = await plugin.check(p, d.inputs, news);
        assert.deepStrictEqual(checked.failures, []);
        const diff = await plugin.diff(p, d.id, d.outs, checked.inputs);
        assert.deepStrictEqual(diff, { changes: "some", replaces: [], deleteBeforeReplace: false }, "an in-place update");
        const updated = await plugin.update(p, d.id, d.outs, checked.inputs);
        return { id: d.id, inputs: checked.inputs, outs: updated.outs };
    }

    function keyFile(file: string): { mode: number; content: Record<string, unknown> } {
        return { mode: fs.statSync(file).mode & 0o777, content: JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown> };
    }

    async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<PluginCallError> {
        let caught: unknown;
        await promise.then(
            () => assert.fail(`expected a failure matching ${pattern}`),
            (e: unknown) => (caught = e),
        );
        assert.ok(caught instanceof PluginCallError, String(caught));
        assert.match(caught.message, pattern);
        assertNoValueIn(caught.message, "an error message");
        return caught;
    }

    function assertNoValueIn(text: string, where: string): void {
        for (const v of [...values, emu.apiKey]) assert.ok(!text.includes(v), `a key value appeared in ${where}`);
    }

    before(async function () {
        emu = await startEmulator({ port: 0 });
        owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        sid = await owner.createServiceId({ name: "orders-app" });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "service-api-key-"));
        plugin = await startPlugin({
            config: { "ibmcloud:apiKey": emu.apiKey, "ibmcloud:iamEndpoint": emu.url },
            secretKeys: ["ibmcloud:apiKey"],
            env: { HOME: dir }, // `~/` in outputFile lands in the test's directory
        });
    });
    after(async function () {
        await plugin?.stop();
        await Promise.all([owner, ...managers].map((c) => c?.http.close()));
        await emu?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("create → read → diff → update in place (same id, new entity tag) → delete; the key works for a token and is written 0600", async function () {
        const file = path.join(dir, "orders-apikey.json");
        const d = await create({ serviceId: sid.id, name: "orders-key", description: "for the orders app", outputFile: file });
        assert.match(d.id, /^ApiKey-[0-9a-f-]{36}$/);
        const value = String(d.outs.apikey);
        assert.strictEqual(value.length, 44, "a value as long as IBM's (derived from the deployer's key and the recovery nonce)");
        assert.deepStrictEqual(
            [
                d.outs.apiKeyId,
                d.outs.serviceId,
                d.outs.iamId,
                d.outs.accountId,
                d.outs.name,
                d.outs.locked,
                d.outs.disabled,
                d.outs.storeValue,
                d.outs.outputFile,
            ],
            [d.id, sid.id, sid.iam_id, emu.accountId, "orders-key", false, false, false, file],
        );
        assert.strictEqual(await tokenFor(value), sid.iam_id, "the key works for a token of the service ID");
        assert.strictEqual((await live(d.id))?.iam_id, sid.iam_id, "`ServiceId-…` was sent as the iam id");

        const f = keyFile(file);
        assert.strictEqual(f.mode, 0o600);
        assert.deepStrictEqual(f.content, {
            name: "orders-key",
            description: "for the orders app",
            apikey: value,
            createdAt: d.outs.createdAt,
            locked: false,
            uuid: d.id,
        });
        assert.deepStrictEqual(fs.readdirSync(dir), ["orders-apikey.json"], "no temporary file left behind");

        const read = await plugin.read(p, d.id, d.outs);
        assert.deepStrictEqual(read.props, d.outs, "read keeps the value from state (IBM does not return it)");
        assert.ok(read.inputs && !("apikey" in read.inputs), "the value is never put in inputs");
        const same = await plugin.check(p, d.inputs, { serviceId: sid.iam_id, name: "orders-key", description: "for the orders app", outputFile: file });
        assert.deepStrictEqual(
            await plugin.diff(p, d.id, d.outs, same.inputs),
            { changes: "none", replaces: [], deleteBeforeReplace: false },
            "the iam form of the same service ID is no change",
        );

        const u = await up(d, {
            serviceId: sid.id,
            name: "orders-key-v2",
            expiresAt: "2099-12-31T23:59:00Z",
            actionWhenLeaked: "delete",
            supportSessions: true,
            outputFile: file,
        });
        assert.strictEqual(u.outs.apiKeyId, d.id);
        assert.strictEqual(u.outs.apikey, value, "same key value");
        assert.notStrictEqual(u.outs.entityTag, d.outs.entityTag);
        const stored = await live(d.id);
        assert.deepStrictEqual(
            [stored?.name, stored?.description, stored?.expires_at, stored?.action_when_leaked, stored?.support_sessions],
            ["orders-key-v2", undefined, "2099-12-31T23:59+0000", "delete", true],
        );
        assert.strictEqual(u.outs.expiresAt, "2099-12-31T23:59:00Z", "the user's spelling is kept for the same minute");
        assert.strictEqual(u.outs.entityTag, stored?.entity_tag);
        const again = await plugin.check(p, u.inputs, { ...u.inputs, expiresAt: "2099-12-31T23:59+0000" });
        assert.strictEqual((await plugin.diff(p, d.id, u.outs, again.inputs)).changes, "none", "IBM's spelling of the same minute is no change");

        await plugin.delete(p, d.id, u.outs);
        assert.strictEqual(await live(d.id), undefined);
        assert.ok(!fs.existsSync(file), "the key file is removed with the key");
        assert.match(await tokenFor(value), /^refused: .*BXNIM0415E/, "a deleted key gets no token");
        await plugin.delete(p, d.id, u.outs); // already gone = success
    });

    it("locks and disables at creation and in place; Pulumi's own updates unlock, act and lock again; delete unlocks", async function () {
        const d = await create({ serviceId: sid.iam_id, name: "guarded", locked: true, disabled: true, outputFile: "~/guarded.json" });
        let stored = await live(d.id);
        assert.deepStrictEqual([stored?.locked, stored?.disabled], [true, true], "created with Entity-Lock and Entity-Disable");
        const home = path.join(dir, "guarded.json");
        assert.deepStrictEqual(
            [keyFile(home).mode, keyFile(home).content.locked, keyFile(home).content.uuid],
            [0o600, true, d.id],
            "`~/` is the home directory",
        );
        assert.match(await tokenFor(String(d.outs.apikey)), /^refused: .*BXNIM0415E/, "a disabled key gets no token");

        const enabled = await up(d, { serviceId: sid.iam_id, name: "guarded-2", locked: true, disabled: false });
        stored = await live(d.id);
        assert.deepStrictEqual([stored?.name, stored?.locked, stored?.disabled], ["guarded-2", true, false]);
        assert.strictEqual(enabled.outs.entityTag, stored?.entity_tag);
        assert.strictEqual(await tokenFor(String(d.outs.apikey)), sid.iam_id, "enabled again");
        assert.ok(!fs.existsSync(home), "dropping outputFile removes the file");

        const unlocked = await up(enabled, { serviceId: sid.iam_id, name: "guarded-2", locked: false });
        assert.strictEqual((await live(d.id))?.locked, false);
        const relocked = await up(unlocked, { serviceId: sid.iam_id, name: "guarded-2", locked: true, disabled: true, outputFile: "~/guarded.json" });
        stored = await live(d.id);
        assert.deepStrictEqual([stored?.locked, stored?.disabled], [true, true]);
        assert.deepStrictEqual([relocked.outs.locked, relocked.outs.disabled], [true, true]);
        assert.deepStrictEqual(
            [keyFile(home).mode, keyFile(home).content.apikey],
            [0o600, d.outs.apikey],
            "setting outputFile later writes the key from state",
        );

        await plugin.delete(p, d.id, relocked.outs);
        assert.strictEqual(await live(d.id), undefined);
        assert.ok(!fs.existsSync(home));
    });

    it("rotation: changing rotationTrigger creates the new key before the old one is deleted, with no gap and the file kept", async function () {
        const file = path.join(dir, "rotating.json");
        fs.writeFileSync(file, "{}", { mode: 0o644 });
        const old = await create({ serviceId: sid.id, name: "rotating", rotationTrigger: 1, outputFile: file });
        assert.strictEqual(keyFile(file).mode, 0o600, "a file that was 0644 is replaced by a 0600 one");

        const checked = await plugin.check(p, old.inputs, { serviceId: sid.id, name: "rotating", rotationTrigger: 2, outputFile: file });
        assert.deepStrictEqual(await plugin.diff(p, old.id, old.outs, checked.inputs), {
            changes: "some",
            replaces: ["rotationTrigger"],
            deleteBeforeReplace: false,
        });
        const same = await plugin.check(p, old.inputs, { serviceId: sid.id, name: "rotating", rotationTrigger: "1", outputFile: file });
        assert.strictEqual((await plugin.diff(p, old.id, old.outs, same.inputs)).changes, "none", '1 and "1" are the same trigger');

        // The engine's create-before-delete replacement: create the new key, then delete the old one.
        const created = await plugin.create(p, checked.inputs);
        remember(created.outs);
        assert.notStrictEqual(created.id, old.id);
        assert.notStrictEqual(created.outs.apikey, old.outs.apikey);
        assert.strictEqual(await tokenFor(String(created.outs.apikey)), sid.iam_id, "the new key works");
        assert.ok(await live(old.id), "the old key still exists until the engine deletes it");
        assert.strictEqual(await tokenFor(String(old.outs.apikey)), sid.iam_id, "and still works meanwhile");
        assert.strictEqual(keyFile(file).content.uuid, created.id, "the file now holds the new key");

        await plugin.delete(p, old.id, old.outs);
        assert.strictEqual(await live(old.id), undefined);
        assert.match(await tokenFor(String(old.outs.apikey)), /^refused:/);
        const f = keyFile(file);
        assert.deepStrictEqual(
            [f.mode, f.content.uuid, f.content.apikey],
            [0o600, created.id, created.outs.apikey],
            "deleting the old key leaves the file that holds the new one",
        );
        await plugin.delete(p, created.id, created.outs);
        assert.ok(!fs.existsSync(file));
    });

    it("bring your own value: kept secret from errors, replaced when changed, moved delete-first when the same value changes service ID", async function () {
        const byo = "byo-" + "0123456789abcdefghijklmnopqrstuvwxyz".repeat(2);
        values.push(byo);
        const short = await plugin.check(p, {}, { serviceId: sid.id, name: "byo", apikey: "too-short-secret-value" });
        values.push("too-short-secret-value");
        assert.deepStrictEqual(
            short.failures.map((f) => f.property),
            ["apikey"],
        );
        assert.match(short.failures[0].reason, /at least 32 characters/);
        assertNoValueIn(short.failures[0].reason, "a check failure");

        const d = await create({ serviceId: sid.id, name: "byo", apikey: byo });
        assert.strictEqual(d.outs.apikey, byo);
        assert.strictEqual(await tokenFor(byo), sid.iam_id);

        // IBM refuses a value already in use; the error must not repeat it.
        const dup = await plugin.check(p, {}, { serviceId: sid.id, name: "byo-twin", apikey: byo });
        await rejects(plugin.create(p, dup.inputs), /^create: create API key failed: 409/);
        // which key holds it (a leftover of an interrupted create, perhaps) and how to free it, named by id only
        await rejects(
            plugin.create(p, dup.inputs),
            new RegExp(`the value is API key ${d.id} \\(named "byo"\\) of ${sid.iam_id}\\. If no stack tracks that key`),
        );

        const other = await owner.createServiceId({ name: "other-app" });
        const moved = await plugin.check(p, d.inputs, { serviceId: other.id, name: "byo", apikey: byo });
        assert.deepStrictEqual(await plugin.diff(p, d.id, d.outs, moved.inputs), { changes: "some", replaces: ["serviceId"], deleteBeforeReplace: true });
        const newValue = await plugin.check(p, d.inputs, { serviceId: sid.id, name: "byo", apikey: byo.replace("byo-", "byo2") });
        values.push(byo.replace("byo-", "byo2"));
        assert.deepStrictEqual(await plugin.diff(p, d.id, d.outs, newValue.inputs), { changes: "some", replaces: ["apikey"], deleteBeforeReplace: false });
        await plugin.delete(p, d.id, d.outs);
    });

    it("a change made elsewhere is not overwritten: the stale entity tag fails with the refresh advice, and nothing changes", async function () {
        const d = await create({ serviceId: sid.id, name: "tagged", description: "v1" });
        await owner.updateApiKey(d.id, String(d.outs.entityTag), { name: "renamed-by-a-colleague" });

        await rejects(plugin.update(p, d.id, d.outs, { ...d.inputs, description: "v2" }), STALE);
        assert.deepStrictEqual([(await live(d.id))?.name, (await live(d.id))?.description], ["renamed-by-a-colleague", "v1"]);

        await owner.lockApiKey(d.id);
        await rejects(plugin.update(p, d.id, { ...d.outs, locked: true }, { ...d.inputs, description: "v2", locked: true }), STALE);
        assert.strictEqual((await live(d.id))?.locked, true, "locked again after the refusal");
        await owner.unlockApiKey(d.id);

        const read = await plugin.read(p, d.id, d.outs);
        assert.strictEqual(read.props.name, "renamed-by-a-colleague", "refresh shows the rename");
        assert.strictEqual(read.props.apikey, d.outs.apikey, "and keeps the value");
        const fixed = await up({ id: d.id, inputs: read.inputs!, outs: read.props }, { serviceId: sid.id, name: "tagged", description: "v1" });
        assert.strictEqual((await live(d.id))?.name, "tagged");
        await plugin.delete(p, d.id, fixed.outs);
    });

    it("drift: deleted elsewhere reads as gone, deletes cleanly and removes its file; adoption by id reads what IBM holds", async function () {
        const file = path.join(dir, "drift.json");
        const d = await create({ serviceId: sid.id, name: "drifting", outputFile: file });
        await owner.deleteApiKey(d.id);
        assert.strictEqual((await plugin.read(p, d.id, d.outs)).id, "");
        await plugin.delete(p, d.id, d.outs);
        assert.ok(!fs.existsSync(file), "the file of the key is removed");
        await rejects(plugin.update(p, d.id, d.outs, { ...d.inputs, name: "x" }), /ApiKey-[0-9a-f-]+ no longer exists/);

        // Adoption (static get / the id option): read gets only the id.
        const stored = await owner.createApiKey({ iam_id: sid.iam_id, name: "stored", store_value: true });
        const plain = await owner.createApiKey({ iam_id: sid.iam_id, name: "plain", description: "by hand" }, { locked: true });
        values.push(String(stored.apikey), String(plain.apikey));
        const a = await plugin.read(p, stored.id, {});
        assert.deepStrictEqual(
            [a.id, a.props.apikey, a.props.storeValue, a.props.serviceId],
            [stored.id, stored.apikey, true, sid.id],
            "IBM returns a stored value",
        );
        const b = await plugin.read(p, plain.id, {});
        assert.deepStrictEqual(
            [b.props.name, b.props.description, b.props.locked, b.props.storeValue, "apikey" in b.props],
            ["plain", "by hand", true, false, false],
        );
        await plugin.delete(p, plain.id, b.props);
        assert.strictEqual(await live(plain.id), undefined, "an adopted locked key is unlocked and deleted");
        const userKey = (await owner.listApiKeys({ iamId: (await owner.tokenInfo()).iamId }))[0];
        await rejects(plugin.read(p, userKey.id, {}), /belongs to IBMid-.*not to a service ID/);
    });

    it("check names the field and the fix for bad and contradictory input; preview unknowns pass", async function () {
        const bad = await plugin.check(
            p,
            {},
            {
                serviceId: "my-app",
                name: "",
                expiresAt: "2001-01-01T00:00+0000",
                actionWhenLeaked: "explode",
                rotationTrigger: { a: 1 },
                outputFile: "",
            },
        );
        const by = Object.fromEntries(bad.failures.map((f) => [f.property, f.reason]));
        assert.match(by.serviceId, /ServiceId-<uuid> or its IAM ID iam-ServiceId-<uuid>/);
        assert.match(by.name, /must not be empty/);
        assert.match(by.expiresAt, /must be in the future/);
        assert.match(by.actionWhenLeaked, /none, disable, delete/);
        assert.match(by.rotationTrigger, /string or a number/);
        assert.match(by.outputFile, /must not be empty/);
        // An expiry that has passed since it was set does not block later runs.
        const old = { serviceId: sid.id, name: "k", expiresAt: "2001-01-01T00:00+0000" };
        assert.deepStrictEqual((await plugin.check(p, old, old)).failures, []);
        const preview = await plugin.check(p, {}, { serviceId: UNKNOWN, name: "k", apikey: UNKNOWN, rotationTrigger: UNKNOWN });
        assert.deepStrictEqual(preview.failures, []);
        assert.strictEqual(preview.inputs.serviceId, UNKNOWN);
    });

    it("no key value reached the plugin's output", function () {
        assertNoValueIn(plugin.stderr(), "the plugin's stderr");
        assertNoValueIn(plugin.stdout(), "the plugin's stdout");
    });
});
