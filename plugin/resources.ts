// What the provider plugin serves: each type token mapped to the SAME provider object the dynamic
// resource of that name hands to `pulumi.dynamic.Resource`. Nothing here implements a resource; the plugin
// is a second front door to the one implementation in provider/. A resource's module is loaded on the first
// request for its type (`provider` is a getter): a plugin process serves few types, and start-up is paid on
// every operation (docs/plugin.md, "Start-up").
import type * as pulumi from "@pulumi/pulumi";

/** The plugin's package name: `pulumi-resource-ibmcloud-iam`, type tokens `ibmcloud-iam:index:<Resource>`, config `ibmcloud-iam:<key>`. */
export const PACKAGE = "ibmcloud-iam";

export interface ServedResource {
    /** The resource's name, as the dynamic resource class is called. */
    name: string;
    /** The provider object the dynamic resource uses; its module is loaded when this is first read. */
    readonly provider: pulumi.dynamic.ResourceProvider;
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

/** An instance CRN (`crn:v1:<cloud>:<type>:<kms|hs-crypto>:<region>:a/<account>:<instance guid>::`): its policies. */
function kmsInstanceImportId(id: string): { id: string; props: Record<string, unknown> } | undefined {
    const parts = id.split(":");
    if (parts.length !== 10 || parts[0] !== "crn" || parts[8] !== "" || parts[9] !== "") return undefined;
    const [, , , , service, region, , instanceId] = parts;
    if ((service !== "kms" && service !== "hs-crypto") || instanceId === "") return undefined;
    return { id: instanceId, props: { instanceId, service, region } };
}

const served: ServedEntry[] = [
    {
        name: "ServiceId",
        load: () => (require("../provider/serviceId") as typeof import("../provider/serviceId")).serviceIdProvider,
        secretOutputs: [],
        importId: "the service ID's id, `ServiceId-<uuid>`",
    },
    {
        name: "ServiceApiKey",
        load: () => (require("../provider/serviceApiKey") as typeof import("../provider/serviceApiKey")).serviceApiKeyProvider,
        secretOutputs: ["apikey"],
        importId: "the API key's id, `ApiKey-<uuid>` (its value is not recovered unless IBM stores it)",
    },
    {
        name: "AccessPolicy",
        load: () => (require("../provider/accessPolicy") as typeof import("../provider/accessPolicy")).accessPolicyProvider,
        secretOutputs: [],
        importId: "the policy's id (a UUID)",
    },
    {
        name: "AuthorizationPolicy",
        load: () => (require("../provider/authorizationPolicy") as typeof import("../provider/authorizationPolicy")).authorizationPolicyProvider,
        secretOutputs: [],
        importId: "the policy's id (a UUID)",
    },
    {
        name: "KmsKey",
        load: () => (require("../provider/kmsKey") as typeof import("../provider/kmsKey")).kmsKeyProvider,
        secretOutputs: ["apiKey", "payload"],
        importId: "the key's CRN, `crn:v1:bluemix:public:<kms|hs-crypto>:<region>:a/<account>:<instance guid>:key:<key id>`",
        fromImportId: kmsImportId("key"),
    },
    {
        name: "KmsKeyRing",
        load: () => (require("../provider/kmsKeyRing") as typeof import("../provider/kmsKeyRing")).kmsKeyRingProvider,
        secretOutputs: ["apiKey"],
        importId:
            "the instance CRN with `key-ring:<ring id>` as its last two segments, `crn:v1:bluemix:public:<kms|hs-crypto>:<region>:a/<account>:<instance guid>:key-ring:<ring id>`",
        fromImportId: kmsImportId("key-ring"),
    },
    {
        name: "KmsInstancePolicies",
        load: () => (require("../provider/kmsInstancePolicies") as typeof import("../provider/kmsInstancePolicies")).kmsInstancePoliciesProvider,
        secretOutputs: ["apiKey"],
        importId: "the instance CRN, `crn:v1:bluemix:public:<kms|hs-crypto>:<region>:a/<account>:<instance guid>::` (every policy KMS holds is adopted)",
        fromImportId: kmsInstanceImportId,
    },
    {
        name: "KmsAccessReady",
        load: () => (require("../provider/kmsAccessReady") as typeof import("../provider/kmsAccessReady")).kmsAccessReadyProvider,
        secretOutputs: ["apiKey"],
        importId: "not importable: a gate, not a cloud object",
    },
    {
        name: "TrustedProfile",
        load: () => (require("../provider/trustedProfile") as typeof import("../provider/trustedProfile")).trustedProfileProvider,
        secretOutputs: [],
        importId: "the trusted profile's id, `Profile-<uuid>`",
    },
    {
        name: "TrustedProfileLink",
        load: () => (require("../provider/trustedProfileLink") as typeof import("../provider/trustedProfileLink")).trustedProfileLinkProvider,
        secretOutputs: [],
        importId: "the profile's id and the link's id, `Profile-<uuid>/ProfileLink-<uuid>`",
    },
    {
        name: "TrustedProfileClaimRule",
        load: () => (require("../provider/trustedProfileClaimRule") as typeof import("../provider/trustedProfileClaimRule")).trustedProfileClaimRuleProvider,
        secretOutputs: [],
        importId: "the profile's id and the rule's id, `Profile-<uuid>/ClaimRule-<uuid>`",
    },
    {
        name: "TrustedProfileIdentity",
        load: () => (require("../provider/trustedProfileIdentity") as typeof import("../provider/trustedProfileIdentity")).trustedProfileIdentityProvider,
        secretOutputs: [],
        importId: "the profile's id, the identity's type and its identifier, `Profile-<uuid>|serviceid|ServiceId-<uuid>` (types: serviceid, user, crn)",
    },
];

/** An entry of the table below: the provider's module is required by `load`, once, when `provider` is first read. */
type ServedEntry = Omit<ServedResource, "provider"> & { load: () => pulumi.dynamic.ResourceProvider };

function lazily({ load, ...entry }: ServedEntry): ServedResource {
    let provider: pulumi.dynamic.ResourceProvider | undefined;
    return Object.defineProperty(entry, "provider", { enumerable: true, get: () => (provider ??= load()) }) as ServedResource;
}

/** `ibmcloud-iam:index:ServiceId` → what serves it. */
export const RESOURCES: ReadonlyMap<string, ServedResource> = new Map(served.map((r) => [`${PACKAGE}:index:${r.name}`, lazily(r)]));

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
