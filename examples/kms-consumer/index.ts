// A consumer stack: reads the producer stack's outputs (examples/hpcs-identity) through a
// StackReference, uses its secret apiKey to act AS the producer's service ID (a token, and its own KMS
// key created with that identity). Config: producerStack (e.g. organization/pulumi-ibmcloud-iam-example/dev),
// ibmcloud:iamEndpoint (optional, for a non-public IAM such as the emulator).
import * as pulumi from "@pulumi/pulumi";
import { KmsKey } from "pulumi-ibmcloud-iam";
import { accessTokenProvider } from "pulumi-ibmcloud-iam/client";

const config = new pulumi.Config();
const producer = new pulumi.StackReference(config.require("producerStack"));
const iamEndpoint = new pulumi.Config("ibmcloud").get("iamEndpoint");

const apiKey = producer.requireOutput("apiKey") as pulumi.Output<string>; // secret
const instanceId = producer.requireOutput("instanceId") as pulumi.Output<string>;
const endpoint = producer.requireOutput("kmsEndpoint") as pulumi.Output<string>;
// kms (Key Protect) or hs-crypto, as the producer's instance is; stacks of producers before it had hs-crypto.
const service = producer.getOutput("service").apply((s) => (s ?? "hs-crypto") as "kms" | "hs-crypto");

const token = apiKey.apply(async (key) => {
    const tokens = accessTokenProvider({ apiKey: key, ...(iamEndpoint ? { iamEndpoint } : {}) });
    try {
        const info = await tokens.getTokenInfo();
        return { iamId: info.iamId ?? "", expiration: info.expiration };
    } finally {
        await tokens.close();
    }
});

const key = new KmsKey("consumer-key", {
    instanceId,
    service,
    endpoint,
    name: config.get("keyName") ?? "consumer-key",
    type: "standard",
    description: "the consumer's own key, managed as the producer's service ID",
    apiKey,
});

export const keyId = key.keyId;
export const keyCreatedBy = key.createdBy;
export const tokenIamId = pulumi.unsecret(token.apply((t) => t.iamId));
export const tokenExpiration = pulumi.unsecret(token.apply((t) => t.expiration));
