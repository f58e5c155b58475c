// The adopt rules `recover` applies to interrupted creates of the types that carry no mark (trusted profiles, their
// rules, links and trusts, authorization policies, key rings), against the emulator: each create is made with the
// provider's own `create`, as a create the CLI's death interrupted would have made it, and the rule must find it, and
// must refuse what someone else owns (another identity, another stack, a profile in use, an object older than the
// stack's last update).
import { strict as assert } from "assert";
import type * as pulumi from "@pulumi/pulumi";
import { RunningEmulator, startEmulator } from "../../emulator";
import { IamClient, IamTokenManager } from "../../client";
import { findMarkless, lastUpdateEnded, MarklessContext, marklessPendingCreates, nothingToAdopt } from "../../provider/recovery/adopters";
import { Deployment } from "../../provider/recovery/journal";
import { authorizationPolicyProvider } from "../../provider/authorizationPolicy";
import { kmsKeyRingProvider } from "../../provider/kmsKeyRing";
import { trustedProfileProvider } from "../../provider/trustedProfile";
import { trustedProfileClaimRuleProvider } from "../../provider/trustedProfileClaimRule";
import { trustedProfileIdentityProvider } from "../../provider/trustedProfileIdentity";
import { trustedProfileLinkProvider } from "../../provider/trustedProfileLink";

const T = (name: string) => `pulumi-nodejs:dynamic/ibmcloud-iam:${name}`;

describe("crash recovery: pending creates of the types without a mark", function () {
    it("lists them profiles first, through both front doors; the types whose create makes nothing are dropped with a reason", function () {
        const op = (type: string, name: string) => ({ type: "creating", resource: { urn: `urn:pulumi:s::p::${type}::${name}`, type } });
        const d: Deployment = {
            version: 3,
            deployment: {
                pending_operations: [
                    op(T("KmsKeyRing"), "ring"),
                    op("ibmcloud-iam:index:TrustedProfileClaimRule", "rule"),
                    op(T("ServiceId"), "sid"),
                    op(T("TrustedProfile"), "profile"),
                    { type: "deleting", resource: { urn: "urn:x", type: T("TrustedProfile") } },
                ],
            },
        };
        assert.deepEqual(
            marklessPendingCreates(d).map((o) => o.kind),
            ["TrustedProfile", "TrustedProfileClaimRule", "KmsKeyRing"],
        );
        assert.match(nothingToAdopt(T("KmsInstancePolicies")) ?? "", /PUT/);
        assert.match(nothingToAdopt("ibmcloud-iam:index:KmsAccessReady") ?? "", /makes nothing/);
        assert.equal(nothingToAdopt(T("TrustedProfile")), undefined);
        assert.equal(nothingToAdopt("aws:s3/bucket:Bucket"), undefined);
    });

    it("the stack's last finished update ends the newest entry of `pulumi stack history --json`; none before the first", function () {
        assert.equal(lastUpdateEnded("[]"), undefined);
        const h = JSON.stringify([{ endTime: "2026-12-06T11:57:02.000Z" }, { endTime: "2026-12-06T12:01:00.000Z" }, { startTime: "x" }]);
        assert.equal(lastUpdateEnded(h), Date.parse("2026-12-06T12:01:00.000Z"));
    });

    describe("the adopt rules, against the emulator", function () {
        this.timeout(60_000);
        let emu: RunningEmulator;
        let deployerIamId: string;
        let serviceIamId: string;
        const ctx = (over: Partial<MarklessContext> = {}): MarklessContext => ({
            deployerIamId,
            tracked: new Set(),
            serviceIamIds: new Set(),
            projectTracked: new Set(),
            ...over,
        });

        before(async function () {
            emu = await startEmulator({ port: 0 });
            const config = {
                config: new Map([
                    ["ibmcloud:apiKey", emu.apiKey],
                    ["ibmcloud:iamEndpoint", emu.url],
                    ["ibmcloud:kmsEndpoint", emu.url],
                ]),
            } as unknown as pulumi.dynamic.ConfigureRequest;
            for (const p of [
                trustedProfileProvider,
                trustedProfileClaimRuleProvider,
                trustedProfileLinkProvider,
                trustedProfileIdentityProvider,
                authorizationPolicyProvider,
                kmsKeyRingProvider,
            ])
                await (p as unknown as pulumi.dynamic.ResourceProvider).configure?.(config);
            const owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
            deployerIamId = (await owner.tokenInfo()).iamId;
            serviceIamId = (await owner.createServiceId({ name: "trusted" })).iam_id;
        });
        after(async () => emu?.stop());

        it("a trusted profile: adopted when untouched and made after the last update; not when in use, older, or another stack's", async function () {
            const inputs = { name: "runtime", description: "the workloads" };
            assert.deepEqual(await findMarkless("TrustedProfile", inputs, ctx()), { result: "nothing made" });
            const made = await trustedProfileProvider.create(inputs);
            const found = await findMarkless("TrustedProfile", inputs, ctx({ lastUpdateEnded: Date.now() - 60_000 }));
            assert.equal(found.result === "found" && found.id, made.id);
            // older than the stack's last update: someone made it before this update began
            const older = await findMarkless("TrustedProfile", inputs, ctx({ lastUpdateEnded: Date.now() + 10 * 60_000 }));
            assert.equal(older.result, "unresolved");
            assert.match(older.result === "unresolved" ? older.why : "", new RegExp(made.id));
            // another stack of the project tracks it
            assert.deepEqual(await findMarkless("TrustedProfile", inputs, ctx({ projectTracked: new Set([made.id]) })), { result: "nothing made" });
            // in use: a rule on it
            await trustedProfileClaimRuleProvider.create(ruleInputs(made.id, "in-use") as never);
            assert.equal((await findMarkless("TrustedProfile", inputs, ctx())).result, "unresolved");
        });

        function ruleInputs(profileId: string, name: string) {
            return {
                profileId,
                type: "Profile-CR",
                crType: "IKS_SA",
                name,
                conditions: [{ claim: "namespace", operator: "EQUALS", value: "orders" }],
                expiration: 3600,
            };
        }

        it("a claim rule and a link: adopted only on a profile this stack tracks, and only the identical one", async function () {
            const profile = await trustedProfileProvider.create({ name: "rules", description: "" });
            const rule = await trustedProfileClaimRuleProvider.create(ruleInputs(profile.id, "ns") as never);
            const ours = ctx({ tracked: new Set([profile.id]) });
            const found = await findMarkless("TrustedProfileClaimRule", ruleInputs(profile.id, "ns"), ours);
            assert.equal(found.result === "found" && found.id, rule.id);
            assert.equal((await findMarkless("TrustedProfileClaimRule", ruleInputs(profile.id, "ns"), ctx())).result, "unresolved", "not this stack's profile");
            assert.deepEqual(await findMarkless("TrustedProfileClaimRule", ruleInputs(profile.id, "other"), ours), { result: "nothing made" });

            const linkInputs = {
                profileId: profile.id,
                crType: "VSI",
                crn: `crn:v1:bluemix:public:is:us-south-1:a/${emu.accountId}::instance:0717-x`,
                linkName: "batch",
            };
            const link = await trustedProfileLinkProvider.create(linkInputs as never);
            const foundLink = await findMarkless("TrustedProfileLink", linkInputs, ours);
            assert.equal(foundLink.result === "found" && foundLink.id, link.id);
            assert.equal((await findMarkless("TrustedProfileLink", linkInputs, ctx())).result, "unresolved", "not this stack's profile");
        });

        it("a trust: adopted only on a profile this stack tracks, with the same description and accounts", async function () {
            const profile = await trustedProfileProvider.create({ name: "trusts", description: "" });
            const inputs = { profileId: profile.id, identityType: "serviceid", identifier: serviceIamId.replace(/^iam-/, ""), description: "ci" };
            assert.deepEqual(await findMarkless("TrustedProfileIdentity", inputs, ctx({ tracked: new Set([profile.id]) })), { result: "nothing made" });
            const made = await trustedProfileIdentityProvider.create(inputs as never);
            const ours = ctx({ tracked: new Set([profile.id]) });
            const found = await findMarkless("TrustedProfileIdentity", inputs, ours);
            assert.equal(found.result === "found" && found.id, made.id);
            assert.equal((await findMarkless("TrustedProfileIdentity", { ...inputs, description: "by hand" }, ours)).result, "unresolved");
            assert.equal((await findMarkless("TrustedProfileIdentity", inputs, ctx())).result, "unresolved", "not this stack's profile");
        });

        it("an authorization: adopted when the deployer made it after the last update; not another identity's", async function () {
            const inputs = {
                sourceServiceName: "cloud-object-storage",
                sourceServiceInstance: "5a0c1a3e-7c1d-4a51-9b21-0d9a8f7e6c5b",
                targetServiceName: emu.instances[0].service,
                targetServiceInstance: emu.instances[0].guid,
                roles: ["Reader"],
            };
            assert.deepEqual(await findMarkless("AuthorizationPolicy", inputs, ctx()), { result: "nothing made" });
            const made = await authorizationPolicyProvider.create(inputs as never);
            const found = await findMarkless("AuthorizationPolicy", inputs, ctx({ lastUpdateEnded: Date.now() - 60_000 }));
            assert.equal(found.result === "found" && found.id, made.id);
            assert.equal((await findMarkless("AuthorizationPolicy", inputs, ctx({ deployerIamId: "iam-ServiceId-someone-else" }))).result, "unresolved");
            assert.equal((await findMarkless("AuthorizationPolicy", inputs, ctx({ lastUpdateEnded: Date.now() + 10 * 60_000 }))).result, "unresolved");
        });

        it("the journal sweep (a killed plugin's create, sent at the entry's time): a rule or trust on any profile; what does not fit is not this create's", async function () {
            const profile = await trustedProfileProvider.create({ name: "swept", description: "" });
            const sent = Date.now();
            const swept = (over: Partial<MarklessContext> = {}) => ctx({ journaled: true, lastUpdateEnded: sent, ...over });
            const rule = await trustedProfileClaimRuleProvider.create(ruleInputs(profile.id, "swept") as never);
            // no stack tracks the profile (a profile given by id): the journal entry is what says the create was ours
            const found = await findMarkless("TrustedProfileClaimRule", ruleInputs(profile.id, "swept"), swept());
            assert.equal(found.result === "found" && found.id, rule.id);
            // made before the entry was written: someone else's, and the sweep deletes nothing that is not its own
            assert.deepEqual(await findMarkless("TrustedProfileClaimRule", ruleInputs(profile.id, "swept"), swept({ lastUpdateEnded: sent + 10 * 60_000 })), {
                result: "nothing made",
            });
            const trustInputs = { profileId: profile.id, identityType: "serviceid", identifier: serviceIamId.replace(/^iam-/, ""), description: "ci" };
            const trust = await trustedProfileIdentityProvider.create(trustInputs as never);
            const foundTrust = await findMarkless("TrustedProfileIdentity", trustInputs, swept());
            assert.equal(foundTrust.result === "found" && foundTrust.id, trust.id);
            // the same identity trusted with another description: not what this create sent
            assert.deepEqual(await findMarkless("TrustedProfileIdentity", { ...trustInputs, description: "by hand" }, swept()), { result: "nothing made" });
            // in use (a rule on it): a profile of that name is not one a create just made
            assert.deepEqual(await findMarkless("TrustedProfile", { name: "swept", description: "" }, swept()), { result: "nothing made" });
            // two identical rules made since: which one the create made cannot be told, so neither is deleted
            await trustedProfileClaimRuleProvider.create(ruleInputs(profile.id, "swept") as never);
            assert.equal((await findMarkless("TrustedProfileClaimRule", ruleInputs(profile.id, "swept"), swept())).result, "unresolved");
        });

        it("a key ring: adopted when the deployer or a service ID of the stack made it; not another identity's", async function () {
            const inputs = { instanceId: emu.instances[0].guid, service: emu.instances[0].service, keyRingId: "app-keys", force: false };
            assert.deepEqual(await findMarkless("KmsKeyRing", inputs, ctx()), { result: "nothing made" });
            await kmsKeyRingProvider.create(inputs as never);
            const found = await findMarkless("KmsKeyRing", inputs, ctx());
            assert.equal(found.result === "found" && found.id, "app-keys");
            assert.equal((await findMarkless("KmsKeyRing", inputs, ctx({ deployerIamId: "iam-ServiceId-someone-else" }))).result, "unresolved");
            assert.equal((await findMarkless("KmsKeyRing", inputs, ctx({ projectTracked: new Set(["app-keys"]) }))).result, "unresolved");
        });
    });
});
