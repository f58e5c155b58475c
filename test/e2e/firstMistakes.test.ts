// The mistakes a newcomer makes with the quick start, through the real engine against the emulator:
// each fails with an error that names the fix, at the earliest moment it can be seen, and without gRPC
// noise after it. The time each took is printed (evidence, not asserted: a loaded machine is slower).
import * as assert from "assert";
import { startEmulator, RunningEmulator } from "../../emulator";
import { closedPort } from "../support/localServer";
import { createSandbox, EngineError, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";

const GRPC_NOISE = /UNAVAILABLE|CANCELLED|Channel has been shut down|failed to deliver log message/;
const MISSING_INSTANCE = "11111111-2222-4333-8444-555555555555";

describe("e2e: the quick start's common mistakes fail fast, naming the fix", function () {
    this.timeout(ENGINE_OP_TIMEOUT_MS * 2);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let crnOf: (guid: string) => string;

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }] });
        crnOf = (guid) => `crn:v1:bluemix:public:kms:us-south:a/${emu.accountId}:${guid}::`;
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "", IBMCLOUD_IAM_API_ENDPOINT: "", IBMCLOUD_KP_API_ENDPOINT: "" } });
    });
    after(async function () {
        this.timeout(ENGINE_OP_TIMEOUT_MS);
        await sandbox?.cleanup();
        await emu?.stop();
    });

    function config(over: Record<string, string | undefined> = {}): Record<string, { value: string; secret?: boolean }> {
        const base: Record<string, string | undefined> = {
            "ibmcloud:apiKey": emu.apiKey,
            "ibmcloud:iamEndpoint": emu.url,
            "ibmcloud:kmsEndpoint": emu.url,
            ...over,
        };
        const out: Record<string, { value: string; secret?: boolean }> = {};
        for (const [k, v] of Object.entries(base)) if (v !== undefined) out[k] = { value: v, ...(k.endsWith("apiKey") ? { secret: true } : {}) };
        return out;
    }

    async function fails(stack: EngineStack, op: "preview" | "up"): Promise<{ output: string; seconds: number }> {
        const started = Date.now();
        let failure: unknown;
        try {
            await (op === "preview" ? stack.preview() : stack.up());
        } catch (err) {
            failure = err;
        }
        const seconds = (Date.now() - started) / 1000;
        assert.ok(failure instanceof EngineError, `${op} fails (${String(failure).slice(0, 500)})`);
        return { output: failure.output, seconds };
    }

    function report(what: string, seconds: number, output: string, pattern: RegExp): void {
        const line = output.split("\n").find((l) => pattern.test(l)) ?? "";
        console.log(`      [${what}] ${seconds.toFixed(1)} s: ${line.trim().slice(0, 600)}`);
    }

    it("a well-formed CRN of an instance that does not exist: `preview` refuses it before anything is created, and `up` without a preview says so at the gate", async function () {
        const stack = await sandbox.programStack(
            "no-instance",
            { module: "firstMistakes", export: "quickStart" },
            { params: { instanceCrn: crnOf(MISSING_INSTANCE) }, config: config() },
        );
        const refused =
            /the deployer's own credentials \(ibmcloud:apiKey\) are refused by kms instance 11111111-2222-4333-8444-555555555555 at http:\/\/127\.0\.0\.1:\d+ too, so this is not a policy still taking effect: the instance does not exist there/;
        const writes = async () => ((await (await fetch(`${emu.url}/__emulator/stats`)).json()) as { writes: number }).writes;
        const writesBefore = await writes();
        const preview = await fails(stack, "preview");
        assert.match(preview.output, /resource 'orders-app-ready': property instanceId value/);
        assert.match(preview.output, refused);
        assert.doesNotMatch(preview.output, GRPC_NOISE);
        assert.strictEqual(await writes(), writesBefore, "the preview created nothing");
        report("nonexistent instance CRN, preview", preview.seconds, preview.output, /refused by kms instance/);

        // `pulumi up --skip-preview` (what the Automation API runs): the identity is made, then the gate asks as the deployer first
        const up = await fails(stack, "up");
        assert.match(up.output, refused);
        assert.doesNotMatch(up.output, /Timed out after 120 s/);
        assert.doesNotMatch(up.output, GRPC_NOISE);
        report("nonexistent instance CRN, up --skip-preview", up.seconds, up.output, /refused by kms instance/);
        await stack.destroy();
        await stack.remove();
    });

    it("an IAM endpoint nothing listens on: the error names the URL and the setting it came from", async function () {
        const port = await closedPort();
        const stack = await sandbox.programStack(
            "no-iam",
            { module: "firstMistakes", export: "quickStart" },
            {
                params: { instanceCrn: crnOf(emu.instances[0].guid) },
                config: config({ "ibmcloud:iamEndpoint": `http://127.0.0.1:${port}` }),
            },
        );
        const { output, seconds } = await fails(stack, "up");
        assert.match(
            output,
            new RegExp(
                `could not connect to http://127\\.0\\.0\\.1:${port} \\(connection refused: nothing listens there\\); that URL is stack config ibmcloud:iamEndpoint: correct it with \`pulumi config set ibmcloud:iamEndpoint <url>\``,
            ),
        );
        assert.match(output, /gave up after 3 attempts/);
        report("unreachable IAM endpoint, up", seconds, output, /could not connect to/);
        await stack.destroy();
        await stack.remove();
    });

    it("no ibmcloud:apiKey (nor ibm:ibmcloudApiKey, IC_API_KEY, IBMCLOUD_API_KEY): `preview` fails naming all four", async function () {
        const before = ((await (await fetch(`${emu.url}/__emulator/stats`)).json()) as { requests: number }).requests;
        const stack = await sandbox.programStack(
            "no-key",
            { module: "firstMistakes", export: "quickStart" },
            {
                params: { instanceCrn: crnOf(emu.instances[0].guid) },
                config: config({ "ibmcloud:apiKey": undefined }),
            },
        );
        const { output, seconds } = await fails(stack, "preview");
        assert.match(
            output,
            /ibmcloud:apiKey: no IBM Cloud API key is configured \(looked for stack config ibmcloud:apiKey, then ibm:ibmcloudApiKey, then IC_API_KEY and IBMCLOUD_API_KEY in the environment\)/,
        );
        assert.doesNotMatch(output, GRPC_NOISE);
        const after = ((await (await fetch(`${emu.url}/__emulator/stats`)).json()) as { requests: number }).requests;
        assert.strictEqual(after, before, "no request to IBM");
        report("missing ibmcloud:apiKey, preview", seconds, output, /no IBM Cloud API key/);
        await stack.remove();
    });

    it('keyRingId "orders_keys!": the program fails at its own line, with no gRPC noise after it', async function () {
        const stack = await sandbox.programStack(
            "bad-ring",
            { module: "firstMistakes", export: "quickStart" },
            {
                params: { instanceCrn: crnOf(emu.instances[0].guid), keyRingId: "orders_keys!" },
                config: config(),
            },
        );
        const { output, seconds } = await fails(stack, "preview");
        assert.match(output, /KmsKeyRing orders-keys: invalid arguments: keyRingId: keyRingId must be 2 to 100 letters, digits or dashes/);
        assert.match(output, /firstMistakes\.(js|ts):\d+/, "the stack trace points at the program's line");
        assert.doesNotMatch(output, GRPC_NOISE);
        report("keyRingId orders_keys!, preview", seconds, output, /invalid arguments: keyRingId/);
        await stack.remove();
    });

    it('keyRingId "orders_keys!" known only as an Output: `preview` fails in check, naming it', async function () {
        const stack = await sandbox.programStack(
            "bad-ring-late",
            { module: "firstMistakes", export: "quickStart" },
            {
                params: { instanceCrn: crnOf(emu.instances[0].guid), keyRingId: "orders_keys!", late: true },
                config: config(),
            },
        );
        const { output, seconds } = await fails(stack, "preview");
        assert.match(
            output,
            /resource 'orders-keys': property keyRingId value \{orders_keys!\} has a problem: keyRingId must be 2 to 100 letters, digits or dashes/,
        );
        // Not asserted here: when a check fails while a component's registerOutputs RPC is still pending, the engine
        // stops with it unanswered and @pulumi/pulumi (runtime/resource.js, runAsyncResourceOp) re-rejects the gRPC
        // UNAVAILABLE as an unhandled exception that the program then fails to log. Values known at construction (the
        // test above) never get there; this counts what is left, for the record.
        console.log(`      [gRPC noise lines] ${output.split("\n").filter((l) => GRPC_NOISE.test(l)).length}; output ${output.split("\n").length} lines`);
        report("keyRingId orders_keys! as an Output, preview", seconds, output, /property keyRingId/);
        await stack.remove();
    });
});
