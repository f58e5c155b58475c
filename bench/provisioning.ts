// Section 3: provisioning through the real engine, as users get it. `pulumi up` and `destroy` of N
// triples (ServiceId → ServiceApiKey + AccessPolicy) in a consumer project that installed the packed
// package (bench/consumer.ts), against the emulator in its own process, versus the same graph of no-op
// dynamic resources: wall time, CPU, state size and the dynamic-provider plugin's peak memory. The same
// triples through the provider plugin (pulumi-resource-ibmcloud-iam) against the same floor, and the plugin's
// start time. Then the
// runs under the emulator's rate limit (inline programs in the repository's e2e sandbox).
//
// The resources and the e2e engine support are loaded at run time from dist/ (not imported), so the
// bench keeps compiling while their authors change them, and the section reports itself as not
// measured, with the reason, when one of them is missing.
import * as events from "events";
import * as fs from "fs";
import * as path from "path";
import type * as pulumiTypes from "@pulumi/pulumi";
import { ConsumerWorkspace, OutputShapes, Project } from "./consumer";
import { EmulatorProcess, fmt, interleave, median, Peer, processCpuMs, REPO_ROOT, Results, spawnEmulator } from "./support";

const SECTION = "provisioning";

export interface ProvisioningOptions {
    quick: boolean;
    /** Triples per stack, one comparison each (default 10 and 100). */
    sizes: number[];
    /** Triples in the run under the emulator's rate limit (0: skip it). Default 50 (20 with --quick). */
    rateLimitTriples?: number;
    /** Rounds per size (default 3 below 100 triples, 2 below 500, else 1; 1 with --quick). */
    rounds?: number;
}

/** The limit the provisioning target is measured under: 20 requests per second per caller (the emulator's token bucket, burst 20). */
const RATE_LIMIT = Object.freeze({ requestsPerSecond: 20, burst: 20 });

type Pulumi = typeof pulumiTypes;

interface EngineSupport {
    createSandbox(opts?: { env?: Record<string, string> }): Promise<Sandbox>;
    findPulumiBinaries?(): { pulumi: string } | undefined;
}
interface Sandbox {
    dir: string;
    backendUrl?: string;
    abortSignal?: AbortSignal;
    inlineStack(
        name: string,
        program: () => Promise<unknown>,
        opts?: { projectName?: string; config?: Record<string, { value: string; secret?: boolean }> },
    ): Promise<EngineStack>;
    liveProcesses(): number[];
    cleanup(): Promise<void>;
}
interface EngineStack {
    up(opts?: Record<string, unknown>): Promise<{ result: { summary: { result?: string; resourceChanges?: Record<string, number> } }; output: string }>;
    destroy(opts?: Record<string, unknown>): Promise<unknown>;
    remove(): Promise<void>;
    exportState(): Promise<{ deployment?: { resources?: Array<{ type: string; inputs?: Record<string, unknown> }> } }>;
}
// Loose on purpose: the resources' Args are their authors' to change.
/* eslint-disable @typescript-eslint/no-explicit-any */
type ResourceClass = new (name: string, args: any, opts?: any) => { serviceId?: any };
interface ResourceClasses {
    ServiceId: ResourceClass;
    ServiceApiKey: ResourceClass;
    AccessPolicy: ResourceClass;
}

/** Why the section cannot run yet, or what it needs. */
function loadPrerequisites(): { engine: EngineSupport; resources: ResourceClasses; pulumi: Pulumi } | { missing: string } {
    const engineJs = path.join(REPO_ROOT, "build", "test", "e2e", "support", "engine.js");
    if (!fs.existsSync(engineJs)) return { missing: "the real-engine support (test/e2e/support/engine.ts) is not built" };
    const engine = require(engineJs) as Partial<EngineSupport>;
    if (typeof engine.createSandbox !== "function") return { missing: "test/e2e/support/engine.ts has no createSandbox()" };
    const provider = require(path.join(REPO_ROOT, "dist", "provider", "index.js")) as Partial<ResourceClasses>;
    const absent = (["ServiceId", "ServiceApiKey", "AccessPolicy"] as const).filter((k) => typeof provider[k] !== "function");
    if (absent.length) return { missing: `provider/ does not export ${absent.join(", ")} yet` };
    return { engine: engine as EngineSupport, resources: provider as ResourceClasses, pulumi: require("@pulumi/pulumi") as Pulumi };
}

/** N triples, the same shape as the consumer projects' programs (bench/consumer.ts); for the rate-limit runs. */
function program(classes: ResourceClasses, n: number, instance: string): () => Promise<void> {
    return async () => {
        for (let i = 0; i < n; i++) {
            const sid = new classes.ServiceId(`app-${i}`, { name: `bench-app-${i}` });
            new classes.ServiceApiKey(`app-${i}-key`, { serviceId: sid.serviceId, name: `bench-app-${i}-key` });
            new classes.AccessPolicy(`app-${i}-reader`, {
                serviceId: sid.serviceId,
                roles: ["Reader"],
                resource: { serviceName: "hs-crypto", serviceInstance: instance },
            });
        }
    };
}

/**
 * CPU seconds (user + system) of this process and of its children that have been waited for
 * (/proc/self/stat utime, stime, cutime, cstime): the pulumi CLI of an engine operation is such a
 * child once the operation returns, and it waits for the plugins and the language host it started.
 */
function cpuSeconds(): { self: number; children: number } {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    const f = stat
        .slice(stat.lastIndexOf(")") + 2)
        .split(" ")
        .map(Number);
    const tick = 100; // USER_HZ on Linux
    return { self: (f[11] + f[12]) / tick, children: (f[13] + f[14]) / tick };
}

/** The environment that preloads bench/pluginProfiler.ts into the engine's children, when a profile is asked for. */
function pluginProfilerEnv(): Record<string, string> {
    const cpu = process.env.BENCH_PLUGIN_CPU_PROF;
    const heap = process.env.BENCH_PLUGIN_HEAP;
    if (!cpu && !heap) return {};
    const env: Record<string, string> = { NODE_OPTIONS: `--require ${path.join(__dirname, "pluginProfiler.js")}${heap ? " --expose-gc" : ""}` };
    for (const [key, dir] of [
        ["BENCH_PLUGIN_CPU_PROF", cpu],
        ["BENCH_PLUGIN_HEAP", heap],
    ] as const) {
        if (dir) {
            fs.mkdirSync(dir, { recursive: true });
            env[key] = path.resolve(dir);
        }
    }
    if (process.env.BENCH_PLUGIN_HEAP_SNAPSHOT) env.BENCH_PLUGIN_HEAP_SNAPSHOT = "1";
    if (process.env.BENCH_PLUGIN_ALLOC) env.BENCH_PLUGIN_ALLOC = "1";
    return env;
}

/**
 * Highest VmHWM (peak resident set, kB) seen for the plugin processes, sampled every 100 ms; `cpuSeconds()`, after
 * `stop()`, is their CPU (user + system) as last seen, so up to 100 ms of each process's last moments are missed.
 */
function watchPluginMemory(pids: () => number[]): { stop(): number; cpuSeconds(): number } {
    const peaks = new Map<number, number>();
    const cpuMs = new Map<number, number>();
    const sample = () => {
        for (const pid of pids()) {
            try {
                const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
                if (m) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, Number(m[1])));
                const cpu = processCpuMs(pid);
                if (cpu !== undefined) cpuMs.set(pid, cpu);
            } catch {
                // gone between the listing and the read
            }
        }
    };
    const timer = setInterval(sample, 100);
    return {
        stop: () => {
            clearInterval(timer);
            return Math.max(0, ...peaks.values());
        },
        cpuSeconds: () => [...cpuMs.values()].reduce((a, b) => a + b, 0) / 1000,
    };
}

/** The pulumi CLI: what scripts/ensure-pulumi.sh put in .tools/bin, else the e2e support's search. */
function pulumiBinary(engine: EngineSupport): string | undefined {
    const tools = path.join(REPO_ROOT, ".tools", "bin", "pulumi");
    if (fs.existsSync(tools)) return tools;
    return engine.findPulumiBinaries?.()?.pulumi;
}

export async function benchProvisioning(results: Results, opts: ProvisioningOptions): Promise<void> {
    const pre = loadPrerequisites();
    if ("missing" in pre) {
        results.skip(SECTION, pre.missing);
        return;
    }
    const pulumiBin = pulumiBinary(pre.engine);
    if (!pulumiBin) {
        results.skip(SECTION, "no pulumi CLI (run `npm run pulumi:ensure`)");
        return;
    }
    const emu = await spawnEmulator();
    try {
        // BENCH_PLUGIN_CPU_PROF=<dir> / BENCH_PLUGIN_HEAP=<dir>: the dynamic-provider plugins write CPU profiles or
        // their memory accounting there (see pluginProfiler.ts).
        const profEnv = pluginProfilerEnv();
        process.stderr.write("bench:   packing the package and installing it into a consumer project…\n");
        const ws = await ConsumerWorkspace.create({
            pulumiBin,
            emulator: { url: emu.url, apiKey: emu.apiKey, instance: emu.instances[0].guid },
            env: profEnv,
        });
        try {
            const shapes = await ws.calibrate();
            await pluginStart(results, ws, opts.quick ? 3 : 10);
            for (const n of opts.sizes) await compareAt(results, ws, emu, shapes, n, opts);
        } finally {
            await ws.cleanup();
        }
        const limited = opts.rateLimitTriples ?? (opts.quick ? 20 : 50);
        if (limited > 0) {
            const sandbox = await pre.engine.createSandbox({});
            // Every engine operation listens on the sandbox's abort signal; a bench runs more than Node's default 10.
            if (sandbox.abortSignal) events.setMaxListeners(1000, sandbox.abortSignal);
            try {
                await underRateLimit(results, sandbox, emu, pre.resources, limited, "file backend");
            } finally {
                await sandbox.cleanup();
            }
            // The file backend rewrites the checkpoint after every step and is the engine's own floor
            // (the no-op rows above): without it the deployment asks faster than the limit allows.
            const fast = await pre.engine.createSandbox({ env: { PULUMI_SKIP_CHECKPOINTS: "true" } });
            if (fast.abortSignal) events.setMaxListeners(1000, fast.abortSignal);
            try {
                await underRateLimit(results, fast, emu, pre.resources, limited, "PULUMI_SKIP_CHECKPOINTS=true");
            } finally {
                await fast.cleanup();
            }
        }
    } finally {
        await emu.stop();
    }
}

const PROJECT: Record<Peer, Project> = { ours: "ours", ibm: "noop" };

async function compareAt(
    results: Results,
    ws: ConsumerWorkspace,
    emu: EmulatorProcess,
    shapes: OutputShapes,
    n: number,
    opts: ProvisioningOptions,
): Promise<void> {
    const rounds = opts.rounds ?? (opts.quick || n >= 500 ? 1 : n >= 100 ? 2 : 3);
    const memory: Record<Peer, number[]> = { ours: [], ibm: [] };
    // Every check/create response of the plugin carries the serialized provider (`__provider`), and the
    // checkpoint stores it twice per resource (inputs and outputs): its size is part of the cost.
    const closureChars: Record<Peer, Map<string, number>> = { ours: new Map(), ibm: new Map() };
    const checkpointMiB: Record<Peer, number[]> = { ours: [], ibm: [] };
    const destroyMs: Record<Peer, number[]> = { ours: [], ibm: [] };
    const cpu: Record<Peer, number[]> = { ours: [], ibm: [] };
    const cpuDestroy: Record<Peer, number[]> = { ours: [], ibm: [] };
    const pluginCpuDestroy: Record<Peer, number[]> = { ours: [], ibm: [] };
    // The emulator's CPU (its own process): the part of ours the floor does not have.
    const emuCpu: Record<"up" | "destroy", number[]> = { up: [], destroy: [] };
    process.stderr.write(`bench:   ${n} triples, ${rounds} round(s)…\n`);
    // The provider plugin's project runs right after ours in every round (same machine state), and is compared
    // with the same no-op floor.
    const plugin = {
        up: [] as number[],
        destroy: [] as number[],
        cpu: [] as number[],
        cpuDestroy: [] as number[],
        /** CPU of the plugin process alone during destroy, and the emulator's. */
        pluginCpuDestroy: [] as number[],
        emuCpuDestroy: [] as number[],
        rss: [] as number[],
        checkpoint: [] as number[],
    };
    const viaPlugin = async (r: number) => {
        const stack = `plugin-${n}-${r}`;
        await ws.initStack("plugin", stack);
        try {
            const watch = watchPluginMemory(() => ws.pluginProcesses("provider"));
            const cpu0 = cpuSeconds();
            const up = await ws.up("plugin", stack, n);
            plugin.cpu.push(cpuSeconds().children - cpu0.children);
            plugin.rss.push(watch.stop() / 1024);
            // The stack, the triples and the default provider of ibmcloud-iam.
            if (up.created < 3 * n + 1) throw new Error(`up of ${n} triples through the plugin: ${up.created} created (expected ${3 * n + 1} or more)`);
            plugin.up.push(up.ms / 1000);
            plugin.checkpoint.push(ws.checkpointBytes("plugin", stack) / 1048576);
            const cpu2 = cpuSeconds();
            const emu2 = processCpuMs(emu.pid) ?? NaN;
            const destroyWatch = watchPluginMemory(() => ws.pluginProcesses("provider"));
            plugin.destroy.push((await ws.destroy("plugin", stack, n)) / 1000);
            destroyWatch.stop();
            plugin.cpuDestroy.push(cpuSeconds().children - cpu2.children);
            plugin.pluginCpuDestroy.push(destroyWatch.cpuSeconds());
            plugin.emuCpuDestroy.push(((processCpuMs(emu.pid) ?? NaN) - emu2) / 1000);
        } finally {
            await ws.removeStack("plugin", stack);
        }
    };
    const upMs = await interleave(rounds, async (peer, r) => {
        const p = PROJECT[peer];
        const stack = `${p}-${n}-${r}`;
        await ws.initStack(p, stack);
        try {
            const watch = watchPluginMemory(() => ws.pluginProcesses());
            const cpu0 = cpuSeconds();
            const emu0 = processCpuMs(emu.pid) ?? NaN;
            const up = await ws.up(p, stack, n);
            const cpu1 = cpuSeconds();
            if (peer === "ours") emuCpu.up.push(((processCpuMs(emu.pid) ?? NaN) - emu0) / 1000);
            cpu[peer].push(cpu1.children - cpu0.children);
            memory[peer].push(watch.stop() / 1024);
            if (up.created !== 3 * n + 1) throw new Error(`up of ${n} ${p} triples: ${up.created} created (expected ${3 * n + 1})`);
            checkpointMiB[peer].push(ws.checkpointBytes(p, stack) / 1048576);
            if (closureChars[peer].size === 0) {
                for (const res of (await ws.exportState(p, stack)).deployment?.resources ?? []) {
                    const provider = res.inputs?.__provider;
                    if (typeof provider === "string") closureChars[peer].set(res.type.split(":").pop()!, provider.length);
                }
            }
            const cpu2 = cpuSeconds();
            const emu2 = processCpuMs(emu.pid) ?? NaN;
            const destroyWatch = watchPluginMemory(() => ws.pluginProcesses());
            destroyMs[peer].push(await ws.destroy(p, stack, n));
            destroyWatch.stop();
            pluginCpuDestroy[peer].push(destroyWatch.cpuSeconds());
            cpuDestroy[peer].push(cpuSeconds().children - cpu2.children);
            if (peer === "ours") emuCpu.destroy.push(((processCpuMs(emu.pid) ?? NaN) - emu2) / 1000);
            return up.ms;
        } finally {
            await ws.removeStack(p, stack);
            if (peer === "ours") await viaPlugin(r);
        }
    });
    const peer = "no-op dynamic resources";
    const where =
        `a consumer project outside the repository with the packed package installed, pulumi CLI on Node ${ws.node.version.slice(1)}, @pulumi/pulumi ${ws.sdkVersion}; ` +
        `the floor: the same graph of no-op resources (create and delete only) with our outputs' shapes, its provider one require of a module under node_modules`;
    results.compare({
        section: SECTION,
        metric: `up of ${n} triples (vs no-op dynamic resources)`,
        unit: "s",
        better: "lower",
        peer,
        ours: upMs.ours.map((ms) => ms / 1000),
        ibm: upMs.ibm.map((ms) => ms / 1000),
        target: { on: "ratio", op: "<=", value: 1.15 },
        note: `${3 * n} resources per stack, ${rounds} round(s); ${where}; IAM objects created on the emulator in its own process`,
    });
    results.compare({
        section: SECTION,
        metric: `destroy of ${n} triples (vs no-op)`,
        unit: "s",
        better: "lower",
        peer,
        ours: destroyMs.ours.map((ms) => ms / 1000),
        ibm: destroyMs.ibm.map((ms) => ms / 1000),
        target: { on: "ratio", op: "<=", value: 1.15 },
    });
    results.compare({
        section: SECTION,
        metric: `CPU of engine, plugin and program during up of ${n} triples (vs no-op)`,
        unit: "s CPU",
        better: "lower",
        peer,
        ours: cpu.ours,
        ibm: cpu.ibm,
        note:
            "user + system time of the pulumi CLI and the processes it ran and waited for (plugin, language host, program); less sensitive to a busy machine than wall time; " +
            `the emulator (not counted) spent ${fmt(median(emuCpu.up))} s CPU on ours`,
    });
    results.compare({
        section: SECTION,
        metric: `CPU of engine and plugin during destroy of ${n} triples (vs no-op)`,
        unit: "s CPU",
        better: "lower",
        peer,
        ours: cpuDestroy.ours,
        ibm: cpuDestroy.ibm,
        note: `as above, for destroy; the emulator (not counted) spent ${fmt(median(emuCpu.destroy))} s CPU on ours`,
    });
    const sizes = (m: Map<string, number>) => [...m].map(([t, c]) => `${t} ${c} B`).join(", ");
    results.compare({
        section: SECTION,
        metric: `serialized provider per resource, ${n} triples`,
        unit: "KiB",
        better: "lower",
        peer,
        ours: [Math.max(...closureChars.ours.values()) / 1024],
        ibm: [Math.max(...closureChars.ibm.values()) / 1024],
        target: { on: "ours", op: "<=", value: 0.5 },
        note: `__provider text in state (largest type), stored in inputs and outputs — ours: ${sizes(closureChars.ours)}; no-op: ${sizes(closureChars.ibm)}`,
    });
    results.compare({
        section: SECTION,
        metric: `checkpoint after up, ${n} triples (vs no-op)`,
        unit: "MiB",
        better: "lower",
        peer,
        ours: checkpointMiB.ours,
        ibm: checkpointMiB.ibm,
        note: `the file backend rewrites the whole checkpoint after every step; the no-op outputs copy ours (${Object.entries(shapes.secrets)
            .map(([t, k]) => `${t}: ${Object.keys(shapes.outputs[t]).length - 1} outputs, secret ${k.join(", ") || "none"}`)
            .join("; ")})`,
    });
    results.compare({
        section: SECTION,
        metric: `plugin peak RSS, ${n} triples (vs no-op)`,
        unit: "MiB",
        better: "lower",
        peer,
        ours: memory.ours,
        ibm: memory.ibm,
        target: { on: "ratio", op: "<=", value: 1.15 },
        note: "VmHWM of the dynamic-provider plugin process, sampled every 100 ms",
    });

    // The provider plugin (pulumi-resource-ibmcloud-iam) against the same floor: no serialized provider in state,
    // one long-lived process per provider, so the target is the floor itself.
    const pluginPeer = "no-op dynamic resources";
    results.compare({
        section: SECTION,
        metric: `up of ${n} triples through the provider plugin (vs no-op dynamic resources)`,
        unit: "s",
        better: "lower",
        peer: pluginPeer,
        ours: plugin.up,
        ibm: upMs.ibm.map((ms) => ms / 1000),
        target: { on: "ratio", op: "<=", value: 1.0 },
        note: `the same ${3 * n} resources as custom resources of the plugin's types, from a Node program in the same consumer project (Pulumi.yaml plugins: path to the installed package's launcher); run right after ours in each round`,
    });
    results.compare({
        section: SECTION,
        metric: `destroy of ${n} triples through the provider plugin (vs no-op)`,
        unit: "s",
        better: "lower",
        peer: pluginPeer,
        ours: plugin.destroy,
        ibm: destroyMs.ibm.map((ms) => ms / 1000),
        target: { on: "ratio", op: "<=", value: 1.0 },
    });
    // Where the plugin's destroy time goes, beside the floor's: the whole CPU, the plugin process's own share
    // (its start included), and the emulator's, which the floor never calls.
    results.compare({
        section: SECTION,
        metric: `CPU of engine and plugin during destroy of ${n} triples through the provider plugin (vs no-op)`,
        unit: "s CPU",
        better: "lower",
        peer: pluginPeer,
        ours: plugin.cpuDestroy,
        ibm: cpuDestroy.ibm,
        note: `user + system time of the pulumi CLI and the plugin; the emulator (not counted) spent ${fmt(median(plugin.emuCpuDestroy))} s CPU answering the plugin's deletes`,
    });
    results.compare({
        section: SECTION,
        metric: `plugin process CPU during destroy of ${n} triples through the provider plugin (vs the no-op dynamic-provider plugin)`,
        unit: "s CPU",
        better: "lower",
        peer: pluginPeer,
        ours: plugin.pluginCpuDestroy,
        ibm: pluginCpuDestroy.ibm,
        note: "user + system time of the plugin process alone (its start included), as last sampled (every 100 ms) before it exited",
    });
    results.compare({
        section: SECTION,
        metric: `CPU of engine, plugin and program during up of ${n} triples through the provider plugin (vs no-op)`,
        unit: "s CPU",
        better: "lower",
        peer: pluginPeer,
        ours: plugin.cpu,
        ibm: cpu.ibm,
    });
    results.compare({
        section: SECTION,
        metric: `checkpoint after up of ${n} triples through the provider plugin (vs no-op)`,
        unit: "MiB",
        better: "lower",
        peer: pluginPeer,
        ours: plugin.checkpoint,
        ibm: checkpointMiB.ibm,
    });
    results.compare({
        section: SECTION,
        metric: `provider plugin peak RSS, ${n} triples (vs the no-op dynamic-provider plugin)`,
        unit: "MiB",
        better: "lower",
        peer: pluginPeer,
        ours: plugin.rss,
        ibm: memory.ibm,
        note: "VmHWM of the pulumi-resource-ibmcloud-iam process (node on dist/plugin/main.js), sampled every 100 ms",
    });
}

/** Start of the provider plugin: its launcher to its port on stdout, against a bare Node process printing a line. */
async function pluginStart(results: Results, ws: ConsumerWorkspace, rounds: number): Promise<void> {
    const plugin: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < rounds; i++) {
        plugin.push(await ws.startupMs());
        bare.push(await ws.startupMs([path.join(ws.node.dir, "node"), "-e", "console.log(1)"]));
    }
    results.compare({
        section: SECTION,
        metric: "provider plugin start: launcher to serving (vs a bare node printing a line)",
        unit: "ms",
        better: "lower",
        peer: "node -e console.log(1)",
        ours: plugin,
        ibm: bare,
        note: `${rounds} starts each, alternated; the engine starts one plugin process per provider (default or explicit) per operation`,
    });
}

// ---------- under the emulator's rate limit ----------

interface StatsSample {
    t: number;
    requests: number;
    rateLimited: number;
}

async function emulatorStats(url: string): Promise<{ requests: number; rateLimited: number }> {
    const res = await fetch(`${url}/__emulator/stats`);
    if (!res.ok) throw new Error(`GET /__emulator/stats: ${res.status} (this emulator has no fault injection and rate limit)`);
    return (await res.json()) as { requests: number; rateLimited: number };
}

async function admin(url: string, method: string, route: string, body?: unknown): Promise<void> {
    const res = await fetch(`${url}${route}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
}

/**
 * Samples the emulator's request counters every 50 ms while `op` runs, and returns when requests
 * first and last arrived: the window the deployment was actually sending in (engine and plugin
 * start-up excluded), and what was served in it.
 */
async function duringRequests(url: string, op: () => Promise<void>): Promise<{ windowS: number; served: number; rateLimited: number }> {
    await admin(url, "POST", "/__emulator/stats/reset");
    const samples: StatsSample[] = [];
    let sampling = true;
    const sampler = (async () => {
        while (sampling) {
            const s = await emulatorStats(url);
            samples.push({ t: Date.now(), requests: s.requests, rateLimited: s.rateLimited });
            await new Promise((r) => setTimeout(r, 50));
        }
    })();
    try {
        await op();
    } finally {
        sampling = false;
        await sampler;
    }
    const end = await emulatorStats(url);
    const first = samples.find((x) => x.requests > 0);
    const last = samples.find((x) => x.requests === end.requests);
    if (!first || !last) throw new Error("no request reached the emulator while sampling");
    // A request is known to have arrived at most 50 ms before the sample that first shows it.
    const windowS = Math.max(0.05, (last.t - first.t) / 1000 + 0.05);
    return { windowS, served: end.requests - end.rateLimited, rateLimited: end.rateLimited };
}

/**
 * `up` and `destroy` of n triples while the emulator allows 20 requests/s: the rate the deployment
 * achieves as a fraction of what the limit allows in the same window (burst + rate × time), with no
 * failure (every resource created, each exactly once, and all gone after destroy).
 */
async function underRateLimit(results: Results, sandbox: Sandbox, emu: EmulatorProcess, classes: ResourceClasses, n: number, engine: string): Promise<void> {
    process.stderr.write(`bench:   ${n} triples under a rate limit of ${RATE_LIMIT.requestsPerSecond} requests/s (${engine})…\n`);
    const config = {
        "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
        "ibmcloud:iamEndpoint": { value: emu.url },
        "ibmcloud:kmsEndpoint": { value: emu.url },
    };
    const liveServiceIds = async () => ((await (await fetch(`${emu.url}/__emulator/state`)).json()) as { counts: { serviceIds: number } }).counts.serviceIds;
    const before = await liveServiceIds();
    const stack = await sandbox.inlineStack(`limited-${n}`, program(classes, n, emu.instances[0].guid), { projectName: "bench-limited", config });
    await admin(emu.url, "PUT", "/__emulator/rate-limit", RATE_LIMIT);
    let destroyed = false;
    try {
        let created = 0;
        const up = await duringRequests(emu.url, async () => {
            const r = await stack.up();
            created = r.result.summary.resourceChanges?.create ?? 0;
            if (r.result.summary.result !== "succeeded" || created !== 3 * n + 1) {
                throw new Error(`up of ${n} triples under the rate limit: ${r.result.summary.result}, ${created} created (expected ${3 * n + 1})`);
            }
        });
        const made = (await liveServiceIds()) - before;
        if (made !== n) throw new Error(`up under the rate limit left ${made} service IDs for ${n} resources (duplicates or missing)`);
        const down = await duringRequests(emu.url, async () => void (await stack.destroy()));
        destroyed = true;
        const left = (await liveServiceIds()) - before;
        if (left !== 0) throw new Error(`destroy under the rate limit left ${left} service IDs`);
        const allowed = (w: { windowS: number }) => RATE_LIMIT.burst + RATE_LIMIT.requestsPerSecond * w.windowS;
        for (const [what, m] of [
            ["up", up],
            ["destroy", down],
        ] as const) {
            results.compare({
                section: SECTION,
                metric: `${what} of ${n} triples under ${RATE_LIMIT.requestsPerSecond} requests/s (${engine}): share of the limit used`,
                unit: "fraction",
                better: "higher",
                peer: "what the limit allows",
                ours: [m.served / allowed(m)],
                ibm: [1],
                target: { on: "ours", op: ">=", value: 0.85 },
                note:
                    `${m.served} requests served in ${fmt(m.windowS)} s (first to last request; the bucket allows ${RATE_LIMIT.burst} + ${RATE_LIMIT.requestsPerSecond}/s), ` +
                    `${m.rateLimited} answered 429 and retried after Retry-After` +
                    `${m.rateLimited === 0 ? " (the limit was never reached: the deployment asked more slowly than it allows)" : ""}; ` +
                    `no failure: every resource ${what === "up" ? "created exactly once" : "deleted"}`,
            });
        }
    } finally {
        await admin(emu.url, "DELETE", "/__emulator/rate-limit").catch(() => undefined);
        if (!destroyed) await stack.destroy().catch(() => undefined);
        await stack.remove();
    }
}
