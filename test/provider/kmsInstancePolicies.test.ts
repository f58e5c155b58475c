// KmsInstancePolicies' check and diff called directly (no network): what a user sees at preview.
import * as assert from "assert";
import { UNKNOWN } from "../../provider/core/props";
import { KmsInstancePoliciesOutputs, KmsInstancePoliciesProvider } from "../../provider/kmsInstancePolicies";
import { diffKmsInstancePolicies, instancePoliciesToSet } from "../../provider/kms/instancePoliciesDiff";

const INSTANCE = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const CRN = `crn:v1:bluemix:public:kms:us-south:a/0123456789abcdef0123456789abcdef:${INSTANCE}::`;

function stored(extra: Partial<KmsInstancePoliciesOutputs> = {}): KmsInstancePoliciesOutputs {
    return { instanceId: INSTANCE, service: "kms", region: "us-south", endpoint: "https://us-south.kms.cloud.ibm.com", ...extra };
}

describe("provider/kmsInstancePolicies: check and diff", function () {
    const provider = new KmsInstancePoliciesProvider();

    it("applies IBM's defaults: rotation enabled, every key kind allowed, import tokens not enforced; apiKey may be left out", async () => {
        const r = await provider.check({}, { instanceCrn: CRN, rotation: { intervalMonth: 3 }, keyCreateImportAccess: { enabled: true } });
        assert.deepStrictEqual(r.failures, []);
        assert.deepStrictEqual(r.inputs.rotation, { enabled: true, intervalMonth: 3 });
        assert.deepStrictEqual(r.inputs.keyCreateImportAccess, {
            enabled: true,
            createRootKey: true,
            createStandardKey: true,
            importRootKey: true,
            importStandardKey: true,
            enforceToken: false,
        });
        assert.strictEqual(r.inputs.apiKey, undefined);
        const off = await provider.check({}, { instanceCrn: CRN, rotation: { enabled: false } });
        assert.deepStrictEqual(off.failures, [], "a rotation turned off needs no interval");
    });

    it("diff: only policies given and different update, in place; another instance replaces; a rotation turned off compares by enabled alone", () => {
        const olds = stored({ rotation: { enabled: true, intervalMonth: 3 }, metrics: { enabled: true } });
        const news = { instanceId: INSTANCE, service: "kms" as const, rotation: { enabled: true, intervalMonth: 3 } };
        assert.strictEqual(diffKmsInstancePolicies(olds, news).changes, false, "metrics left out: as KMS holds it");
        assert.deepStrictEqual(diffKmsInstancePolicies(olds, { ...news, metrics: { enabled: false } }).updates, ["metrics"]);
        assert.deepStrictEqual(diffKmsInstancePolicies(olds, { ...news, instanceId: "11111111-2222-3333-4444-555555555555" }).replaces, ["instanceId"]);
        assert.deepStrictEqual(diffKmsInstancePolicies(olds, { ...news, dualAuthDelete: { enabled: UNKNOWN as unknown as boolean } }).updates, [
            "dualAuthDelete",
        ]);
        const offHeld = stored({ rotation: { enabled: false, intervalMonth: 3 } });
        assert.deepStrictEqual(instancePoliciesToSet(offHeld, { rotation: { enabled: false } }), {});
        assert.deepStrictEqual(diffKmsInstancePolicies(stored(), { ...news, apiKey: "k".repeat(40) }).updates, ["rotation", "apiKey"]);
    });
});
