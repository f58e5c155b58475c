// KmsAccess through the real Pulumi engine against an emulator whose policies take effect with a
// delay: one stack gives an application its identity and a key created as it; a second stack reads the
// first one's secret apiKey through a StackReference and manages its own key with it; a rotation flows
// from one to the other; a too-short wait fails the update clearly; destroy cleans up.
// The programs are test/e2e/programs/kmsAccess.ts, run by the engine in their own processes.
import * as assert from "assert";
import { startEmulator, RunningEmulator } from "../../emulator";
import { createSandbox, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";
import { SECRET_SIG, SIG_KEY } from "../support/pulumiWire";

const PROJECT = "kms-access";
const PROPAGATION_MS = 2000;
const T = (type: string) => `pulumi-nodejs:dynamic/ibmcloud-iam:${type}`;

interface AdminState {
    serviceIds: Array<{ id: string; iam_id: string; name: string }>;
    apiKeys: Array<{ id: string; iam_id: string }>;
    policies: Array<{ id: string; state: string }>;
    kmsKeys: Array<{ id: string; createdBy: string; deleted: boolean; deletedBy?: string; name: string }>;
}

describe("e2e: KmsAccess and stacks that feed each other, through the real engine", function () {
    this.timeout(ENGINE_OP_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let instanceId: string;
    let identity: EngineStack;
    let consumer: EngineStack;

    async function state(): Promise<AdminState> {
        return (await (await fetch(`${emu.url}/__emulator/state`)).json()) as AdminState;
    }
    function config(): Record<string, { value: string; secret?: boolean }> {
        return {
            "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
            "ibmcloud:iamEndpoint": { value: emu.url },
            "ibmcloud:kmsEndpoint": { value: emu.url },
        };
    }

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0, policyPropagationDelayMs: PROPAGATION_MS });
        instanceId = emu.instances[0].guid;
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        identity = await sandbox.programStack(
            "identity",
            { module: "kmsAccess", export: "identity" },
            {
                projectName: PROJECT,
                config: config(),
                params: { instanceId, rotation: 1, timeoutSeconds: 30 },
            },
        );
        consumer = await sandbox.programStack(
            "consumer",
            { module: "kmsAccess", export: "consumer" },
            {
                projectName: PROJECT,
                config: config(),
                params: { identityStack: `organization/${PROJECT}/identity` },
            },
        );
    });
    after(async function () {
        this.timeout(ENGINE_OP_TIMEOUT_MS);
        await sandbox?.cleanup();
        await emu?.stop();
    });

    let first: { apiKey: string; iamId: string; rootKeyId: string };

    it("up: waits out the policy's propagation, then creates the root key AS the service ID; secrets stay secret", async function () {
        const started = Date.now();
        const { result, output } = await identity.up();
        assert.strictEqual(result.summary.result, "succeeded", output);
        assert.ok(Date.now() - started >= PROPAGATION_MS, "the gate waited for the policy");
        const outs = result.outputs;
        assert.strictEqual(outs.rootCreatedBy.value, outs.iamId.value, "KMS records the service ID as the creator");
        assert.match(String(outs.iamId.value), /^iam-ServiceId-/);
        assert.strictEqual(outs.apiKey.secret, true);
        assert.strictEqual(outs.token.secret, true);
        const token = outs.token.value as { accessToken: string; expiration: number };
        assert.ok(token.expiration > Date.now() / 1000 + 3000);
        first = { apiKey: String(outs.apiKey.value), iamId: String(outs.iamId.value), rootKeyId: String(outs.rootKeyId.value) };

        const text = await identity.exportStateText();
        assert.ok(!text.includes(first.apiKey), "the service ID's key is not in the state in plaintext");
        assert.ok(!text.includes(token.accessToken), "nor the token");
        const [key] = await identity.resourcesOfType(T("KmsKey"));
        assert.strictEqual(key.outputs.apiKey[SIG_KEY], SECRET_SIG, "KmsKey's apiKey output is secret");
        assert.ok(key.parent.endsWith("ibmcloud-iam:index:KmsAccess::app"), "createKey's key is a child of the component");

        const s = await state();
        assert.ok(s.serviceIds.some((x) => x.iam_id === first.iamId && x.name === "app"));
        assert.strictEqual(s.kmsKeys.find((k) => k.id === first.rootKeyId)?.createdBy, first.iamId);
    });

    it("a second stack manages its own key with the first stack's secret apiKey, as the same service ID", async function () {
        const { result, output } = await consumer.up();
        assert.strictEqual(result.summary.result, "succeeded", output);
        assert.strictEqual(result.outputs.createdBy.value, first.iamId);
        assert.strictEqual(result.outputs.tokenIamId.value, first.iamId);
        assert.ok(!(await consumer.exportStateText()).includes(first.apiKey), "the key read from the other stack stays secret here too");
    });

    it("a second up and a refresh change nothing", async function () {
        const preview = await identity.preview();
        assert.deepStrictEqual(preview.result.changeSummary, { same: 7 }, preview.output);
        const refresh = await identity.refresh();
        assert.strictEqual(refresh.result.summary.result, "succeeded", refresh.output);
        assert.deepStrictEqual(refresh.result.summary.resourceChanges, { same: 7 }, refresh.output);
    });

    it("rotation: a new API key replaces the old one; keys are updated in place (never recreated) in both stacks", async function () {
        await identity.setParams({ rotation: 2 });
        const up = await identity.up();
        assert.strictEqual(up.result.summary.result, "succeeded", up.output);
        assert.strictEqual(up.result.summary.resourceChanges?.replace, 1, up.output);
        const newKey = String(up.result.outputs.apiKey.value);
        assert.notStrictEqual(newKey, first.apiKey);
        assert.strictEqual(up.result.outputs.rootKeyId.value, first.rootKeyId, "the root key survives the rotation");
        const [key] = await identity.resourcesOfType(T("KmsKey"));
        assert.ok(!JSON.stringify(key).includes(newKey));

        // The old key is gone in IAM: only one key left for the service ID.
        assert.strictEqual((await state()).apiKeys.filter((k) => k.iam_id === first.iamId).length, 1);

        const consumerUp = await consumer.up();
        assert.strictEqual(consumerUp.result.summary.result, "succeeded", consumerUp.output);
        assert.deepStrictEqual(consumerUp.result.summary.resourceChanges, { update: 1, same: 1, read: 1 }, consumerUp.output);
        // A later refresh runs with the current key (a fresh plugin, no cached token from before).
        const refresh = await consumer.refresh();
        assert.strictEqual(refresh.result.summary.result, "succeeded", refresh.output);
    });

    it("a wait shorter than the propagation fails the update with a clear error", async function () {
        const short = await sandbox.programStack(
            "short",
            { module: "kmsAccess", export: "hurried" },
            {
                projectName: PROJECT,
                config: config(),
                params: { instanceId, timeoutSeconds: 0.5 },
            },
        );
        const err = await short.up().then(
            () => undefined,
            (e: Error) => e,
        );
        assert.ok(err, "the up failed");
        assert.match(err.message, /Timed out after 0\.5 s waiting for hs-crypto instance .* to accept iam-ServiceId-.*: KMS still answers 401/);
        assert.match(err.message, /raise waitForAccess\.timeoutSeconds/);
        const destroyed = await short.destroy();
        assert.strictEqual(destroyed.result.summary.result, "succeeded", destroyed.output);
        await short.remove();
    });

    it("destroy: keys are deleted as the service ID, then the policy, key and service ID go", async function () {
        const c = await consumer.destroy();
        assert.strictEqual(c.result.summary.result, "succeeded", c.output);
        const d = await identity.destroy();
        assert.strictEqual(d.result.summary.result, "succeeded", d.output);
        const s = await state();
        const root = s.kmsKeys.find((k) => k.id === first.rootKeyId);
        assert.deepStrictEqual([root?.deleted, root?.deletedBy], [true, first.iamId]);
        assert.ok(s.kmsKeys.filter((k) => k.createdBy === first.iamId).every((k) => k.deleted));
        assert.ok(!s.serviceIds.some((x) => x.iam_id === first.iamId));
        await Promise.all([consumer.remove(), identity.remove()]);
    });
});
