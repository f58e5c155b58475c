// Killing parts of a running deployment, for the e2e tests of what survives a crash: an `up` or `destroy` started
// as its own CLI process (so the test can kill -9 exactly that process, or one the engine started), and the
// sandbox's processes told apart by their command line.
import * as childProcess from "child_process";
import * as fs from "fs";
import { EngineSandbox, EngineStack } from "./engine";

export type Role = "cli" | "language-host" | "program" | "plugin" | "other";

export interface SandboxProcess {
    pid: number;
    role: Role;
}

function cmdline(pid: number): string[] {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    } catch {
        return [];
    }
}

export function roleOf(pid: number): Role {
    const args = cmdline(pid);
    const text = args.join(" ");
    if (/pulumi-language-nodejs/.test(args[0] ?? "")) return "language-host";
    if (/cmd[\\/]dynamic-provider/.test(text)) return "plugin";
    if (/cmd[\\/]run/.test(text)) return "program";
    if (/[\\/]pulumi$/.test(args[0] ?? "")) return "cli";
    return "other";
}

/** The sandbox's live processes (engine, language host, program, plugins), each with its role. */
export function sandboxProcesses(sandbox: EngineSandbox): SandboxProcess[] {
    return sandbox.liveProcesses().map((pid) => ({ pid, role: roleOf(pid) }));
}

export interface RunningOp {
    child: childProcess.ChildProcess;
    /** stdout and stderr so far. */
    output: () => string;
    /** Settles with the exit code (or signal name) once the CLI is gone. */
    exited: Promise<number | string>;
}

/** Starts `pulumi <op> --yes --skip-preview` of the stack as a CLI process of its own (not through the Automation API). */
export function startOp(sandbox: EngineSandbox, stack: EngineStack, op: "up" | "destroy", extra: string[] = []): RunningOp {
    const child = childProcess.spawn(
        sandbox.binaries.pulumi,
        [op, "--yes", "--skip-preview", "--non-interactive", "--color", "never", "--stack", stack.name, ...extra],
        { cwd: stack.workDir, env: { ...process.env, ...sandbox.env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | string>((resolve) => child.on("close", (code, signal) => resolve(code ?? signal ?? "?")));
    return { child, output: () => out, exited };
}

/** Polls until `cond()` holds or `timeoutMs` passed; returns whether it held. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
    for (const deadline = Date.now() + timeoutMs; ; ) {
        if (await cond()) return true;
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, everyMs));
    }
}
