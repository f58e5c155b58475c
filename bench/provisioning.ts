// Section 3: provisioning through the real engine. `pulumi up` of N triples (ServiceId →
// ServiceApiKey + AccessPolicy) against the emulator, versus the same graph of no-op dynamic
// resources: wall time and the dynamic-provider plugin's peak memory.
//
// The resources and the e2e engine support are loaded at run time from dist/ (not imported), so the
// bench keeps compiling while their authors change them, and the section reports itself as not
// measured, with the reason, when one of them is missing.
import * as events from "events";
import * as fs from "fs";
import * as path from "path";
import type * as pulumiTypes from "@pulumi/pulumi";
import { EmulatorProcess, fmt, interleave, median, Peer, REPO_ROOT, Results, spawnEmulator } from "./support";

const SECTION = "provisioning";

export interface ProvisioningOptions {
    quick: boolean;
    /** Triples per stack, one comparison each (default 10 and 100). */
    sizes: number[];
    /** Triples in the run under the emulator's rate limit (0: skip it). Default 50 (20 with --quick). */
    rateLimitTriples?: number;
}

/** The limit of issue 7: 20 requests per second per caller (the emulator's token bucket, burst 20). */
const RATE_LIMIT = Object.freeze({ requestsPerSecond: 20, burst: 20 });

type Pulumi = typeof pulumiTypes;

interface EngineSupport {
    createSandbox(opts?: { env?: Record<string, string> }): Promise<Sandbox>;
}
interface Sandbox {
    dir: string;
    backendUrl?: string;
    abortSignal?: AbortSignal;
    inlineStack(name: string, program: () => Promise<unknown>, opts?: { projectName?: string; config?: Record<string, { value: string; secret?: boolean }> }): Promise<EngineStack>;
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

/**
 * The baseline: dynamic resources whose provider does nothing, in the same graph (a parent with an
 * output two children depend on). Built inside a function: @pulumi/pulumi is loaded only here.
 */
function noopClasses(pulumi: Pulumi): ResourceClasses {
    // Serialized by value into the plugin: it reaches nothing but its arguments.
    const noop: pulumiTypes.dynamic.ResourceProvider = {
        async create(inputs: Record<string, unknown>) {
            return { id: `noop-${String(inputs.name)}`, outs: { ...inputs, serviceId: `ServiceId-noop-${String(inputs.name)}` } };
        },
        async delete() {
            // nothing outside the state
        },
    };
    const make = (type: string) => class extends pulumi.dynamic.Resource {
        declare readonly serviceId: pulumiTypes.Output<string>;
        constructor(name: string, args: Record<string, unknown>, opts?: pulumiTypes.CustomResourceOptions) {
            super(noop, name, { ...args, serviceId: undefined }, opts, "bench-noop", type);
        }
    };
    return { ServiceId: make("ServiceId"), ServiceApiKey: make("ServiceApiKey"), AccessPolicy: make("AccessPolicy") };
}

/** N triples, the same shape for both peers. */
function program(classes: ResourceClasses, n: number, instance: string): () => Promise<void> {
    return async () => {
        for (let i = 0; i < n; i++) {
            const sid = new classes.ServiceId(`app-${i}`, { name: `bench-app-${i}` });
            new classes.ServiceApiKey(`app-${i}-key`, { serviceId: sid.serviceId, name: `bench-app-${i}-key` });
            new classes.AccessPolicy(`app-${i}-reader`, {
                serviceId: sid.serviceId, roles: ["Reader"], resource: { serviceName: "hs-crypto", serviceInstance: instance },
            });
        }
    };
}

/** Bytes of the stack checkpoints in the sandbox's file:// backend (the engine rewrites one after every step). */
function checkpointBytes(sandbox: Sandbox, stackName: string): number {
    const url = sandbox.backendUrl;
    if (!url?.startsWith("file://")) return NaN;
    let total = 0;
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) { if (e.name !== "history" && e.name !== "backups") walk(p); }
            else if (e.name === `${stackName}.json`) total += fs.statSync(p).size;
        }
    };
    walk(url.slice("file://".length));
    return total;
}

/**
 * CPU seconds (user + system) of this process and of its children that have been waited for
 * (/proc/self/stat utime, stime, cutime, cstime): the pulumi CLI of an engine operation is such a
 * child once the operation returns, and it waits for the plugins and the language host it started.
 */
function cpuSeconds(): { self: number; children: number } {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    const tick = 100; // USER_HZ on Linux
    return { self: (f[11] + f[12]) / tick, children: (f[13] + f[14]) / tick };
}

/** Highest VmHWM (peak resident set, kB) seen for the dynamic-provider plugin processes, sampled every 100 ms. */
function watchPluginMemory(sandbox: Sandbox): { stop(): number } {
    const peaks = new Map<number, number>();
    const sample = () => {
        for (const pid of sandbox.liveProcesses()) {
            try {
                if (!fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("dynamic-provider")) continue;
                const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
                if (m) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, Number(m[1])));
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
    };
}

export async function benchProvisioning(results: Results, opts: ProvisioningOptions): Promise<void> {
    const pre = loadPrerequisites();
    if ("missing" in pre) {
        results.skip(SECTION, pre.missing);
        return;
    }
    const classes: Record<Peer, ResourceClasses> = { ours: pre.resources, ibm: noopClasses(pre.pulumi) };
    const emu = await spawnEmulator();
    // BENCH_PLUGIN_CPU_PROF=<dir>: the dynamic-provider plugin writes a CPU profile there (see pluginProfiler.ts).
    const profDir = process.env.BENCH_PLUGIN_CPU_PROF;
    const sandbox = await pre.engine.createSandbox(profDir ? {
        env: { NODE_OPTIONS: `--require ${path.join(__dirname, "pluginProfiler.js")}`, BENCH_PLUGIN_CPU_PROF: path.resolve(profDir) },
    } : {});
    // Every engine operation listens on the sandbox's abort signal; a bench runs more than Node's default 10.
    if (sandbox.abortSignal) events.setMaxListeners(1000, sandbox.abortSignal);
    try {
        for (const n of opts.sizes) await compareAt(results, sandbox, emu, classes, n, opts);
        const limited = opts.rateLimitTriples ?? (opts.quick ? 20 : 50);
        if (limited > 0) {
            await underRateLimit(results, sandbox, emu, pre.resources, limited, "file backend");
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
        await sandbox.cleanup();
        await emu.stop();
    }
}

async function compareAt(results: Results, sandbox: Sandbox, emu: EmulatorProcess, classes: Record<Peer, ResourceClasses>, n: number, opts: ProvisioningOptions): Promise<void> {
    const rounds = opts.quick || n >= 500 ? 1 : n >= 100 ? 2 : 3;
    const config = {
        "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
        "ibmcloud:iamEndpoint": { value: emu.url },
        "ibmcloud:kmsEndpoint": { value: emu.url },
    };
    const memory: Record<Peer, number[]> = { ours: [], ibm: [] };
    // Every check/create response of the plugin carries the serialized provider (`__provider`), and the
    // plugin's protobuf encoder writes strings a character at a time: its size is part of the cost.
    const closureChars: Record<Peer, Map<string, number>> = { ours: new Map(), ibm: new Map() };
    const checkpointMiB: Record<Peer, number[]> = { ours: [], ibm: [] };
    const destroyMs: Record<Peer, number[]> = { ours: [], ibm: [] };
    const cpu: Record<Peer, number[]> = { ours: [], ibm: [] };
    const cpuProgram: Record<Peer, number[]> = { ours: [], ibm: [] };
    process.stderr.write(`bench:   ${n} triples, ${rounds} round(s)…\n`);
    const upMs = await interleave(rounds, async (p, r) => {
        const stack = await sandbox.inlineStack(`${p}-${n}-${r}`, program(classes[p], n, emu.instances[0].guid), { projectName: `bench-${p}`, config });
        try {
            const watch = watchPluginMemory(sandbox);
            const cpu0 = cpuSeconds();
            const t0 = Date.now();
            const up = await stack.up();
            const ms = Date.now() - t0;
            const cpu1 = cpuSeconds();
            cpu[p].push(cpu1.children - cpu0.children + cpu1.self - cpu0.self);
            cpuProgram[p].push(cpu1.self - cpu0.self);
            memory[p].push(watch.stop() / 1024);
            const created = up.result.summary.resourceChanges?.create ?? 0;
            if (up.result.summary.result !== "succeeded" || created !== 3 * n + 1) {
                throw new Error(`up of ${n} ${p} triples: ${up.result.summary.result}, ${created} created (expected ${3 * n + 1})`);
            }
            checkpointMiB[p].push(checkpointBytes(sandbox, `${p}-${n}-${r}`) / 1048576);
            if (r <= 0 && closureChars[p].size === 0) {
                for (const res of (await stack.exportState()).deployment?.resources ?? []) {
                    const provider = res.inputs?.__provider;
                    if (typeof provider === "string") closureChars[p].set(res.type.split(":").pop()!, provider.length);
                }
            }
            const t1 = Date.now();
            await stack.destroy();
            destroyMs[p].push(Date.now() - t1);
            return ms;
        } finally {
            await stack.remove();
        }
    });
    const peer = "no-op dynamic resources";
    results.compare({
        section: SECTION, metric: `up of ${n} triples (vs no-op dynamic resources)`, unit: "s", better: "lower", peer,
        ours: upMs.ours.map((ms) => ms / 1000), ibm: upMs.ibm.map((ms) => ms / 1000), target: { on: "ratio", op: "<=", value: 1.5 },
        note: `${3 * n} resources per stack, ${rounds} round(s); IAM objects created on the emulator in its own process`,
    });
    results.compare({
        section: SECTION, metric: `CPU of engine, plugin and program during up of ${n} triples (vs no-op)`, unit: "s CPU", better: "lower", peer,
        ours: cpu.ours, ibm: cpu.ibm,
        note: "user + system time of the pulumi CLI and the processes it ran and waited for (plugin, language host), plus the inline program in this process " +
            `(median ${fmt(median(cpuProgram.ours))} vs ${fmt(median(cpuProgram.ibm))} s of it); less sensitive to a busy machine than wall time`,
    });
    const sizes = (m: Map<string, number>) => [...m].map(([t, c]) => `${t} ${fmt(c / 1024)} KiB`).join(", ");
    results.compare({
        section: SECTION, metric: `serialized provider per resource, ${n} triples (vs no-op)`, unit: "KiB", better: "lower", peer,
        ours: [median([...closureChars.ours.values()]) / 1024], ibm: [median([...closureChars.ibm.values()]) / 1024],
        note: `__provider text in state, sent in the plugin's check/create responses — ours: ${sizes(closureChars.ours)}; no-op: ${sizes(closureChars.ibm)}`,
    });
    results.compare({
        section: SECTION, metric: `checkpoint after up, ${n} triples (vs no-op)`, unit: "MiB", better: "lower", peer,
        ours: checkpointMiB.ours, ibm: checkpointMiB.ibm,
        note: "the file backend rewrites the whole checkpoint after every step, so its size times the step count is written during an up",
    });
    results.compare({
        section: SECTION, metric: `destroy of ${n} triples (vs no-op)`, unit: "s", better: "lower", peer,
        ours: destroyMs.ours.map((ms) => ms / 1000), ibm: destroyMs.ibm.map((ms) => ms / 1000),
    });
    results.compare({
        section: SECTION, metric: `plugin peak RSS, ${n} triples (vs no-op)`, unit: "MiB", better: "lower", peer,
        ours: memory.ours, ibm: memory.ibm,
        note: `VmHWM of the dynamic-provider plugin process, sampled every 100 ms (median ${fmt(median(memory.ours))} vs ${fmt(median(memory.ibm))} MiB)`,
    });
}

// ---------- under the emulator's rate limit ----------

interface StatsSample { t: number; requests: number; rateLimited: number }

async function emulatorStats(url: string): Promise<{ requests: number; rateLimited: number }> {
    const res = await fetch(`${url}/__emulator/stats`);
    if (!res.ok) throw new Error(`GET /__emulator/stats: ${res.status} (the emulator has no fault injection and rate limit: issue 6)`);
    return (await res.json()) as { requests: number; rateLimited: number };
}

async function admin(url: string, method: string, route: string, body?: unknown): Promise<void> {
    const res = await fetch(`${url}${route}`, {
        method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
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
        for (const [what, m] of [["up", up], ["destroy", down]] as const) {
            results.compare({
                section: SECTION, metric: `${what} of ${n} triples under ${RATE_LIMIT.requestsPerSecond} requests/s (${engine}): share of the limit used`,
                unit: "fraction", better: "higher", peer: "what the limit allows",
                ours: [m.served / allowed(m)], ibm: [1], target: { on: "ours", op: ">=", value: 0.85 },
                note: `${m.served} requests served in ${fmt(m.windowS)} s (first to last request; the bucket allows ${RATE_LIMIT.burst} + ${RATE_LIMIT.requestsPerSecond}/s), ` +
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
