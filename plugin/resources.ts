// What the provider plugin serves: each type token mapped to the SAME provider object the dynamic
// resource of that name hands to `pulumi.dynamic.Resource`. Nothing here implements a resource; the plugin
// is a second front door to the one implementation in provider/.
import type * as pulumi from "@pulumi/pulumi";
import { serviceIdProvider } from "../provider/serviceId";
import { serviceApiKeyProvider } from "../provider/serviceApiKey";
import { accessPolicyProvider } from "../provider/accessPolicy";
import { authorizationPolicyProvider } from "../provider/authorizationPolicy";
import { kmsKeyProvider } from "../provider/kmsKey";
import { kmsKeyRingProvider } from "../provider/kmsKeyRing";
import { kmsAccessReadyProvider } from "../provider/kmsAccessReady";
import { trustedProfileProvider } from "../provider/trustedProfile";
import { trustedProfileLinkProvider } from "../provider/trustedProfileLink";
import { trustedProfileClaimRuleProvider } from "../provider/trustedProfileClaimRule";
import { trustedProfileIdentityProvider } from "../provider/trustedProfileIdentity";

/** The plugin's package name: `pulumi-resource-ibmcloud-iam`, type tokens `ibmcloud-iam:index:<Resource>`, config `ibmcloud-iam:<key>`. */
export const PACKAGE = "ibmcloud-iam";

export interface ServedResource {
    /** The resource's name, as the dynamic resource class is called. */
    name: string;
    provider: pulumi.dynamic.ResourceProvider;
    /**
     * Outputs the engine stores encrypted; an argument of the same name is secret too. The same list as the dynamic
     * resource's shape (`resourceShape(…, secretOutputs)`; test/plugin/provider/schema.test.ts checks they agree).
     */
    secretOutputs: readonly string[];
    /** What `pulumi import` takes as the id, in words (docs/plugin.md and the schema repeat it). */
    importId: string;
    /**
     * For resources whose provider needs more than the id to find the object (KMS: the instance): the object's id
     * and the state fields that locate it, from an import id. Undefined when `id` is not in the import form. The
     * engine keeps the import id as the resource's id, so every call maps it.
     */
    fromImportId?: (id: string) => { id: string; props: Record<string, unknown> } | undefined;
}

/**
 * `crn:v1:<cloud>:<type>:<kms|hs-crypto>:<region>:a/<account>:<instance guid>:<kind>:<id>`: IBM's CRN of a key
 * (`kind` = `key`), and the same form for a key ring (`key-ring`).
 */
function kmsImportId(kind: "key" | "key-ring") {
    return (id: string) => {
        const parts = id.split(":");
        if (parts.length !== 10 || parts[0] !== "crn" || parts[8] !== kind || parts[9] === "") return undefined;
        const [, , , , service, region, , instanceId, , objectId] = parts;
        if (service !== "kms" && service !== "hs-crypto") return undefined;
        return { id: objectId, props: { instanceId, service, region } };
    };
}

const served: ServedResource[] = [
    { name: "ServiceId", provider: serviceIdProvider, secretOutputs: [], importId: "the service ID's id, `ServiceId-<uuid>`" },
    {
        name: "ServiceApiKey",
        provider: serviceApiKeyProvider,
        secretOutputs: ["apikey"],
        importId: "the API key's id, `ApiKey-<uuid>` (its value is not recovered unless IBM stores it)",
    },
    { name: "AccessPolicy", provider: accessPolicyProvider, secretOutputs: [], importId: "the policy's id (a UUID)" },
    { name: "AuthorizationPolicy", provider: authorizationPolicyProvider, secretOutputs: [], importId: "the policy's id (a UUID)" },
    {
        name: "KmsKey",
        provider: kmsKeyProvider,
        secretOutputs: ["apiKey", "payload"],
        importId: "the key's CRN, `crn:v1:bluemix:public:<kms|hs-crypto>:<region>:a/<account>:<instance guid>:key:<key id>`",
        fromImportId: kmsImportId("key"),
    },
    {
        name: "KmsKeyRing",
        provider: kmsKeyRingProvider,
        secretOutputs: ["apiKey"],
        importId:
            "the instance CRN with `key-ring:<ring id>` as its last two segments, `crn:v1:bluemix:public:<kms|hs-crypto>:<region>:a/<account>:<instance guid>:key-ring:<ring id>`",
        fromImportId: kmsImportId("key-ring"),
    },
    {
        name: "KmsAccessReady",
        provider: kmsAccessReadyProvider,
        secretOutputs: ["apiKey"],
        importId: "not importable: a gate, not a cloud object",
    },
    { name: "TrustedProfile", provider: trustedProfileProvider, secretOutputs: [], importId: "the trusted profile's id, `Profile-<uuid>`" },
    {
        name: "TrustedProfileLink",
        provider: trustedProfileLinkProvider,
        secretOutputs: [],
        importId: "the profile's id and the link's id, `Profile-<uuid>/ProfileLink-<uuid>`",
    },
    {
        name: "TrustedProfileClaimRule",
        provider: trustedProfileClaimRuleProvider,
        secretOutputs: [],
        importId: "the profile's id and the rule's id, `Profile-<uuid>/ClaimRule-<uuid>`",
    },
    {
        name: "TrustedProfileIdentity",
        provider: trustedProfileIdentityProvider,
        secretOutputs: [],
        importId: "the profile's id, the identity's type and its identifier, `Profile-<uuid>|serviceid|ServiceId-<uuid>` (types: serviceid, user, crn)",
    },
];

/** `ibmcloud-iam:index:ServiceId` → what serves it. */
export const RESOURCES: ReadonlyMap<string, ServedResource> = new Map(served.map((r) => [`${PACKAGE}:index:${r.name}`, r]));

/** The type token of a URN (`urn:pulumi:stack::project::parent$type::name` → `type`). */
export function typeOfUrn(urn: string): string {
    const qualified = urn.split("::")[2] ?? "";
    return qualified.split("$").pop() ?? "";
}

/** What serves the resource named by `urn`; an error naming the served types otherwise. */
export function servedFor(urn: string): ServedResource {
    const type = typeOfUrn(urn);
    const r = RESOURCES.get(type);
    if (!r) throw new Error(`${PACKAGE}: unknown resource type ${type}; this provider serves ${[...RESOURCES.keys()].join(", ")}`);
    return r;
}
