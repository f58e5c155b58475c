// The provider plugin's deployer with no API key: configured with iamProfileId + crTokenFile (the settings the
// dynamic providers read as ibmcloud:iamProfileId / ibmcloud:crTokenFile), or with nothing but the ibmcloud
// CLI's IBMCLOUD_CR_PROFILE / IBMCLOUD_CR_TOKEN in its environment, it creates as that trusted profile; a
// compute resource the profile is not linked to is refused with IBM's reason, and no token reaches a message.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import "../../support/failFast";
import { IamClient, IamTokenManager, TrustedProfileClient } from "../../../client";
import { RunningEmulator, startEmulator } from "../../../emulator";
import { foreignSettingNames, PROFILE_LOGIN_MISTAKES } from "../../support/profileLoginMistakes";
import { ServedPlugin, startServed } from "./served";

describe("provider plugin: the deployer as a trusted profile (no API key)", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    let owner: IamClient;
    let dir: string;
    let profile: { id: string; iam_id: string };
    const started: ServedPlugin[] = [];
    const tokens: string[] = [];
    const cluster = () => `crn:v1:bluemix:public:containers-kubernetes:us-south:a/${emu.accountId}:ci-cluster::`;

    async function tokenFile(name: string): Promise<string> {
        const res = await fetch(`${emu.url}/__emulator/compute-resource-token`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ crType: "IKS_SA", crn: cluster(), namespace: "ci", name }),
        });
        const { token } = (await res.json()) as { token: string };
        tokens.push(token);
        const file = path.join(dir, name);
        fs.writeFileSync(file, token, { mode: 0o600 });
        return file;
    }
    async function served(env: Record<string, string> = {}): Promise<ServedPlugin> {
        const p = await startServed(env);
        started.push(p);
        return p;
    }
    const serviceId = (name: string) => ({ name, description: "", uniqueInstanceCrns: [], locked: false });

    before(async () => {
        emu = await startEmulator({ port: 0 });
        owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "served-profile-"));
        const profiles = new TrustedProfileClient(owner);
        profile = await profiles.createProfile({ name: "ci-deployer" });
        await profiles.createLink(profile.id, { cr_type: "IKS_SA", link: { crn: cluster(), namespace: "ci", name: "pulumi" } });
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
    after(async () => {
        for (const p of started) await p.stop();
        await owner?.http.close();
        await emu?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("iamProfileId + crTokenFile are provider settings (schema and checkConfig); with them it creates as the profile", async () => {
        const p = await served();
        const schema = JSON.parse(await p.schema());
        for (const k of ["iamProfileId", "iamProfileName", "crTokenFile"]) {
            assert.ok(schema.config.variables[k], `config variable ${k}`);
            assert.ok(schema.provider.inputProperties[k], `provider input ${k}`);
        }
        const file = await tokenFile("pulumi");
        assert.deepStrictEqual(await p.checkConfig({ iamEndpoint: emu.url, iamProfileId: profile.id, crTokenFile: file }), []);
        await p.configure({ iamEndpoint: emu.url, iamProfileId: profile.id, crTokenFile: file });
        const sid = await p.create("ServiceId", serviceId("made-by-ci"));
        const live = await owner.getServiceId(sid.id);
        assert.equal(live.name, "made-by-ci");
        assert.equal(sid.outs.accountId, emu.accountId);
        assert.ok(!p.output().includes(tokens[0]), "no token in the plugin's output");
    });

    for (const row of PROFILE_LOGIN_MISTAKES) {
        it(`${row.what}: the error names the plugin's own setting (ibmcloud-iam:…), and nothing is created`, async () => {
            const p = await served();
            await p.configure({ iamEndpoint: emu.url, ...row.settings });
            const err = await p.create("ServiceId", serviceId("never-made")).then(
                () => undefined,
                (e: unknown) => e as Error,
            );
            assert.ok(err, "the create must fail");
            assert.match(
                err.message,
                row.expect((name) => `ibmcloud-iam:${name}`),
            );
            assert.doesNotMatch(err.message, foreignSettingNames("ibmcloud"));
            const state = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { serviceIds: Array<{ name: string }> };
            assert.ok(!state.serviceIds.some((s) => s.name === "never-made"));
        });
    }

    it("from the ibmcloud CLI's environment alone (IBMCLOUD_CR_PROFILE, IBMCLOUD_CR_TOKEN=@file); an unlinked service account is refused", async () => {
        const p = await served({ IBMCLOUD_CR_PROFILE: profile.id, IBMCLOUD_CR_TOKEN: `@${await tokenFile("pulumi")}`, IBMCLOUD_IAM_API_ENDPOINT: emu.url });
        await p.configure({});
        const sid = await p.create("ServiceId", serviceId("made-from-env"));
        assert.match(sid.id, /^ServiceId-/);

        const stranger = await served({
            IBMCLOUD_CR_PROFILE: profile.id,
            IBMCLOUD_CR_TOKEN: `@${await tokenFile("intruder")}`,
            IBMCLOUD_IAM_API_ENDPOINT: emu.url,
        });
        await stranger.configure({});
        let caught: unknown;
        try {
            await stranger.create("ServiceId", serviceId("never"));
        } catch (e) {
            caught = e;
        }
        assert.ok(caught instanceof Error);
        assert.match(caught.message, /BXNIM0442E/);
        for (const t of tokens) assert.ok(!caught.message.includes(t) && !stranger.output().includes(t), "no token in the error or the output");
    });
});
