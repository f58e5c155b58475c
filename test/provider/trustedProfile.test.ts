// TrustedProfile and TrustedProfileLink: check and diff called directly (no network), and what a program
// registers (setMocks): type tokens, inputs, the serialized provider. The providers run in test/plugin/.
import { strict as assert } from "assert";
import { serializeProvider } from "../plugin/harness";
import { outputValue, setupMocks } from "../support/mocks";
import { TrustedProfile, TrustedProfileLink, trustedProfileLinkProvider, trustedProfileProvider } from "../../provider";
import { UNKNOWN } from "../../provider/core/props";

const PROFILE = "Profile-7d2c4e6f-8a1b-4c3d-9e5f-0a1b2c3d4e5f";
const CLUSTER = "crn:v1:bluemix:public:containers-kubernetes:us-south:a/0123456789abcdef0123456789abcdef:c1::";
type Inputs = Record<string, unknown>;
const profileP = trustedProfileProvider as unknown as {
    check(o: Inputs, n: Inputs): Promise<{ inputs: Inputs; failures?: unknown[] }>;
    diff(id: string, o: Inputs, n: Inputs): Promise<{ changes: boolean; replaces: string[]; deleteBeforeReplace: boolean }>;
};
const linkP = trustedProfileLinkProvider as unknown as typeof profileP;

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

    it("get adopts by id: a read with only the id", async function () {
        const mocks = await setupMocks({ newResource: (a) => ({ id: a.id, state: { linkId: "ProfileLink-9" } }) });
        const l = TrustedProfileLink.get("adopted", `${PROFILE}/ProfileLink-9`);
        assert.strictEqual(await outputValue(l.id), `${PROFILE}/ProfileLink-9`);
        assert.deepStrictEqual(Object.keys(mocks.byName("adopted").inputs), ["__provider"]);
    });
});
