// Root hooks of every mocha run of this repository (.mocharc.json `require`): the suite always ends,
// and ends clean.
// - At the end of the run, nothing may be left running or listening: no process started by the run
//   (a child of this process, or any process carrying this run's RUN_MARKER in its environment:
//   plugins, emulator CLIs, engines, language hosts, programs, even when reparented), no TCP socket this
//   process listens on (an emulator, a secret tap, a language server), no active handle beyond the
//   stdio the run started with, no e2e sandbox left uncleaned. Otherwise the root `after all` hook fails
//   the run naming each one, and kills the processes.
// - A bound on the whole run (TEST_RUN_TIMEOUT_MS, default 40 min, well inside CI's 90): past it, what is
//   still active is printed, the run's processes killed, and the process exits non-zero.
// - Once mocha has finished, the process must exit on its own within TEST_EXIT_GRACE_MS (default 20 s):
//   otherwise the active handles are printed and it exits non-zero. (No mocha `--exit`: that would hide
//   exactly the leaks this file reports.)
// Each test is bounded by mocha's timeout (.mocharc.json; e2e tests set their own per operation).
import * as crypto from "crypto";
import { activeResources, describeProcess, extraResources, killProcesses, listeningSockets, RUN_MARKER, runProcesses, traceHandles } from "./leaks";

const RUN_TIMEOUT_MS = Number(process.env.TEST_RUN_TIMEOUT_MS ?? 40 * 60_000);
const EXIT_GRACE_MS = Number(process.env.TEST_EXIT_GRACE_MS ?? 20_000);
/** How long the end-of-run check waits for things that are closing (a server's close callback, a dying child). */
const SETTLE_MS = 3_000;

/** Set while this file is loaded: test/e2e/support/engine.ts refuses inline programs under it. */
const RUN_KEY = Symbol.for("pulumi-ibmcloud-iam.test.run");
/** Sandboxes created and not yet cleaned up (test/e2e/support/engine.ts keeps this set). */
const SANDBOXES_KEY = Symbol.for("pulumi-ibmcloud-iam.test.sandboxes");
const g = globalThis as unknown as Record<symbol, unknown>;

// A fresh id for every mocha process (a nested mocha run started by a test gets its own).
const runId = `${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
process.env[RUN_MARKER] = runId;
g[RUN_KEY] = runId;

// Touch stdio now, so their handles are part of the baseline.
void process.stdout.writableLength;
void process.stderr.writableLength;
// The baseline: taken at load, before mocha runs anything (no timer of its own yet).
const baseline = activeResources();
let expected = baseline;
/** Where the live handles were created (TEST_TRACE_HANDLES=1), for the report. */
const tracedHandles = process.env.TEST_TRACE_HANDLES === "1" ? traceHandles() : undefined;
let currentTest = "(no test started yet)";
const startedAt = Date.now();

function openSandboxes(): string[] {
    const set = g[SANDBOXES_KEY];
    return set instanceof Set ? [...set].map(String) : [];
}

/** Everything the run left behind, one line each; empty when clean. */
function leftovers(): string[] {
    return [
        ...runProcesses(runId).map((p) => `process ${describeProcess(p)}`),
        ...listeningSockets().map((a) => `listening socket ${a} of the test process`),
        ...extraResources(expected).map((r) => `active handle ${r} (process.getActiveResourcesInfo())`),
        ...openSandboxes().map((d) => `e2e sandbox ${d} never cleaned up`),
    ];
}

function creationSites(): string[] {
    if (!tracedHandles) return ["(run with TEST_TRACE_HANDLES=1 to see where each handle was created)"];
    return tracedHandles().map((h) => h.replace(/\n/g, "\n      "));
}

function report(headline: string): string {
    const lines = leftovers();
    return [
        headline,
        `  last test started: ${currentTest}`,
        ...(lines.length ? lines.map((l) => `  - ${l}`) : ["  (nothing of the run's is left: the event loop is held by something else)"]),
        ...creationSites().map((l) => `  ${l}`),
    ].join("\n");
}

/** Prints what is active, kills the run's processes, exits with `code`. */
function bail(headline: string, code: number): never {
    process.stderr.write(`\n${report(headline)}\n`);
    killProcesses(runProcesses(runId));
    process.exit(code);
}

const runWatchdog = setTimeout(() => {
    bail(`test run exceeded ${Math.round(RUN_TIMEOUT_MS / 60_000)} min (TEST_RUN_TIMEOUT_MS): stopping it`, 124);
}, RUN_TIMEOUT_MS);
runWatchdog.unref();

export const mochaHooks = {
    beforeEach(this: Mocha.Context): void {
        currentTest = this.currentTest?.fullTitle() ?? "?";
    },
    async afterAll(this: Mocha.Context): Promise<void> {
        this.timeout(SETTLE_MS + 10_000);
        clearTimeout(runWatchdog);
        // Mocha's own timer of this hook is active while it runs (even with timeout 0): one Timeout more is expected.
        expected = new Map(baseline).set("Timeout", (baseline.get("Timeout") ?? 0) + 1);
        // stdin/stdout/stderr get their handle when first used, possibly after the baseline (a pipe or a TTY each).
        for (const stdio of ["PipeWrap", "TTYWrap"]) expected.set(stdio, Math.max(expected.get(stdio) ?? 0, 3));
        // From here on, the process has EXIT_GRACE_MS to end on its own.
        const exitWatchdog = setTimeout(() => {
            bail(`mocha finished ${Math.round(EXIT_GRACE_MS / 1000)} s ago but the process did not exit (TEST_EXIT_GRACE_MS)`, 125);
        }, EXIT_GRACE_MS);
        exitWatchdog.unref();
        const deadline = Date.now() + SETTLE_MS;
        let lines = leftovers();
        while (lines.length > 0 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 100));
            lines = leftovers();
        }
        if (lines.length === 0) return;
        const message = report(`the test run left ${lines.length} thing(s) running or listening after ${Math.round((Date.now() - startedAt) / 1000)} s:`);
        killProcesses(runProcesses(runId));
        throw new Error(message);
    },
};
