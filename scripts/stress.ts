// Proof of no flakes: runs test layers N times in a row, each run a fresh mocha process
// (with the root hooks of test/support/rootHooks.ts), optionally while CPU-burning child processes keep
// cores busy so timing is worse than CI's; prints the failures of each run and a summary. Not part of
// `npm test`.
//
//   npm run test:stress -- --runs 10 --busy 1        # e2e + plugin layers, one core kept busy
//   npm run test:stress -- --runs 3 --layers all     # the whole suite
//   npm run test:stress -- --runs 5 --busy 2 --layers e2e
//   npm run test:stress -- --runs 20 --files build/test/e2e/kmsAccess.test.js   # one file
//   npm run test:stress -- --runs 1 --crash-rounds 20 [--crash-seed N]   # test/e2e/crash.test.ts, 20 kill rounds
//
// A run fails when a test fails, when mocha exits non-zero without a failing test (a watchdog of the
// root hooks, a crash), or when a process it started outlives it. Each run's output and mocha's JSON
// report go to .tools/stress/<start time>/ ; the summary is also written there as summary.json.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { killProcessGroup, pidsWithEnv } from "./lib/process";

const ROOT = path.resolve(__dirname, "..", "..");
const LAYERS: Record<string, string[]> = {
    e2e: ["build/test/e2e/**/*.test.js"],
    plugin: ["build/test/plugin/**/*.test.js"],
    all: ["build/test/**/*.test.js"],
};
/** Inherited by every process of a run: what still carries it after the run has ended outlived it. */
const STRESS_MARKER = "PULUMI_IBMCLOUD_IAM_STRESS_RUN";
/** Outer bound per run, above the root hooks' own 40-minute watchdog. */
const RUN_LIMIT_MS = 45 * 60_000;

interface Options {
    runs: number;
    busy: number;
    layers: string[];
    /** Test files instead of layers. */
    files: string[];
    /** Kill-and-recover rounds of test/e2e/crash.test.ts (its figures are printed per round). */
    crashRounds?: number;
    crashSeed?: number;
}

function usage(): never {
    process.stdout.write(
        fs
            .readFileSync(__filename.replace(/build[\\/]scripts[\\/]stress\.js$/, "scripts/stress.ts"), "utf8")
            .split("\n")
            .filter((l) => l.startsWith("//"))
            .map((l) => l.replace(/^\/\/ ?/, ""))
            .join("\n") + "\n",
    );
    process.exit(0);
}

function parseOptions(argv: string[]): Options {
    const { values } = parseArgs({
        args: argv,
        options: {
            runs: { type: "string", default: "10" },
            busy: { type: "string" },
            layers: { type: "string", default: "e2e,plugin" },
            files: { type: "string", multiple: true, default: [] },
            "crash-rounds": { type: "string" },
            "crash-seed": { type: "string" },
            help: { type: "boolean", short: "h" },
        },
        strict: true,
        allowPositionals: false,
    });
    if (values.help) usage();
    const opts: Options = {
        runs: positive(values.runs, "--runs"),
        busy: values.busy === undefined ? 0 : positive(values.busy, "--busy"),
        layers: values.layers.split(","),
        files: [...values.files],
        crashRounds: values["crash-rounds"] === undefined ? undefined : positive(values["crash-rounds"], "--crash-rounds"),
        crashSeed: values["crash-seed"] === undefined ? undefined : positive(values["crash-seed"], "--crash-seed"),
    };
    if (opts.crashRounds !== undefined && opts.files.length === 0) opts.files.push("build/test/e2e/crash.test.js");
    for (const l of opts.layers) if (!LAYERS[l]) throw new Error(`--layers: unknown layer ${l} (${Object.keys(LAYERS).join(", ")})`);
    return opts;
}

function positive(v: string, flag: string): number {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, not ${v}`);
    return n;
}

interface MochaReport {
    stats: { tests: number; passes: number; failures: number; pending: number; duration: number };
    failures: Array<{ fullTitle: string; err: { message?: string } }>;
}

interface RunResult {
    run: number;
    seconds: number;
    exitCode: number | null;
    signal: string | null;
    tests: number;
    passes: number;
    failures: string[];
}

function commandOf(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ").slice(0, 160);
    } catch {
        return "?";
    }
}

/** The mocha run in progress: killed with its process group if the stress script is stopped. */
let current: { child: ChildProcess; marker: string } | undefined;

async function runOnce(n: number, opts: Options, outDir: string): Promise<RunResult> {
    const report = path.join(outDir, `run-${n}.json`);
    const log = path.join(outDir, `run-${n}.log`);
    const globs = opts.files.length ? opts.files : opts.layers.flatMap((l) => LAYERS[l]);
    const mocha = require.resolve("mocha/bin/mocha.js", { paths: [ROOT] });
    const marker = `${process.pid}-${n}`;
    const started = Date.now();
    const out = fs.openSync(log, "w");
    const child = spawn(process.execPath, [mocha, "--reporter", "json", "--reporter-option", `output=${report}`, ...globs], {
        cwd: ROOT,
        env: {
            ...process.env,
            [STRESS_MARKER]: marker,
            ...(opts.crashRounds !== undefined ? { CRASH_ROUNDS: String(opts.crashRounds) } : {}),
            ...(opts.crashSeed !== undefined ? { CRASH_SEED: String(opts.crashSeed) } : {}),
        },
        stdio: ["ignore", out, out],
        detached: true, // its own process group, killed as a whole if it overruns
    });
    current = { child, marker };
    const limit = setTimeout(() => killProcessGroup(child.pid), RUN_LIMIT_MS);
    const [exitCode, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
    clearTimeout(limit);
    current = undefined;
    fs.closeSync(out);
    const seconds = Math.round((Date.now() - started) / 1000);

    const failures: string[] = [];
    let tests = 0;
    let passes = 0;
    try {
        const r = JSON.parse(fs.readFileSync(report, "utf8")) as MochaReport;
        tests = r.stats.tests;
        passes = r.stats.passes;
        for (const f of r.failures) failures.push(`${f.fullTitle}: ${(f.err.message ?? "").split("\n")[0].slice(0, 300)}`);
    } catch (err) {
        failures.push(`no mocha report (${(err as Error).message.split("\n")[0]})`);
    }
    if (exitCode !== 0 && failures.length === 0)
        failures.push(`mocha exited with ${exitCode ?? signal} and no failing test (a watchdog? see ${path.relative(ROOT, log)})`);
    // Give the last processes a moment to die, then whatever still carries the marker outlived the run.
    let survivors = pidsWithEnv(STRESS_MARKER, marker);
    for (let i = 0; i < 20 && survivors.length; i++) {
        await new Promise((r) => setTimeout(r, 250));
        survivors = pidsWithEnv(STRESS_MARKER, marker);
    }
    for (const pid of survivors) {
        failures.push(`process outlived the run: pid ${pid} ${commandOf(pid)}`);
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // gone
        }
    }
    return { run: n, seconds, exitCode, signal, tests, passes, failures };
}

async function main(): Promise<void> {
    const opts = parseOptions(process.argv.slice(2));
    const outDir = path.join(ROOT, ".tools", "stress", new Date().toISOString().replace(/[:.]/g, "-"));
    fs.mkdirSync(outDir, { recursive: true });
    const burners: ChildProcess[] = [];
    const stopBurners = () => {
        for (const b of burners) b.kill("SIGKILL");
    };
    process.on("exit", () => {
        stopBurners();
        if (!current) return;
        killProcessGroup(current.child.pid);
        // and what left its group (plugins run detached): everything carrying the run's marker
        for (const pid of pidsWithEnv(STRESS_MARKER, current.marker)) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // gone
            }
        }
    });
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));
    for (let i = 0; i < opts.busy; i++) burners.push(spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));

    const setting = `${opts.files.length ? `files ${opts.files.join(" ")}` : `layers ${opts.layers.join("+")}`}, ${opts.busy ? `${opts.busy} core(s) kept busy by a CPU-burning process` : "no CPU burner"}`;
    process.stdout.write(`stress: ${opts.runs} run(s), ${setting}; output in ${path.relative(ROOT, outDir)}/\n`);
    const results: RunResult[] = [];
    for (let n = 1; n <= opts.runs; n++) {
        const r = await runOnce(n, opts, outDir);
        results.push(r);
        process.stdout.write(
            `run ${n}/${opts.runs}: ${r.failures.length} failure(s), ${r.passes}/${r.tests} passing, ${r.seconds} s, exit ${r.exitCode ?? r.signal}\n`,
        );
        for (const f of r.failures) process.stdout.write(`    ✗ ${f}\n`);
        // the crash test's figures: one line per kill round, and the totals
        for (const line of fs.readFileSync(path.join(outDir, `run-${n}.log`), "utf8").split("\n")) {
            if (/^\s*crash (round|total)/.test(line)) process.stdout.write(`    ${line.trim()}\n`);
        }
        fs.writeFileSync(path.join(outDir, "summary.json"), JSON.stringify({ setting, opts, results }, null, 2));
    }
    stopBurners();
    const failed = results.filter((r) => r.failures.length > 0);
    const secs = results.map((r) => r.seconds).sort((a, b) => a - b);
    process.stdout.write(
        `\nsummary: ${results.length} run(s), ${setting}\n` +
            `  failures per run: ${results.map((r) => r.failures.length).join(" ")}\n` +
            `  runs with a failure: ${failed.length}; failures in all: ${results.reduce((n, r) => n + r.failures.length, 0)}\n` +
            `  duration per run: min ${secs[0]} s, median ${secs[Math.floor(secs.length / 2)]} s, max ${secs[secs.length - 1]} s\n`,
    );
    process.exitCode = failed.length ? 1 : 0;
}

main().catch((err) => {
    process.stderr.write(`stress: ${(err as Error).message}\n`);
    process.exit(2);
});
