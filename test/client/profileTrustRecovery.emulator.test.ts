// Claim rules and trusted identities whose create (or update) answer is lost, against the emulator's injected
// faults: whatever the fault, the client ends with exactly one rule or one trust entry and returns it, never two;
// a rule's replayed update that finds its own write applied is success; an older identical rule is not adopted.
import * as assert from "assert";
import { startEmulator, RunningEmulator, FaultRule } from "../../emulator";
import { ClaimRuleBody, IamClient, resolveCloudSettings, TrustedProfileClient } from "../../client";

const LOST_ANSWERS: Array<{ label: string; rule: Omit<FaultRule, "method" | "path">; commits: boolean }> = [
    { label: "connection reset after the write", rule: { kind: "reset-after" }, commits: true },
    { label: "answer slower than the client's timeout", rule: { kind: "slow", delayMs: 1500 }, commits: true },
    { label: "garbled JSON answer", rule: { kind: "malformed-json" }, commits: true },
    { label: "connection reset before the write", rule: { kind: "reset-before" }, commits: false },
    { label: "500 before the write", rule: { kind: "status", status: 500 }, commits: false },
];

describe("createRecovery: claim rules and trusted identities against the emulator's faults", function () {
    let emu: RunningEmulator;
    let iam: IamClient;
    let profiles: TrustedProfileClient;
    let profileId: string;

    const HTTP = { timeoutMs: 400, retry: { delaysMs: [20, 20, 20, 20], jitter: 0 } };
    const rule = (namespace: string): ClaimRuleBody => ({
        type: "Profile-CR",
        cr_type: "IKS_SA",
        conditions: [{ claim: "namespace", operator: "EQUALS", value: JSON.stringify(namespace) }],
    });

    before(async () => {
        emu = await startEmulator({ port: 0 });
        iam = IamClient.fromSettings(resolveCloudSettings({ apiKey: emu.apiKey, iamEndpoint: emu.url }, {}), HTTP);
        profiles = new TrustedProfileClient(iam);
        profileId = (await profiles.createProfile({ name: "recovery-runtime" })).id;
    });
    afterEach(() => emu.clearFaults());
    after(async () => {
        await iam.http.close();
        await emu.stop();
    });

    for (const { label, rule: fault, commits } of LOST_ANSWERS) {
        it(`claim rule, ${label}: exactly one, ${commits ? "adopted" : "sent again"}`, async () => {
            const namespace = `ns-${Math.random().toString(16).slice(2, 8)}`;
            emu.addFaults([{ ...fault, method: "POST", path: "/v1/profiles/*/rules", count: 1 }]);
            const before = emu.stats().faultsInjected.total;
            const made = await profiles.createClaimRule(profileId, rule(namespace));
            assert.strictEqual(emu.stats().faultsInjected.total, before + 1, "the fault fired");
            const ours = (await profiles.listClaimRules(profileId)).filter((r) => r.conditions[0].value === JSON.stringify(namespace));
            assert.deepStrictEqual(
                ours.map((r) => r.id),
                [made.id],
                "one rule, and it is the one returned",
            );
        });

        it(`trusted identity, ${label}: trusted once, the entry returned`, async () => {
            const sid = await iam.createServiceId({ name: `trusted-${Math.random().toString(16).slice(2, 8)}` });
            emu.addFaults([{ ...fault, method: "POST", path: "/v1/profiles/*/identities/*", count: 1 }]);
            const before = emu.stats().faultsInjected.total;
            const added = await profiles.addIdentity(profileId, { type: "serviceid", identifier: sid.id });
            assert.strictEqual(emu.stats().faultsInjected.total, before + 1, "the fault fired");
            assert.strictEqual(added.identifier, sid.id);
            const entries = (await profiles.listIdentities(profileId)).identities.filter((i) => i.identifier === sid.id);
            assert.deepStrictEqual(
                entries.map((i) => i.iam_id),
                [sid.iam_id],
            );
        });
    }

    it("an older rule with the same fields is not taken for the one the lost attempt would have made", async () => {
        const old = await profiles.createClaimRule(profileId, rule("same-fields"));
        const realNow = Date.now;
        Date.now = () => realNow() + 10 * 60_000; // our first attempt "starts" ten minutes after `old` was made
        try {
            emu.addFaults([{ kind: "status", status: 500, method: "POST", path: "/v1/profiles/*/rules", count: 1 }]);
            const made = await profiles.createClaimRule(profileId, rule("same-fields"));
            assert.notStrictEqual(made.id, old.id);
        } finally {
            Date.now = realNow;
        }
        assert.strictEqual((await profiles.listClaimRules(profileId)).filter((r) => r.conditions[0].value === '"same-fields"').length, 2);
    });

    it("a rule's update whose answer was lost: the replay meets 412 because the first attempt was applied, and that is success", async () => {
        const r = await profiles.createClaimRule(profileId, rule("before-update"));
        emu.addFaults([{ kind: "reset-after", method: "PUT", path: "/v1/profiles/*/rules/*", count: 1 }]);
        const updated = await profiles.updateClaimRule(profileId, r.id, r.entity_tag, { ...rule("after-update"), expiration: 3600 });
        assert.deepStrictEqual([updated.conditions[0].value, updated.expiration], ['"after-update"', 3600]);
        assert.ok(emu.stats().faultsInjected.byKind["reset-after"] > 0);
    });

    it("a lost update answer does not hide a change made by someone else: the 412 stands", async () => {
        const r = await profiles.createClaimRule(profileId, rule("contested"));
        await profiles.updateClaimRule(profileId, r.id, r.entity_tag, { ...rule("contested"), name: "by a colleague" });
        emu.addFaults([{ kind: "reset-after", method: "PUT", path: "/v1/profiles/*/rules/*", count: 1 }]);
        await assert.rejects(profiles.updateClaimRule(profileId, r.id, r.entity_tag, rule("ours")), /412|409/);
        assert.strictEqual((await profiles.getClaimRule(profileId, r.id)).name, "by a colleague");
    });
});
