// AuthorizationPolicy's check, body and diff called directly (no network).
import * as assert from "assert";
import { AuthorizationPolicyProvider } from "../../provider/authorizationPolicy";
import { authorizationPolicyBody, diffAuthorizationPolicy } from "../../provider/policy/authorizationMapping";
import { UNKNOWN } from "../../provider/core/props";

const INSTANCE = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const KEY_ID = "8a2f0c1e-3d4b-4a5c-9e6f-7a8b9c0d1e2f";
const READER = "crn:v1:bluemix:public:iam::::serviceRole:Reader";

describe("provider/authorizationPolicy: check, body and diff", function () {
    const provider = new AuthorizationPolicyProvider();
    const base = { sourceServiceName: "cloud-object-storage", targetServiceName: "kms", targetServiceInstance: INSTANCE };

    it("defaults roles to Reader, resolved offline to its CRN", async () => {
        const r = await provider.check({}, base);
        assert.deepStrictEqual(r.failures, []);
        assert.deepStrictEqual([r.inputs.roles, r.inputs.roleCrns], [["Reader"], [READER]]);
    });

    it("resolves kms roles offline and refuses a typo with the valid list", async () => {
        const ok = await provider.check({}, { ...base, roles: ["ReaderPlus"] });
        assert.deepStrictEqual(ok.inputs.roleCrns, ["crn:v1:bluemix:public:kms::::serviceRole:ReaderPlus"]);
        const typo = await provider.check({}, { ...base, roles: ["Raeder"] });
        assert.strictEqual(typo.failures![0].property, "roles[0]");
        assert.match(typo.failures![0].reason, /unknown role "Raeder" for kms; valid roles: .*Reader/);
    });

    it("scopes to one key only with type key, the key id and its instance", async () => {
        const scoped = await provider.check({}, { ...base, targetResourceType: "key", targetResource: KEY_ID });
        assert.deepStrictEqual(scoped.failures, []);
        const noType = await provider.check({}, { ...base, targetResource: KEY_ID });
        assert.strictEqual(noType.failures![0].property, "targetResourceType");
        const noInstance = await provider.check(
            {},
            { sourceServiceName: "cloud-object-storage", targetServiceName: "kms", targetResourceType: "key", targetResource: KEY_ID },
        );
        assert.strictEqual(noInstance.failures![0].property, "targetServiceInstance");
    });

    it("builds IBM's authorization body: source as subject attributes, target as resource attributes", () => {
        const body = authorizationPolicyBody(
            { ...base, sourceServiceInstance: "cos-guid", targetResourceType: "key", targetResource: KEY_ID, roles: ["Reader"] },
            [READER],
            "acc",
        );
        assert.deepStrictEqual(body, {
            type: "authorization",
            subjects: [
                {
                    attributes: [
                        { name: "accountId", value: "acc" },
                        { name: "serviceName", value: "cloud-object-storage" },
                        { name: "serviceInstance", value: "cos-guid" },
                    ],
                },
            ],
            roles: [{ role_id: READER }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: "acc", operator: "stringEquals" },
                        { name: "serviceName", value: "kms", operator: "stringEquals" },
                        { name: "serviceInstance", value: INSTANCE, operator: "stringEquals" },
                        { name: "resourceType", value: "key", operator: "stringEquals" },
                        { name: "resource", value: KEY_ID, operator: "stringEquals" },
                    ],
                },
            ],
        });
    });

    it("replaces for a new source or target, updates roles and description in place", () => {
        const olds = {
            ...base,
            roles: ["Reader"],
            roleCrns: [READER],
            policyId: "p",
            etag: "1-a",
            href: "",
            state: "active",
            accountId: "acc",
            createdAt: "",
            lastModifiedAt: "",
        };
        assert.strictEqual(diffAuthorizationPolicy(olds, { ...base, roles: ["reader"], roleCrns: [READER] }).changes, false);
        assert.deepStrictEqual(
            diffAuthorizationPolicy(olds, { ...base, sourceServiceName: "databases-for-postgresql", roles: ["Reader"], roleCrns: [READER] }).replaces,
            ["sourceServiceName"],
        );
        assert.deepStrictEqual(
            diffAuthorizationPolicy(olds, { ...base, targetResourceType: "key", targetResource: UNKNOWN, roles: ["Reader"], roleCrns: [READER] }).replaces,
            ["targetResourceType", "targetResource"],
        );
        const roles = diffAuthorizationPolicy(olds, { ...base, roles: ["Writer"], roleCrns: ["crn:v1:bluemix:public:iam::::serviceRole:Writer"] });
        assert.deepStrictEqual([roles.replaces, roles.updates], [[], ["roles"]]);
        assert.deepStrictEqual(diffAuthorizationPolicy(olds, { ...base, roles: ["Reader"], roleCrns: [READER], description: "x" }).updates, ["description"]);
    });
});
