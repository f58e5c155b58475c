// The program of test/e2e/firstMistakes.test.ts: the README's quick start (a KmsAccess for a Key
// Protect instance given by its CRN, a key ring, a root key in it), with the mistakes a newcomer makes
// passed in as parameters: instanceCrn (required), keyRingId (default orders-keys), late (optional,
// true: keyRingId handed over as an Output, as a value computed from another resource would be).
import * as pulumi from "@pulumi/pulumi";
import { KmsAccess } from "../../../components";
import { params } from "./params";

export async function quickStart(): Promise<Record<string, unknown>> {
    const p = params();
    const access = new KmsAccess("orders-app", {
        instance: { crn: p.require("instanceCrn") },
        roles: ["Writer", "Manager"],
        waitForAccess: { timeoutSeconds: 120 },
    });
    const keyRingId = p.get("keyRingId") ?? "orders-keys";
    const ring = access.createKeyRing("orders-keys", { keyRingId: p.getBoolean("late") ? pulumi.output(keyRingId) : keyRingId, force: true });
    const rootKey = access.createKey("orders-root", { name: "orders-root", keyRing: ring.keyRingId });
    return { serviceId: access.serviceId, rootKeyId: rootKey.keyId };
}
