// The client layer alone, importable as `pulumi-ibmcloud-iam/client`: settings and credentials, the
// error family, the HTTP function, the IAM token manager, the IAM and KMS clients and the access-token
// provider for application run time. It does NOT load @pulumi/pulumi (the dynamic resources in
// provider/index.ts do, and with it TypeScript: over a second of cold start that an application which
// only needs a token or a KMS call should not pay). test/provider/client.test.ts checks that no module
// of @pulumi/pulumi is loaded by requiring this one.
//
// Only modules that talk to IBM Cloud belong here; anything importing "@pulumi/pulumi" does not.
export * from "./config";
export * from "./errors";
export * from "./http";
export * from "./tokenManager";
export * from "./iamClient";
export * from "./kmsClient";
export * from "./accessToken";
