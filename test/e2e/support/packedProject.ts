// The user's starting point, shared by the tests that need it: this repository packed with `npm pack` and the
// tarball installed into a fresh project OUTSIDE the repository, next to the @pulumi/pulumi this test leg runs
// (scripts/test-matrix.sh puts the oldest of the peer range into the repository on the oldest leg, the newest on
// the newest), TypeScript and Node's types — what the README's install lines give a user.
//
// Packing and installing take a minute or more, so one project serves every test file of a mocha run: each
// `describe` that needs it calls `usePackedProject()` in its body; the project is made by the first `before`
// that asks and removed by the `after` of the last user (or at process exit, when a filtered run skips one).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CommandResult, runCommand } from "../../../scripts/lib/process";
import { REPO_ROOT } from "./engine";

/** The SDK version this leg runs (the repository's node_modules). */
export const SDK_VERSION: string = JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")).version;
/** What the fresh project installs besides the tarball: the README's install lines name exactly these packages. */
export const USER_PACKAGES: Readonly<Record<string, string>> = {
    "@pulumi/pulumi": SDK_VERSION,
    typescript: "5.9.3",
    "@types/node": "22",
};
export const OP_TIMEOUT_MS = 180_000;

export type Run = CommandResult;

export interface RunOptions {
    cwd: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
}

/** Runs a command to completion in its own process group (killed whole on timeout, OP_TIMEOUT_MS by default). */
export function run(cmd: string, args: string[], opts: RunOptions): Promise<Run> {
    return runCommand(cmd, args, { ...opts, timeoutMs: opts.timeoutMs ?? OP_TIMEOUT_MS });
}

/** Values that must never reach test output; `ok` replaces them in the errors it throws. */
export const SECRETS = new Set<string>();

export function redacted(text: string): string {
    let out = text;
    for (const s of SECRETS) if (s) out = out.split(s).join("[secret]");
    return out;
}

/** `run`, failing (redacted) unless the command exits 0; resolves to its stdout. */
export async function ok(cmd: string, args: string[], opts: RunOptions): Promise<string> {
    const r = await run(cmd, args, opts);
    if (r.code !== 0) throw new Error(redacted(`${cmd} ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`));
    return r.stdout;
}

export interface PackedProject {
    /** A temporary folder outside the repository holding the tarball and the project. */
    top: string;
    /** The project: package.json and node_modules with the tarball, @pulumi/pulumi, typescript, @types/node. */
    project: string;
    tarball: string;
    /** The tarball's file list (package/ stripped). */
    files: string[];
    /** Seconds `npm pack` and `npm install` took. */
    packSeconds: number;
    installSeconds: number;
}

let made: Promise<PackedProject> | undefined;
let users = 0;
let top: string | undefined;

async function make(): Promise<PackedProject> {
    top = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-ibmcloud-iam-packed-"));
    assert.ok(path.relative(REPO_ROOT, top).startsWith(".."), "the project is outside the repository");
    let t = Date.now();
    const packed = JSON.parse(await ok("npm", ["pack", "--json", "--pack-destination", top], { cwd: REPO_ROOT }));
    const packSeconds = (Date.now() - t) / 1000;
    const tarball = path.join(top, packed[0].filename);
    const files = (packed[0].files as Array<{ path: string }>).map((f) => f.path);
    const project = path.join(top, "app");
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "orders-infra", private: true, version: "1.0.0" }, null, 2));
    t = Date.now();
    await ok(
        "npm",
        ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, ...Object.entries(USER_PACKAGES).map(([name, version]) => `${name}@${version}`)],
        { cwd: project, timeoutMs: 10 * 60 * 1000 },
    );
    return { top, project, tarball, files, packSeconds, installSeconds: (Date.now() - t) / 1000 };
}

function remove(): void {
    if (top && !process.env.E2E_KEEP_SANDBOX) fs.rmSync(top, { recursive: true, force: true });
    top = undefined;
    made = undefined;
}

process.on("exit", remove);

/**
 * Call in a `describe` body: the returned function resolves to the shared project once the suite's `before`
 * hooks run (pack and install take minutes on a cold npm cache: the hook's timeout allows for it).
 */
export function usePackedProject(): () => PackedProject {
    users++;
    let project: PackedProject | undefined;
    before(async function () {
        this.timeout(15 * 60 * 1000);
        made ??= make();
        project = await made;
    });
    after(() => {
        users--;
        if (users === 0) remove();
    });
    return () => {
        if (!project) throw new Error("usePackedProject: the project is made in a before hook; read it in a test or a later hook");
        return project;
    };
}
