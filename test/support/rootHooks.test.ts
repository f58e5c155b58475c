// The root hooks (./rootHooks.ts) through a nested mocha run of a test file that leaks: the run fails
// naming what was left, kills a leaked process, and a process held open past the grace period exits
// non-zero with a message instead of hanging.
import * as assert from "assert";
import { execFile } from "child_process";
import * as path from "path";
import { isAlive } from "../plugin/processes";

const FIXTURE = path.join(__dirname, "fixtures", "leaky.js");

function runMocha(env: Record<string, string>): Promise<{ code: number; output: string; ms: number }> {
    const mocha = require.resolve("mocha/bin/mocha.js");
    const started = Date.now();
    return new Promise((resolve) => {
        // cwd = the repository root: .mocharc.json (and so the root hooks) apply, as in any run
        execFile(
            process.execPath,
            [mocha, FIXTURE],
            { cwd: path.join(__dirname, "..", "..", ".."), env: { ...process.env, ...env }, timeout: 30_000 },
            (e, stdout, stderr) => resolve({ code: e ? Number((e as { code?: number }).code ?? -1) : 0, output: stdout + stderr, ms: Date.now() - started }),
        );
    });
}

describe("support/rootHooks: a test run ends, and ends clean", function () {
    this.timeout(40_000);

    it("a clean run passes and exits at once", async function () {
        const r = await runMocha({ LEAK: "none" });
        assert.strictEqual(r.code, 0, r.output);
        assert.match(r.output, /1 passing/);
    });

    it("a leaked child process fails the run, is named, and is killed", async function () {
        const r = await runMocha({ LEAK: "process" });
        assert.notStrictEqual(r.code, 0, r.output);
        assert.match(r.output, /"after all" hook: afterAll/);
        assert.match(r.output, /the test run left .* running or listening/);
        assert.match(r.output, /- process pid \d+ \(parent \d+, (child|run marker)\): sleep 300/);
        const pid = Number(/leaked pid (\d+)/.exec(r.output)?.[1]);
        assert.ok(pid > 0 && !isAlive(pid), "the leaked process was killed");
    });

    it("a listening server fails the run by its address; the exit watchdog ends the process it holds open", async function () {
        const r = await runMocha({ LEAK: "server", TEST_EXIT_GRACE_MS: "1000" });
        assert.strictEqual(r.code, 125, r.output);
        assert.match(r.output, /- listening socket 127\.0\.0\.1:\d+ of the test process/);
        assert.match(r.output, /active handle TCPServerWrap/);
        assert.match(r.output, /mocha finished 1 s ago but the process did not exit/);
        assert.ok(r.ms < 20_000, `it exited soon after the grace period (${r.ms} ms)`);
    });
});
