// The public face of components/: ComponentResources composing the dynamic resources. Named one by one:
// the modules also hold helpers for this package's own use (and its tests), which are not API.
export { KmsAccess } from "./kmsAccess";
export type { AccessTokenInfoOutput, KmsAccessArgs, KmsAccessKeyArgs, KmsAccessKeyRingArgs, KmsInstanceArgs } from "./kmsAccess";
