// KmsAccess constructed by the provider plugin on the @pulumi/pulumi the package resolves, in both legs of
// `npm test` (the plugin runs the SDK's runtime for Construct: its settings, config, serialization and the
// provider server's input deserialization, which are internal to the SDK and may differ between versions). The
// smallest program that constructs the component: its children must be the plugin's own types and its API key
// output a secret that reaches neither the state nor the log in plaintext. The full component stack (key ring,
// key, refresh, bad argument) is test/e2e/pluginYaml.test.ts, newest leg only.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import { createSandbox, EngineSandbox, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";
import { ensureYamlHost, pluginYamlHeader } from "./support/pluginYaml";

// What the plugin loads: it runs from this checkout, so it resolves the SDK this checkout's node_modules holds.
const SDK_VERSION = JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")).version as string;

describe(`provider plugin through the engine: KmsAccess constructed on @pulumi/pulumi ${SDK_VERSION}`, function () {
    this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;

    before(async () => {
        ensureYamlHost();
        sandbox = await createSandbox({ env: { PULUMI_IGNORE_AMBIENT_PLUGINS: "true" } });
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }] });
    });
    after(async () => {
        await sandbox?.cleanup();
        await emu?.stop();
    });

    it("up: the component's children are the plugin's own types, its API key a secret; destroy", async () => {
        const workDir = path.join(sandbox.dir, "work", "plugin-construct-sdk");
        fs.mkdirSync(workDir, { recursive: true });
        fs.writeFileSync(
            path.join(workDir, "Pulumi.yaml"),
            `${pluginYamlHeader("plugin-construct-sdk")}config:
  instanceId:
    type: string
resources:
  access:
    type: ibmcloud-iam:index:KmsAccess
    properties:
      instance:
        instanceId: \${instanceId}
        service: kms
      roles: [Reader]
outputs:
  serviceId: \${access.serviceId}
  apiKey: \${access.apiKey}
`,
        );
        const stack = await sandbox.projectStack("dev", workDir, {
            config: {
                "ibmcloud-iam:apiKey": { value: emu.apiKey, secret: true },
                "ibmcloud-iam:iamEndpoint": { value: emu.url },
                "ibmcloud-iam:kmsEndpoint": { value: emu.url },
                instanceId: { value: emu.instances[0].guid },
            },
        });
        const up = await stack.up();
        // The stack, the component and its four children.
        assert.equal(up.result.summary.resourceChanges?.create, 6, up.output);

        const text = await stack.exportStateText();
        const resources = (JSON.parse(text) as { deployment: { resources: Array<{ type: string; urn: string; parent?: string }> } }).deployment.resources;
        const component = resources.find((r) => r.type === "ibmcloud-iam:index:KmsAccess");
        assert.ok(component, "the component is in the state");
        assert.deepStrictEqual(
            resources
                .filter((r) => r.parent === component.urn)
                .map((r) => r.type)
                .sort(),
            ["ibmcloud-iam:index:AccessPolicy", "ibmcloud-iam:index:KmsAccessReady", "ibmcloud-iam:index:ServiceApiKey", "ibmcloud-iam:index:ServiceId"],
        );

        const outs = await stack.outputs();
        assert.match(String(outs.serviceId.value), /^ServiceId-/);
        assert.ok(outs.apiKey.secret, "the component's API key output is secret");
        const apiKey = String(outs.apiKey.value);
        assert.ok(apiKey.length > 20, "the API key output holds the key");
        for (const secret of [emu.apiKey, apiKey]) {
            assert.ok(!text.includes(secret), "a secret in plaintext in the state");
            assert.ok(!stack.log.includes(secret), "a secret in the engine's output");
        }

        const destroy = await stack.destroy();
        assert.equal(destroy.result.summary.resourceChanges?.delete, 6, destroy.output);
        const left = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { serviceIds: unknown[] };
        assert.equal(left.serviceIds.length, 0);
    });
});
