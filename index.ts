// The package root: the client layer (also `pulumi-ibmcloud-iam/client`, without @pulumi/pulumi), the
// dynamic resources and the components. The local IBM Cloud is `pulumi-ibmcloud-iam/emulator`.
export * from "./client";
export * from "./provider";
// The client's wire types are ServiceIdEntity, KmsKeyResource, KmsKeyRingResource and
// KmsInstancePolicySettings; their old names live on as deprecated type aliases, so at the root these
// names mean the resources.
export { KmsInstancePolicies, KmsKey, KmsKeyRing, ServiceId } from "./provider";
export * from "./components";
