// The TrustedProfileClaimRule provider as a whole module (its only export), so Pulumi names it in state as one
// `require("pulumi-ibmcloud-iam/dist/provider/module/trustedProfileClaimRule.js")` when the package is installed under
// node_modules (provider/dynamicProvider.ts). State names this path: never rename or move it.
import { trustedProfileClaimRuleProvider } from "../trustedProfileClaimRule";
export = trustedProfileClaimRuleProvider;
