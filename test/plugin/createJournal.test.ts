// The provider's own create journal through the REAL dynamic-provider plugin, started as the engine starts it (with
// PULUMI_PROJECT): once IBM answered, the entry of every kind a deployment creates stays with the id IBM gave — the
// plugin can still die before its answer reaches the engine, and then that entry is all `recover` has to find the
// object by — and holds no secret; a policy taken over with `adoptExisting` (not made) leaves none.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import "../support/failFast";
import { JournalEntry, journalDir } from "../../provider/core/createJournal";
import { accessPolicyProvider } from "../../provider/accessPolicy";
import { kmsKeyProvider } from "../../provider/kmsKey";
import { serviceApiKeyProvider } from "../../provider/serviceApiKey";
import { serviceIdProvider } from "../../provider/serviceId";
import { authorizationPolicyProvider } from "../../provider/authorizationPolicy";
import { trustedProfileProvider } from "../../provider/trustedProfile";
import { trustedProfileClaimRuleProvider } from "../../provider/trustedProfileClaimRule";
import { trustedProfileIdentityProvider } from "../../provider/trustedProfileIdentity";
import { trustedProfileLinkProvider } from "../../provider/trustedProfileLink";
import { Props, REPO_ROOT } from "./harness";
import { PluginOnEmulator, startPluginOnEmulator } from "./onEmulator";

describe("plugin: the create journal keeps what IBM made, with its id, until recover settles it", function () {
    this.timeout(60_000);
    let world: PluginOnEmulator;
    let home: string;

    before(async function () {
        home = fs.mkdtempSync(path.join(os.tmpdir(), "journal-plugin-"));
        world = await startPluginOnEmulator({ env: { PULUMI_PROJECT: "proj", PULUMI_HOME: home, IC_API_KEY: undefined, IBMCLOUD_API_KEY: undefined } });
    });
    after(async function () {
        await world?.stop();
        if (home) fs.rmSync(home, { recursive: true, force: true });
    });

    function entries(): Array<{ file: string; text: string; entry: JournalEntry }> {
        const dir = journalDir(REPO_ROOT, { PULUMI_HOME: home });
        if (!fs.existsSync(dir)) return [];
        return fs
            .readdirSync(dir)
            .map((n) => path.join(dir, n))
            .map((file) => {
                const text = fs.readFileSync(file, "utf8");
                return { file, text, entry: JSON.parse(text) as JournalEntry };
            });
    }

    async function create(provider: object, news: Props): Promise<{ id: string; outs: Props }> {
        const checked = await world.plugin.check(provider, {}, news);
        assert.deepStrictEqual(checked.failures, []);
        return world.plugin.create(provider, checked.inputs);
    }

    it("service ID, API key, access policy and KMS key: one entry each, with the id IBM gave, 0600, no secret in it", async function () {
        const instanceId = world.emu.instances[0].guid;
        const sid = await create(serviceIdProvider, { name: "journaled", description: "journal test" });
        const key = await create(serviceApiKeyProvider, { serviceId: sid.id, name: "journaled-key" });
        const grant = { serviceId: sid.id, roles: ["Reader"], resource: { serviceName: "hs-crypto", serviceInstance: instanceId } };
        const policy = await create(accessPolicyProvider, grant);
        // made as the deployer (no apiKey): the journal names the identity that made it
        const kmsKey = await create(kmsKeyProvider, { instanceId, service: "hs-crypto", endpoint: world.emu.url, name: "journaled-root" });

        const all = entries();
        assert.deepStrictEqual(all.map((e) => [e.entry.kind, e.entry.made]).sort(), [
            ["AccessPolicy", policy.id],
            ["KmsKey", kmsKey.id],
            ["ServiceApiKey", key.id],
            ["ServiceId", sid.id],
        ]);
        const ownerIamId = (await world.owner.tokenInfo()).iamId;
        const kms = all.find((e) => e.entry.kind === "KmsKey")?.entry.kms;
        assert.deepStrictEqual(kms, { instanceId, service: "hs-crypto", endpoint: world.emu.url, creator: ownerIamId });
        for (const e of all) {
            assert.equal(fs.statSync(e.file).mode & 0o777, 0o600, e.file);
            assert.equal(e.entry.project, "proj");
            assert.ok(!e.text.includes(world.emu.apiKey), "the deployer's key is in no entry");
            assert.ok(!e.text.includes(String(key.outs.apikey)), "the API key's value is in no entry");
        }
    });

    it("authorization, trusted profile, its claim rule, link and trust: one entry each, with the id the resource has, no secret in it", async function () {
        const instanceId = world.emu.instances[0].guid;
        const before = new Set(entries().map((e) => e.file));
        const authorization = await create(authorizationPolicyProvider, {
            sourceServiceName: "cloud-object-storage",
            sourceServiceInstance: "0f0e0d0c-0b0a-4908-9706-050403020100",
            targetServiceName: "hs-crypto",
            targetServiceInstance: instanceId,
        });
        const profile = await create(trustedProfileProvider, { name: "journaled-runtime", description: "journal test" });
        const rule = await create(trustedProfileClaimRuleProvider, {
            profileId: profile.id,
            type: "Profile-CR",
            crType: "IKS_SA",
            name: "journaled-rule",
            conditions: [{ claim: "namespace", operator: "EQUALS", value: "orders" }],
        });
        const link = await create(trustedProfileLinkProvider, {
            profileId: profile.id,
            crType: "VSI",
            crn: `crn:v1:bluemix:public:is:us-south-1:a/${world.emu.accountId}::instance:0717-journaled`,
        });
        const trusted = await world.owner.createServiceId({ name: "journaled-trusted" });
        const trust = await create(trustedProfileIdentityProvider, { profileId: profile.id, identityType: "serviceid", identifier: trusted.id });

        const added = entries().filter((e) => !before.has(e.file));
        assert.deepStrictEqual(added.map((e) => [e.entry.kind, e.entry.made]).sort(), [
            ["AuthorizationPolicy", authorization.id],
            ["TrustedProfile", profile.id],
            ["TrustedProfileClaimRule", rule.id],
            ["TrustedProfileIdentity", trust.id],
            ["TrustedProfileLink", link.id],
        ]);
        for (const e of added) {
            assert.equal(fs.statSync(e.file).mode & 0o777, 0o600, e.file);
            assert.ok(!e.text.includes(world.emu.apiKey), "the deployer's key is in no entry");
            assert.equal(e.entry.kms, undefined);
        }
        // what the sweep looks for when IBM's answer never came: the create's own inputs
        assert.equal(added.find((e) => e.entry.kind === "TrustedProfile")?.entry.inputs.name, "journaled-runtime");
        assert.equal(added.find((e) => e.entry.kind === "TrustedProfileIdentity")?.entry.inputs.identifier, trusted.id);
    });

    it("a locked service ID (made without a mark) and an API key with the user's own value: entries with IBM's id, never the value", async function () {
        const before = new Set(entries().map((e) => e.file));
        const sid = await create(serviceIdProvider, { name: "journaled-locked", locked: true });
        const value = "user-chosen-key-value-0123456789abcdefghij";
        const key = await create(serviceApiKeyProvider, { serviceId: sid.id, name: "journaled-own-value", apikey: value });
        const added = entries().filter((e) => !before.has(e.file));
        assert.deepStrictEqual(added.map((e) => [e.entry.kind, e.entry.made]).sort(), [
            ["ServiceApiKey", key.id],
            ["ServiceId", sid.id],
        ]);
        for (const e of added) assert.ok(!e.text.includes(value), "the user's API key value is in no entry");
        assert.equal(added.find((e) => e.entry.kind === "ServiceApiKey")?.entry.inputs.apikey, undefined);
    });

    it("a policy taken over with adoptExisting is no object of the create's: its entry goes (a recovery never deletes it)", async function () {
        const instanceId = world.emu.instances[0].guid;
        const sid = await world.owner.createServiceId({ name: "adopted-subject" });
        const existing = await world.owner.createPolicy({
            type: "access",
            subjects: [{ attributes: [{ name: "iam_id", value: sid.iam_id }] }],
            roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Reader" }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: world.emu.accountId, operator: "stringEquals" },
                        { name: "serviceName", value: "hs-crypto", operator: "stringEquals" },
                        { name: "serviceInstance", value: instanceId, operator: "stringEquals" },
                    ],
                },
            ],
        });
        const before = entries().length;
        const adopted = await create(accessPolicyProvider, {
            serviceId: sid.id,
            roles: ["Reader"],
            resource: { serviceName: "hs-crypto", serviceInstance: instanceId },
            adoptExisting: true,
        });
        assert.equal(adopted.id, existing.policy.id);
        assert.equal(entries().length, before, "no entry left for a policy the create did not make");
    });

    it("an authorization taken over with adoptExisting, and a create IBM refused: no entry left", async function () {
        const instanceId = world.emu.instances[0].guid;
        const grant = {
            sourceServiceName: "cloud-object-storage",
            sourceServiceInstance: "1f1e1d1c-1b1a-4918-9716-151413121110",
            targetServiceName: "hs-crypto",
            targetServiceInstance: instanceId,
        };
        const first = await create(authorizationPolicyProvider, grant);
        const before = entries().length;
        const adopted = await create(authorizationPolicyProvider, { ...grant, adoptExisting: true });
        assert.equal(adopted.id, first.id);
        // a second profile of a name the account has: IBM answers 409, and the engine learns of it
        await create(trustedProfileProvider, { name: "journaled-twice" });
        const again = await world.plugin.check(trustedProfileProvider, {}, { name: "journaled-twice" });
        await assert.rejects(world.plugin.create(trustedProfileProvider, again.inputs), /409|already exists|exists/i);
        assert.equal(entries().length, before + 1, "only the first profile's entry: none for the adopted authorization or the refused profile");
    });
});
