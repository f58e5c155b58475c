// The plugin and the program exit when the engine that started them is gone; nothing else is ever watched.
import * as assert from "assert";
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exitWithParent } from "../../provider/core/parentWatch";

describe("provider: exit with the parent", () => {
    it("does nothing in a process the engine did not start (mocha, a user's app)", () => {
        assert.strictEqual(exitWithParent({ entry: "/somewhere/node_modules/mocha/bin/mocha.js", onGone: () => assert.fail("must not watch") }), false);
    });

    it("an orphaned plugin exits once its parent (and a launcher shell's parent) is gone", async function () {
        this.timeout(30_000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "parent-watch-"));
        try {
            // a plugin-like process, started through a shell without exec (Pulumi's own launcher), by a parent we kill -9
            const plugin = path.join(dir, "plugin.js");
            fs.writeFileSync(
                plugin,
                `const { exitWithParent } = require(${JSON.stringify(path.resolve(__dirname, "../../provider/core/parentWatch.js"))});
                 const ok = exitWithParent({ entry: "/x/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js", everyMs: 200,
                     onGone: () => { require("fs").writeFileSync(${JSON.stringify(path.join(dir, "gone"))}, "1"); process.exit(0); } });
                 require("fs").writeFileSync(${JSON.stringify(path.join(dir, "pid"))}, String(process.pid) + " " + ok);
                 setInterval(() => {}, 1000);`,
            );
            const engine = path.join(dir, "engine.js");
            fs.writeFileSync(
                engine,
                `require("child_process").spawn("/bin/sh", ["-c", ${JSON.stringify(`"${process.execPath}" "${plugin}"; true`)}], { stdio: "ignore" });
                 setInterval(() => {}, 1000);`,
            );
            const eng = childProcess.spawn(process.execPath, [engine], { stdio: "ignore", detached: true });
            const pidFile = path.join(dir, "pid");
            for (let i = 0; i < 100 && !fs.existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
            const [pid, ok] = fs.readFileSync(pidFile, "utf8").split(" ");
            assert.strictEqual(ok, "true", "the watch started");
            process.kill(eng.pid!, "SIGKILL");
            // a generous bound: this asserts that it exits, not how fast
            for (let i = 0; i < 200 && !fs.existsSync(path.join(dir, "gone")); i++) await new Promise((r) => setTimeout(r, 100));
            assert.ok(fs.existsSync(path.join(dir, "gone")), "the plugin noticed its engine was gone");
            for (let i = 0; i < 50 && alive(Number(pid)); i++) await new Promise((r) => setTimeout(r, 100));
            assert.ok(!alive(Number(pid)), "and exited");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}
