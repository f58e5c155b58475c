// Crash rounds through the real engine: each round starts an `up` of CRASH_TRIPLES service ID + API key + policy
// triples, a KmsAccess, and a trusted profile with a claim rule and an authorization policy (the types that carry no
// mark) while every create answer is held (the object is made at once, its answer comes late),
// kills -9 the CLI or the dynamic-provider plugin at a seeded random moment, recovers as docs/crash-recovery.md
// says (`npx pulumi-ibmcloud-iam recover`: the journal's creates adopted, then `pulumi up`), and counts the round's
// objects in the emulator against the stack's state. Asserted: nothing the engine started outlives the kill, the state
// names only objects that exist, and after a kill of the CLI or of the plugin the recovery exits 0 with every resource
// of the program in the state, 0 duplicates and 0 orphans (a killed plugin leaves no engine journal: the provider's
// own journal is what `recover` finds its creates by). Printed per round: where the kill landed, the pending
// operations it left, the recovery's exit and time, duplicates and orphans after it. `CRASH_ROUNDS` (default 2),
// `CRASH_SEED`; scripts/stress.ts `--crash-rounds N` runs N. Five deterministic cases kill the plugin exactly between
// IBM's answer to a create (a service ID; a locked one; an API key with the user's own value; a policy; a KMS key)
// and the engine's hearing of it.
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { RunningEmulator, startEmulator } from "../../emulator";
import { IamClient, IamTokenManager, TrustedProfileClient } from "../../client";
import { identityObjects, profilesAndAuthorizations, recoverCommand, roleOf, sandboxProcesses, startOp, upHeldAfterAnswer, waitFor } from "./support/crash";
import { createSandbox, EngineSandbox, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 2);
const SEED = Number(process.env.CRASH_SEED ?? 20261206);
const TRIPLES = Number(process.env.CRASH_TRIPLES ?? 3);
/** How long each create's answer is held (the object exists from the start of it). */
const HOLD_MS = 1500;
const EXIT_BOUND_MS = 60_000;

/** mulberry32: the same seed gives the same kill points and targets. */
function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

interface AdminState {
    kmsKeys: Array<{ id: string; name: string; state: number }>;
}

interface Round {
    round: number;
    target: "cli" | "plugin";
    killAtMs: number;
    objectsAtKill: number;
    pendingOps: number;
    checkpoint: "readable" | "unreadable";
    recoverExit: number | string;
    recoverSeconds: number;
    /** Interrupted creates the recovery found and put into the state. */
    adopted: number;
    /** Objects of a killed plugin's creates the recovery deleted (tracked by no stack) before its `up`. */
    swept: number;
    objects: number;
    inState: number;
    duplicates: number;
    orphans: number;
    missing: number;
}

describe(`e2e: crash rounds — kill -9 mid-up, recover, count (${ROUNDS} rounds, seed ${SEED})`, function () {
    this.timeout(ROUNDS * 6 * 60_000 + 60_000);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let owner: IamClient;
    const rounds: Round[] = [];

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0 });
        owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
    });
    after(async function () {
        this.timeout(2 * 60_000);
        for (const r of rounds) console.log(`      crash round ${JSON.stringify(r)}`);
        const sum = (k: "duplicates" | "orphans") => rounds.reduce((n, r) => n + r[k], 0);
        console.log(`      crash total: rounds ${rounds.length}, duplicates ${sum("duplicates")}, orphans ${sum("orphans")}`);
        await sandbox?.cleanup();
        await emu?.stop();
    });

    async function state(): Promise<AdminState> {
        return (await (await fetch(`${emu.url}/__emulator/state`)).json()) as AdminState;
    }
    /**
     * The round's objects: service IDs named with its prefix, their keys and active policies, its KMS keys, its trusted
     * profile and claim rules, and the active authorizations of its source instance.
     */
    async function objectsOf(prefix: string, sourceInstance?: string) {
        const s = await state();
        return [
            ...(await identityObjects(emu.url, (name) => name.startsWith(prefix))),
            ...s.kmsKeys.filter((k) => k.name.startsWith(prefix) && k.state !== 5).map((k) => ({ id: k.id, what: `kms:${k.name}` })),
            ...(await markless(prefix, sourceInstance)),
        ];
    }

    /** The round's trusted profile, its claim rules and its source's authorizations (`what` names each profile and rule). */
    async function markless(prefix: string, sourceInstance: string | undefined): Promise<Array<{ id: string; what: string }>> {
        if (!sourceInstance) return [];
        const all = await profilesAndAuthorizations(emu.url, new TrustedProfileClient(owner), prefix, sourceInstance);
        return all.map((o) => ({ id: o.id, what: o.name === undefined ? o.what : `${o.what}:${o.name}` }));
    }

    it("a checkpoint whose attributes file a kill left empty (`failed to load checkpoint: EOF`): recover repairs it and the stack reads again", async function () {
        const prefix = `attrs-${Date.now().toString(36)}`;
        const stack = await sandbox.programStack(
            "attrs",
            { module: "lifecycle", export: "identity" },
            {
                projectName: "crash",
                params: { name: prefix, description: "attrs", rotation: 1, instanceId: emu.instances[0].guid },
                config: {
                    "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
                    "ibmcloud:iamEndpoint": { value: emu.url },
                    "ibmcloud:kmsEndpoint": { value: emu.url },
                },
            },
        );
        const up = startOp(sandbox, stack, "up");
        assert.strictEqual(await up.exited, 0, up.output());
        const before = (await stack.exportState()).deployment.resources?.length ?? 0;
        // what the storage layer leaves when killed between truncating the file and writing it
        const attrs = path.join(new URL(sandbox.backendUrl).pathname, ".pulumi", "stacks", "crash", "attrs.json.attrs");
        assert.ok(fs.existsSync(attrs), `the file backend keeps ${attrs}`);
        fs.writeFileSync(attrs, "");
        const broken = await stack.exportState().catch((e: Error) => e);
        assert.ok(broken instanceof Error && /failed to load checkpoint: EOF/.test(broken.message), String(broken));
        const again = recoverCommand(sandbox, stack.name, stack.workDir, ["--no-up"]);
        assert.strictEqual(await again.exited, 0, again.output());
        assert.match(again.output(), /checkpoint was unreadable/);
        assert.strictEqual((await stack.exportState()).deployment.resources?.length ?? 0, before, "the same resources as before the damage");
    });

    /**
     * Starts an `up` whose plugin holds its answer to the first create of `kind` once IBM answered (the provider's
     * test-only fault point), kills -9 the plugin there, checks the object exists and the engine recorded nothing of
     * it, then runs the documented recovery and counts.
     */
    async function killBetweenAnswerAndEngine(
        kind: "ServiceId" | "ServiceApiKey" | "AccessPolicy" | "KmsKey",
        stack: Awaited<ReturnType<EngineSandbox["programStack"]>>,
        prefix: string,
        resources: number,
    ) {
        const { op, pid } = await upHeldAfterAnswer(sandbox, stack, kind);
        {
            assert.strictEqual(roleOf(pid), "plugin", `the create that was answered runs in the dynamic-provider plugin (pid ${pid})`);
            const what = { ServiceId: "sid:", ServiceApiKey: "key:", AccessPolicy: "policy:", KmsKey: "kms:" }[kind];
            const made = (await objectsOf(prefix)).filter((o) => o.what.startsWith(what));
            assert.strictEqual(made.length, 1, `IBM made the ${kind} before the kill: ${JSON.stringify(made)}`);
            process.kill(pid, "SIGKILL");
            assert.notStrictEqual(await op.exited, 0, "the up fails once its plugin is gone");
            assert.ok(await waitFor(() => sandboxProcesses(sandbox).length === 0, EXIT_BOUND_MS, 200), "nothing outlives the kill");
            const state = await stack.exportState();
            assert.ok(!(state.deployment.resources ?? []).some((r: { id?: string }) => r.id === made[0].id), "the engine never heard of it");
            assert.strictEqual((state.deployment.pending_operations ?? []).length, 0, "and journaled nothing for it");

            const again = recoverCommand(sandbox, stack.name, stack.workDir);
            const code = await again.exited;
            const objects = await objectsOf(prefix);
            const after = await stack.exportState();
            const ids = new Set((after.deployment.resources ?? []).map((r: { id?: string }) => r.id).filter(Boolean));
            const log = `objects: ${JSON.stringify(objects)}\nrecovery:\n${again.output().slice(-4000)}`;
            assert.strictEqual(code, 0, `recover exits 0\n${log}`);
            assert.match(again.output(), new RegExp(`deleted ${made[0].id}: made by a create whose plugin died`), log);
            assert.deepStrictEqual(
                objects.filter((o) => !ids.has(o.id)),
                [],
                `no orphans\n${log}`,
            );
            assert.strictEqual(new Set(objects.map((o) => o.what)).size, objects.length, `no duplicates\n${log}`);
            assert.strictEqual(objects.length, resources, `every object of the program, once\n${log}`);
        }
    }

    const config = () => ({
        "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
        "ibmcloud:iamEndpoint": { value: emu.url },
        "ibmcloud:kmsEndpoint": { value: emu.url },
    });

    it("the plugin killed after IBM answered a service ID create and its marker key was deleted, before the engine heard: recover deletes the service ID, its up makes it once", async function () {
        const prefix = `heldsid-${Date.now().toString(36)}`;
        const stack = await sandbox.programStack(
            "heldsid",
            { module: "lifecycle", export: "identity" },
            { projectName: "crash", params: { name: prefix, description: "held", rotation: 1, instanceId: emu.instances[0].guid }, config: config() },
        );
        await killBetweenAnswerAndEngine("ServiceId", stack, prefix, 3);
    });

    it("the plugin killed after IBM answered a locked service ID's create (which carries no mark), before the engine heard: recover unlocks and deletes it by the journaled id, its up makes it once", async function () {
        const prefix = `heldlocked-${Date.now().toString(36)}`;
        const stack = await sandbox.programStack(
            "heldlocked",
            { module: "lifecycle", export: "identity" },
            {
                projectName: "crash",
                params: { name: prefix, description: "held", rotation: 1, instanceId: emu.instances[0].guid, locked: true },
                config: config(),
            },
        );
        // service ID and API key (IBM refuses a policy on a locked service ID)
        await killBetweenAnswerAndEngine("ServiceId", stack, prefix, 2);
    });

    it("the plugin killed after IBM answered the create of an API key with the user's own value, before the engine heard: recover deletes it by the journaled id, its up makes it once with that value", async function () {
        const prefix = `heldbyo-${Date.now().toString(36)}`;
        const stack = await sandbox.programStack(
            "heldbyo",
            { module: "lifecycle", export: "identity" },
            {
                projectName: "crash",
                params: {
                    name: prefix,
                    description: "held",
                    rotation: 1,
                    instanceId: emu.instances[0].guid,
                    apiKeyValue: `byo-${prefix}-${"0123456789abcdef".repeat(3)}`,
                },
                config: config(),
            },
        );
        await killBetweenAnswerAndEngine("ServiceApiKey", stack, prefix, 3);
    });

    it("the plugin killed after IBM answered a policy create, before the engine heard: recover deletes the policy, its up makes it once", async function () {
        const prefix = `heldpol-${Date.now().toString(36)}`;
        const stack = await sandbox.programStack(
            "heldpolicy",
            { module: "lifecycle", export: "identity" },
            { projectName: "crash", params: { name: prefix, description: "held", rotation: 1, instanceId: emu.instances[0].guid }, config: config() },
        );
        // service ID, API key, policy
        await killBetweenAnswerAndEngine("AccessPolicy", stack, prefix, 3);
    });

    it("the plugin killed after KMS answered a key create (made as the KmsAccess service ID), before the engine heard: recover deletes the key with the deployer's credentials", async function () {
        const prefix = `heldkms-${Date.now().toString(36)}`;
        const stack = await sandbox.programStack(
            "heldkms",
            { module: "crash", export: "crash" },
            { projectName: "crash", params: { triples: 0, prefix, instanceId: emu.instances[0].guid }, config: config() },
        );
        // the KmsAccess's service ID, API key and policy, and its root key
        await killBetweenAnswerAndEngine("KmsKey", stack, prefix, 4);
    });

    const random = prng(SEED);
    for (let i = 1; i <= ROUNDS; i++) {
        it(`round ${i}: nothing outlives the kill; after the documented recovery the state names only what exists`, async function () {
            const target = random() < 0.5 ? "cli" : "plugin";
            const prefix = `crash${i}-${Math.floor(random() * 1e6).toString(36)}`;
            // the first create goes out a few seconds into the up; the whole up takes about 6 hold times and the KMS wait
            const killAfterFirstWriteMs = Math.floor(random() * 6 * HOLD_MS);
            // the round's authorization is told apart by its source (not drawn from the seed: the kill points stay the seed's)
            const sourceInstance = crypto.randomUUID();
            const stack = await sandbox.programStack(
                `r${i}`,
                { module: "crash", export: "crash" },
                {
                    projectName: "crash",
                    params: { triples: TRIPLES, prefix, instanceId: emu.instances[0].guid, sourceInstance },
                    config: {
                        "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
                        "ibmcloud:iamEndpoint": { value: emu.url },
                        "ibmcloud:kmsEndpoint": { value: emu.url },
                    },
                },
            );
            emu.addFaults(
                ["/v1/serviceids", "/v1/apikeys", "/v1/policies", "/api/v2/keys", "/v1/profiles", "/v1/profiles/*/rules"].map((path) => ({
                    kind: "slow" as const,
                    method: "POST" as const,
                    path,
                    delayMs: HOLD_MS,
                })),
            );
            const writes = emu.stats().writes;
            const op = startOp(sandbox, stack, "up");
            assert.ok(await waitFor(() => emu.stats().writes > writes, 120_000), `the up never sent a create:\n${op.output()}`);
            await new Promise((r) => setTimeout(r, killAfterFirstWriteMs));
            const objectsAtKill = (await objectsOf(prefix, sourceInstance)).length;
            if (target === "cli") {
                op.child.kill("SIGKILL");
            } else {
                const plugin = sandboxProcesses(sandbox).find((p) => p.role === "plugin");
                if (plugin) process.kill(plugin.pid, "SIGKILL");
                else op.child.kill("SIGKILL"); // the up had already finished with its plugin
            }
            await op.exited;
            const gone = await waitFor(() => sandboxProcesses(sandbox).length === 0, EXIT_BOUND_MS, 200);
            assert.ok(gone, `still running after the kill: ${JSON.stringify(sandboxProcesses(sandbox))}`);
            emu.clearFaults();

            // A kill while the CLI writes the checkpoint can leave it unreadable: the recovery restores its backup.
            const exported = await stack.exportState().catch((e: Error) => e);
            const round: Round = {
                round: i,
                target,
                killAtMs: killAfterFirstWriteMs,
                objectsAtKill,
                pendingOps: 0,
                checkpoint: exported instanceof Error ? "unreadable" : "readable",
                recoverExit: "not run",
                recoverSeconds: 0,
                adopted: 0,
                swept: 0,
                objects: 0,
                inState: 0,
                duplicates: 0,
                orphans: 0,
                missing: 0,
            };
            rounds.push(round);
            if (!(exported instanceof Error)) round.pendingOps = (exported.deployment.pending_operations ?? []).length;

            // the documented recovery: one command
            const started = Date.now();
            const again = recoverCommand(sandbox, stack.name, stack.workDir);
            round.recoverExit = await again.exited;
            round.recoverSeconds = Math.round((Date.now() - started) / 100) / 10;
            round.adopted = (again.output().match(/^recover: .*: adopted /gm) ?? []).length;
            round.swept = (again.output().match(/^recover: deleted \S+: made by a create whose plugin died/gm) ?? []).length;
            if (round.recoverExit !== 0) {
                round.recoverExit = `${round.recoverExit}: ${/\d{3} \w+_error|recover: .*could not be settled[^\n]*|failed to load checkpoint[^\n]*/.exec(again.output())?.[0] ?? "see the log"}`;
            }

            const after = await stack.exportState();
            const ids = new Set((after.deployment.resources ?? []).map((r: { id?: string }) => r.id).filter(Boolean));
            const objects = await objectsOf(prefix, sourceInstance);
            const liveIds = new Set(objects.map((o) => o.id));
            const byWhat = new Map<string, number>();
            for (const o of objects) byWhat.set(o.what, (byWhat.get(o.what) ?? 0) + 1);
            const tracked = (after.deployment.resources ?? []).filter(
                (r: { type: string; id?: string }) =>
                    /ServiceId$|ServiceApiKey$|AccessPolicy$|KmsKey$|TrustedProfile$|TrustedProfileClaimRule$|AuthorizationPolicy$/.test(r.type) && r.id,
            ) as Array<{ id: string }>;
            Object.assign(round, {
                objects: objects.length,
                inState: tracked.length,
                duplicates: [...byWhat.values()].reduce((n, c) => n + c - 1, 0),
                orphans: objects.filter((o) => !ids.has(o.id)).length,
                missing: tracked.filter((r) => !liveIds.has(r.id)).length,
            });
            assert.strictEqual(round.missing, 0, "the state names only objects that exist");
            if (round.recoverExit === 0)
                assert.strictEqual(tracked.length, 3 * TRIPLES + 4 + 3, "a recovery that exits 0 has every resource of the program in the state");
            const log = `objects: ${JSON.stringify(objects)}\nrecovery:\n${again.output().slice(-4000)}`;
            assert.strictEqual(round.recoverExit, 0, `the recovery after a ${target} kill exits 0\n${log}`);
            assert.strictEqual(round.duplicates, 0, `no duplicates after a ${target} kill\n${log}`);
            assert.strictEqual(round.orphans, 0, `no orphans after a ${target} kill\n${log}`);
        });
    }
});
