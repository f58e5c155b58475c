// Shared machinery of `npm run bench`: the emulator in its own process, a counting proxy, paired
// interleaved trials, medians, the table and the JSON file.
//
// The machine is shared with other work, so no absolute figure means much: every comparison runs
// both peers in the same round (alternating who goes first), and the headline is the median of the
// per-round ratios.
import * as childProcess from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as v8 from "v8";
import * as vm from "vm";
import { AddressInfo } from "net";
import type { EmulatorOptions, KmsInstanceSpec } from "../emulator";
import { REPO_ROOT } from "../scripts/lib/repoRoot";

export { REPO_ROOT };

// ---------- statistics ----------

export function median(xs: ReadonlyArray<number>): number {
    if (xs.length === 0) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function quantile(xs: ReadonlyArray<number>, q: number): number {
    if (xs.length === 0) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

// `node build/bench/run.js` runs without --expose-gc; a collection between trials keeps one peer from
// paying for the other's garbage.
let gcFn: (() => void) | undefined;
export function collectGarbage(): void {
    if (!gcFn) {
        v8.setFlagsFromString("--expose-gc");
        gcFn = vm.runInNewContext("gc") as () => void;
    }
    gcFn();
}

export interface TrialResult {
    /** Operations done in the trial. */
    ops: number;
    /** Wall time, ms. */
    ms: number;
    /** CPU time of this (client) process, ms: the emulator runs elsewhere. */
    cpuMs: number;
}

/** Runs `body` (which returns how many operations it did) and measures wall and CPU time. */
export async function timed(body: () => Promise<number>): Promise<TrialResult> {
    collectGarbage();
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const ops = await body();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    return { ops, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Runs `fn` for each of `count` items with at most `concurrency` in flight. */
export async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
    const out = new Array<T>(count);
    let next = 0;
    const worker = async () => {
        while (next < count) {
            const i = next++;
            out[i] = await fn(i);
        }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return out;
}

export type Peer = "ours" | "ibm";

/**
 * Runs `trial` for both peers, `rounds` times, alternating which peer goes first, and returns the
 * samples of each peer in round order (so sample i of ours pairs with sample i of IBM's). `warmup`
 * rounds run first and are discarded (JIT tiers, connection pools).
 */
export async function interleave<T>(rounds: number, trial: (peer: Peer, round: number) => Promise<T>, warmup = 0): Promise<Record<Peer, T[]>> {
    for (let r = 0; r < warmup; r++) {
        await trial("ours", -1 - r);
        await trial("ibm", -1 - r);
    }
    const out: Record<Peer, T[]> = { ours: [], ibm: [] };
    for (let r = 0; r < rounds; r++) {
        const order: Peer[] = r % 2 === 0 ? ["ours", "ibm"] : ["ibm", "ours"];
        for (const p of order) out[p].push(await trial(p, r));
    }
    return out;
}

// ---------- results ----------

export type Direction = "higher" | "lower";

export interface Row {
    section: string;
    metric: string;
    unit: string;
    /** What we are compared with: IBM's SDK unless said otherwise. */
    peer: string;
    /** Median of our samples and of the peer's. */
    ours: number;
    ibm: number;
    /** Median of the per-round ours/IBM ratios (not the ratio of the medians). */
    ratio: number;
    /** Whether a higher or a lower `ratio` favours us. */
    better: Direction;
    samples: { ours: number[]; ibm: number[] };
    target?: { op: ">=" | "<=" | "=="; value: number; on: "ratio" | "ours" };
    met?: boolean;
    note?: string;
}

export class Results {
    readonly rows: Row[] = [];
    readonly skipped: Array<{ section: string; reason: string }> = [];
    readonly startedAt = new Date();

    /** Adds a comparison from paired samples; returns the row. */
    compare(init: {
        section: string;
        metric: string;
        unit: string;
        better: Direction;
        ours: number[];
        ibm: number[];
        peer?: string;
        target?: Row["target"];
        note?: string;
    }): Row {
        const n = Math.min(init.ours.length, init.ibm.length);
        const ratios: number[] = [];
        for (let i = 0; i < n; i++) ratios.push(init.ours[i] / init.ibm[i]);
        const row: Row = {
            section: init.section,
            metric: init.metric,
            unit: init.unit,
            better: init.better,
            peer: init.peer ?? "IBM SDK",
            ours: median(init.ours),
            ibm: median(init.ibm),
            ratio: median(ratios),
            samples: { ours: init.ours, ibm: init.ibm },
            ...(init.target ? { target: init.target } : {}),
            ...(init.note ? { note: init.note } : {}),
        };
        if (row.target) {
            const v = row.target.on === "ratio" ? row.ratio : row.target.op === "==" ? Math.max(...init.ours) : row.ours;
            row.met = row.target.op === ">=" ? v >= row.target.value : row.target.op === "<=" ? v <= row.target.value : v === row.target.value;
        }
        this.rows.push(row);
        return row;
    }

    skip(section: string, reason: string): void {
        this.skipped.push({ section, reason });
    }

    table(): string {
        const head = ["section", "metric", "ours", "IBM*", "unit", "ours/IBM*", "target", "met"];
        const body = this.rows.map((r) => [
            r.section,
            r.metric,
            fmt(r.ours),
            fmt(r.ibm),
            r.unit,
            fmt(r.ratio) + (r.better === "higher" ? " ↑" : " ↓"),
            r.target ? `${r.target.on === "ratio" ? "ratio" : "ours"} ${r.target.op} ${fmt(r.target.value)}` : "",
            r.met === undefined ? "" : r.met ? "yes" : "NO",
        ]);
        const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
        const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i !== 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
        const out = [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
        out.push(
            "",
            "IBM* = IBM's SDK, or the peer named in the metric; ↑ = a higher ratio is better for us, ↓ = lower is better;",
            "ratio = median of per-round ratios (peers interleaved in the same run), not the ratio of the medians.",
        );
        for (const r of this.rows) if (r.note) out.push(`· ${r.section} / ${r.metric}: ${r.note}`);
        for (const s of this.skipped) out.push(`· not measured — ${s.section}: ${s.reason}`);
        return out.join("\n");
    }

    write(file = path.join(REPO_ROOT, "bench", "results", "latest.json")): string {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const doc = {
            startedAt: this.startedAt.toISOString(),
            finishedAt: new Date().toISOString(),
            environment: environment(),
            rows: this.rows,
            skipped: this.skipped,
        };
        const text = JSON.stringify(doc, null, 2) + "\n";
        fs.writeFileSync(file, text);
        // A copy per run, so a later --quick or --only run does not lose a full run's figures.
        fs.writeFileSync(path.join(path.dirname(file), `run-${doc.startedAt.replace(/[:.]/g, "-")}.json`), text);
        return file;
    }
}

export function fmt(x: number): string {
    if (!Number.isFinite(x)) return String(x);
    const a = Math.abs(x);
    if (a >= 100_000) return x.toExponential(2);
    if (a >= 100) return x.toFixed(0);
    if (a >= 10) return x.toFixed(1);
    if (a >= 1) return x.toFixed(2);
    return x.toFixed(3);
}

function packageVersion(name: string): string | undefined {
    try {
        return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")).version;
    } catch {
        return undefined;
    }
}

function environment(): Record<string, unknown> {
    let commit: string | undefined;
    try {
        commit = childProcess.execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    } catch {
        commit = undefined;
    }
    return {
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        loadavgAtEnd: os.loadavg(),
        commit,
        packages: Object.fromEntries(
            ["undici", "zod", "ibm-cloud-sdk-core", "@ibm-cloud/platform-services", "axios", "@pulumi/pulumi"].map((n) => [n, packageVersion(n)]),
        ),
    };
}

// ---------- the emulator, in its own process ----------

export interface EmulatorProcess {
    url: string;
    accountId: string;
    apiKey: string;
    instances: Required<KmsInstanceSpec>[];
    pid: number;
    stop(): Promise<void>;
}

const children = new Set<childProcess.ChildProcess>();
process.on("exit", () => {
    for (const c of children)
        if (c.exitCode === null && c.pid)
            try {
                process.kill(c.pid, "SIGKILL");
            } catch {
                /* gone */
            }
});

/**
 * Starts the emulator in a child process, so that the client under test and the server do not
 * share an event loop (their CPU costs would add up and hide the client's).
 */
export function spawnEmulator(opts: EmulatorOptions = {}): Promise<EmulatorProcess> {
    const child = childProcess.fork(path.join(__dirname, "emulatorProcess.js"), [JSON.stringify(opts)], {
        execArgv: [],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.add(child);
    return new Promise((resolve, reject) => {
        const onExit = (code: number | null) => reject(new Error(`the emulator process exited (${code}) before it was ready`));
        child.once("exit", onExit);
        child.once("message", (m: { url: string; accountId: string; apiKey: string; instances: Required<KmsInstanceSpec>[] }) => {
            child.off("exit", onExit);
            resolve({
                ...m,
                pid: child.pid!,
                stop: () =>
                    new Promise<void>((done) => {
                        if (child.exitCode !== null) {
                            children.delete(child);
                            return done();
                        }
                        const timer = setTimeout(() => {
                            try {
                                process.kill(child.pid!, "SIGKILL");
                            } catch {
                                /* gone */
                            }
                        }, 3000);
                        child.once("exit", () => {
                            clearTimeout(timer);
                            children.delete(child);
                            done();
                        });
                        child.send("stop");
                    }),
            });
        });
    });
}

// ---------- counting proxy ----------

export interface CountingProxy {
    url: string;
    /** Requests seen since the last reset, by `METHOD /path` (no query). */
    count(key: string): number;
    reset(): void;
    stop(): Promise<void>;
}

/** A loopback reverse proxy that counts requests by method and path before forwarding them. */
export function startCountingProxy(target: string): Promise<CountingProxy> {
    const upstream = new URL(target);
    const agent = new http.Agent({ keepAlive: true });
    const counts = new Map<string, number>();
    const server = http.createServer((req, res) => {
        const key = `${req.method} ${(req.url ?? "/").split("?")[0]}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        const fwd = http.request(
            {
                host: upstream.hostname,
                port: upstream.port,
                method: req.method,
                path: req.url,
                agent,
                headers: { ...req.headers, host: upstream.host },
            },
            (up) => {
                res.writeHead(up.statusCode ?? 502, up.headers);
                up.pipe(res);
            },
        );
        fwd.on("error", () => {
            res.statusCode = 502;
            res.end();
        });
        req.pipe(fwd);
    });
    server.keepAliveTimeout = 5000;
    return new Promise((resolve) => {
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as AddressInfo).port;
            resolve({
                url: `http://127.0.0.1:${port}`,
                count: (key) => counts.get(key) ?? 0,
                reset: () => counts.clear(),
                stop: () =>
                    new Promise<void>((done) => {
                        server.close(() => done());
                        server.closeAllConnections();
                        agent.destroy();
                    }),
            });
        });
    });
}

/** Reads the emulator's own token counter (admin API), when it has one. */
export async function emulatorTokenRequests(url: string): Promise<number | undefined> {
    const res = await fetch(`${url}/__emulator/state`);
    if (!res.ok) return undefined;
    const body = (await res.json()) as { counts?: { tokenRequests?: unknown } };
    const n = body.counts?.tokenRequests;
    return typeof n === "number" ? n : undefined;
}

/** CPU time (user + system) used so far by another process of ours, ms (Linux /proc; 10 ms ticks). */
export function processCpuMs(pid: number): number | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        // fields[11], fields[12] = utime, stime (the 14th and 15th of the whole line)
        return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    } catch {
        return undefined;
    }
}

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}
