// Creates that carry no recovery mark, killed mid-flight through the real engine: a trusted profile, then its claim
// rule, link and trusted identity, an authorization policy and a KMS key ring, each create's answer held by the
// emulator (the object exists at once, its answer comes late) until the test kills -9 the CLI — or, in the second
// suite, the dynamic-provider plugin — with every one of them in flight. Then the documented recovery (`npx
// pulumi-ibmcloud-iam recover`: after a CLI kill it adopts the engine's pending creates, after a plugin kill, which
// leaves the engine no pending operation, it deletes what the provider's own journal names and no stack tracks; then
// the `up`), and a count in the emulator: exactly one object per resource, each the one the state names (no
// duplicate, no orphan), exit 0. A third suite kills the plugin exactly after IBM answered a profile's and an
// authorization's create (the provider's test-only hold point), where the journal entry has IBM's id. Without the
// recovery the `up` after the kill creates the rule and the authorization twice, and stops on the profile's name, the
// link, the trust and the ring, which IBM keeps once.
import * as assert from "assert";
import * as crypto from "crypto";
import { RunningEmulator, startEmulator } from "../../emulator";
import { IamClient, IamTokenManager, KmsClient, TrustedProfileClient } from "../../client";
import { profilesAndAuthorizations, recoverCommand, roleOf, sandboxProcesses, startOp, upHeldAfterAnswer, waitFor } from "./support/crash";
import { createSandbox, EngineSandbox, EngineStack, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";

/** Long enough for every create of the step to reach the emulator before the kill. */
const HOLD_MS = 60_000;
const EXIT_BOUND_MS = 60_000;

interface StateResource {
    type: string;
    id?: string;
    custom?: boolean;
}

interface Pending {
    type: string;
    resource: { type: string };
}

type Target = "cli" | "plugin";

/** One stack of the crashMarkless program and the objects of it in the emulator. */
class MarklessStack {
    stack!: EngineStack;
    readonly sourceInstance = crypto.randomUUID();

    constructor(
        readonly sandbox: EngineSandbox,
        readonly emu: RunningEmulator,
        readonly owner: IamClient,
        readonly prefix: string,
    ) {}

    async create(name: string, trustedServiceId: string): Promise<void> {
        const vsiCrn = `crn:v1:bluemix:public:is:us-south-1:a/${this.emu.accountId}::instance:0717-${this.prefix}`;
        this.stack = await this.sandbox.programStack(
            name,
            { module: "crashMarkless", export: "crashMarkless" },
            {
                projectName: "crash-markless",
                params: {
                    stage: "profile",
                    prefix: this.prefix,
                    instanceId: this.emu.instances[0].guid,
                    service: this.emu.instances[0].service,
                    trustedServiceId,
                    vsiCrn,
                    sourceInstance: this.sourceInstance,
                },
                config: {
                    "ibmcloud:apiKey": { value: this.emu.apiKey, secret: true },
                    "ibmcloud:iamEndpoint": { value: this.emu.url },
                    "ibmcloud:kmsEndpoint": { value: this.emu.url },
                },
            },
        );
    }

    /** The objects of the program in the emulator, each with the id its resource has in the state. */
    async objects(): Promise<Array<{ id: string; what: string }>> {
        const profiles = new TrustedProfileClient(this.owner);
        const out: Array<{ id: string; what: string }> = [];
        for (const o of await profilesAndAuthorizations(this.emu.url, profiles, this.prefix, this.sourceInstance)) {
            out.push({ id: o.id, what: o.what });
            if (o.what !== "profile") continue;
            for (const l of await profiles.listLinks(o.id)) out.push({ id: `${o.id}/${l.id}`, what: "link" });
            for (const i of (await profiles.listIdentities(o.id)).identities) out.push({ id: `${o.id}|${i.type}|${i.identifier}`, what: "identity" });
        }
        const kms = new KmsClient({
            endpoint: this.emu.url,
            instanceId: this.emu.instances[0].guid,
            tokenSource: () => this.owner.tokens.getToken(),
            httpClient: this.owner.http,
        });
        for (const r of (await kms.listKeyRings()).filter((x) => x.id.startsWith(this.prefix))) out.push({ id: r.id, what: "ring" });
        return out;
    }

    /**
     * Starts an `up` with the given creates held by the emulator, kills -9 the CLI or the plugin once `expected`
     * objects exist, and recovers.
     */
    async killAndRecover(target: Target, held: Array<{ method: "POST"; path: string }>, expected: Record<string, number>) {
        this.emu.addFaults(held.map((h) => ({ kind: "slow" as const, ...h, delayMs: HOLD_MS })));
        const op = startOp(this.sandbox, this.stack, "up");
        const count = async () => {
            const by = new Map<string, number>();
            for (const o of await this.objects()) by.set(o.what, (by.get(o.what) ?? 0) + 1);
            return Object.entries(expected).every(([what, n]) => (by.get(what) ?? 0) >= n);
        };
        assert.ok(await waitFor(count, 3 * 60_000, 250), `the creates never all reached the emulator:\n${op.output()}`);
        if (target === "cli") op.child.kill("SIGKILL");
        else {
            const plugins = sandboxProcesses(this.sandbox).filter((p) => p.role === "plugin");
            assert.strictEqual(plugins.length, 1, `one dynamic-provider plugin runs the creates: ${JSON.stringify(sandboxProcesses(this.sandbox))}`);
            process.kill(plugins[0].pid, "SIGKILL");
        }
        const upExit = await op.exited;
        assert.ok(await waitFor(() => sandboxProcesses(this.sandbox).length === 0, EXIT_BOUND_MS, 200), "nothing of the deployment outlives the kill");
        this.emu.clearFaults();
        if (target === "plugin") assert.notStrictEqual(upExit, 0, "the up fails once its plugin is gone");
        return this.recover();
    }

    /** The documented recovery, with what the kill left and what the recovery did. */
    async recover() {
        const pending = ((await this.stack.exportState()).deployment.pending_operations ?? []) as Pending[];
        const started = Date.now();
        const again = recoverCommand(this.sandbox, this.stack.name, this.stack.workDir);
        const exit = await again.exited;
        const seconds = (Date.now() - started) / 1000;
        const output = again.output();
        const adopted = (output.match(/^recover: .*: adopted /gm) ?? []).length;
        const swept = (output.match(/^recover: deleted \S+: made by a create whose plugin died/gm) ?? []).length;
        console.log(
            `      pending creates at the kill: ${pending.length}; recover exit ${exit} in ${seconds.toFixed(1)} s; adopted ${adopted}; swept ${swept}`,
        );
        return { pending, exit, output, adopted, swept };
    }

    async assertExactlyTheState(what: string, log: string) {
        const state = (await this.stack.exportState()).deployment;
        const ids = new Set(((state.resources ?? []) as StateResource[]).filter((r) => r.custom !== false && r.id).map((r) => String(r.id)));
        const live = await this.objects();
        const byWhat = new Map<string, number>();
        for (const o of live) byWhat.set(o.what, (byWhat.get(o.what) ?? 0) + 1);
        const duplicates = [...byWhat.values()].reduce((n, c) => n + c - 1, 0);
        const orphans = live.filter((o) => !ids.has(o.id));
        console.log(`      ${what}: objects ${live.length}, duplicates ${duplicates}, orphans ${orphans.length}`);
        assert.strictEqual(duplicates, 0, `no duplicates: ${JSON.stringify(live)}\n${log}`);
        assert.deepStrictEqual(orphans, [], `no orphans\n${log}`);
        assert.strictEqual((state.pending_operations ?? []).length, 0, "no pending operation left");
        return live;
    }
}

const CHILD_CREATES: Array<{ method: "POST"; path: string }> = [
    { method: "POST", path: "/v1/profiles/*/rules" },
    { method: "POST", path: "/v1/profiles/*/links" },
    { method: "POST", path: "/v1/profiles/*/identities/*" },
    { method: "POST", path: "/v1/policies" },
    { method: "POST", path: "/api/v2/key_rings/*" },
];
const CHILDREN = { rule: 1, link: 1, identity: 1, authorization: 1, ring: 1 };
const ALL_KINDS = ["authorization", "identity", "link", "profile", "ring", "rule"];

describe("e2e: recover after kill -9 mid-up with creates of markless types in flight (profile, rule, link, trust, authorization, key ring)", function () {
    this.timeout(20 * 60_000);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let owner: IamClient;
    let trustedServiceId: string;
    const run = Date.now().toString(36);

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0 });
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        trustedServiceId = (await owner.createServiceId({ name: `mk${run}-deployer` })).id;
    });
    after(async function () {
        this.timeout(2 * 60_000);
        await sandbox?.cleanup();
        await emu?.stop();
    });

    for (const target of ["cli", "plugin"] as const) {
        describe(`kill -9 of the ${target === "cli" ? "CLI" : "dynamic-provider plugin"}`, function () {
            let m: MarklessStack;
            before(async function () {
                m = new MarklessStack(sandbox, emu, owner, `mk${target[0]}${run}`);
                await m.create(`markless-${target}`, trustedServiceId);
            });

            it(`a trusted profile whose create was in flight: recover ${target === "cli" ? "adopts" : "deletes"} it, exit 0, one profile, the one in the state`, async function () {
                const r = await m.killAndRecover(target, [{ method: "POST", path: "/v1/profiles" }], { profile: 1 });
                assert.strictEqual(r.exit, 0, r.output);
                if (target === "cli") {
                    assert.deepStrictEqual(
                        r.pending.map((p) => `${p.type} ${p.resource.type.split(":").pop()}`),
                        ["creating TrustedProfile"],
                    );
                    assert.match(r.output, /creating TrustedProfile profile: adopted Profile-/);
                } else {
                    assert.deepStrictEqual(r.pending, [], "a killed plugin leaves the engine no pending operation");
                    assert.strictEqual(r.swept, 1, r.output);
                }
                await m.assertExactlyTheState("after the profile's recovery", r.output);
            });

            it(`its rule, link, trust, an authorization and a key ring, all in flight: recover ${target === "cli" ? "adopts" : "deletes"} each, exit 0, no duplicate, no orphan`, async function () {
                await m.stack.setParams({ stage: "all" });
                const r = await m.killAndRecover(target, CHILD_CREATES, CHILDREN);
                if (target === "cli") {
                    assert.deepStrictEqual(
                        r.pending.map((p) => p.resource.type.split(":").pop()).sort(),
                        ["AuthorizationPolicy", "KmsKeyRing", "TrustedProfileClaimRule", "TrustedProfileIdentity", "TrustedProfileLink"],
                        "the kill left every create of the step pending",
                    );
                    assert.strictEqual(r.adopted, 5, r.output);
                } else {
                    assert.deepStrictEqual(r.pending, [], "a killed plugin leaves the engine no pending operation");
                    assert.strictEqual(r.swept, 5, r.output);
                }
                assert.strictEqual(r.exit, 0, r.output);
                const live = await m.assertExactlyTheState("after the recovery", r.output);
                assert.deepStrictEqual(live.map((o) => o.what).sort(), ALL_KINDS);
            });
        });
    }

    describe("kill -9 of the plugin after IBM answered, before the engine heard (the journal entry has IBM's id)", function () {
        let m: MarklessStack;
        before(async function () {
            m = new MarklessStack(sandbox, emu, owner, `mka${run}`);
            await m.create("markless-answered", trustedServiceId);
        });

        /** An `up` whose plugin holds its answer to the first create of `kind` once IBM answered; killed there. */
        async function killAfterAnswer(kind: "TrustedProfile" | "AuthorizationPolicy") {
            const { op, pid } = await upHeldAfterAnswer(sandbox, m.stack, kind);
            {
                assert.strictEqual(roleOf(pid), "plugin", `the create that was answered runs in the dynamic-provider plugin (pid ${pid})`);
                const what = kind === "TrustedProfile" ? "profile" : "authorization";
                const made = (await m.objects()).filter((o) => o.what === what);
                assert.strictEqual(made.length, 1, `IBM made the ${kind} before the kill: ${JSON.stringify(made)}`);
                process.kill(pid, "SIGKILL");
                assert.notStrictEqual(await op.exited, 0, "the up fails once its plugin is gone");
                assert.ok(await waitFor(() => sandboxProcesses(sandbox).length === 0, EXIT_BOUND_MS, 200), "nothing outlives the kill");
                const state = await m.stack.exportState();
                assert.ok(!(state.deployment.resources ?? []).some((r: { id?: string }) => r.id === made[0].id), "the engine never heard of it");
                const r = await m.recover();
                assert.strictEqual(r.exit, 0, r.output);
                assert.match(r.output, new RegExp(`deleted ${made[0].id.replace(/[|/]/g, "\\$&")}: made by a create whose plugin died`), r.output);
                return r;
            }
        }

        it("a trusted profile: recover deletes it by the id in the journal, its up makes it once", async function () {
            const r = await killAfterAnswer("TrustedProfile");
            const live = await m.assertExactlyTheState("after the profile's recovery", r.output);
            assert.deepStrictEqual(
                live.map((o) => o.what),
                ["profile"],
            );
        });

        it("an authorization (the profile's rule, link and trust in flight beside it): recover settles all, its up makes each once", async function () {
            await m.stack.setParams({ stage: "all" });
            const r = await killAfterAnswer("AuthorizationPolicy");
            const live = await m.assertExactlyTheState("after the recovery", r.output);
            assert.deepStrictEqual(live.map((o) => o.what).sort(), ALL_KINDS);
        });
    });
});
