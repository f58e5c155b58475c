// Running a command to completion, for scripts, bench and tests: in its own process group, so that on
// timeout the command and everything it started (a CLI, its plugins) are killed together.
import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";

/** Sends `sig` to the process group led by `pid`; a group that is already gone is fine. */
export function killProcessGroup(pid: number | undefined, sig: NodeJS.Signals = "SIGKILL"): void {
    if (pid === undefined) return;
    try {
        process.kill(-pid, sig);
    } catch {
        // gone
    }
}

/**
 * Pids of live processes (not this one, no zombies) whose environment holds `key=value`: a marker every process
 * of a run inherits finds them after they left its process group (plugins run detached). Linux /proc only.
 */
export function pidsWithEnv(key: string, value: string): number[] {
    const needle = Buffer.from(`\0${key}=${value}\0`);
    const out: number[] = [];
    for (const e of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
        try {
            const env = Buffer.concat([Buffer.from([0]), fs.readFileSync(`/proc/${e}/environ`)]);
            const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
            if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z") continue;
            if (env.includes(needle)) out.push(Number(e));
        } catch {
            // gone
        }
    }
    return out;
}

export interface CommandOptions {
    cwd: string;
    env?: NodeJS.ProcessEnv;
    /** Kill the whole group and reject after this long. */
    timeoutMs: number;
}

export interface CommandResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    /** Wall time, start to exit. */
    ms: number;
}

/**
 * Runs `cmd args` in its own process group and resolves with how it ended, whatever its exit code.
 * Rejects when it cannot be started, or on timeout (after killing the group) with its output so far.
 */
export function runCommand(cmd: string, args: string[], opts: CommandOptions): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
        const started = Date.now();
        const child = childProcess.spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => {
            killProcessGroup(child.pid);
            reject(new Error(`${describeCommand(cmd, args)} timed out after ${opts.timeoutMs} ms\n${stdout}\n${stderr}`));
        }, opts.timeoutMs);
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
        });
    });
}

/** As `runCommand`, and a non-zero exit rejects too, with the command's output. */
export async function runChecked(cmd: string, args: string[], opts: CommandOptions): Promise<CommandResult> {
    const r = await runCommand(cmd, args, opts);
    if (r.code !== 0) throw new Error(`${describeCommand(cmd, args)} failed (${r.code ?? r.signal}) in ${opts.cwd}:\n${r.stdout}\n${r.stderr}`);
    return r;
}

function describeCommand(cmd: string, args: string[]): string {
    return `${path.basename(cmd)} ${args.join(" ")}`;
}
