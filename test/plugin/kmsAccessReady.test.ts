// The propagation gate through the real plugin against an emulator whose new policies take effect
// only after a delay (as IBM Cloud's do): create waits until KMS accepts the key, bounded by the timeout.
import * as assert from "assert";
import "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import { IamClient, IamTokenManager } from "../../client";
import { kmsAccessReadyProvider } from "../../provider/kmsAccessReady";
import { kmsKeyProvider } from "../../provider/kmsKey";
import { PluginCallError, RunningPlugin, startPlugin } from "./harness";
import { kmsInstanceGrant } from "../support/grants";

const PROPAGATION_MS = 1500;

describe("plugin/kmsAccessReady: waiting out policy propagation", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    let owner: IamClient;
    let instanceId: string;
    let plugin: RunningPlugin;
    const closers: Array<() => Promise<void>> = [];

    /** A service ID with a key and a fresh Writer policy (still propagating when this returns). */
    async function freshlyGranted(): Promise<{ iamId: string; apiKey: string; policyId: string }> {
        const sid = await owner.createServiceId({ name: `gate-${Math.random().toString(16).slice(2, 8)}` });
        const key = await owner.createApiKey({ name: "gate-key", iam_id: sid.iam_id });
        const { policy } = await owner.createPolicy(
            kmsInstanceGrant({
                accountId: emu.accountId,
                iamId: sid.iam_id,
                roleCrn: "crn:v1:bluemix:public:iam::::serviceRole:Writer",
                service: "hs-crypto",
                instance: instanceId,
                operators: true,
            }),
        );
        return { iamId: sid.iam_id, apiKey: key.apikey!, policyId: policy.id };
    }

    before(async () => {
        emu = await startEmulator({ port: 0, policyPropagationDelayMs: PROPAGATION_MS });
        instanceId = emu.instances[0].guid;
        const tm = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
        closers.push(() => tm.http.close());
        owner = new IamClient({ tokenManager: tm });
        plugin = await startPlugin({
            config: { "ibmcloud:iamEndpoint": emu.url, "ibmcloud:kmsEndpoint": emu.url },
            env: { IC_API_KEY: undefined, IBMCLOUD_API_KEY: undefined },
        });
        // Serialize and load both providers now, so the timings below measure only the waiting.
        await plugin.check(kmsKeyProvider, {}, { instanceId, name: "warm-up", apiKey: "x" });
        await plugin.check(kmsAccessReadyProvider, {}, { instanceId, apiKey: "x" });
    });
    after(async () => {
        await plugin?.stop();
        await Promise.all(closers.map((c) => c()));
        await emu?.stop();
    });

    it("without the gate, a key created right after the policy is refused (the problem being solved)", async () => {
        const app = await freshlyGranted();
        const checked = await plugin.check(kmsKeyProvider, {}, { instanceId, name: "too-early", apiKey: app.apiKey });
        const err = await plugin.create(kmsKeyProvider, checked.inputs).then(
            () => undefined,
            (e: PluginCallError) => e,
        );
        assert.ok(err instanceof PluginCallError);
        assert.match(err.details, /create KMS key failed: 401 .* a policy created moments ago takes a while to apply/);
    });

    it("waits until the new policy applies, then a key can be created at once", async () => {
        const app = await freshlyGranted();
        const started = Date.now();
        const checked = await plugin.check(kmsAccessReadyProvider, {}, { instanceId, apiKey: app.apiKey, policyId: app.policyId, timeoutSeconds: 20 });
        assert.deepStrictEqual(checked.failures, []);
        const gate = await plugin.create(kmsAccessReadyProvider, checked.inputs);
        const elapsed = Date.now() - started;
        assert.ok(elapsed >= PROPAGATION_MS - 300, `returned after ${elapsed} ms, before the policy applied`);
        assert.ok(elapsed < PROPAGATION_MS + 6_000, `took ${elapsed} ms`);
        assert.strictEqual(gate.outs.iamId, app.iamId);
        assert.strictEqual(gate.outs.policyId, app.policyId);
        assert.ok((gate.outs.waitedMs as number) >= 1000);

        const key = await plugin.check(kmsKeyProvider, {}, { instanceId, name: "after-the-gate", apiKey: app.apiKey });
        const created = await plugin.create(kmsKeyProvider, key.inputs);
        assert.strictEqual(created.outs.createdBy, app.iamId);
    });

    it("fails clearly when the timeout is shorter than the propagation", async () => {
        const app = await freshlyGranted();
        const checked = await plugin.check(kmsAccessReadyProvider, {}, { instanceId, apiKey: app.apiKey, policyId: app.policyId, timeoutSeconds: 0.4 });
        const started = Date.now();
        const err = await plugin.create(kmsAccessReadyProvider, checked.inputs).then(
            () => undefined,
            (e: PluginCallError) => e,
        );
        assert.ok(Date.now() - started < PROPAGATION_MS, "gave up at the timeout");
        assert.ok(err instanceof PluginCallError);
        assert.ok(
            err.details.startsWith(`Timed out after 0.4 s waiting for hs-crypto instance ${instanceId} to accept ${app.iamId}: KMS still answers 401`),
            err.details,
        );
        assert.match(err.details, /raise waitForAccess\.timeoutSeconds/);
        assert.ok(err.details.includes(`policy ${app.policyId} grants a role on serviceName=hs-crypto serviceInstance=${instanceId}`));
        assert.ok(!err.details.includes(app.apiKey));
    });

    it("waits again when the key changes (rotation), does nothing on delete, and checks its arguments", async () => {
        const app = await freshlyGranted();
        const checked = await plugin.check(kmsAccessReadyProvider, {}, { instanceId, apiKey: app.apiKey, policyId: app.policyId });
        assert.strictEqual(checked.inputs.timeoutSeconds, 60, "default timeout");
        const gate = await plugin.create(kmsAccessReadyProvider, checked.inputs);
        const rotated = await owner.createApiKey({ name: "gate-key-2", iam_id: app.iamId });
        const news = { ...checked.inputs, apiKey: rotated.apikey! };
        assert.deepStrictEqual(await plugin.diff(kmsAccessReadyProvider, gate.id, gate.outs, news), {
            changes: "some",
            replaces: [],
            deleteBeforeReplace: false,
        });
        assert.strictEqual((await plugin.diff(kmsAccessReadyProvider, gate.id, gate.outs, checked.inputs)).changes, "none");
        const updated = await plugin.update(kmsAccessReadyProvider, gate.id, gate.outs, news);
        assert.strictEqual(updated.outs.apiKey, rotated.apikey);
        await plugin.delete(kmsAccessReadyProvider, gate.id, updated.outs);

        const bad = await plugin.check(kmsAccessReadyProvider, {}, { instanceId: "nope", apiKey: app.apiKey, timeoutSeconds: 0 });
        assert.deepStrictEqual(bad.failures.map((f) => f.property).sort(), ["instanceId", "timeoutSeconds"]);
    });
});

describe("plugin/kmsAccessReady: an instance the deployer cannot reach either is reported at once, not waited for", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    let owner: IamClient;
    let plugin: RunningPlugin;
    let tm: IamTokenManager;

    before(async () => {
        emu = await startEmulator({ port: 0, policyPropagationDelayMs: 60_000 });
        tm = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
        owner = new IamClient({ tokenManager: tm });
        plugin = await startPlugin({
            config: { "ibmcloud:apiKey": emu.apiKey, "ibmcloud:iamEndpoint": emu.url, "ibmcloud:kmsEndpoint": emu.url },
            secretKeys: ["ibmcloud:apiKey"],
            env: { IC_API_KEY: undefined, IBMCLOUD_API_KEY: undefined },
        });
    });
    after(async () => {
        await plugin?.stop();
        await tm?.http.close();
        await emu?.stop();
    });

    it("a well-formed instance GUID that does not exist: one probe as the deployer, and an error that says so", async () => {
        const sid = await owner.createServiceId({ name: "gate-nowhere" });
        const key = await owner.createApiKey({ name: "gate-nowhere-key", iam_id: sid.iam_id });
        const missing = "11111111-2222-4333-8444-555555555555";
        const checked = await plugin.check(kmsAccessReadyProvider, {}, { instanceId: missing, service: "kms", apiKey: key.apikey!, timeoutSeconds: 120 });
        assert.deepStrictEqual(checked.failures, []);
        const before = ((await (await fetch(`${emu.url}/__emulator/stats`)).json()) as { requests: number }).requests;
        const err = await plugin.create(kmsAccessReadyProvider, checked.inputs).then(
            () => undefined,
            (e: PluginCallError) => e,
        );
        assert.ok(err instanceof PluginCallError);
        assert.match(
            err.details,
            /list KMS keys failed: 401 .*the deployer's own credentials \(ibmcloud:apiKey\) are refused by kms instance 11111111-2222-4333-8444-555555555555 at http:\/\/127\.0\.0\.1:\d+ too, so this is not a policy still taking effect/,
        );
        assert.match(err.details, /the KMS endpoint, which is stack config ibmcloud:kmsEndpoint\)/);
        assert.ok(!err.details.includes(emu.apiKey) && !err.details.includes(key.apikey!), "no key in the error");
        // the deployer's token and one list (a 401 earns the list one fresh token and one retry); never the service ID's polling
        const after = ((await (await fetch(`${emu.url}/__emulator/stats`)).json()) as { requests: number }).requests;
        assert.ok(after - before <= 5, `${after - before} requests`);
    });

    it("at the preview of a new identity (its key still unknown), check asks the instance as the deployer: nothing is created before the refusal", async () => {
        const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const writesBefore = ((await (await fetch(`${emu.url}/__emulator/stats`)).json()) as { writes: number }).writes;
        const missing = await plugin.check(kmsAccessReadyProvider, {}, { instanceId: "11111111-2222-4333-8444-555555555555", service: "kms", apiKey: UNKNOWN });
        assert.strictEqual(missing.failures.length, 1);
        assert.strictEqual(missing.failures[0].property, "instanceId");
        assert.match(
            missing.failures[0].reason,
            /refused by kms instance 11111111-2222-4333-8444-555555555555 .* too, so this is not a policy still taking effect/,
        );
        // an instance that exists passes, and a known key (a later preview, or the `up` itself) is not probed at check
        const present = await plugin.check(
            kmsAccessReadyProvider,
            {},
            { instanceId: emu.instances[0].guid, service: emu.instances[0].service, apiKey: UNKNOWN },
        );
        assert.deepStrictEqual(present.failures, []);
        const writesAfter = ((await (await fetch(`${emu.url}/__emulator/stats`)).json()) as { writes: number }).writes;
        assert.strictEqual(writesAfter, writesBefore, "check wrote nothing");
    });
});
