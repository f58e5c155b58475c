// Our own provider plugin (plugin/bin/pulumi-resource-ibmcloud-iam) killed -9 through the real engine, from a YAML
// program, exactly between IBM's answer to a policy create and the engine's hearing of it (the provider's test-only
// fault point): the engine records nothing of the policy, the provider's journal does, and the documented recovery
// (`npx pulumi-ibmcloud-iam recover`) deletes it with the credentials of the plugin's own config
// (`ibmcloud-iam:apiKey`) and creates it once. 0 duplicates, 0 orphans, exit 0.
import { strict as assert } from "assert";
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import { sandboxProcesses, startOp, waitFor } from "./support/crash";
import { createSandbox, EngineSandbox, ENSURE_PULUMI_TIMEOUT_MS, REPO_ROOT } from "./support/engine";

const PLUGIN_DIR = path.join(REPO_ROOT, "plugin", "bin");

function program(prefix: string): string {
    return `name: plugin-crash
runtime: yaml
plugins:
  providers:
    - name: ibmcloud-iam
      path: ${PLUGIN_DIR}
config:
  instanceId:
    type: string
resources:
  app:
    type: ibmcloud-iam:index:ServiceId
    properties:
      name: ${prefix}
  appKey:
    type: ibmcloud-iam:index:ServiceApiKey
    properties:
      serviceId: \${app.id}
      name: ${prefix}-key
  appPolicy:
    type: ibmcloud-iam:index:AccessPolicy
    properties:
      serviceId: \${app.id}
      roles: [Reader]
      resource:
        serviceName: hs-crypto
        serviceInstance: \${instanceId}
`;
}

interface AdminState {
    serviceIds: Array<{ id: string; iam_id: string; name: string }>;
    apiKeys: Array<{ id: string; iam_id: string; name: string }>;
    policies: Array<{ id: string; state: string; subjects: Array<{ attributes: Array<{ name: string; value: string }> }> }>;
}

describe("provider plugin through the engine: killed between IBM's answer to a policy create and the engine's, then recover", function () {
    this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;

    before(async () => {
        childProcess.execFileSync("bash", [path.join(REPO_ROOT, "scripts", "ensure-pulumi-yaml.sh")], {
            stdio: ["ignore", "pipe", "pipe"],
            timeout: ENSURE_PULUMI_TIMEOUT_MS,
        });
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        emu = await startEmulator({ port: 0 });
    });
    after(async () => {
        await sandbox?.cleanup();
        await emu?.stop();
    });

    /** The service ID named `prefix`, its keys and its active policies. */
    async function objectsOf(prefix: string): Promise<Array<{ id: string; what: string }>> {
        const s = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as AdminState;
        const sids = s.serviceIds.filter((x) => x.name === prefix);
        const iamIds = new Set(sids.map((x) => x.iam_id));
        const subject = (p: AdminState["policies"][number]) => p.subjects[0]?.attributes.find((a) => a.name === "iam_id")?.value ?? "";
        return [
            ...sids.map((x) => ({ id: x.id, what: `sid:${x.name}` })),
            ...s.apiKeys.filter((k) => iamIds.has(k.iam_id)).map((k) => ({ id: k.id, what: `key:${k.name}` })),
            ...s.policies.filter((p) => p.state === "active" && iamIds.has(subject(p))).map((p) => ({ id: p.id, what: `policy:${subject(p)}` })),
        ];
    }

    it("recover deletes the policy the engine never heard of, and its up creates it once", async () => {
        const prefix = `plugkill-${Date.now().toString(36)}`;
        const workDir = path.join(sandbox.dir, "work", "plugin-crash");
        fs.mkdirSync(workDir, { recursive: true });
        fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), program(prefix));
        const stack = await sandbox.projectStack("dev", workDir, {
            config: {
                "ibmcloud-iam:apiKey": { value: emu.apiKey, secret: true },
                "ibmcloud-iam:iamEndpoint": { value: emu.url },
                "ibmcloud-iam:kmsEndpoint": { value: emu.url },
                instanceId: { value: emu.instances[0].guid },
            },
        });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plugin-held-"));
        const marker = path.join(dir, "answered");
        process.env.PULUMI_IBMCLOUD_IAM_TEST_HOLD_ANSWER = `AccessPolicy:${marker}`;
        let op: ReturnType<typeof startOp>;
        try {
            op = startOp(sandbox, stack, "up");
        } finally {
            delete process.env.PULUMI_IBMCLOUD_IAM_TEST_HOLD_ANSWER; // the recovery's own `up` must not hold
        }
        try {
            assert.ok(
                await waitFor(() => fs.existsSync(marker) && fs.readFileSync(marker, "utf8") !== "", 180_000),
                `no policy create was answered:\n${op.output()}`,
            );
            const pid = Number(fs.readFileSync(marker, "utf8"));
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
            assert.match(cmd, /plugin[\\/]main\.js/, `the create that was answered runs in our plugin (pid ${pid}: ${cmd})`);
            const made = (await objectsOf(prefix)).filter((o) => o.what.startsWith("policy:"));
            assert.strictEqual(made.length, 1, `IBM made the policy before the kill: ${JSON.stringify(made)}`);
            process.kill(pid, "SIGKILL");
            assert.notStrictEqual(await op.exited, 0, "the up fails once its plugin is gone");
            assert.ok(await waitFor(() => sandboxProcesses(sandbox).length === 0, 60_000, 200), "nothing outlives the kill");
            const state = await stack.exportState();
            assert.ok(!(state.deployment.resources ?? []).some((r: { id?: string }) => r.id === made[0].id), "the engine never heard of it");
            assert.strictEqual((state.deployment.pending_operations ?? []).length, 0, "and journaled nothing for it");

            const cli = path.join(__dirname, "..", "..", "provider", "recovery", "cli.js");
            // spawned, not spawnSync: the emulator answering it runs in this process
            const child = childProcess.spawn(process.execPath, [cli, "recover", "--stack", "dev"], {
                cwd: workDir,
                env: { ...process.env, ...sandbox.env },
                stdio: ["ignore", "pipe", "pipe"],
            });
            let output = "";
            child.stdout.on("data", (d: Buffer) => (output += d.toString()));
            child.stderr.on("data", (d: Buffer) => (output += d.toString()));
            const status = await new Promise<number | string>((resolve) => child.on("close", (code, signal) => resolve(code ?? signal ?? "?")));
            const objects = await objectsOf(prefix);
            const ids = new Set(((await stack.exportState()).deployment.resources ?? []).map((r: { id?: string }) => r.id).filter(Boolean));
            const log = `objects: ${JSON.stringify(objects)}\nrecovery:\n${output.slice(-4000)}`;
            assert.strictEqual(status, 0, `recover exits 0\n${log}`);
            assert.match(output, new RegExp(`deleted ${made[0].id}: made by a create whose plugin died`), log);
            assert.deepStrictEqual(
                objects.filter((o) => !ids.has(o.id)),
                [],
                `no orphans\n${log}`,
            );
            assert.strictEqual(new Set(objects.map((o) => o.what)).size, objects.length, `no duplicates\n${log}`);
            assert.strictEqual(objects.length, 3, `the service ID, its key and its policy, once each\n${log}`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
