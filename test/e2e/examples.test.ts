// The example stacks as a user runs them: the repo-root Pulumi.yaml project (examples/hpcs-identity)
// and examples/kms-consumer, through the real engine against the emulator. The consumer reads the
// producer's secret apiKey through a StackReference and creates its own key AS the producer's service
// ID; no stored state holds the key in plaintext; destroying both leaves nothing behind.
import * as assert from "assert";
import * as crypto from "crypto";
import * as path from "path";
import { startEmulator, RunningEmulator } from "../../emulator";
import { createSandbox, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS, REPO_ROOT } from "./support/engine";

const PRODUCER_PROJECT = "pulumi-ibmcloud-iam-example";

interface AdminState {
    owner: { iam_id: string };
    serviceIds: Array<{ id: string; iam_id: string; name: string }>;
    apiKeys: Array<{ id: string; iam_id: string }>;
    policies: Array<{ id: string; state: string }>;
    kmsKeys: Array<{ id: string; createdBy: string; deleted: boolean; name: string }>;
}

describe("e2e: the example stacks (root Pulumi.yaml and examples/kms-consumer)", function () {
    this.timeout(ENGINE_OP_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let producer: EngineStack;
    let consumer: EngineStack;
    // Pulumi.<stack>.yaml lands in the repo's folders: a name of this run's own.
    const stackName = `e2e-examples-${crypto.randomBytes(3).toString("hex")}`;

    async function state(): Promise<AdminState> {
        return (await (await fetch(`${emu.url}/__emulator/state`)).json()) as AdminState;
    }

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0 });
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        producer = await sandbox.projectStack(stackName, REPO_ROOT, {
            config: {
                "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
                "ibmcloud:iamEndpoint": { value: emu.url },
                "ibmcloud:kmsEndpoint": { value: emu.url },
                // The HPCS alternative (the emulator's default instance): instanceId with service hs-crypto.
                instanceId: { value: emu.instances[0].guid },
                service: { value: "hs-crypto" },
                region: { value: emu.instances[0].region },
            },
        });
        consumer = await sandbox.projectStack(stackName, path.join(REPO_ROOT, "examples", "kms-consumer"), {
            config: {
                producerStack: { value: `organization/${PRODUCER_PROJECT}/${stackName}` },
                "ibmcloud:iamEndpoint": { value: emu.url },
            },
        });
    });
    after(async function () {
        this.timeout(ENGINE_OP_TIMEOUT_MS);
        await sandbox?.cleanup();
        await emu?.stop();
    });

    let apiKey = "";
    let iamId = "";

    it("up: the producer makes the identity and a root key as it; secrets are secret", async function () {
        const { result, output } = await producer.up();
        assert.strictEqual(result.summary.result, "succeeded", output);
        const o = result.outputs;
        apiKey = String(o.apiKey.value);
        iamId = String(o.iamId.value);
        assert.match(iamId, /^iam-ServiceId-/);
        assert.strictEqual(o.apiKey.secret, true);
        assert.strictEqual(o.token.secret, true);
        assert.strictEqual(o.rootKeyCreatedBy.value, iamId);
        for (const k of ["serviceId", "apiKeyId", "policyId", "instanceId", "kmsEndpoint", "rootKeyId", "rootKeyCrn"]) {
            assert.ok(typeof o[k]?.value === "string" && o[k].value !== "", `output ${k}`);
        }
        assert.ok(Number(o.tokenExpiration.value) > Date.now() / 1000 + 3000);
    });

    it("up: the consumer creates its own key as the producer's service ID, with the apiKey from the StackReference", async function () {
        const { result, output } = await consumer.up();
        assert.strictEqual(result.summary.result, "succeeded", output);
        const keyId = String(result.outputs.keyId.value);
        assert.strictEqual(result.outputs.tokenIamId.value, iamId);
        const key = (await state()).kmsKeys.find((k) => k.id === keyId);
        assert.ok(key && !key.deleted, "the consumer's key exists in the emulator");
        assert.strictEqual(key.createdBy, iamId);
    });

    it("the stored state of both stacks has no plaintext apiKey", async function () {
        assert.ok(apiKey.length >= 32);
        assert.ok(!(await producer.exportStateText()).includes(apiKey), "producer state");
        assert.ok(!(await consumer.exportStateText()).includes(apiKey), "consumer state");
    });

    it("destroy of both leaves no service ID, service-ID key, active policy or live KMS key", async function () {
        const c = await consumer.destroy();
        assert.strictEqual(c.result.summary.result, "succeeded", c.output);
        const p = await producer.destroy();
        assert.strictEqual(p.result.summary.result, "succeeded", p.output);
        const s = await state();
        assert.deepStrictEqual(s.serviceIds, []);
        assert.deepStrictEqual(
            s.apiKeys.filter((k) => k.iam_id !== s.owner.iam_id),
            [],
        );
        assert.deepStrictEqual(
            s.policies.filter((x) => x.state === "active"),
            [],
        );
        assert.deepStrictEqual(
            s.kmsKeys.filter((k) => !k.deleted),
            [],
        );
        await consumer.remove();
        await producer.remove();
    });
});
