import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as childProcess from "child_process";
import * as net from "net";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import { request } from "undici";
import "../support/failFast";
import { grpc, PluginCallError, RunningPlugin, startPlugin, UNKNOWN } from "./harness";
import { isAlive, waitUntilGone } from "./processes";
import { startThingsApi, Thing, ThingsApi } from "./thingsApi";
import { undiciAgentAtModuleScope } from "./fixtures/undiciAgentAtModuleScope";
import { undiciDestructuredRequire } from "./fixtures/undiciDestructuredRequire";
import { undiciModuleCopy } from "./fixtures/undiciModuleCopy";
import { undiciNamedImport } from "./fixtures/undiciNamedImport";
import { undiciWholeRequire } from "./fixtures/undiciWholeRequire";
import { zodSchemaAtModuleScope } from "./fixtures/zodSchemaAtModuleScope";

// ---- providers under test (serialized from here, so they may only reach npm modules by name) ----

interface ThingInputs {
    name: string;
    description: string;
}

/** A well-behaved provider over the things API: `name` is immutable, `description` updatable. */
class ThingProvider implements pulumi.dynamic.ResourceProvider<ThingInputs, Thing> {
    private endpoint = "";

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.endpoint = req.config.require("test:endpoint");
    }

    async check(_olds: Partial<ThingInputs>, news: Partial<ThingInputs>): Promise<pulumi.dynamic.CheckResult<ThingInputs>> {
        const failures: pulumi.dynamic.CheckFailure[] = [];
        // A preview value that depends on another resource arrives as the unknown sentinel: accept it.
        if (typeof news.name !== "string" || news.name === "") failures.push({ property: "name", reason: "name is required" });
        return { inputs: { name: news.name ?? "", description: news.description ?? "" }, failures };
    }

    async diff(_id: string, olds: Thing, news: ThingInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces = olds.name !== news.name ? ["name"] : [];
        return { changes: replaces.length > 0 || olds.description !== news.description, replaces };
    }

    async create(inputs: ThingInputs): Promise<pulumi.dynamic.CreateResult<Thing>> {
        const thing = await this.send("POST", "/things", inputs);
        return { id: thing.id, outs: thing };
    }

    async read(id: string): Promise<pulumi.dynamic.ReadResult> {
        const res = await request(`${this.endpoint}/things/${id}`);
        if (res.statusCode === 404) {
            await res.body.dump();
            return { id: "" };
        }
        const thing = (await res.body.json()) as Thing;
        return { id, props: thing, inputs: { name: thing.name, description: thing.description } };
    }

    async update(id: string, _olds: Thing, news: ThingInputs): Promise<pulumi.dynamic.UpdateResult<Thing>> {
        return { outs: await this.send("PUT", `/things/${id}`, news) };
    }

    async delete(id: string): Promise<void> {
        const res = await request(`${this.endpoint}/things/${id}`, { method: "DELETE" });
        await res.body.dump();
        if (res.statusCode !== 204 && res.statusCode !== 404) throw new Error(`delete ${id}: HTTP ${res.statusCode}`);
    }

    private async send(method: "POST" | "PUT", p: string, body: ThingInputs): Promise<Thing> {
        const res = await request(`${this.endpoint}${p}`, {
            method,
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
        });
        if (res.statusCode >= 300) throw new Error(`${method} ${p}: HTTP ${res.statusCode}: ${await res.body.text()}`);
        return (await res.body.json()) as Thing;
    }
}

/** Fails in every way the engine distinguishes. */
const failing: pulumi.dynamic.ResourceProvider = {
    async check() {
        throw new Error("check exploded");
    },
    async create(inputs: { partial?: boolean }) {
        if (!inputs.partial) throw new Error("quota exceeded");
        // Created, then failed to finish: the engine records the object instead of leaking it.
        throw Object.assign(new Error("created but not ready"), { id: "half-1", properties: { state: "pending" }, reasons: ["not ready after 3 polls"] });
    },
    async diff() {
        return { changes: undefined };
    },
};

/** Returns an output that is undefined: the plugin cannot put it in a Struct. */
const undefinedOutput: pulumi.dynamic.ResourceProvider = {
    async create() {
        return { id: "u", outs: { present: 1, missing: undefined } };
    },
};

/** No `update`: the plugin then answers an Update with empty outputs. */
const noUpdate: pulumi.dynamic.ResourceProvider = {
    async create(inputs: { v: number }) {
        return { id: "nu", outs: { v: inputs.v } };
    },
};

/** Reports what `configure` saw. Secret values are compared, never echoed. */
class ConfigProbe implements pulumi.dynamic.ResourceProvider {
    /** `tag` changes the serialized text, hence a fresh configure() in the plugin */
    constructor(readonly tag = "") {}

    private seen: Record<string, string | number | boolean | null> = {};
    private configureCalls = 0;

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.configureCalls += 1;
        const apiKey = req.config.get("ibmcloud:apiKey");
        this.seen = {
            apiKeyIsPlaintext: apiKey === "probe-api-key-0123456789",
            region: req.config.get("ibmcloud:region") ?? null,
            namespaced: req.config.get("pulumi-ibmcloud-iam:owner") ?? null,
            // no namespace: looked up as "<project>:owner", and the plugin's project is "project"
            unnamespaced: req.config.get("owner") ?? null,
        };
    }

    async create(): Promise<pulumi.dynamic.CreateResult> {
        return { id: "probe", outs: { ...this.seen, configureCalls: this.configureCalls } };
    }
}

/** Starts a grandchild process, to prove stop() takes the whole process group down. */
const spawner: pulumi.dynamic.ResourceProvider = {
    async create() {
        const child = childProcess.spawn("sleep", ["60"], { stdio: "ignore" });
        return { id: "spawner", outs: { childPid: child.pid ?? -1 } };
    },
};

async function rejection(p: Promise<unknown>): Promise<Error> {
    try {
        await p;
    } catch (e) {
        assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
        return e;
    }
    assert.fail("expected the call to fail");
}

// -------------------------------------------------------------------------------------------------

describe("plugin harness: the real dynamic-provider plugin over gRPC", function () {
    describe("one shared plugin", function () {
        let api: ThingsApi;
        let plugin: RunningPlugin;

        before(async function () {
            api = await startThingsApi();
            plugin = await startPlugin({ config: { "test:endpoint": api.url } });
        });
        after(async function () {
            await plugin?.stop();
            await api?.stop();
        });

        it("round-trips check → create → read → diff → update → delete with the outputs the API returned", async function () {
            const provider = new ThingProvider();

            const checked = await plugin.check(provider, {}, { name: "alpha", description: "first", extra: undefined });
            assert.deepEqual(checked, { inputs: { name: "alpha", description: "first" }, failures: [] });

            const created = await plugin.create(provider, checked.inputs);
            assert.deepEqual(created, { id: "thing-1", outs: { id: "thing-1", name: "alpha", description: "first", revision: 1 } });
            assert.deepEqual(api.things.get("thing-1"), created.outs);

            const read = await plugin.read(provider, created.id, created.outs);
            assert.deepEqual(read, { id: "thing-1", props: created.outs, inputs: { name: "alpha", description: "first" } });

            const news = (await plugin.check(provider, checked.inputs, { name: "alpha", description: "second" })).inputs;
            assert.deepEqual(await plugin.diff(provider, created.id, created.outs, news), { changes: "some", replaces: [], deleteBeforeReplace: false });
            assert.deepEqual(await plugin.diff(provider, created.id, created.outs, checked.inputs), {
                changes: "none",
                replaces: [],
                deleteBeforeReplace: false,
            });
            const renamed = { name: "beta", description: "first" };
            assert.deepEqual((await plugin.diff(provider, created.id, created.outs, renamed)).replaces, ["name"]);

            const updated = await plugin.update(provider, created.id, created.outs, news);
            assert.deepEqual(updated.outs, { id: "thing-1", name: "alpha", description: "second", revision: 2 });

            await plugin.delete(provider, created.id, updated.outs);
            assert.equal(api.things.size, 0);
            assert.deepEqual((await plugin.read(provider, created.id, updated.outs)).id, "", "read of a deleted thing reports it gone");
            assert.deepEqual(
                api.requests.map((r) => `${r.method} ${r.path}`),
                ["POST /things", "GET /things/thing-1", "PUT /things/thing-1", "DELETE /things/thing-1", "GET /things/thing-1"],
            );
        });

        it("returns check failures, and lets preview unknowns through as the engine's sentinel", async function () {
            assert.equal(UNKNOWN, unknownValue);
            const provider = new ThingProvider();
            assert.deepEqual((await plugin.check(provider, {}, { description: "x" })).failures, [{ property: "name", reason: "name is required" }]);
            const preview = await plugin.check(provider, {}, { name: UNKNOWN, description: UNKNOWN });
            assert.deepEqual(preview, { inputs: { name: UNKNOWN, description: UNKNOWN }, failures: [] });
        });

        it("surfaces a provider's error with the plugin's message, the stack it logged, and the partial state of a create", async function () {
            const checkErr = await rejection(plugin.check(failing, {}, { a: 1 }));
            assert.ok(checkErr instanceof PluginCallError);
            assert.equal(checkErr.message, "check: check exploded");
            assert.equal(checkErr.code, 2); // UNKNOWN

            const createErr = await rejection(plugin.create(failing, {}));
            assert.ok(createErr instanceof PluginCallError);
            assert.equal(createErr.details, "quota exceeded");
            assert.equal(createErr.partial, undefined);

            const partialErr = await rejection(plugin.create(failing, { partial: true }));
            assert.ok(partialErr instanceof PluginCallError);
            assert.equal(partialErr.details, "created but not ready");
            assert.deepEqual(partialErr.partial, { id: "half-1", properties: { state: "pending" }, reasons: ["not ready after 3 polls"] });

            const structErr = await rejection(plugin.create(undefinedOutput, {}));
            assert.ok(structErr instanceof PluginCallError);
            assert.match(structErr.details, /Unexpected struct type/);

            // The plugin logs the stack of check/diff/read/delete failures to stderr (not of create/update).
            const deadline = Date.now() + 2_000;
            while (!plugin.stderr().includes("check exploded") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
            assert.match(plugin.stderr(), /Error: check exploded/);
        });

        it("reports what the engine sees when diff leaves `changes` undefined, and wipes outputs when a provider has no update", async function () {
            assert.equal((await plugin.diff(failing, "x", { a: 1 }, { a: 2 })).changes, "unknown");
            const created = await plugin.create(noUpdate, { v: 1 });
            assert.deepEqual(created.outs, { v: 1 });
            assert.deepEqual((await plugin.update(noUpdate, created.id, created.outs, { v: 2 })).outs, {});
        });

        it("fails at serialization, in this process and before any gRPC call, when a provider captures a zod schema or an undici Agent", async function () {
            for (const [provider, culprit] of [
                [zodSchemaAtModuleScope, "inputsSchema"],
                [undiciAgentAtModuleScope, "agent"],
            ] as const) {
                const started = Date.now();
                const err = await rejection(plugin.create(provider, { url: api.url, name: "n" }));
                assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
                assert.ok(!(err instanceof PluginCallError), `reached the plugin: ${err.message}`);
                assert.match(err.message, /^Error serializing '\(\) => provider'/);
                assert.match(err.message, new RegExp(`variable '${culprit}' which indirectly referenced`));
                assert.match(err.message, /could not be serialized because/);
            }
            assert.equal(api.things.size, 0);
        });

        it("fails inside the plugin at the first Create when undici is captured by value, and works with a named import", async function () {
            const before = api.requests.length;
            for (const provider of [undiciDestructuredRequire, undiciModuleCopy]) {
                const err = await rejection(plugin.create(provider, { url: `${api.url}/things` }));
                assert.ok(err instanceof PluginCallError, err.message);
                assert.equal(err.details, "Symbol.prototype [ @@toPrimitive ] requires that 'this' be a Symbol");
            }
            assert.equal(api.requests.length, before, "no request left the plugin");

            for (const provider of [undiciNamedImport, undiciWholeRequire]) {
                const created = await plugin.create(provider, { url: `${api.url}/things` });
                assert.deepEqual(created.outs, { status: 201 });
                assert.ok(api.things.has(created.id));
            }
        });
    });

    // One plugin for configure, then stopped by the last test.
    describe("configure, then stop", function () {
        let plugin: RunningPlugin;
        let engine: net.Server;
        let engineConnections = 0;

        before(async function () {
            // Something real at the engine address, to show the plugin never dials it.
            engine = net.createServer((s) => {
                engineConnections += 1;
                s.destroy();
            });
            await new Promise<void>((resolve) => engine.listen(0, "127.0.0.1", resolve));
            plugin = await startPlugin({
                engineAddress: `127.0.0.1:${(engine.address() as net.AddressInfo).port}`,
                config: {
                    "ibmcloud:apiKey": "probe-api-key-0123456789",
                    "ibmcloud:region": "eu-de",
                    "pulumi-ibmcloud-iam:owner": "team-a",
                },
                secretKeys: ["ibmcloud:apiKey"],
            });
        });
        after(async function () {
            await plugin?.stop();
            await new Promise((resolve) => engine?.close(resolve));
        });

        it("gives configure() the whole stack config with namespaces, secrets as plaintext, once per provider", async function () {
            const probe = new ConfigProbe();
            const first = await plugin.create(probe, {});
            const second = await plugin.create(probe, {});
            assert.deepEqual(first.outs, {
                apiKeyIsPlaintext: true,
                region: "eu-de",
                namespaced: "team-a",
                unnamespaced: null,
                configureCalls: 1,
            });
            assert.equal(second.outs.configureCalls, 1, "configure runs once per distinct __provider text per process");
            assert.equal(plugin.acceptSecrets, false);
            assert.equal(engineConnections, 0);
        });

        it("hangs to the deadline on a Configure without args (the trap the harness avoids), keeping the config it had", async function () {
            const err = await new Promise<Error & { code?: number }>((resolve) =>
                plugin.client.configure(new provproto.ConfigureRequest(), new grpc.Metadata(), { deadline: Date.now() + 1_000 }, (e) =>
                    resolve(e ?? new Error("Configure answered")),
                ),
            );
            assert.equal(err.code, 4, err.message); // DEADLINE_EXCEEDED
            const fresh = await plugin.create(new ConfigProbe("after-bad-configure"), {});
            assert.deepEqual([fresh.outs.configureCalls, fresh.outs.region], [1, "eu-de"]);
        });

        it("stop() kills the plugin and everything it spawned, and later calls fail fast", async function () {
            const { outs } = await plugin.create(spawner, {});
            const grandchild = outs.childPid as number;
            assert.ok(isAlive(plugin.pid) && isAlive(grandchild));

            await plugin.stop();
            assert.throws(() => process.kill(plugin.pid, 0), /ESRCH/);
            assert.ok(await waitUntilGone(grandchild), `grandchild ${grandchild} survived`);
            await plugin.stop(); // idempotent
            assert.match((await rejection(plugin.create(spawner, {}))).message, /already stopped/);
        });
    });

    describe("process lifetime", function () {
        it("takes the plugin down when the test process exits without stop()", async function () {
            const script = path.join(__dirname, "fixtures", "forgottenStop.js");
            const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
                const child = execFile(process.execPath, [script], { timeout: 30_000 }, (e, out) =>
                    resolve({ stdout: out, code: e ? ((e as { code?: number }).code ?? -1) : 0 }),
                );
                child.stdin?.end();
            });
            assert.equal(code, 0, "the process exited by itself");
            const pid = Number(stdout.trim());
            assert.ok(Number.isInteger(pid) && pid > 0, `no pid in ${JSON.stringify(stdout)}`);
            assert.ok(await waitUntilGone(pid), `plugin ${pid} outlived its parent`);
        });
    });
});
