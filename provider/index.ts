// The public face of provider/: the client layer (config, errors, HTTP, tokens, IAM, KMS) and, added
// by their authors, the dynamic resources. A plain re-export list.
export * from "./config";
export * from "./errors";
export * from "./http";
export * from "./tokenManager";
export * from "./iamClient";
export * from "./kmsClient";
export * from "./kmsKey";
// The resource, not kmsClient's wire type of the same name (import that from "./kmsClient").
export { KmsKey } from "./kmsKey";
export * from "./kmsAccessReady";
export * from "./accessToken";
export * from "./serviceId";
// The resource, not iamClient's wire type of the same name (import that from "./iamClient").
export { ServiceId } from "./serviceId";
export * from "./serviceApiKey";
export * from "./accessPolicy";
