// Bad input through the real engine: a few rows of test/support/badInputs.ts, one per
// resource kind and the component, each in a stack of its own: `pulumi preview` fails, the engine's
// output names the argument and gives the reason, a secret input stays out of that output, and the
// emulator (the stacks' IBM Cloud) received no request at all. The program (test/e2e/programs/badInput.ts)
// declares the row's resource, in its own process as a user's program runs.
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
];

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

    PICKED.forEach((label, i) => {
        const row = rowOf(label);
        it(`${label} → preview fails on ${row.field}`, async function () {
            const stack = await sandbox.programStack(
                `bad-${i}`,
                { module: "badInput", export: "badRow" },
                {
                    projectName: "bad-input",
                    params: { row: label },
                    config: {
                        "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
                        "ibmcloud:iamEndpoint": { value: emu.url },
                        "ibmcloud:kmsEndpoint": { value: emu.url },
                    },
                },
            );
            const before = await requests();
            let failure: unknown;
            try {
                await stack.preview();
            } catch (err) {
                failure = err;
            }
            assert.ok(failure instanceof EngineError, `preview fails (${String(failure)})`);
            const output = failure.output;
            if (row.target === "KmsAccess") {
                // the program itself stops: the component throws before registering anything
                assert.ok(output.includes(`${row.field}: `), `the output names ${row.field}:\n${output}`);
            } else {
                // the engine's own wording for a check failure: "<type> resource 'bad': property <field> value <v> has a problem: <reason>"
                assert.ok(output.includes(`resource 'bad': property ${row.field} value`), `the output names ${row.field}:\n${output}`);
            }
            const reasonAt = output.indexOf(`${row.field}`);
            assert.match(output.slice(reasonAt), row.reason, output);
            for (const s of row.secrets) assert.ok(!output.includes(s), "a secret input in the engine's output");
            assert.ok(!output.includes(emu.apiKey), "the deployer's key in the engine's output");
            assert.deepStrictEqual(await requests(), before, "preview made no request to IBM (no token, no read, no write)");
            assert.strictEqual(before.writes, 0, "and nothing was ever written");
            await stack.remove();
        });
    });
});
