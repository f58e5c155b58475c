// The program of test/e2e/lifecycle.test.ts: one identity (service ID, API key, reader policy).
// Parameters: name, description, rotation (the key's rotationTrigger), instanceId; optional: locked (the service ID;
// then no policy, which IBM refuses on a locked one), apiKeyValue (the key's own value instead of one the provider
// chooses).
import { AccessPolicy, ServiceApiKey, ServiceId } from "../../../provider";
import { params } from "./params";

export async function identity(): Promise<Record<string, unknown>> {
    const p = params();
    const sid = new ServiceId("app", { name: p.require("name"), description: p.require("description"), locked: p.getBoolean("locked") });
    const key = new ServiceApiKey("app-key", {
        serviceId: sid.serviceId,
        name: "app-key",
        rotationTrigger: p.requireNumber("rotation"),
        apikey: p.get("apiKeyValue") ? p.requireSecret("apiKeyValue") : undefined,
    });
    const instanceId = p.require("instanceId");
    if (p.getBoolean("locked")) return { serviceId: sid.serviceId, apiKeyId: key.apiKeyId };
    const policy = new AccessPolicy("app-reader", {
        serviceId: sid.serviceId,
        roles: ["Reader"],
        resource: { serviceName: "hs-crypto", serviceInstance: instanceId },
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
