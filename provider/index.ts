// The public face of provider/: the client layer (./client: config, errors, HTTP, tokens, IAM, KMS,
// access tokens) and the dynamic resources. A plain re-export list.
export * from "./client";
export * from "./kmsKey";
// The resource, not kmsClient's wire type of the same name (import that from "./kmsClient").
export { KmsKey } from "./kmsKey";
export * from "./kmsAccessReady";
export * from "./serviceId";
// The resource, not iamClient's wire type of the same name (import that from "./iamClient").
export { ServiceId } from "./serviceId";
export * from "./serviceApiKey";
export * from "./accessPolicy";
