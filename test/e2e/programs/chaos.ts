// The program of test/e2e/chaos.test.ts: `triples` service ID + API key + policy triples named
// `<prefix>-NN`. Parameters: triples, prefix, description, instanceId.
import { AccessPolicy, ServiceApiKey, ServiceId } from "../../../provider";
import { params } from "./params";

export async function triples(): Promise<Record<string, unknown>> {
    const p = params();
    const prefix = p.require("prefix");
    const description = p.require("description");
    const instanceId = p.require("instanceId");
    for (let i = 0; i < p.requireNumber("triples"); i++) {
        const n = String(i).padStart(2, "0");
        const sid = new ServiceId(`sid-${n}`, { name: `${prefix}-${n}`, description });
        new ServiceApiKey(`key-${n}`, { serviceId: sid.id, name: `${prefix}-${n}-key`, description });
        new AccessPolicy(`policy-${n}`, {
            serviceId: sid.id,
            roles: ["Reader"],
            resource: { serviceName: "hs-crypto", serviceInstance: instanceId },
        });
    }
    return {};
}
