// The program of test/e2e/trustedProfiles.test.ts: a trusted profile with a claim rule (service accounts of one
// namespace of any cluster), a link (one VSI), a trusted identity (a service ID that may assume it) and a KMS
// reader policy on it. Parameters: name, namespace, vsiCrn, trustedServiceId, service, instanceId.
import { AccessPolicy, TrustedProfile, TrustedProfileClaimRule, TrustedProfileIdentity, TrustedProfileLink } from "../../../provider";
import { params } from "./params";

export async function trust(): Promise<Record<string, unknown>> {
    const p = params();
    const profile = new TrustedProfile("runtime", { name: p.require("name"), description: "the orders workloads" });
    const rule = new TrustedProfileClaimRule("orders-namespace", {
        profileId: profile.profileId,
        type: "Profile-CR",
        crType: "IKS_SA",
        name: "orders-namespace",
        conditions: [{ claim: "namespace", operator: "EQUALS", value: p.require("namespace") }],
        expiration: 3600,
    });
    const link = new TrustedProfileLink("batch-vsi", { profileId: profile.profileId, crType: "VSI", crn: p.require("vsiCrn"), linkName: "batch" });
    const deployer = new TrustedProfileIdentity("deployer", {
        profileId: profile.profileId,
        identityType: "serviceid",
        identifier: p.require("trustedServiceId"),
        description: "the CI deployer",
    });
    const reader = new AccessPolicy("runtime-kms", {
        iamId: profile.iamId,
        roles: ["Reader"],
        resource: { serviceName: p.require("service"), serviceInstance: p.require("instanceId") },
    });
    return {
        profileId: profile.profileId,
        iamId: profile.iamId,
        ruleId: rule.ruleId,
        linkId: link.linkId,
        identityId: deployer.id,
        trustedIamId: deployer.iamId,
        policyId: reader.policyId,
    };
}
