// A secretless stack: the application's identity on one KMS instance is a trusted profile that its
// Kubernetes service account may act as (KmsAccess with `trustedProfile`), not a service ID with an API
// key. No key exists, so none is stored in state or exported: the application trades the token its
// platform mounts into the pod for the profile's IAM token (examples/kms-profile-app).
//
// Config: the instance — `instanceCrn`, or `instanceId` with `service` (default `kms`) and `region`;
// the workload — `clusterCrn`, `namespace`, `serviceAccount`; `crTokenFile` (optional): a token file of
// that service account, for a deployer running beside it (e.g. CI in the same cluster) — then `pulumi up`
// waits until KMS accepts the profile; without it KMS's acceptance is not checked at deploy time.
// The deployer itself may hold no API key either: ibmcloud:iamProfileId / IBMCLOUD_CR_PROFILE with a
// compute-resource token (docs/trusted-profiles.md, "Deploying with no API key").
import * as pulumi from "@pulumi/pulumi";
import { KmsAccess } from "pulumi-ibmcloud-iam";

const config = new pulumi.Config();
const instanceCrn = config.get("instanceCrn");
const instance =
    instanceCrn !== undefined
        ? { crn: instanceCrn }
        : {
              instanceId: config.require("instanceId"),
              service: (config.get("service") ?? "kms") as "kms" | "hs-crypto",
              region: config.get("region") ?? "us-south",
          };
const crTokenFile = config.get("crTokenFile");

const access = new KmsAccess("orders", {
    instance,
    // Writer: wrap and unwrap (and rotate) with the root key; the profile never needs to delete keys.
    roles: ["Writer"],
    trustedProfile: {
        name: config.get("profileName") ?? "orders-runtime",
        links: [
            {
                crType: "IKS_SA",
                crn: config.require("clusterCrn"),
                namespace: config.require("namespace"),
                serviceAccount: config.require("serviceAccount"),
            },
        ],
    },
    ...(crTokenFile !== undefined ? { waitForAccess: { crTokenFile } } : {}),
});

// A profile's token comes only from its compute resource, which the deployer is not: the root key is
// created and managed as the deployer, after the profile's policy.
const rootKey = access.createKey("orders-root", { name: "orders-root", description: "root key of the orders service" });

// What the application needs to get its tokens and use the key; nothing here is a secret.
export const profileId = access.profileId;
export const profileName = access.profileName;
export const profileCrn = access.profileCrn;
export const iamId = access.iamId;
export const instanceId = access.instanceId;
export const service = access.service;
export const kmsEndpoint = access.kmsEndpoint;
export const rootKeyId = rootKey.keyId;
export const rootKeyCreatedBy = rootKey.createdBy;
export const accessVerified = access.accessReady !== undefined;
