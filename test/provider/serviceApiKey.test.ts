// ServiceApiKey check and diff, called directly (no network): what a user sees at preview.
import { strict as assert } from "assert";
import { serviceApiKeyProvider, ServiceApiKeyOutputs } from "../../provider";
import { serviceIamId } from "../../client";
import { UNKNOWN } from "../../provider/core/props";
import { isRecoveryNonce } from "../../provider/core/recoveryMark";

const p = serviceApiKeyProvider;
const SID = "ServiceId-11111111-2222-3333-4444-555555555555";
const BYO = "byo-value-0123456789abcdefghijklmnopqrstuvwxyz";

async function failures(news: Record<string, unknown>, olds: Record<string, unknown> = {}): Promise<Record<string, string>> {
    const r = await p.check!(olds, news);
    return Object.fromEntries((r.failures ?? []).map((f) => [f.property, f.reason]));
}

/** Outputs as state holds them after a create. */
function state(over: Partial<ServiceApiKeyOutputs> = {}): ServiceApiKeyOutputs & { __provider: string } {
    return {
        apiKeyId: "ApiKey-1",
        apikey: "generated-value-generated-value-generated-va",
        iamId: `iam-${SID}`,
        serviceId: SID,
        crn: "crn:v1:bluemix:public:iam-identity::a/acc::apikey:ApiKey-1",
        accountId: "acc",
        entityTag: "1-abc",
        createdAt: "2024-10-04T14:05+0000",
        modifiedAt: "2024-10-04T14:05+0000",
        name: "key",
        description: "",
        actionWhenLeaked: "none",
        supportSessions: false,
        locked: false,
        disabled: false,
        storeValue: false,
        __provider: "old provider text",
        ...over,
    };
}

async function diff(olds: object, news: Record<string, unknown>) {
    const checked = await p.check!({}, { __provider: "new provider text", ...news });
    assert.deepStrictEqual(checked.failures ?? [], []);
    return p.diff!("ApiKey-1", olds as ServiceApiKeyOutputs, { ...checked.inputs, __provider: "new provider text" } as never);
}

const NO_CHANGE = { changes: false, replaces: [], deleteBeforeReplace: false };
const UPDATE = { changes: true, replaces: [], deleteBeforeReplace: false };

/** Checked inputs without the recovery nonce check() adds (asserted to be one): the rest is what these tests compare. */
function withoutNonce(inputs: unknown): Record<string, unknown> {
    const { recoveryNonce, ...rest } = inputs as Record<string, unknown>;
    assert.ok(isRecoveryNonce(recoveryNonce), `check() adds a recovery nonce: ${String(recoveryNonce)}`);
    return rest;
}
describe("serviceApiKey: check and diff", function () {
    describe("check", function () {
        it("applies the defaults and keeps __provider out of the checked inputs", async function () {
            const r = await p.check!({}, { serviceId: SID, name: "key", __provider: "text" });
            assert.deepStrictEqual(r.failures ?? [], []);
            assert.deepStrictEqual(withoutNonce(r.inputs), {
                serviceId: SID,
                name: "key",
                description: "",
                supportSessions: false,
                locked: false,
                disabled: false,
                storeValue: false,
            });
        });

        it("names the field and the fix for each bad argument", async function () {
            const f = await failures({
                serviceId: "my-app",
                name: " ",
                description: 3,
                expiresAt: "next tuesday",
                actionWhenLeaked: "panic",
                supportSessions: "yes",
                locked: 1,
                disabled: "no",
                storeValue: "true",
                rotationTrigger: [1],
                outputFile: "",
                iam_service_id: SID,
            });
            assert.match(
                f.serviceId,
                /must be a service ID such as ServiceId-<uuid> or its IAM ID iam-ServiceId-<uuid>; pass the serviceId \(or iamId\) output/,
            );
            assert.match(f.name, /API key name must not be empty/);
            assert.match(f.description, /must be a string/);
            assert.match(f.expiresAt, /must be a date-time such as 2030-01-31T12:00\+0000/);
            assert.match(f.actionWhenLeaked, /one of none, disable, delete/);
            for (const b of ["supportSessions", "locked", "disabled", "storeValue"]) assert.match(f[b], /must be true or false/, b);
            assert.match(f.rotationTrigger, /string or a number/);
            assert.match(f.outputFile, /must not be empty; give a path/);
            assert.match(f.iam_service_id, /unknown argument "iam_service_id"/);
        });

        it("contradictions: a bring-your-own value too short or with whitespace, an expiry in the past; never echoing the value", async function () {
            const short = "s3cr3t-but-short";
            let f = await failures({ serviceId: SID, name: "k", apikey: short, expiresAt: "2020-01-01T00:00+0000" });
            assert.match(f.apikey, /at least 32 characters; give a longer value, or omit apikey to have one generated/);
            assert.match(f.expiresAt, /must be in the future/);
            assert.ok(!JSON.stringify(f).includes(short));
            const spaced = "with whitespace " + "x".repeat(40);
            f = await failures({ serviceId: SID, name: "k", apikey: spaced });
            assert.match(f.apikey, /must not contain whitespace/);
            assert.ok(!JSON.stringify(f).includes(spaced));
        });

        it("an expiry that has passed since it was set does not block later runs; changing to a past one does", async function () {
            const olds = { serviceId: SID, name: "k", expiresAt: "2020-01-01T00:00+0000" };
            assert.deepStrictEqual(await failures(olds, olds), {});
            assert.match((await failures({ ...olds, expiresAt: "2021-01-01T00:00+0000" }, olds)).expiresAt, /in the future/);
        });

        it("accepts both forms of the service ID and a number or string trigger", async function () {
            for (const serviceId of [SID, `iam-${SID}`]) {
                for (const rotationTrigger of [1, "2024-q3"]) {
                    assert.deepStrictEqual(await failures({ serviceId, name: "k", rotationTrigger, apikey: BYO, expiresAt: "2099-01-01T00:00:00Z" }), {});
                }
            }
            assert.strictEqual(serviceIamId(SID), `iam-${SID}`);
            assert.strictEqual(serviceIamId(`iam-${SID}`), `iam-${SID}`);
        });

        it("does not judge values still unknown at preview", async function () {
            const r = await p.check!({}, { serviceId: UNKNOWN, name: UNKNOWN, apikey: UNKNOWN, expiresAt: UNKNOWN, locked: UNKNOWN, rotationTrigger: UNKNOWN });
            assert.deepStrictEqual(r.failures ?? [], []);
            assert.strictEqual(r.inputs?.serviceId, UNKNOWN);
        });
    });

    describe("diff", function () {
        it("no change when only __provider differs; the iam form of the same service ID is no change", async function () {
            assert.deepStrictEqual(await diff(state(), { serviceId: SID, name: "key" }), NO_CHANGE);
            assert.deepStrictEqual(await diff(state(), { serviceId: `iam-${SID}`, name: "key" }), NO_CHANGE);
        });

        it("mutable fields update in place", async function () {
            for (const news of [
                { name: "key-2" },
                { description: "d" },
                { expiresAt: "2099-01-01T00:00+0000" },
                { actionWhenLeaked: "delete" },
                { supportSessions: true },
                { locked: true },
                { disabled: true },
                { outputFile: "/tmp/k.json" },
            ]) {
                assert.deepStrictEqual(await diff(state(), { serviceId: SID, name: "key", ...news }), UPDATE, JSON.stringify(news));
            }
            // Dropping an expiry or a description clears it: also an update.
            assert.deepStrictEqual(await diff(state({ expiresAt: "2099-01-01T00:00+0000" }), { serviceId: SID, name: "key" }), UPDATE);
        });

        it("an expiry spelled differently for the same minute is no change; leaving actionWhenLeaked out leaves IBM's value alone", async function () {
            assert.deepStrictEqual(
                await diff(state({ expiresAt: "2099-01-01T12:30+0000" }), { serviceId: SID, name: "key", expiresAt: "2099-01-01T12:30:00Z" }),
                NO_CHANGE,
            );
            assert.deepStrictEqual(
                await diff(state({ expiresAt: "2099-01-01T12:30+0000" }), { serviceId: SID, name: "key", expiresAt: "2099-01-01T14:30:00+02:00" }),
                NO_CHANGE,
            );
            assert.deepStrictEqual(await diff(state({ actionWhenLeaked: "disable" }), { serviceId: SID, name: "key" }), NO_CHANGE);
        });

        it("service ID, a new bring-your-own value, storeValue and rotationTrigger replace, creating the new key first", async function () {
            const cases: Array<[Record<string, unknown>, string]> = [
                [{ serviceId: "ServiceId-other" }, "serviceId"],
                [{ apikey: BYO }, "apikey"],
                [{ storeValue: true }, "storeValue"],
                [{ rotationTrigger: 1 }, "rotationTrigger"],
            ];
            for (const [news, field] of cases) {
                assert.deepStrictEqual(
                    await diff(state(), { serviceId: SID, name: "key", ...news }),
                    { changes: true, replaces: [field], deleteBeforeReplace: false },
                    field,
                );
            }
            assert.deepStrictEqual((await diff(state({ rotationTrigger: 1 }), { serviceId: SID, name: "key", rotationTrigger: 2 })).replaces, [
                "rotationTrigger",
            ]);
            assert.deepStrictEqual(await diff(state({ rotationTrigger: 1 }), { serviceId: SID, name: "key", rotationTrigger: "1" }), NO_CHANGE);
        });

        it("the same bring-your-own value is not a replacement, but moving it to another service ID deletes first (IBM refuses a value in use)", async function () {
            assert.deepStrictEqual(await diff(state({ apikey: BYO }), { serviceId: SID, name: "key", apikey: BYO }), NO_CHANGE);
            assert.deepStrictEqual(await diff(state({ apikey: BYO }), { serviceId: "ServiceId-other", name: "key", apikey: BYO }), {
                changes: true,
                replaces: ["serviceId"],
                deleteBeforeReplace: true,
            });
            assert.deepStrictEqual(await diff(state({ apikey: BYO }), { serviceId: SID, name: "key", apikey: BYO, rotationTrigger: "r2" }), {
                changes: true,
                replaces: ["rotationTrigger"],
                deleteBeforeReplace: true,
            });
        });

        it("values unknown at preview: a replacing field replaces, a mutable one updates", async function () {
            const base = { serviceId: SID, name: "key", description: "", supportSessions: false, locked: false, disabled: false, storeValue: false };
            assert.deepStrictEqual(await p.diff!("ApiKey-1", state(), { ...base, serviceId: UNKNOWN }), {
                changes: true,
                replaces: ["serviceId"],
                deleteBeforeReplace: false,
            });
            assert.deepStrictEqual((await p.diff!("ApiKey-1", state(), { ...base, rotationTrigger: UNKNOWN })).replaces, ["rotationTrigger"]);
            assert.deepStrictEqual(await p.diff!("ApiKey-1", state(), { ...base, name: UNKNOWN }), UPDATE);
            assert.deepStrictEqual(await p.diff!("ApiKey-1", state(), { ...base, expiresAt: UNKNOWN }), UPDATE);
        });
    });
});
