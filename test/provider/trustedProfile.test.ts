// TrustedProfile and TrustedProfileLink: check and diff called directly (no network), and what a program
// registers (setMocks): type tokens, inputs, the serialized provider. The providers run in test/plugin/.
import { strict as assert } from "assert";
import { serializeProvider } from "../plugin/harness";
import { outputValue, setupMocks } from "../support/mocks";
import {
    TrustedProfile,
    TrustedProfileClaimRule,
    trustedProfileClaimRuleProvider,
    TrustedProfileIdentity,
    trustedProfileIdentityProvider,
    TrustedProfileLink,
    trustedProfileLinkProvider,
    trustedProfileProvider,
} from "../../provider";
import { UNKNOWN } from "../../provider/core/props";

const PROFILE = "Profile-7d2c4e6f-8a1b-4c3d-9e5f-0a1b2c3d4e5f";
const CLUSTER = "crn:v1:bluemix:public:containers-kubernetes:us-south:a/0123456789abcdef0123456789abcdef:c1::";
type Inputs = Record<string, unknown>;
const profileP = trustedProfileProvider as unknown as {
    check(o: Inputs, n: Inputs): Promise<{ inputs: Inputs; failures?: unknown[] }>;
    diff(id: string, o: Inputs, n: Inputs): Promise<{ changes: boolean; replaces: string[]; deleteBeforeReplace: boolean }>;
};
const linkP = trustedProfileLinkProvider as unknown as typeof profileP;
const ruleP = trustedProfileClaimRuleProvider as unknown as typeof profileP;
const identityP = trustedProfileIdentityProvider as unknown as typeof profileP;
const SID = "ServiceId-5c3f5d1e-2f4a-4b6c-8d7e-9f0a1b2c3d4e";

describe("trustedProfile: check and diff", function () {
    it("TrustedProfile: defaults the description to empty; every change is in place", async function () {
        const c = await profileP.check({}, { name: " orders-runtime " });
        assert.deepStrictEqual(c, { inputs: { name: "orders-runtime", description: "" }, failures: [] });
        const olds = { profileId: PROFILE, name: "orders-runtime", description: "", entityTag: "1-a" };
        assert.deepStrictEqual(await profileP.diff(PROFILE, olds, c.inputs), { changes: false, replaces: [], deleteBeforeReplace: false });
        assert.deepStrictEqual(await profileP.diff(PROFILE, olds, { ...c.inputs, description: "d" }), {
            changes: true,
            replaces: [],
            deleteBeforeReplace: false,
        });
    });

    it("TrustedProfile: an unknown name (preview) is not judged", async function () {
        assert.deepStrictEqual((await profileP.check({}, { name: UNKNOWN })).failures ?? [], []);
    });

    it("TrustedProfileLink: isCrossAccount defaults to false; any change replaces, the old link first", async function () {
        const base = { profileId: PROFILE, crType: "IKS_SA", crn: CLUSTER, namespace: "orders", serviceAccount: "api" };
        const c = await linkP.check({}, base);
        assert.deepStrictEqual(c, { inputs: { ...base, isCrossAccount: false }, failures: [] });
        const olds = { ...c.inputs, linkId: "ProfileLink-1", entityTag: "1-a", createdAt: "" };
        assert.deepStrictEqual(await linkP.diff(`${PROFILE}/ProfileLink-1`, olds, c.inputs), { changes: false, replaces: [], deleteBeforeReplace: true });
        for (const [field, value] of [
            ["namespace", "billing"],
            ["serviceAccount", "worker"],
            ["crn", CLUSTER.replace("c1", "c2")],
            ["linkName", "named"],
            ["isCrossAccount", true],
            ["profileId", PROFILE.replace("7d2c", "8e3d")],
        ] as const) {
            const d = await linkP.diff(`${PROFILE}/ProfileLink-1`, olds, { ...c.inputs, [field]: value });
            assert.deepStrictEqual(d, { changes: true, replaces: [field], deleteBeforeReplace: true }, field);
        }
    });
});

describe("trustedProfile: claim rules and trusted identities, check and diff", function () {
    const rule = { profileId: PROFILE, type: "Profile-CR", crType: "IKS_SA", conditions: [{ claim: " namespace ", operator: "EQUALS", value: "orders" }] };

    it("TrustedProfileClaimRule: claims trimmed; every field but profileId and type updates in place; a left-out expiration keeps IBM's", async function () {
        const c = await ruleP.check({}, rule);
        assert.deepStrictEqual(c, { inputs: { ...rule, conditions: [{ claim: "namespace", operator: "EQUALS", value: "orders" }] }, failures: [] });
        const olds = { ...c.inputs, ruleId: "ClaimRule-1", expiration: 43200, entityTag: "1-a", createdAt: "", modifiedAt: "" };
        const none = { changes: false, replaces: [], deleteBeforeReplace: false };
        assert.deepStrictEqual(await ruleP.diff(`${PROFILE}/ClaimRule-1`, olds, c.inputs), none);
        for (const [field, value] of [
            ["expiration", 3600],
            ["name", "orders"],
            ["crType", "ROKS_SA"],
            ["conditions", [{ claim: "namespace", operator: "IN", value: ["orders"] }]],
        ] as const) {
            const d = await ruleP.diff(`${PROFILE}/ClaimRule-1`, olds, { ...c.inputs, [field]: value });
            assert.deepStrictEqual(d, { changes: true, replaces: [], deleteBeforeReplace: false }, field);
        }
        for (const [field, value] of [
            ["profileId", PROFILE.replace("7d2c", "8e3d")],
            ["type", "Profile-SAML"],
        ] as const) {
            const d = await ruleP.diff(`${PROFILE}/ClaimRule-1`, olds, { ...c.inputs, [field]: value });
            assert.deepStrictEqual(d, { changes: true, replaces: [field], deleteBeforeReplace: false }, field);
        }
        const unknown = await ruleP.diff(`${PROFILE}/ClaimRule-1`, olds, {
            ...c.inputs,
            conditions: [{ claim: "namespace", operator: "EQUALS", value: UNKNOWN }],
        });
        assert.strictEqual(unknown.changes, true, "an unknown value (preview) counts as a change");
    });

    it("TrustedProfileClaimRule: unknown values (preview) are not judged", async function () {
        const c = await ruleP.check({}, { ...rule, profileId: UNKNOWN, conditions: [{ claim: "namespace", operator: "IN", value: UNKNOWN }] });
        assert.deepStrictEqual(c.failures ?? [], []);
    });

    it("TrustedProfileIdentity: any change replaces it, the old entry first; IBM's own description of a service ID is no change", async function () {
        const base = { profileId: PROFILE, identityType: "serviceid", identifier: SID };
        const c = await identityP.check({}, base);
        assert.deepStrictEqual(c, { inputs: base, failures: [] });
        const olds = { ...base, iamId: `iam-${SID}`, description: "the service ID's own" };
        assert.deepStrictEqual(await identityP.diff(`${PROFILE}|serviceid|${SID}`, olds, c.inputs), {
            changes: false,
            replaces: [],
            deleteBeforeReplace: true,
        });
        for (const [field, value] of [
            ["description", "CI"],
            ["identifier", SID.replace("5c3f", "6d4e")],
            ["profileId", PROFILE.replace("7d2c", "8e3d")],
        ] as const) {
            const d = await identityP.diff(`${PROFILE}|serviceid|${SID}`, olds, { ...c.inputs, [field]: value });
            assert.deepStrictEqual(d, { changes: true, replaces: [field], deleteBeforeReplace: true }, field);
        }
        const user = { profileId: PROFILE, identityType: "user", identifier: "IBMid-1", accounts: ["0123456789abcdef0123456789abcdef"] };
        const uOlds = { ...user, iamId: "IBMid-1" };
        assert.strictEqual((await identityP.diff("x", uOlds, { ...user, accounts: [...user.accounts] })).changes, false);
        assert.deepStrictEqual((await identityP.diff("x", uOlds, { ...user, accounts: ["fedcba9876543210fedcba9876543210"] })).replaces, ["accounts"]);
    });
});

describe("trustedProfile.shape: what TrustedProfile and TrustedProfileLink register", function () {
    this.timeout(30_000);

    it("type tokens, inputs, the serialized providers; the link takes the profile's id", async function () {
        const mocks = await setupMocks({
            newResource: (a) =>
                a.type.endsWith(":TrustedProfile")
                    ? { id: PROFILE, state: { ...a.inputs, profileId: PROFILE, iamId: `iam-${PROFILE}`, entityTag: "1-a" } }
                    : { id: `${PROFILE}/ProfileLink-1`, state: { ...a.inputs, linkId: "ProfileLink-1" } },
        });
        const profile = new TrustedProfile("runtime", { name: "orders-runtime" });
        const link = new TrustedProfileLink("api", {
            profileId: profile.profileId,
            crType: "IKS_SA",
            crn: CLUSTER,
            namespace: "orders",
            serviceAccount: "api",
        });
        assert.strictEqual(await outputValue(profile.iamId), `iam-${PROFILE}`);
        assert.strictEqual(await outputValue(link.linkId), "ProfileLink-1");
        const p = mocks.byName("runtime");
        assert.strictEqual(p.type, "pulumi-nodejs:dynamic/ibmcloud-iam:TrustedProfile");
        const { __provider: pp, ...pInputs } = p.inputs;
        assert.deepStrictEqual(pInputs, { name: "orders-runtime" });
        assert.strictEqual(pp, (await serializeProvider(trustedProfileProvider)).text);
        const l = mocks.byName("api");
        assert.strictEqual(l.type, "pulumi-nodejs:dynamic/ibmcloud-iam:TrustedProfileLink");
        const { __provider: lp, ...lInputs } = l.inputs;
        assert.deepStrictEqual(lInputs, { profileId: PROFILE, crType: "IKS_SA", crn: CLUSTER, namespace: "orders", serviceAccount: "api" });
        assert.strictEqual(lp, (await serializeProvider(trustedProfileLinkProvider)).text);
    });

    it("claim rules and identities register their inputs as given, the profile's id flowing in", async function () {
        const mocks = await setupMocks({
            newResource: (a) =>
                a.type.endsWith(":TrustedProfile")
                    ? { id: PROFILE, state: { ...a.inputs, profileId: PROFILE, iamId: `iam-${PROFILE}` } }
                    : { id: `${PROFILE}/x`, state: { ...a.inputs } },
        });
        const profile = new TrustedProfile("runtime", { name: "orders-runtime" });
        const ruled = new TrustedProfileClaimRule("ns", {
            profileId: profile.profileId,
            type: "Profile-CR",
            crType: "IKS_SA",
            conditions: [{ claim: "namespace", operator: "IN", value: ["orders", "billing"] }],
        });
        const trusted = new TrustedProfileIdentity("ci", { profileId: profile.profileId, identityType: "serviceid", identifier: SID });
        await outputValue(ruled.urn);
        await outputValue(trusted.urn);
        const r = mocks.byName("ns");
        assert.strictEqual(r.type, "pulumi-nodejs:dynamic/ibmcloud-iam:TrustedProfileClaimRule");
        const { __provider: rp, ...rInputs } = r.inputs;
        assert.deepStrictEqual(rInputs, {
            profileId: PROFILE,
            type: "Profile-CR",
            crType: "IKS_SA",
            conditions: [{ claim: "namespace", operator: "IN", value: ["orders", "billing"] }],
        });
        assert.strictEqual(rp, (await serializeProvider(trustedProfileClaimRuleProvider)).text);
        const i = mocks.byName("ci");
        assert.strictEqual(i.type, "pulumi-nodejs:dynamic/ibmcloud-iam:TrustedProfileIdentity");
        const { __provider: ip, ...iInputs } = i.inputs;
        assert.deepStrictEqual(iInputs, { profileId: PROFILE, identityType: "serviceid", identifier: SID });
        assert.strictEqual(ip, (await serializeProvider(trustedProfileIdentityProvider)).text);
    });

    it("a bad argument known when the program runs throws at the constructor; one still unknown is left to check", async function () {
        const mocks = await setupMocks();
        const profile = new TrustedProfile("runtime", { name: "orders-runtime" });
        assert.throws(
            () => new TrustedProfileClaimRule("ns", { profileId: profile.profileId, type: "Profile-CR", conditions: [] }),
            /^Error: TrustedProfileClaimRule ns: invalid arguments: conditions: conditions must hold at least one condition.*; crType: crType is required for a Profile-CR rule/,
        );
        assert.throws(
            () => new TrustedProfileIdentity("ci", { profileId: profile.profileId, identityType: "serviceid", identifier: `iam-${SID}` }),
            /^Error: TrustedProfileIdentity ci: invalid arguments: identifier: identifier of a serviceid identity must be the service ID's id/,
        );
        assert.throws(() => new TrustedProfile("p", { name: "" }), /^Error: TrustedProfile p: invalid arguments: name: trusted profile name must not be empty/);
        assert.throws(
            () => new TrustedProfileLink("l", { profileId: PROFILE, crType: "VSI", crn: "vm-1" }),
            /^Error: TrustedProfileLink l: invalid arguments: crn: crn must be a CRN such as/,
        );
        await outputValue(profile.urn);
        assert.deepStrictEqual(
            mocks.resources.map((r) => r.name),
            ["runtime"],
            "only the good one registered",
        );
    });

    it("get adopts by id: a read with only the id", async function () {
        const mocks = await setupMocks({ newResource: (a) => ({ id: a.id, state: { linkId: "ProfileLink-9" } }) });
        const l = TrustedProfileLink.get("adopted", `${PROFILE}/ProfileLink-9`);
        assert.strictEqual(await outputValue(l.id), `${PROFILE}/ProfileLink-9`);
        assert.deepStrictEqual(Object.keys(mocks.byName("adopted").inputs), ["__provider"]);
    });
});
