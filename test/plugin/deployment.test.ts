// How our providers travel to the plugin (provider/dynamicProvider.ts), through the REAL plugin:
// - as a module: installed under node_modules (the user's case), one `require` of a module whose whole
//   export is the provider, a few hundred bytes;
// - by name: where the package resolves from the project directory (inside this repository through
//   package self-reference), a thin provider of a few KiB that loads the installed implementation;
// - by value: where it does not (a project whose node_modules has our dependencies but not this
//   package), the whole provider, as Pulumi serializes it.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import { locateProvider, providerForDeployment } from "../../provider/dynamicProvider";
import { serviceApiKeyProvider } from "../../provider/serviceApiKey";
import { serviceIdProvider } from "../../provider/serviceId";
import { PluginCallError, Props, REPO_ROOT, RunningPlugin, serializeExactly, serializeProvider, startPlugin } from "./harness";
import { RESOURCES } from "../support/resources";

/** Upper bound for a thin provider's text; the by-value ones are over ten times bigger. */
const THIN_MAX_CHARS = 8 * 1024;
/** Upper bound for a module-shaped provider's text (at most 0.5 KiB per resource). */
const MODULE_MAX_CHARS = 512;

const PROVIDERS: Array<[string, object, string]> = RESOURCES.map((r) => [r.type, r.provider, r.file]);

/**
 * A project directory outside the repository whose node_modules is the repository's (so @pulumi/pulumi,
 * undici and zod resolve) but holds no pulumi-ibmcloud-iam and is not inside our package: what a
 * project that loads our code from local files (not an installed package) looks like to the plugin.
 */
/**
 * A project with the package INSTALLED: a real copy of package.json and dist/ under node_modules (not a
 * link: Pulumi judges the real path), its dependencies the repository's (one @pulumi/pulumi for all).
 */
function projectWithThePackageInstalled(): { dir: string; pkg: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "installed-project-"));
    const pkg = path.join(dir, "node_modules", "pulumi-ibmcloud-iam");
    fs.mkdirSync(pkg, { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, "package.json"), path.join(pkg, "package.json"));
    fs.cpSync(path.join(REPO_ROOT, "dist"), path.join(pkg, "dist"), { recursive: true });
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(pkg, "node_modules"), "dir");
    return { dir, pkg };
}

function projectWithoutThePackage(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "by-value-project-"));
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    return dir;
}

describe("plugin: providers sent by name (thin) or by value", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    let elsewhere: string;
    const plugins: RunningPlugin[] = [];

    async function plugin(cwd: string): Promise<RunningPlugin> {
        const p = await startPlugin({
            cwd,
            config: { "ibmcloud:apiKey": emu.apiKey, "ibmcloud:iamEndpoint": emu.url },
            secretKeys: ["ibmcloud:apiKey"],
            // Credentials reach the provider only through configure().
            env: { IC_API_KEY: undefined, IBMCLOUD_API_KEY: undefined, IBMCLOUD_IAM_API_ENDPOINT: undefined },
        });
        plugins.push(p);
        return p;
    }

    async function tokenRequests(): Promise<number> {
        const state = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { counts: { tokenRequests: number } };
        return state.counts.tokenRequests;
    }

    async function liveServiceIds(): Promise<string[]> {
        const state = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { serviceIds: Array<{ id: string }> };
        return state.serviceIds.map((s) => s.id);
    }

    /** A service ID's life through `p`, the way the engine drives it; returns how many calls it made. */
    async function serviceIdLife(p: RunningPlugin, name: string, provider: object = serviceIdProvider): Promise<number> {
        const checked = await p.check(provider, {}, { name });
        assert.deepEqual(checked.failures, []);
        const created = await p.create(provider, checked.inputs);
        assert.ok((await liveServiceIds()).includes(created.id));
        const read = await p.read(provider, created.id, created.outs, checked.inputs);
        assert.deepEqual(read.props, created.outs);
        const news = (await p.check(provider, checked.inputs, { name, description: "changed" })).inputs;
        assert.equal((await p.diff(provider, created.id, created.outs, news)).changes, "some");
        const updated = await p.update(provider, created.id, created.outs, news);
        assert.equal(updated.outs.description, "changed");
        await p.delete(provider, created.id, updated.outs);
        assert.ok(!(await liveServiceIds()).includes(created.id));
        return 7;
    }

    before(async () => {
        emu = await startEmulator({ port: 0 });
        elsewhere = projectWithoutThePackage();
    });
    after(async () => {
        for (const p of plugins) await p.stop();
        await emu?.stop();
        if (elsewhere) fs.rmSync(elsewhere, { recursive: true, force: true });
    });

    it("each resource's provider is found where it is defined and named by its package path", () => {
        for (const [type, provider, file] of PROVIDERS) {
            assert.deepEqual(
                locateProvider(provider),
                {
                    spec: `pulumi-ibmcloud-iam/dist/provider/${file}.js`,
                    file: path.join(REPO_ROOT, "dist", "provider", `${file}.js`),
                    exportName: `${file}Provider`,
                },
                type,
            );
        }
        assert.equal(
            locateProvider({
                async create() {
                    return { id: "x" };
                },
            }),
            undefined,
            "a provider defined elsewhere is not ours to send by name",
        );
    });

    it("inside the repository a resource's provider travels as a few KiB; where the package does not resolve, by value (over 8 KiB)", async function () {
        // Serializing a provider by value walks its whole closure (seconds each on a loaded machine): the
        // limit grows with the number of resources rather than failing as resources are added.
        this.timeout(10_000 * PROVIDERS.length);
        for (const [type, provider, file] of PROVIDERS) {
            const thin = await serializeProvider(provider, REPO_ROOT);
            const full = await serializeProvider(provider, elsewhere);
            assert.ok(thin.text.length < THIN_MAX_CHARS, `${type}: thin provider is ${thin.text.length} chars`);
            assert.ok(full.text.length > THIN_MAX_CHARS, `${type}: by-value provider is only ${full.text.length} chars`);
            assert.ok(thin.text.includes(`"pulumi-ibmcloud-iam/dist/provider/${file}.js"`), `${type}: thin provider names its module`);
            assert.ok(!/IamTokenManager|class /.test(thin.text), `${type}: thin provider carries no client code`);
            assert.equal(full.text, (await serializeExactly(provider)).text, `${type}: the fallback is the provider itself, by value`);
            assert.equal(thin.containsSecrets, false);
        }
        // The same thin object every time (Pulumi caches serialization per object).
        assert.equal(providerForDeployment(serviceIdProvider as never, REPO_ROOT), providerForDeployment(serviceIdProvider as never, REPO_ROOT));
    });

    it("by name only when the name resolves to the very file that defines the provider (not another copy of the package)", () => {
        const other = fs.mkdtempSync(path.join(os.tmpdir(), "other-copy-"));
        try {
            const pkg = path.join(other, "node_modules", "pulumi-ibmcloud-iam");
            fs.mkdirSync(path.join(pkg, "dist", "provider"), { recursive: true });
            fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "pulumi-ibmcloud-iam", main: "dist/index.js" }));
            fs.writeFileSync(path.join(pkg, "dist", "provider", "serviceId.js"), "exports.serviceIdProvider = {};\n");
            assert.equal(providerForDeployment(serviceIdProvider as never, other), serviceIdProvider, "another copy: by value");
            // An installed package that is this very checkout (npm link / file: dependency): by name.
            fs.rmSync(pkg, { recursive: true });
            fs.symlinkSync(REPO_ROOT, pkg, "dir");
            assert.notEqual(providerForDeployment(serviceIdProvider as never, other), serviceIdProvider, "a link to this checkout: by name");
        } finally {
            fs.rmSync(other, { recursive: true, force: true });
        }
    });

    it("by name: the plugin loads the installed provider once per type and configures it (one token per type for a whole life)", async () => {
        const p = await plugin(REPO_ROOT);
        const before = await tokenRequests();
        assert.equal(await serviceIdLife(p, "by-name-1"), 7);
        assert.equal(await serviceIdLife(p, "by-name-2"), 7);
        assert.equal((await tokenRequests()) - before, 1, "14 calls of one type share one configured provider and its cached token");
        // A second type is a second provider object with its own session.
        const sid = await p.create(serviceIdProvider, (await p.check(serviceIdProvider, {}, { name: "key-holder" })).inputs);
        const key = await p.check(serviceApiKeyProvider, {}, { serviceId: sid.id, name: "k" });
        const createdKey = await p.create(serviceApiKeyProvider, key.inputs);
        await p.delete(serviceApiKeyProvider, createdKey.id, createdKey.outs);
        await p.delete(serviceIdProvider, sid.id, sid.outs);
        assert.equal((await tokenRequests()) - before, 2);
        assert.ok(!p.stderr().includes(emu.apiKey));
    });

    it("installed under node_modules: each provider travels as one require of its module (under 0.5 KiB), and works through the plugin", async () => {
        const installed = projectWithThePackageInstalled();
        try {
            // The installed copy's own code, as a consumer's program loads it.
            const dyn = require(path.join(installed.pkg, "dist", "provider", "dynamicProvider.js")) as typeof import("../../provider/dynamicProvider");
            for (const [type, , file] of PROVIDERS) {
                const real = (require(path.join(installed.pkg, "dist", "provider", `${file}.js`)) as Record<string, object>)[`${file}Provider`];
                const handed = dyn.providerForDeployment(real as never, installed.dir);
                assert.equal(handed, real, `${type}: the provider itself, its module loaded`);
                const sf = await serializeExactly(handed);
                assert.ok(sf.text.length <= MODULE_MAX_CHARS, `${type}: ${sf.text.length} chars`);
                assert.deepEqual(
                    [...sf.text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]),
                    [`pulumi-ibmcloud-iam/dist/provider/module/${file}.js`],
                    `${type}: one require of its module`,
                );
                assert.equal(sf.containsSecrets, false);
            }
            const copy = (require(path.join(installed.pkg, "dist", "provider", "serviceId.js")) as { serviceIdProvider: object }).serviceIdProvider;
            const p = await plugin(installed.dir);
            const before = await tokenRequests();
            assert.equal(await serviceIdLife(p, "as-module-1", copy), 7);
            assert.equal(await serviceIdLife(p, "as-module-2", copy), 7);
            assert.equal((await tokenRequests()) - before, 1, "one configured provider object for the plugin's life");
            // State written by the by-name provider keeps working where the package is installed.
            const thinText = (await serializeProvider(serviceIdProvider, REPO_ROOT)).text;
            const checked = await p.check(serviceIdProvider, {}, { name: "by-name-state", __provider: thinText });
            assert.deepEqual(checked.failures, []);
            const created = await p.create(serviceIdProvider, { ...checked.inputs, __provider: thinText });
            await p.delete(serviceIdProvider, created.id, { ...created.outs, __provider: thinText });
            assert.ok(!(await liveServiceIds()).includes(created.id));
        } finally {
            fs.rmSync(installed.dir, { recursive: true, force: true });
        }
    });

    it("by value: where the package does not resolve, the whole provider is sent and works the same", async () => {
        const p = await plugin(elsewhere);
        const before = await tokenRequests();
        assert.equal(await serviceIdLife(p, "by-value"), 7);
        assert.equal((await tokenRequests()) - before, 1);
    });

    it("a thin provider whose package is gone where the plugin runs (destroy after uninstalling) fails naming the package and the fix", async () => {
        const p = await plugin(elsewhere);
        const thinText = (await serializeProvider(serviceIdProvider, REPO_ROOT)).text;
        const props: Props = { serviceId: "ServiceId-00000000-0000-0000-0000-000000000000", locked: false, __provider: thinText };
        const err = await p.delete(serviceIdProvider, String(props.serviceId), props).then(
            () => undefined,
            (e: unknown) => e,
        );
        assert.ok(err instanceof PluginCallError, String(err));
        assert.match(
            err.details,
            /^pulumi-ibmcloud-iam\/dist\/provider\/serviceId\.js cannot be loaded from \S*by-value-project-\S+ \(Cannot find module .*\): install the package in this Pulumi project$/,
        );
    });

    it("a thin provider runs what is installed where the plugin runs: a version without the provider fails naming what is missing", async () => {
        const project = fs.mkdtempSync(path.join(os.tmpdir(), "other-version-"));
        try {
            const pkg = path.join(project, "node_modules", "pulumi-ibmcloud-iam");
            fs.mkdirSync(path.join(pkg, "dist", "provider"), { recursive: true });
            fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "pulumi-ibmcloud-iam", version: "0.0.1" }));
            fs.writeFileSync(
                path.join(pkg, "dist", "provider", "serviceId.js"),
                "exports.serviceIdProvider = { async configure() {}, async check(o, n) { return { inputs: { ...n, seen: 'v0.0.1' } } } };\n",
            );
            const p = await plugin(project);
            const thinText = (await serializeProvider(serviceIdProvider, REPO_ROOT)).text;
            const checked = await p.check(serviceIdProvider, {}, { name: "x", __provider: thinText });
            assert.equal(checked.inputs.seen, "v0.0.1", "check ran the installed version's code");
            const err = await p.delete(serviceIdProvider, "ServiceId-x", { __provider: thinText }).then(
                () => undefined,
                (e: unknown) => e,
            );
            assert.ok(err instanceof PluginCallError, String(err));
            assert.equal(
                err.details,
                "pulumi-ibmcloud-iam/dist/provider/serviceId.js has no serviceIdProvider.delete(): install a version that can manage this state",
            );
        } finally {
            fs.rmSync(project, { recursive: true, force: true });
        }
    });
});
