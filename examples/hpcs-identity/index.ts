// The producer stack (the root Pulumi.yaml runs it): gives an application its own identity on one KMS
// instance (service ID, API key, access policy) with KmsAccess, creates a key ring and a root key in it
// AS that identity (rotation policy every 3 months; `rootKeyRotation` rotates it from code), optionally
// lets a Cloud Object Storage instance use that root key (service-to-service), and exports what the
// application (examples/kms-app) and other stacks need. Secrets (apiKey, token) stay secret in state.
//
// Config: the instance — Key Protect first: `instanceCrn` (crn:v1:bluemix:public:kms:<region>:a/<account>:<guid>::,
// which gives service, region and GUID), or `instanceId` with `service` (default `kms`) and `region`
// (default us-south). For Hyper Protect Crypto Services set `service: hs-crypto` (or give its CRN).
// Also: roles (JSON list, default ["Writer","Manager"]: Writer to create and rotate keys, Manager for the
// ring, the key policies and deleting keys as the service ID), rootKeyRotation (any value; a new one
// rotates the root key), cosInstanceId (optional: a COS instance authorized to use the root key), plus the
// ibmcloud:* provider settings (ibmcloud:apiKey as --secret, optionally ibmcloud:iamEndpoint / ibmcloud:kmsEndpoint).
// (The folder keeps its historical name: the root Pulumi.yaml and stacks already point at it.)
import * as pulumi from "@pulumi/pulumi";
import { AuthorizationPolicy, KmsAccess } from "pulumi-ibmcloud-iam";

const config = new pulumi.Config();
const instanceCrn = config.get("instanceCrn");
const roles = config.getObject<string[]>("roles") ?? ["Writer", "Manager"];
const instance =
    instanceCrn !== undefined
        ? { crn: instanceCrn }
        : {
              instanceId: config.require("instanceId"),
              service: (config.get("service") ?? "kms") as "kms" | "hs-crypto",
              region: config.get("region") ?? "us-south",
          };

const access = new KmsAccess("app", { instance, roles });

// On IBM a key ring must exist before a key goes into it. force: destroy deletes the ring once its keys are deleted.
const ring = access.createKeyRing("app-keys", { keyRingId: "app-keys", force: true });
const rootKey = access.createKey("app-root", {
    name: "app-root",
    description: "root key of the application (created by its service ID)",
    keyRing: ring.keyRingId,
    rotation: { intervalMonth: 3 },
    rotationTrigger: config.get("rootKeyRotation") ?? "0",
});

// Service-to-service: one COS instance may wrap and unwrap with this root key, and with no other key.
const cosInstanceId = config.get("cosInstanceId");
const cosAuthorization =
    cosInstanceId === undefined
        ? undefined
        : new AuthorizationPolicy("cos-uses-root-key", {
              sourceServiceName: "cloud-object-storage",
              sourceServiceInstance: cosInstanceId,
              targetServiceName: access.service,
              targetServiceInstance: access.instanceId,
              targetResourceType: "key",
              targetResource: rootKey.keyId,
              description: "COS encrypts its buckets with the application's root key",
          });
const accessTokenInfo = access.getAccessTokenInfo();

export const serviceId = access.serviceId;
export const iamId = access.iamId;
export const apiKeyId = access.apiKeyId;
export const apiKey = access.apiKey; // secret
export const policyId = access.policyId;
export const instanceId = access.instanceId;
export const service = access.service;
export const kmsEndpoint = access.kmsEndpoint;
export const keyRingId = ring.keyRingId;
export const rootKeyId = rootKey.keyId;
export const rootKeyCrn = rootKey.crn;
export const rootKeyCreatedBy = rootKey.createdBy;
export const rootKeyVersion = rootKey.keyVersion;
// null, not undefined, until the first rotation and without COS: an undefined output is dropped with a warning
export const rootKeyLastRotateDate = rootKey.lastRotateDate.apply((d) => d ?? null);
export const cosAuthorizationPolicyId = cosAuthorization?.policyId ?? null;
/** Secret `{ accessToken, expiration }` (epoch seconds): a token of the service ID, valid about an hour. */
export const token = accessTokenInfo;
/** The token's expiry alone, not secret, for display. */
export const tokenExpiration = pulumi.unsecret(accessTokenInfo.apply((t) => t.expiration));
