// The package root: the client layer (also `pulumi-ibmcloud-iam/client`, without @pulumi/pulumi), the
// dynamic resources and the components. The local IBM Cloud is `pulumi-ibmcloud-iam/emulator`.
export * from "./client";
export * from "./provider";
// The resources, not the client's wire types of the same names (import those from "./client").
export { KmsKey, KmsKeyRing, ServiceId, TrustedProfile } from "./provider";
export * from "./components";
