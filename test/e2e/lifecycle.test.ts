// The whole life of one identity (ServiceId + ServiceApiKey + AccessPolicy) through the real Pulumi
// engine against the emulator: preview and up, secrets kept out of state and engine output, an
// in-place update, a key rotation (create before delete), drift made out of band and repaired, destroy.
// The emulator's tokens live 5 s and the steps are spaced out, so tokens expire during the run.
// The program is test/e2e/programs/lifecycle.ts, run by the engine in its own process.
import * as assert from "assert";
import { startEmulator, RunningEmulator } from "../../emulator";
import { IamClient, IamTokenManager, resolveCloudSettings } from "../../client";
import { createSandbox, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";

const TOKEN_LIFETIME_S = 5;

interface AdminState {
    owner: { iam_id: string; apikey_id: string };
    serviceIds: Array<{ id: string; iam_id: string; name: string; description?: string }>;
    apiKeys: Array<{ id: string; iam_id: string }>;
    policies: Array<{
        id: string;
        state: string;
        subjects?: Array<{ attributes: Array<{ name: string; value: string }> }>;
        roles?: Array<{ role_id: string }>;
    }>;
    counts: { tokenRequests: number };
}

/** What a step changes in the program (test/e2e/programs/lifecycle.ts). */
interface ProgramArgs {
    name: string;
    description: string;
    rotation: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("e2e: lifecycle of a service ID, its API key and its policy, through the real engine", function () {
    this.timeout(ENGINE_OP_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let instanceId: string;
    let stack: EngineStack;
    let args: ProgramArgs = { name: "lifecycle-app", description: "first description", rotation: 1 };
    /** Every API key value the stack has held: none may appear in state or engine output. */
    const keyValues: string[] = [];
    let first: { serviceId: string; iamId: string; apiKeyId: string; policyId: string };

    async function state(): Promise<AdminState> {
        return (await (await fetch(`${emu.url}/__emulator/state`)).json()) as AdminState;
    }
    /** The emulator's objects other than the seeded owner and its key. */
    async function live() {
        const s = await state();
        return {
            serviceIds: s.serviceIds,
            apiKeys: s.apiKeys.filter((k) => k.iam_id !== s.owner.iam_id),
            activePolicies: s.policies.filter((p) => p.state === "active"),
            tokenRequests: s.counts.tokenRequests,
        };
    }

    async function up(label: string) {
        const r = await stack.up();
        assert.strictEqual(r.result.summary.result, "succeeded", `${label}:\n${r.output}`);
        const value = r.result.outputs.apiKey?.value;
        if (typeof value === "string" && value !== "" && !keyValues.includes(value)) keyValues.push(value);
        return r;
    }

    function assertNoKeyIn(text: string, where: string) {
        assert.ok(keyValues.length > 0, "an API key value to look for");
        for (const v of keyValues) assert.ok(!text.includes(v), `${where} holds an API key in plaintext`);
    }

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0, tokenLifetimeSeconds: TOKEN_LIFETIME_S });
        instanceId = emu.instances[0].guid;
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        stack = await sandbox.programStack(
            "lifecycle",
            { module: "lifecycle", export: "identity" },
            {
                projectName: "lifecycle",
                params: { ...args, instanceId },
                config: {
                    "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
                    "ibmcloud:iamEndpoint": { value: emu.url },
                },
            },
        );
    });
    after(async function () {
        this.timeout(ENGINE_OP_TIMEOUT_MS);
        await sandbox?.cleanup();
        await emu?.stop();
    });

    it("1. preview then up: exactly one service ID, one API key, one active policy; outputs match", async function () {
        const preview = await stack.preview();
        assert.deepStrictEqual(preview.result.changeSummary, { create: 4 }, preview.output);
        assert.deepStrictEqual(
            await live().then((l) => [l.serviceIds.length, l.apiKeys.length, l.activePolicies.length]),
            [0, 0, 0],
            "preview creates nothing",
        );

        const { result } = await up("first up");
        assert.deepStrictEqual(result.summary.resourceChanges, { create: 4 });
        const o = result.outputs;
        const l = await live();
        assert.strictEqual(l.serviceIds.length, 1);
        assert.strictEqual(l.apiKeys.length, 1);
        assert.strictEqual(l.activePolicies.length, 1);
        const [sid] = l.serviceIds;
        assert.match(String(o.serviceId.value), /^ServiceId-/);
        assert.strictEqual(o.serviceId.value, sid.id);
        assert.strictEqual(o.iamId.value, sid.iam_id);
        assert.strictEqual(o.name.value, "lifecycle-app");
        assert.strictEqual(sid.name, "lifecycle-app");
        assert.strictEqual(o.description.value, "first description");
        assert.strictEqual(o.apiKeyId.value, l.apiKeys[0].id);
        assert.strictEqual(l.apiKeys[0].iam_id, sid.iam_id, "the key belongs to the service ID");
        assert.strictEqual(o.policyId.value, l.activePolicies[0].id);
        assert.strictEqual(o.subjectIamId.value, sid.iam_id, "the policy's subject is the service ID");
        assert.deepStrictEqual(o.roles.value, ["Reader"]);
        assert.strictEqual(o.apiKey.secret, true, "apiKey is a secret output");
        assert.ok(typeof o.apiKey.value === "string" && o.apiKey.value.length >= 32);
        first = { serviceId: sid.id, iamId: sid.iam_id, apiKeyId: l.apiKeys[0].id, policyId: l.activePolicies[0].id };
    });

    it("2. the stored state and the engine's output never hold the API key in plaintext", async function () {
        const outs = await stack.outputs();
        assert.strictEqual(outs.apiKey.secret, true);
        assert.strictEqual(outs.apiKey.value, keyValues[0], "stack outputs decrypt to the key");
        assertNoKeyIn(await stack.exportStateText(), "the stored state");
        assertNoKeyIn(stack.log, "the engine output");
    });

    it("3a. a new description updates the service ID in place (same service ID, same API key)", async function () {
        await sleep((TOKEN_LIFETIME_S + 1) * 1000); // the tokens of the last step have expired by now
        args = { ...args, description: "second description" };
        await stack.setParams({ ...args });
        const { result, output } = await up("description change");
        assert.deepStrictEqual(result.summary.resourceChanges, { update: 1, same: 3 }, output);
        assert.strictEqual(result.outputs.serviceId.value, first.serviceId);
        assert.strictEqual(result.outputs.apiKeyId.value, first.apiKeyId);
        assert.strictEqual(result.outputs.description.value, "second description");
        const l = await live();
        assert.deepStrictEqual(
            l.serviceIds.map((s) => [s.id, s.description]),
            [[first.serviceId, "second description"]],
        );
        assert.deepStrictEqual(
            l.apiKeys.map((k) => k.id),
            [first.apiKeyId],
        );
    });

    it("3b. a new rotationTrigger replaces the key: the new one is created before the old one is deleted", async function () {
        args = { ...args, rotation: 2 };
        await stack.setParams({ ...args });
        const { result, output } = await up("rotation");
        assert.deepStrictEqual(result.summary.resourceChanges, { replace: 1, same: 3 }, output);
        const newKeyId = String(result.outputs.apiKeyId.value);
        assert.notStrictEqual(newKeyId, first.apiKeyId);
        assert.strictEqual(result.outputs.serviceId.value, first.serviceId);
        assert.strictEqual(keyValues.length, 2, "a new key value");
        assert.notStrictEqual(keyValues[1], keyValues[0]);
        // Create-before-delete, as the engine reports it.
        const created = output.indexOf("created replacement");
        const deleted = output.indexOf("deleted original");
        assert.ok(created >= 0 && deleted >= 0, `the engine reports the replacement:\n${output}`);
        assert.ok(created < deleted, `the new key was created before the old one was deleted:\n${output}`);
        // Only the new key is left.
        const l = await live();
        assert.deepStrictEqual(
            l.apiKeys.map((k) => k.id),
            [newKeyId],
        );
        assertNoKeyIn(await stack.exportStateText(), "the stored state after rotation");
        assertNoKeyIn(stack.log, "the engine output after rotation");
    });

    it("4. drift: a rename and a deleted policy, made out of band, show in refresh; up repairs both", async function () {
        // The owner's client keeps its token until it really expires (no margin), so it uses one
        // token, waits past its expiry, and has to get another.
        const settings = resolveCloudSettings({ apiKey: emu.apiKey, iamEndpoint: emu.url }, {});
        const owner = new IamClient({
            tokenManager: new IamTokenManager({ apiKey: settings.apiKey, iamEndpoint: settings.iamEndpoint, expiryMarginSeconds: 0 }),
        });
        const before = (await live()).tokenRequests;
        const current = await owner.getServiceId(first.serviceId);
        await owner.updateServiceId(first.serviceId, current.entity_tag, { name: "renamed-elsewhere" });
        await sleep((TOKEN_LIFETIME_S + 1) * 1000);
        const policyId = String((await stack.outputs()).policyId.value);
        assert.strictEqual(await owner.deletePolicy(policyId), true);
        const l = await live();
        assert.strictEqual(l.tokenRequests - before, 2, "the owner's token expired between the two changes and was renewed");
        assert.strictEqual(l.serviceIds[0].name, "renamed-elsewhere");
        assert.strictEqual(l.activePolicies.length, 0);

        const refresh = await stack.refresh();
        assert.strictEqual(refresh.result.summary.result, "succeeded", refresh.output);
        assert.deepStrictEqual(refresh.result.summary.resourceChanges, { update: 1, delete: 1, same: 2 }, refresh.output);
        assert.match(refresh.output, /AccessPolicy\s+app-reader\s+deleted/, refresh.output);
        // The refresh rebuilds the inputs from the live object, which has no recovery nonce (docs/crash-recovery.md).
        assert.match(refresh.output, /ServiceId app updated .*\[diff: (-recoveryNonce)?~name\]/, `the refresh shows the rename:\n${refresh.output}`);
        // No preview here on purpose: the service ID's outputs are unknown in a preview of its update,
        // and ServiceApiKey's diff predicts a replacement for an unknown serviceId, so a preview
        // announces a key rotation that `up` does not do (checked below: same apiKeyId).
        const keyIdBefore = String((await stack.outputs()).apiKeyId.value);

        const { result, output } = await up("repair");
        assert.deepStrictEqual(result.summary.resourceChanges, { create: 1, update: 1, same: 2 }, output);
        const repaired = await live();
        assert.deepStrictEqual(
            repaired.serviceIds.map((s) => [s.id, s.name]),
            [[first.serviceId, "lifecycle-app"]],
            "the name is back",
        );
        assert.strictEqual(repaired.activePolicies.length, 1, "a policy exists again");
        assert.strictEqual(repaired.activePolicies[0].id, result.outputs.policyId.value);
        assert.notStrictEqual(result.outputs.policyId.value, policyId);
        assert.strictEqual(result.outputs.subjectIamId.value, first.iamId);
        assert.strictEqual(result.outputs.name.value, "lifecycle-app");
        assert.strictEqual(result.outputs.apiKeyId.value, keyIdBefore, "the repair does not rotate the key");
    });

    it("5. destroy leaves no service ID, API key or active policy; the engine never printed a key", async function () {
        await sleep((TOKEN_LIFETIME_S + 1) * 1000);
        const { result, output } = await stack.destroy();
        assert.strictEqual(result.summary.result, "succeeded", output);
        assert.deepStrictEqual(result.summary.resourceChanges, { delete: 4 }, output);
        const l = await live();
        assert.deepStrictEqual([l.serviceIds.length, l.apiKeys.length, l.activePolicies.length], [0, 0, 0]);
        // Tokens lasted 5 s over a run of several times that: many were requested, and the run completed.
        assert.ok(l.tokenRequests >= 6, `tokens were renewed during the run (${l.tokenRequests} requested)`);
        assertNoKeyIn(stack.log, "the engine output of the whole run");
        await stack.remove();
    });
});
