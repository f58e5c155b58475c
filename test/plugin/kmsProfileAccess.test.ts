// A trusted profile's KMS access through the real plugin against an emulator whose new policies take
// effect after a delay: the gate trades a compute-resource token for the profile's token until KMS
// accepts it (and says why when IAM will not trade it), and a key made without an apiKey is the deployer's.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import { IamClient, IamTokenManager, TrustedProfileClient } from "../../client";
import { kmsAccessReadyProvider } from "../../provider/kmsAccessReady";
import { kmsKeyProvider } from "../../provider/kmsKey";
import { PluginCallError, RunningPlugin, startPlugin } from "./harness";

describe("plugin: a trusted profile's KMS access (gate, keys without an apiKey)", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    let owner: IamClient;
    let plugin: RunningPlugin;
    let dir: string;
    let instanceId: string;
    const closers: Array<() => Promise<void>> = [];
    const cluster = () => `crn:v1:bluemix:public:containers-kubernetes:us-south:a/${emu.accountId}:orders-cluster::`;

    /** What the platform would mount into the pod: a compute-resource token of service account `name`. */
    async function tokenFileOf(name: string): Promise<{ file: string; token: string }> {
        const res = await fetch(`${emu.url}/__emulator/compute-resource-token`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ crType: "IKS_SA", crn: cluster(), namespace: "orders", name }),
        });
        const { token } = (await res.json()) as { token: string };
        const file = path.join(dir, name);
        fs.writeFileSync(file, token, { mode: 0o600 });
        return { file, token };
    }

    before(async () => {
        emu = await startEmulator({ port: 0, policyPropagationDelayMs: 1500 });
        instanceId = emu.instances[0].guid;
        const tm = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
        closers.push(() => tm.http.close());
        owner = new IamClient({ tokenManager: tm });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "kms-profile-"));
        plugin = await startPlugin({
            config: { "ibmcloud:apiKey": emu.apiKey, "ibmcloud:iamEndpoint": emu.url, "ibmcloud:kmsEndpoint": emu.url },
            secretKeys: ["ibmcloud:apiKey"],
            env: { IC_API_KEY: undefined, IBMCLOUD_API_KEY: undefined },
        });
    });
    after(async () => {
        await plugin?.stop();
        await Promise.all(closers.map((c) => c()));
        await emu?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("the gate waits until KMS accepts the profile's token traded from a linked service account's token file; no token in state", async () => {
        const profiles = new TrustedProfileClient(owner);
        const profile = await profiles.createProfile({ name: "orders-runtime" });
        await profiles.createLink(profile.id, { cr_type: "IKS_SA", link: { crn: cluster(), namespace: "orders", name: "api" } });
        const { policy } = await owner.createPolicy({
            type: "access",
            subjects: [{ attributes: [{ name: "iam_id", value: profile.iam_id }] }],
            roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Writer" }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: emu.accountId },
                        { name: "serviceName", value: emu.instances[0].service },
                        { name: "serviceInstance", value: instanceId },
                    ],
                },
            ],
        });
        const { file, token } = await tokenFileOf("api");
        const checked = await plugin.check(
            kmsAccessReadyProvider,
            {},
            { instanceId, profileId: profile.id, crTokenFile: file, policyId: policy.id, timeoutSeconds: 30 },
        );
        assert.deepStrictEqual(checked.failures, []);
        const created = await plugin.create(kmsAccessReadyProvider, checked.inputs);
        assert.strictEqual(created.outs.iamId, profile.iam_id, "the identity KMS let in is the profile");
        assert.strictEqual(created.outs.profileId, profile.id);
        assert.strictEqual(created.outs.crTokenFile, file);
        assert.strictEqual(created.outs.apiKey, undefined);
        assert.ok(!JSON.stringify(created.outs).includes(token), "the compute-resource token is not in state");

        // A service account the profile is not linked to: IAM's refusal, with what it means, and no token in the message.
        const stranger = await tokenFileOf("batch");
        let caught: unknown;
        try {
            await plugin.create(kmsAccessReadyProvider, { ...checked.inputs, crTokenFile: stranger.file, timeoutSeconds: 5 });
        } catch (e) {
            caught = e;
        }
        assert.ok(caught instanceof PluginCallError, String(caught));
        assert.match(caught.details, /BXNIM0442E/);
        assert.match(
            caught.details,
            /would not trade the compute-resource token in .*batch for trusted profile Profile-.*: the token must be one of a compute resource linked to the profile/,
        );
        assert.ok(!caught.details.includes(stranger.token), "no token in the error");
    });

    it("a KmsKey without an apiKey is created, refreshed and deleted as the deployer; its state holds no key", async () => {
        const checked = await plugin.check(kmsKeyProvider, {}, { instanceId, name: "deployer-root" });
        assert.deepStrictEqual(checked.failures, []);
        const created = await plugin.create(kmsKeyProvider, checked.inputs);
        const deployer = (await owner.tokens.getTokenInfo()).iamId;
        assert.strictEqual(created.outs.createdBy, deployer);
        assert.strictEqual(created.outs.apiKey ?? "", "");
        const read = await plugin.read(kmsKeyProvider, created.id, created.outs, checked.inputs);
        assert.strictEqual(read.id, created.id);
        assert.deepStrictEqual(await plugin.diff(kmsKeyProvider, created.id, created.outs, checked.inputs), {
            changes: "none",
            replaces: [],
            deleteBeforeReplace: false,
        });
        await plugin.delete(kmsKeyProvider, created.id, created.outs);
        const again = await plugin.read(kmsKeyProvider, created.id, created.outs, checked.inputs);
        assert.strictEqual(again.id, "");
    });
});
