// KmsKeyRing's check and diff called directly (no network): what a user sees at preview.
import * as assert from "assert";
import { KmsKeyRingOutputs, KmsKeyRingProvider } from "../../provider/kmsKeyRing";
import { diffKmsKeyRing } from "../../provider/kms/keyRingDiff";
import { UNKNOWN } from "../../provider/core/props";

const INSTANCE = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyzAB";
const CRN = `crn:v1:bluemix:public:kms:us-south:a/0123456789abcdef0123456789abcdef:${INSTANCE}::`;

function stored(extra: Partial<KmsKeyRingOutputs> = {}): KmsKeyRingOutputs {
    return {
        keyRingId: "app-keys",
        instanceId: INSTANCE,
        service: "kms",
        region: "us-south",
        endpoint: "https://us-south.kms.cloud.ibm.com",
        force: false,
        apiKey: KEY,
        ...extra,
    };
}

describe("provider/kmsKeyRing: check and diff", function () {
    const provider = new KmsKeyRingProvider();

    it("accepts a ring by instance CRN, applying the defaults (no force)", async () => {
        const r = await provider.check({}, { instanceCrn: CRN, keyRingId: "app-keys", apiKey: KEY });
        assert.deepStrictEqual(r.failures, []);
        assert.deepStrictEqual([r.inputs.instanceId, r.inputs.service, r.inputs.region, r.inputs.force], [INSTANCE, "kms", "us-south", false]);
    });

    it("refuses the default ring, bad ids, and Terraform's argument names, naming the field", async () => {
        const cases: Array<[Record<string, unknown>, string, RegExp]> = [
            [{ keyRingId: "default" }, "keyRingId", /ring every instance has .* leave keyRing out of the KmsKey/],
            [{ keyRingId: "my ring" }, "keyRingId", /2 to 100 letters, digits or dashes/],
            [{ keyRingId: "x" }, "keyRingId", /2 to 100/],
            [{ force_delete: true }, "force_delete", /unknown argument "force_delete"/],
            [{ apiKey: "" }, "apiKey", /must not be empty/],
        ];
        for (const [change, field, reason] of cases) {
            const r = await provider.check({}, { instanceId: INSTANCE, keyRingId: "app-keys", apiKey: KEY, ...change });
            const f = r.failures!.find((x) => x.property === field);
            assert.ok(f, `${field}: ${JSON.stringify(r.failures)}`);
            assert.match(f.reason, reason);
            assert.ok(!f.reason.includes(KEY));
        }
    });

    it("replaces for a new id, instance or service; updates in place for key, force and endpoint", () => {
        const base = { keyRingId: "app-keys", instanceId: INSTANCE, service: "kms" as const, region: "us-south", force: false, apiKey: KEY };
        assert.strictEqual(diffKmsKeyRing(stored(), base).changes, false);
        assert.deepStrictEqual(diffKmsKeyRing(stored(), { ...base, instanceId: INSTANCE.toUpperCase() }).changes, false, "GUID case");
        assert.deepStrictEqual(diffKmsKeyRing(stored(), { ...base, keyRingId: "other" }).replaces, ["keyRingId"]);
        assert.deepStrictEqual(diffKmsKeyRing(stored(), { ...base, service: "hs-crypto" }).replaces, ["service"]);
        assert.deepStrictEqual(diffKmsKeyRing(stored(), { ...base, keyRingId: UNKNOWN }).replaces, ["keyRingId"]);
        for (const change of [{ apiKey: "sk-other-0123456789abcdefghijklmnopqrstuvwx" }, { force: true }, { region: "eu-de" }]) {
            const d = diffKmsKeyRing(stored(), { ...base, ...change });
            assert.deepStrictEqual([d.changes, d.replaces], [true, []], JSON.stringify(change));
        }
    });
});
