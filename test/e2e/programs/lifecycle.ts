// The program of test/e2e/lifecycle.test.ts: one identity (service ID, API key, reader policy).
// Parameters: name, description, rotation (the key's rotationTrigger), instanceId.
import { AccessPolicy, ServiceApiKey, ServiceId } from "../../../provider";
import { params } from "./params";

export async function identity(): Promise<Record<string, unknown>> {
    const p = params();
    const sid = new ServiceId("app", { name: p.require("name"), description: p.require("description") });
    const key = new ServiceApiKey("app-key", { serviceId: sid.serviceId, name: "app-key", rotationTrigger: p.requireNumber("rotation") });
    const policy = new AccessPolicy("app-reader", {
        serviceId: sid.serviceId,
        roles: ["Reader"],
        resource: { serviceName: "hs-crypto", serviceInstance: p.require("instanceId") },
    });
    return {
        serviceId: sid.serviceId,
        iamId: sid.iamId,
        name: sid.name,
        description: sid.description,
        apiKeyId: key.apiKeyId,
        apiKey: key.apikey,
        policyId: policy.policyId,
        roles: policy.roles,
        subjectIamId: policy.subjectIamId,
    };
}
