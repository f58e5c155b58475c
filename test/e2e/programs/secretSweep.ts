// The program of test/e2e/secretSweep.test.ts: every kind of secret the project handles in one stack.
// Parameters: instanceId, byoKey (a bring-your-own API key value), payload (imported key material),
// description, failToken (ask the component for a token IAM will refuse: the program fails),
// badValue + badInput (resources check refuses while they hold secrets: the preview fails).
// The secret parameters are stack config secrets (encrypted in Pulumi.<stack>.yaml), read as plain
// strings, as the test handed them to the resources before: the resources must keep them secret themselves.
import { KmsAccess } from "../../../components";
import { AccessPolicy, ServiceApiKey, ServiceId } from "../../../provider";
import { params } from "./params";

export async function sweep(): Promise<Record<string, unknown>> {
    const p = params();
    const instanceId = p.require("instanceId");
    const payload = p.require("payload");
    const sid = new ServiceId("app", { name: "e2e-sweep", description: "the identity of the sweep" });
    const byo = new ServiceApiKey("byo", { serviceId: sid.serviceId, name: "byo", description: p.require("description"), apikey: p.require("byoKey") });
    const generated = new ServiceApiKey("generated", { serviceId: sid.serviceId, name: "generated" });
    new AccessPolicy("reader", { serviceId: sid.serviceId, roles: ["Reader"], resource: { serviceName: "hs-crypto", serviceInstance: instanceId } });
    const access = new KmsAccess("kms", { instance: { instanceId }, roles: ["Manager"], waitForAccess: { timeoutSeconds: 30 } });
    const material = access.createKey("material", { name: "e2e-sweep-material", type: "standard", payload });
    if (p.requireBoolean("badInput")) {
        // Refused by check (so preview fails) while holding secrets: a value with a space, material that is no root key.
        new ServiceApiKey("bad-value", { serviceId: sid.serviceId, name: "bad-value", apikey: p.require("badValue") });
        access.createKey("bad-material", { name: "bad-material", payload });
    }
    return {
        byo: byo.apikey,
        generated: generated.apikey,
        accessKey: access.apiKey,
        token: p.requireBoolean("failToken") ? access.getAccessToken() : access.getAccessTokenInfo(),
        materialId: material.keyId,
    };
}
