// Every resource, the same three promises (setMocks: no engine, no plugin): it registers its type token
// with the one serialized provider, it marks its secret outputs secret (the given values travel as
// secret inputs), and every key of its outputs type is an Output on the resource with the value state
// holds. Each row's `state` is typed `Required<…Outputs>`, so a new output key does not compile until
// it is listed here too.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import "../support/failFast";
import { outputDetails, outputValue, setupMocks } from "../support/mocks";
import { serializeProvider } from "../plugin/harness";
import { AccessPolicy, accessPolicyProvider, AccessPolicyOutputs } from "../../provider/accessPolicy";
import { AuthorizationPolicy, authorizationPolicyProvider, AuthorizationPolicyOutputs } from "../../provider/authorizationPolicy";
import { KmsAccessReady, kmsAccessReadyProvider, KmsAccessReadyOutputs } from "../../provider/kmsAccessReady";
import { KmsKey, kmsKeyProvider, KmsKeyOutputs } from "../../provider/kmsKey";
import { KmsKeyRing, kmsKeyRingProvider, KmsKeyRingOutputs } from "../../provider/kmsKeyRing";
import { ServiceApiKey, serviceApiKeyProvider, ServiceApiKeyOutputs } from "../../provider/serviceApiKey";
import { ServiceId, serviceIdProvider, ServiceIdOutputs } from "../../provider/serviceId";
import { TrustedProfile, trustedProfileProvider, TrustedProfileOutputs } from "../../provider/trustedProfile";
import { TrustedProfileLink, trustedProfileLinkProvider, TrustedProfileLinkOutputs } from "../../provider/trustedProfileLink";
import { TrustedProfileClaimRule, trustedProfileClaimRuleProvider, TrustedProfileClaimRuleOutputs } from "../../provider/trustedProfileClaimRule";
import { TrustedProfileIdentity, trustedProfileIdentityProvider, TrustedProfileIdentityOutputs } from "../../provider/trustedProfileIdentity";
import { secretInput } from "../support/pulumiWire";

const INSTANCE = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const CRN = `crn:v1:bluemix:public:kms:us-south:a/0123456789abcdef0123456789abcdef:${INSTANCE}::`;
const SID = "ServiceId-11111111-2222-3333-4444-555555555555";
const IAM_ID = `iam-${SID}`;
const API_KEY = "service-id-key-0123456789abcdefghijklmnopq";
const MATERIAL = Buffer.alloc(32, 1).toString("base64");
const WHEN = "2026-01-01T00:00:00.000Z";

interface Row {
    type: string;
    provider: object;
    /** Builds the resource in a program (the arguments carry every secret the resource takes). */
    make(opts: pulumi.CustomResourceOptions): pulumi.CustomResource;
    /** What the provider would write to state: every output key. */
    state: Record<string, unknown>;
    /** Outputs the resource marks secret, and the arguments that must travel as secret inputs. */
    secrets: string[];
    secretInputs: Record<string, unknown>;
}

const serviceIdState: Required<ServiceIdOutputs> = {
    serviceId: SID,
    iamId: IAM_ID,
    crn: "crn:v1:bluemix:public:iam-identity::a/acct::serviceid:ServiceId-1",
    accountId: "acct",
    entityTag: "1-a",
    createdAt: WHEN,
    modifiedAt: WHEN,
    name: "orders-app",
    description: "orders",
    uniqueInstanceCrns: [CRN],
    locked: true,
};

const serviceApiKeyState: Required<ServiceApiKeyOutputs> = {
    apiKeyId: "ApiKey-1",
    apikey: API_KEY,
    iamId: IAM_ID,
    serviceId: SID,
    crn: "crn:v1:bluemix:public:iam-identity::a/acct::apikey:ApiKey-1",
    accountId: "acct",
    entityTag: "1-b",
    createdAt: WHEN,
    modifiedAt: WHEN,
    name: "orders-key",
    description: "",
    expiresAt: "2027-01-01T00:00:00.000Z",
    actionWhenLeaked: "disable",
    supportSessions: false,
    locked: false,
    disabled: false,
    storeValue: false,
    rotationTrigger: 2,
    outputFile: "/tmp/key.json",
};

const accessPolicyState: Required<AccessPolicyOutputs> = {
    policyId: "policy-1",
    etag: "1-c",
    href: "https://iam.cloud.ibm.com/v1/policies/policy-1",
    state: "active",
    roleCrns: ["crn:v1:bluemix:public:iam::::serviceRole:Writer"],
    subjectIamId: IAM_ID,
    accountId: "acct",
    createdAt: WHEN,
    lastModifiedAt: WHEN,
    serviceId: SID,
    iamId: IAM_ID,
    roles: ["Writer"],
    resource: { serviceName: "kms", serviceInstance: INSTANCE },
    description: "app keys",
    adoptExisting: false,
};

const authorizationPolicyState: Required<AuthorizationPolicyOutputs> = {
    policyId: "policy-2",
    etag: "1-d",
    href: "https://iam.cloud.ibm.com/v1/policies/policy-2",
    state: "active",
    roleCrns: ["crn:v1:bluemix:public:iam::::serviceRole:Reader"],
    accountId: "acct",
    createdAt: WHEN,
    lastModifiedAt: WHEN,
    sourceServiceName: "cloud-object-storage",
    sourceServiceInstance: "cos-guid",
    sourceResourceGroupId: "rg-1",
    sourceResourceType: "bucket",
    targetServiceName: "kms",
    targetServiceInstance: INSTANCE,
    targetResourceType: "key",
    targetResource: "key-1",
    roles: ["Reader"],
    description: "cos wraps with kms",
    adoptExisting: false,
};

const kmsKeyState: Required<KmsKeyOutputs> = {
    keyId: "key-1",
    crn: `${CRN.slice(0, -1)}key:key-1`,
    state: 1,
    name: "root",
    description: "app root",
    keyRing: "app-keys",
    extractable: false,
    type: "root",
    imported: true,
    expirationDate: "2030-01-01T00:00:00Z",
    creationDate: WHEN,
    createdBy: IAM_ID,
    instanceId: INSTANCE,
    service: "kms",
    region: "us-south",
    endpoint: "https://us-south.kms.cloud.ibm.com",
    force: true,
    apiKey: API_KEY,
    payload: MATERIAL,
    instanceCrn: CRN,
    rotation: { enabled: true, intervalMonth: 3 },
    dualAuthDelete: { enabled: false },
    rotationTrigger: "r1",
    keyVersion: "v-1",
    lastRotateDate: WHEN,
};

const kmsKeyRingState: Required<KmsKeyRingOutputs> = {
    keyRingId: "app-keys",
    instanceId: INSTANCE,
    service: "kms",
    region: "us-south",
    endpoint: "https://us-south.kms.cloud.ibm.com",
    force: false,
    apiKey: API_KEY,
    instanceCrn: CRN,
    creationDate: WHEN,
    createdBy: IAM_ID,
};

const kmsAccessReadyState: Required<KmsAccessReadyOutputs> = {
    instanceId: INSTANCE,
    instanceCrn: CRN,
    service: "kms",
    endpoint: "https://us-south.kms.cloud.ibm.com",
    apiKey: API_KEY,
    policyId: "policy-1",
    policyEtag: "1-c",
    timeoutSeconds: 60,
    iamId: IAM_ID,
    readyAt: WHEN,
    waitedMs: 5,
};

const PROFILE = "Profile-7d2c4e6f-8a1b-4c3d-9e5f-0a1b2c3d4e5f";
const CLUSTER = "crn:v1:bluemix:public:containers-kubernetes:us-south:a/0123456789abcdef0123456789abcdef:c1::";

const trustedProfileState: Required<TrustedProfileOutputs> = {
    profileId: PROFILE,
    iamId: `iam-${PROFILE}`,
    crn: `crn:v1:bluemix:public:iam-identity::a/acct::profile:${PROFILE}`,
    accountId: "acct",
    entityTag: "1-e",
    createdAt: WHEN,
    modifiedAt: WHEN,
    name: "orders-runtime",
    description: "pods",
};

const trustedProfileLinkState: Required<TrustedProfileLinkOutputs> = {
    profileId: PROFILE,
    linkId: "ProfileLink-1",
    crType: "IKS_SA",
    crn: CLUSTER,
    namespace: "orders",
    serviceAccount: "api",
    componentType: "",
    componentName: "",
    linkName: "api",
    isCrossAccount: false,
    entityTag: "1-f",
    createdAt: WHEN,
};

const trustedProfileClaimRuleState: Required<TrustedProfileClaimRuleOutputs> = {
    profileId: PROFILE,
    ruleId: "ClaimRule-1",
    type: "Profile-CR",
    crType: "IKS_SA",
    realmName: "",
    conditions: [{ claim: "namespace", operator: "IN", value: ["orders", "billing"] }],
    expiration: 3600,
    name: "orders-namespaces",
    entityTag: "1-g",
    createdAt: WHEN,
    modifiedAt: WHEN,
};

const trustedProfileIdentityState: Required<TrustedProfileIdentityOutputs> = {
    profileId: PROFILE,
    identityType: "serviceid",
    identifier: SID,
    iamId: IAM_ID,
    accounts: [],
    description: "the CI deployer",
};

const ROWS: Row[] = [
    {
        type: "ServiceId",
        provider: serviceIdProvider,
        make: (opts) => new ServiceId("res", { name: "orders-app", description: "orders", locked: true }, opts),
        state: serviceIdState,
        secrets: [],
        secretInputs: {},
    },
    {
        type: "ServiceApiKey",
        provider: serviceApiKeyProvider,
        make: (opts) => new ServiceApiKey("res", { serviceId: SID, name: "orders-key", apikey: API_KEY }, opts),
        state: serviceApiKeyState,
        secrets: ["apikey"],
        secretInputs: { apikey: API_KEY },
    },
    {
        type: "AccessPolicy",
        provider: accessPolicyProvider,
        make: (opts) => new AccessPolicy("res", { serviceId: SID, roles: ["Writer"], resource: { serviceName: "kms", serviceInstance: INSTANCE } }, opts),
        state: accessPolicyState,
        secrets: [],
        secretInputs: {},
    },
    {
        type: "AuthorizationPolicy",
        provider: authorizationPolicyProvider,
        make: (opts) => new AuthorizationPolicy("res", { sourceServiceName: "cloud-object-storage", targetServiceName: "kms" }, opts),
        state: authorizationPolicyState,
        secrets: [],
        secretInputs: {},
    },
    {
        type: "KmsKey",
        provider: kmsKeyProvider,
        make: (opts) => new KmsKey("res", { instanceCrn: CRN, name: "root", apiKey: API_KEY, payload: MATERIAL }, opts),
        state: kmsKeyState,
        secrets: ["apiKey", "payload"],
        secretInputs: { apiKey: API_KEY, payload: MATERIAL },
    },
    {
        type: "KmsKeyRing",
        provider: kmsKeyRingProvider,
        make: (opts) => new KmsKeyRing("res", { instanceCrn: CRN, keyRingId: "app-keys", apiKey: API_KEY }, opts),
        state: kmsKeyRingState,
        secrets: ["apiKey"],
        secretInputs: { apiKey: API_KEY },
    },
    {
        type: "KmsAccessReady",
        provider: kmsAccessReadyProvider,
        make: (opts) => new KmsAccessReady("res", { instanceCrn: CRN, apiKey: API_KEY }, opts),
        state: kmsAccessReadyState,
        secrets: ["apiKey"],
        secretInputs: { apiKey: API_KEY },
    },
    {
        type: "TrustedProfile",
        provider: trustedProfileProvider,
        make: (opts) => new TrustedProfile("res", { name: "orders-runtime", description: "pods" }, opts),
        state: trustedProfileState,
        secrets: [],
        secretInputs: {},
    },
    {
        type: "TrustedProfileLink",
        provider: trustedProfileLinkProvider,
        make: (opts) => new TrustedProfileLink("res", { profileId: PROFILE, crType: "IKS_SA", crn: CLUSTER, namespace: "orders", serviceAccount: "api" }, opts),
        state: trustedProfileLinkState,
        secrets: [],
        secretInputs: {},
    },
    {
        type: "TrustedProfileClaimRule",
        provider: trustedProfileClaimRuleProvider,
        make: (opts) =>
            new TrustedProfileClaimRule(
                "res",
                {
                    profileId: PROFILE,
                    type: "Profile-CR",
                    crType: "IKS_SA",
                    conditions: [{ claim: "namespace", operator: "IN", value: ["orders", "billing"] }],
                },
                opts,
            ),
        state: trustedProfileClaimRuleState,
        secrets: [],
        secretInputs: {},
    },
    {
        type: "TrustedProfileIdentity",
        provider: trustedProfileIdentityProvider,
        make: (opts) => new TrustedProfileIdentity("res", { profileId: PROFILE, identityType: "serviceid", identifier: SID }, opts),
        state: trustedProfileIdentityState,
        secrets: [],
        secretInputs: {},
    },
];

describe("provider (shape): every resource registers its provider, its secrets and all its outputs", function () {
    this.timeout(30_000);

    it("covers the eleven resources", () => {
        assert.deepEqual(ROWS.map((r) => r.type).sort(), [
            "AccessPolicy",
            "AuthorizationPolicy",
            "KmsAccessReady",
            "KmsKey",
            "KmsKeyRing",
            "ServiceApiKey",
            "ServiceId",
            "TrustedProfile",
            "TrustedProfileClaimRule",
            "TrustedProfileIdentity",
            "TrustedProfileLink",
        ]);
    });

    for (const row of ROWS) {
        describe(row.type, () => {
            const token = `pulumi-nodejs:dynamic/ibmcloud-iam:${row.type}`;

            it("registers its type token and the one provider object, serialized without secrets", async () => {
                const mocks = await setupMocks({ newResource: () => ({ id: "id-1", state: row.state }) });
                const res = row.make({});
                assert.equal(await outputValue(res.urn), `urn:pulumi:test::pulumi-ibmcloud-iam::${token}::res`);
                const reg = mocks.byName("res");
                assert.equal(reg.type, token);
                const serialized = await serializeProvider(row.provider);
                assert.equal(reg.providerText, serialized.text);
                assert.equal(serialized.containsSecrets, false);
                for (const value of Object.values(row.secretInputs)) {
                    assert.ok(!String(reg.providerText).includes(String(value)), "the provider text holds no secret value");
                }
            });

            it("lists its secret outputs in additionalSecretOutputs (keeping the caller's) and sends the secret arguments secret", async () => {
                // The secret arguments come back as state (as the provider would return them), secret.
                const secretState = (inputs: Record<string, unknown>) => Object.fromEntries(Object.keys(row.secretInputs).map((k) => [k, inputs[k]]));
                const mocks = await setupMocks({ newResource: (a) => ({ id: "id-1", state: { ...row.state, ...secretState(a.inputs) } }) });
                let seen: pulumi.CustomResourceOptions | undefined;
                const res = row.make({
                    additionalSecretOutputs: ["createdAt"],
                    transformations: [
                        (a) => {
                            seen = a.opts as pulumi.CustomResourceOptions;
                            return undefined;
                        },
                    ],
                });
                await outputValue(res.urn);
                assert.deepEqual([...(seen?.additionalSecretOutputs ?? [])].sort(), [...row.secrets, "createdAt"].sort());
                const reg = mocks.byName("res");
                for (const [key, value] of Object.entries(row.secretInputs)) assert.deepEqual(reg.inputs[key], secretInput(value), key);
                for (const key of row.secrets) assert.equal((await outputDetails((res as any)[key])).isSecret, true, `${key} is a secret Output`);
            });

            it("has every output of its outputs type as an Output holding the value from state", async () => {
                await setupMocks({ newResource: () => ({ id: "id-1", state: row.state }) });
                const res = row.make({}) as unknown as Record<string, unknown>;
                const missing = Object.keys(row.state).filter((key) => !pulumi.Output.isInstance(res[key]));
                assert.deepEqual(missing, [], `${row.type} outputs that are not Outputs`);
                for (const [key, value] of Object.entries(row.state)) assert.deepEqual(await outputValue(res[key] as pulumi.Output<unknown>), value, key);
            });
        });
    }

    it("KmsAccessReady built directly (not through KmsAccess) has its instanceId", async () => {
        await setupMocks({ newResource: (a) => ({ id: "gate-1", state: { ...a.inputs, instanceId: INSTANCE, iamId: IAM_ID } }) });
        const gate = new KmsAccessReady("r", { instanceCrn: CRN, apiKey: API_KEY });
        assert.ok(pulumi.Output.isInstance(gate.instanceId), `instanceId is ${typeof gate.instanceId}`);
        assert.equal(await outputValue(gate.instanceId), INSTANCE);
    });
});
