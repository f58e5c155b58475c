// A trusted profile with a claim rule, a link and a trusted identity, through the real Pulumi engine against the
// emulator: up, a preview and a refresh that change nothing, what the rule, the link and the trust let in (and
// refuse, with IBM's codes and messages), a claim rule edited in place, and destroy — after which the profile's
// tokens stop and no new one is issued. The program is test/e2e/programs/trustedProfiles.ts.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startEmulator, RunningEmulator } from "../../emulator";
import { accessTokenProvider, assumedProfileTokenProvider, computeResourceTokenProvider, IamClient, IamTokenManager, TrustedProfileClient } from "../../client";
import { createSandbox, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";

const T = (type: string) => `pulumi-nodejs:dynamic/ibmcloud-iam:${type}`;

describe("e2e: a trusted profile with a claim rule, a link and a trusted identity, through the real engine", function () {
    this.timeout(ENGINE_OP_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let owner: IamClient;
    let stack: EngineStack;
    let dir: string;
    let trustedKey: string;
    let deployerId: string;
    let strangerKey: string;
    let profileId: string;
    let profileIamId: string;
    /** A token of the profile taken while it existed. */
    let earlierToken: string;
    const vsi = () => `crn:v1:bluemix:public:is:us-south-1:a/${emu.accountId}::instance:0717-batch`;
    const cluster = () => `crn:v1:bluemix:public:containers-kubernetes:us-south:a/${emu.accountId}:c0ffee::`;

    /** The refusals met, printed once at the end (the messages users would see). */
    const refusals: string[] = [];

    async function crTokenFile(body: Record<string, string>): Promise<string> {
        const res = await fetch(`${emu.url}/__emulator/compute-resource-token`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(body),
        });
        assert.strictEqual(res.status, 200);
        const file = path.join(dir, `cr-${refusals.length}-${Math.random().toString(16).slice(2)}`);
        fs.writeFileSync(file, ((await res.json()) as { token: string }).token, { mode: 0o600 });
        return file;
    }

    async function asComputeResource(body: Record<string, string>): Promise<{ iamId: string; token: string }> {
        const tokens = computeResourceTokenProvider({ profileId, crTokenFilename: await crTokenFile(body), iamEndpoint: emu.url });
        try {
            return { iamId: (await tokens.getTokenInfo()).iamId, token: await tokens.getAccessToken() };
        } finally {
            await tokens.close();
        }
    }

    async function assuming(apiKey: string): Promise<string> {
        const from = accessTokenProvider({ apiKey, iamEndpoint: emu.url });
        const as = assumedProfileTokenProvider({ from, profileId, iamEndpoint: emu.url });
        try {
            return (await as.getTokenInfo()).iamId;
        } finally {
            await as.close();
            await from.close();
        }
    }

    async function refused(what: string, attempt: Promise<unknown>, code: RegExp): Promise<void> {
        const err = await attempt.then(
            () => assert.fail(`${what}: expected a refusal`),
            (e: unknown) => e as Error,
        );
        assert.match(err.message, code, what);
        for (const secret of [trustedKey, strangerKey, earlierToken].filter(Boolean))
            assert.ok(!err.message.includes(secret), `${what}: no secret in the refusal`);
        refusals.push(`${what}: ${err.message.split("\n")[0]}`);
    }

    async function kmsStatus(token: string): Promise<number> {
        const res = await fetch(`${emu.url}/api/v2/keys`, { headers: { Authorization: `Bearer ${token}`, "bluemix-instance": emu.instances[0].guid } });
        await res.arrayBuffer();
        return res.status;
    }

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0 });
        owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-trust-"));
        const deployer = await owner.createServiceId({ name: "ci-deployer", description: "the CI deployer" });
        const stranger = await owner.createServiceId({ name: "stranger" });
        deployerId = deployer.id;
        trustedKey = String((await owner.createApiKey({ name: "k", iam_id: deployer.iam_id })).apikey);
        strangerKey = String((await owner.createApiKey({ name: "k", iam_id: stranger.iam_id })).apikey);
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        stack = await sandbox.programStack(
            "trust",
            { module: "trustedProfiles", export: "trust" },
            {
                projectName: "trust",
                params: {
                    name: "orders-runtime",
                    namespace: "orders",
                    vsiCrn: vsi(),
                    trustedServiceId: deployer.id,
                    service: emu.instances[0].service,
                    instanceId: emu.instances[0].guid,
                },
                config: {
                    "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
                    "ibmcloud:iamEndpoint": { value: emu.url },
                },
            },
        );
    });
    after(async function () {
        this.timeout(ENGINE_OP_TIMEOUT_MS);
        if (refusals.length > 0) console.log(`      refusals met:\n${refusals.map((r) => `        ${r}`).join("\n")}`);
        await sandbox?.cleanup();
        await owner?.http.close();
        await emu?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("1. up creates the profile, its claim rule, link, trusted identity and KMS policy", async function () {
        const { result, output } = await stack.up();
        assert.strictEqual(result.summary.result, "succeeded", output);
        assert.deepStrictEqual(result.summary.resourceChanges, { create: 6 }, output);
        const o = result.outputs;
        profileId = String(o.profileId.value);
        profileIamId = String(o.iamId.value);
        assert.match(profileId, /^Profile-[0-9a-f-]{36}$/);
        assert.match(String(o.ruleId.value), /^ClaimRule-/);
        assert.match(String(o.linkId.value), /^ProfileLink-/);
        assert.strictEqual(o.identityId.value, `${profileId}|serviceid|${deployerId}`);
        const [rule] = await stack.resourcesOfType(T("TrustedProfileClaimRule"));
        assert.deepStrictEqual(rule.outputs.conditions, [{ claim: "namespace", operator: "EQUALS", value: "orders" }]);
    });

    it("2. a second preview and a refresh change nothing", async function () {
        const preview = await stack.preview();
        assert.deepStrictEqual(preview.result.changeSummary, { same: 6 }, preview.output);
        const refresh = await stack.refresh();
        assert.strictEqual(refresh.result.summary.result, "succeeded", refresh.output);
        assert.deepStrictEqual(refresh.result.summary.resourceChanges, { same: 6 }, refresh.output);
    });

    it("3. the linked VSI, a service account the rule matches and the trusted service ID act as the profile; the rest are refused", async function () {
        const linked = await asComputeResource({ crType: "VSI", crn: vsi() });
        assert.strictEqual(linked.iamId, profileIamId);
        assert.strictEqual(await kmsStatus(linked.token), 200, "KMS takes the profile's token (its reader policy)");
        earlierToken = linked.token;
        assert.strictEqual((await asComputeResource({ crType: "IKS_SA", crn: cluster(), namespace: "orders", name: "api" })).iamId, profileIamId);
        assert.strictEqual(await assuming(trustedKey), profileIamId);

        await refused(
            "an unlinked VSI",
            asComputeResource({ crType: "VSI", crn: vsi().replace("0717-batch", "0717-other") }),
            /BXNIM0442E.*not linked to the trusted profile/,
        );
        await refused(
            "a service account of another namespace",
            asComputeResource({ crType: "IKS_SA", crn: cluster(), namespace: "billing", name: "api" }),
            /BXNIM0442E/,
        );
        await refused("an untrusted service ID assuming the profile", assuming(strangerKey), /BXNIM0443E.*not trusted to assume the trusted profile/);
    });

    it("4. a claim rule edited in place (same rule, new entity tag) lets the new namespace in", async function () {
        const before = (await stack.resourcesOfType(T("TrustedProfileClaimRule")))[0].outputs;
        await stack.setParams({ namespace: "billing" });
        const { result, output } = await stack.up();
        assert.deepStrictEqual(result.summary.resourceChanges, { update: 1, same: 5 }, output);
        const after = (await stack.resourcesOfType(T("TrustedProfileClaimRule")))[0].outputs;
        assert.strictEqual(after.ruleId, before.ruleId);
        assert.notStrictEqual(after.entityTag, before.entityTag);
        assert.strictEqual((await asComputeResource({ crType: "IKS_SA", crn: cluster(), namespace: "billing", name: "api" })).iamId, profileIamId);
        await refused(
            "a service account of the namespace the rule no longer names",
            asComputeResource({ crType: "IKS_SA", crn: cluster(), namespace: "orders", name: "api" }),
            /BXNIM0442E/,
        );
    });

    it("5. destroy deletes everything; the deleted profile's tokens stop and none is issued", async function () {
        const { result, output } = await stack.destroy();
        assert.deepStrictEqual(result.summary.resourceChanges, { delete: 6 }, output);
        await assert.rejects(new TrustedProfileClient(owner).getProfile(profileId), /404/, "the profile is gone");
        assert.strictEqual(await kmsStatus(earlierToken), 401, "a token taken before is refused by KMS");
        await refused("the linked VSI after the profile was deleted", asComputeResource({ crType: "VSI", crn: vsi() }), /BXNIM0441E.*could not be found/);
        await refused("the trusted service ID after the profile was deleted", assuming(trustedKey), /BXNIM0441E.*could not be found/);
        await stack.remove();
        assert.deepStrictEqual(sandbox.liveProcesses(), []);
    });
});
