// The deployer with no API key: the real plugin configured with a trusted profile and a compute-resource token
// (stack config `ibmcloud:iamProfileId` + `ibmcloud:crTokenFile`, or the ibmcloud CLI's IBMCLOUD_CR_PROFILE /
// IBMCLOUD_CR_TOKEN), creating objects as that profile; refused with IBM's reason when the profile does not trust
// the compute resource. No API key exists anywhere in these plugins' configuration or environment.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import "../support/failFast";
import { IamClient, IamTokenManager, TrustedProfileClient } from "../../client";
import { RunningEmulator, startEmulator } from "../../emulator";
import { serviceIdProvider, trustedProfileProvider } from "../../provider";
import { foreignSettingNames, PROFILE_LOGIN_MISTAKES } from "../support/profileLoginMistakes";
import { PluginCallError, RunningPlugin, startPlugin } from "./harness";

const NO_ENV_CREDENTIALS = {
    IC_API_KEY: undefined,
    IBMCLOUD_API_KEY: undefined,
    IBMCLOUD_IAM_API_ENDPOINT: undefined,
    IBMCLOUD_CR_TOKEN: undefined,
    IBMCLOUD_CR_PROFILE: undefined,
    IC_IAM_PROFILE_ID: undefined,
    IBMCLOUD_IAM_PROFILE_ID: undefined,
    IC_IAM_PROFILE_NAME: undefined,
    IBMCLOUD_IAM_PROFILE_NAME: undefined,
};

describe("plugin: the deployer as a trusted profile from a compute-resource token (no API key)", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    let owner: IamClient;
    let dir: string;
    let profile: { id: string; iam_id: string };
    const plugins: RunningPlugin[] = [];
    const cluster = () => `crn:v1:bluemix:public:containers-kubernetes:us-south:a/${emu.accountId}:ci-cluster::`;

    async function tokenFile(name: string): Promise<string> {
        const res = await fetch(`${emu.url}/__emulator/compute-resource-token`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ crType: "IKS_SA", crn: cluster(), namespace: "ci", name }),
        });
        const file = path.join(dir, name);
        fs.writeFileSync(file, ((await res.json()) as { token: string }).token, { mode: 0o600 });
        return file;
    }
    async function plugin(config: Record<string, string>, env: Record<string, string | undefined> = {}): Promise<RunningPlugin> {
        const p = await startPlugin({ config: { "ibmcloud:iamEndpoint": emu.url, ...config }, env: { ...NO_ENV_CREDENTIALS, ...env } });
        plugins.push(p);
        return p;
    }

    before(async function () {
        emu = await startEmulator({ port: 0 });
        owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "deployer-profile-"));
        const profiles = new TrustedProfileClient(owner);
        profile = await profiles.createProfile({ name: "ci-deployer" });
        await profiles.createLink(profile.id, { cr_type: "IKS_SA", link: { crn: cluster(), namespace: "ci", name: "pulumi" } });
        // what the deployer may do: create and delete identities in the account
        await owner.createPolicy({
            type: "access",
            subjects: [{ attributes: [{ name: "iam_id", value: profile.iam_id }] }],
            roles: [{ role_id: "crn:v1:bluemix:public:iam::::role:Administrator" }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: emu.accountId },
                        { name: "serviceName", value: "iam-identity" },
                    ],
                },
            ],
        });
    });
    after(async function () {
        for (const p of plugins) await p.stop();
        await owner?.http.close();
        fs.rmSync(dir, { recursive: true, force: true });
        await emu?.stop();
    });

    it("stack config ibmcloud:iamProfileId + ibmcloud:crTokenFile: creates a service ID and a trusted profile as the profile", async function () {
        const p = await plugin({ "ibmcloud:iamProfileId": profile.id, "ibmcloud:crTokenFile": await tokenFile("pulumi") });
        const checked = await p.check(serviceIdProvider, {}, { name: "made-by-ci" });
        const sid = await p.create(serviceIdProvider, checked.inputs);
        const policies = await owner.listPolicies({ iamId: profile.iam_id });
        assert.strictEqual(policies.length, 1);
        const state = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { serviceIds: Array<{ id: string }>; apiKeys: Array<{ iam_id: string }> };
        assert.ok(state.serviceIds.some((s) => s.id === sid.id));
        const tp = await p.create(trustedProfileProvider, (await p.check(trustedProfileProvider, {}, { name: "made-by-ci" })).inputs);
        assert.match(tp.id, /^Profile-/);
        await p.delete(trustedProfileProvider, tp.id, tp.outs);
        await p.delete(serviceIdProvider, sid.id, sid.outs);
        assert.ok(!state.apiKeys.some((k) => k.iam_id === profile.iam_id), "no API key exists for the deployer profile");
    });

    it("the ibmcloud CLI's IBMCLOUD_CR_PROFILE (a name) and IBMCLOUD_CR_TOKEN=@file work too", async function () {
        const p = await plugin({}, { IBMCLOUD_CR_PROFILE: "ci-deployer", IBMCLOUD_CR_TOKEN: `@${await tokenFile("pulumi")}` });
        const sid = await p.create(serviceIdProvider, (await p.check(serviceIdProvider, {}, { name: "made-by-cli-env" })).inputs);
        await p.delete(serviceIdProvider, sid.id, sid.outs);
    });

    it("refused: a compute resource the profile is not linked to gets IBM's reason, and nothing is created", async function () {
        const p = await plugin({ "ibmcloud:iamProfileId": profile.id, "ibmcloud:crTokenFile": await tokenFile("intruder") });
        const checked = await p.check(serviceIdProvider, {}, { name: "never-made" });
        let caught: unknown;
        await p.create(serviceIdProvider, checked.inputs).catch((e: unknown) => (caught = e));
        assert.ok(caught instanceof PluginCallError, String(caught));
        assert.match(caught.message, /BXNIM0442E/);
        assert.match(caught.message, /is not linked to the trusted profile/);
        assert.ok(!caught.message.includes(fs.readFileSync(path.join(dir, "intruder"), "utf8")), "the compute-resource token is not shown");
        const state = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { serviceIds: Array<{ name: string }> };
        assert.ok(!state.serviceIds.some((s) => s.name === "never-made"));
    });

    for (const row of PROFILE_LOGIN_MISTAKES) {
        it(`${row.what}: the error names the dynamic resources' setting (ibmcloud:…), and nothing is created`, async function () {
            const p = await plugin(Object.fromEntries(Object.entries(row.settings).map(([k, v]) => [`ibmcloud:${k}`, v])));
            const checked = await p.check(serviceIdProvider, {}, { name: "never-made" });
            let caught: unknown;
            await p.create(serviceIdProvider, checked.inputs).catch((e: unknown) => (caught = e));
            assert.ok(caught instanceof PluginCallError, String(caught));
            assert.match(
                caught.message,
                row.expect((name) => `ibmcloud:${name}`),
            );
            assert.doesNotMatch(caught.message, foreignSettingNames("ibmcloud-iam"));
            const state = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { serviceIds: Array<{ name: string }> };
            assert.ok(!state.serviceIds.some((s) => s.name === "never-made"));
        });
    }

    it("neither an API key nor a profile: the error names both ways to log in", async function () {
        const p = await plugin({});
        let caught: unknown;
        await p.create(serviceIdProvider, { name: "x", description: "", uniqueInstanceCrns: [], locked: false }).catch((e: unknown) => (caught = e));
        assert.ok(caught instanceof PluginCallError);
        assert.match(caught.message, /ibmcloud:apiKey/);
        assert.match(caught.message, /ibmcloud:iamProfileId/);
    });
});
