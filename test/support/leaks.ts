// What a test run leaves behind, read from Linux /proc: processes started by the run,
// sockets this process still listens on, and Node's active handles. Used by ./rootHooks.ts at the end
// of every mocha run, by its watchdogs, and by scripts/stress.ts.
import * as fs from "fs";

/** Environment variable set by ./rootHooks.ts in the test process: every process started by the run inherits it. */
export const RUN_MARKER = "PULUMI_IBMCLOUD_IAM_TEST_RUN";
/** The e2e sandbox's marker (test/e2e/support/engine.ts SANDBOX_ENV_MARKER): names the sandbox a process belongs to. */
const SANDBOX_MARKER = "PULUMI_IBMCLOUD_IAM_E2E_SANDBOX";

export interface LeakedProcess {
    pid: number;
    ppid: number;
    command: string;
    /** The e2e sandbox folder it was started for, if any. */
    sandbox?: string;
    /** Why it counts: a child of this process, or carrying this run's marker (started by the run, reparented since). */
    why: "child" | "run marker";
}

function readProc(pid: string, file: string): Buffer | undefined {
    try {
        return fs.readFileSync(`/proc/${pid}/${file}`);
    } catch {
        return undefined; // gone, or not ours to read
    }
}

/** pid → [ppid, state] of every live process; zombies (exited, waiting to be reaped) are left out. */
function processTable(): Map<number, number> {
    const table = new Map<number, number>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = readProc(entry, "stat")?.toString();
        if (!stat) continue;
        // "pid (comm) S ppid ..." — comm may hold spaces and parentheses: fields follow the last ")".
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (fields[0] === "Z" || fields[0] === "X") continue;
        table.set(Number(entry), Number(fields[1]));
    }
    return table;
}

function envOf(pid: number): Map<string, string> {
    const env = new Map<string, string>();
    const raw = readProc(String(pid), "environ");
    if (!raw) return env;
    for (const entry of raw.toString().split("\0")) {
        const eq = entry.indexOf("=");
        if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    return env;
}

function commandOf(pid: number): string {
    const cmd = readProc(String(pid), "cmdline")?.toString().split("\0").filter(Boolean).join(" ") ?? "?";
    return cmd.length > 200 ? `${cmd.slice(0, 200)}…` : cmd;
}

/**
 * The live processes of this run other than this one: descendants of this process, and any process
 * whose environment carries `RUN_MARKER=runId` (a plugin or language host whose parent died is
 * reparented, but keeps the environment it was started with).
 */
export function runProcesses(runId: string | undefined = process.env[RUN_MARKER]): LeakedProcess[] {
    const table = processTable();
    const children = new Map<number, number[]>();
    for (const [pid, ppid] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    const descendants = new Set<number>();
    const queue = [...(children.get(process.pid) ?? [])];
    while (queue.length) {
        const pid = queue.shift() as number;
        if (descendants.has(pid)) continue;
        descendants.add(pid);
        queue.push(...(children.get(pid) ?? []));
    }
    const out: LeakedProcess[] = [];
    for (const [pid, ppid] of table) {
        if (pid === process.pid) continue;
        const isChild = descendants.has(pid);
        const env = isChild || runId ? envOf(pid) : new Map<string, string>();
        const marked = runId !== undefined && env.get(RUN_MARKER) === runId;
        if (!isChild && !marked) continue;
        out.push({ pid, ppid, command: commandOf(pid), sandbox: env.get(SANDBOX_MARKER), why: isChild ? "child" : "run marker" });
    }
    return out.sort((a, b) => a.pid - b.pid);
}

/** `address:port` of every TCP socket this process listens on (/proc/net/tcp{,6} ∩ /proc/self/fd). */
export function listeningSockets(): string[] {
    const mine = new Set<string>();
    for (const fd of fs.readdirSync("/proc/self/fd")) {
        try {
            const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
            if (m) mine.add(m[1]);
        } catch {
            // closed meanwhile
        }
    }
    const out: string[] = [];
    for (const table of ["tcp", "tcp6"]) {
        let text: string;
        try {
            text = fs.readFileSync(`/proc/net/${table}`, "utf8");
        } catch {
            continue;
        }
        for (const line of text.split("\n").slice(1)) {
            const f = line.trim().split(/\s+/);
            // sl local_address rem_address st ... inode (field 9); st 0A = LISTEN
            if (f.length < 10 || f[3] !== "0A" || !mine.has(f[9])) continue;
            out.push(formatAddress(f[1], table === "tcp6"));
        }
    }
    return out.sort();
}

function formatAddress(hexAddr: string, v6: boolean): string {
    const [ip, port] = hexAddr.split(":");
    const portNum = parseInt(port, 16);
    if (!v6) {
        // little-endian 32-bit
        const bytes =
            ip
                .match(/../g)
                ?.map((b) => parseInt(b, 16))
                .reverse() ?? [];
        return `${bytes.join(".")}:${portNum}`;
    }
    if (/^0+$/.test(ip)) return `[::]:${portNum}`;
    if (ip === "00000000000000000000000001000000") return `[::1]:${portNum}`;
    return `[${ip}]:${portNum}`;
}

/** Node's active resources (`process.getActiveResourcesInfo()`) counted by type. */
export function activeResources(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
    return counts;
}

/** What `now` holds beyond `baseline` (the resources present when the run started: stdio). */
export function extraResources(baseline: Map<string, number>, now = activeResources()): string[] {
    const out: string[] = [];
    for (const [type, n] of now) {
        const extra = n - (baseline.get(type) ?? 0);
        if (extra > 0) out.push(extra === 1 ? type : `${extra} × ${type}`);
    }
    return out.sort();
}

export function describeProcess(p: LeakedProcess): string {
    return `pid ${p.pid} (parent ${p.ppid}, ${p.why}${p.sandbox ? `, e2e sandbox ${p.sandbox}` : ""}): ${p.command}`;
}

/** SIGKILLs the given processes (each on its own: a plugin leads its own process group). */
export function killProcesses(procs: LeakedProcess[]): void {
    for (const p of procs) {
        try {
            process.kill(p.pid, "SIGKILL");
        } catch {
            // gone already
        }
    }
}

/**
 * With TEST_TRACE_HANDLES=1: records where each timer, socket, server and child process still alive was
 * created (async_hooks), so that a leak report can say which code made the handle. Costs a stack trace
 * per resource: off by default.
 */
export function traceHandles(): () => string[] {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const asyncHooks = require("async_hooks") as typeof import("async_hooks");
    const live = new Map<number, { type: string; stack: string }>();
    const types = new Set(["Timeout", "TCPWRAP", "TCPSERVERWRAP", "PROCESSWRAP", "PIPEWRAP"]);
    asyncHooks
        .createHook({
            init(id, type) {
                if (!types.has(type)) return;
                const stack = (new Error().stack ?? "")
                    .split("\n")
                    .slice(2)
                    .filter((l) => !l.includes("node:internal") && !l.includes("leaks.js"))
                    .slice(0, 6)
                    .join("\n");
                live.set(id, { type, stack });
            },
            destroy(id) {
                live.delete(id);
            },
        })
        .enable();
    return () => [...live.values()].map((h) => `${h.type} created\n${h.stack}`);
}
