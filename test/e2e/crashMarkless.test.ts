// Creates that carry no recovery mark, killed mid-flight through the real engine: a trusted profile, then its claim
// rule, link and trusted identity, an authorization policy and a KMS key ring, each create's answer held by the
// emulator (the object exists at once, its answer comes late) until the test kills -9 the CLI with every one of them
// pending. Then the documented recovery (`npx pulumi-ibmcloud-iam recover`, the adoption and the `up`), and a count in
// the emulator: exactly one object per resource, each the one the state names (no duplicate, no orphan), exit 0.
// Without the adoption the `up` after the kill creates the profile's rule and authorization twice, and stops on the
// profile's name, the link, the trust and the ring, which IBM keeps once.
import * as assert from "assert";
import * as childProcess from "child_process";
import * as path from "path";
import { RunningEmulator, startEmulator } from "../../emulator";
import { IamClient, IamTokenManager, KmsClient, TrustedProfileClient } from "../../client";
import { sandboxProcesses, startOp, waitFor } from "./support/crash";
import { createSandbox, EngineSandbox, EngineStack, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";

/** Long enough for every create of the step to reach the emulator before the kill. */
const HOLD_MS = 60_000;
const EXIT_BOUND_MS = 60_000;

interface StateResource {
    type: string;
    id?: string;
    custom?: boolean;
}

describe("e2e: recover after kill -9 of the CLI with creates of markless types pending (profile, rule, link, trust, authorization, key ring)", function () {
    this.timeout(10 * 60_000);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let owner: IamClient;
    let kms: KmsClient;
    let stack: EngineStack;
    let trustedServiceId: string;
    const prefix = `mk${Date.now().toString(36)}`;
    const sourceInstance = "5a0c1a3e-7c1d-4a51-9b21-0d9a8f7e6c5b";
    const vsiCrn = () => `crn:v1:bluemix:public:is:us-south-1:a/${emu.accountId}::instance:0717-${prefix}`;

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0 });
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        kms = new KmsClient({ endpoint: emu.url, instanceId: emu.instances[0].guid, tokenSource: () => owner.tokens.getToken(), httpClient: owner.http });
        trustedServiceId = (await owner.createServiceId({ name: `${prefix}-deployer` })).id;
        stack = await sandbox.programStack(
            "markless",
            { module: "crashMarkless", export: "crashMarkless" },
            {
                projectName: "crash-markless",
                params: {
                    stage: "profile",
                    prefix,
                    instanceId: emu.instances[0].guid,
                    service: emu.instances[0].service,
                    trustedServiceId,
                    vsiCrn: vsiCrn(),
                    sourceInstance,
                },
                config: {
                    "ibmcloud:apiKey": { value: emu.apiKey, secret: true },
                    "ibmcloud:iamEndpoint": { value: emu.url },
                    "ibmcloud:kmsEndpoint": { value: emu.url },
                },
            },
        );
    });
    after(async function () {
        this.timeout(2 * 60_000);
        await sandbox?.cleanup();
        await emu?.stop();
    });

    /** The objects of the program in the emulator, each with the id its resource has in the state. */
    async function objects(): Promise<Array<{ id: string; what: string }>> {
        const profiles = new TrustedProfileClient(owner);
        const out: Array<{ id: string; what: string }> = [];
        for (const p of (await profiles.listProfiles()).filter((x) => x.name.startsWith(prefix))) {
            out.push({ id: p.id, what: "profile" });
            for (const r of await profiles.listClaimRules(p.id)) out.push({ id: `${p.id}/${r.id}`, what: "rule" });
            for (const l of await profiles.listLinks(p.id)) out.push({ id: `${p.id}/${l.id}`, what: "link" });
            for (const i of (await profiles.listIdentities(p.id)).identities) out.push({ id: `${p.id}|${i.type}|${i.identifier}`, what: "identity" });
        }
        const admin = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as {
            policies: Array<{ id: string; state: string; type?: string; subjects?: Array<{ attributes: Array<{ name: string; value: string }> }> }>;
        };
        for (const p of admin.policies) {
            const source = p.subjects?.[0]?.attributes.find((a) => a.name === "serviceInstance")?.value;
            if (p.type === "authorization" && p.state === "active" && source === sourceInstance) out.push({ id: p.id, what: "authorization" });
        }
        for (const r of (await kms.listKeyRings()).filter((x) => x.id.startsWith(prefix))) out.push({ id: r.id, what: "ring" });
        return out;
    }

    function recoverCommand() {
        const cli = path.join(__dirname, "..", "..", "provider", "recovery", "cli.js");
        const child = childProcess.spawn(process.execPath, [cli, "recover", "--stack", stack.name], {
            cwd: stack.workDir,
            env: { ...process.env, ...sandbox.env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
        const exited = new Promise<number | string>((resolve) => child.on("close", (code, signal) => resolve(code ?? signal ?? "?")));
        return { output: () => out, exited };
    }

    /** Starts an `up` with the given creates held, kills -9 the CLI once `expected` objects exist, and recovers. */
    async function killAndRecover(held: Array<{ method: "POST"; path: string }>, expected: Record<string, number>) {
        emu.addFaults(held.map((h) => ({ kind: "slow" as const, ...h, delayMs: HOLD_MS })));
        const op = startOp(sandbox, stack, "up");
        const count = async () => {
            const by = new Map<string, number>();
            for (const o of await objects()) by.set(o.what, (by.get(o.what) ?? 0) + 1);
            return Object.entries(expected).every(([what, n]) => (by.get(what) ?? 0) >= n);
        };
        assert.ok(await waitFor(count, 3 * 60_000, 250), `the creates never all reached the emulator:\n${op.output()}`);
        op.child.kill("SIGKILL");
        await op.exited;
        assert.ok(await waitFor(() => sandboxProcesses(sandbox).length === 0, EXIT_BOUND_MS, 200), "nothing of the deployment outlives the kill");
        emu.clearFaults();

        const pending = ((await stack.exportState()).deployment.pending_operations ?? []) as Array<{ type: string; resource: { type: string } }>;
        const started = Date.now();
        const again = recoverCommand();
        const exit = await again.exited;
        const seconds = (Date.now() - started) / 1000;
        const adopted = (again.output().match(/^recover: .*: adopted /gm) ?? []).length;
        console.log(`      pending creates at the kill: ${pending.length}; recover exit ${exit} in ${seconds.toFixed(1)} s; adopted ${adopted}`);
        return { pending, exit, output: again.output(), adopted };
    }

    async function assertExactlyTheState(what: string, log: string) {
        const state = (await stack.exportState()).deployment;
        const ids = new Set(((state.resources ?? []) as StateResource[]).filter((r) => r.custom !== false && r.id).map((r) => String(r.id)));
        const live = await objects();
        const byWhat = new Map<string, number>();
        for (const o of live) byWhat.set(o.what, (byWhat.get(o.what) ?? 0) + 1);
        const duplicates = [...byWhat.values()].reduce((n, c) => n + c - 1, 0);
        const orphans = live.filter((o) => !ids.has(o.id));
        console.log(`      ${what}: objects ${live.length}, duplicates ${duplicates}, orphans ${orphans.length}`);
        assert.strictEqual(duplicates, 0, `no duplicates: ${JSON.stringify(live)}\n${log}`);
        assert.deepStrictEqual(orphans, [], `no orphans\n${log}`);
        assert.strictEqual((state.pending_operations ?? []).length, 0, "no pending operation left");
    }

    it("a trusted profile whose create was in flight: recover adopts it, exit 0, one profile, the one in the state", async function () {
        const r = await killAndRecover([{ method: "POST", path: "/v1/profiles" }], { profile: 1 });
        assert.deepStrictEqual(
            r.pending.map((p) => `${p.type} ${p.resource.type.split(":").pop()}`),
            ["creating TrustedProfile"],
        );
        assert.strictEqual(r.exit, 0, r.output);
        assert.match(r.output, /creating TrustedProfile profile: adopted Profile-/);
        await assertExactlyTheState("after the profile's recovery", r.output);
    });

    it("its rule, link, trust, an authorization and a key ring, all in flight: recover adopts each, exit 0, no duplicate, no orphan", async function () {
        await stack.setParams({ stage: "all" });
        const r = await killAndRecover(
            [
                { method: "POST", path: "/v1/profiles/*/rules" },
                { method: "POST", path: "/v1/profiles/*/links" },
                { method: "POST", path: "/v1/profiles/*/identities/*" },
                { method: "POST", path: "/v1/policies" },
                { method: "POST", path: "/api/v2/key_rings/*" },
            ],
            { rule: 1, link: 1, identity: 1, authorization: 1, ring: 1 },
        );
        assert.deepStrictEqual(
            r.pending.map((p) => p.resource.type.split(":").pop()).sort(),
            ["AuthorizationPolicy", "KmsKeyRing", "TrustedProfileClaimRule", "TrustedProfileIdentity", "TrustedProfileLink"],
            "the kill left every create of the step pending",
        );
        assert.strictEqual(r.exit, 0, r.output);
        assert.strictEqual(r.adopted, 5, r.output);
        await assertExactlyTheState("after the recovery", r.output);
        const live = await objects();
        assert.deepStrictEqual(live.map((o) => o.what).sort(), ["authorization", "identity", "link", "profile", "ring", "rule"]);
    });
});
