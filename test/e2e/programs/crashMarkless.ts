// The program of the markless-creates test of test/e2e/crash.test.ts: a trusted profile (stage "profile"), then with
// stage "all" its claim rule, link and trusted identity, an authorization policy and a KMS key ring, whose creates
// all go out at once (they depend on the profile only). Parameters: stage, prefix, instanceId, service,
// trustedServiceId, vsiCrn, sourceInstance.
import { AuthorizationPolicy, KmsKeyRing, TrustedProfile, TrustedProfileClaimRule, TrustedProfileIdentity, TrustedProfileLink } from "../../../provider";
import { params } from "./params";

export async function crashMarkless(): Promise<Record<string, unknown>> {
    const p = params();
    const prefix = p.require("prefix");
    const profile = new TrustedProfile("profile", { name: `${prefix}-runtime`, description: "crash test profile" });
    if (p.require("stage") !== "all") return {};
    new TrustedProfileClaimRule("rule", {
        profileId: profile.profileId,
        type: "Profile-CR",
        crType: "IKS_SA",
        name: `${prefix}-rule`,
        conditions: [{ claim: "namespace", operator: "EQUALS", value: "orders" }],
        expiration: 3600,
    });
    new TrustedProfileLink("link", { profileId: profile.profileId, crType: "VSI", crn: p.require("vsiCrn"), linkName: `${prefix}-link` });
    new TrustedProfileIdentity("identity", {
        profileId: profile.profileId,
        identityType: "serviceid",
        identifier: p.require("trustedServiceId"),
        description: "the CI deployer",
    });
    new AuthorizationPolicy("authorization", {
        sourceServiceName: "cloud-object-storage",
        sourceServiceInstance: p.require("sourceInstance"),
        targetServiceName: p.require("service") as "kms" | "hs-crypto",
        targetServiceInstance: p.require("instanceId"),
        description: "crash test authorization",
    });
    new KmsKeyRing("ring", { instanceId: p.require("instanceId"), service: p.require("service") as "kms" | "hs-crypto", keyRingId: `${prefix}-ring` });
    return {};
}
