// What a program registers for a KmsKey (setMocks: no engine, no plugin; test/plugin/kmsKey.test.ts
// drives the provider itself).
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import "../support/failFast";
import { outputValue, setupMocks } from "../support/mocks";
import { serializeProvider } from "../plugin/harness";
import { KmsKey, kmsKeyProvider } from "../../provider/kmsKey";
import { secretInput } from "../support/pulumiWire";

const TYPE = "pulumi-nodejs:dynamic/ibmcloud-iam:KmsKey";
const INSTANCE = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const KEY = "service-id-key-0123456789abcdefghijklmnopq";

describe("provider/kmsKey (shape): what a program registers", function () {
    this.timeout(20_000);

    it("sends the arguments with the API key and imported material as secrets, and the one serialized provider", async () => {
        const mocks = await setupMocks({ newResource: (a) => (a.type === TYPE ? { id: "key-1", state: { ...a.inputs, keyId: "key-1" } } : undefined) });
        const material = Buffer.alloc(32, 1).toString("base64");
        const key = new KmsKey("root", { instanceId: INSTANCE, region: "us-south", name: "root", apiKey: pulumi.output(KEY), payload: material, force: true });
        assert.strictEqual(await outputValue(key.keyId), "key-1");
        // Outputs the program did not give as arguments exist too (their values come from the provider).
        for (const o of [key.description, key.keyRing, key.createdBy, key.endpoint, key.type, key.state]) assert.ok(pulumi.Output.isInstance(o));
        assert.strictEqual(await outputValue(key.urn), `urn:pulumi:test::pulumi-ibmcloud-iam::${TYPE}::root`);
        const reg = mocks.byName("root");
        const { __provider, ...inputs } = reg.inputs;
        assert.deepStrictEqual(
            inputs,
            {
                instanceId: INSTANCE,
                region: "us-south",
                name: "root",
                force: true,
                apiKey: secretInput(KEY),
                payload: secretInput(material),
            },
            "secret inputs, and no output placeholders",
        );
        assert.strictEqual(__provider, (await serializeProvider(kmsKeyProvider)).text);
    });

    it("get() adopts an existing key by id with the credential to read it", async () => {
        const seen: pulumi.runtime.MockResourceArgs[] = [];
        await setupMocks({
            newResource: (a) => {
                seen.push(a);
                return { id: a.id ?? "", state: { ...a.inputs, keyId: a.id, name: "adopted" } };
            },
        });
        const key = KmsKey.get("adopted", "key-9", { instanceId: INSTANCE, endpoint: "https://kms.example.com", apiKey: KEY });
        assert.strictEqual(await outputValue(key.name), "adopted");
        assert.strictEqual(seen[0].id, "key-9");
        assert.deepStrictEqual(seen[0].inputs.apiKey, secretInput(KEY));
    });
});
