// The resources and their providers, listed once for every test that walks all of them.
import {
    accessPolicyProvider,
    authorizationPolicyProvider,
    kmsAccessReadyProvider,
    kmsKeyProvider,
    kmsKeyRingProvider,
    serviceApiKeyProvider,
    serviceIdProvider,
    trustedProfileLinkProvider,
    trustedProfileClaimRuleProvider,
    trustedProfileIdentityProvider,
    trustedProfileProvider,
} from "../../provider";

export type ResourceType =
    | "ServiceId"
    | "ServiceApiKey"
    | "AccessPolicy"
    | "AuthorizationPolicy"
    | "KmsKey"
    | "KmsKeyRing"
    | "KmsAccessReady"
    | "TrustedProfile"
    | "TrustedProfileLink"
    | "TrustedProfileClaimRule"
    | "TrustedProfileIdentity";

export interface ResourceEntry {
    /** The name in the type token `pulumi-nodejs:dynamic/ibmcloud-iam:<type>`. */
    type: ResourceType;
    /** The one provider object the resource hands to Pulumi. */
    provider: object;
    /** Its file under provider/ (and provider/module/), without extension: state names it. */
    file: string;
    /** The provider's export name in that file: state names it too. */
    exportName: string;
}

export const RESOURCES: ReadonlyArray<ResourceEntry> = [
    { type: "ServiceId", provider: serviceIdProvider, file: "serviceId", exportName: "serviceIdProvider" },
    { type: "ServiceApiKey", provider: serviceApiKeyProvider, file: "serviceApiKey", exportName: "serviceApiKeyProvider" },
    { type: "AccessPolicy", provider: accessPolicyProvider, file: "accessPolicy", exportName: "accessPolicyProvider" },
    { type: "KmsKey", provider: kmsKeyProvider, file: "kmsKey", exportName: "kmsKeyProvider" },
    { type: "KmsAccessReady", provider: kmsAccessReadyProvider, file: "kmsAccessReady", exportName: "kmsAccessReadyProvider" },
    { type: "KmsKeyRing", provider: kmsKeyRingProvider, file: "kmsKeyRing", exportName: "kmsKeyRingProvider" },
    { type: "AuthorizationPolicy", provider: authorizationPolicyProvider, file: "authorizationPolicy", exportName: "authorizationPolicyProvider" },
    { type: "TrustedProfile", provider: trustedProfileProvider, file: "trustedProfile", exportName: "trustedProfileProvider" },
    { type: "TrustedProfileLink", provider: trustedProfileLinkProvider, file: "trustedProfileLink", exportName: "trustedProfileLinkProvider" },
    {
        type: "TrustedProfileClaimRule",
        provider: trustedProfileClaimRuleProvider,
        file: "trustedProfileClaimRule",
        exportName: "trustedProfileClaimRuleProvider",
    },
    { type: "TrustedProfileIdentity", provider: trustedProfileIdentityProvider, file: "trustedProfileIdentity", exportName: "trustedProfileIdentityProvider" },
];

/** Each resource's provider by type. */
export const PROVIDER_OF: Readonly<Record<ResourceType, object>> = Object.fromEntries(RESOURCES.map((r) => [r.type, r.provider])) as Record<
    ResourceType,
    object
>;

/** Each provider by its export name (`serviceIdProvider`, …). */
export const PROVIDER_BY_EXPORT: Readonly<Record<string, object>> = Object.fromEntries(RESOURCES.map((r) => [r.exportName, r.provider]));
