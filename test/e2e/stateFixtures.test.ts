// State is a contract: checkpoints written by earlier versions of this package must still
// refresh and destroy with the code of this checkout, through the real engine.
//
// Every folder under test/fixtures/state/ is one such checkpoint, written by the code its name says
// (see its README.md and fixture.json), together with the emulator state file it belongs to and the
// stack's config file. For each one this test:
//   - starts THIS code's emulator on a copy of the fixture's emulator state (a free loopback port);
//   - imports the checkpoint (emulator URL substituted) into a fresh file backend, with the project
//     directory inside the repository, so the checkpoint's by-name providers
//     (`require("pulumi-ibmcloud-iam/dist/provider/<resource>.js")[<export>]`) resolve, by package
//     self-reference, to THIS checkout's dist/provider/*.js;
//   - checks that every provider module and export the checkpoint names still exists (a clear message
//     when one was renamed or moved), then runs `pulumi refresh --expect-no-changes` and
//     `pulumi destroy`, and checks that the emulator is left with nothing the stack made.
// A new release adds a folder (`npm run state-fixture -- v<version>-installed`, scripts/write-state-fixture.ts:
// written from the packed package installed outside the repository, as users write state); nothing here
// changes. A fixture written by an installed package names the same specifiers, which resolve here to this
// checkout; its program/ holds no package.json, which would hide the repository's from the project.
import * as assert from "assert";
import * as fs from "fs";
import * as nodeModule from "module";
import * as path from "path";
import { startEmulator, RunningEmulator } from "../../emulator";
import { createSandbox, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS, REPO_ROOT } from "./support/engine";
import { SIG_KEY } from "../support/pulumiWire";

const FIXTURES_DIR = path.join(REPO_ROOT, "test", "fixtures", "state");
const DYNAMIC_TYPE_PREFIX = "pulumi-nodejs:dynamic/ibmcloud-iam:";
/** The secret envelope of a checkpoint exported without --show-secrets. */

/** fixture.json */
interface FixtureManifest {
    description: string;
    writtenBy: { commit: string; [k: string]: string };
    project: string;
    stack: string;
    /** Passphrase of the stack's secrets provider (a test value). */
    passphrase: string;
    /** The emulator's URL when the fixture was written: replaced by the new emulator's in checkpoint and config. */
    emulatorUrl: string;
    checkpoint: string;
    stackConfig: string;
    emulatorState: string;
    /** Folder with Pulumi.yaml (and the program that wrote the state; refresh and destroy do not run it). */
    program: string;
}

interface CheckpointResource {
    urn: string;
    type: string;
    id?: string;
    custom?: boolean;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

interface AdminState {
    owner: { iam_id: string; apikey_id: string };
    serviceIds: Array<{ id: string }>;
    apiKeys: Array<{ id: string; iam_id: string }>;
    policies: Array<{ id: string; state: string }>;
    kmsKeys: Array<{ id: string; deleted?: boolean; state?: number }>;
}

/** What a provider in state loads inside the plugin: an export of a module (the thin by-name form), or a whole module (installed from npm). */
interface ProviderReference {
    spec: string;
    /** Undefined: the module's whole export is the provider. */
    exportName?: string;
    methods: string[];
}

function fixtureNames(): string[] {
    if (!fs.existsSync(FIXTURES_DIR)) return [];
    return fs
        .readdirSync(FIXTURES_DIR, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
}

function readManifest(dir: string): FixtureManifest {
    const file = path.join(dir, "fixture.json");
    const m = JSON.parse(fs.readFileSync(file, "utf8")) as FixtureManifest;
    for (const k of ["project", "stack", "passphrase", "emulatorUrl", "checkpoint", "stackConfig", "emulatorState", "program"] as const) {
        if (typeof m[k] !== "string" || m[k] === "") throw new Error(`${file}: ${k} must be a non-empty string`);
    }
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(m.emulatorUrl)) throw new Error(`${file}: emulatorUrl must look like http://127.0.0.1:<port>`);
    return m;
}

/** Every occurrence of the fixture's emulator URL replaced by the new one (state and config hold it as plain text). */
function withUrl(text: string, from: string, to: string): string {
    return text.split(from).join(to);
}

/**
 * The module and export a thin provider loads; undefined when `__provider` is not the by-name form
 * (a provider serialized by value carries its own code and cannot prove anything about this checkout).
 */
function providerReference(serialized: unknown): ProviderReference | undefined {
    if (typeof serialized !== "string") return undefined;
    // Installed from npm: Pulumi captured the module whose whole export is the provider by reference.
    const whole = /require\("(pulumi-ibmcloud-iam\/dist\/provider\/module\/[A-Za-z]+\.js)"\)/.exec(serialized);
    // No update(): a resource whose every change replaces it (TrustedProfileLink) has none, and the engine never asks for it.
    if (whole) return { spec: whole[1], methods: ["check", "diff", "create", "read", "delete"] };
    const where = /with\(\{ spec: "([^"]+)", exportName: "([^"]+)"/.exec(serialized);
    const table = /var __provider = \{([^}]*)\}/.exec(serialized);
    if (!where || !table) return undefined;
    const methods = table[1]
        .split(",")
        .map((entry) => entry.split(":")[0].trim())
        .filter(Boolean);
    return { spec: where[1], exportName: where[2], methods };
}

/** Why `ref` cannot be served by this checkout from `projectDir`, or undefined when it can. */
function whyNotLoadable(ref: ProviderReference, projectDir: string): string | undefined {
    const req = nodeModule.createRequire(path.join(projectDir, "_"));
    let file: string;
    try {
        file = fs.realpathSync(req.resolve(ref.spec));
    } catch (e) {
        return `the module ${ref.spec} does not resolve (${String((e as Error).message).split("\n")[0]})`;
    }
    const ownDist = fs.realpathSync(path.join(REPO_ROOT, "dist")) + path.sep;
    if (!file.startsWith(ownDist)) return `the module ${ref.spec} resolves to ${file}, not to this checkout's dist/`;
    let exported: Record<string, unknown> | undefined;
    try {
        const loaded = req(ref.spec) as Record<string, unknown>;
        exported = (ref.exportName === undefined ? loaded : loaded[ref.exportName]) as Record<string, unknown> | undefined;
    } catch (e) {
        return `the module ${ref.spec} fails to load (${String((e as Error).message).split("\n")[0]})`;
    }
    if (exported === null || typeof exported !== "object") return `the module ${ref.spec} has no export ${ref.exportName ?? "(the whole module)"}`;
    const missing = ref.methods.filter((m) => typeof exported![m] !== "function");
    if (missing.length > 0) return `${ref.exportName ?? "the export"} of ${ref.spec} lacks ${missing.map((m) => `${m}()`).join(", ")}`;
    return undefined;
}

/** Plaintext values of the secrets in a checkpoint exported WITH --show-secrets (kept in memory, never printed). */
function secretPlaintexts(node: unknown, out: string[] = []): string[] {
    if (Array.isArray(node)) {
        for (const v of node) secretPlaintexts(v, out);
    } else if (node && typeof node === "object") {
        const o = node as Record<string, unknown>;
        if (o[SIG_KEY] !== undefined && typeof o.plaintext === "string") {
            let v: unknown = o.plaintext;
            try {
                v = JSON.parse(o.plaintext);
            } catch {
                // not JSON: the text itself
            }
            const collect = (x: unknown): void => {
                if (typeof x === "string" && x.length >= 16) out.push(x);
                else if (x && typeof x === "object") for (const y of Object.values(x)) collect(y);
            };
            collect(v);
        } else {
            for (const v of Object.values(o)) secretPlaintexts(v, out);
        }
    }
    return out;
}

const byType = (resources: CheckpointResource[], type: string) => resources.filter((r) => r.type === DYNAMIC_TYPE_PREFIX + type);

describe("e2e: state written by earlier versions refreshes and destroys with this code (test/fixtures/state)", function () {
    this.timeout(ENGINE_OP_TIMEOUT_MS);
    const names = fixtureNames();

    it("has at least one fixture", () => {
        assert.ok(names.length > 0, `no fixture folders under ${FIXTURES_DIR}`);
    });

    for (const name of names) {
        describe(name, function () {
            const fixtureDir = path.join(FIXTURES_DIR, name);
            let manifest: FixtureManifest;
            let sandbox: EngineSandbox | undefined;
            let emu: RunningEmulator | undefined;
            let stack: EngineStack;
            let projectDir: string;
            /** The checkpoint as imported (URL substituted). */
            let imported: CheckpointResource[];
            /** A step failed: the later ones, which build on it, are skipped instead of failing again. */
            let broken = false;
            /** Secret plaintexts (the owner key, the checkpoint's API key values): kept in memory, never printed. */
            const secrets: string[] = [];

            async function admin(): Promise<AdminState> {
                return (await (await fetch(`${emu!.url}/__emulator/state`)).json()) as AdminState;
            }
            async function stateResources(): Promise<CheckpointResource[]> {
                return ((await stack.exportState()).deployment?.resources ?? []) as CheckpointResource[];
            }
            function step(title: string, body: () => Promise<void>): void {
                it(title, async function () {
                    if (broken) this.skip();
                    try {
                        await body();
                    } catch (e) {
                        broken = true;
                        throw e;
                    }
                });
            }

            before(async function () {
                this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
                manifest = readManifest(fixtureDir);
                sandbox = await createSandbox({ env: { PULUMI_CONFIG_PASSPHRASE: manifest.passphrase } });

                // The new emulator on a copy of the fixture's state (the copy is rewritten as the stack is destroyed).
                const emulatorState = path.join(sandbox.dir, "emulator-state.json");
                fs.copyFileSync(path.join(fixtureDir, manifest.emulatorState), emulatorState);
                emu = await startEmulator({ stateFile: emulatorState, port: 0, host: "127.0.0.1" });

                // The project inside the repository (the sandbox is under <repo>/.tools/e2e/), with the stack's config.
                projectDir = path.join(sandbox.dir, "work", name);
                fs.cpSync(path.join(fixtureDir, manifest.program), projectDir, { recursive: true });
                // This checkout, installed as users install it: state written by an installed package names
                // its modules for node_modules lookup (Pulumi captured them by reference), which package
                // self-reference does not serve inside the plugin.
                fs.mkdirSync(path.join(projectDir, "node_modules"), { recursive: true });
                fs.symlinkSync(REPO_ROOT, path.join(projectDir, "node_modules", "pulumi-ibmcloud-iam"), "dir");
                const config = withUrl(fs.readFileSync(path.join(fixtureDir, manifest.stackConfig), "utf8"), manifest.emulatorUrl, emu.url);
                fs.writeFileSync(path.join(projectDir, `Pulumi.${manifest.stack}.yaml`), config);

                const checkpointText = withUrl(fs.readFileSync(path.join(fixtureDir, manifest.checkpoint), "utf8"), manifest.emulatorUrl, emu.url);
                const checkpointFile = path.join(sandbox.dir, "checkpoint.json");
                fs.writeFileSync(checkpointFile, checkpointText);
                imported = JSON.parse(checkpointText).deployment.resources;

                stack = await sandbox.projectStack(manifest.stack, projectDir);
                await sandbox.pulumi(["stack", "import", "--stack", manifest.stack, "--file", checkpointFile], projectDir);
                secrets.push(emu.apiKey, ...secretPlaintexts(await stack.exportStateWithSecrets()));
                const keys = byType(imported, "ServiceApiKey").length;
                assert.ok(secrets.length > keys, `found ${secrets.length - 1} secret values in the checkpoint, expected at least the ${keys} API keys`);
            });

            after(async function () {
                this.timeout(60 * 1000);
                const dir = sandbox?.dir;
                await sandbox?.cleanup();
                await emu?.stop();
                if (sandbox) {
                    const left = sandbox.liveProcesses();
                    assert.deepStrictEqual(left, [], `processes of the sandbox still alive after cleanup: ${left.join(", ")}`);
                }
                if (dir && !process.env.E2E_KEEP_SANDBOX) assert.ok(!fs.existsSync(dir), `the sandbox ${dir} was not removed`);
            });

            step("the checkpoint is the fixture, imported whole, and the emulator holds what it made", async () => {
                const now = await stateResources();
                assert.deepStrictEqual(
                    now.map((r) => `${r.urn} ${r.id ?? ""}`),
                    imported.map((r) => `${r.urn} ${r.id ?? ""}`),
                );
                const live = await admin();
                const has = (list: Array<{ id: string }>, id: string | undefined) => list.some((x) => x.id === id);
                const activePolicies = live.policies.filter((p) => p.state === "active");
                const liveKeys = live.kmsKeys.filter((k) => !k.deleted);
                const missing = [
                    ...byType(imported, "ServiceId").filter((r) => !has(live.serviceIds, r.id)),
                    ...byType(imported, "ServiceApiKey").filter((r) => !has(live.apiKeys, r.id)),
                    ...byType(imported, "AccessPolicy").filter((r) => !has(activePolicies, r.id)),
                    ...byType(imported, "KmsKey").filter((r) => !has(liveKeys, r.id)),
                ];
                assert.deepStrictEqual(
                    missing.map((r) => `${r.urn} ${r.id}`),
                    [],
                    "objects of the checkpoint missing (or not live) in the fixture's emulator state",
                );
            });

            // Not a step: refresh runs even when this fails, so the engine's own error is shown too.
            it("every provider module and export the checkpoint names still exists in this code", async () => {
                const problems: string[] = [];
                const dynamic = imported.filter((r) => r.type.startsWith(DYNAMIC_TYPE_PREFIX));
                assert.ok(dynamic.length > 0, "the checkpoint holds no dynamic resources");
                for (const r of dynamic) {
                    for (const where of ["inputs", "outputs"] as const) {
                        const ref = providerReference(r[where]?.__provider);
                        if (!ref) {
                            problems.push(
                                `${r.urn}: ${where}.__provider is not a by-name provider (the fixture must be written where the package resolves by name: installed, with scripts/write-state-fixture.ts, or inside the package)`,
                            );
                            continue;
                        }
                        const why = whyNotLoadable(ref, projectDir);
                        if (why) problems.push(`${r.urn}: ${why}`);
                    }
                }
                if (problems.length > 0) {
                    assert.fail(
                        `state written by ${manifest.writtenBy.commit} cannot be managed by this code: ${[...new Set(problems)].join("; ")}. ` +
                            "The file path dist/provider/<resource>.js and the export <name>Provider are part of the state format " +
                            '(CONTRIBUTING.md, "How a provider travels to the plugin"): keep the old path and name re-exporting.',
                    );
                }
            });

            step("pulumi refresh with this code succeeds and finds nothing changed", async () => {
                const before = emu!.stats().requests;
                const { result } = await stack.refresh({ expectNoChanges: true });
                assert.strictEqual(result.summary.result, "succeeded");
                const changes = result.summary.resourceChanges ?? {};
                const changed = Object.entries(changes).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
                assert.deepStrictEqual(changed, [], `refresh reported changes: ${JSON.stringify(changes)}`);
                // the providers really ran (one read per dynamic resource at least)
                const dynamicCount = imported.filter((r) => r.type.startsWith(DYNAMIC_TYPE_PREFIX)).length;
                assert.ok(
                    emu!.stats().requests - before >= dynamicCount,
                    `refresh made ${emu!.stats().requests - before} emulator requests for ${dynamicCount} resources`,
                );
                const after = await stateResources();
                assert.deepStrictEqual(
                    after.map((r) => `${r.urn} ${r.id ?? ""}`),
                    imported.map((r) => `${r.urn} ${r.id ?? ""}`),
                    "refresh changed the resources or their ids",
                );
            });

            step("pulumi destroy with this code removes everything the stack made", async () => {
                const { result } = await stack.destroy();
                assert.strictEqual(result.summary.result, "succeeded");
                const left = await stateResources();
                assert.deepStrictEqual(
                    left.map((r) => r.urn),
                    [],
                    "resources left in the checkpoint after destroy",
                );

                const live = await admin();
                assert.deepStrictEqual(
                    live.serviceIds.map((s) => s.id),
                    [],
                    "service IDs left in the emulator",
                );
                assert.deepStrictEqual(
                    live.apiKeys.filter((k) => k.id !== live.owner.apikey_id).map((k) => k.id),
                    [],
                    "API keys left in the emulator besides the owner's",
                );
                assert.deepStrictEqual(
                    live.policies.filter((p) => p.state === "active").map((p) => p.id),
                    [],
                    "active policies left in the emulator",
                );
                assert.deepStrictEqual(
                    live.kmsKeys.filter((k) => !k.deleted).map((k) => k.id),
                    [],
                    "KMS keys left in the emulator",
                );
                for (const r of byType(imported, "KmsKey")) {
                    assert.ok(
                        live.kmsKeys.some((k) => k.id === r.id && k.deleted),
                        `KMS key ${r.id} of ${r.urn} was not deleted`,
                    );
                }
            });

            step("no secret reached the engine's output", async () => {
                const leaked = secrets.filter((v) => stack.log.includes(v)).length;
                assert.strictEqual(leaked, 0, `${leaked} of ${secrets.length} secret value(s) appear in the engine's output`);
            });
        });
    }
});
