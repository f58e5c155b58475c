// The program of the state fixture (scripts/write-state-fixture.ts copies this folder into a project where
// pulumi-ibmcloud-iam is INSTALLED, as users run it): every resource type the package exports at least once,
// with non-default options, on one Key Protect instance given by CRN. Inside the repository the build
// type-checks it against the package's own types; test/stateFixtureProgram.test.ts runs it under mocks and
// fails when an exported resource type is missing. Refresh and destroy of a fixture do not run it: the copy
// kept in the fixture shows what made the checkpoint.
//
// A new resource type: add one section below (a resource with non-default options) and export one of its
// outputs.
import * as pulumi from "@pulumi/pulumi";
import {
    AccessPolicy,
    AuthorizationPolicy,
    KmsAccess,
    KmsKey,
    KmsKeyRing,
    ServiceApiKey,
    ServiceId,
    TrustedProfile,
    TrustedProfileClaimRule,
    TrustedProfileIdentity,
    TrustedProfileLink,
} from "pulumi-ibmcloud-iam";

const config = new pulumi.Config();
const instanceCrn = config.require("instanceCrn");
const instanceId = config.require("instanceId");
const region = config.require("region");
const cosInstanceId = config.require("cosInstanceId");
const clusterCrn = config.require("clusterCrn");

// ---------- KmsAccess: ServiceId + ServiceApiKey + AccessPolicy + KmsAccessReady, and a key ring and a root key made AS its service ID

const access = new KmsAccess("app", {
    instance: { crn: instanceCrn },
    roles: ["Writer", "Manager"],
    serviceIdName: "fixture-app",
    description: "identity of the state-fixture application",
    rotationTrigger: "r1",
    waitForAccess: { timeoutSeconds: 30 },
});
const appRing = access.createKeyRing("app-ring", { keyRingId: "fixture-app-ring", force: true });
const rootKey = access.createKey("app-root", {
    name: "fixture-app-root",
    description: "root key created by the app's service ID",
    type: "root",
    keyRing: appRing.keyRingId,
    rotation: { enabled: true, intervalMonth: 3 },
    rotationTrigger: "rot-1",
});

// ---------- ServiceId + ServiceApiKey: a standalone, locked service ID with a locked API key of its own

const auditor = new ServiceId("auditor", {
    name: "fixture-auditor",
    description: "a locked service ID of the state fixture",
    locked: true,
});
const auditorKey = new ServiceApiKey("auditor-key", {
    serviceId: auditor.id,
    name: "fixture-auditor-key",
    description: "API key of the locked auditor",
    actionWhenLeaked: "delete",
    supportSessions: true,
    locked: true,
    expiresAt: "2099-01-31T12:00+0000",
    rotationTrigger: 7,
});

// ---------- AccessPolicy: platform Viewer on the instance for the app's service ID
// (a policy for the locked auditor would be refused while it is locked)

const viewer = new AccessPolicy("app-viewer", {
    serviceId: access.serviceId,
    roles: ["Viewer"],
    resource: { serviceName: "kms", serviceInstance: instanceId, region },
    description: "platform Viewer on the fixture's Key Protect instance",
});

// ---------- AuthorizationPolicy: one Cloud Object Storage instance may use the Key Protect instance (Reader: wrap, unwrap)

const cosUsesKms = new AuthorizationPolicy("cos-uses-kms", {
    sourceServiceName: "cloud-object-storage",
    sourceServiceInstance: cosInstanceId,
    targetServiceName: "kms",
    targetServiceInstance: instanceId,
    roles: ["Reader"],
    description: "COS of the state fixture wraps its bucket keys with the fixture's Key Protect instance",
});

// ---------- KmsKeyRing + KmsKey made directly (instance by CRN), with the app's API key, after its access gate

const directRing = new KmsKeyRing(
    "direct-ring",
    { instanceCrn, keyRingId: "fixture-direct-ring", force: true, apiKey: access.apiKey },
    { dependsOn: [access] },
);
const standard = new KmsKey(
    "direct-standard",
    {
        instanceCrn,
        name: "fixture-direct-standard",
        description: "a standard key made directly",
        type: "standard",
        keyRing: directRing.keyRingId,
        force: true,
        apiKey: access.apiKey,
    },
    { dependsOn: [access] },
);

// ---------- TrustedProfile + TrustedProfileLink: a profile a Kubernetes service account of a cluster assumes

const runtime = new TrustedProfile("runtime", {
    name: "fixture-runtime",
    description: "trusted profile of the state fixture's workload",
});
const runtimeLink = new TrustedProfileLink("runtime-link", {
    profileId: runtime.profileId,
    crType: "IKS_SA",
    crn: clusterCrn,
    namespace: "fixture",
    serviceAccount: "fixture-app",
    linkName: "fixture-app-sa",
});

// ---------- TrustedProfileClaimRule + TrustedProfileIdentity: service accounts of two namespaces of any cluster, and the
// app's service ID trusted to assume the profile

const runtimeRule = new TrustedProfileClaimRule("runtime-rule", {
    profileId: runtime.profileId,
    type: "Profile-CR",
    crType: "IKS_SA",
    name: "fixture-namespaces",
    conditions: [
        { claim: "namespace", operator: "IN", value: ["fixture", "fixture-batch"] },
        { claim: "name", operator: "NOT_EQUALS", value: "default" },
    ],
    expiration: 7200,
});
const runtimeTrust = new TrustedProfileIdentity("runtime-trust", {
    profileId: runtime.profileId,
    identityType: "serviceid",
    identifier: access.serviceId,
    description: "the fixture app's service ID may assume the runtime profile",
});

// ---------- outputs

export const appServiceId = access.serviceId;
export const appApiKey = access.apiKey; // secret
export const auditorServiceId = auditor.serviceId;
export const auditorApiKey = auditorKey.apikey; // secret
export const policyId = access.policyId;
export const viewerPolicyId = viewer.policyId;
export const cosPolicyId = cosUsesKms.policyId;
export const appRingId = appRing.keyRingId;
export const rootKeyId = rootKey.keyId;
export const directRingId = directRing.keyRingId;
export const standardKeyId = standard.keyId;
export const runtimeProfileId = runtime.profileId;
export const runtimeLinkId = runtimeLink.linkId;
export const runtimeRuleId = runtimeRule.ruleId;
export const runtimeTrustIamId = runtimeTrust.iamId;
