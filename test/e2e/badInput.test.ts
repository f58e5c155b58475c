// Bad input through the real engine: a few rows of test/support/badInputs.ts, each in a stack of its
// own: `pulumi preview` fails, the output names the argument and gives the reason, a secret input stays
// out of it, nothing huge is echoed, no gRPC noise follows, and the emulator (the stacks' IBM Cloud)
// received no request at all (only reads, for roles IAM alone knows). Arguments known when the program
// runs fail at the resource's constructor (the program's own line); the same rows with every argument
// handed over as an Output ("late") fail in the provider's check. The program
// (test/e2e/programs/badInput.ts) declares the row's resource, in its own process as a user's program runs.
import * as assert from "assert";
import { startEmulator, RunningEmulator } from "../../emulator";
import { BAD_INPUTS, BadInputRow } from "../support/badInputs";
import { createSandbox, EngineError, EngineSandbox, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";

/** The rows taken through the engine: `target: what`. */
const PICKED = [
    "ServiceId: empty name",
    "ServiceApiKey: apikey shorter than 32 characters",
    "AccessPolicy: a misspelt role",
    "KmsKey: expirationDate on a day that does not exist",
    "KmsAccess: a misspelt role",
    "KmsKeyRing: a ring id with a ! (the README's mistake)",
    "ServiceId: a description of 1 MiB (not echoed)",
    "KmsAccess: 500 made-up roles (summarized)",
    "TrustedProfileClaimRule: IN with one string",
    "TrustedProfileIdentity: a user given by e-mail",
];
/** Rows taken through the engine with every argument an Output: judged by the provider's check at preview. */
const PICKED_LATE = [
    "KmsKeyRing: a ring id with a ! (the README's mistake)",
    "ServiceId: a description of 1 MiB (not echoed)",
    "AccessPolicy: 500 made-up roles (summarized)",
    "AccessPolicy: made-up roles of a service outside the offline catalog (asked of IAM at check)",
    "TrustedProfileClaimRule: Terraform's JSON-quoted value",
];
/** What a program's RPCs left in flight print when the engine stops under them. */
const GRPC_NOISE = /UNAVAILABLE|CANCELLED|Channel has been shut down|failed to deliver log message/;

function rowOf(label: string): BadInputRow {
    const row = BAD_INPUTS.find((r) => `${r.target}: ${r.what}` === label);
    if (!row) throw new Error(`no bad-input row "${label}"`);
    return row;
}

describe("e2e: bad input fails `pulumi preview` through the real engine, naming the argument, with no request to IBM", function () {
    this.timeout(ENGINE_OP_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;

    async function requests(): Promise<{ requests: number; writes: number }> {
        const s = (await (await fetch(`${emu.url}/__emulator/stats`)).json()) as { requests: number; writes: number };
        return { requests: s.requests, writes: s.writes };
    }

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0 });
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
    });
    after(async function () {
        this.timeout(ENGINE_OP_TIMEOUT_MS);
        await sandbox?.cleanup();
        await emu?.stop();
    });

    async function previewFails(stackName: string, label: string, late: boolean, config: Record<string, { value: string; secret?: boolean }>) {
        const stack = await sandbox.programStack(
            stackName,
            { module: "badInput", export: "badRow" },
            { projectName: "bad-input", params: { row: label, ...(late ? { late: true } : {}) }, config },
        );
        const before = await requests();
        let failure: unknown;
        try {
            await stack.preview();
        } catch (err) {
            failure = err;
        }
        assert.ok(failure instanceof EngineError, `preview fails (${String(failure).slice(0, 500)})`);
        return { stack, output: failure.output, before };
    }

    function emulatorConfig(): Record<string, { value: string; secret?: boolean }> {
        return {
            "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
            "ibmcloud:iamEndpoint": { value: emu.url },
            "ibmcloud:kmsEndpoint": { value: emu.url },
        };
    }

    PICKED.forEach((label, i) => {
        const row = rowOf(label);
        it(`${label} → the program fails at the constructor, naming ${row.field}`, async function () {
            const { stack, output, before } = await previewFails(`bad-${i}`, label, false, emulatorConfig());
            // the program itself stops: the constructor throws before registering anything
            assert.ok(output.includes(`${row.target} ${row.target === "KmsAccess" ? "orders" : "bad"}: invalid arguments: `), output.slice(0, 3000));
            assert.ok(output.includes(`${row.field}: `), `the output names ${row.field}:\n${output.slice(0, 3000)}`);
            assert.match(output.slice(output.indexOf(`${row.field}: `) + row.field.length + 2).split("\n")[0], row.reason);
            assert.doesNotMatch(output, GRPC_NOISE, "no gRPC noise after the error");
            assert.ok(output.length < 32 * 1024, `a short output (${output.length} characters)`);
            for (const s of row.secrets) assert.ok(!output.includes(s), "a secret input in the engine's output");
            assert.ok(!output.includes(emu.apiKey), "the deployer's key in the engine's output");
            assert.deepStrictEqual(await requests(), before, "preview made no request to IBM (no token, no read, no write)");
            await stack.remove();
        });
    });

    PICKED_LATE.forEach((label, i) => {
        const row = rowOf(label);
        it(`${label}, every argument an Output → preview fails in check, naming ${row.field}`, async function () {
            const { stack, output, before } = await previewFails(`late-${i}`, label, true, emulatorConfig());
            // the engine's own wording for a check failure: "<type> resource 'bad': property <field> value <v> has a problem: <reason>"
            assert.ok(output.includes(`resource 'bad': property ${row.field} value`), `the output names ${row.field}:\n${output.slice(0, 3000)}`);
            const at = output.indexOf(`property ${row.field} value`);
            assert.match(output.slice(output.indexOf("has a problem: ", at) + "has a problem: ".length).split("\n")[0], row.reason);
            // No gRPC-noise assertion here: a value known only as an Output reaches check while the component's
            // registerResourceOutputs is still in flight, and when the engine stops under it @pulumi/pulumi itself
            // rethrows the UNAVAILABLE as an unhandled rejection (runtime/resource.js) — not ours to silence, and
            // seen in some runs on a loaded machine. Values known when the program runs never get that far (above).
            // Our reason is short; the engine itself quotes the program's value beside it (once): a value known only
            // as an Output reaches no constructor, so a 1 MiB one is printed that once, by Pulumi, never by us.
            const reasonLine = output.slice(output.indexOf("has a problem: ", at)).split("\n")[0];
            assert.ok(reasonLine.length < 1100, `a short reason (${reasonLine.length} characters)`);
            assert.ok(output.split("BADINPUT-huge-").length - 1 <= 1, "a huge value appears at most once (the engine's own quote)");
            const after = await requests();
            if (row.reads) assert.strictEqual(after.writes, before.writes, "preview wrote nothing");
            else assert.deepStrictEqual(after, before, "preview made no request to IBM");
            await stack.remove();
        });
    });

    it("no deployer API key anywhere → preview fails on the resource, naming the config key and the environment variables", async function () {
        const config = emulatorConfig();
        delete config["ibmcloud:apiKey"];
        const { stack, output, before } = await previewFails("no-key", "ServiceId: empty name", true, config);
        assert.match(
            output,
            /resource 'bad' has a problem: ibmcloud:apiKey: no IBM Cloud API key is configured \(looked for stack config ibmcloud:apiKey, then ibm:ibmcloudApiKey, then IC_API_KEY and IBMCLOUD_API_KEY/,
        );
        assert.doesNotMatch(output, GRPC_NOISE);
        assert.deepStrictEqual(await requests(), before, "no request");
        await stack.remove();
    });

    it("@pulumi/ibm's ibm:ibmcloudApiKey is read when ibmcloud:apiKey is not set", async function () {
        const config = emulatorConfig();
        delete config["ibmcloud:apiKey"];
        config["ibm:ibmcloudApiKey"] = { value: emu.apiKey, secret: true };
        const { stack, output } = await previewFails("ibm-key", "ServiceId: empty name", true, config);
        // the only failure left is the row's own
        assert.doesNotMatch(output, /no IBM Cloud API key/);
        assert.ok(output.includes("resource 'bad': property name value"), output.slice(0, 3000));
        await stack.remove();
    });
});
