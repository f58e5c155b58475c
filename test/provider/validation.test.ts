import * as assert from "assert";
import { z } from "zod";
import { parseIbmDateTime, formatIbmDateTime, readDateTime } from "../../provider/check/dateTime";
import { nameField, expiresAtField, crnField, dateTimeField, unstorableCharacter } from "../../provider/check/fields";
import { validate, closestName } from "../../provider/check/validate";
import { UNKNOWN, compact } from "../../provider/core/props";

function schema() {
    return z
        .object({ name: nameField("service ID"), crns: z.array(crnField("uniqueInstanceCrns[]")).optional(), expiresAt: expiresAtField().optional() })
        .strict();
}

describe("check-time validation", () => {
    it("names the field and the fix", () => {
        const r = validate(schema(), { name: "" });
        assert.strictEqual(r.ok, false);
        if (!r.ok) assert.deepStrictEqual(r.failures, [{ property: "name", reason: 'service ID name must not be empty; give it a name such as "my-app"' }]);
        const missing = validate(schema(), {});
        assert.deepStrictEqual(missing.ok ? [] : missing.failures, [{ property: "name", reason: "name is required: service ID name must be a string" }]);
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
        assert.deepStrictEqual(
            unreadable.failures.map((f) => f.reason),
            ["expiresAt must be a date-time such as 2030-01-31T12:00+0000 or 2030-01-31T12:00:00Z"],
            'an unreadable date is not also called "not in the future"',
        );
    });

    it("refuses a date-time without a time zone, and one the calendar does not have", () => {
        const reason = (expiresAt: string) => {
            const r = validate(schema(), { name: "a", expiresAt });
            return r.ok ? undefined : r.failures.map((f) => `${f.property}: ${f.reason}`).join("; ");
        };
        // JavaScript reads these as local time, and 2030-02-30 as March 2: both would be silent surprises
        assert.strictEqual(reason("2030-01-31T12:00"), "expiresAt: expiresAt has no time zone: add Z (UTC) or an offset, e.g. 2030-01-31T12:00+0000");
        assert.strictEqual(
            reason("2030-02-30T12:00+0000"),
            "expiresAt: expiresAt is not a real date-time (2030-02-30 does not exist); give one such as 2030-01-31T12:00+0000",
        );
        assert.match(reason("2030-01-31T24:00Z")!, /24:00 is not a time of day/);
        assert.match(reason("2030-01-31T12:00+2500")!, /\+2500 is not a time zone offset/);
        assert.strictEqual(reason("2032-02-29T12:00+0000"), undefined, "a leap day exists");
        for (const ok of [
            "2099-01-31T12:00+0000",
            "2099-01-31T12:00Z",
            "2099-01-31T12:00:00.123Z",
            "2099-01-31t12:00:00z",
            "2099-01-31T14:00+02:00",
            "2099-01-31T07:00-0500",
        ]) {
            assert.strictEqual(reason(ok), undefined, ok);
        }
        assert.strictEqual(parseIbmDateTime("2099-01-31T14:00+02:00"), Date.parse("2099-01-31T12:00:00Z"));
        assert.strictEqual(parseIbmDateTime("2099-01-31T07:00-0500"), Date.parse("2099-01-31T12:00:00Z"));
    });

    it("RFC 3339 (KMS expirationDate) wants seconds and a Z or ±hh:mm offset", () => {
        const s = () => z.object({ expirationDate: dateTimeField("expirationDate", "rfc3339", true) }).strict();
        const reason = (v: string) => {
            const r = validate(s(), { expirationDate: v });
            return r.ok ? undefined : r.failures[0].reason;
        };
        assert.strictEqual(reason("2099-01-31T12:00:00Z"), undefined);
        assert.strictEqual(reason("2099-01-31T12:00:00.5+01:00"), undefined);
        assert.match(reason("2099-01-31T12:00Z")!, /RFC 3339 date-time such as 2030-01-31T12:00:00Z/);
        assert.match(reason("2099-01-31T12:00:00+0000")!, /RFC 3339/);
        assert.match(reason("2099-01-31T12:00:00")!, /has no time zone/);
        assert.match(reason("2099-04-31T12:00:00Z")!, /2099-04-31 does not exist/);
        assert.match(reason("2001-01-01T00:00:00Z")!, /in the future/);
        assert.deepStrictEqual(readDateTime("2099-01-31T12:00Z", "rfc3339"), { problem: "unreadable" });
    });

    it("an unknown argument names the one probably meant, else lists the arguments", () => {
        const reasons = (inputs: Record<string, unknown>) => {
            const r = validate(schema(), inputs);
            return r.ok ? {} : Object.fromEntries(r.failures.map((f) => [f.property, f.reason]));
        };
        assert.deepStrictEqual(reasons({ name: "a", expires_at: "x" }), { expires_at: 'unknown argument "expires_at"; did you mean "expiresAt"?' });
        assert.deepStrictEqual(reasons({ name: "a", Name: "b" }), { Name: 'unknown argument "Name"; did you mean "name"?' });
        assert.deepStrictEqual(reasons({ name: "a", crsn: [] }), { crsn: 'unknown argument "crsn"; did you mean "crns"?' });
        assert.deepStrictEqual(reasons({ name: "a", tags: ["x"] }), {
            tags: 'unknown argument "tags"; remove it or check its spelling (arguments: name, crns, expiresAt)',
        });
        // nested objects know their own arguments, through optional/default wrappers
        const nested = z.object({ resource: z.object({ serviceName: z.string().optional() }).strict().optional() }).strict();
        const r = validate(nested, { resource: { servicename: "kms" } });
        assert.ok(!r.ok);
        assert.deepStrictEqual(r.failures, [{ property: "resource.servicename", reason: 'unknown argument "servicename"; did you mean "serviceName"?' }]);
    });

    it("closestName: case and separators folded, at most two edits, never a guess between two", () => {
        assert.strictEqual(closestName("api_key", ["apiKey", "name"]), "apiKey");
        assert.strictEqual(closestName("nmae", ["name", "description"]), "name");
        assert.strictEqual(closestName("hs-crpyto", ["kms", "hs-crypto"]), "hs-crypto");
        assert.strictEqual(closestName("xyz", ["kms"]), undefined, "short names are not guessed at");
        assert.strictEqual(closestName("rolse", ["roles", "rules"]), "roles");
        assert.strictEqual(closestName("rales", ["roles", "rules"]), undefined, "a tie is no suggestion");
        assert.strictEqual(closestName("completely-different", ["name"]), undefined);
    });

    it("a name is one line of printable text in any script; what cannot come back from IBM as sent is refused, naming the character", () => {
        for (const name of ["Grüße – 名前 ✓", "emoji 🔑 ok", "quotes \"and\" 'more'"]) assert.ok(validate(schema(), { name }).ok, JSON.stringify(name));
        const reason = (name: string) => {
            const r = validate(schema(), { name });
            return r.ok ? undefined : r.failures[0].reason;
        };
        assert.match(reason("a\nb")!, /control character U\+000A at character 2/);
        assert.match(reason("tab\there")!, /control character U\+0009 at character 4/);
        assert.match(reason("nul\u0000")!, /U\+0000 \(NUL\)/);
        assert.match(reason("del\u007f")!, /U\+007F/);
        assert.match(reason("c1\u0085")!, /U\+0085/);
        assert.match(reason("half \ud800 pair")!, /half of a surrogate pair \(U\+D800\) at character 6/);
        assert.match(reason("low \udc00")!, /half of a surrogate pair \(U\+DC00\)/);
        // descriptions keep their tabs and line breaks
        assert.strictEqual(unstorableCharacter("line one\n\tline two\r\n", true), undefined);
        assert.match(unstorableCharacter("bell \u0007", true)!, /U\+0007/);
    });

    it("accepts expiresAt in IBM's form with seconds (what IBM's own SDK tests send)", () => {
        assert.ok(validate(schema(), { name: "a", expiresAt: "2049-01-02T18:30:00+0000" }).ok);
        assert.strictEqual(parseIbmDateTime("2049-01-02T18:30:00+0000"), Date.parse("2049-01-02T18:30:00Z"));
    });

    it("compact drops undefined", () => {
        assert.deepStrictEqual(compact({ a: 1, b: undefined, c: null }), { a: 1, c: null });
    });
});
