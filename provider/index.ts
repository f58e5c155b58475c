// The public face of provider/: the dynamic resources (one module each). The client layer they are
// built on is `../client` (the package root re-exports both).
export * from "./serviceId";
export * from "./serviceApiKey";
export * from "./accessPolicy";
export * from "./kmsKey";
export * from "./kmsAccessReady";
export * from "./kmsKeyRing";
export * from "./authorizationPolicy";
export * from "./trustedProfile";
export * from "./trustedProfileLink";
export * from "./trustedProfileClaimRule";
export * from "./trustedProfileIdentity";
// The Outputs every resource class declares, one per key of its outputs type (the classes implement it).
export type { OutputsOf } from "./core/resourceShape";
