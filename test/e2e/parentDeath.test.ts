// Nothing outlives the engine that started it: kill -9 of the `pulumi` CLI in the middle of an `up` (creates held
// by a slow emulator) leaves no language host, program or dynamic-provider plugin running; kill -9 of the language
// host takes its program with it. The bounds are generous: this is about exiting
// at all (before these fixes the plugin and the language host stayed for minutes), not about speed.
import * as assert from "assert";
import { RunningEmulator, startEmulator } from "../../emulator";
import { Role, SandboxProcess, sandboxProcesses, startOp, waitFor } from "./support/crash";
import { createSandbox, EngineSandbox, EngineStack, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";

const EXIT_BOUND_MS = 60_000;

describe("e2e: nothing outlives its parent", function () {
    this.timeout(4 * 60_000);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        // every service-ID create is held for longer than the test runs: the kill lands while they are in flight
        emu = await startEmulator({ port: 0, faults: [{ kind: "slow", method: "POST", path: "/v1/serviceids", delayMs: 10 * 60_000 }] });
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
    });
    after(async () => {
        await sandbox?.cleanup();
        await emu?.stop();
    });

    async function stackNamed(name: string): Promise<EngineStack> {
        return sandbox.programStack(
            name,
            { module: "chaos", export: "triples" },
            {
                projectName: "orphans",
                params: { triples: 3, prefix: name, description: "parent death", instanceId: emu.instances[0].guid },
                config: {
                    "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
                    "ibmcloud:iamEndpoint": { value: emu.url },
                    "ibmcloud:timeout": { value: "600" },
                },
            },
        );
    }

    /** Starts an `up` and waits until the program and the plugin run and a create is in flight. */
    async function upInFlight(stack: EngineStack) {
        const before = emu.stats().writes;
        const op = startOp(sandbox, stack, "up");
        const running = await waitFor(() => {
            const roles = new Set(sandboxProcesses(sandbox).map((p) => p.role));
            return emu.stats().writes > before && ["cli", "language-host", "program", "plugin"].every((r) => roles.has(r as Role));
        }, 90_000);
        assert.ok(running, `the up never reached a create in flight:\n${op.output()}`);
        return op;
    }

    function only(role: Role): SandboxProcess[] {
        return sandboxProcesses(sandbox).filter((p) => p.role === role);
    }

    it("kill -9 of the CLI mid-up: the language host, the program and the plugin exit", async function () {
        const stack = await stackNamed("cli-killed");
        const op = await upInFlight(stack);
        const left = sandboxProcesses(sandbox).filter((p) => p.role !== "cli");
        const started = Date.now();
        op.child.kill("SIGKILL");
        await op.exited;
        const gone = await waitFor(() => sandboxProcesses(sandbox).length === 0, EXIT_BOUND_MS, 200);
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        console.log(`      CLI killed: ${left.map((p) => p.role).join(", ")} exited after ${seconds} s`);
        assert.ok(gone, `still running ${EXIT_BOUND_MS / 1000} s after the CLI was killed: ${JSON.stringify(sandboxProcesses(sandbox))}`);
    });

    it("kill -9 of the language host mid-up: its program goes too; the engine, killed next, leaves nothing either", async function () {
        const stack = await stackNamed("host-killed");
        const op = await upInFlight(stack);
        const [host] = only("language-host");
        process.kill(host.pid, "SIGKILL");
        assert.ok(await waitFor(() => only("program").length === 0, EXIT_BOUND_MS, 200), "the program outlived its language host");
        // the engine itself waits for the creates in flight (held here for minutes): it is still the plugin's parent
        assert.strictEqual(only("cli").length, 1);
        op.child.kill("SIGKILL");
        await op.exited;
        assert.ok(await waitFor(() => sandboxProcesses(sandbox).length === 0, EXIT_BOUND_MS, 200), JSON.stringify(sandboxProcesses(sandbox)));
    });
});
