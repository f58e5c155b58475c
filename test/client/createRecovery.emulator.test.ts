// Creates whose answer is lost, against the emulator's injected faults: whatever the fault, the client
// ends with exactly one object and returns it (adopted, or made by a second send), never two.
import * as assert from "assert";
import { startEmulator, RunningEmulator, FaultRule } from "../../emulator";
import { IamClient, IamTokenManager, KmsClient, IbmCloudError, resolveCloudSettings } from "../../client";
import { LOOKUP_RETRY_PAUSE_MS } from "../../client/createRecovery";

interface AdminState {
    serviceIds: Array<{ id: string; name: string }>;
    apiKeys: Array<{ id: string; name: string; iam_id: string }>;
    kmsKeys: Array<{ id: string; name: string; deleted: boolean }>;
}

// Faults that leave the outcome unknown, each with what it does to the write on the server.
const LOST_ANSWERS: Array<{ label: string; rule: Omit<FaultRule, "method" | "path">; commits: boolean }> = [
    { label: "connection reset after the write", rule: { kind: "reset-after" }, commits: true },
    { label: "answer slower than the client's timeout", rule: { kind: "slow", delayMs: 1500 }, commits: true },
    { label: "garbled JSON answer", rule: { kind: "malformed-json" }, commits: true },
    { label: "connection reset before the write", rule: { kind: "reset-before" }, commits: false },
    { label: "500 before the write", rule: { kind: "status", status: 500 }, commits: false },
    { label: "502 before the write", rule: { kind: "status", status: 502 }, commits: false },
];

describe("createRecovery: lost create answers against the emulator's faults", function () {
    let emu: RunningEmulator;
    let iam: IamClient;
    const closers: Array<() => Promise<void>> = [];

    // Short timeout (the slow fault outlasts it) and short backoff: the test is about decisions, not waiting.
    const HTTP = { timeoutMs: 400, retry: { delaysMs: [20, 20, 20, 20], jitter: 0 } };

    before(async () => {
        emu = await startEmulator({ port: 0 });
        iam = IamClient.fromSettings(resolveCloudSettings({ apiKey: emu.apiKey, iamEndpoint: emu.url }, {}), HTTP);
        closers.push(() => iam.http.close());
        await iam.accountId(); // token fetched before faults are armed on the create paths
    });
    afterEach(() => emu.clearFaults());
    after(async () => {
        for (const c of closers) await c();
        await emu.stop();
    });

    async function state(): Promise<AdminState> {
        return (await (await fetch(`${emu.url}/__emulator/state`)).json()) as AdminState;
    }
    function unique(prefix: string): string {
        return `${prefix}-${Math.random().toString(16).slice(2, 10)}`;
    }

    for (const { label, rule, commits } of LOST_ANSWERS) {
        it(`service ID, ${label}: exactly one, ${commits ? "adopted" : "sent again"}`, async () => {
            const name = unique("sid");
            emu.addFaults([{ ...rule, method: "POST", path: "/v1/serviceids", count: 1 }]);
            const before = emu.stats().faultsInjected.total;
            const sid = await iam.createServiceId({ name, description: "recovery" });
            assert.strictEqual(emu.stats().faultsInjected.total, before + 1, "the fault fired");
            const named = (await state()).serviceIds.filter((s) => s.name === name);
            assert.deepStrictEqual(
                named.map((s) => s.id),
                [sid.id],
                "one service ID, and it is the one returned",
            );
        });

        it(`API key with a chosen value, ${label}: exactly one, found by its value, and the value works`, async () => {
            const sid = await iam.createServiceId({ name: unique("sid-k") });
            const value = `recovery-value-${Math.random().toString(36).slice(2)}-${"v".repeat(20)}`;
            emu.addFaults([{ ...rule, method: "POST", path: "/v1/apikeys", count: 1 }]);
            const key = await iam.createApiKey({ name: "app-key", iam_id: sid.iam_id, apikey: value });
            assert.strictEqual(key.apikey, value);
            const keys = (await state()).apiKeys.filter((k) => k.iam_id === sid.iam_id);
            assert.deepStrictEqual(
                keys.map((k) => k.id),
                [key.id],
            );
            const t = new IamTokenManager({ apiKey: value, iamEndpoint: emu.url });
            closers.push(() => t.http.close());
            assert.strictEqual((await t.getTokenInfo()).iamId, sid.iam_id);
        });
    }

    it("API key without a chosen value, answer lost after the write: the unusable key is deleted and a new one made, so one key with a value remains", async () => {
        const sid = await iam.createServiceId({ name: unique("sid-k") });
        emu.addFaults([{ kind: "reset-after", method: "POST", path: "/v1/apikeys", count: 1 }]);
        const key = await iam.createApiKey({ name: "app-key", iam_id: sid.iam_id });
        assert.ok(key.apikey && key.apikey.length >= 32, "the value of the key that remains");
        const keys = (await state()).apiKeys.filter((k) => k.iam_id === sid.iam_id);
        assert.deepStrictEqual(
            keys.map((k) => k.id),
            [key.id],
        );
    });

    it("KMS key, answer lost after the write: exactly one, adopted", async () => {
        const settings = resolveCloudSettings({ apiKey: emu.apiKey, iamEndpoint: emu.url, kmsEndpoint: emu.url }, {});
        const tokens = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url, http: HTTP });
        closers.push(() => tokens.http.close());
        const kms = KmsClient.forInstance(tokens, settings, { service: "hs-crypto", instanceId: emu.instances[0].guid });
        await tokens.getToken();
        for (const rule of [{ kind: "reset-after" as const }, { kind: "slow" as const, delayMs: 1500 }, { kind: "status" as const, status: 500 }]) {
            const name = unique("root");
            emu.addFaults([{ ...rule, method: "POST", path: "/api/v2/keys", count: 1 }]);
            const key = await kms.createKey({ name });
            const live = (await state()).kmsKeys.filter((k) => k.name === name && !k.deleted);
            assert.deepStrictEqual(
                live.map((k) => k.id),
                [key.id],
                `one key after ${rule.kind}`,
            );
            emu.clearFaults();
        }
    });

    it("service ID, answer lost and the lookup unavailable through all its HTTP attempts: looked up again after a pause, exactly one, adopted", async function () {
        this.timeout(10_000 + LOOKUP_RETRY_PAUSE_MS);
        const name = unique("sid-lookup");
        const httpAttempts = 1 + HTTP.retry.delaysMs.length;
        emu.addFaults([
            { kind: "reset-after", method: "POST", path: "/v1/serviceids", count: 1 },
            { kind: "status", status: 503, retryAfterSeconds: 0, method: "GET", path: "/v1/serviceids", count: httpAttempts },
        ]);
        const before = emu.stats().faultsInjected.total;
        const sid = await iam.createServiceId({ name, description: "recovery" });
        assert.strictEqual(emu.stats().faultsInjected.total, before + 1 + httpAttempts, "the create's answer was lost and the whole first lookup failed");
        assert.deepStrictEqual(
            (await state()).serviceIds.filter((s) => s.name === name).map((s) => s.id),
            [sid.id],
            "one service ID, and it is the one returned: no second create, no orphan",
        );
    });

    it("several same-named service IDs made since the lost attempt: refuses to guess, names them, makes no more", async () => {
        const name = unique("twin");
        await iam.createServiceId({ name });
        emu.addFaults([{ kind: "reset-after", method: "POST", path: "/v1/serviceids", count: 1 }]);
        await assert.rejects(iam.createServiceId({ name }), (err: unknown) => {
            assert.ok(err instanceof IbmCloudError);
            assert.match(err.message, /2 matching objects .* cannot tell which one/);
            return true;
        });
        assert.strictEqual((await state()).serviceIds.filter((s) => s.name === name).length, 2);
    });

    it("an older service ID of the same name is not taken for the one the lost attempt would have made", async () => {
        // Dated before the clock-skew window: the lost attempt (turned away before the write) made nothing,
        // so the client must send again rather than adopt the old one.
        const name = unique("old");
        const old = await iam.createServiceId({ name });
        const realNow = Date.now;
        Date.now = () => realNow() + 10 * 60_000; // our first attempt "starts" ten minutes after `old` was made
        try {
            emu.addFaults([{ kind: "status", status: 500, method: "POST", path: "/v1/serviceids", count: 1 }]);
            const sid = await iam.createServiceId({ name });
            assert.notStrictEqual(sid.id, old.id);
        } finally {
            Date.now = realNow;
        }
        assert.strictEqual((await state()).serviceIds.filter((s) => s.name === name).length, 2);
    });

    it("updates whose first answer was lost: the replay meets 412 because the first attempt was applied, and that is success", async () => {
        const sid = await iam.createServiceId({ name: unique("upd"), description: "one" });
        emu.addFaults([{ kind: "reset-after", method: "PUT", path: "/v1/serviceids/*", count: 1 }]);
        const updated = await iam.updateServiceId(sid.id, sid.entity_tag, { description: "two", unique_instance_crns: [] });
        assert.strictEqual(updated.description, "two");
        assert.strictEqual(emu.stats().faultsInjected.byKind["reset-after"] > 0, true);

        const key = await iam.createApiKey({ name: "k", iam_id: sid.iam_id });
        emu.addFaults([{ kind: "malformed-json", method: "PUT", path: "/v1/apikeys/*", count: 1 }]);
        assert.strictEqual((await iam.updateApiKey(key.id, key.entity_tag, { name: "k2" })).name, "k2");

        const body = {
            type: "access",
            subjects: [{ attributes: [{ name: "iam_id", value: sid.iam_id }] }],
            roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Reader" }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: emu.accountId, operator: "stringEquals" },
                        { name: "serviceName", value: "hs-crypto", operator: "stringEquals" },
                    ],
                },
            ],
        };
        const policy = await iam.createPolicy(body);
        emu.addFaults([{ kind: "reset-after", method: "PUT", path: "/v1/policies/*", count: 1 }]);
        const replaced = await iam.replacePolicy(policy.policy.id, policy.etag, {
            ...body,
            roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Writer" }],
        });
        assert.deepStrictEqual(
            replaced.policy.roles.map((r) => r.role_id),
            ["crn:v1:bluemix:public:iam::::serviceRole:Writer"],
        );
        assert.ok(replaced.etag && replaced.etag !== policy.etag, "the ETag of the policy as it now is");
    });

    it("a lost update answer does not hide a change made by someone else: the 412 stands", async () => {
        const sid = await iam.createServiceId({ name: unique("upd2"), description: "one" });
        // Our PUT is applied and its answer lost; then a colleague changes the description before our replay.
        emu.addFaults([{ kind: "slow", delayMs: 1500, method: "PUT", path: "/v1/serviceids/*", count: 1 }]);
        const ours = iam.updateServiceId(sid.id, sid.entity_tag, { description: "ours" });
        await new Promise((r) => setTimeout(r, 200));
        const other = IamClient.fromSettings(resolveCloudSettings({ apiKey: emu.apiKey, iamEndpoint: emu.url }, {}));
        closers.push(() => other.http.close());
        const now = await other.getServiceId(sid.id);
        await other.updateServiceId(sid.id, now.entity_tag, { description: "theirs" });
        await assert.rejects(ours, (err: unknown) => err instanceof IbmCloudError && err.status === 412);
        assert.strictEqual((await other.getServiceId(sid.id)).description, "theirs");
    });
});
