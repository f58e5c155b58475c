// The program of test/e2e/concurrency.test.ts: a service ID, its key and a policy, all carrying the
// `description` parameter (each round of the test changes it). Parameters: description, instanceId.
import { AccessPolicy, ServiceApiKey, ServiceId } from "../../../provider";
import { params } from "./params";

export async function identity(): Promise<Record<string, unknown>> {
    const p = params();
    const description = p.require("description");
    const sid = new ServiceId("app", { name: "concurrency-app", description });
    const key = new ServiceApiKey("app-key", { serviceId: sid.serviceId, name: "app-key", description });
    const policy = new AccessPolicy("app-reader", {
        serviceId: sid.serviceId,
        roles: ["Reader"],
        description,
        resource: { serviceName: "hs-crypto", serviceInstance: p.require("instanceId") },
    });
    return { serviceId: sid.serviceId, apiKeyId: key.apiKeyId, policyId: policy.policyId };
}
