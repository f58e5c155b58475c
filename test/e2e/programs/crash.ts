// The program of test/e2e/crash.test.ts: `triples` service ID + API key + access policy triples named
// `<prefix>-NN` and one KmsAccess (its own triple, a readiness check and a root key created as it); with
// `sourceInstance`, also the types without a recovery mark: a trusted profile `<prefix>-runtime`, its claim rule, and
// an authorization of that Cloud Object Storage instance to the KMS instance.
// Parameters: triples, prefix, instanceId, sourceInstance (optional).
import { KmsAccess } from "../../../components";
import { AccessPolicy, AuthorizationPolicy, ServiceApiKey, ServiceId, TrustedProfile, TrustedProfileClaimRule } from "../../../provider";
import { params } from "./params";

export async function crash(): Promise<Record<string, unknown>> {
    const p = params();
    const prefix = p.require("prefix");
    const instanceId = p.require("instanceId");
    for (let i = 0; i < p.requireNumber("triples"); i++) {
        const n = String(i).padStart(2, "0");
        const sid = new ServiceId(`sid-${n}`, { name: `${prefix}-${n}`, description: "crash test identity" });
        new ServiceApiKey(`key-${n}`, { serviceId: sid.id, name: `${prefix}-${n}-key` });
        new AccessPolicy(`policy-${n}`, { serviceId: sid.id, roles: ["Reader"], resource: { serviceName: "hs-crypto", serviceInstance: instanceId } });
    }
    const access = new KmsAccess(`${prefix}-kms`, {
        instance: { instanceId, service: "hs-crypto" },
        roles: ["Manager"],
        waitForAccess: { timeoutSeconds: 120 },
    });
    access.createKey(`${prefix}-root`, { name: `${prefix}-root` });
    const sourceInstance = p.get("sourceInstance");
    if (sourceInstance) {
        const profile = new TrustedProfile("profile", { name: `${prefix}-runtime`, description: "crash test profile" });
        new TrustedProfileClaimRule("rule", {
            profileId: profile.profileId,
            type: "Profile-CR",
            crType: "IKS_SA",
            name: `${prefix}-rule`,
            conditions: [{ claim: "namespace", operator: "EQUALS", value: "orders" }],
        });
        new AuthorizationPolicy("authorization", {
            sourceServiceName: "cloud-object-storage",
            sourceServiceInstance: sourceInstance,
            targetServiceName: "hs-crypto",
            targetServiceInstance: instanceId,
        });
    }
    return {};
}
