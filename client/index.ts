// The client layer, importable as `pulumi-ibmcloud-iam/client`: settings and credentials, the error
// family, HTTP, the IAM token manager, the IAM and KMS clients and the access-token provider for
// application run time. It never loads @pulumi/pulumi (the dynamic resources in ../provider do, and
// with it TypeScript: over a second of cold start that an application which only needs a token or a
// KMS call should not pay). test/client/layering.test.ts fails if any module of this folder imports
// anything but its siblings, Node builtins, undici and zod; test/client/client.test.ts checks what a
// fresh process loads.
export * from "./config";
export * from "./errors";
export * from "./http";
export * from "./tokenManager";
export * from "./iamClient";
export * from "./kmsClient";
export * from "./accessToken";
export * from "./profileTokens";
export * from "./profileClient";
export * as envelope from "./envelope";
