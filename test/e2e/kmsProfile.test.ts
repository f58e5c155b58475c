// The secretless example end to end through the real engine against the emulator: a deployer that holds
// no API key (a trusted profile of its own, logged in from a compute-resource token: IBMCLOUD_CR_PROFILE +
// IBMCLOUD_CR_TOKEN=@file, nothing else) runs `pulumi up` of examples/kms-profile, which gives the orders
// service a trusted profile linked to its Kubernetes service account, waits until KMS accepts it and makes
// a root key. No secret is in state or outputs, and no API key exists for the application. Then the app
// (examples/kms-profile-app) trades its own minted compute-resource token and wraps and unwraps with the
// root key; a service account the profile is not linked to is refused; destroy leaves nothing behind.
import * as assert from "assert";
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startEmulator, RunningEmulator } from "../../emulator";
import { IamClient, IamTokenManager, TrustedProfileClient } from "../../client";
import { createSandbox, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS, REPO_ROOT } from "./support/engine";
import { SECRET_SIG, SIG_KEY } from "../support/pulumiWire";

const APP = path.join(REPO_ROOT, "build", "examples", "kms-profile-app", "index.js");
const CREDENTIAL_ENV = ["IC_API_KEY", "IBMCLOUD_API_KEY", "IC_IAM_PROFILE_ID", "IBMCLOUD_IAM_PROFILE_ID", "IC_IAM_PROFILE_NAME", "IBMCLOUD_IAM_PROFILE_NAME"];

/** Where a checkpoint holds a secret value (Pulumi's secret signature), with the value's length. */
function secretsIn(v: unknown, at = ""): string[] {
    if (v === null || typeof v !== "object") return [];
    const o = v as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) return [`${at} (${String(o.plaintext ?? o.ciphertext ?? "").length} chars)`];
    return Object.entries(o).flatMap(([k, x]) => secretsIn(x, `${at}/${k}`));
}

function run(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    const clean: NodeJS.ProcessEnv = { ...process.env };
    for (const k of [...CREDENTIAL_ENV, "IBMCLOUD_CR_TOKEN", "IBMCLOUD_CR_PROFILE"]) delete clean[k];
    return new Promise((resolve) => {
        execFile(process.execPath, [APP], { env: { ...clean, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
            resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
        });
    });
}

describe("e2e: a secretless KmsAccess (trusted profile), deployed with no API key, and the app on it", function () {
    this.timeout(ENGINE_OP_TIMEOUT_MS);
    let emu: RunningEmulator;
    let owner: IamClient;
    let sandbox: EngineSandbox;
    let stack: EngineStack;
    let dir: string;
    let deployer: { id: string; iam_id: string };
    const tokens: string[] = [];
    let appTokenFile = "";
    const stackName = `e2e-kms-profile-${crypto.randomBytes(3).toString("hex")}`;
    const cluster = (name: string) => `crn:v1:bluemix:public:containers-kubernetes:us-south:a/${emu.accountId}:${name}::`;

    async function mint(clusterName: string, namespace: string, name: string): Promise<string> {
        const res = await fetch(`${emu.url}/__emulator/compute-resource-token`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ crType: "IKS_SA", crn: cluster(clusterName), namespace, name }),
        });
        assert.strictEqual(res.status, 200);
        const { token } = (await res.json()) as { token: string };
        tokens.push(token);
        const file = path.join(dir, `${namespace}-${name}.token`);
        fs.writeFileSync(file, token, { mode: 0o600 });
        return file;
    }

    async function grant(iamId: string, role: string, attributes: Array<{ name: string; value: string }>): Promise<void> {
        await owner.createPolicy({
            type: "access",
            subjects: [{ attributes: [{ name: "iam_id", value: iamId }] }],
            roles: [{ role_id: role }],
            resources: [{ attributes: [{ name: "accountId", value: emu.accountId }, ...attributes] }],
        });
    }

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0, policyPropagationDelayMs: 1000 });
        owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "kms-profile-e2e-"));
        // The CI job's identity, set up once by an administrator: a profile its service account may act as,
        // allowed to manage identities, policies and KMS keys. The job itself never sees an API key.
        const profiles = new TrustedProfileClient(owner);
        deployer = await profiles.createProfile({ name: "ci-deployer" });
        await profiles.createLink(deployer.id, { cr_type: "IKS_SA", link: { crn: cluster("ci-cluster"), namespace: "ci", name: "pulumi" } });
        await grant(deployer.iam_id, "crn:v1:bluemix:public:iam::::role:Administrator", [{ name: "serviceName", value: "iam-identity" }]);
        const instance = [
            { name: "serviceName", value: emu.instances[0].service },
            { name: "serviceInstance", value: emu.instances[0].guid },
        ];
        // Manager: keys; Administrator: grant roles on the instance to others (the application's profile).
        await grant(deployer.iam_id, "crn:v1:bluemix:public:iam::::serviceRole:Manager", instance);
        await grant(deployer.iam_id, "crn:v1:bluemix:public:iam::::role:Administrator", instance);
        const deployerTokenFile = await mint("ci-cluster", "ci", "pulumi");
        appTokenFile = await mint("orders-cluster", "orders", "api");

        const env: Record<string, string> = { IBMCLOUD_CR_PROFILE: deployer.id, IBMCLOUD_CR_TOKEN: `@${deployerTokenFile}` };
        for (const k of CREDENTIAL_ENV) env[k] = ""; // set to nothing, whatever the machine running the test has
        sandbox = await createSandbox({ env });
        stack = await sandbox.projectStack(stackName, path.join(REPO_ROOT, "examples", "kms-profile"), {
            config: {
                "ibmcloud:iamEndpoint": { value: emu.url },
                "ibmcloud:kmsEndpoint": { value: emu.url },
                instanceId: { value: emu.instances[0].guid },
                service: { value: emu.instances[0].service },
                region: { value: emu.instances[0].region },
                clusterCrn: { value: cluster("orders-cluster") },
                namespace: { value: "orders" },
                serviceAccount: { value: "api" },
                // The pod's token, as a deployer beside it would have it: `pulumi up` waits until KMS accepts the profile.
                crTokenFile: { value: appTokenFile },
            },
        });
    });
    after(async function () {
        this.timeout(ENGINE_OP_TIMEOUT_MS);
        await sandbox?.cleanup();
        await owner?.http.close();
        await emu?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    let outputs: Record<string, { value: unknown; secret: boolean }> = {};

    it("up as the ci-deployer profile (no API key anywhere): a profile, its link, a policy and a root key; the gate saw KMS accept the profile", async function () {
        const config = await stack.stack.getAllConfig();
        assert.ok(!Object.keys(config).some((k) => /apikey/i.test(k)), "no API key in the stack's config");
        const { result, output } = await stack.up();
        assert.strictEqual(result.summary.result, "succeeded", output);
        outputs = result.outputs;
        assert.match(String(outputs.profileId.value), /^Profile-/);
        assert.strictEqual(outputs.iamId.value, `iam-${outputs.profileId.value}`);
        assert.strictEqual(outputs.profileName.value, "orders-runtime");
        assert.strictEqual(outputs.accessVerified.value, true);
        assert.strictEqual(outputs.rootKeyCreatedBy.value, deployer.iam_id, "the root key was made by the deployer, a trusted profile itself");
        const gates = await stack.resourcesOfType("pulumi-nodejs:dynamic/ibmcloud-iam:KmsAccessReady");
        assert.strictEqual(gates.length, 1);
        assert.strictEqual(gates[0].outputs.iamId, outputs.iamId.value, "KMS accepted the application's profile");
    });

    it("no secret in state or outputs, and no API key exists for the application", async function () {
        for (const [k, o] of Object.entries(outputs)) assert.strictEqual(o.secret, false, `output ${k} is not a secret: there is none`);
        const text = JSON.stringify(await stack.exportStateWithSecrets());
        const hits = [emu.apiKey, ...tokens].filter((t) => text.includes(t));
        assert.deepStrictEqual(hits, [], "neither the owner's key nor a compute-resource token is in state");
        assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./.test(text), "no JWT (access token) in state");
        const secrets = secretsIn(JSON.parse(text));
        assert.deepStrictEqual(secrets, [], "no secret value at all in state");
        assert.deepStrictEqual(await owner.listApiKeys({ iamId: String(outputs.iamId.value) }), []);
        const admin = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as {
            owner: { apikey_id: string };
            apiKeys: Array<{ id: string }>;
            serviceIds: unknown[];
        };
        assert.deepStrictEqual(
            admin.apiKeys.map((k) => k.id),
            [admin.owner.apikey_id],
            "the only API key in the account is the owner's",
        );
        assert.deepStrictEqual(admin.serviceIds, [], "no service ID was made");
    });

    it("the app trades its compute-resource token for the profile's and wraps and unwraps with the root key; an unlinked service account is refused", async function () {
        const env = {
            IBMCLOUD_IAM_API_ENDPOINT: emu.url,
            KMS_APP_PROFILE_ID: String(outputs.profileId.value),
            KMS_APP_INSTANCE_ID: String(outputs.instanceId.value),
            KMS_APP_ENDPOINT: String(outputs.kmsEndpoint.value),
            KMS_APP_KEY_ID: String(outputs.rootKeyId.value),
        };
        const ok = await run({ ...env, KMS_APP_CR_TOKEN_FILE: appTokenFile });
        assert.strictEqual(ok.code, 0, ok.stderr);
        const line = JSON.parse(ok.stdout.trim()) as { iamId: string; unwrappedIntact: boolean; keyId: string };
        assert.deepStrictEqual(
            { iamId: line.iamId, unwrappedIntact: line.unwrappedIntact, keyId: line.keyId },
            {
                iamId: outputs.iamId.value,
                unwrappedIntact: true,
                keyId: outputs.rootKeyId.value,
            },
        );

        const stranger = await mint("orders-cluster", "orders", "batch");
        const refused = await run({ ...env, KMS_APP_CR_TOKEN_FILE: stranger });
        assert.strictEqual(refused.code, 3, refused.stdout + refused.stderr);
        assert.match(refused.stderr, /BXNIM0442E/);
        for (const t of tokens) assert.ok(!(refused.stdout + refused.stderr + ok.stdout + ok.stderr).includes(t), "no token printed");
    });

    it("destroy (still with no API key) removes the profile, its policy and the key", async function () {
        const { result, output } = await stack.destroy();
        assert.strictEqual(result.summary.result, "succeeded", output);
        const profiles = new TrustedProfileClient(owner);
        const left = (await profiles.listProfiles()).filter((p) => p.name === "orders-runtime");
        assert.deepStrictEqual(left, []);
        assert.deepStrictEqual(await owner.listPolicies({ iamId: String(outputs.iamId.value) }), []);
    });
});
