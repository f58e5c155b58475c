// The program of test/e2e/kmsKeyDeletion.test.ts: one root key under dual authorization, created and
// deleted as a service ID. Parameters: instanceId, endpoint, apiKey (secret), force.
import * as pulumi from "@pulumi/pulumi";
import { KmsKey } from "../../../provider";
import { params } from "./params";

export async function registeredKey(): Promise<Record<string, unknown>> {
    const p = params();
    const key = new KmsKey("registered", {
        instanceId: p.require("instanceId"),
        endpoint: p.require("endpoint"),
        name: "cos-bucket-root",
        dualAuthDelete: { enabled: true },
        force: p.requireBoolean("force"),
        apiKey: p.requireSecret("apiKey") as pulumi.Output<string>,
    });
    return { keyId: key.id };
}
