// What a program registers for ServiceId and ServiceApiKey (setMocks): type tokens, inputs, the
// serialized provider, secret options. The providers themselves run in test/plugin/.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { outputDetails, outputValue, setupMocks } from "../support/mocks";
import { serializeProvider } from "../plugin/harness";
import { ServiceApiKey, serviceApiKeyProvider, ServiceId, serviceIdProvider } from "../../provider";
import { secretInput } from "../support/pulumiWire";

const BYO = "bring-your-own-0123456789abcdefghijklmnop";

describe("serviceId.shape: what ServiceId and ServiceApiKey register", function () {
    this.timeout(30_000);

    it("ServiceId: type token, inputs, the serialized provider, outputs from state", async function () {
        const mocks = await setupMocks({
            newResource: (a) => ({ id: "ServiceId-1", state: { ...a.inputs, serviceId: "ServiceId-1", iamId: "iam-ServiceId-1", entityTag: "1-a" } }),
        });
        const sid = new ServiceId("app", { name: "orders-app", description: "orders", locked: true });
        assert.strictEqual(await outputValue(sid.urn), "urn:pulumi:test::pulumi-ibmcloud-iam::pulumi-nodejs:dynamic/ibmcloud-iam:ServiceId::app");
        assert.deepStrictEqual(
            [await outputValue(sid.iamId), await outputValue(sid.name), await outputValue(sid.locked)],
            ["iam-ServiceId-1", "orders-app", true],
        );
        const reg = mocks.byName("app");
        assert.strictEqual(reg.type, "pulumi-nodejs:dynamic/ibmcloud-iam:ServiceId");
        const { __provider, ...inputs } = reg.inputs;
        assert.deepStrictEqual(inputs, { name: "orders-app", description: "orders", locked: true }, "outputs are not sent as inputs");
        assert.strictEqual(__provider, (await serializeProvider(serviceIdProvider)).text, "the one provider object, serialized as the plugin will receive it");
    });

    it("ServiceId.get adopts by id: a read with only the id", async function () {
        const mocks = await setupMocks({ newResource: (a) => ({ id: a.id, state: { serviceId: a.id, name: "made-by-hand" } }) });
        const sid = ServiceId.get("adopted", "ServiceId-9");
        assert.strictEqual(await outputValue(sid.id), "ServiceId-9");
        assert.strictEqual(await outputValue(sid.name), "made-by-hand");
        const reg = mocks.byName("adopted");
        assert.strictEqual(reg.id, "ServiceId-9");
        assert.deepStrictEqual(Object.keys(reg.inputs), ["__provider"], "nothing but the provider travels with the id");
    });

    it("ServiceApiKey: type token, apikey in additionalSecretOutputs merged with the user's options, the bring-your-own value a secret input", async function () {
        const mocks = await setupMocks();
        let seen: pulumi.CustomResourceOptions | undefined;
        const key = new ServiceApiKey(
            "key",
            { serviceId: "ServiceId-1", name: "orders-key", apikey: BYO, rotationTrigger: 3 },
            {
                additionalSecretOutputs: ["crn"],
                protect: true,
                transformations: [
                    (a) => {
                        seen = a.opts as pulumi.CustomResourceOptions;
                        return undefined;
                    },
                ],
            },
        );
        assert.strictEqual(await outputValue(key.urn), "urn:pulumi:test::pulumi-ibmcloud-iam::pulumi-nodejs:dynamic/ibmcloud-iam:ServiceApiKey::key");
        assert.deepStrictEqual([...(seen?.additionalSecretOutputs ?? [])].sort(), ["apikey", "crn"], "the user's list is kept and apikey added");
        assert.strictEqual(seen?.protect, true, "other options pass through");

        const reg = mocks.byName("key");
        assert.strictEqual(reg.type, "pulumi-nodejs:dynamic/ibmcloud-iam:ServiceApiKey");
        assert.deepStrictEqual(reg.inputs.apikey, secretInput(BYO), "a plain string given as apikey is sent secret");
        const { __provider, apikey: _secret, ...rest } = reg.inputs;
        assert.deepStrictEqual(rest, { serviceId: "ServiceId-1", name: "orders-key", rotationTrigger: 3 });
        const serialized = await serializeProvider(serviceApiKeyProvider);
        assert.strictEqual(__provider, serialized.text);
        assert.strictEqual(serialized.containsSecrets, false, "the provider captures no secret");
        assert.ok(!String(__provider).includes(BYO), "nor the value");
        assert.deepStrictEqual(await outputDetails(key.apikey), { value: BYO, isKnown: true, isSecret: true });
    });

    it("ServiceApiKey without a value, and ServiceApiKey.get: apikey still listed secret", async function () {
        const mocks = await setupMocks({ newResource: (a) => ({ id: a.id || `${a.name}-id`, state: a.inputs }) });
        const seen: string[][] = [];
        const record = [
            (a: pulumi.ResourceTransformationArgs) => {
                seen.push([...((a.opts as pulumi.CustomResourceOptions).additionalSecretOutputs ?? [])]);
                return undefined;
            },
        ];
        const generated = new ServiceApiKey("generated", { serviceId: "ServiceId-1", name: "k" }, { transformations: record });
        const adopted = ServiceApiKey.get("adopted", "ApiKey-7", { transformations: record });
        await outputValue(generated.urn);
        assert.strictEqual(await outputValue(adopted.id), "ApiKey-7");
        assert.deepStrictEqual(seen, [["apikey"], ["apikey"]]);
        assert.ok(!("apikey" in mocks.byName("generated").inputs), "no value input when IBM generates it");
        assert.deepStrictEqual(Object.keys(mocks.byName("adopted").inputs), ["__provider"]);
    });
});
