// ServiceId check and diff, called directly (no network): what a user sees at preview.
import { strict as assert } from "assert";
import { serviceIdProvider, ServiceIdOutputs } from "../../provider";
import { UNKNOWN } from "../../provider/core/props";
import { isRecoveryNonce } from "../../provider/core/recoveryMark";

const CRN_A = "crn:v1:bluemix:public:hs-crypto:us-south:a/0123456789abcdef0123456789abcdef:11111111-2222-3333-4444-555555555555::";
const CRN_B = "crn:v1:bluemix:public:kms:eu-de:a/0123456789abcdef0123456789abcdef:66666666-2222-3333-4444-555555555555::";

const p = serviceIdProvider;

async function failures(news: Record<string, unknown>): Promise<Record<string, string>> {
    const r = await p.check!({}, news);
    return Object.fromEntries((r.failures ?? []).map((f) => [f.property, f.reason]));
}

/** Outputs as state holds them after a create. */
function state(over: Partial<ServiceIdOutputs> = {}): ServiceIdOutputs & { __provider: string } {
    return {
        serviceId: "ServiceId-1",
        iamId: "iam-ServiceId-1",
        crn: "crn:v1:bluemix:public:iam-identity::a/acc::serviceid:ServiceId-1",
        accountId: "acc",
        entityTag: "1-abc",
        createdAt: "2024-10-04T14:05+0000",
        modifiedAt: "2024-10-04T14:05+0000",
        name: "app",
        description: "",
        uniqueInstanceCrns: [],
        locked: false,
        __provider: "old provider text",
        ...over,
    };
}

async function diff(olds: object, news: Record<string, unknown>) {
    const checked = await p.check!({}, { __provider: "new provider text", ...news });
    assert.deepStrictEqual(checked.failures ?? [], []);
    return p.diff!("ServiceId-1", olds as ServiceIdOutputs, { ...checked.inputs, __provider: "new provider text" } as never);
}

/** Checked inputs without the recovery nonce check() adds (asserted to be one): the rest is what these tests compare. */
function withoutNonce(inputs: unknown): Record<string, unknown> {
    const { recoveryNonce, ...rest } = inputs as Record<string, unknown>;
    assert.ok(isRecoveryNonce(recoveryNonce), `check() adds a recovery nonce: ${String(recoveryNonce)}`);
    return rest;
}
describe("serviceId: check and diff", function () {
    describe("check", function () {
        it("applies the defaults and keeps __provider out of the checked inputs", async function () {
            const r = await p.check!({}, { name: "  app  ", __provider: "text" });
            assert.deepStrictEqual(r.failures ?? [], []);
            assert.deepStrictEqual(withoutNonce(r.inputs), { name: "app", description: "", uniqueInstanceCrns: [], locked: false });
        });

        it("names the field and the fix for each bad argument", async function () {
            const f = await failures({ name: "", description: "x".repeat(1001), uniqueInstanceCrns: [CRN_A, "crn:nope"], locked: "yes", tags: ["a"] });
            assert.match(f.name, /^service ID name must not be empty; give it a name such as "my-app"$/);
            assert.match(f.description, /at most 1000 characters/);
            assert.match(f["uniqueInstanceCrns[1]"], /must be a CRN such as crn:v1:bluemix:public:hs-crypto/);
            assert.ok(!("uniqueInstanceCrns[0]" in f), "the valid CRN is not blamed");
            assert.match(f.locked, /locked must be true or false/);
            assert.match(f.tags, /unknown argument "tags"; remove it or check its spelling/);
        });

        it("requires a name and a list of CRNs", async function () {
            const f = await failures({ uniqueInstanceCrns: CRN_A });
            assert.match(f.name, /must be a string/);
            assert.match(f.uniqueInstanceCrns, /must be a list of CRN strings/);
            assert.match((await failures({ name: "x".repeat(1001) })).name, /at most 1000 characters/);
        });

        it("does not judge values still unknown at preview", async function () {
            const r = await p.check!({}, { name: UNKNOWN, description: UNKNOWN, uniqueInstanceCrns: [CRN_A, UNKNOWN], locked: UNKNOWN });
            assert.deepStrictEqual(r.failures ?? [], []);
            assert.deepStrictEqual(withoutNonce(r.inputs), { name: UNKNOWN, description: UNKNOWN, uniqueInstanceCrns: [CRN_A, UNKNOWN], locked: UNKNOWN });
            const whole = await p.check!({}, { name: "app", uniqueInstanceCrns: UNKNOWN });
            assert.deepStrictEqual(whole.failures ?? [], []);
        });
    });

    describe("diff", function () {
        it("no change when only __provider differs (new provider code is not an update)", async function () {
            assert.deepStrictEqual(await diff(state(), { name: "app" }), { changes: false, replaces: [], deleteBeforeReplace: false });
        });

        it("every field is an in-place update, never a replacement", async function () {
            for (const news of [
                { name: "app-2" },
                { name: "app", description: "now described" },
                { name: "app", uniqueInstanceCrns: [CRN_A] },
                { name: "app", locked: true },
            ]) {
                assert.deepStrictEqual(await diff(state(), news), { changes: true, replaces: [], deleteBeforeReplace: false }, JSON.stringify(news));
            }
        });

        it("dropping description or CRNs is a change (they are cleared); CRN order is not", async function () {
            assert.strictEqual((await diff(state({ description: "old" }), { name: "app" })).changes, true);
            assert.strictEqual((await diff(state({ uniqueInstanceCrns: [CRN_A] }), { name: "app" })).changes, true);
            assert.strictEqual((await diff(state({ uniqueInstanceCrns: [CRN_A, CRN_B] }), { name: "app", uniqueInstanceCrns: [CRN_B, CRN_A] })).changes, false);
        });

        it("a value unknown at preview may change: reported as an update", async function () {
            assert.deepStrictEqual(await p.diff!("ServiceId-1", state(), { name: UNKNOWN, description: "", uniqueInstanceCrns: [], locked: false }), {
                changes: true,
                replaces: [],
                deleteBeforeReplace: false,
            });
            assert.strictEqual(
                (await p.diff!("ServiceId-1", state(), { name: "app", description: "", uniqueInstanceCrns: [UNKNOWN], locked: false })).changes,
                true,
            );
        });

        it("state from an older version without description reads as empty", async function () {
            const old: Partial<ServiceIdOutputs> = state();
            delete old.description;
            assert.strictEqual((await diff(old, { name: "app" })).changes, false);
        });
    });
});
