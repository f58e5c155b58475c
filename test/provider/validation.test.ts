import * as assert from "assert";
import { z } from "zod";
import { validate, UNKNOWN, nameField, expiresAtField, parseIbmDateTime, formatIbmDateTime, crnField, compact } from "../../provider/validation";

function schema() {
    return z.object({ name: nameField("service ID"), crns: z.array(crnField("uniqueInstanceCrns[]")).optional(), expiresAt: expiresAtField().optional() }).strict();
}

describe("check-time validation", () => {
    it("names the field and the fix", () => {
        const r = validate(schema(), { name: "" });
        assert.strictEqual(r.ok, false);
        if (!r.ok) assert.deepStrictEqual(r.failures, [{ property: "name", reason: 'service ID name must not be empty; give it a name such as "my-app"' }]);
    });

    it("reports nested paths and unknown keys", () => {
        const r = validate(schema(), { name: "x", crns: ["crn:v1:bluemix:public:hs-crypto:us-south:a/abc:guid::", "nope"], nmae: "typo" });
        assert.strictEqual(r.ok, false);
        if (!r.ok) {
            assert.deepStrictEqual(r.failures.map((f) => f.property).sort(), ["crns[1]", "nmae"]);
            assert.match(r.failures.find((f) => f.property === "nmae")!.reason, /unknown argument "nmae"/);
        }
    });

    it("never judges values still unknown at preview", () => {
        assert.strictEqual(validate(schema(), { name: UNKNOWN }).ok, true);
        assert.strictEqual(validate(schema(), { name: "a", crns: [UNKNOWN] }).ok, true);
        assert.strictEqual(validate(schema(), { name: "a", crns: UNKNOWN }).ok, true);
        // a known bad value next to an unknown one is still reported
        const r = validate(schema(), { name: "", crns: [UNKNOWN] });
        assert.strictEqual(r.ok, false);
    });

    it("reads and writes IBM's date-time format", () => {
        assert.strictEqual(parseIbmDateTime("2030-01-31T12:00+0000"), Date.parse("2030-01-31T12:00:00Z"));
        assert.strictEqual(parseIbmDateTime("2030-01-31T12:00:00Z"), Date.parse("2030-01-31T12:00:00Z"));
        assert.strictEqual(parseIbmDateTime("31/01/2030"), undefined);
        assert.strictEqual(formatIbmDateTime(Date.parse("2030-01-31T12:00:59Z")), "2030-01-31T12:00+0000");
        const past = validate(schema(), { name: "a", expiresAt: "2001-01-01T00:00+0000" });
        assert.ok(!past.ok && past.failures[0].reason.includes("future"));
        const unreadable = validate(schema(), { name: "a", expiresAt: "next tuesday" });
        assert.ok(!unreadable.ok);
        assert.deepStrictEqual(unreadable.failures.map((f) => f.reason), ["expiresAt must be a date-time such as 2030-01-31T12:00+0000 or 2030-01-31T12:00:00Z"],
            "an unreadable date is not also called \"not in the future\"");
    });

    it("compact drops undefined", () => {
        assert.deepStrictEqual(compact({ a: 1, b: undefined, c: null }), { a: 1, c: null });
    });
});
