// The provisioning bench as users get it: a Pulumi project OUTSIDE the repository that installed the
// packed package from its tarball (as test/e2e/consumer.test.ts does), run by the real CLI on Node 24,
// beside a second project in the same workspace that is the floor: the same graph of no-op dynamic
// resources, with the smallest provider Pulumi allows.
//
// The floor's provider is, like ours, one `require` of a module under node_modules whose whole export is
// the provider (a packed local package, `bench-noop-provider`): Pulumi's serializer cannot make a
// provider smaller than a reference to a module (runtime/closure/createClosure.ts captures the
// `module.exports` of a module under node_modules as `require("<name>")`), and the module defines
// `create` and `delete` only (no check, diff, configure: the plugin's defaults). Its outputs are ours,
// copied from a calibration deployment of one triple: the same keys, values of the same length, a fresh
// id of the same length per resource, the same secret outputs (`additionalSecretOutputs`).
import * as childProcess from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "./support";
import { runChecked } from "../scripts/lib/process";

export type Project = "ours" | "noop" | "plugin";
/** The three resource types of a triple, in the order a program makes them. */
export const TYPES = ["ServiceId", "ServiceApiKey", "AccessPolicy"] as const;
export type TripleType = (typeof TYPES)[number];

export interface CliRun {
    ms: number;
    stdout: string;
}

/** What a deployment of ours looked like: per type, its outputs (plaintext) and which of them are secret. */
export interface OutputShapes {
    outputs: Record<string, Record<string, unknown>>;
    secrets: Record<string, string[]>;
}

const PASSPHRASE = "bench-passphrase";
/** The key that marks a secret in a checkpoint. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The newest Node 24 under .tools/node (scripts/ensure-node.sh), else the Node running the bench. */
export function node24Bin(): { dir: string; version: string } {
    const root = path.join(REPO_ROOT, ".tools", "node");
    const candidates = fs.existsSync(root)
        ? fs
              .readdirSync(root)
              .filter((v) => /^24\./.test(v))
              .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
        : [];
    for (const v of candidates.reverse()) {
        const dir = path.join(root, v, "node_modules", `node-${process.platform}-${process.arch}`, "bin");
        if (fs.existsSync(path.join(dir, "node"))) return { dir, version: `v${v}` };
    }
    return { dir: path.dirname(process.execPath), version: process.version };
}

async function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliRun> {
    const r = await runChecked(cmd, args, { cwd: opts.cwd, env: opts.env, timeoutMs: opts.timeoutMs ?? 60 * 60 * 1000 });
    return { ms: r.ms, stdout: r.stdout };
}

/** The floor's provider modules, each `module.exports = provider`; outputs from shapes.json beside them. */
const NOOP_PROVIDER = `"use strict";
// A no-op dynamic provider whose outputs have the shape and size of pulumi-ibmcloud-iam's (shapes.json).
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
let shapes;
module.exports = function noopProvider(type) {
    return {
        async create(inputs) {
            shapes ??= JSON.parse(fs.readFileSync(path.join(__dirname, "shapes.json"), "utf8"));
            const template = shapes.outputs[type];
            const id = String(template.__id);
            const fresh = id.slice(0, id.length - 12) + crypto.randomBytes(6).toString("hex");
            const outs = {};
            for (const [k, v] of Object.entries(template)) {
                if (k === "__id") continue;
                outs[k] = k in inputs ? inputs[k] : v === id ? fresh : v;
            }
            return { id: fresh, outs };
        },
        async delete() {},
    };
};
`;

const OURS_PROGRAM = `"use strict";
const { ServiceId, ServiceApiKey, AccessPolicy } = require("pulumi-ibmcloud-iam");
const n = Number(process.env.BENCH_TRIPLES);
const instance = process.env.BENCH_INSTANCE;
for (let i = 0; i < n; i++) {
    const sid = new ServiceId(\`app-\${i}\`, { name: \`bench-app-\${i}\` });
    new ServiceApiKey(\`app-\${i}-key\`, { serviceId: sid.serviceId, name: \`bench-app-\${i}-key\` });
    new AccessPolicy(\`app-\${i}-reader\`, { serviceId: sid.serviceId, roles: ["Reader"], resource: { serviceName: "hs-crypto", serviceInstance: instance } });
}
`;

// The same triples through the provider plugin (pulumi-resource-ibmcloud-iam from the installed package): custom
// resources of the plugin's type tokens, each with the outputs the plugin's schema lists, as a generated SDK declares
// them. The same language host as the other two projects, so only the provider's side differs.
const PLUGIN_PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");
const path = require("path");
// Not an export of the package: read beside its package.json, as \`pulumi package gen-sdk\` users point at it.
const schema = require(path.join(path.dirname(require.resolve("pulumi-ibmcloud-iam/package.json")), "plugin", "schema.json"));
class PluginResource extends pulumi.CustomResource {
    constructor(type, name, args, opts) {
        const token = \`ibmcloud-iam:index:\${type}\`;
        const props = {};
        for (const k of Object.keys(schema.resources[token].properties)) props[k] = undefined;
        super(token, name, { ...props, ...args }, opts);
    }
}
const n = Number(process.env.BENCH_TRIPLES);
const instance = process.env.BENCH_INSTANCE;
for (let i = 0; i < n; i++) {
    const sid = new PluginResource("ServiceId", \`app-\${i}\`, { name: \`bench-app-\${i}\` });
    new PluginResource("ServiceApiKey", \`app-\${i}-key\`, { serviceId: sid.serviceId, name: \`bench-app-\${i}-key\` });
    new PluginResource("AccessPolicy", \`app-\${i}-reader\`, { serviceId: sid.serviceId, roles: ["Reader"], resource: { serviceName: "hs-crypto", serviceInstance: instance } });
}
`;

const NOOP_PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");
const shapes = require("bench-noop-provider/shapes.json");
const providers = {
    ServiceId: require("bench-noop-provider/serviceId.js"),
    ServiceApiKey: require("bench-noop-provider/serviceApiKey.js"),
    AccessPolicy: require("bench-noop-provider/accessPolicy.js"),
};
class NoopResource extends pulumi.dynamic.Resource {
    constructor(type, name, args, opts) {
        const props = { ...args };
        for (const k of Object.keys(shapes.outputs[type])) if (k !== "__id" && !(k in props)) props[k] = undefined;
        super(providers[type], name, props, { ...opts, additionalSecretOutputs: shapes.secrets[type] }, "ibmcloud-iam", type);
    }
}
const n = Number(process.env.BENCH_TRIPLES);
const instance = process.env.BENCH_INSTANCE;
for (let i = 0; i < n; i++) {
    const sid = new NoopResource("ServiceId", \`app-\${i}\`, { name: \`bench-app-\${i}\` });
    new NoopResource("ServiceApiKey", \`app-\${i}-key\`, { serviceId: sid.serviceId, name: \`bench-app-\${i}-key\` });
    new NoopResource("AccessPolicy", \`app-\${i}-reader\`, { serviceId: sid.serviceId, roles: ["Reader"], resource: { serviceName: "hs-crypto", serviceInstance: instance } });
}
`;

export interface ConsumerWorkspaceOptions {
    pulumiBin: string;
    emulator: { url: string; apiKey: string; instance: string };
    /** Extra environment for every engine operation (and so for the plugins). */
    env?: Record<string, string>;
}

/**
 * `<tmp>/app/node_modules` holds the packed package, @pulumi/pulumi (the repository's dev version) and the
 * packed no-op provider; `<tmp>/app/ours` and `<tmp>/app/noop` are the two projects, file backend in
 * `<tmp>/state`.
 */
export class ConsumerWorkspace {
    readonly marker = crypto.randomBytes(8).toString("hex");
    readonly node = node24Bin();
    private stacks = new Set<string>();

    private constructor(
        readonly top: string,
        private readonly opts: ConsumerWorkspaceOptions,
        readonly sdkVersion: string,
    ) {}

    static async create(opts: ConsumerWorkspaceOptions): Promise<ConsumerWorkspace> {
        const top = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-ibmcloud-iam-bench-"));
        const sdkVersion = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).version as string;
        const ws = new ConsumerWorkspace(top, opts, sdkVersion);
        try {
            await ws.install();
        } catch (err) {
            await ws.cleanup();
            throw err;
        }
        return ws;
    }

    private get app(): string {
        return path.join(this.top, "app");
    }

    private baseEnv(): NodeJS.ProcessEnv {
        return {
            ...process.env,
            PATH: [this.node.dir, path.join(this.app, "node_modules", "@pulumi", "pulumi"), path.dirname(this.opts.pulumiBin), process.env.PATH ?? ""].join(
                path.delimiter,
            ),
        };
    }

    private async install(): Promise<void> {
        const env = this.baseEnv();
        const packed = JSON.parse((await run("npm", ["pack", "--json", "--pack-destination", this.top], { cwd: REPO_ROOT, env })).stdout);
        const noopDir = path.join(this.top, "bench-noop-provider");
        fs.mkdirSync(noopDir);
        fs.writeFileSync(path.join(noopDir, "package.json"), JSON.stringify({ name: "bench-noop-provider", version: "1.0.0", files: ["*.js"] }, null, 2));
        fs.writeFileSync(path.join(noopDir, "noop.js"), NOOP_PROVIDER);
        for (const t of TYPES)
            fs.writeFileSync(
                path.join(noopDir, `${t[0].toLowerCase()}${t.slice(1)}.js`),
                `"use strict";\nmodule.exports = require("./noop.js")(${JSON.stringify(t)});\n`,
            );
        const noopPacked = JSON.parse((await run("npm", ["pack", "--json", "--pack-destination", this.top], { cwd: noopDir, env })).stdout);
        fs.mkdirSync(this.app);
        fs.writeFileSync(path.join(this.app, "package.json"), JSON.stringify({ name: "bench-consumer", private: true, version: "1.0.0" }, null, 2));
        await run(
            "npm",
            [
                "install",
                "--no-audit",
                "--no-fund",
                "--prefer-offline",
                path.join(this.top, packed[0].filename),
                path.join(this.top, noopPacked[0].filename),
                `@pulumi/pulumi@${this.sdkVersion}`,
            ],
            { cwd: this.app, env, timeoutMs: 10 * 60 * 1000 },
        );
        for (const [p, program] of [
            ["ours", OURS_PROGRAM],
            ["noop", NOOP_PROGRAM],
            ["plugin", PLUGIN_PROGRAM],
        ] as const) {
            const dir = path.join(this.app, p);
            fs.mkdirSync(dir);
            // The plugin project names the installed package's launcher, as docs/plugin.md tells users to.
            const plugins =
                p === "plugin" ? "plugins:\n  providers:\n    - name: ibmcloud-iam\n      path: ../node_modules/pulumi-ibmcloud-iam/plugin/bin\n" : "";
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: bench-${p}\nruntime: nodejs\nmain: index.js\n${plugins}`);
            fs.writeFileSync(path.join(dir, "index.js"), program);
        }
        for (const d of ["state", "home"]) fs.mkdirSync(path.join(this.top, d));
    }

    private env(n: number): NodeJS.ProcessEnv {
        return {
            ...this.baseEnv(),
            ...this.opts.env,
            PULUMI_BACKEND_URL: `file://${path.join(this.top, "state")}`,
            PULUMI_HOME: path.join(this.top, "home"),
            PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            BENCH_TRIPLES: String(n),
            BENCH_INSTANCE: this.opts.emulator.instance,
            BENCH_CONSUMER_MARKER: this.marker,
        };
    }

    private pulumi(p: Project, args: string[], n = 0): Promise<CliRun> {
        return run(this.opts.pulumiBin, [...args, "--non-interactive"], { cwd: path.join(this.app, p), env: this.env(n) });
    }

    /** A new stack of project `p` with the emulator's config. */
    async initStack(p: Project, stack: string): Promise<void> {
        await this.pulumi(p, ["stack", "init", stack]);
        this.stacks.add(`${p}\0${stack}`);
        if (p === "ours") {
            await this.pulumi(p, ["config", "set", "--stack", stack, "--secret", "ibmcloud:apiKey", this.opts.emulator.apiKey]);
            await this.pulumi(p, ["config", "set", "--stack", stack, "ibmcloud:iamEndpoint", this.opts.emulator.url]);
            await this.pulumi(p, ["config", "set", "--stack", stack, "ibmcloud:kmsEndpoint", this.opts.emulator.url]);
        } else if (p === "plugin") {
            await this.pulumi(p, ["config", "set", "--stack", stack, "--secret", "ibmcloud-iam:apiKey", this.opts.emulator.apiKey]);
            await this.pulumi(p, ["config", "set", "--stack", stack, "ibmcloud-iam:iamEndpoint", this.opts.emulator.url]);
            await this.pulumi(p, ["config", "set", "--stack", stack, "ibmcloud-iam:kmsEndpoint", this.opts.emulator.url]);
        }
    }

    /**
     * Milliseconds from starting the installed plugin's launcher (shell script → node → dist/plugin/main.js) to its
     * port on stdout, i.e. serving; then the process is stopped. `command` instead of the launcher measures another
     * process the same way (its first line of output).
     */
    async startupMs(command?: string[]): Promise<number> {
        const launcher = path.join(this.app, "node_modules", "pulumi-ibmcloud-iam", "plugin", "bin", "pulumi-resource-ibmcloud-iam");
        const [cmd, ...args] = command ?? [launcher];
        const started = process.hrtime.bigint();
        const child = childProcess.spawn(cmd, args, { env: this.baseEnv(), stdio: ["ignore", "pipe", "ignore"] });
        try {
            await new Promise<void>((resolve, reject) => {
                child.stdout.once("data", () => resolve());
                child.once("exit", (code) => reject(new Error(`${path.basename(cmd)} exited (${code}) before printing anything`)));
                child.once("error", reject);
            });
            return Number(process.hrtime.bigint() - started) / 1e6;
        } finally {
            child.kill("SIGKILL");
        }
    }

    /** `pulumi up` as the Automation API runs it (`--yes --skip-preview`); returns the wall time and the summary. */
    async up(p: Project, stack: string, n: number): Promise<{ ms: number; created: number }> {
        const r = await this.pulumi(p, ["up", "--stack", stack, "--yes", "--skip-preview", "--suppress-progress"], n);
        // The summary at the end: "Resources:\n    + 301 created".
        return { ms: r.ms, created: Number(/\+ (\d+) created/.exec(r.stdout)?.[1] ?? 0) };
    }

    async destroy(p: Project, stack: string, n: number): Promise<number> {
        return (await this.pulumi(p, ["destroy", "--stack", stack, "--yes", "--skip-preview"], n)).ms;
    }

    async exportState(
        p: Project,
        stack: string,
        showSecrets = false,
    ): Promise<{ deployment?: { resources?: Array<{ type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown>; id?: string }> } }> {
        return JSON.parse((await this.pulumi(p, ["stack", "export", "--stack", stack, ...(showSecrets ? ["--show-secrets"] : [])])).stdout);
    }

    async removeStack(p: Project, stack: string): Promise<void> {
        await this.pulumi(p, ["stack", "rm", "--stack", stack, "--yes", "--force"]);
        this.stacks.delete(`${p}\0${stack}`);
    }

    /** Bytes of a stack's checkpoint (the engine rewrites it after every step). */
    checkpointBytes(p: Project, stack: string): number {
        let total = 0;
        const walk = (dir: string) => {
            if (!fs.existsSync(dir)) return;
            for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
                const f = path.join(dir, e.name);
                if (e.isDirectory()) {
                    if (e.name !== "history" && e.name !== "backups") walk(f);
                } else if (e.name === `${stack}.json` && f.includes(`bench-${p}`)) total += fs.statSync(f).size;
            }
        };
        walk(path.join(this.top, "state"));
        return total;
    }

    /** Writes the floor's output shapes, taken from a deployment of ours (one triple), into the installed no-op package. */
    async calibrate(): Promise<OutputShapes> {
        const stack = "calibrate";
        await this.initStack("ours", stack);
        try {
            await this.up("ours", stack, 1);
            const plain = await this.exportState("ours", stack, true);
            const stored = await this.exportState("ours", stack);
            const shapes: OutputShapes = { outputs: {}, secrets: {} };
            for (const t of TYPES) {
                const type = `pulumi-nodejs:dynamic/ibmcloud-iam:${t}`;
                const res = plain.deployment?.resources?.find((r) => r.type === type);
                const enc = stored.deployment?.resources?.find((r) => r.type === type);
                if (!res?.outputs || !enc?.outputs) throw new Error(`calibration: no ${t} in the state of one triple`);
                const outputs: Record<string, unknown> = { __id: res.id };
                // --show-secrets gives a secret as {<signature>: <secret sig>, plaintext: <JSON text>}.
                const plainValue = (v: unknown) =>
                    typeof v === "object" && v !== null && SECRET_SIG in v && "plaintext" in v
                        ? JSON.parse(String((v as { plaintext: unknown }).plaintext))
                        : v;
                for (const [k, v] of Object.entries(res.outputs)) if (k !== "__provider") outputs[k] = plainValue(v);
                shapes.outputs[t] = outputs;
                shapes.secrets[t] = Object.entries(enc.outputs)
                    .filter(([, v]) => typeof v === "object" && v !== null && SECRET_SIG in v)
                    .map(([k]) => k);
            }
            fs.writeFileSync(path.join(this.app, "node_modules", "bench-noop-provider", "shapes.json"), JSON.stringify(shapes));
            await this.destroy("ours", stack, 1);
            return shapes;
        } finally {
            await this.removeStack("ours", stack).catch(() => undefined);
        }
    }

    /** Process ids of this workspace's dynamic-provider plugins, or of its provider plugins (their environment carries the marker). */
    pluginProcesses(kind: "dynamic" | "provider" = "dynamic"): number[] {
        const out: number[] = [];
        const mark = kind === "dynamic" ? "dynamic-provider" : path.join("dist", "plugin", "main.js");
        for (const e of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(e)) continue;
            try {
                if (!fs.readFileSync(`/proc/${e}/cmdline`, "utf8").includes(mark)) continue;
                if (fs.readFileSync(`/proc/${e}/environ`, "utf8").includes(`BENCH_CONSUMER_MARKER=${this.marker}`)) out.push(Number(e));
            } catch {
                // gone, or not ours to read
            }
        }
        return out;
    }

    async cleanup(): Promise<void> {
        for (const key of [...this.stacks]) {
            const [p, stack] = key.split("\0") as [Project, string];
            await this.pulumi(p, ["destroy", "--stack", stack, "--yes", "--skip-preview"]).catch(() => undefined);
            await this.removeStack(p, stack).catch(() => undefined);
        }
        for (const pid of [...this.pluginProcesses(), ...this.pluginProcesses("provider")])
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                /* gone */
            }
        fs.rmSync(this.top, { recursive: true, force: true });
    }
}
