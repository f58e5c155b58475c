// TrustedProfileClaimRule and TrustedProfileIdentity through the REAL dynamic-provider plugin against the emulator:
// what IBM ends up holding, a rule updated in place with its entity tag (a change made elsewhere reported, not
// overwritten), drift read back, and what the rule and the trust actually let in — a matching service account and a
// trusted service ID get the profile's token, others are refused.
import { strict as assert } from "assert";
import "../support/failFast";
import { RunningEmulator } from "../../emulator";
import { trustedProfileClaimRuleProvider, trustedProfileIdentityProvider, trustedProfileProvider } from "../../provider";
import { accessTokenProvider, assumedProfileTokenProvider, computeResourceTokenProvider, IamClient, TrustedProfileClient } from "../../client";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningPlugin } from "./harness";
import { PluginOnEmulator, startPluginOnEmulator } from "./onEmulator";
import { deploy, rejectsWith } from "./steps";

describe("plugin: TrustedProfileClaimRule and TrustedProfileIdentity through the real dynamic-provider plugin", function () {
    this.timeout(30_000);
    let emu: RunningEmulator;
    let plugin: RunningPlugin;
    let world: PluginOnEmulator;
    let owner: IamClient;
    let profiles: TrustedProfileClient;
    let dir: string;
    const cluster = () => `crn:v1:bluemix:public:containers-kubernetes:us-south:a/${emu.accountId}:c1::`;

    /** The IAM id a Kubernetes service account of the cluster gets by the profile's cr-token grant. */
    async function serviceAccountActsAs(profileId: string, namespace: string, name: string): Promise<string> {
        const res = await fetch(`${emu.url}/__emulator/compute-resource-token`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ crType: "IKS_SA", crn: cluster(), namespace, name }),
        });
        const file = path.join(dir, `${namespace}-${name}`);
        fs.writeFileSync(file, ((await res.json()) as { token: string }).token);
        const tokens = computeResourceTokenProvider({ profileId, crTokenFilename: file, iamEndpoint: emu.url });
        try {
            return (await tokens.getTokenInfo()).iamId;
        } finally {
            await tokens.close();
        }
    }

    before(async function () {
        world = await startPluginOnEmulator();
        ({ emu, plugin, owner } = world);
        profiles = new TrustedProfileClient(owner);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "trust-plugin-"));
    });
    after(async function () {
        await world?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("TrustedProfileClaimRule: create → read → the matching service account gets the token, another is refused → update in place → delete", async function () {
        const profile = await deploy(plugin, trustedProfileProvider, { name: "ruled-runtime" });
        const r = trustedProfileClaimRuleProvider;
        const d = await deploy(plugin, r, {
            profileId: profile.id,
            type: "Profile-CR",
            crType: "IKS_SA",
            name: "orders-namespace",
            conditions: [{ claim: "namespace", operator: "EQUALS", value: "orders" }],
        });
        assert.match(d.id, new RegExp(`^${profile.id}/ClaimRule-[0-9a-f-]{36}$`));
        assert.deepStrictEqual(
            { ...d.outs, ruleId: "", entityTag: "", createdAt: "", modifiedAt: "" },
            {
                profileId: profile.id,
                ruleId: "",
                type: "Profile-CR",
                crType: "IKS_SA",
                conditions: [{ claim: "namespace", operator: "EQUALS", value: "orders" }],
                expiration: 43200,
                name: "orders-namespace",
                entityTag: "",
                createdAt: "",
                modifiedAt: "",
            },
        );
        const wire = await profiles.getClaimRule(profile.id, String(d.outs.ruleId));
        assert.deepStrictEqual(wire.conditions, [{ claim: "namespace", operator: "EQUALS", value: '"orders"' }], "IBM holds the value as JSON text");
        const read = await plugin.read(r, d.id, d.outs);
        assert.deepStrictEqual(read.props, d.outs);
        assert.deepStrictEqual(read.inputs, { ...d.inputs, expiration: 43200 });
        assert.deepStrictEqual(await plugin.diff(r, d.id, d.outs, d.inputs), { changes: "none", replaces: [], deleteBeforeReplace: false });

        assert.strictEqual(await serviceAccountActsAs(profile.id, "orders", "api"), profile.outs.iamId);
        await rejectsWith(serviceAccountActsAs(profile.id, "billing", "api"), /BXNIM0442E/, emu.apiKey);

        const wider = await plugin.check(r, d.inputs, {
            ...d.inputs,
            expiration: 3600,
            conditions: [{ claim: "namespace", operator: "IN", value: ["orders", "billing"] }],
        });
        assert.deepStrictEqual(await plugin.diff(r, d.id, d.outs, wider.inputs), { changes: "some", replaces: [], deleteBeforeReplace: false });
        const u = await plugin.update(r, d.id, d.outs, wider.inputs);
        assert.strictEqual(u.outs.ruleId, d.outs.ruleId, "updated in place");
        assert.notStrictEqual(u.outs.entityTag, d.outs.entityTag);
        assert.strictEqual((await profiles.getClaimRule(profile.id, String(d.outs.ruleId))).expiration, 3600);
        assert.strictEqual(await serviceAccountActsAs(profile.id, "billing", "api"), profile.outs.iamId);

        const moved = await plugin.check(r, wider.inputs, {
            ...wider.inputs,
            type: "Profile-SAML",
            crType: undefined,
            realmName: "https://sso.example.com/saml",
        });
        assert.deepStrictEqual(await plugin.diff(r, d.id, u.outs, moved.inputs), { changes: "some", replaces: ["type"], deleteBeforeReplace: false });

        await plugin.delete(r, d.id, u.outs);
        await rejectsWith(serviceAccountActsAs(profile.id, "orders", "api"), /BXNIM0442E/, emu.apiKey);
        await plugin.delete(r, d.id, u.outs); // already gone = success
        await plugin.delete(trustedProfileProvider, profile.id, profile.outs);
    });

    it("TrustedProfileClaimRule: a change made elsewhere is not overwritten; refresh shows it; deleted elsewhere reads as gone", async function () {
        const profile = await deploy(plugin, trustedProfileProvider, { name: "drifting-rules" });
        const r = trustedProfileClaimRuleProvider;
        const d = await deploy(plugin, r, {
            profileId: profile.id,
            type: "Profile-SAML",
            realmName: "https://sso.example.com/saml",
            expiration: 7200,
            conditions: [{ claim: "groups", operator: "CONTAINS", value: "ops" }],
        });
        await profiles.updateClaimRule(profile.id, String(d.outs.ruleId), String(d.outs.entityTag), {
            type: "Profile-SAML",
            realm_name: "https://sso.example.com/saml",
            expiration: 900,
            conditions: [{ claim: "groups", operator: "CONTAINS", value: '"everyone"' }],
        });
        await rejectsWith(
            plugin.update(r, d.id, d.outs, { ...d.inputs, name: "ops" }),
            /^update: trusted profile claim rule Profile-[0-9a-f-]+\/ClaimRule-[0-9a-f-]+ was changed outside Pulumi since it was last read; run `pulumi refresh`, then `pulumi up`/,
            emu.apiKey,
        );
        assert.strictEqual((await profiles.getClaimRule(profile.id, String(d.outs.ruleId))).name, undefined, "nothing overwritten");

        const read = await plugin.read(r, d.id, d.outs);
        assert.deepStrictEqual(read.inputs?.conditions, [{ claim: "groups", operator: "CONTAINS", value: "everyone" }]);
        assert.strictEqual(read.inputs?.expiration, 900);
        assert.deepStrictEqual(await plugin.diff(r, d.id, read.props, d.inputs), { changes: "some", replaces: [], deleteBeforeReplace: false });
        const fixed = await plugin.update(r, d.id, read.props, d.inputs);
        const live = await profiles.getClaimRule(profile.id, String(d.outs.ruleId));
        assert.deepStrictEqual([live.expiration, live.conditions[0].value], [7200, '"ops"']);

        await profiles.deleteClaimRule(profile.id, String(d.outs.ruleId));
        assert.strictEqual((await plugin.read(r, d.id, fixed.outs)).id, "", "read says the rule is gone");
        await plugin.delete(trustedProfileProvider, profile.id, profile.outs);
        assert.strictEqual((await plugin.read(r, d.id, fixed.outs)).id, "", "a rule whose profile is gone reads as gone too");
        await plugin.delete(r, d.id, fixed.outs);
    });

    it("TrustedProfileIdentity: a trusted service ID assumes the profile, an untrusted one is refused; drift and deletion read back", async function () {
        const profile = await deploy(plugin, trustedProfileProvider, { name: "assumable-runtime" });
        const trusted = await owner.createServiceId({ name: "deployer", description: "the CI deployer", account_id: emu.accountId });
        const other = await owner.createServiceId({ name: "stranger", account_id: emu.accountId });
        const keyOf = async (sid: { iam_id: string }) =>
            (await owner.createApiKey({ name: "k", iam_id: sid.iam_id, account_id: emu.accountId }, {})).apikey as string;
        const assume = async (apiKey: string) => {
            const from = accessTokenProvider({ apiKey, iamEndpoint: emu.url });
            const as = assumedProfileTokenProvider({ from, profileId: profile.id, iamEndpoint: emu.url });
            try {
                return (await as.getTokenInfo()).iamId;
            } finally {
                await as.close();
                await from.close();
            }
        };
        const trustedKey = await keyOf(trusted);
        const otherKey = await keyOf(other);
        await rejectsWith(assume(trustedKey), /BXNIM0443E/, emu.apiKey);

        const i = trustedProfileIdentityProvider;
        const d = await deploy(plugin, i, { profileId: profile.id, identityType: "serviceid", identifier: trusted.id });
        assert.strictEqual(d.id, `${profile.id}|serviceid|${trusted.id}`);
        assert.deepStrictEqual(d.outs, {
            profileId: profile.id,
            identityType: "serviceid",
            identifier: trusted.id,
            iamId: trusted.iam_id,
            description: "the CI deployer",
        });
        const read = await plugin.read(i, d.id, d.outs);
        assert.deepStrictEqual(read.props, d.outs);
        assert.deepStrictEqual(await plugin.diff(i, d.id, read.props, d.inputs), { changes: "none", replaces: [], deleteBeforeReplace: true });
        assert.strictEqual(await assume(trustedKey), profile.outs.iamId);
        await rejectsWith(assume(otherKey), /BXNIM0443E/, emu.apiKey);

        // the same identity again (another stack, or by hand) is refused, not silently shared
        await rejectsWith(
            deploy(plugin, i, { profileId: profile.id, identityType: "serviceid", identifier: trusted.id }),
            /already trusts the serviceid identity/,
            emu.apiKey,
        );
        const described = await plugin.check(i, d.inputs, { ...d.inputs, description: "CI" });
        assert.deepStrictEqual(await plugin.diff(i, d.id, d.outs, described.inputs), {
            changes: "some",
            replaces: ["description"],
            deleteBeforeReplace: true,
        });

        await profiles.removeIdentity(profile.id, "serviceid", trusted.id);
        assert.strictEqual((await plugin.read(i, d.id, d.outs)).id, "", "withdrawn elsewhere reads as gone");
        await plugin.delete(i, d.id, d.outs); // already gone = success
        const again = await deploy(plugin, i, { profileId: profile.id, identityType: "serviceid", identifier: trusted.id, description: "CI" });
        await plugin.delete(i, again.id, again.outs);
        await rejectsWith(assume(trustedKey), /BXNIM0443E/, emu.apiKey);
        await plugin.delete(trustedProfileProvider, profile.id, profile.outs);
        assert.strictEqual((await plugin.read(i, again.id, again.outs)).id, "", "an identity of a deleted profile reads as gone");
    });

    it("TrustedProfileIdentity: user and crn identities as IBM resolves them", async function () {
        const profile = await deploy(plugin, trustedProfileProvider, { name: "shared-runtime" });
        const i = trustedProfileIdentityProvider;
        const user = await deploy(plugin, i, { profileId: profile.id, identityType: "user", identifier: "IBMid-550000ABCD", accounts: [emu.accountId] });
        assert.deepStrictEqual([user.outs.iamId, user.outs.accounts], ["IBMid-550000ABCD", [emu.accountId]]);
        const crn = `crn:v1:bluemix:public:project:us-south:a/${emu.accountId}:p-1::`;
        const svc = await deploy(plugin, i, { profileId: profile.id, identityType: "crn", identifier: crn, description: "project p-1" });
        assert.strictEqual(svc.id, `${profile.id}|crn|${crn}`);
        assert.deepStrictEqual((await plugin.read(i, svc.id, svc.outs)).props, svc.outs, "a CRN identifier reads back through the path");
        assert.deepStrictEqual((await profiles.listIdentities(profile.id)).identities.map((x) => x.type).sort(), ["crn", "user"]);
        await plugin.delete(i, user.id, user.outs);
        assert.deepStrictEqual(
            (await profiles.listIdentities(profile.id)).identities.map((x) => x.identifier),
            [crn],
            "only its own trust withdrawn",
        );
        await plugin.delete(trustedProfileProvider, profile.id, profile.outs);
    });
});
