// KmsKey's check and diff called directly (no network): what a user sees at preview.
import * as assert from "assert";
import { KmsKeyOutputs, KmsKeyProvider } from "../../provider/kmsKey";
import { UNKNOWN } from "../../provider/core/props";
import { aliasChanges } from "../../provider/kms/keyDiff";

const INSTANCE = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyzAB";

function args(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { instanceId: INSTANCE, name: "app-root", apiKey: KEY, region: "us-south", ...extra };
}

function stored(extra: Partial<KmsKeyOutputs> = {}): KmsKeyOutputs {
    return {
        keyId: "k-1",
        crn: `crn:v1:bluemix:public:hs-crypto:us-south:a/acc:${INSTANCE}:key:k-1`,
        state: 1,
        name: "app-root",
        keyRing: "default",
        extractable: false,
        type: "root",
        imported: false,
        creationDate: "2026-01-01T00:00:00Z",
        createdBy: "iam-ServiceId-1",
        instanceId: INSTANCE,
        service: "hs-crypto",
        region: "us-south",
        endpoint: `https://${INSTANCE}.api.us-south.hs-crypto.appdomain.cloud`,
        force: false,
        apiKey: KEY,
        ...extra,
    };
}

describe("provider/kmsKey: check and diff", function () {
    const provider = new KmsKeyProvider();

    describe("check", function () {
        it("applies the defaults a user relies on: hs-crypto, root key, no force", async () => {
            const r = await provider.check({}, args());
            assert.deepStrictEqual(r.failures, []);
            assert.strictEqual(r.inputs.service, "hs-crypto");
            assert.strictEqual(r.inputs.type, "root");
            assert.strictEqual(r.inputs.force, false);
            assert.strictEqual(r.inputs.apiKey, KEY);
        });

        it("names each bad field with the fix, and never echoes the API key", async () => {
            const r = await provider.check(
                {},
                {
                    instanceId: "not-a-guid",
                    service: "vault",
                    name: "x",
                    keyRing: "bad ring!",
                    type: "symmetric",
                    endpoint: "http://kms.example.com",
                    apiKey: "",
                    expirationDate: "tomorrow",
                    force: "yes",
                },
            );
            const by = Object.fromEntries(r.failures!.map((f) => [f.property, f.reason]));
            assert.match(by.instanceId, /instance GUID/);
            assert.match(by.service, /hs-crypto .* or kms/);
            assert.match(by.name, /2 to 90 characters/);
            assert.match(by.keyRing, /letters, digits or dashes/);
            assert.match(by.type, /root .* or standard/);
            assert.match(by.endpoint, /must use https/);
            assert.match(by.apiKey, /service ID's API key/);
            assert.match(by.expirationDate, /RFC 3339/);
            assert.match(by.force, /true or false/);

            const secretKey = "sk-never-shown-0123456789abcdefghijklmnopqr";
            const r2 = await provider.check({}, { ...args({ apiKey: secretKey }), name: 5 });
            assert.ok(r2.failures!.length > 0);
            assert.ok(!JSON.stringify(r2.failures).includes(secretKey));
        });

        it("rejects unknown arguments by name", async () => {
            const r = await provider.check({}, args({ extractable: true }));
            assert.deepStrictEqual(
                r.failures!.map((f) => f.property),
                ["extractable"],
            );
            assert.match(
                r.failures![0].reason,
                /^unknown argument "extractable"; remove it or check its spelling \(arguments: instanceId, .*type, .*apiKey, rotation, dualAuthDelete, rotationTrigger, aliases, enabled\)$/,
            );
        });

        it("checks imported material against the key type", async () => {
            const r16 = Buffer.alloc(16, 1).toString("base64");
            assert.deepStrictEqual((await provider.check({}, args({ payload: r16 }))).failures, []);
            const bad = await provider.check({}, args({ payload: Buffer.alloc(20, 1).toString("base64") }));
            assert.match(bad.failures![0].reason, /16, 24 or 32 bytes .* this payload has 20/);
            assert.deepStrictEqual((await provider.check({}, args({ payload: Buffer.alloc(20, 1).toString("base64"), type: "standard" }))).failures, []);
            assert.match((await provider.check({}, args({ payload: "not base64!" }))).failures![0].reason, /base64/);
        });

        it("wants a future expirationDate on create, but keeps accepting one that has since passed", async () => {
            const past = "2020-01-01T00:00:00Z";
            assert.match((await provider.check({}, args({ expirationDate: past }))).failures![0].reason, /in the future/);
            assert.deepStrictEqual((await provider.check(args({ expirationDate: past }), args({ expirationDate: past }))).failures, []);
            assert.deepStrictEqual((await provider.check({}, args({ expirationDate: "2099-01-01T00:00:00Z" }))).failures, []);
        });

        it("lets preview unknowns through (the apiKey of a key not created yet)", async () => {
            const r = await provider.check({}, args({ apiKey: UNKNOWN, instanceId: UNKNOWN }));
            assert.deepStrictEqual(r.failures, []);
        });
    });

    describe("diff", function () {
        it("reports no change for the same inputs (defaults included, __provider ignored)", async () => {
            const d = await provider.diff("k-1", stored(), { ...args(), __provider: "changed code" } as never);
            assert.deepStrictEqual(d, { changes: false, replaces: [], deleteBeforeReplace: false });
        });

        it("replaces the key for fields KMS cannot change", async () => {
            const cases: Array<[Record<string, unknown>, string]> = [
                [{ name: "other" }, "name"],
                [{ description: "new" }, "description"],
                [{ keyRing: "ring-b" }, "keyRing"],
                [{ type: "standard" }, "type"],
                [{ service: "kms" }, "service"],
                [{ instanceId: "11111111-2222-3333-4444-555555555555" }, "instanceId"],
                [{ expirationDate: "2099-01-01T00:00:00Z" }, "expirationDate"],
                [{ payload: Buffer.alloc(32, 2).toString("base64") }, "payload"],
            ];
            for (const [change, field] of cases) {
                const d = await provider.diff("k-1", stored(), args(change) as never);
                assert.deepStrictEqual([d.changes, d.replaces, d.deleteBeforeReplace], [true, [field], false], field);
            }
        });

        it("updates in place, never replaces, when only the API key (rotation), force or endpoint change", async () => {
            for (const change of [
                { apiKey: "sk-rotated-0123456789abcdefghijklmnopqrstuvwx" },
                { force: true },
                { region: "eu-de" },
                { endpoint: "https://private.us-south.kms.cloud.ibm.com" },
                { apiKey: UNKNOWN },
            ]) {
                const d = await provider.diff("k-1", stored(), args(change) as never);
                assert.deepStrictEqual([d.changes, d.replaces], [true, []], JSON.stringify(change));
            }
        });

        it("treats an unknown immutable field at preview as a possible replacement", async () => {
            const d = await provider.diff("k-1", stored(), args({ instanceId: UNKNOWN }) as never);
            assert.deepStrictEqual(d.replaces, ["instanceId"]);
        });

        it("sees no change for equivalent spellings: instance GUID case, absent vs empty description, the same instant", async () => {
            const d = await provider.diff(
                "k-1",
                stored({ expirationDate: "2099-01-01T00:00:00Z" }),
                args({ instanceId: INSTANCE.toUpperCase(), description: "", expirationDate: "2099-01-01T00:00:00.000Z" }) as never,
            );
            assert.strictEqual(d.changes, false);
        });
    });

    describe("rings, rotation and key policies", function () {
        const CRN = `crn:v1:bluemix:public:kms:eu-de:a/0123456789abcdef0123456789abcdef:${INSTANCE}::`;

        it("takes instanceId, service and region from instanceCrn; refuses a CRN that contradicts a given field", async () => {
            const r = await provider.check({}, { name: "app-root", apiKey: KEY, instanceCrn: CRN });
            assert.deepStrictEqual(r.failures, []);
            assert.deepStrictEqual([r.inputs.instanceId, r.inputs.service, r.inputs.region, r.inputs.instanceCrn], [INSTANCE, "kms", "eu-de", CRN]);
            const bad = await provider.check({}, { name: "app-root", apiKey: KEY, instanceCrn: CRN, service: "hs-crypto" });
            assert.strictEqual(bad.failures![0].property, "service");
            assert.match(bad.failures![0].reason, /contradicts instanceCrn, which says service kms/);
        });

        it("defaults rotation.enabled to true and refuses rotation, rotationTrigger on standard keys and rotationTrigger on imported keys", async () => {
            const r = await provider.check({}, args({ rotation: { intervalMonth: 3 }, dualAuthDelete: { enabled: true }, rotationTrigger: 1 }));
            assert.deepStrictEqual(r.failures, []);
            assert.deepStrictEqual(r.inputs.rotation, { enabled: true, intervalMonth: 3 });
            const std = await provider.check({}, args({ type: "standard", rotation: { intervalMonth: 3 }, rotationTrigger: "a" }));
            assert.deepStrictEqual(std.failures!.map((f) => f.property).sort(), ["rotation", "rotationTrigger"]);
            const imported = await provider.check({}, args({ payload: Buffer.alloc(32, 1).toString("base64"), rotationTrigger: "a" }));
            assert.match(imported.failures![0].reason, /imported root key rotates only with new material/);
            const month = await provider.check({}, args({ rotation: { intervalMonth: 13 } }));
            assert.strictEqual(month.failures![0].property, "rotation.intervalMonth");
        });

        it("changes policies and rotationTrigger in place, never replacing the key; an absent policy is left alone", async () => {
            const old = stored({ keyVersion: "v1", rotation: { enabled: true, intervalMonth: 3 }, rotationTrigger: "2026-11" });
            const inPlace: Array<[Record<string, unknown>, string]> = [
                [{ rotation: { enabled: true, intervalMonth: 6 }, rotationTrigger: "2026-11" }, "rotation"],
                [{ dualAuthDelete: { enabled: true }, rotationTrigger: "2026-11" }, "dualAuthDelete"],
                [{ rotationTrigger: "2026-12" }, "rotationTrigger"],
            ];
            for (const [change] of inPlace) {
                const d = await provider.diff("k-1", old, args(change) as never);
                assert.deepStrictEqual([d.changes, d.replaces], [true, []], JSON.stringify(change));
            }
            const same = await provider.diff("k-1", old, args({ rotation: { intervalMonth: 3, enabled: true }, rotationTrigger: "2026-11" }) as never);
            assert.strictEqual(same.changes, false, "key order and the enabled default do not matter");
            const leftOut = await provider.diff("k-1", old, args({ rotationTrigger: "2026-11" }) as never);
            assert.strictEqual(leftOut.changes, false, "rotation left out: KMS keeps it, nothing to do");
        });

        it("rotates only for a new trigger value, and sends only the policies KMS does not hold", async () => {
            const { rotatesOnUpdate, policiesToSet } = await import("../../provider/kms/keyDiff");
            assert.strictEqual(rotatesOnUpdate({ rotationTrigger: 1 }, { rotationTrigger: 2 }), true);
            assert.strictEqual(rotatesOnUpdate({ rotationTrigger: 1 }, { rotationTrigger: 1 }), false);
            assert.strictEqual(rotatesOnUpdate({ rotationTrigger: 1 }, {}), false, "removing the trigger rotates nothing");
            assert.deepStrictEqual(
                policiesToSet(
                    { rotation: { enabled: true, intervalMonth: 3 } },
                    { rotation: { enabled: true, intervalMonth: 3 }, dualAuthDelete: { enabled: true } },
                ),
                { dualAuthDelete: { enabled: true } },
            );
            assert.strictEqual(policiesToSet({ dualAuthDelete: { enabled: false } }, { dualAuthDelete: { enabled: false } }), undefined);
        });
    });

    describe("aliases and enabled", function () {
        it("preview: unknown aliases are judged when known, never as repeats", async () => {
            const r = await provider.check({}, args({ aliases: [UNKNOWN, UNKNOWN] }));
            assert.deepStrictEqual(r.failures, []);
        });

        it("diff: aliases and enabled change in place when given and different; left out, or old state without them, no change", async () => {
            const base = { ...args(), service: "hs-crypto", type: "root", force: false };
            const old = stored();
            assert.strictEqual((await provider.diff("k-1", old, base as never)).changes, false, "old state, program without them");
            assert.strictEqual((await provider.diff("k-1", old, { ...base, enabled: true } as never)).changes, false, "old state held an enabled key");
            const disabled = await provider.diff("k-1", old, { ...base, enabled: false } as never);
            assert.deepStrictEqual([disabled.changes, disabled.replaces], [true, []]);
            const withAliases = stored({ aliases: ["a1", "a2"], enabled: true });
            assert.strictEqual((await provider.diff("k-1", withAliases, { ...base, aliases: ["a2", "a1"] } as never)).changes, false, "order does not matter");
            const changed = await provider.diff("k-1", withAliases, { ...base, aliases: ["a1"] } as never);
            assert.deepStrictEqual([changed.changes, changed.replaces], [true, []]);
            assert.strictEqual((await provider.diff("k-1", withAliases, base as never)).changes, false, "left out: as KMS holds them");
            assert.strictEqual((await provider.diff("k-1", withAliases, { ...base, aliases: [UNKNOWN] } as never)).changes, true, "unknown at preview");
        });

        it("aliasChanges removes before it adds, and leaves everything when not given", () => {
            assert.deepStrictEqual(aliasChanges(["a", "b"], ["b", "c"]), { add: ["c"], remove: ["a"] });
            assert.deepStrictEqual(aliasChanges(["a"], undefined), { add: [], remove: [] });
        });
    });
});
