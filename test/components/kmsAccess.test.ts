// KmsAccess under setMocks: what a program registers (children, parents, inputs), what it exposes
// (outputs, secrecy), and — with mocks that answer with a real service ID and key from the emulator —
// that its token methods mint working tokens for that service ID.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import "../support/failFast";
import { outputDetails, outputValue, RecordingMocks, setupMocks } from "../support/mocks";
import { KmsAccess } from "../../components";
import { startEmulator, RunningEmulator } from "../../emulator";
import { decodeJwtPayload, IamClient, IamTokenManager } from "../../client";
import { secretInput } from "../support/pulumiWire";
import { kmsInstanceGrant } from "../support/grants";

const T = (type: string) => `pulumi-nodejs:dynamic/ibmcloud-iam:${type}`;
const COMPONENT = "ibmcloud-iam:index:KmsAccess";
const INSTANCE = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const SID = "ServiceId-11111111-2222-3333-4444-555555555555";
const FAKE_KEY = "fake-apikey-value-0123456789abcdefghijklmnop";

interface Answers {
    serviceId: string;
    iamId: string;
    apikey: string;
    apiKeyId: string;
    policyId: string;
}

/** Mocks answering each child type with the outputs its provider would compute. */
function answering(a: Answers): (args: pulumi.runtime.MockResourceArgs) => { id: string; state: Record<string, unknown> } | undefined {
    return (args) => {
        switch (args.type) {
            case T("ServiceId"):
                return { id: a.serviceId, state: { ...args.inputs, serviceId: a.serviceId, iamId: a.iamId } };
            case T("ServiceApiKey"):
                return { id: a.apiKeyId, state: { ...args.inputs, apiKeyId: a.apiKeyId, apikey: a.apikey, iamId: a.iamId } };
            case T("AccessPolicy"):
                return { id: a.policyId, state: { ...args.inputs, policyId: a.policyId, etag: "1-abc" } };
            case T("KmsAccessReady"):
                return { id: "gate-1", state: { ...args.inputs, iamId: a.iamId, readyAt: "2026-01-01T00:00:00.000Z", waitedMs: 5 } };
            case T("KmsKey"):
                return { id: "key-1", state: { ...args.inputs, keyId: "key-1", createdBy: a.iamId } };
            default:
                return undefined;
        }
    };
}

const FAKE: Answers = { serviceId: SID, iamId: `iam-${SID}`, apikey: FAKE_KEY, apiKeyId: "ApiKey-1", policyId: "policy-1" };

describe("components/kmsAccess: the KmsAccess component", function () {
    this.timeout(30_000);

    describe("shape", function () {
        let mocks: RecordingMocks;
        beforeEach(async () => {
            pulumi.runtime.setAllConfig({});
            mocks = await setupMocks({ newResource: answering(FAKE) });
        });

        it("creates a service ID, an API key, a policy and the access gate as its children", async () => {
            const access = new KmsAccess("app", { instance: { instanceId: INSTANCE, region: "eu-de" } });
            await outputValue(access.kmsEndpoint);
            await outputValue(access.apiKey);

            const componentUrn = await outputValue(access.urn);
            assert.strictEqual(componentUrn, `urn:pulumi:test::pulumi-ibmcloud-iam::${COMPONENT}::app`);
            const children: Array<[pulumi.Resource, string, string]> = [
                [access.serviceIdResource, "ServiceId", "app-serviceid"],
                [access.apiKeyResource, "ServiceApiKey", "app-apikey"],
                [access.policy, "AccessPolicy", "app-policy"],
                [access.accessReady!, "KmsAccessReady", "app-ready"],
            ];
            for (const [res, type, name] of children) {
                assert.strictEqual(
                    await outputValue(res.urn),
                    `urn:pulumi:test::pulumi-ibmcloud-iam::${COMPONENT}$${T(type)}::${name}`,
                    `${name} is a child of the component`,
                );
                assert.strictEqual(mocks.byName(name).type, T(type));
            }
            assert.deepStrictEqual(mocks.resources.map((r) => r.name).sort(), ["app", "app-apikey", "app-policy", "app-ready", "app-serviceid"]);
        });

        it("grants Reader (least privilege) on exactly this instance by default, to the service ID named after the component", async () => {
            const access = new KmsAccess("billing", { instance: { instanceId: INSTANCE } });
            await outputValue(access.policyId);
            const policy = mocks.byName("billing-policy").inputs;
            assert.deepStrictEqual(policy.roles, ["Reader"]);
            assert.deepStrictEqual(policy.resource, { serviceName: "hs-crypto", serviceInstance: INSTANCE });
            assert.strictEqual(policy.serviceId, SID);
            assert.strictEqual(mocks.byName("billing-serviceid").inputs.name, "billing");
            assert.strictEqual(mocks.byName("billing-apikey").inputs.serviceId, SID);
        });

        it("passes roles, names and API key options through; Key Protect endpoint derived from the region", async () => {
            const access = new KmsAccess("kp", {
                instance: { instanceId: INSTANCE, service: "kms", region: "eu-de" },
                roles: ["Writer", "ReaderPlus"],
                serviceIdName: "kp-app",
                description: "kp app",
                rotationTrigger: 2,
                expiresAt: "2099-01-01T00:00+0000",
                storeValue: true,
                outputFile: "kp-key.json",
                waitForAccess: { timeoutSeconds: 15 },
            });
            assert.strictEqual(await outputValue(access.kmsEndpoint), "https://eu-de.kms.cloud.ibm.com");
            await outputValue(access.apiKey);
            assert.deepStrictEqual(mocks.byName("kp-policy").inputs.roles, ["Writer", "ReaderPlus"]);
            assert.deepStrictEqual(mocks.byName("kp-policy").inputs.resource, { serviceName: "kms", serviceInstance: INSTANCE });
            assert.deepStrictEqual(mocks.byName("kp-serviceid").inputs.name, "kp-app");
            const key = mocks.byName("kp-apikey").inputs;
            assert.deepStrictEqual(
                [key.name, key.rotationTrigger, key.expiresAt, key.storeValue, key.outputFile, key.description],
                ["kp-app-apikey", 2, "2099-01-01T00:00+0000", true, "kp-key.json", "kp app"],
            );
            const gate = mocks.byName("kp-ready").inputs;
            assert.deepStrictEqual(
                [gate.instanceId, gate.service, gate.endpoint, gate.policyId, gate.timeoutSeconds, gate.apiKey],
                [INSTANCE, "kms", "https://eu-de.kms.cloud.ibm.com", "policy-1", 15, secretInput(FAKE_KEY)],
            );
        });

        it("exposes its outputs; the API key is secret, the ids are not", async () => {
            const access = new KmsAccess("out", { instance: { instanceId: INSTANCE, region: "us-south" } });
            assert.deepStrictEqual(await outputDetails(access.apiKey), { value: FAKE_KEY, isKnown: true, isSecret: true });
            for (const [o, v] of [
                [access.serviceId, SID],
                [access.iamId, `iam-${SID}`],
                [access.apiKeyId, "ApiKey-1"],
                [access.policyId, "policy-1"],
                [access.instanceId, INSTANCE],
                [access.kmsEndpoint, `https://${INSTANCE}.api.us-south.hs-crypto.appdomain.cloud`],
            ] as const) {
                assert.deepStrictEqual(await outputDetails(o), { value: v, isKnown: true, isSecret: false });
            }
        });

        it("uses a given endpoint (or the stack's ibmcloud:kmsEndpoint) for the instance", async () => {
            const given = new KmsAccess("given", { instance: { instanceId: INSTANCE, endpoint: "https://kms.internal.example.com/" } });
            assert.strictEqual(await outputValue(given.kmsEndpoint), "https://kms.internal.example.com");
            pulumi.runtime.setAllConfig({ "ibmcloud:kmsEndpoint": "https://override.example.com" });
            const configured = new KmsAccess("configured", { instance: { instanceId: INSTANCE } });
            assert.strictEqual(await outputValue(configured.kmsEndpoint), "https://override.example.com");
        });

        it("waitForAccess 0 creates no gate; a bad timeout fails at construction", async () => {
            const access = new KmsAccess("nowait", { instance: { instanceId: INSTANCE }, waitForAccess: { timeoutSeconds: 0 } });
            assert.strictEqual(access.accessReady, undefined);
            assert.deepStrictEqual(await outputDetails(access.apiKey), { value: FAKE_KEY, isKnown: true, isSecret: true });
            assert.strictEqual(mocks.ofType(T("KmsAccessReady")).length, 0);
            assert.throws(
                () => new KmsAccess("bad", { instance: { instanceId: INSTANCE }, waitForAccess: { timeoutSeconds: -1 } }),
                /timeoutSeconds must be .* ≥ 0/,
            );
        });

        it("createKey makes a KmsKey under the component that authenticates as the service ID and uses the instance's endpoint", async () => {
            const access = new KmsAccess("keys", { instance: { instanceId: INSTANCE, region: "us-south" }, roles: ["Manager"] });
            const key = access.createKey("keys-root", { name: "keys-root", description: "root" });
            assert.strictEqual(await outputValue(key.createdBy), `iam-${SID}`);
            assert.strictEqual(await outputValue(key.urn), `urn:pulumi:test::pulumi-ibmcloud-iam::${COMPONENT}$${T("KmsKey")}::keys-root`);
            const { __provider: _p, ...inputs } = mocks.byName("keys-root").inputs;
            assert.deepStrictEqual(
                inputs,
                {
                    name: "keys-root",
                    description: "root",
                    instanceId: INSTANCE,
                    service: "hs-crypto",
                    endpoint: `https://${INSTANCE}.api.us-south.hs-crypto.appdomain.cloud`,
                    apiKey: secretInput(FAKE_KEY),
                },
                "the service ID's key is sent as a secret input",
            );
            assert.strictEqual((await outputDetails(key.apiKey)).isSecret, true);
        });
    });

    describe("tokens, against the emulator", function () {
        let emu: RunningEmulator;
        let app: Answers;
        const closers: Array<() => Promise<void>> = [];

        before(async () => {
            emu = await startEmulator({ port: 0 });
            const tm = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
            closers.push(() => tm.http.close());
            const owner = new IamClient({ tokenManager: tm });
            const sid = await owner.createServiceId({ name: "component-app" });
            const key = await owner.createApiKey({ name: "component-app-key", iam_id: sid.iam_id });
            const { policy } = await owner.createPolicy(
                kmsInstanceGrant({
                    accountId: emu.accountId,
                    iamId: sid.iam_id,
                    roleCrn: "crn:v1:bluemix:public:iam::::serviceRole:Reader",
                    service: "hs-crypto",
                    instance: emu.instances[0].guid,
                    operators: true,
                }),
            );
            app = { serviceId: sid.id, iamId: sid.iam_id, apikey: key.apikey!, apiKeyId: key.id, policyId: policy.id };
        });
        after(async () => {
            pulumi.runtime.setAllConfig({});
            await Promise.all(closers.map((c) => c()));
            await emu?.stop();
        });
        beforeEach(async () => {
            // The stack's ibmcloud:* config points the program at the emulator.
            pulumi.runtime.setAllConfig({ "ibmcloud:iamEndpoint": emu.url, "ibmcloud:kmsEndpoint": emu.url });
            await setupMocks({ newResource: answering(app) });
        });
        async function tokenRequests(): Promise<number> {
            return ((await (await fetch(`${emu.url}/__emulator/state`)).json()) as { counts: { tokenRequests: number } }).counts.tokenRequests;
        }

        it("getAccessToken: a secret token whose iam_id is the service ID's; repeated use shares one token", async () => {
            const access = new KmsAccess("tok", { instance: { instanceId: emu.instances[0].guid } });
            const before = await tokenRequests();
            const first = await outputDetails(access.getAccessToken());
            const second = await outputDetails(access.getAccessToken());
            assert.strictEqual(first.isSecret, true);
            assert.strictEqual(decodeJwtPayload(first.value!).iam_id, app.iamId);
            assert.strictEqual(second.value, first.value, "cached");
            assert.strictEqual(await tokenRequests(), before + 1);
        });

        it("getAccessTokenInfo: a secret { accessToken, expiration } fit for stack outputs", async () => {
            const access = new KmsAccess("info", { instance: { instanceId: emu.instances[0].guid } });
            const info = await outputDetails(access.getAccessTokenInfo());
            assert.strictEqual(info.isSecret, true);
            assert.deepStrictEqual(Object.keys(info.value!).sort(), ["accessToken", "expiration"]);
            assert.strictEqual(info.value!.expiration, decodeJwtPayload(info.value!.accessToken).exp);
            assert.ok(info.value!.expiration > Date.now() / 1000 + 3000, "about an hour of life left");
        });

        it("authHeaders: secret headers the KMS instance accepts for the service ID", async () => {
            const access = new KmsAccess("hdr", { instance: { instanceId: emu.instances[0].guid } });
            const headers = await outputDetails(access.authHeaders());
            assert.strictEqual(headers.isSecret, true);
            assert.strictEqual(headers.value!["bluemix-instance"], emu.instances[0].guid);
            const res = await fetch(`${await outputValue(access.kmsEndpoint)}/api/v2/keys`, { headers: headers.value! });
            assert.strictEqual(res.status, 200, await res.text());
        });
    });
});
