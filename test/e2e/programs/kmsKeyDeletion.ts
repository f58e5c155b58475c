// The program of test/e2e/kmsKeyDeletion.test.ts: one root key under dual authorization, created and
// deleted as a service ID. Parameters: instanceId, endpoint, apiKey (secret), force.
import * as pulumi from "@pulumi/pulumi";
import { KmsInstancePolicies, KmsKey } from "../../../provider";
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

/**
 * The stack of the lifecycle engine test: the instance's policies with dual authorization delete, then a root key
 * with aliases created under them (it inherits dual authorization). Parameters as `registeredKey`, plus aliases (JSON).
 */
export async function aliasedKeyUnderInstancePolicy(): Promise<Record<string, unknown>> {
    const p = params();
    const apiKey = p.requireSecret("apiKey") as pulumi.Output<string>;
    const policies = new KmsInstancePolicies("instance-policies", {
        instanceId: p.require("instanceId"),
        service: "kms",
        endpoint: p.require("endpoint"),
        dualAuthDelete: { enabled: true },
        apiKey,
    });
    const key = new KmsKey(
        "aliased",
        {
            instanceId: p.require("instanceId"),
            service: "kms",
            endpoint: p.require("endpoint"),
            name: "cos-bucket-root",
            aliases: p.requireObject<string[]>("aliases"),
            force: p.requireBoolean("force"),
            apiKey,
        },
        { dependsOn: [policies] },
    );
    return { keyId: key.id, aliases: key.aliases, dualAuthDelete: policies.dualAuthDelete };
}
