// A root key another service registered (a simulated Cloud Object Storage bucket) and under dual
// authorization, through the real engine against the emulator: destroy stops at each of IBM's refusals with
// the fix named (registrations → force; dual authorization → a second identity's setKeyForDeletion), deletes
// nothing meanwhile, and completes once both are met. The program is test/e2e/programs/kmsKeyDeletion.ts.
import * as assert from "assert";
import { IamTokenManager, KmsClient } from "../../client";
import { RunningEmulator, startEmulator } from "../../emulator";
import { grant, ROLE, serviceIdWithKey, tokenFor } from "../emulator/helpers";
import { createSandbox, EngineError, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";

interface AdminKey {
    id: string;
    state: number;
    registrations?: unknown[];
}

describe("e2e: destroying a registered key under dual authorization, through the real engine", function () {
    this.timeout(ENGINE_OP_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let stack: EngineStack;
    let instanceId: string;
    let keyId: string;
    let approverKey: string;
    const CRN = "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:cos-1:bucket:invoices";

    const adminKey = async (): Promise<AdminKey | undefined> =>
        ((await (await fetch(`${emu.url}/__emulator/state`)).json()) as { kmsKeys: AdminKey[] }).kmsKeys.find((k) => k.id === keyId);
    const destroyRefused = async (): Promise<string> => {
        try {
            await stack.destroy();
        } catch (err) {
            assert.ok(err instanceof EngineError, String(err));
            return err.output;
        }
        throw new assert.AssertionError({ message: "destroy succeeded; a refusal was expected" });
    };

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0 });
        instanceId = emu.instances[0].guid;
        const owner = await tokenFor(emu.url, emu.apiKey);
        const deployer = await serviceIdWithKey(emu, owner, "key-owner");
        const approver = await serviceIdWithKey(emu, owner, "key-approver");
        for (const sid of [deployer, approver]) await grant(emu, owner, sid.iamId, [ROLE.manager], { serviceName: "hs-crypto", serviceInstance: instanceId });
        approverKey = approver.apikey;
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        stack = await sandbox.programStack(
            "kms-key-deletion",
            { module: "kmsKeyDeletion", export: "registeredKey" },
            {
                projectName: "kms-key-deletion",
                params: { instanceId, endpoint: emu.url, apiKey: deployer.apikey, force: false },
                secretParams: ["apiKey"],
                config: { "ibmcloud:iamEndpoint": { value: emu.url } },
            },
        );
    });
    after(async function () {
        this.timeout(ENGINE_OP_TIMEOUT_MS);
        await sandbox?.cleanup();
        await emu?.stop();
    });

    it("up creates the key; a service registers its bucket with it", async () => {
        const { result } = await stack.up();
        assert.strictEqual(result.summary.result, "succeeded");
        keyId = String(result.outputs.keyId.value);
        const r = await fetch(`${emu.url}/__emulator/kms/registrations`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ instance: instanceId, key: keyId, resourceCrn: CRN }),
        });
        assert.strictEqual(r.status, 201);
    });

    it("destroy without force: PROTECTED_RESOURCE_ERR, and the fix named; the key stays", async () => {
        const out = await destroyRefused();
        assert.match(out, /PROTECTED_RESOURCE_ERR/);
        assert.match(out, /protects resources other services registered with it/);
        assert.match(out, /set force: true on the KmsKey and run `pulumi up`/);
        assert.strictEqual((await adminKey())?.state, 1);
    });

    it("with force but no second identity: AUTHORIZATIONS_NOT_MET, and who must do what; the key stays", async () => {
        await stack.setParams({ force: true });
        const { result } = await stack.up();
        assert.deepStrictEqual(result.summary.resourceChanges, { same: 1, update: 1 }, "force changes in place (the stack itself unchanged)");
        const out = await destroyRefused();
        assert.match(out, /AUTHORIZATIONS_NOT_MET/);
        assert.match(out, /a second identity with Manager on the instance \(not the one destroying\) must authorize the deletion first/);
        assert.strictEqual((await adminKey())?.state, 1);
        assert.strictEqual((await adminKey())?.registrations?.length, 1);
    });

    it("after the second identity's setKeyForDeletion, destroy deletes the key cleanly", async () => {
        const tokens = new IamTokenManager({ apiKey: approverKey, iamEndpoint: emu.url });
        try {
            await new KmsClient({ endpoint: emu.url, instanceId, httpClient: tokens.http, tokenSource: () => tokens.getToken() }).setKeyForDeletion(keyId);
        } finally {
            await tokens.http.close();
        }
        const { result } = await stack.destroy();
        assert.strictEqual(result.summary.result, "succeeded");
        assert.deepStrictEqual(result.summary.resourceChanges, { delete: 2 }, "the key and the stack");
        const k = await adminKey();
        assert.strictEqual(k?.state, 5);
        assert.strictEqual(k?.registrations, undefined, "a forced delete drops the registrations");
        const left = ((await stack.exportState()).deployment?.resources ?? []).filter((r: { type: string }) => r.type.endsWith(":KmsKey"));
        assert.deepStrictEqual(left, [], "the key is gone from the state");
    });
});
