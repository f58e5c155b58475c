// KMS by instance CRN, key rings and service-to-service authorization through the real engine: the producer
// example (root Pulumi.yaml → examples/hpcs-identity) on a Key Protect instance given by its CRN makes a key
// ring, a root key in it with a rotation policy, and a COS authorization scoped to that key; the application
// (examples/kms-app, a plain Node program reading the stack's outputs with `pulumi stack output
// --show-secrets`) encrypts with a data key wrapped by the root key; a new `rootKeyRotation` rotates the key
// in place; the old file still decrypts and rewrap moves it to the new version; with its policy removed the
// application is refused; destroy leaves nothing behind.
import * as assert from "assert";
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { IamClient, IamTokenManager, KmsClient } from "../../client";
import { startEmulator, RunningEmulator } from "../../emulator";
import { createSandbox, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS, REPO_ROOT } from "./support/engine";

const COS_INSTANCE = "5b6a7c8d-1e2f-4a3b-9c4d-5e6f7a8b9c0d";
const APP = path.join(REPO_ROOT, "build", "examples", "kms-app", "index.js");
const T = (type: string) => `pulumi-nodejs:dynamic/ibmcloud-iam:${type}`;

interface AdminState {
    owner: { iam_id: string };
    serviceIds: Array<{ id: string }>;
    apiKeys: Array<{ id: string; iam_id: string }>;
    policies: Array<{ id: string; state: string; type: string }>;
    kmsKeys: Array<{ id: string; createdBy: string; deleted: boolean; keyRing: string }>;
}

describe("e2e: a Key Protect stack with a key ring, a rotating root key and a COS authorization, used by an application", function () {
    this.timeout(ENGINE_OP_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let producer: EngineStack;
    let owner: IamClient;
    let guid: string;
    let workDir: string;
    const stackName = `e2e-kmsapp-${crypto.randomBytes(3).toString("hex")}`;

    async function state(): Promise<AdminState> {
        return (await (await fetch(`${emu.url}/__emulator/state`)).json()) as AdminState;
    }
    /** Runs the application as a user does, reading the stack's outputs itself. */
    function app(...args: string[]): Promise<{ code: number; out: Record<string, unknown>; stderr: string }> {
        const env = { ...process.env, ...sandbox.env, IBMCLOUD_IAM_API_ENDPOINT: emu.url };
        const argv = [APP, ...args, "--file", path.join(workDir, "message.json"), "--from-stack", REPO_ROOT, "--stack", stackName];
        return new Promise((resolve) => {
            execFile(process.execPath, argv, { env, timeout: 60_000 }, (err, stdout, stderr) => {
                const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
                resolve({ code, out: stdout.trim() ? JSON.parse(stdout.trim().split("\n").pop() as string) : {}, stderr });
            });
        });
    }

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }], policyPropagationDelayMs: 500 });
        guid = emu.instances[0].guid;
        owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "kms-app-"));
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        producer = await sandbox.projectStack(stackName, REPO_ROOT, {
            config: {
                "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
                "ibmcloud:iamEndpoint": { value: emu.url },
                "ibmcloud:kmsEndpoint": { value: emu.url },
                instanceCrn: { value: `crn:v1:bluemix:public:kms:us-south:a/${emu.accountId}:${guid}::` },
                cosInstanceId: { value: COS_INSTANCE },
            },
        });
    });
    after(async function () {
        this.timeout(ENGINE_OP_TIMEOUT_MS);
        await sandbox?.cleanup();
        await owner?.http.close();
        await emu?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    let outs: Record<string, { value: unknown; secret?: boolean }>;

    it("up: the instance by CRN (Key Protect), a ring, the root key in it with its rotation policy, a COS authorization for that key", async function () {
        const { result, output } = await producer.up();
        assert.strictEqual(result.summary.result, "succeeded", output);
        outs = result.outputs;
        assert.deepStrictEqual([outs.service.value, outs.instanceId.value, outs.keyRingId.value], ["kms", guid, "app-keys"]);
        assert.strictEqual(outs.apiKey.secret, true);
        const key = (await state()).kmsKeys.find((k) => k.id === outs.rootKeyId.value);
        assert.deepStrictEqual([key?.keyRing, key?.createdBy], ["app-keys", outs.iamId.value]);
        const kms = new KmsClient({ endpoint: emu.url, instanceId: guid, tokenSource: () => owner.tokens.getToken(), httpClient: owner.http });
        assert.deepStrictEqual((await kms.getKeyPolicies(String(outs.rootKeyId.value))).rotation, { enabled: true, intervalMonth: 3 });
        const auth = await owner.getPolicy(String(outs.cosAuthorizationPolicyId.value));
        assert.strictEqual(auth.policy.type, "authorization");
        assert.ok(JSON.stringify(auth.policy.resources).includes(String(outs.rootKeyId.value)), "scoped to the root key");

        // COS, as the emulator lets a test act as it, may use the root key once the authorization applies.
        const res = await fetch(`${emu.url}/__emulator/service-token`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ serviceName: "cloud-object-storage", serviceInstance: COS_INSTANCE }),
        });
        const cosToken = ((await res.json()) as { access_token: string }).access_token;
        const cos = new KmsClient({ endpoint: emu.url, instanceId: guid, tokenSource: async () => cosToken, httpClient: owner.http });
        let wrapped: Buffer | undefined;
        for (const deadline = Date.now() + 10_000; !wrapped && Date.now() < deadline; ) {
            wrapped = await cos.wrap(String(outs.rootKeyId.value), Buffer.alloc(32, 5)).catch(async () => {
                await new Promise((r) => setTimeout(r, 100));
                return undefined;
            });
        }
        assert.ok(wrapped, "COS wraps with the root key");
        assert.ok(!(await producer.exportStateText()).includes(String(outs.apiKey.value)), "no plaintext apiKey in state");
    });

    it("the application encrypts with a data key wrapped by the root key, and decrypts", async function () {
        const enc = await app("encrypt", "--message", "order 42: ship it");
        assert.strictEqual(enc.code, 0, enc.stderr);
        assert.strictEqual(enc.out.keyVersion, outs.rootKeyVersion.value);
        const file = fs.readFileSync(path.join(workDir, "message.json"), "utf8");
        assert.ok(!file.includes("order 42"), "the message is not in the file in plaintext");
        const dec = await app("decrypt");
        assert.deepStrictEqual([dec.code, dec.out.message], [0, "order 42: ship it"], dec.stderr);
    });

    it("a new rootKeyRotation rotates the key in place; the old file still decrypts, rewrap moves it to the new version", async function () {
        await producer.setConfig("rootKeyRotation", "1");
        const { result, output } = await producer.up();
        assert.strictEqual(result.summary.result, "succeeded", output);
        assert.deepStrictEqual(result.summary.resourceChanges, { same: result.summary.resourceChanges?.same, update: 1 }, "one update, no replacement");
        assert.strictEqual(result.outputs.rootKeyId.value, outs.rootKeyId.value, "the same key");
        assert.notStrictEqual(result.outputs.rootKeyVersion.value, outs.rootKeyVersion.value);
        assert.ok(typeof result.outputs.rootKeyLastRotateDate.value === "string");
        const newVersion = result.outputs.rootKeyVersion.value;

        const old = await app("decrypt");
        assert.deepStrictEqual(
            [old.code, old.out.message, old.out.keyVersion, old.out.newerKeyVersion],
            [0, "order 42: ship it", outs.rootKeyVersion.value, newVersion],
            old.stderr,
        );
        const rewrap = await app("rewrap");
        assert.deepStrictEqual([rewrap.code, rewrap.out.keyVersion], [0, newVersion], rewrap.stderr);
        const after = await app("decrypt");
        assert.deepStrictEqual([after.out.message, after.out.keyVersion, after.out.newerKeyVersion], ["order 42: ship it", newVersion, undefined]);
    });

    it("with its access policy removed, the application is refused (exit 3), saying why and showing no secret", async function () {
        assert.ok(await owner.deletePolicy(String(outs.policyId.value)));
        const refused = await app("decrypt");
        assert.strictEqual(refused.code, 3, refused.stderr);
        assert.match(refused.stderr, /refused by KMS .* policy/);
        assert.ok(!refused.stderr.includes(String(outs.apiKey.value)));
    });

    it("destroy (the service ID refused, the deployer's credentials step in) leaves no service ID, policy, live key or ring", async function () {
        const [ring] = await producer.resourcesOfType(T("KmsKeyRing"));
        assert.strictEqual(ring.outputs.keyRingId, "app-keys");
        const { result, output } = await producer.destroy();
        assert.strictEqual(result.summary.result, "succeeded", output);
        const s = await state();
        assert.deepStrictEqual(s.serviceIds, []);
        assert.deepStrictEqual(
            s.apiKeys.filter((k) => k.iam_id !== s.owner.iam_id),
            [],
        );
        assert.deepStrictEqual(
            s.policies.filter((p) => p.state === "active"),
            [],
            "no access or authorization policy left",
        );
        assert.deepStrictEqual(
            s.kmsKeys.filter((k) => !k.deleted),
            [],
        );
        const kms = new KmsClient({ endpoint: emu.url, instanceId: guid, tokenSource: () => owner.tokens.getToken(), httpClient: owner.http });
        assert.deepStrictEqual(
            (await kms.listKeyRings()).map((r) => r.id),
            ["default"],
        );
        await producer.remove();
    });
});
