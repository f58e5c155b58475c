// The producer stack (the root Pulumi.yaml runs it): gives an application its own identity on one HPCS
// instance (service ID, API key, access policy) with KmsAccess, creates a root key AS that identity, and
// exports what the application and other stacks need. Secrets (apiKey, token) stay secret in state.
//
// Config: instanceId (required), region (default us-south), roles (JSON list, default ["Writer","Manager"]:
// Writer to create keys, Manager to delete them as the service ID), plus the ibmcloud:* provider settings
// (ibmcloud:apiKey as --secret, and optionally ibmcloud:iamEndpoint / ibmcloud:kmsEndpoint).
import * as pulumi from "@pulumi/pulumi";
import { KmsAccess } from "../../components";

const config = new pulumi.Config();
const instance = config.require("instanceId");
const region = config.get("region") ?? "us-south";
const roles = config.getObject<string[]>("roles") ?? ["Writer", "Manager"];

const access = new KmsAccess("app", {
    instance: { instanceId: instance, service: "hs-crypto", region },
    roles,
});

const rootKey = access.createKey("app-root", { name: "app-root", description: "root key of the application (created by its service ID)" });
const accessTokenInfo = access.getAccessTokenInfo();

export const serviceId = access.serviceId;
export const iamId = access.iamId;
export const apiKeyId = access.apiKeyId;
export const apiKey = access.apiKey; // secret
export const policyId = access.policyId;
export const instanceId = access.instanceId;
export const kmsEndpoint = access.kmsEndpoint;
export const rootKeyId = rootKey.keyId;
export const rootKeyCrn = rootKey.crn;
export const rootKeyCreatedBy = rootKey.createdBy;
/** Secret `{ accessToken, expiration }` (epoch seconds): a token of the service ID, valid about an hour. */
export const token = accessTokenInfo;
/** The token's expiry alone, not secret, for display. */
export const tokenExpiration = pulumi.unsecret(accessTokenInfo.apply((t) => t.expiration));
