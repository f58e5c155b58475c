// Helpers for end-to-end tests through the real Pulumi engine (the Go `pulumi` CLI driven by the
// Automation API). See scripts/ensure-pulumi.sh for how the CLI is found or built.
//
// Typical use:
//   let sandbox: EngineSandbox;
//   before(async function () { this.timeout(ENSURE_PULUMI_TIMEOUT_MS); sandbox = await createSandbox(); });
//   after(() => sandbox.cleanup());
//   const stack = await sandbox.programStack("smoke", { module: "lifecycle", export: "identity" }, { params: { name: "app" } });
//   await stack.up(); await stack.setParams({ name: "renamed" }); await stack.up(); await stack.destroy(); await stack.remove();
//
// Programs run in their own process, as users run them: a program is a function exported by
// a module of test/e2e/programs/ (compiled into build/ like the rest), the sandbox writes a tiny project
// (Pulumi.yaml, `runtime: nodejs`, and an index.js whose export is that function) and the engine runs it
// through pulumi-language-nodejs. Its parameters travel as stack config (`e2e:<key>`, programs/params.ts).
// Not inline Automation API programs: those run inside the test process, where an engine that ends an
// update while the program still has RPCs in flight (a failing `up`/`preview`) rejects them into mocha
// itself, long after the operation returned, and a leftover language server keeps mocha from exiting.
//
// Everything lives in a folder under <repo>/.tools/e2e/ (git-ignored): the file:// backend, the
// PULUMI_HOME and the program directories. It has to be inside the project: the engine starts the
// program and the dynamic-provider plugin with cwd = the program's directory, and both resolve
// `pulumi-ibmcloud-iam/...` (package self-reference: the thin by-name providers of
// provider/dynamicProvider.ts), `@pulumi/pulumi`, `undici`… from there, so it must see <repo>/package.json
// and <repo>/node_modules (and no package.json of its own).
import * as childProcess from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
    LocalWorkspace,
    PulumiCommand,
    PulumiFn,
    Stack,
    ConfigMap,
    OutputMap,
    Deployment,
    UpResult,
    PreviewResult,
    RefreshResult,
    DestroyResult,
} from "@pulumi/pulumi/automation";
import { PARAMS_NAMESPACE, ParamValue } from "../programs/params";
import { REPO_ROOT } from "../../../scripts/lib/repoRoot";

/** Long enough for a cold build of the CLI from Go modules on 2 cores. */
export const ENSURE_PULUMI_TIMEOUT_MS = 40 * 60 * 1000;
/** Budget for one engine operation (preview/up/refresh/destroy) in the tests. */
export const ENGINE_OP_TIMEOUT_MS = 120 * 1000;
/** Passphrase of the test stacks' secrets provider (a test value, not a secret). */
export const TEST_PASSPHRASE = "e2e-test-passphrase";

export { REPO_ROOT };

export const TOOLS_BIN = path.join(REPO_ROOT, ".tools", "bin");
/** Where `pulumi-resource-pulumi-nodejs` (the dynamic-provider plugin launcher) ships. */
export const PULUMI_NODE_SDK_DIR = path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi");

export interface PulumiBinaries {
    /** Absolute path of the `pulumi` CLI. */
    pulumi: string;
    /** Absolute path of `pulumi-language-nodejs` (needed for Pulumi.yaml projects), if found. */
    languageNodejs?: string;
    /** Folder of `pulumi`: goes first on PATH. */
    binDir: string;
}

function isExecutable(p: string): boolean {
    try {
        fs.accessSync(p, fs.constants.X_OK);
        return fs.statSync(p).isFile();
    } catch {
        return false;
    }
}

function which(name: string, dirs: string[]): string | undefined {
    for (const dir of dirs) {
        if (!dir) continue;
        const p = path.join(dir, name);
        if (isExecutable(p)) return p;
    }
    return undefined;
}

/** Finds the binaries: .tools/bin first (what scripts/ensure-pulumi.sh builds), then PATH. */
export function findPulumiBinaries(): PulumiBinaries | undefined {
    const dirs = [TOOLS_BIN, ...(process.env.PATH ?? "").split(path.delimiter)];
    const pulumi = which("pulumi", dirs);
    if (!pulumi) return undefined;
    const binDir = path.dirname(pulumi);
    const languageNodejs = which("pulumi-language-nodejs", [binDir, ...dirs]);
    return { pulumi, languageNodejs, binDir };
}

let ensured: Promise<PulumiBinaries> | undefined;

/**
 * Returns the binaries after running scripts/ensure-pulumi.sh once per process: it builds them
 * when missing (a cold build takes minutes: give the caller's hook ENSURE_PULUMI_TIMEOUT_MS) and
 * rebuilds them when the pinned version or the wrapper module changed; otherwise it takes about
 * a second. Never skips: if the script fails and no complete set of binaries is found, this
 * throws with the script's output.
 */
export function ensurePulumi(timeoutMs = ENSURE_PULUMI_TIMEOUT_MS): Promise<PulumiBinaries> {
    ensured ??= (async () => {
        const script = path.join(REPO_ROOT, "scripts", "ensure-pulumi.sh");
        let scriptError: unknown;
        try {
            await runToCompletion("bash", [script], { cwd: REPO_ROOT, timeoutMs });
        } catch (err) {
            scriptError = err;
        }
        const found = findPulumiBinaries();
        if (found?.languageNodejs) {
            if (scriptError) {
                process.stderr.write(`warning: using ${found.pulumi} although ${String(scriptError)}\n`);
            }
            return found;
        }
        throw scriptError ?? new Error("scripts/ensure-pulumi.sh ran but pulumi / pulumi-language-nodejs are still missing");
    })();
    ensured.catch(() => (ensured = undefined)); // a later call may try again
    return ensured;
}

/** Runs a command in its own process group; kills the whole group on timeout. */
function runToCompletion(cmd: string, args: string[], opts: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = childProcess.spawn(cmd, args, {
            cwd: opts.cwd,
            env: opts.env ?? process.env,
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d.toString()));
        child.stderr.on("data", (d: Buffer) => (output += d.toString()));
        const timer = setTimeout(() => {
            killGroup(child.pid);
            reject(new Error(`${cmd} ${args.join(" ")} timed out after ${opts.timeoutMs} ms:\n${output}`));
        }, opts.timeoutMs);
        child.on("error", (err) => {
            clearTimeout(timer);
            reject(err);
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            if (code === 0) resolve(output);
            else reject(new Error(`${cmd} ${args.join(" ")} failed (${code ?? signal}):\n${output}`));
        });
    });
}

function killGroup(pid: number | undefined): void {
    if (!pid) return;
    try {
        process.kill(-pid, "SIGKILL");
    } catch {
        // already gone
    }
}

/** Environment variable set on every engine command of a sandbox: its processes inherit it. */
export const SANDBOX_ENV_MARKER = "PULUMI_IBMCLOUD_IAM_E2E_SANDBOX";

/**
 * Pids of the live processes (other than this one) whose environment has `key=value` (Linux
 * /proc). Every process the engine starts (language host, plugins, programs) inherits the
 * engine's environment, so a sandbox finds all of its processes by its marker.
 */
export function processesWithEnv(key: string, value: string): number[] {
    const needle = Buffer.from(`\0${key}=${value}\0`);
    const pids: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
        let environ: Buffer;
        try {
            environ = Buffer.concat([Buffer.from([0]), fs.readFileSync(`/proc/${entry}/environ`)]);
        } catch {
            continue; // gone, or not ours to look at
        }
        if (environ.includes(needle)) pids.push(Number(entry));
    }
    return pids;
}

/** Kills the processes listed by `list()`, SIGTERM then SIGKILL; returns how many there were. */
async function killAll(list: () => number[], graceMs = 2000): Promise<number> {
    const pids = list();
    if (pids.length === 0) return 0;
    for (const pid of pids) {
        try {
            process.kill(pid, "SIGTERM");
        } catch {
            // gone
        }
    }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && list().length > 0) {
        await new Promise((r) => setTimeout(r, 50));
    }
    for (const pid of list()) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // gone
        }
    }
    return pids.length;
}

/** Error of a failed engine operation; `output` is all the text the engine printed. */
export class EngineError extends Error {
    constructor(
        readonly operation: string,
        readonly output: string,
        override readonly cause: unknown,
    ) {
        super(`pulumi ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
        this.name = "EngineError";
    }
}

export interface OpOptions {
    /** Extra options passed to the Automation API call (targets, refresh, expectNoChanges…). */
    [key: string]: unknown;
}

export interface OpResult<R> {
    result: R;
    /** stdout and stderr of this operation, as printed (color off). */
    output: string;
}

/** A stack of the sandbox with output capture: every operation's text is kept in `log`. */
export class EngineStack {
    /** All text printed by the engine for this stack, every operation appended. */
    log = "";

    constructor(
        readonly stack: Stack,
        readonly sandbox: EngineSandbox,
        /** The directory the engine and the plugins run in. */
        readonly workDir: string,
    ) {}

    get name(): string {
        return this.stack.name;
    }

    private async op<R>(operation: string, run: (opts: Record<string, unknown>) => Promise<R>, extra: OpOptions = {}): Promise<OpResult<R>> {
        let output = "";
        const capture = (text: string) => {
            output += text;
            this.log += text;
        };
        this.log += `\n===== pulumi ${operation} =====\n`;
        // One AbortController per operation (the Automation API adds an "abort" listener to the
        // signal of every command and never removes it), aborted by the sandbox's cleanup.
        const abort = this.sandbox.operationStarted();
        try {
            const result = await run({
                color: "never",
                onOutput: capture,
                onError: capture,
                signal: abort.signal,
                ...extra,
            });
            return { result, output };
        } catch (err) {
            throw new EngineError(operation, output, err);
        } finally {
            this.sandbox.operationEnded(abort);
        }
    }

    preview(opts: OpOptions = {}): Promise<OpResult<PreviewResult>> {
        return this.op("preview", (o) => this.stack.preview(o), { diff: true, ...opts });
    }
    up(opts: OpOptions = {}): Promise<OpResult<UpResult>> {
        return this.op("up", (o) => this.stack.up(o), opts);
    }
    refresh(opts: OpOptions = {}): Promise<OpResult<RefreshResult>> {
        return this.op("refresh", (o) => this.stack.refresh(o), opts);
    }
    destroy(opts: OpOptions = {}): Promise<OpResult<DestroyResult>> {
        return this.op("destroy", (o) => this.stack.destroy(o), opts);
    }

    /** Sets config; `secret: true` stores it encrypted (it reaches `configure()` in plaintext). */
    async setConfig(key: string, value: string, secret = false): Promise<void> {
        await this.stack.setConfig(key, { value, secret });
    }
    async setAllConfig(config: ConfigMap): Promise<void> {
        await this.stack.setAllConfig(config);
    }
    /** Changes parameters of a program stack (`programStack`): the next operation's program sees them. */
    async setParams(values: Record<string, ParamValue>, secretKeys: string[] = []): Promise<void> {
        await this.stack.setAllConfig(paramsConfig(values, secretKeys));
    }
    /** Stack outputs, secrets decrypted (`secret: true` marks them). */
    outputs(): Promise<OutputMap> {
        return this.stack.outputs();
    }
    /**
     * The checkpoint as stored: `pulumi stack export` WITHOUT `--show-secrets`, so secrets stay
     * ciphertext. (The Automation API's `stack.exportStack()` passes `--show-secrets`: secrets
     * come back as `{"4dabf…": "1b47…", "plaintext": …}`; see `exportStateWithSecrets`.)
     */
    async exportState(): Promise<Deployment> {
        return JSON.parse(await this.sandbox.pulumi(["stack", "export", "--stack", this.name], this.workDir));
    }
    /** The exported checkpoint as JSON text, to search for values that must not be in plaintext. */
    async exportStateText(): Promise<string> {
        return JSON.stringify(await this.exportState());
    }
    /** The checkpoint with secrets decrypted (Automation API `exportStack`, `--show-secrets`). */
    exportStateWithSecrets(): Promise<Deployment> {
        return this.stack.exportStack();
    }
    /** The resources in state of the given type token (e.g. `pulumi-nodejs:dynamic/ibmcloud-iam:ServiceId`). */
    async resourcesOfType(type: string): Promise<Array<Record<string, any>>> {
        const state = await this.exportState();
        const resources: Array<Record<string, any>> = state.deployment?.resources ?? [];
        return resources.filter((r) => r.type === type);
    }
    /** Removes the stack from the backend (even with resources left: `--force`). */
    async remove(): Promise<void> {
        await this.stack.workspace.removeStack(this.stack.name, { force: true });
        this.sandbox.forget(this);
    }
}

export interface SandboxOptions {
    /** Extra environment for every engine command (and so for the plugins it starts). */
    env?: Record<string, string>;
    /** Parent folder of the sandbox; must be inside the project (see the file comment). */
    parentDir?: string;
}

export interface InlineStackOptions {
    projectName?: string;
    /** Config set before the first operation: `{ "ns:key": { value, secret } }`. */
    config?: ConfigMap;
}

/** A program: the function `export` of the module test/e2e/programs/<module>.ts. */
export interface ProgramRef {
    module: string;
    export: string;
}

export interface ProgramStackOptions {
    /** The project name (Pulumi.yaml `name`); default "e2e". */
    projectName?: string;
    /** Config set before the first operation: `{ "ns:key": { value, secret } }`. */
    config?: ConfigMap;
    /** The program's parameters (stack config `e2e:<key>`). */
    params?: Record<string, ParamValue>;
    /** Keys of `params` stored as secrets (encrypted in Pulumi.<stack>.yaml; the program reads plaintext). */
    secretParams?: string[];
}

/** Where the compiled program modules are: build/test/e2e/programs/. */
export const PROGRAMS_DIR = path.join(__dirname, "..", "programs");

/** Stack config entries (`e2e:<key>`) for program parameters; objects and arrays as JSON. */
export function paramsConfig(values: Record<string, ParamValue>, secretKeys: string[] = []): ConfigMap {
    const config: ConfigMap = {};
    for (const [key, value] of Object.entries(values)) {
        config[`${PARAMS_NAMESPACE}:${key}`] = { value: typeof value === "string" ? value : JSON.stringify(value), secret: secretKeys.includes(key) };
    }
    return config;
}

export interface ProjectStackOptions {
    /** Config set before the first operation: `{ "ns:key": { value, secret } }`. */
    config?: ConfigMap;
}

/**
 * One isolated engine setup: a temp folder inside the project holding a file:// backend, a
 * PULUMI_HOME and inline programs' working directories, with the env every command gets.
 */
export class EngineSandbox {
    private readonly running = new Set<AbortController>();
    private readonly stacks = new Set<EngineStack>();
    private cleanedUp = false;

    constructor(
        readonly dir: string,
        readonly binaries: PulumiBinaries,
        readonly command: PulumiCommand,
        /** Environment passed to every engine command (merged over process.env by the Automation API). */
        readonly env: Record<string, string>,
    ) {}

    get backendUrl(): string {
        return this.env.PULUMI_BACKEND_URL;
    }
    /** @internal An AbortController for one operation, aborted if cleanup comes first. */
    operationStarted(): AbortController {
        const abort = new AbortController();
        if (this.cleanedUp) abort.abort();
        this.running.add(abort);
        return abort;
    }
    /** @internal */
    operationEnded(abort: AbortController): void {
        this.running.delete(abort);
    }

    /**
     * Creates (or selects) a stack running the program `program` of test/e2e/programs/ in its own
     * process, as `pulumi up` runs a user's project: a project folder `work/<project>-<stack>/` of the
     * sandbox with a Pulumi.yaml (`runtime: nodejs`, `main: index.js`) and an index.js exporting the
     * program function, run by pulumi-language-nodejs. `params` become stack config `e2e:<key>` (the
     * program reads them with `params()`); change them later with `EngineStack.setParams`.
     */
    async programStack(stackName: string, program: ProgramRef, opts: ProgramStackOptions = {}): Promise<EngineStack> {
        const projectName = opts.projectName ?? "e2e";
        const moduleFile = path.join(PROGRAMS_DIR, `${program.module}.js`);
        if (!fs.existsSync(moduleFile)) throw new Error(`no program module ${moduleFile}: is test/e2e/programs/${program.module}.ts built?`);
        const workDir = path.join(this.dir, "work", `${projectName}-${stackName}`);
        fs.mkdirSync(workDir, { recursive: true });
        fs.writeFileSync(
            path.join(workDir, "Pulumi.yaml"),
            [`name: ${projectName}`, "runtime:", "  name: nodejs", "  options:", "    typescript: false", "main: index.js", ""].join("\n"),
        );
        fs.writeFileSync(
            path.join(workDir, "index.js"),
            [
                `// Written by test/e2e/support/engine.ts: the program is ${program.export}() of test/e2e/programs/${program.module}.ts.`,
                "// Plain V8 stack traces: @pulumi/pulumi's cmd/run installs source-map-support, whose frames of the SDK's",
                "// top-level files read `node_modules/@pulumi/resource.ts:…`, on which Node 20's util.inspect(err, {colors})",
                "// (Pulumi's report of a program's unhandled error) loops for 30-50 s of CPU until `Invalid string length`.",
                "Error.prepareStackTrace = undefined;",
                `module.exports = require(${JSON.stringify(moduleFile)})[${JSON.stringify(program.export)}];`,
                `if (typeof module.exports !== "function") throw new Error(${JSON.stringify(`${program.module}.js exports no function ${program.export}`)});`,
                "",
            ].join("\n"),
        );
        return this.projectStack(stackName, workDir, { config: { ...opts.config, ...paramsConfig(opts.params ?? {}, opts.secretParams ?? []) } });
    }

    /**
     * Bench only (bench/provisioning.ts), never in a test: creates (or selects) a stack running
     * `program` in this process (Automation API inline program). Refused under mocha (see the file
     * comment and test/support/rootHooks.ts). The engine, and the dynamic-provider plugin, run in a fresh folder of the
     * sandbox, from which <repo>/node_modules is visible.
     */
    async inlineStack(stackName: string, program: PulumiFn, opts: InlineStackOptions = {}): Promise<EngineStack> {
        if ((globalThis as Record<symbol, unknown>)[Symbol.for("pulumi-ibmcloud-iam.test.run")]) {
            throw new Error("inline Automation API programs run inside the test process: use programStack (test/e2e/programs/)");
        }
        const projectName = opts.projectName ?? "e2e";
        const workDir = path.join(this.dir, "work", `${projectName}-${stackName}`);
        fs.mkdirSync(workDir, { recursive: true });
        const stack = await LocalWorkspace.createOrSelectStack(
            { stackName, projectName, program },
            {
                workDir,
                pulumiHome: this.env.PULUMI_HOME,
                pulumiCommand: this.command,
                envVars: this.env,
                projectSettings: {
                    name: projectName,
                    runtime: "nodejs",
                    backend: { url: this.backendUrl },
                },
            },
        );
        return this.track(new EngineStack(stack, this, workDir), opts.config);
    }

    /**
     * Creates (or selects) a stack of the Pulumi.yaml project in `projectDir` (what a plain
     * `pulumi up` there runs: needs `pulumi-language-nodejs`). The stack lives in the sandbox's
     * backend unless Pulumi.yaml names a `backend.url`; its config is written to
     * `<projectDir>/Pulumi.<stackName>.yaml` (removed with the stack), so use a stack name of
     * the test's own when `projectDir` is a folder of the repo.
     */
    async projectStack(stackName: string, projectDir: string, opts: ProjectStackOptions = {}): Promise<EngineStack> {
        if (!this.binaries.languageNodejs) {
            throw new Error("pulumi-language-nodejs not found: run `npm run pulumi:ensure`");
        }
        const stack = await LocalWorkspace.createOrSelectStack(
            { stackName, workDir: projectDir },
            { pulumiHome: this.env.PULUMI_HOME, pulumiCommand: this.command, envVars: this.env },
        );
        return this.track(new EngineStack(stack, this, projectDir), opts.config);
    }

    private async track(stack: EngineStack, config?: ConfigMap): Promise<EngineStack> {
        this.stacks.add(stack);
        if (config) await stack.setAllConfig(config);
        return stack;
    }

    /** @internal */
    forget(stack: EngineStack): void {
        this.stacks.delete(stack);
    }

    /**
     * Runs the CLI directly (`pulumi <args> --non-interactive`) in `cwd` with the sandbox env;
     * resolves to stdout, rejects with stdout and stderr in the message.
     */
    pulumi(args: string[], cwd: string, timeoutMs = ENGINE_OP_TIMEOUT_MS): Promise<string> {
        return new Promise((resolve, reject) => {
            childProcess.execFile(
                this.binaries.pulumi,
                [...args, "--non-interactive"],
                { cwd, env: { ...process.env, ...this.env }, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 },
                (err, stdout, stderr) => {
                    if (err) reject(new Error(`pulumi ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`));
                    else resolve(stdout);
                },
            );
        });
    }

    /** Processes of this sandbox still alive (engine, language host, plugins, programs). */
    liveProcesses(): number[] {
        return processesWithEnv(SANDBOX_ENV_MARKER, this.dir);
    }

    /**
     * Cancels running operations (SIGINT to the CLI), kills any process of the sandbox still
     * alive, removes the stacks still known (`--force`: their resources are not destroyed, and a
     * project stack's Pulumi.<stack>.yaml goes too), deletes the folder (kept when
     * E2E_KEEP_SANDBOX is set, to look at it). Idempotent.
     */
    async cleanup(opts: { keepDir?: boolean } = {}): Promise<void> {
        if (this.cleanedUp) return;
        this.cleanedUp = true;
        for (const abort of this.running) abort.abort();
        await killAll(() => this.liveProcesses());
        for (const stack of [...this.stacks]) {
            try {
                await stack.remove();
            } catch {
                // best effort (a killed operation can leave a lock): the folder goes anyway
            }
        }
        await killAll(() => this.liveProcesses());
        if (!opts.keepDir && !process.env.E2E_KEEP_SANDBOX) {
            fs.rmSync(this.dir, { recursive: true, force: true });
        }
        openSandboxes().delete(this.dir);
    }
}

/**
 * Makes a sandbox: ensures the binaries (building them if needed), creates
 * <repo>/.tools/e2e/<random>/{state,home,work}, and the env for the engine:
 * PULUMI_BACKEND_URL=file://…, PULUMI_CONFIG_PASSPHRASE, PULUMI_SKIP_UPDATE_CHECK, PULUMI_HOME,
 * no automatic plugin download, and PATH = <bin dir>:<node_modules/@pulumi/pulumi>:<node's dir>:PATH
 * (so the engine finds pulumi-language-nodejs and the dynamic-provider plugin launcher
 * pulumi-resource-pulumi-nodejs: the one ensure-pulumi.sh writes into .tools/bin is taken as
 * bundled with the CLI, the one in node_modules, with a CLI from PATH, is used with a warning).
 */
export async function createSandbox(opts: SandboxOptions = {}): Promise<EngineSandbox> {
    const binaries = await ensurePulumi();
    const parent = opts.parentDir ?? path.join(REPO_ROOT, ".tools", "e2e");
    fs.mkdirSync(parent, { recursive: true });
    const dir = fs.mkdtempSync(path.join(parent, `${Date.now().toString(36)}-${crypto.randomBytes(3).toString("hex")}-`));
    const stateDir = path.join(dir, "state");
    const home = path.join(dir, "home");
    fs.mkdirSync(stateDir, { recursive: true });
    fs.mkdirSync(home, { recursive: true });
    const env: Record<string, string> = {
        PULUMI_BACKEND_URL: `file://${stateDir}`,
        PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_HOME: home,
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_SELF_MANAGED_STATE_NO_LEGACY_WARNING: "true",
        [SANDBOX_ENV_MARKER]: dir,
        PATH: [
            binaries.binDir,
            ...(binaries.languageNodejs ? [path.dirname(binaries.languageNodejs)] : []),
            PULUMI_NODE_SDK_DIR,
            path.dirname(process.execPath),
            process.env.PATH ?? "",
        ].join(path.delimiter),
        ...opts.env,
    };
    // The CLI built here reports its version properly, so the Automation API's version check
    // passes; a CLI from PATH with an odd version string can be accepted with
    // PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true in the environment of the test run.
    // PulumiCommand.get({root}) runs <root>/bin/pulumi.
    const command = path.basename(binaries.binDir) === "bin" ? await PulumiCommand.get({ root: path.dirname(binaries.binDir) }) : await PulumiCommand.get();
    openSandboxes().add(dir);
    return new EngineSandbox(dir, binaries, command, env);
}

/** Sandboxes of this process not cleaned up yet: test/support/rootHooks.ts names them at the end of a run. */
function openSandboxes(): Set<string> {
    const g = globalThis as unknown as Record<symbol, Set<string> | undefined>;
    const key = Symbol.for("pulumi-ibmcloud-iam.test.sandboxes");
    g[key] ??= new Set<string>();
    return g[key];
}
