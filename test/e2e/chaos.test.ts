// Chaos through the real Pulumi engine: 20 service ID + API key + policy triples, deployed while the
// emulator injects a fault into 20 % of the requests on every endpoint (token, identity, policies):
// throttling, 5xx, connections reset before and after the write, answers held past the client's
// timeout, garbled JSON. `up` must converge within two runs, leave no duplicate and no orphan, and a
// destroy (under the same faults) must leave the emulator empty. The figures are printed.
// The program is test/e2e/programs/chaos.ts, run by the engine in its own process.
import * as assert from "assert";
import { startEmulator, RunningEmulator, FaultRule } from "../../emulator";
import { createSandbox, EngineError, EngineSandbox, EngineStack, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";

const TRIPLES = 20;
const FAULT_RATE = 0.2;
const REQUEST_TIMEOUT_S = 2;
const OP_TIMEOUT_MS = 8 * 60_000;

/** What share of the faults each kind gets. */
const MIX: Array<[Omit<FaultRule, "probability" | "method" | "path">, number]> = [
    [{ kind: "status", status: 429, retryAfterSeconds: 1 }, 0.2],
    [{ kind: "status", status: 500 }, 0.1],
    [{ kind: "status", status: 502 }, 0.1],
    [{ kind: "status", status: 503, retryAfterSeconds: 1 }, 0.1],
    [{ kind: "reset-before" }, 0.15],
    [{ kind: "reset-after" }, 0.15],
    [{ kind: "slow", delayMs: (REQUEST_TIMEOUT_S + 2) * 1000 }, 0.1],
    [{ kind: "malformed-json" }, 0.1],
];

/**
 * Rules are tried in order and the first that fires wins, so each rule's own probability is its share
 * of what the rules before it left over: together they fire on exactly FAULT_RATE of the requests.
 */
function chaosRules(rate: number): FaultRule[] {
    let taken = 0;
    return MIX.map(([rule, share]) => {
        const p = (rate * share) / (1 - taken);
        taken += rate * share;
        return { ...rule, method: "*", path: "*", probability: p } as FaultRule;
    });
}

/**
 * On top of the random 20 %: each create endpoint loses its answer once in every way there is, so the
 * recovery of each resource from each kind of lost answer is exercised whatever the dice say.
 */
function lostCreateRules(): FaultRule[] {
    const kinds: Array<Omit<FaultRule, "method" | "path" | "count">> = [
        { kind: "reset-after" },
        { kind: "slow", delayMs: (REQUEST_TIMEOUT_S + 2) * 1000 },
        { kind: "malformed-json" },
        { kind: "reset-before" },
        { kind: "status", status: 500 },
    ];
    return ["/v1/serviceids", "/v1/apikeys", "/v1/policies"].flatMap((path) => kinds.map((k) => ({ ...k, method: "POST", path, count: 1 }) as FaultRule));
}

interface AdminState {
    owner: { iam_id: string };
    serviceIds: Array<{ id: string; iam_id: string; name: string }>;
    apiKeys: Array<{ id: string; iam_id: string }>;
    policies: Array<{ id: string; state: string; subjects: Array<{ attributes: Array<{ name: string; value: string }> }> }>;
}

describe("e2e: chaos — 20 identities deployed and destroyed while 20 % of requests fail", function () {
    this.timeout(OP_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let stack: EngineStack;
    const prefix = `chaos-${Math.random().toString(16).slice(2, 8)}`;
    const figures: Record<string, unknown> = {};
    let description = "chaos test identity";

    async function state(): Promise<AdminState> {
        return (await (await fetch(`${emu.url}/__emulator/state`)).json()) as AdminState;
    }
    /** The emulator's objects other than the seeded owner and its key. */
    async function live() {
        const s = await state();
        const subjectOf = (p: AdminState["policies"][number]) => p.subjects[0]?.attributes.find((a) => a.name === "iam_id")?.value ?? "";
        return {
            serviceIds: s.serviceIds,
            apiKeys: s.apiKeys.filter((k) => k.iam_id !== s.owner.iam_id),
            policies: s.policies.filter((p) => p.state === "active").map((p) => ({ id: p.id, subject: subjectOf(p) })),
        };
    }
    function countDuplicates<T>(items: T[], keyOf: (t: T) => string): number {
        const seen = new Map<string, number>();
        for (const i of items) seen.set(keyOf(i), (seen.get(keyOf(i)) ?? 0) + 1);
        return [...seen.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);
    }

    /** Runs `op` up to `max` times until it succeeds; returns how many runs it took. */
    async function converge(label: string, max: number, op: () => Promise<{ result: { summary: { result: string } } }>): Promise<number> {
        const failures: string[] = [];
        for (let run = 1; run <= max; run++) {
            try {
                const r = await op();
                if (r.result.summary.result === "succeeded") return run;
                failures.push(`run ${run}: ${r.result.summary.result}`);
            } catch (err) {
                if (!(err instanceof EngineError)) throw err;
                // Keep the engine's diagnostics, not the whole log.
                failures.push(
                    `run ${run}: ${err.output
                        .split("\n")
                        .filter((l) => /error|failed/i.test(l))
                        .slice(0, 15)
                        .join("\n")}`,
                );
            }
        }
        assert.fail(`${label} did not converge in ${max} runs:\n${failures.join("\n")}`);
    }

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0, faultSeed: 20261127 });
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        stack = await sandbox.programStack(
            "chaos",
            { module: "chaos", export: "triples" },
            {
                projectName: "chaos",
                params: { triples: TRIPLES, prefix, description, instanceId: emu.instances[0].guid },
                config: {
                    "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
                    "ibmcloud:iamEndpoint": { value: emu.url },
                    "ibmcloud:timeout": { value: String(REQUEST_TIMEOUT_S) },
                },
            },
        );
    });
    after(async function () {
        console.log(`      chaos figures: ${JSON.stringify(figures)}`);
        await sandbox?.cleanup();
        await emu?.stop();
    });

    it("up converges within two runs with no duplicate and no orphan", async function () {
        const planned = lostCreateRules();
        emu.addFaults([...planned, ...chaosRules(FAULT_RATE)]);
        const ups = await converge("up", 2, () => stack.up());
        const stats = emu.stats();
        Object.assign(figures, { ups, requests: stats.requests, faultsInjected: stats.faultsInjected.total, byKind: stats.faultsInjected.byKind });
        const rules = (await (await fetch(`${emu.url}/__emulator/faults`)).json()) as { rules: Array<{ fired: number; count?: number }> };
        assert.ok(
            rules.rules.slice(0, planned.length).every((r) => r.fired === 1),
            "every planned lost create answer happened",
        );
        assert.ok(
            stats.faultsInjected.total - planned.length >= 0.1 * stats.requests,
            `random faults were injected (${stats.faultsInjected.total} of ${stats.requests})`,
        );

        // Nothing left to do: a preview plans no change.
        const preview = await stack.preview();
        assert.deepStrictEqual(preview.result.changeSummary, { same: 1 + 3 * TRIPLES }, preview.output);

        const l = await live();
        const exported = await stack.exportState();
        const inState = new Set((exported.deployment.resources ?? []).map((r: { id?: string }) => r.id).filter(Boolean));
        const ours = { serviceIds: l.serviceIds.filter((s) => s.name.startsWith(prefix)), apiKeys: l.apiKeys, policies: l.policies };
        const duplicates =
            countDuplicates(ours.serviceIds, (s) => s.name) + countDuplicates(ours.apiKeys, (k) => k.iam_id) + countDuplicates(ours.policies, (p) => p.subject);
        const orphans = [...ours.serviceIds, ...ours.apiKeys, ...ours.policies].filter((o) => !inState.has(o.id)).map((o) => o.id);
        Object.assign(figures, { duplicates, orphans: orphans.length });
        assert.deepStrictEqual([ours.serviceIds.length, ours.apiKeys.length, ours.policies.length], [TRIPLES, TRIPLES, TRIPLES]);
        assert.strictEqual(duplicates, 0);
        assert.deepStrictEqual(orphans, []);
        // Each key and policy belongs to a service ID of this stack.
        const iamIds = new Set(ours.serviceIds.map((s) => s.iam_id));
        assert.ok(ours.apiKeys.every((k) => iamIds.has(k.iam_id)) && ours.policies.every((p) => iamIds.has(p.subject)));
    });

    it("an in-place update of every service ID and key under the same faults converges, still without duplicates", async function () {
        const before = emu.stats().faultsInjected.total;
        description = "chaos test identity, updated";
        await stack.setParams({ description });
        const updates = await converge("update", 2, () => stack.up());
        Object.assign(figures, { updateUps: updates, faultsDuringUpdate: emu.stats().faultsInjected.total - before });
        const s = await state();
        const ours = s.serviceIds.filter((x) => x.name.startsWith(prefix));
        assert.strictEqual(ours.length, TRIPLES);
        assert.ok(
            ours.every((x) => (x as { description?: string }).description === description),
            "every description updated",
        );
        const preview = await stack.preview();
        assert.deepStrictEqual(preview.result.changeSummary, { same: 1 + 3 * TRIPLES }, preview.output);
    });

    it("destroy under the same faults leaves the emulator empty", async function () {
        const before = emu.stats().faultsInjected.total;
        const destroys = await converge("destroy", 2, () => stack.destroy());
        Object.assign(figures, { destroys, faultsDuringDestroy: emu.stats().faultsInjected.total - before });
        emu.clearFaults();
        const l = await live();
        assert.deepStrictEqual([l.serviceIds.length, l.apiKeys.length, l.policies.length], [0, 0, 0], JSON.stringify(l));
    });
});
