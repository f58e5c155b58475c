// Secrets hygiene through the real engine: a stack holding every kind of secret the project
// handles — the deployer's key (stack config), a bring-your-own API key value, generated keys, the
// KmsAccess key and the tokens minted with it, imported KMS key material — goes through up, failing
// updates, a failing refresh, a preview whose component token call fails, a preview refused by check
// for arguments holding a key value and key material, and destroy, with the
// emulator injecting faults and a proxy echoing credentials, and the engine at its most talkative
// (--debug, -v=9 --logtostderr, --logflow). Every line the engine printed, the exported state and any
// log file written are searched for every secret that crossed the wire.
//
// One source is excluded, and it is Pulumi's own, not this project's: at --debug the Node.js SDK
// (@pulumi/pulumi 3.248, runtime/resource.js) logs `RegisterResource RPC finished: …; resp: ${response}`
// — the engine's whole answer, secret outputs included, each printed as
// `4dabf…388d,,,1b47…4270,value,,,<plaintext>` (a protobuf message's toString). Pulumi gates the same
// dump behind excessive_debug_output in the Python SDK (pulumi/pulumi#24479, following #24478 for
// Node.js). Only occurrences in exactly that form are set aside (PULUMI_SDK_SECRET_DUMP), counted and
// reported; any other occurrence anywhere fails the test. The Go engine's own -v=9 logs held none.
// The program is test/e2e/programs/secretSweep.ts, run by the engine in its own process (its secret
// parameters are secret stack config, so Pulumi.sweep.yaml holds them encrypted).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { startEmulator, RunningEmulator } from "../../emulator";
import { describeLeaks, Leak, needlesFor, SecretTap, startSecretTap, distinctive } from "../support/secretTap";
import { createSandbox, EngineError, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS, REPO_ROOT } from "./support/engine";
import { SECRET_SIG, SIG_KEY } from "../support/pulumiWire";

const OWNER_KEY = distinctive("e2eSweepOwnerKey-");
const BYO_KEY = distinctive("e2eSweepByoKey-");
const PAYLOAD = Buffer.from("e2e-sweep-key-material-32-bytes!").toString("base64");
/** A bring-your-own value check refuses (whitespace). */
const BAD_VALUE = `${distinctive("e2eSweepBadValue-")} x`;

/** The engine's maximum logging, on every operation. */
const VERBOSE = { debug: true, logVerbosity: 9, logToStdErr: true, logFlow: true };

describe("e2e: secrets stay out of everything the engine prints and stores, at full verbosity, under faults", function () {
    this.timeout(4 * ENGINE_OP_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let tap: SecretTap;
    let stack: EngineStack;
    let tmpDir: string;
    let faultsInFirstUp = 0;
    let upRuns = 1;
    /** The checkpoint after the first up (secrets must be ciphertext in it). */
    let stateText = "";
    const chosen = [OWNER_KEY, BYO_KEY, PAYLOAD, BAD_VALUE];
    /** Secret values the engine reported as stack outputs (decrypted). */
    const outputs: string[] = [];

    const secrets = () => [...new Set([...tap.values(), ...chosen, ...outputs])];

    function remember(outs: Record<string, { value: unknown; secret: boolean }>): void {
        for (const o of Object.values(outs ?? {})) {
            if (!o.secret) continue;
            const v = o.value as unknown;
            if (typeof v === "string" && v.length >= 8) outputs.push(v);
            if (v && typeof v === "object" && typeof (v as { accessToken?: unknown }).accessToken === "string")
                outputs.push((v as { accessToken: string }).accessToken);
        }
    }

    /** Runs an engine operation that may fail; its output is in stack.log either way. */
    async function attempt<T>(op: () => Promise<T>): Promise<T | EngineError> {
        try {
            return await op();
        } catch (err) {
            if (err instanceof EngineError) return err;
            throw err;
        }
    }

    /** An engine operation that must succeed; a failure is reported by its error lines only (see errorLines). */
    async function must<T>(op: () => Promise<T>): Promise<T> {
        const r = await attempt(op);
        if (r instanceof EngineError) throw new Error(`pulumi ${r.operation} failed:\n${errorLines(r.output)}`);
        return r;
    }

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0, ownerApiKey: OWNER_KEY, faultSeed: 6 });
        tap = await startSecretTap(emu.url);
        fs.mkdirSync(path.join(REPO_ROOT, ".tools", "e2e"), { recursive: true });
        tmpDir = fs.mkdtempSync(path.join(REPO_ROOT, ".tools", "e2e", "secret-sweep-tmp-"));
        // Log files (if the engine or a plugin writes any) land where they can be searched.
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "", TMPDIR: tmpDir } });
        stack = await sandbox.programStack(
            "sweep",
            { module: "secretSweep", export: "sweep" },
            {
                projectName: "secret-sweep",
                params: {
                    instanceId: emu.instances[0].guid,
                    byoKey: BYO_KEY,
                    payload: PAYLOAD,
                    badValue: BAD_VALUE,
                    description: "first",
                    failToken: false,
                    badInput: false,
                },
                secretParams: ["byoKey", "payload", "badValue"],
                config: {
                    "ibmcloud:apiKey": { value: OWNER_KEY, secret: true },
                    "ibmcloud:iamEndpoint": { value: tap.url },
                    "ibmcloud:kmsEndpoint": { value: tap.url },
                },
            },
        );
    });
    after(async function () {
        this.timeout(ENGINE_OP_TIMEOUT_MS);
        await sandbox?.cleanup();
        await tap?.stop();
        await emu?.stop();
        if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
    });

    it("runs up under faults, failing updates, a failing refresh, failing previews, and destroy, at full verbosity", async function () {
        // 1. up while 20 % of IBM requests are turned away or reset, and the first token requests echo the key.
        emu.addFaults([
            { kind: "status", status: 503, count: 2, retryAfterSeconds: 0 },
            ...["/v1/**", "/api/v2/**"].flatMap((path) => [
                { kind: "status" as const, path, status: 503, probability: 0.1, retryAfterSeconds: 0 },
                { kind: "status" as const, path, status: 429, probability: 0.1, retryAfterSeconds: 0 },
                { kind: "reset-before" as const, path, method: "GET", probability: 0.1 },
            ]),
        ]);
        // (with the emulator's first two 503s, at most four failures in a row: the client's fifth attempt gets through)
        tap.setRules([{ path: /^\/identity\/token$/, count: 2, action: { kind: "echo", status: 500, retryAfter: "0" } }]);
        let up = await attempt(() => stack.up(VERBOSE));
        faultsInFirstUp = emu.stats().faultsInjected.total;
        emu.clearFaults();
        tap.setRules([]);
        if (up instanceof EngineError || up.result.summary.result !== "succeeded") {
            process.stdout.write(`      (the first up under faults failed: ${errorLines(up.output).slice(0, 600)})\n`);
            upRuns++;
            up = await must(() => stack.up(VERBOSE)); // converge
        }
        assert.ok(!(up instanceof EngineError));
        assert.strictEqual(up.result.summary.result, "succeeded", errorLines(up.output));
        remember(up.result.outputs);
        assert.ok(outputs.length >= 4, "the secret outputs (keys, token) are searched too");
        stateText = await stack.exportStateText();

        // 2. an update refused by an echoing IAM: the engine prints the providers' errors.
        await stack.setParams({ description: "second" });
        tap.setRules([{ method: "PUT", path: /^\/v1\/apikeys\/[^/]+$/, action: { kind: "echo", status: 403 } }]);
        const failedUp = await attempt(() => stack.up(VERBOSE));
        assert.ok(failedUp instanceof EngineError, "the update failed");
        assert.ok(
            /update API key failed: 403 .*\[REDACTED\]/.test(failedUp.output),
            `the echoed credential reached the engine's output, redacted:\n${errorLines(failedUp.output)}`,
        );
        tap.setRules([]);

        // 3. a refresh while IAM's token endpoint echoes the key back in a 400.
        tap.setRules([{ path: /^\/identity\/token$/, action: { kind: "echo", status: 400 } }]);
        const failedRefresh = await attempt(() => stack.refresh(VERBOSE));
        assert.ok(failedRefresh instanceof EngineError, "the refresh failed");
        assert.ok(/get IAM access token failed: 400 \(BXNIM0415E\)/.test(failedRefresh.output), errorLines(failedRefresh.output));

        // 4. a preview whose program asks the component for a token that IAM refuses (the program fails).
        await stack.setParams({ failToken: true });
        const failedPreview = await attempt(() => stack.preview(VERBOSE));
        assert.ok(failedPreview instanceof EngineError, "the preview failed");
        assert.ok(
            /get IAM access token failed: 400/.test(failedPreview.output),
            `the component's token error is printed:\n${errorLines(failedPreview.output)}`,
        );
        tap.setRules([]);

        // 5. a preview refused by check: arguments holding a key value and key material are invalid.
        await stack.setParams({ failToken: false, badInput: true });
        const refused = await attempt(() => stack.preview(VERBOSE));
        await stack.setParams({ badInput: false });
        assert.ok(refused instanceof EngineError, "the preview failed");
        assert.ok(
            /apikey must not contain whitespace|an imported root key must be 16, 24 or 32 bytes/.test(refused.output),
            `check refused it:\n${errorLines(refused.output)}`,
        );

        // 6. destroy under turned-away requests.
        emu.addFaults([
            { kind: "status", status: 503, count: 2, retryAfterSeconds: 0 },
            { kind: "status", status: 503, probability: 0.2, retryAfterSeconds: 0 },
            { kind: "reset-before", method: "DELETE", probability: 0.2 },
        ]);
        const destroyed = await must(() => stack.destroy(VERBOSE));
        emu.clearFaults();
        assert.strictEqual(destroyed.result.summary.result, "succeeded", errorLines(destroyed.output));
        assert.ok(faultsInFirstUp > 0, "the emulator injected faults during the first up");
        process.stdout.write(
            `      (${faultsInFirstUp} emulator faults in the first up, ${emu.stats().faultsInjected.total} in all; up runs to converge: ${upRuns}; ` +
                `proxy rules fired ${JSON.stringify(tap.fired)})\n`,
        );
    });

    it("no output, log file or stored state holds a key, a token or key material (Pulumi's own SDK debug dump aside)", async function () {
        const values = secrets();
        assert.ok(values.includes(OWNER_KEY) && values.includes(BYO_KEY), "the chosen keys crossed the wire");
        assert.ok(values.filter((v) => v.startsWith("eyJ")).length >= 3, "tokens minted by the emulator are searched");
        const sources: Array<[string, string]> = [
            ["engine output (stdout and stderr of every operation)", stack.log],
            ["exported state", stateText],
        ];
        // (work/: the program's project folder, whose Pulumi.sweep.yaml holds the secret parameters, encrypted)
        const files = listFiles(tmpDir).concat(listFiles(path.join(sandbox.dir, "home")), listFiles(path.join(sandbox.dir, "work")));
        for (const f of files) sources.push([`file ${path.relative(REPO_ROOT, f)}`, fs.readFileSync(f, "utf8")]);
        let pulumiDump = 0;
        const ours: Leak[] = [];
        for (const [source, text] of sources) {
            for (const at of occurrences(text, values)) {
                if (source.startsWith("engine output") && isPulumiSdkSecretDump(text, at.index)) pulumiDump++;
                else ours.push({ source, needle: at.what, context: `${text.slice(Math.max(0, at.index - 80), at.index)}<SECRET>` });
            }
        }
        process.stdout.write(
            `      (${stack.log.split("\n").length} lines of engine output, ${files.length} files, the state, ${values.length} secret values; ` +
                `${pulumiDump} occurrences in Pulumi's own SDK debug dump of RPC responses, set aside)\n`,
        );
        assert.ok(ours.length === 0, `secrets outside Pulumi's own debug dump:\n${describeLeaks(ours)}`);
        assert.ok(stateText.includes("ciphertext") && stateText.includes("ApiKey-"), "the state searched is the real one");
    });
});

/** How Pulumi's Node.js SDK prints a secret value when it dumps an RPC response at --debug. */
const PULUMI_SDK_SECRET_DUMP = `${SIG_KEY},,,${SECRET_SIG},value,,,`;

/** The occurrence at `index` is a value in Pulumi's `… RPC finished: …; resp: …` debug dump, printed as a secret-wrapped protobuf value. */
function isPulumiSdkSecretDump(text: string, index: number): boolean {
    return text.slice(Math.max(0, index - PULUMI_SDK_SECRET_DUMP.length), index) === PULUMI_SDK_SECRET_DUMP && text.lastIndexOf("RPC finished: ", index) >= 0;
}

/** Every occurrence of every form of every secret (see needlesFor), and of anything JWT-shaped. */
function occurrences(text: string, secrets: string[]): Array<{ index: number; what: string }> {
    const out: Array<{ index: number; what: string }> = [];
    // Characters already accounted for by an occurrence (a piece inside a whole secret is not another one).
    const covered: Array<[number, number]> = [];
    const inside = (i: number) => covered.some(([a, b]) => i >= a && i < b);
    // Whole values first, then pieces: a piece inside a whole value found before is not counted again.
    const forms = [
        ...secrets.map((secret) => ({ secret, needles: [secret] })),
        ...secrets.map((secret) => ({ secret, needles: needlesFor(secret).filter((n) => n !== secret) })),
    ];
    for (const { secret, needles } of forms) {
        for (const needle of needles) {
            for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
                if (inside(i)) continue;
                covered.push([i, i + needle.length]);
                out.push({ index: i, what: `${needle === secret ? "whole" : "piece"} of a ${secret.length}-char secret starting ${secret.slice(0, 4)}…` });
            }
        }
    }
    for (const m of text.matchAll(/eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}/g)) {
        if (!inside(m.index ?? 0)) out.push({ index: m.index ?? 0, what: "a JWT" });
    }
    return out;
}

/**
 * The `error:` lines of an engine output, for assertion messages: the whole output is not printed,
 * because at --debug it holds Pulumi's SDK dump of secret values (see the file comment).
 */
function errorLines(output: string): string {
    const lines = output.split("\n").filter((l) => /^\s*error: |\berror: /.test(l) && !l.includes("RPC finished"));
    return [...new Set(lines.map((l) => l.trim()))].slice(0, 8).join("\n");
}

function listFiles(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    const out: string[] = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
            if (e.name === "plugins" || e.name === "node_modules") continue;
            out.push(...listFiles(p));
        } else if (e.isFile() && fs.statSync(p).size < 64 * 1024 * 1024) out.push(p);
    }
    return out;
}
