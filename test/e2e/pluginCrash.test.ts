// Our own provider plugin (plugin/bin/pulumi-resource-ibmcloud-iam) killed -9 through the real engine, from a YAML
// program, exactly between IBM's answer to a policy create and the engine's hearing of it (the provider's test-only
// fault point): the engine records nothing of the policy, the provider's journal does, and the documented recovery
// (`npx pulumi-ibmcloud-iam recover`) deletes it with the credentials of the plugin's own config
// (`ibmcloud-iam:apiKey`) and creates it once. 0 duplicates, 0 orphans, exit 0.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import { identityObjects, recoverCommand, sandboxProcesses, upHeldAfterAnswer, waitFor } from "./support/crash";
import { createSandbox, EngineSandbox, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";
import { ensureYamlHost, pluginYamlHeader } from "./support/pluginYaml";

function program(prefix: string): string {
    return `${pluginYamlHeader("plugin-crash")}config:
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

describe("provider plugin through the engine: killed between IBM's answer to a policy create and the engine's, then recover", function () {
    this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;

    before(async () => {
        ensureYamlHost();
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        emu = await startEmulator({ port: 0 });
    });
    after(async () => {
        await sandbox?.cleanup();
        await emu?.stop();
    });

    /** The service ID named `prefix`, its keys and its active policies. */
    const objectsOf = (prefix: string) => identityObjects(emu.url, (name) => name === prefix);

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
        const { op, pid } = await upHeldAfterAnswer(sandbox, stack, "AccessPolicy");
        {
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

            const recovery = recoverCommand(sandbox, "dev", workDir);
            const status = await recovery.exited;
            const output = recovery.output();
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
        }
    });
});
