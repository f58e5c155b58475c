// The client layer is reached by dynamic providers, so Pulumi closure-serializes it by value and runs
// the text inside the plugin. This guard serializes a provider-shaped closure that uses every client
// module, loads the text the way the plugin does (compiled as a module at the project root), and makes
// real calls with it. A module-scope Agent or zod schema, or a copied undici, fails here.
import * as assert from "assert";
import * as path from "path";
import Module = require("module");
import * as pulumi from "@pulumi/pulumi";
import { startEmulator, RunningEmulator } from "../../emulator";
import * as client from "../../client";

describe("serialization: the client layer survives Pulumi's closure serializer", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    before(async () => {
        emu = await startEmulator({ port: 0 });
    });
    after(async () => emu.stop());

    it("serializes, loads from text and talks to IAM and KMS", async () => {
        const provider = {
            async create(inputs: { apiKey: string; endpoint: string; instanceId: string }) {
                const settings = client.resolveCloudSettings({ apiKey: inputs.apiKey, iamEndpoint: inputs.endpoint, kmsEndpoint: inputs.endpoint }, {});
                const iam = client.IamClient.fromSettings(settings, { retry: { maxRetries: 1 } });
                const kms = new client.KmsClient({
                    endpoint: client.kmsEndpointFromSettings(settings, { service: "hs-crypto", instanceId: inputs.instanceId }),
                    instanceId: inputs.instanceId,
                    tokenSource: () => iam.tokens.getToken(),
                    httpClient: iam.http,
                });
                try {
                    const account = await iam.accountId();
                    const sid = await iam.createServiceId({ name: "serialized" });
                    let kmsStatus = "ok";
                    try {
                        await kms.listKeys();
                    } catch (e) {
                        kmsStatus = e instanceof client.IbmCloudError ? `IbmCloudError ${e.status}` : `other ${String(e)}`;
                    }
                    return { id: sid.id, outs: { account, kmsStatus } };
                } finally {
                    await iam.http.close();
                }
            },
        };
        const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
        assert.ok(/require\("undici[^"]*"\)/.test(serialized.text), "undici is required by name, not copied");

        const root = path.resolve(__dirname, "../../..");
        const filename = path.join(root, "__serialized_provider.js");
        const m = new Module(filename) as Module & { _compile(code: string, file: string): void; paths: string[] };
        m.filename = filename;
        m.paths = (Module as unknown as { _nodeModulePaths(p: string): string[] })._nodeModulePaths(root);
        m._compile(serialized.text, filename);
        const loaded = (m.exports as { handler: () => typeof provider }).handler();
        const result = await loaded.create({ apiKey: emu.apiKey, endpoint: emu.url, instanceId: emu.instances[0].guid });
        assert.strictEqual(result.outs.account, emu.accountId);
        assert.match(result.id, /^ServiceId-/);
        // The KMS call must at least produce our own error type (the keys API may still be landing).
        assert.match(result.outs.kmsStatus, /^(ok|IbmCloudError \d+)$/);
    });
});
