// What a program registers for an AccessPolicy (setMocks: no engine, no plugin; check and the provider
// methods never run here — test/plugin/accessPolicy.test.ts drives those).
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import "../support/failFast";
import { outputDetails, outputValue, setupMocks } from "../support/mocks";
import { serializeProvider } from "../plugin/harness";
import { AccessPolicy, accessPolicyProvider } from "../../provider/accessPolicy";

const TYPE = "pulumi-nodejs:dynamic/ibmcloud-iam:AccessPolicy";
const SID = "ServiceId-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";

describe("accessPolicy (shape): what a program registers", function () {
    this.timeout(20_000);

    it("registers the type token with the arguments as given and the serialized provider, and no output placeholders", async function () {
        const mocks = await setupMocks({
            newResource: (a) =>
                a.type === TYPE
                    ? { id: "policy-1", state: { ...a.inputs, policyId: "policy-1", roleCrns: ["crn:v1:bluemix:public:iam::::serviceRole:Writer"] } }
                    : undefined,
        });
        const policy = new AccessPolicy("app-hpcs", {
            serviceId: pulumi.output(SID),
            roles: ["Writer"],
            resource: { serviceName: "hs-crypto", serviceInstance: pulumi.output("inst-guid"), tags: { env: "prod" } },
            description: "app keys",
        });
        assert.equal(await outputValue(policy.urn), `urn:pulumi:test::pulumi-ibmcloud-iam::${TYPE}::app-hpcs`);
        assert.equal(await outputValue(policy.policyId), "policy-1");
        assert.deepEqual(await outputValue(policy.roleCrns), ["crn:v1:bluemix:public:iam::::serviceRole:Writer"]);

        const reg = mocks.byName("app-hpcs");
        assert.equal(reg.type, TYPE);
        assert.equal(reg.custom, true);
        const { __provider, ...inputs } = reg.inputs;
        assert.deepEqual(
            inputs,
            {
                serviceId: SID,
                roles: ["Writer"],
                resource: { serviceName: "hs-crypto", serviceInstance: "inst-guid", tags: { env: "prod" } },
                description: "app keys",
            },
            "outputs declared on the class are not sent as inputs, nor is an accountId",
        );
        assert.equal(typeof __provider, "string");
        assert.equal(
            reg.providerText,
            (await serializeProvider(accessPolicyProvider)).text,
            "the one module-scope provider, serialized as the plugin will get it",
        );
    });

    it("during preview, the policy's computed outputs are unknown", async function () {
        await setupMocks({ preview: true, newResource: (a) => ({ id: undefined as unknown as string, state: { roles: a.inputs.roles } }) });
        const policy = new AccessPolicy("preview", { serviceId: SID, roles: ["Reader"], resource: { serviceName: "kms" } });
        assert.deepEqual(await outputDetails(policy.policyId), { value: undefined, isKnown: false, isSecret: false });
        assert.deepEqual(await outputDetails(policy.etag), { value: undefined, isKnown: false, isSecret: false });
    });

    it("get() reads an existing policy by id instead of creating one", async function () {
        const seen: pulumi.runtime.MockResourceArgs[] = [];
        await setupMocks({
            newResource: (a) => {
                seen.push(a);
                return { id: a.id ?? "", state: { policyId: a.id, roles: ["Viewer"], state: "active" } };
            },
        });
        const existing = AccessPolicy.get("existing", "3c1f0e0a-policy");
        // every output, arguments included, takes its value from what the read returned
        assert.equal(await outputValue(existing.id), "3c1f0e0a-policy");
        assert.deepEqual(await outputValue(existing.roles), ["Viewer"]);
        assert.equal(seen.length, 1);
        assert.equal(seen[0].type, TYPE);
        assert.equal(seen[0].id, "3c1f0e0a-policy", "registered as a read of that id (the engine calls the provider's read)");
        assert.equal(typeof seen[0].inputs.__provider, "string");
    });
});
