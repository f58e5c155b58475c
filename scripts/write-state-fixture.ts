// Writes the state fixture of a release (CONTRIBUTING.md, "The state format is a contract"), as users write
// state: `npm pack` this checkout, install the tarball into a fresh project OUTSIDE the repository (the
// providers in state are whatever an installed package writes), start the installed package's emulator,
// `pulumi up` a program that uses every resource type the package exports with non-default options, export
// the checkpoint (no --show-secrets) and write test/fixtures/state/<name>/ in the layout
// test/e2e/stateFixtures.test.ts reads.
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
import { parseArgs } from "util";
import { REPO_ROOT } from "./lib/repoRoot";
import { runChecked } from "./lib/process";

// ---------- fixed inputs: a run differs from another only in ids, timestamps, keys and the port ----------

const PROJECT = "state-fixture";
const STACK = "fixture";
/** Test values, not secrets: they give access to nothing but an emulator started on the fixture's state. */
const PASSPHRASE = "state-fixture-test-passphrase";
const OWNER_API_KEY = "state-fixture-owner-key-emulator-only-not-a-secret";
const ACCOUNT_ID = "57a7ef1c000040008000000000000a11";
const INSTANCE_GUID = "9e1f0a7e-0000-4000-8000-00000000f1c8";
const REGION = "us-south";
const INSTANCE_CRN = `crn:v1:bluemix:public:kms:${REGION}:a/${ACCOUNT_ID}:${INSTANCE_GUID}::`;
/** A Cloud Object Storage instance (the emulator does not model COS: the GUID is only an attribute of the authorization). */
const COS_INSTANCE_GUID = "c05c05c0-0000-4000-8000-00000000f1c8";
const TYPESCRIPT = "typescript@5.9.3";
const TYPES_NODE = "@types/node@22";
const OP_TIMEOUT_MS = 5 * 60 * 1000;
const INSTALL_TIMEOUT_MS = 10 * 60 * 1000;
const DYNAMIC_PREFIX = "pulumi-nodejs:dynamic/ibmcloud-iam:";
const COMPONENT_PREFIX = "ibmcloud-iam:index:";
/** The secret envelope's signature in a checkpoint. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** Every process this script starts (and what they start) carries it: found in /proc and ended at the end. */
const MARKER_ENV = "PULUMI_IBMCLOUD_IAM_STATE_FIXTURE_RUN";

// ---------- the project written into the fixture's program/ ----------

const PULUMI_YAML = `name: ${PROJECT}
description: Every resource type of pulumi-ibmcloud-iam at least once, with non-default options, from the installed package (test/fixtures/state)
runtime: nodejs
main: index.ts
`;

const TSCONFIG = `${JSON.stringify({ compilerOptions: { strict: true, target: "ES2022", module: "commonjs", moduleResolution: "node", skipLibCheck: true } }, null, 2)}\n`;

const PROGRAM = `// The program that wrote this state fixture (scripts/write-state-fixture.ts), run from a project where
// pulumi-ibmcloud-iam is INSTALLED (npm pack + npm install), as users run it: every resource type the
// package exports at least once, with non-default options, on one Key Protect instance given by CRN.
// Refresh and destroy do not run it; it is kept to show what made the checkpoint.
import * as pulumi from "@pulumi/pulumi";
import { AccessPolicy, AuthorizationPolicy, KmsAccess, KmsKey, KmsKeyRing, ServiceApiKey, ServiceId } from "pulumi-ibmcloud-iam";

const config = new pulumi.Config();
const instanceCrn = config.require("instanceCrn");
const instanceId = config.require("instanceId");
const cosInstanceId = config.require("cosInstanceId");

// KmsAccess: ServiceId + ServiceApiKey + AccessPolicy + KmsAccessReady, and a key ring and a root key made AS its service ID
const access = new KmsAccess("app", {
    instance: { crn: instanceCrn },
    roles: ["Writer", "Manager"],
    serviceIdName: "fixture-app",
    description: "identity of the state-fixture application",
    rotationTrigger: "r1",
    waitForAccess: { timeoutSeconds: 30 },
});
const appRing = access.createKeyRing("app-ring", { keyRingId: "fixture-app-ring", force: true });
const rootKey = access.createKey("app-root", {
    name: "fixture-app-root",
    description: "root key created by the app's service ID",
    type: "root",
    keyRing: appRing.keyRingId,
    rotation: { enabled: true, intervalMonth: 3 },
    rotationTrigger: "rot-1",
});

// A standalone, locked service ID with a locked API key of its own
const auditor = new ServiceId("auditor", {
    name: "fixture-auditor",
    description: "a locked service ID of the state fixture",
    locked: true,
});
const auditorKey = new ServiceApiKey("auditor-key", {
    serviceId: auditor.id,
    name: "fixture-auditor-key",
    description: "API key of the locked auditor",
    actionWhenLeaked: "delete",
    supportSessions: true,
    locked: true,
    expiresAt: "2099-01-31T12:00+0000",
    rotationTrigger: 7,
});

// A policy of its own: platform Viewer on the instance for the app's service ID
// (a policy for the locked auditor would be refused while it is locked)
const viewer = new AccessPolicy("app-viewer", {
    serviceId: access.serviceId,
    roles: ["Viewer"],
    resource: { serviceName: "kms", serviceInstance: instanceId, region: "${REGION}" },
    description: "platform Viewer on the fixture's Key Protect instance",
});

// Service-to-service: one Cloud Object Storage instance may use the Key Protect instance (Reader: wrap, unwrap)
const cosUsesKms = new AuthorizationPolicy("cos-uses-kms", {
    sourceServiceName: "cloud-object-storage",
    sourceServiceInstance: cosInstanceId,
    targetServiceName: "kms",
    targetServiceInstance: instanceId,
    roles: ["Reader"],
    description: "COS of the state fixture wraps its bucket keys with the fixture's Key Protect instance",
});

// A KmsKeyRing and a KmsKey made directly (instance by CRN), with the app's API key, after its access gate
const directRing = new KmsKeyRing(
    "direct-ring",
    { instanceCrn, keyRingId: "fixture-direct-ring", force: true, apiKey: access.apiKey },
    { dependsOn: [access] },
);
const standard = new KmsKey(
    "direct-standard",
    {
        instanceCrn,
        name: "fixture-direct-standard",
        description: "a standard key made directly",
        type: "standard",
        keyRing: directRing.keyRingId,
        force: true,
        apiKey: access.apiKey,
    },
    { dependsOn: [access] },
);

export const appServiceId = access.serviceId;
export const appApiKey = access.apiKey; // secret
export const auditorServiceId = auditor.serviceId;
export const auditorApiKey = auditorKey.apikey; // secret
export const policyId = access.policyId;
export const viewerPolicyId = viewer.policyId;
export const cosPolicyId = cosUsesKms.policyId;
export const appRingId = appRing.keyRingId;
export const rootKeyId = rootKey.keyId;
export const directRingId = directRing.keyRingId;
export const standardKeyId = standard.keyId;
`;

const START_EMULATOR = `// Starts the emulator of the INSTALLED package (pulumi-ibmcloud-iam/emulator, run from the project) with a
// state file, a fixed test owner key and account, and one Key Protect instance: the emulator's CLI
// (node_modules/.bin/pulumi-ibmcloud-iam-emulator) has no flag for the owner key. Prints {"url","accountId"}
// and stops cleanly (state written) on SIGTERM/SIGINT.
//   node start-emulator.js <state file>
"use strict";
const { startEmulator } = require("pulumi-ibmcloud-iam/emulator");
(async () => {
    const emu = await startEmulator({
        stateFile: process.argv[2],
        ownerApiKey: ${JSON.stringify(OWNER_API_KEY)},
        accountId: ${JSON.stringify(ACCOUNT_ID)},
        instances: [{ service: "kms", region: ${JSON.stringify(REGION)}, guid: ${JSON.stringify(INSTANCE_GUID)} }],
    });
    process.stdout.write(JSON.stringify({ url: emu.url, accountId: emu.accountId }) + "\\n");
    const stop = () => emu.stop().then(() => process.exit(0), () => process.exit(1));
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
})().catch((e) => {
    process.stderr.write("start-emulator: " + (e && e.message ? e.message : String(e)) + "\\n");
    process.exit(1);
});
`;

// ---------- helpers ----------

class Refusal extends Error {}

/** Values that never reach output: failed commands' text goes through `redact`. */
const SECRETS = new Set<string>([OWNER_API_KEY]);

function redact(text: string): string {
    let out = text;
    for (const s of SECRETS) if (s) out = out.split(s).join("[secret]");
    return out;
}

function log(message: string): void {
    process.stderr.write(`write-state-fixture: ${redact(message)}\n`);
}

const REPO = REPO_ROOT;
const FIXTURES_DIR = path.join(REPO, "test", "fixtures", "state");

/** Pids of live processes (not this one) whose environment holds `MARKER_ENV=<value>`. */
function markedProcesses(value: string): number[] {
    const needle = Buffer.from(`\0${MARKER_ENV}=${value}\0`);
    const pids: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
        try {
            if (Buffer.concat([Buffer.from([0]), fs.readFileSync(`/proc/${entry}/environ`)]).includes(needle)) pids.push(Number(entry));
        } catch {
            // gone, or not ours
        }
    }
    return pids;
}

function signal(pid: number, sig: NodeJS.Signals): void {
    try {
        process.kill(pid, sig);
    } catch {
        // gone
    }
}

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

/** Plaintexts (≥ 8 characters) of every secret of a checkpoint exported WITH --show-secrets. */
function secretPlaintexts(node: unknown, out: Set<string> = new Set()): Set<string> {
    const collect = (x: unknown): void => {
        if (typeof x === "string" && x.length >= 8) out.add(x);
        else if (x && typeof x === "object") for (const y of Object.values(x)) collect(y);
    };
    if (Array.isArray(node)) {
        for (const v of node) secretPlaintexts(v, out);
    } else if (node && typeof node === "object") {
        const o = node as Record<string, unknown>;
        if (o[SECRET_SIG] !== undefined && "plaintext" in o) {
            let v: unknown = o.plaintext;
            try {
                v = typeof v === "string" ? JSON.parse(v) : v;
            } catch {
                // not JSON: the text itself
            }
            collect(v);
        } else {
            for (const v of Object.values(o)) secretPlaintexts(v, out);
        }
    }
    return out;
}

interface CheckpointResource {
    urn: string;
    type: string;
    id?: string;
    parent?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** The URN's last segment: the resource's name. */
const nameOf = (urn: string) => urn.split("::").pop() as string;

/** The package modules a serialized provider names (`pulumi-ibmcloud-iam/dist/….js`). */
function providerModules(serialized: unknown): string[] {
    if (typeof serialized !== "string") return [];
    return [...new Set(serialized.match(/pulumi-ibmcloud-iam\/dist\/[A-Za-z0-9_./-]+\.js/g) ?? [])];
}

/**
 * The resource types the INSTALLED package exports: its classes that extend `dynamic.Resource` (type token
 * `pulumi-nodejs:dynamic/ibmcloud-iam:<Name>`) or `ComponentResource` (`ibmcloud-iam:index:<Name>`), loaded
 * from the project with the project's @pulumi/pulumi.
 */
function exportedTypes(project: string): string[] {
    const req = nodeModule.createRequire(path.join(project, "_"));
    const pulumi = req("@pulumi/pulumi");
    const pkg = req("pulumi-ibmcloud-iam") as Record<string, unknown>;
    const types: string[] = [];
    for (const [name, value] of Object.entries(pkg)) {
        if (typeof value !== "function" || !value.prototype) continue;
        if (value.prototype instanceof pulumi.dynamic.Resource) types.push(DYNAMIC_PREFIX + name);
        else if (value.prototype instanceof pulumi.ComponentResource) types.push(COMPONENT_PREFIX + name);
    }
    return types.sort();
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
    const files: Record<string, string> = { "Pulumi.yaml": PULUMI_YAML, "index.ts": PROGRAM, "tsconfig.json": TSCONFIG, "start-emulator.js": START_EMULATOR };
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
    await cli(["config", "set", "instanceCrn", INSTANCE_CRN]);
    await cli(["config", "set", "instanceId", INSTANCE_GUID]);
    await cli(["config", "set", "cosInstanceId", COS_INSTANCE_GUID]);
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
    const leaks = [...SECRETS].filter((s) => checkpoint.includes(s) || stackConfig.includes(s)).length;
    if (leaks > 0) throw new Refusal(`${leaks} secret value(s) in plaintext in the checkpoint or the stack config: not written`);
    const resources = JSON.parse(checkpoint).deployment.resources as CheckpointResource[];
    const types = new Set(resources.map((r) => r.type));
    const unused = exportedTypes(project).filter((t) => !types.has(t));
    if (unused.length > 0) throw new Refusal(`the program uses no ${unused.join(", ")}: add it to PROGRAM in scripts/write-state-fixture.ts`);
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
    signal(child.pid!, "SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
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
    const readme = fixtureReadme(opts.name, manifest, resources, [...modules].sort(), providerSizes, SECRETS.size);
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

function fixtureReadme(
    name: string,
    manifest: { writtenBy: Record<string, unknown> & { installed: Record<string, string> }; emulatorUrl: string },
    resources: CheckpointResource[],
    modules: string[],
    providerSizes: number[],
    secretCount: number,
): string {
    const w = manifest.writtenBy;
    const byType = new Map<string, string[]>();
    for (const r of resources) byType.set(r.type, [...(byType.get(r.type) ?? []), nameOf(r.urn)]);
    // sorted: the engine registers resources in parallel, so the checkpoint's order may differ between runs
    const rows = [...byType.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(
            ([type, names]) =>
                `| \`${type}\` | ${names.length} | ${names
                    .sort()
                    .map((n) => `\`${n}\``)
                    .join(", ")} |`,
        );
    const kib = (n: number) => (n / 1024).toFixed(1);
    const sizes = [kib(Math.min(...providerSizes)), kib(Math.max(...providerSizes))];
    const sizeText = sizes[0] === sizes[1] ? `${sizes[0]} KiB` : `${sizes[0]}–${sizes[1]} KiB`;
    return `# State fixture ${name}

A Pulumi checkpoint written by pulumi-ibmcloud-iam **${w.version}** at **${String(w.commit).slice(0, 7)}**${w.dirty ? " (with uncommitted changes)" : ""}
as users write state: the checkout \`npm pack\`ed and installed into a fresh project outside the repository,
so every provider in state is what an INSTALLED package writes. With the emulator state it belongs to.
\`test/e2e/stateFixtures.test.ts\` imports it and runs \`pulumi refresh --expect-no-changes\` and
\`pulumi destroy\` with the code of the checkout, through the real engine.

Written ${w.date} by \`scripts/write-state-fixture.ts\` with Pulumi CLI ${w.pulumiCli}, Node ${w.node}; installed:
${Object.entries(manifest.writtenBy.installed)
    .map(([p, v]) => `\`${p}@${v}\``)
    .join(", ")}.

| file | what |
|---|---|
| \`checkpoint.json\` | \`pulumi stack export\` (no \`--show-secrets\`: secrets are ciphertext) of stack \`${STACK}\`, project \`${PROJECT}\` |
| \`Pulumi.${STACK}.yaml\` | the stack's config file: passphrase salt, encrypted \`ibmcloud:apiKey\`, the endpoints, the instance |
| \`emulator-state.json\` | the emulator's state file after the \`up\` (stopped with SIGTERM) |
| \`fixture.json\` | manifest the test reads: project, stack, passphrase, the emulator URL of the run, file names, \`writtenBy\` |
| \`program/\` | \`Pulumi.yaml\`, \`index.ts\` (the program; refresh and destroy do not run it), \`tsconfig.json\`, \`start-emulator.js\` |

## What it contains
${resources.length} resources, every resource type the package exports, with non-default options (see
\`program/index.ts\`), on one Key Protect instance \`${INSTANCE_GUID}\` in ${REGION} given by its CRN
\`${INSTANCE_CRN}\`:

| type | count | names |
|---|---|---|
${rows.join("\n")}

Providers in state name ${modules.map((m) => `\`${m}\``).join(", ")}
(\`__provider\` ${sizeText} each). No secret is in the checkpoint or the
config in plaintext (checked against the owner key and the ${secretCount - 1} other decrypted secret values of the stack),
nor an API key value anywhere in this folder.

Test values, not secrets: the stack passphrase \`${PASSPHRASE}\`; the emulator's owner API key
\`${OWNER_API_KEY}\` and account \`${ACCOUNT_ID}\` (fixed by \`program/start-emulator.js\`). The emulator
state file holds that owner key, an emulator-only RSA signing key and hashes of the API keys, as every emulator
state file does; it gives access to nothing but an emulator started on it.

The emulator listened on \`${manifest.emulatorUrl}\` (\`fixture.json\` \`emulatorUrl\`): that URL is in the
checkpoint (KMS endpoints) and in the config; the test replaces it with its own emulator's URL.

## How it was made
From a clean checkout of ${String(w.commit).slice(0, 7)}:

\`\`\`sh
npm ci --no-audit --no-fund
npm run state-fixture -- ${name}      # = npm run build && scripts/ensure-pulumi.sh && node build/scripts/write-state-fixture.js ${name}
\`\`\`

It packs the checkout, installs the tarball with \`@pulumi/pulumi\` of the repository, \`typescript\` and
\`@types/node\` into a project under \`os.tmpdir()\`, starts the installed emulator (\`start-emulator.js\`),
runs \`pulumi stack init ${STACK}\`, sets the config and \`pulumi up\` with a file backend, exports the stack,
checks it and writes this folder; it removes its temp dir and every process it started. Never edit a
committed fixture: it is what users' state looks like.
`;
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
        if (emulator.child?.pid && emulator.child.exitCode === null) signal(-emulator.child.pid, "SIGTERM");
        // the engine, its plugins and the emulator: every process that carries this run's marker
        for (const pid of markedProcesses(runId)) signal(pid, "SIGTERM");
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline && markedProcesses(runId).length > 0) await new Promise((r) => setTimeout(r, 100));
        for (const pid of markedProcesses(runId)) signal(pid, "SIGKILL");
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
