// The TrustedProfileIdentity provider as a whole module (its only export), so Pulumi names it in state as one
// `require("pulumi-ibmcloud-iam/dist/provider/module/trustedProfileIdentity.js")` when the package is installed under
// node_modules (provider/dynamicProvider.ts). State names this path: never rename or move it.
import { trustedProfileIdentityProvider } from "../trustedProfileIdentity";
export = trustedProfileIdentityProvider;
