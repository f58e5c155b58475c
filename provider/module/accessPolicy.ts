// The AccessPolicy provider as a whole module (its only export), so Pulumi names it in state as one
// `require("pulumi-ibmcloud-iam/dist/provider/module/accessPolicy.js")` when the package is installed under
// node_modules (provider/dynamicProvider.ts). State names this path: never rename or move it.
import { accessPolicyProvider } from "../accessPolicy";
export = accessPolicyProvider;
