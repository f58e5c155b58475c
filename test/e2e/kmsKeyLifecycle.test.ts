// The key lifecycle through the real engine against the emulator: a stack with the instance's policies
// (dual authorization delete) and a root key with aliases created under them; another service registers its
// bucket with the key; refresh finds no change; the aliases change in place; destroy stops at each of IBM's
// refusals with the fix named and deletes nothing meanwhile, then completes once `force` is set and a second
// identity has authorized the deletion. The instance policies are forgotten, not removed (as Terraform's).
// The program is `aliasedKeyUnderInstancePolicy` in test/e2e/programs/kmsKeyDeletion.ts.
import * as assert from "assert";
import { IamTokenManager, KmsClient } from "../../client";
import { RunningEmulator, startEmulator } from "../../emulator";
import { grant, ROLE, serviceIdWithKey, tokenFor } from "../emulator/helpers";
import { createSandbox, EngineError, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";

interface AdminKey {
    id: string;
    state: number;
    aliases?: Array<{ alias: string }>;
    registrations?: unknown[];
}

describe("e2e: a key with aliases under an instance's dual-authorization policy, registered by a service, destroyed cleanly", function () {
    this.timeout(ENGINE_OP_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let stack: EngineStack;
    let instanceId: string;
    let keyId: string;
    let deployerKey: string;
    let approverKey: string;
    const CRN = "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:cos-1:bucket:invoices";

    const adminKey = async (): Promise<AdminKey | undefined> =>
        ((await (await fetch(`${emu.url}/__emulator/state`)).json()) as { kmsKeys: AdminKey[] }).kmsKeys.find((k) => k.id === keyId);
    const kmsAs = (apiKey: string) => {
        const tokens = new IamTokenManager({ apiKey, iamEndpoint: emu.url });
        return {
            kms: new KmsClient({ endpoint: emu.url, instanceId, httpClient: tokens.http, tokenSource: () => tokens.getToken() }),
            close: () => tokens.http.close(),
        };
    };
    // How long each engine operation took, printed for the record (never asserted).
    const timed = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
        const start = Date.now();
        try {
            return await op();
        } finally {
            console.log(`      [${what}: ${((Date.now() - start) / 1000).toFixed(1)} s]`);
        }
    };
    const destroyRefused = async (what: string): Promise<string> => {
        try {
            await timed(what, () => stack.destroy());
        } catch (err) {
            assert.ok(err instanceof EngineError, String(err));
            // The engine's first error line, printed for the record.
            const first = err.output.split("\n").find((l) => /error:/.test(l)) ?? "";
            console.log(`      [${first.trim().slice(0, 400)}]`);
            return err.output;
        }
        throw new assert.AssertionError({ message: "destroy succeeded; a refusal was expected" });
    };

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }] });
        instanceId = emu.instances[0].guid;
        const owner = await tokenFor(emu.url, emu.apiKey);
        const deployer = await serviceIdWithKey(emu, owner, "key-owner");
        const approver = await serviceIdWithKey(emu, owner, "key-approver");
        for (const sid of [deployer, approver]) await grant(emu, owner, sid.iamId, [ROLE.manager], { serviceName: "kms", serviceInstance: instanceId });
        deployerKey = deployer.apikey;
        approverKey = approver.apikey;
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        stack = await sandbox.programStack(
            "kms-key-lifecycle",
            { module: "kmsKeyDeletion", export: "aliasedKeyUnderInstancePolicy" },
            {
                projectName: "kms-key-lifecycle",
                params: { instanceId, endpoint: emu.url, apiKey: deployer.apikey, force: false, aliases: ["invoices-root", "invoices-v1"] },
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

    it("up sets the instance policy, then creates the key with its aliases (it inherits dual authorization)", async () => {
        const { result } = await timed("pulumi up (create)", () => stack.up());
        assert.strictEqual(result.summary.result, "succeeded");
        assert.deepStrictEqual(result.summary.resourceChanges, { create: 3 }, "the stack, the policies, the key");
        keyId = String(result.outputs.keyId.value);
        assert.deepStrictEqual([...(result.outputs.aliases.value as string[])].sort(), ["invoices-root", "invoices-v1"]);
        assert.deepStrictEqual(result.outputs.dualAuthDelete.value, { enabled: true });
        const { kms, close } = kmsAs(approverKey);
        try {
            assert.strictEqual((await kms.getKeyMetadata("invoices-root")).id, keyId, "KMS reads the key by its alias");
            assert.deepStrictEqual((await kms.getKeyPolicies(keyId)).dualAuthDelete, { enabled: true }, "inherited from the instance");
        } finally {
            await close();
        }
        const state = JSON.stringify(await stack.exportState());
        assert.ok(!state.includes(deployerKey), "the API key is not in the state in plaintext");
    });

    it("a service registers its bucket with the key; refresh finds no change", async () => {
        const r = await fetch(`${emu.url}/__emulator/kms/registrations`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ instance: instanceId, key: "invoices-root", resourceCrn: CRN }),
        });
        assert.strictEqual(r.status, 201, await r.text());
        const { result } = await timed("pulumi refresh --expect-no-changes", () => stack.refresh({ expectNoChanges: true }));
        assert.strictEqual(result.summary.result, "succeeded");
    });

    it("the aliases change in place: the same key, one alias removed and one added", async () => {
        await stack.setParams({ aliases: ["invoices-root", "invoices-v2"] });
        const { result } = await timed("pulumi up (aliases)", () => stack.up());
        assert.deepStrictEqual(result.summary.resourceChanges, { same: 2, update: 1 });
        assert.strictEqual(String(result.outputs.keyId.value), keyId, "never a new key");
        assert.deepStrictEqual((await adminKey())?.aliases?.map((a) => a.alias).sort(), ["invoices-root", "invoices-v2"]);
    });

    it("destroy without force: PROTECTED_RESOURCE_ERR and the fix named; nothing is deleted", async () => {
        const out = await destroyRefused("pulumi destroy (refused: registration)");
        assert.match(out, /PROTECTED_RESOURCE_ERR/);
        assert.match(out, /set force: true on the KmsKey and run `pulumi up`/);
        assert.strictEqual((await adminKey())?.state, 1);
    });

    it("with force but no second identity: AUTHORIZATIONS_NOT_MET and who must do what; nothing is deleted", async () => {
        await stack.setParams({ force: true });
        const { result } = await timed("pulumi up (force)", () => stack.up());
        assert.deepStrictEqual(result.summary.resourceChanges, { same: 2, update: 1 });
        const out = await destroyRefused("pulumi destroy (refused: dual authorization)");
        assert.match(out, /AUTHORIZATIONS_NOT_MET/);
        assert.match(out, /a second identity with Manager on the instance \(not the one destroying\) must authorize the deletion first/);
        assert.strictEqual((await adminKey())?.state, 1);
        assert.strictEqual((await adminKey())?.registrations?.length, 1);
        const left = ((await stack.exportState()).deployment?.resources ?? []).map((r: { type: string }) => r.type.split(":").pop());
        assert.ok(left.includes("KmsInstancePolicies") && left.includes("KmsKey"), "both still in the state");
    });

    it("after a second identity's setKeyForDeletion, destroy deletes the key and forgets the policies", async () => {
        const { kms, close } = kmsAs(approverKey);
        try {
            await kms.setKeyForDeletion(keyId);
        } finally {
            await close();
        }
        const { result } = await timed("pulumi destroy", () => stack.destroy());
        assert.strictEqual(result.summary.result, "succeeded");
        assert.deepStrictEqual(result.summary.resourceChanges, { delete: 3 }, "the key, the policies and the stack");
        assert.strictEqual((await adminKey())?.state, 5);
        assert.deepStrictEqual((await stack.exportState()).deployment?.resources ?? [], [], "nothing left in the state");
        const owner = kmsAs(deployerKey);
        try {
            assert.deepStrictEqual((await owner.kms.getInstancePolicies()).dualAuthDelete, { enabled: true }, "the instance keeps its policy");
        } finally {
            await owner.close();
        }
    });
});
