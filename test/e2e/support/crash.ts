// Killing parts of a running deployment, for the e2e tests of what survives a crash: an `up` or `destroy` started
// as its own CLI process (so the test can kill -9 exactly that process, or one the engine started), and the
// sandbox's processes told apart by their command line.
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { TrustedProfileClient } from "../../../client";
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

/**
 * Starts an `up` whose plugin holds its answer to the first create of `kind` once IBM answered (the provider's
 * test-only hold point, `PULUMI_IBMCLOUD_IAM_TEST_HOLD_ANSWER`), and waits until it holds there: the running `up` and
 * the pid of the process holding it, for the test to kill exactly between IBM's answer and the engine's hearing of it.
 */
export async function upHeldAfterAnswer(sandbox: EngineSandbox, stack: EngineStack, kind: string): Promise<{ op: RunningOp; pid: number }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "held-answer-"));
    const marker = path.join(dir, "answered");
    process.env.PULUMI_IBMCLOUD_IAM_TEST_HOLD_ANSWER = `${kind}:${marker}`;
    let op: RunningOp;
    try {
        op = startOp(sandbox, stack, "up");
    } finally {
        delete process.env.PULUMI_IBMCLOUD_IAM_TEST_HOLD_ANSWER; // a recovery's own `up` must not hold
    }
    try {
        const held = await waitFor(() => fs.existsSync(marker) && fs.readFileSync(marker, "utf8") !== "", 180_000);
        if (!held) throw new Error(`no ${kind} create was answered:\n${op.output()}`);
        return { op, pid: Number(fs.readFileSync(marker, "utf8")) };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * Trusted profiles named with `prefix` and their claim rules (ids as the state has them, with their names), and the
 * active authorizations whose source is `sourceInstance`, read from the emulator.
 */
export async function profilesAndAuthorizations(
    emulatorUrl: string,
    profiles: TrustedProfileClient,
    prefix: string,
    sourceInstance: string,
): Promise<Array<{ id: string; what: string; name?: string }>> {
    const out: Array<{ id: string; what: string; name?: string }> = [];
    for (const p of (await profiles.listProfiles()).filter((x) => x.name.startsWith(prefix))) {
        out.push({ id: p.id, what: "profile", name: p.name });
        for (const r of await profiles.listClaimRules(p.id)) out.push({ id: `${p.id}/${r.id}`, what: "rule", name: r.name });
    }
    const admin = (await (await fetch(`${emulatorUrl}/__emulator/state`)).json()) as {
        policies: Array<{ id: string; state: string; type?: string; subjects?: Array<{ attributes: Array<{ name: string; value: string }> }> }>;
    };
    for (const p of admin.policies) {
        const source = p.subjects?.[0]?.attributes.find((a) => a.name === "serviceInstance")?.value;
        if (p.type === "authorization" && p.state === "active" && source === sourceInstance) out.push({ id: p.id, what: "authorization" });
    }
    return out;
}

/** `npx pulumi-ibmcloud-iam recover --stack <name>` in the project directory, as a user runs it (spawned: the emulator answering it runs in this process). */
export function recoverCommand(sandbox: EngineSandbox, stackName: string, cwd: string, extra: string[] = []): RunningOp {
    const cli = path.join(__dirname, "..", "..", "..", "provider", "recovery", "cli.js");
    const child = childProcess.spawn(process.execPath, [cli, "recover", "--stack", stackName, ...extra], {
        cwd,
        env: { ...process.env, ...sandbox.env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | string>((resolve) => child.on("close", (code, signal) => resolve(code ?? signal ?? "?")));
    return { child, output: () => out, exited };
}

interface IdentityState {
    serviceIds: Array<{ id: string; iam_id: string; name: string }>;
    apiKeys: Array<{ id: string; iam_id: string; name: string }>;
    policies: Array<{ id: string; state: string; subjects: Array<{ attributes: Array<{ name: string; value: string }> }> }>;
}

/** The service IDs whose name `named` accepts, their API keys and their active policies, read from the emulator. */
export async function identityObjects(emulatorUrl: string, named: (name: string) => boolean): Promise<Array<{ id: string; what: string }>> {
    const s = (await (await fetch(`${emulatorUrl}/__emulator/state`)).json()) as IdentityState;
    const sids = s.serviceIds.filter((x) => named(x.name));
    const iamIds = new Set(sids.map((x) => x.iam_id));
    const subject = (p: IdentityState["policies"][number]) => p.subjects[0]?.attributes.find((a) => a.name === "iam_id")?.value ?? "";
    return [
        ...sids.map((x) => ({ id: x.id, what: `sid:${x.name}` })),
        ...s.apiKeys.filter((k) => iamIds.has(k.iam_id)).map((k) => ({ id: k.id, what: `key:${k.name}` })),
        ...s.policies.filter((p) => p.state === "active" && iamIds.has(subject(p))).map((p) => ({ id: p.id, what: `policy:${subject(p)}` })),
    ];
}
