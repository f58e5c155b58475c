// Instances by CRN: what provider/kms/instance.ts reads from an instance CRN, and how a
// malformed CRN or one that contradicts a given field is refused (the one place every KMS resource
// and KmsAccess use).
import * as assert from "assert";
import { applyInstanceCrn, parseKmsInstanceCrn } from "../../provider/kms/instance";
import { UNKNOWN } from "../../provider/core/props";

const GUID = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const ACCOUNT = "0123456789abcdef0123456789abcdef";
const KP = `crn:v1:bluemix:public:kms:us-south:a/${ACCOUNT}:${GUID}::`;

describe("provider/kms/instance: KMS instances by CRN", function () {
    it("reads service, region, account and GUID from Key Protect and HPCS CRNs", () => {
        assert.deepStrictEqual(parseKmsInstanceCrn(KP), { ok: true, value: { service: "kms", region: "us-south", accountId: ACCOUNT, instanceId: GUID } });
        const hpcs = parseKmsInstanceCrn(`crn:v1:bluemix:public:hs-crypto:eu-de:a/${ACCOUNT}:${GUID.toUpperCase()}::`);
        assert.deepStrictEqual(hpcs.ok && [hpcs.value.service, hpcs.value.region, hpcs.value.instanceId], ["hs-crypto", "eu-de", GUID]);
    });

    it("refuses malformed CRNs, saying what is wrong", () => {
        const cases: Array<[string, RegExp]> = [
            ["my-instance", /must start with crn:v1:/],
            [`crn:v1:bluemix:public:kms:us-south:a/${ACCOUNT}:${GUID}`, /10 colon-separated segments, this one has 8/],
            [`crn:v1:bluemix:public:cloud-object-storage:global:a/${ACCOUNT}:${GUID}::`, /of service "cloud-object-storage", not of a KMS instance/],
            [`crn:v1:bluemix:public:kms:Dallas:a/${ACCOUNT}:${GUID}::`, /location "Dallas" is not a region id/],
            [`crn:v1:bluemix:public:kms:us-south:${ACCOUNT}:${GUID}::`, /scope must be the account as a\/<32 hex/],
            [`crn:v1:bluemix:public:kms:us-south:a/${ACCOUNT}:my-kp::`, /instance segment is not an instance GUID/],
            [`crn:v1:bluemix:public:kms:us-south:a/${ACCOUNT}:${GUID}:key:1234`, /CRN of a key inside the instance.*drop ":key:1234"/],
        ];
        for (const [crn, reason] of cases) {
            const r = parseKmsInstanceCrn(crn);
            assert.ok(!r.ok, crn);
            assert.match(r.reason, reason);
            assert.match(r.reason, /an instance CRN looks like crn:v1:bluemix:public:kms:us-south:a\/<account>:<instance guid>::/);
        }
    });

    it("fills the fields from the CRN; fields given that agree are fine, contradicting ones are each named", () => {
        assert.deepStrictEqual(applyInstanceCrn({ instanceCrn: KP, name: "x" }).fields, {
            instanceCrn: KP,
            name: "x",
            instanceId: GUID,
            service: "kms",
            region: "us-south",
        });
        assert.deepStrictEqual(applyInstanceCrn({ instanceCrn: KP, instanceId: GUID.toUpperCase(), service: "kms", region: "us-south" }).failures, []);
        const r = applyInstanceCrn({ crn: KP, instanceId: "11111111-2222-3333-4444-555555555555", service: "hs-crypto", region: "eu-de" }, "crn", "instance.");
        assert.deepStrictEqual(
            r.failures.map((f) => f.property),
            ["instance.instanceId", "instance.service", "instance.region"],
        );
        assert.match(r.failures[1].reason, /instance.service "hs-crypto" contradicts instance.crn, which says service kms: remove instance.service/);
        assert.strictEqual(applyInstanceCrn({ instanceCrn: "nope" }).failures[0].property, "instanceCrn");
    });

    it("a CRN still unknown at preview makes the fields it gives unknown, judging nothing", () => {
        const r = applyInstanceCrn({ instanceCrn: UNKNOWN, region: "us-south" });
        assert.deepStrictEqual(r, { fields: { instanceCrn: UNKNOWN, region: "us-south", instanceId: UNKNOWN, service: UNKNOWN }, failures: [] });
        assert.deepStrictEqual(applyInstanceCrn({ instanceId: GUID }), { fields: { instanceId: GUID }, failures: [] }, "no CRN: nothing changes");
    });
});
