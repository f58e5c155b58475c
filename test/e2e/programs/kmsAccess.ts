// The programs of test/e2e/kmsAccess.test.ts.
import * as pulumi from "@pulumi/pulumi";
import { KmsAccess } from "../../../components";
import { accessTokenProvider } from "../../../client";
import { KmsKey } from "../../../provider";
import { params } from "./params";

/** The application's identity, a root key created as it, and a token for the application.
 * Parameters: instanceId, rotation, timeoutSeconds. */
export async function identity(): Promise<Record<string, unknown>> {
    const p = params();
    const access = new KmsAccess("app", {
        instance: { instanceId: p.require("instanceId"), service: "hs-crypto" },
        roles: ["Manager"],
        rotationTrigger: p.requireNumber("rotation"),
        waitForAccess: { timeoutSeconds: p.requireNumber("timeoutSeconds") },
    });
    const root = access.createKey("app-root", { name: "app-root", description: "wraps the app's data keys" });
    return {
        apiKey: access.apiKey,
        iamId: access.iamId,
        instanceId: access.instanceId,
        kmsEndpoint: access.kmsEndpoint,
        rootKeyId: root.keyId,
        rootCreatedBy: root.createdBy,
        token: access.getAccessTokenInfo(),
    };
}

/** Another stack: the application's own key, managed with the identity stack's key.
 * Parameters: identityStack (the fully qualified name of the identity stack). */
export async function consumer(): Promise<Record<string, unknown>> {
    const ref = new pulumi.StackReference(params().require("identityStack"));
    const apiKey = ref.requireOutput("apiKey") as pulumi.Output<string>;
    const key = new KmsKey("consumer-standard", {
        instanceId: ref.requireOutput("instanceId") as pulumi.Output<string>,
        endpoint: ref.requireOutput("kmsEndpoint") as pulumi.Output<string>,
        name: "consumer-standard",
        type: "standard",
        apiKey,
    });
    const iamEndpoint = new pulumi.Config("ibmcloud").require("iamEndpoint");
    const tokenIamId = apiKey.apply(async (k) => {
        const tokens = accessTokenProvider({ apiKey: k, iamEndpoint });
        try {
            return (await tokens.getTokenInfo()).iamId;
        } finally {
            await tokens.close();
        }
    });
    return { keyId: key.keyId, createdBy: key.createdBy, tokenIamId };
}

/** A component whose wait for access is shorter than the policy's propagation: the update fails.
 * Parameters: instanceId, timeoutSeconds. */
export async function hurried(): Promise<Record<string, unknown>> {
    const p = params();
    const access = new KmsAccess("hurried", {
        instance: { instanceId: p.require("instanceId") },
        waitForAccess: { timeoutSeconds: p.requireNumber("timeoutSeconds") },
    });
    return { apiKey: access.apiKey };
}
