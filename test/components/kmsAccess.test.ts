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
const PROFILE = "Profile-66666666-7777-4888-9999-aaaaaaaaaaaa";
const PROFILE_CRN = `crn:v1:bluemix:public:iam-identity::a/acct::profile:${PROFILE}`;
const CLUSTER = "crn:v1:bluemix:public:containers-kubernetes:us-south:a/acct:orders-cluster::";
const POD = { crType: "IKS_SA" as const, crn: CLUSTER, namespace: "orders", serviceAccount: "api" };

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
            case T("TrustedProfile"):
                return { id: PROFILE, state: { ...args.inputs, profileId: PROFILE, iamId: `iam-${PROFILE}`, crn: PROFILE_CRN } };
            case T("TrustedProfileLink"):
                return { id: `${PROFILE}/ProfileLink-${args.name}`, state: { ...args.inputs, linkId: `ProfileLink-${args.name}` } };
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

    describe("trustedProfile: no service ID, no API key", function () {
        let mocks: RecordingMocks;
        beforeEach(async () => {
            pulumi.runtime.setAllConfig({});
            mocks = await setupMocks({ newResource: answering(FAKE) });
        });

        it("makes a profile, its links and a policy naming the profile; no service ID, key or (without a token file) gate", async () => {
            const access = new KmsAccess("orders", { instance: { instanceId: INSTANCE, service: "kms" }, roles: ["Writer"], trustedProfile: { links: [POD] } });
            assert.strictEqual(await outputValue(access.profileId), PROFILE);
            assert.strictEqual(await outputValue(access.iamId), `iam-${PROFILE}`);
            assert.strictEqual(await outputValue(access.profileName), "orders");
            assert.strictEqual(await outputValue(access.profileCrn), PROFILE_CRN);
            await outputValue(access.policyId);
            assert.deepStrictEqual(mocks.resources.map((r) => r.name).sort(), ["orders", "orders-link-0", "orders-policy", "orders-profile"]);
            assert.strictEqual(access.accessReady, undefined);
            const { __provider: _l, ...link } = mocks.byName("orders-link-0").inputs;
            assert.deepStrictEqual(link, { profileId: PROFILE, ...POD });
            const policy = mocks.byName("orders-policy").inputs;
            assert.strictEqual(policy.profileId, PROFILE);
            assert.strictEqual(policy.serviceId, undefined);
            assert.deepStrictEqual(policy.roles, ["Writer"]);
            assert.deepStrictEqual(policy.resource, { serviceName: "kms", serviceInstance: INSTANCE });
            assert.strictEqual(mocks.byName("orders-profile").inputs.name, "orders");
            for (const r of mocks.resources) assert.ok(!JSON.stringify(r.inputs).includes("apikey"), `${r.name} carries no key`);
        });

        it("the service-ID parts say they do not exist, and what to use instead", async () => {
            const access = new KmsAccess("orders", { instance: { instanceId: INSTANCE }, trustedProfile: { name: "orders-runtime", links: [POD] } });
            for (const use of [
                () => access.apiKey,
                () => access.serviceId,
                () => access.apiKeyResource,
                () => access.getAccessToken(),
                () => access.authHeaders(),
            ]) {
                assert.throws(use, /KmsAccess orders: .* does not exist: this component was made with trustedProfile .*computeResourceTokenProvider/);
            }
            assert.strictEqual(await outputValue(access.profileName), "orders-runtime");
        });

        it("with waitForAccess.crTokenFile the gate waits for the profile; createKey runs as the deployer (no apiKey)", async () => {
            const access = new KmsAccess("orders", {
                instance: { instanceId: INSTANCE, service: "kms", region: "us-south" },
                roles: ["Writer"],
                trustedProfile: { links: [POD, { crType: "VSI", crn: "crn:v1:bluemix:public:is:us-south-1:a/acct::instance:0717-aaaa" }] },
                waitForAccess: { crTokenFile: "/var/run/secrets/tokens/sa-token", timeoutSeconds: 30 },
            });
            const key = access.createKey("orders-root", { name: "orders-root" });
            await outputValue(key.keyId);
            const { __provider: _g, ...gate } = mocks.byName("orders-ready").inputs;
            assert.deepStrictEqual(gate, {
                instanceId: INSTANCE,
                service: "kms",
                endpoint: "https://us-south.kms.cloud.ibm.com",
                profileId: PROFILE,
                crTokenFile: "/var/run/secrets/tokens/sa-token",
                policyId: "policy-1",
                policyEtag: "1-abc",
                timeoutSeconds: 30,
            });
            const { __provider: _k, ...keyInputs } = mocks.byName("orders-root").inputs;
            assert.deepStrictEqual(keyInputs, { name: "orders-root", instanceId: INSTANCE, service: "kms", endpoint: "https://us-south.kms.cloud.ibm.com" });
        });

        it("refuses at construction what describes a key, a token file without a profile, no links and a bad link", function () {
            const base = { instance: { instanceId: INSTANCE } };
            const cases: Array<[Record<string, unknown>, RegExp]> = [
                [
                    { trustedProfile: { links: [POD] }, rotationTrigger: 1 },
                    /rotationTrigger: rotationTrigger describes the service ID's API key, and with trustedProfile there is none/,
                ],
                [{ trustedProfile: { links: [POD] }, serviceIdName: "x" }, /serviceIdName: .*remove serviceIdName/],
                [{ waitForAccess: { crTokenFile: "/t" } }, /waitForAccess.crTokenFile: crTokenFile is how the deployer acts as a trusted profile/],
                [{ trustedProfile: { links: [] } }, /trustedProfile.links: trustedProfile.links needs at least one compute resource/],
                [{ trustedProfile: {} }, /trustedProfile.links/],
                [
                    { trustedProfile: { links: [{ crType: "IKS_SA", crn: CLUSTER, namespace: "orders" }] } },
                    /trustedProfile.links\[0\].serviceAccount: serviceAccount is required for IKS_SA/,
                ],
                [{ trustedProfile: { links: [{ ...POD, crType: "POD" }] } }, /trustedProfile.links\[0\].crType: crType must be one of/],
            ];
            for (const [over, pattern] of cases) {
                assert.throws(() => new KmsAccess("bad", { ...base, ...over } as never), pattern, JSON.stringify(over));
            }
            assert.strictEqual(mocks.resources.length, 0, "nothing registered");
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
