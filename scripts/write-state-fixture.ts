// Writes the state fixture of a release (CONTRIBUTING.md, "The state format is a contract"), as users write
// state: `npm pack` this checkout, install the tarball into a fresh project OUTSIDE the repository (the
// providers in state are whatever an installed package writes), start the installed package's emulator,
// `pulumi up` the program of scripts/state-fixture/program/ (every resource type the package exports, with
// non-default options), export the checkpoint (no --show-secrets) and write test/fixtures/state/<name>/ in
// the layout test/e2e/stateFixtures.test.ts reads.
//
//   npm run state-fixture -- <name>                    (builds first, makes sure the Pulumi CLI is there)
//   node build/scripts/write-state-fixture.js <name> [--allow-dirty] [--keep-temp]
//
// <name>: the folder, after the package version and how it was written, e.g. v0.1.0-installed.
// Refuses an existing folder, a checkout with uncommitted changes to tracked files (the fixture says which
// commit wrote it; --allow-dirty records `dirty: true` instead), a program that misses a resource type the
// installed package exports, a provider in state that is not the by-name form, and any plaintext secret (the
// owner key, every decrypted secret of the stack) in the checkpoint or the config. Every child runs in its own
// process group with a marker in its environment; all of them and the temp dir are gone when it returns.
// Secret values are never printed: a failed command's output is redacted.
import * as childProcess from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as nodeModule from "module";
import * as os from "os";
import * as path from "path";
import { setTimeout as sleep } from "timers/promises";
import { parseArgs } from "util";
import { killProcessGroup, runChecked } from "./lib/process";
import { REPO_ROOT } from "./lib/repoRoot";
import { DYNAMIC_PREFIX, exportedTypes, missingTypes } from "./state-fixture/exportedTypes";
import { ACCOUNT_ID, OWNER_API_KEY, PASSPHRASE, PROGRAM_CONFIG, PROGRAM_DIR, PROJECT, STACK } from "./state-fixture/inputs";
import { endMarkedProcesses, MARKER_ENV } from "./state-fixture/markedProcesses";
import { CheckpointResource, fixtureReadme } from "./state-fixture/readme";
import { START_EMULATOR, TSCONFIG } from "./state-fixture/scaffold";
import { SecretValues, secretPlaintexts } from "./state-fixture/secrets";

const TYPESCRIPT = "typescript@5.9.3";
const TYPES_NODE = "@types/node@22";
const OP_TIMEOUT_MS = 5 * 60 * 1000;
const INSTALL_TIMEOUT_MS = 10 * 60 * 1000;

class Refusal extends Error {}

/** Values that never reach output: failed commands' text and log lines go through `redact`. */
const SECRETS = new SecretValues([OWNER_API_KEY]);
const redact = (text: string) => SECRETS.redact(text);

function log(message: string): void {
    process.stderr.write(`write-state-fixture: ${redact(message)}\n`);
}

const REPO = REPO_ROOT;
const FIXTURES_DIR = path.join(REPO, "test", "fixtures", "state");

interface RunOptions {
    cwd: string;
    env: NodeJS.ProcessEnv;
    timeoutMs?: number;
}

/** Runs a command in its own process group to completion; resolves to stdout, rejects with redacted output. */
async function run(cmd: string, args: string[], opts: RunOptions): Promise<string> {
    try {
        return (await runChecked(cmd, args, { cwd: opts.cwd, env: opts.env, timeoutMs: opts.timeoutMs ?? OP_TIMEOUT_MS })).stdout;
    } catch (err) {
        throw new Error(redact((err as Error).message));
    }
}

function isExecutable(p: string): boolean {
    try {
        fs.accessSync(p, fs.constants.X_OK);
        return fs.statSync(p).isFile();
    } catch {
        return false;
    }
}

/** The Pulumi CLI: .tools/bin first (scripts/ensure-pulumi.sh), then PATH; it must have pulumi-language-nodejs beside it or on PATH. */
function findPulumi(): { pulumi: string; binDir: string } {
    const dirs = [path.join(REPO, ".tools", "bin"), ...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean)];
    const pulumi = dirs.map((d) => path.join(d, "pulumi")).find(isExecutable);
    const lang = dirs.map((d) => path.join(d, "pulumi-language-nodejs")).find(isExecutable);
    if (!pulumi || !lang) throw new Refusal("the Pulumi CLI (pulumi and pulumi-language-nodejs) is not in .tools/bin or on PATH: run `npm run pulumi:ensure`");
    return { pulumi, binDir: path.dirname(pulumi) };
}

/** The package modules a serialized provider names (`pulumi-ibmcloud-iam/dist/….js`). */
function providerModules(serialized: unknown): string[] {
    if (typeof serialized !== "string") return [];
    return [...new Set(serialized.match(/pulumi-ibmcloud-iam\/dist\/[A-Za-z0-9_./-]+\.js/g) ?? [])];
}

/** The resource types the INSTALLED package exports, loaded from the project with the project's @pulumi/pulumi. */
function installedTypes(project: string): string[] {
    const req = nodeModule.createRequire(path.join(project, "_"));
    return exportedTypes(req("@pulumi/pulumi"), req("pulumi-ibmcloud-iam") as Record<string, unknown>);
}

/** The program's files (Pulumi.yaml, index.ts), as they are in the repository. */
function programFiles(): Record<string, string> {
    const names = fs.readdirSync(PROGRAM_DIR).sort();
    const files = Object.fromEntries(names.map((f) => [f, fs.readFileSync(path.join(PROGRAM_DIR, f), "utf8")]));
    if (!files["index.ts"] || !new RegExp(`^name: ${PROJECT}$`, "m").test(files["Pulumi.yaml"] ?? ""))
        throw new Error(`${PROGRAM_DIR} must hold index.ts and a Pulumi.yaml of project ${PROJECT}`);
    return files;
}

function git(args: string[]): string {
    return childProcess.execFileSync("git", args, { cwd: REPO, encoding: "utf8" }).trim();
}

// ---------- the run ----------

interface Options {
    name: string;
    allowDirty: boolean;
    keepTemp: boolean;
}

function parseOptions(argv: string[]): Options {
    const usage = "usage: node build/scripts/write-state-fixture.js <name> [--allow-dirty] [--keep-temp]   (e.g. v0.1.0-installed)";
    let parsed: { values: { "allow-dirty"?: boolean; "keep-temp"?: boolean; help?: boolean }; positionals: string[] };
    try {
        parsed = parseArgs({
            args: argv,
            options: { "allow-dirty": { type: "boolean" }, "keep-temp": { type: "boolean" }, help: { type: "boolean", short: "h" } },
            allowPositionals: true,
            strict: true,
        });
    } catch (err) {
        throw new Refusal(`${(err as Error).message}; ${usage}`);
    }
    if (parsed.values.help) {
        process.stdout.write(`${usage}\n`);
        process.exit(0);
    }
    if (parsed.positionals.length !== 1) throw new Refusal(usage);
    const name = parsed.positionals[0];
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/.test(name))
        throw new Refusal(`name ${JSON.stringify(name)}: letters, digits, '.', '_' and '-' only, starting with a letter or digit`);
    return { name, allowDirty: parsed.values["allow-dirty"] === true, keepTemp: parsed.values["keep-temp"] === true };
}

async function main(opts: Options, top: string, runId: string, emulator: { child?: childProcess.ChildProcess }): Promise<string> {
    const dest = path.join(FIXTURES_DIR, opts.name);
    if (fs.existsSync(dest)) throw new Refusal(`${path.relative(REPO, dest)} exists: a committed fixture is never rewritten; choose another name`);

    const commit = git(["rev-parse", "HEAD"]);
    const dirty = git(["status", "--porcelain", "--untracked-files=no"]) !== "";
    if (dirty && !opts.allowDirty)
        throw new Refusal(
            `the checkout has uncommitted changes to tracked files: commit them (the fixture names the commit that wrote it) or pass --allow-dirty`,
        );
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { name: string; version: string };
    const sdkVersion: string = JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json", { paths: [REPO] }), "utf8")).version;
    const { pulumi, binDir } = findPulumi();

    const env: NodeJS.ProcessEnv = {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${path.join(top, "backend")}`,
        PULUMI_HOME: path.join(top, "home"),
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_SELF_MANAGED_STATE_NO_LEGACY_WARNING: "true",
        [MARKER_ENV]: runId,
        PATH: [binDir, path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
    };
    delete env.PULUMI_ACCESS_TOKEN;
    delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    for (const d of ["backend", "home"]) fs.mkdirSync(path.join(top, d));
    const cliVersion = (await run(pulumi, ["version"], { cwd: top, env })).trim();

    // 1. the package as users get it, in a project outside the repository
    log(`packing ${pkg.name}@${pkg.version} (${commit.slice(0, 7)}${dirty ? ", dirty" : ""}) into ${top}`);
    // the tarball is found in the (otherwise empty) folder, not parsed from stdout, where prepack may print too
    await run("npm", ["pack", "--pack-destination", top], { cwd: REPO, env, timeoutMs: INSTALL_TIMEOUT_MS });
    const tarballs = fs.readdirSync(top).filter((f) => f.endsWith(".tgz"));
    if (tarballs.length !== 1) throw new Error(`npm pack left ${tarballs.length} tarballs in ${top}`);
    const tarball = path.join(top, tarballs[0]);
    const project = path.join(top, "app");
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "package.json"), `${JSON.stringify({ name: "state-fixture-app", private: true, version: "1.0.0" }, null, 2)}\n`);
    log(`installing the tarball with @pulumi/pulumi@${sdkVersion}, ${TYPESCRIPT}, ${TYPES_NODE}`);
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, `@pulumi/pulumi@${sdkVersion}`, TYPESCRIPT, TYPES_NODE], {
        cwd: project,
        env,
        timeoutMs: INSTALL_TIMEOUT_MS,
    });
    const installedVersion = (p: string) => JSON.parse(fs.readFileSync(path.join(project, "node_modules", p, "package.json"), "utf8")).version as string;
    const installed = {
        "pulumi-ibmcloud-iam": installedVersion("pulumi-ibmcloud-iam"),
        "@pulumi/pulumi": installedVersion("@pulumi/pulumi"),
        typescript: installedVersion("typescript"),
        "@types/node": installedVersion("@types/node"),
    };
    const files: Record<string, string> = { ...programFiles(), "tsconfig.json": TSCONFIG, "start-emulator.js": START_EMULATOR };
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(project, f), text);

    // 2. the installed package's emulator, with a state file
    const emulatorState = path.join(top, "emulator-state.json");
    const emu = await new Promise<{ url: string; accountId: string }>((resolve, reject) => {
        const child = childProcess.spawn(process.execPath, ["start-emulator.js", emulatorState], {
            cwd: project,
            env,
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
        });
        emulator.child = child;
        let out = "";
        let err = "";
        const timer = setTimeout(() => reject(new Error(`the emulator printed no JSON line within 30 s: ${redact(out + err)}`)), 30_000);
        child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
        child.stdout!.on("data", (d: Buffer) => {
            out += d.toString();
            if (!out.includes("\n")) return;
            clearTimeout(timer);
            try {
                resolve(JSON.parse(out.split("\n")[0]));
            } catch (e) {
                reject(new Error(`the emulator's first line is not JSON: ${redact(out)} (${String(e)})`));
            }
        });
        child.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`the emulator exited (${code}) before printing its URL: ${redact(err)}`));
        });
    });
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(emu.url) || emu.accountId !== ACCOUNT_ID) throw new Error(`unexpected emulator ${JSON.stringify(emu)}`);
    log(`emulator at ${emu.url}`);

    // 3. pulumi up, file backend, fixed passphrase
    const cli = (args: string[]) => run(pulumi, ["--non-interactive", ...args], { cwd: project, env });
    await cli(["stack", "init", STACK]);
    for (const [key, value] of Object.entries(PROGRAM_CONFIG)) await cli(["config", "set", key, value]);
    await cli(["config", "set", "ibmcloud:iamEndpoint", emu.url]);
    await cli(["config", "set", "ibmcloud:kmsEndpoint", emu.url]);
    await cli(["config", "set", "--secret", "ibmcloud:apiKey", "--", OWNER_API_KEY]);
    log("pulumi up");
    await cli(["up", "--yes", "--skip-preview", "--color", "never"]);

    // 4. the checkpoint as stored, and every secret's plaintext (in memory only) to look for in it
    const outputs = JSON.parse(await cli(["stack", "output", "--json", "--show-secrets"])) as Record<string, unknown>;
    for (const k of ["appApiKey", "auditorApiKey"]) {
        if (typeof outputs[k] !== "string" || (outputs[k] as string).length < 16) throw new Error(`stack output ${k} is not an API key`);
        SECRETS.add(outputs[k] as string);
    }
    for (const s of secretPlaintexts(JSON.parse(await cli(["stack", "export", "--show-secrets"])))) SECRETS.add(s);
    const checkpoint = await cli(["stack", "export"]);
    const stackConfig = fs.readFileSync(path.join(project, `Pulumi.${STACK}.yaml`), "utf8");

    // 5. checks before anything is written
    const leaks = SECRETS.countIn(checkpoint, stackConfig);
    if (leaks > 0) throw new Refusal(`${leaks} secret value(s) in plaintext in the checkpoint or the stack config: not written`);
    const resources = JSON.parse(checkpoint).deployment.resources as CheckpointResource[];
    const types = new Set(resources.map((r) => r.type));
    const unused = missingTypes(installedTypes(project), types);
    if (unused.length > 0) throw new Refusal(`the program uses no ${unused.join(", ")}: add it to scripts/state-fixture/program/index.ts`);
    const dynamic = resources.filter((r) => r.type.startsWith(DYNAMIC_PREFIX));
    const modules = new Set<string>();
    for (const r of dynamic) {
        for (const where of ["inputs", "outputs"] as const) {
            const found = providerModules(r[where]?.__provider);
            if (found.length === 0) throw new Refusal(`${r.urn}: ${where}.__provider names no pulumi-ibmcloud-iam module (serialized by value?)`);
            for (const m of found) modules.add(m);
        }
    }
    const providerSizes = dynamic.map((r) => String(r.outputs?.__provider ?? "").length);

    // the emulator stops cleanly: its state file is complete
    const child = emulator.child!;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    process.kill(child.pid!, "SIGTERM");
    await Promise.race([exited, sleep(10_000)]);
    if (child.exitCode === null) throw new Error("the emulator did not stop within 10 s of SIGTERM");
    emulator.child = undefined;
    const emulatorText = fs.readFileSync(emulatorState, "utf8");
    const apiKeysInEmulator = [outputs.appApiKey, outputs.auditorApiKey].filter((s) => emulatorText.includes(s as string)).length;
    if (apiKeysInEmulator > 0) throw new Refusal(`${apiKeysInEmulator} API key value(s) in plaintext in the emulator's state file: not written`);

    // 6. the fixture
    const date = new Date().toISOString().slice(0, 10);
    const writtenBy = {
        version: pkg.version,
        commit,
        ...(dirty ? { dirty: true } : {}),
        pulumiCli: cliVersion,
        pulumiNodeSdk: installed["@pulumi/pulumi"],
        node: process.version,
        date,
        installed,
        how: "npm pack of the checkout, installed into a fresh project outside the repository",
    };
    const manifest = {
        description: `State written by pulumi-ibmcloud-iam ${pkg.version} (${commit.slice(0, 7)}) INSTALLED into a user's project (npm pack + npm install): every resource type, non-default options`,
        writtenBy,
        project: PROJECT,
        stack: STACK,
        passphrase: PASSPHRASE,
        emulatorUrl: emu.url,
        checkpoint: "checkpoint.json",
        stackConfig: `Pulumi.${STACK}.yaml`,
        emulatorState: "emulator-state.json",
        program: "program",
    };
    const readme = fixtureReadme({
        name: opts.name,
        manifest,
        resources,
        modules: [...modules].sort(),
        providerSizes,
        secretCount: SECRETS.size,
        programFiles: Object.keys(files).sort(),
    });
    const out: Record<string, string> = {
        "checkpoint.json": checkpoint.endsWith("\n") ? checkpoint : `${checkpoint}\n`,
        [`Pulumi.${STACK}.yaml`]: stackConfig,
        "emulator-state.json": emulatorText.endsWith("\n") ? emulatorText : `${emulatorText}\n`,
        "fixture.json": `${JSON.stringify(manifest, null, 2)}\n`,
        "README.md": readme,
        ...Object.fromEntries(Object.entries(files).map(([f, text]) => [`program/${f}`, text])),
    };
    const apiKeys = [outputs.appApiKey, outputs.auditorApiKey] as string[];
    for (const [f, text] of Object.entries(out)) {
        if (apiKeys.some((k) => text.includes(k))) throw new Refusal(`${f} would hold an API key value in plaintext: not written`);
    }
    // mkdir without `recursive` fails if another run made it meanwhile; a partial folder is removed
    fs.mkdirSync(FIXTURES_DIR, { recursive: true });
    fs.mkdirSync(dest);
    try {
        fs.mkdirSync(path.join(dest, "program"));
        for (const [f, text] of Object.entries(out)) fs.writeFileSync(path.join(dest, f), text);
    } catch (e) {
        fs.rmSync(dest, { recursive: true, force: true });
        throw e;
    }
    return dest;
}

if (require.main === module) {
    let opts: Options;
    try {
        opts = parseOptions(process.argv.slice(2));
    } catch (e) {
        log(String((e as Error).message));
        process.exit(2);
    }
    const runId = crypto.randomBytes(8).toString("hex");
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-ibmcloud-iam-state-fixture-"));
    const emulator: { child?: childProcess.ChildProcess } = {};
    let cleaned = false;
    const cleanup = async () => {
        if (cleaned) return;
        cleaned = true;
        if (emulator.child?.pid && emulator.child.exitCode === null) killProcessGroup(emulator.child.pid, "SIGTERM");
        // the engine, its plugins and the emulator: every process that carries this run's marker
        await endMarkedProcesses(runId);
        if (opts.keepTemp) log(`kept ${top} (--keep-temp)`);
        else fs.rmSync(top, { recursive: true, force: true });
    };
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
        process.once(sig, () => {
            log(`${sig}: stopping`);
            cleanup().finally(() => process.exit(130));
        });
    }
    if (path.relative(REPO, top).split(path.sep)[0] !== "..") throw new Error(`the temp dir ${top} is inside the repository`);
    main(opts, top, runId, emulator).then(
        async (dest) => {
            await cleanup();
            log(`wrote ${path.relative(REPO, dest)}/`);
        },
        async (e) => {
            await cleanup();
            log(e instanceof Refusal ? `refused: ${e.message}` : redact(e instanceof Error ? (e.stack ?? e.message) : String(e)));
            process.exitCode = 1;
        },
    );
}
