// The bad-input table: malformed arguments for every resource and for the KmsAccess
// component, each with the argument its failure must name and what the reason must say. Used by
// test/plugin/badInput.test.ts (check through the real plugin, against the emulator: no request),
// test/components/kmsAccess.badInput.test.ts (construction throws, nothing registered) and
// test/e2e/badInput.test.ts (a few rows through `pulumi preview`).
//
// A row's inputs are a valid base with the row's changes applied (`undefined` removes an argument),
// so each row fails for the one reason it is about; the tests prove every base passes.

export type BadInputTarget =
    | "ServiceId"
    | "ServiceApiKey"
    | "AccessPolicy"
    | "KmsKey"
    | "KmsAccessReady"
    | "KmsKeyRing"
    | "AuthorizationPolicy"
    | "TrustedProfile"
    | "TrustedProfileLink"
    | "TrustedProfileClaimRule"
    | "TrustedProfileIdentity"
    | "KmsAccess";

export interface BadInputRow {
    target: BadInputTarget;
    /** What is wrong, for the test title. */
    what: string;
    /** The whole inputs (base + changes). */
    inputs: Record<string, unknown>;
    /** The property the failure must name, e.g. `roles[1]` or `resource.serviceName`. */
    field: string;
    /** What the reason must say (what is wrong, or the fix). */
    reason: RegExp;
    /** Values that must appear in no failure reason (API keys, key material). */
    secrets: string[];
    /** At most this many failures (many mistakes of one kind are summarized); default: no bound beyond the table's rule. */
    maxFailures?: number;
    /** Check may READ from IBM (the roles IAM lists for a service the offline catalog does not know); it never writes. */
    reads?: boolean;
    /** Why the resource's constructor cannot judge this row (only the provider's check can), if so. */
    checkOnly?: string;
}

/** Options of a row beyond its reason. */
export interface RowOptions {
    secrets?: string[];
    maxFailures?: number;
    reads?: boolean;
    checkOnly?: string;
}

export const INSTANCE = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
export const SERVICE_ID = "ServiceId-5c3f5d1e-2f4a-4b6c-8d7e-9f0a1b2c3d4e";
export const CRN = `crn:v1:bluemix:public:hs-crypto:us-south:a/0123456789abcdef0123456789abcdef:${INSTANCE}::`;
/** A Key Protect instance CRN (instance GUID INSTANCE, us-south). */
export const KP_CRN = `crn:v1:bluemix:public:kms:us-south:a/0123456789abcdef0123456789abcdef:${INSTANCE}::`;
export const PROFILE_ID = "Profile-7d2c4e6f-8a1b-4c3d-9e5f-0a1b2c3d4e5f";
/** An IKS cluster's CRN (a Kubernetes service account is linked by its cluster, namespace and name). */
export const CLUSTER_CRN = "crn:v1:bluemix:public:containers-kubernetes:us-south:a/0123456789abcdef0123456789abcdef:c0ffee0123456789abcd::";
export const KEY_ID = "8a2f0c1e-3d4b-4a5c-9e6f-7a8b9c0d1e2f";
/** Distinctive values standing for secrets: the tests search every reason (and the plugin's output) for them. */
export const SECRET_API_KEY = "BADINPUT-secret-apikey-0123456789abcdefghijklm";
export const SECRET_SHORT_KEY = "BADINPUT-short-secret";
export const SECRET_SPACED_KEY = "BADINPUT secret with spaces 0123456789abcdefghij";
export const SECRET_LONG_KEY = `BADINPUT-long-${"s".repeat(120)}`;
export const SECRET_PAYLOAD_20_BYTES = Buffer.from("BADINPUT-20-bytes-xx").toString("base64");
export const SECRET_PAYLOAD_NOT_BASE64 = "BADINPUT payload is not base64!";

/** A valid set of inputs per target (args, for KmsAccess). */
export const BASES: Readonly<Record<BadInputTarget, Record<string, unknown>>> = {
    ServiceId: { name: "orders-app", description: "runs the orders service", uniqueInstanceCrns: [CRN] },
    ServiceApiKey: { serviceId: SERVICE_ID, name: "orders-key", expiresAt: "2099-01-31T12:00+0000", apikey: SECRET_API_KEY },
    AccessPolicy: { serviceId: SERVICE_ID, roles: ["Reader"], resource: { serviceName: "hs-crypto", serviceInstance: INSTANCE } },
    KmsKey: { instanceId: INSTANCE, name: "orders-root", apiKey: SECRET_API_KEY, expirationDate: "2099-01-31T12:00:00Z" },
    KmsAccessReady: { instanceId: INSTANCE, apiKey: SECRET_API_KEY, timeoutSeconds: 60 },
    KmsKeyRing: { instanceCrn: KP_CRN, keyRingId: "orders-keys", apiKey: SECRET_API_KEY },
    AuthorizationPolicy: { sourceServiceName: "cloud-object-storage", targetServiceName: "kms", targetServiceInstance: INSTANCE, roles: ["Reader"] },
    TrustedProfile: { name: "orders-runtime", description: "what the orders pods run as" },
    TrustedProfileLink: { profileId: PROFILE_ID, crType: "IKS_SA", crn: CLUSTER_CRN, namespace: "orders", serviceAccount: "api" },
    TrustedProfileClaimRule: {
        profileId: PROFILE_ID,
        type: "Profile-CR",
        crType: "IKS_SA",
        conditions: [{ claim: "namespace", operator: "EQUALS", value: "orders" }],
        expiration: 3600,
    },
    TrustedProfileIdentity: { profileId: PROFILE_ID, identityType: "serviceid", identifier: SERVICE_ID, description: "the CI deployer" },
    KmsAccess: { instance: { instanceId: INSTANCE, region: "us-south" }, roles: ["Writer"], serviceIdName: "orders-app" },
};

/** Every secret value a base carries (they must not leak from any row). */
const BASE_SECRETS: Readonly<Record<BadInputTarget, string[]>> = {
    ServiceId: [],
    ServiceApiKey: [SECRET_API_KEY],
    AccessPolicy: [],
    KmsKey: [SECRET_API_KEY],
    KmsAccessReady: [SECRET_API_KEY],
    KmsKeyRing: [SECRET_API_KEY],
    AuthorizationPolicy: [],
    TrustedProfile: [],
    TrustedProfileLink: [],
    TrustedProfileClaimRule: [],
    TrustedProfileIdentity: [],
    KmsAccess: [],
};

function apply(base: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(changes)) {
        if (v === undefined) delete out[k];
        else out[k] = v;
    }
    return out;
}

const rows: BadInputRow[] = [];
function row(target: BadInputTarget, what: string, changes: Record<string, unknown>, field: string, reason: RegExp, options: string[] | RowOptions = []): void {
    const o: RowOptions = Array.isArray(options) ? { secrets: options } : options;
    rows.push({
        target,
        what,
        inputs: apply(BASES[target], changes),
        field,
        reason,
        secrets: [...BASE_SECRETS[target], ...(o.secrets ?? [])],
        ...(o.maxFailures !== undefined ? { maxFailures: o.maxFailures } : {}),
        ...(o.reads ? { reads: true, checkOnly: "only IAM knows the roles of this service" } : {}),
        ...(o.checkOnly ? { checkOnly: o.checkOnly } : {}),
    });
}

/** A value far too long for any argument (1 MiB), to show that no error echoes more than a short prefix of it. */
export const HUGE_TEXT = `BADINPUT-huge-${"x".repeat(1024 * 1024)}`;
/** 500 roles no service has. */
export const MADE_UP_ROLES = Array.from({ length: 500 }, (_v, i) => `MadeUpRole${i}`);

const policyResource = (resource: Record<string, unknown>) => ({ resource });

// ---------- ServiceId ----------
row("ServiceId", "name left out", { name: undefined }, "name", /name is required: service ID name must be a string/);
row("ServiceId", "empty name", { name: "" }, "name", /must not be empty; give it a name such as "my-app"/);
row("ServiceId", "blank name", { name: "   " }, "name", /must not be empty/);
row("ServiceId", "name of 1001 characters", { name: "n".repeat(1001) }, "name", /at most 1000 characters/);
row("ServiceId", "name of the wrong type", { name: 42 }, "name", /service ID name must be a string/);
row("ServiceId", "description of 1001 characters", { description: "d".repeat(1001) }, "description", /at most 1000 characters/);
row("ServiceId", "description of the wrong type", { description: { text: "x" } }, "description", /description must be a string/);
row("ServiceId", "uniqueInstanceCrns as one string", { uniqueInstanceCrns: CRN }, "uniqueInstanceCrns", /must be a list of CRN strings/);
row(
    "ServiceId",
    "an entry that is not a CRN",
    { uniqueInstanceCrns: ["my-hpcs-instance"] },
    "uniqueInstanceCrns[0]",
    /must be a CRN such as crn:v1:bluemix:public:/,
);
row(
    "ServiceId",
    "a CRN cut short",
    { uniqueInstanceCrns: [CRN, "crn:v1:bluemix:public:hs-crypto:us-south"] },
    "uniqueInstanceCrns[1]",
    /must be a CRN such as/,
);
row("ServiceId", "the same CRN twice", { uniqueInstanceCrns: [CRN, CRN] }, "uniqueInstanceCrns[1]", /twice \(also at \[0\]\); list each CRN once/);
row("ServiceId", "a NUL character in the name", { name: "orders\u0000app" }, "name", /contains the control character U\+0000 \(NUL\) at character 7/);
row("ServiceId", "a line break in the name", { name: "orders\napp" }, "name", /control character U\+000A .*one line of printable text/);
row("ServiceId", "an escape character in the description", { description: "runs \u001b[31morders" }, "description", /control character U\+001B/);
row("ServiceId", "half a surrogate pair in the description", { description: "orders \ud83d" }, "description", /half of a surrogate pair \(U\+D83D\)/);
row("ServiceId", "a description of 1 MiB (not echoed)", { description: HUGE_TEXT }, "description", /^description must be at most 1000 characters$/);
row("ServiceId", "locked as a string", { locked: "true" }, "locked", /locked must be true or false/);
row("ServiceId", "a misspelt argument", { nmae: "orders" }, "nmae", /unknown argument "nmae"; did you mean "name"\?/);
row(
    "ServiceId",
    "Terraform's argument name",
    { unique_instance_crns: [CRN], uniqueInstanceCrns: undefined },
    "unique_instance_crns",
    /did you mean "uniqueInstanceCrns"\?/,
);

// ---------- ServiceApiKey ----------
row("ServiceApiKey", "serviceId left out", { serviceId: undefined }, "serviceId", /serviceId is required/);
row(
    "ServiceApiKey",
    "serviceId given as a name",
    { serviceId: "orders-app" },
    "serviceId",
    /must be a service ID such as ServiceId-<uuid>.*pass the serviceId \(or iamId\) output/,
);
row("ServiceApiKey", "serviceId of a trusted profile", { serviceId: "iam-Profile-5c3f5d1e" }, "serviceId", /must be a service ID/);
row("ServiceApiKey", "empty name", { name: "" }, "name", /API key name must not be empty/);
row("ServiceApiKey", "name of 1001 characters", { name: "k".repeat(1001) }, "name", /at most 1000 characters/);
row("ServiceApiKey", "a tab in the name", { name: "orders\tkey" }, "name", /API key name contains the control character U\+0009/);
row("ServiceApiKey", "a name of 1 MiB (not echoed)", { name: HUGE_TEXT }, "name", /^API key name must be at most 1000 characters$/);
row("ServiceApiKey", "expiresAt unreadable", { expiresAt: "next tuesday" }, "expiresAt", /must be a date-time such as 2030-01-31T12:00\+0000/);
row("ServiceApiKey", "expiresAt in the past", { expiresAt: "2020-01-01T00:00+0000" }, "expiresAt", /must be in the future/, {
    checkOnly: "an unchanged date may have passed since the key was made; only check knows the stack's old inputs",
});
row("ServiceApiKey", "expiresAt on a day that does not exist", { expiresAt: "2099-02-30T12:00+0000" }, "expiresAt", /2099-02-30 does not exist/);
row("ServiceApiKey", "expiresAt without a time zone", { expiresAt: "2099-01-31T12:00" }, "expiresAt", /no time zone: add Z \(UTC\) or an offset/);
row("ServiceApiKey", "expiresAt as epoch seconds", { expiresAt: 4070908800 }, "expiresAt", /must be a date-time string/);
row("ServiceApiKey", "actionWhenLeaked unknown", { actionWhenLeaked: "revoke" }, "actionWhenLeaked", /one of none, disable, delete/);
row("ServiceApiKey", "apikey shorter than 32 characters", { apikey: SECRET_SHORT_KEY }, "apikey", /at least 32 characters/, [SECRET_SHORT_KEY]);
row("ServiceApiKey", "apikey with whitespace", { apikey: SECRET_SPACED_KEY }, "apikey", /must not contain whitespace/, [SECRET_SPACED_KEY]);
row("ServiceApiKey", "apikey longer than 128 characters", { apikey: SECRET_LONG_KEY }, "apikey", /at most 128 characters/, [SECRET_LONG_KEY]);
row("ServiceApiKey", "supportSessions as a string", { supportSessions: "yes" }, "supportSessions", /true or false/);
row("ServiceApiKey", "rotationTrigger as an object", { rotationTrigger: { n: 1 } }, "rotationTrigger", /a string or a number/);
row("ServiceApiKey", "empty outputFile", { outputFile: "" }, "outputFile", /must not be empty; give a path such as/);
row("ServiceApiKey", "Terraform's expires_at", { expires_at: "2099-01-31T12:00+0000", expiresAt: undefined }, "expires_at", /did you mean "expiresAt"\?/);

// ---------- AccessPolicy ----------
row("AccessPolicy", "no subject", { serviceId: undefined }, "serviceId", /needs a subject: set serviceId .* or iamId/);
row("AccessPolicy", "both serviceId and iamId (contradictory)", { iamId: `iam-${SERVICE_ID}` }, "serviceId", /not both/);
row("AccessPolicy", "serviceId given as a name", { serviceId: "orders-app" }, "serviceId", /must be a service ID such as ServiceId-/);
row("AccessPolicy", "a bare ServiceId-… as iamId", { serviceId: undefined, iamId: SERVICE_ID }, "iamId", /a bare ServiceId-… goes in serviceId/);
row("AccessPolicy", "roles left out", { roles: undefined }, "roles", /roles is required: roles must be a list/);
row("AccessPolicy", "no roles", { roles: [] }, "roles", /at least one role/);
row("AccessPolicy", "roles as one string", { roles: "Writer" }, "roles", /must be a list of role names/);
row(
    "AccessPolicy",
    "a misspelt role",
    { roles: ["Wrtier"] },
    "roles[0]",
    /unknown role "Wrtier" for hs-crypto; valid roles: .*Writer.*Key Custodian - Creator/,
);
row(
    "AccessPolicy",
    "500 made-up roles (summarized)",
    { roles: MADE_UP_ROLES },
    "roles[3]",
    /^and 497 more with the same problem as roles\[0\] \(roles\[3\], roles\[4\], roles\[5\] … roles\[499\]\)$/,
    {
        maxFailures: 4,
    },
);
row(
    "AccessPolicy",
    "made-up roles of a service outside the offline catalog (asked of IAM at check)",
    { roles: ["Reader", "BucketWizard"], ...policyResource({ serviceName: "cloud-object-storage" }) },
    "roles[1]",
    /unknown role "BucketWizard" for cloud-object-storage; valid roles: .*Reader, Writer, Manager/,
    { reads: true },
);
row(
    "AccessPolicy",
    "500 made-up roles of a service outside the offline catalog (summarized)",
    { roles: MADE_UP_ROLES, ...policyResource({ serviceName: "cloud-object-storage" }) },
    "roles[0]",
    /unknown role "MadeUpRole0" for cloud-object-storage/,
    { reads: true, maxFailures: 4 },
);
row(
    "AccessPolicy",
    "a role name of 1 MiB (not echoed)",
    { roles: [HUGE_TEXT] },
    "roles[0]",
    /^unknown role "BADINPUT-huge-x+…\(1048590 characters\)" for hs-crypto/,
);
row("AccessPolicy", "an empty role", { roles: ["Reader", ""] }, "roles[1]", /must not be empty/);
row("AccessPolicy", "a role listed twice", { roles: ["Reader", "reader"] }, "roles[1]", /grants the same role as roles\[0\].*list each role once/);
row("AccessPolicy", "a role CRN of another service", { roles: ["crn:v1:bluemix:public:kms::::serviceRole:KeyPurge"] }, "roles[0]", /not valid for hs-crypto/);
row("AccessPolicy", "a malformed role CRN", { roles: ["crn:v1:bluemix:Writer"] }, "roles[0]", /is not a role CRN; expected crn:v1:bluemix:public:/);
row(
    "AccessPolicy",
    "an HPCS-only role on Key Protect",
    { roles: ["Vault Administrator"], ...policyResource({ serviceName: "kms" }) },
    "roles[0]",
    /unknown role "Vault Administrator" for kms/,
);
row(
    "AccessPolicy",
    "a service role on all account management services",
    { ...policyResource({ serviceType: "platform_service" }) },
    "roles[0]",
    /valid roles: Viewer, Operator, Editor, Administrator$/,
);
row("AccessPolicy", "resource left out", { resource: undefined }, "resource", /resource is required: resource must be an object such as/);
row("AccessPolicy", "an empty resource", { ...policyResource({}) }, "resource.serviceName", /needs serviceName .*, serviceType .* or resourceGroupId/);
row(
    "AccessPolicy",
    "an instance without its service",
    { ...policyResource({ serviceInstance: INSTANCE, resourceGroupId: "0123456789abcdef0123456789abcdef" }) },
    "resource.serviceName",
    /serviceInstance needs resource.serviceName/,
);
row(
    "AccessPolicy",
    "an unknown service (typo)",
    { ...policyResource({ serviceName: "hs-crpyto", serviceInstance: INSTANCE }) },
    "resource.serviceName",
    /unknown service "hs-crpyto"; did you mean "hs-crypto"\?/,
);
row("AccessPolicy", "a service by its product name", { ...policyResource({ serviceName: "hpcs" }) }, "resource.serviceName", /did you mean "hs-crypto"\?/);
row(
    "AccessPolicy",
    "a service name in capitals",
    { ...policyResource({ serviceName: "Cloud-Object-Storage" }) },
    "resource.serviceName",
    /not a service name: .*lowercase/,
);
row(
    "AccessPolicy",
    "an object member's name as the service (check used to throw)",
    { ...policyResource({ serviceName: "__proto__" }) },
    "resource.serviceName",
    /"__proto__" is not a service name/,
);
row(
    "AccessPolicy",
    "a KMS service scoped as an account management service (contradictory)",
    { ...policyResource({ serviceName: "hs-crypto", serviceType: "platform_service" }) },
    "resource.serviceType",
    /not an account management service.*remove serviceType/,
);
row("AccessPolicy", "an unknown serviceType", { ...policyResource({ serviceType: "services" }) }, "resource.serviceType", /"service" .* or "platform_service"/);
row(
    "AccessPolicy",
    "accountId as an attribute",
    { ...policyResource({ serviceName: "kms", attributes: { accountId: "0123" } }) },
    "resource.attributes.accountId",
    /taken from the deployer's credentials; remove it/,
);
row(
    "AccessPolicy",
    "a named field as an attribute",
    { ...policyResource({ serviceName: "kms", attributes: { serviceInstance: INSTANCE } }) },
    "resource.attributes.serviceInstance",
    /use resource.serviceInstance instead/,
);
row(
    "AccessPolicy",
    "a tag value with a colon",
    { ...policyResource({ serviceName: "kms", tags: { env: "prod:eu" } }) },
    "resource.tags.env",
    /tag value "prod:eu" must be/,
);
row("AccessPolicy", "an empty region", { ...policyResource({ serviceName: "kms", region: "" }) }, "resource.region", /must not be empty; leave it out instead/);
row("AccessPolicy", "a misspelt resource field", { ...policyResource({ servicename: "kms" }) }, "resource.servicename", /did you mean "serviceName"\?/);
row("AccessPolicy", "description of 301 characters", { description: "d".repeat(301) }, "description", /at most 300 characters/);
row("AccessPolicy", "adoptExisting as a string", { adoptExisting: "yes" }, "adoptExisting", /true or false/);

// ---------- KmsKey ----------
row("KmsKey", "instanceId given as a name", { instanceId: "my-hpcs" }, "instanceId", /instance GUID such as/);
row(
    "KmsKey",
    "instanceId given as the instance CRN",
    { instanceId: CRN },
    "instanceId",
    /the last-but-two segment of the instance CRN\); to give the instance by its CRN, use instanceCrn/,
);
row(
    "KmsKey",
    "instanceCrn that is a key's CRN",
    { instanceId: undefined, instanceCrn: `${CRN.slice(0, -2)}:key:${KEY_ID}` },
    "instanceCrn",
    /CRN of a key inside the instance, not of the instance/,
);
row(
    "KmsKey",
    "instanceCrn of another service",
    { instanceId: undefined, instanceCrn: CRN.replace("hs-crypto", "cloud-object-storage") },
    "instanceCrn",
    /not of a KMS instance/,
);
row(
    "KmsKey",
    "instanceCrn contradicting service (contradictory)",
    { instanceId: undefined, instanceCrn: KP_CRN, service: "hs-crypto" },
    "service",
    /contradicts instanceCrn, which says service kms/,
);
row(
    "KmsKey",
    "instanceCrn contradicting instanceId (contradictory)",
    { instanceCrn: KP_CRN, instanceId: "11111111-2222-3333-4444-555555555555" },
    "instanceId",
    /contradicts instanceCrn/,
);
row("KmsKey", "a rotation interval of 13 months", { rotation: { intervalMonth: 13 } }, "rotation.intervalMonth", /1 to 12 months/);
row("KmsKey", "a rotation without its interval", { rotation: { enabled: true } }, "rotation.intervalMonth", /rotation.intervalMonth is required/);
row("KmsKey", "rotation on a standard key (contradictory)", { type: "standard", rotation: { intervalMonth: 3 } }, "rotation", /only root keys rotate/);
row(
    "KmsKey",
    "rotationTrigger on an imported root key (contradictory)",
    { payload: Buffer.alloc(32, 7).toString("base64"), rotationTrigger: 1 },
    "rotationTrigger",
    /rotates only with new material/,
);
row("KmsKey", "dualAuthDelete as a boolean", { dualAuthDelete: true }, "dualAuthDelete", /must be an object such as \{ enabled: true \}/);
row("KmsKey", "an unknown service", { service: "key-protect" }, "service", /hs-crypto \(Hyper Protect Crypto Services\) or kms \(Key Protect\)/);
row("KmsKey", "a region by its display name", { region: "Dallas" }, "region", /region id such as us-south/);
row("KmsKey", "a plain-http endpoint", { endpoint: "http://kms.example.com" }, "endpoint", /must use https/);
row("KmsKey", "an endpoint that is not a URL", { endpoint: "kms at us-south" }, "endpoint", /is not a URL/);
row("KmsKey", "a one-character name", { name: "k" }, "name", /2 to 90 characters/);
row("KmsKey", "a name of 91 characters", { name: "k".repeat(91) }, "name", /at most 90 characters \(a KMS limit\)/);
row("KmsKey", "description of 241 characters", { description: "d".repeat(241) }, "description", /at most 240 characters/);
row("KmsKey", "a key ring with a space", { keyRing: "my ring" }, "keyRing", /2 to 100 letters, digits or dashes/);
row("KmsKey", "expirationDate on a day that does not exist", { expirationDate: "2099-02-30T00:00:00Z" }, "expirationDate", /2099-02-30 does not exist/);
row("KmsKey", "expirationDate in the past", { expirationDate: "2001-01-01T00:00:00Z" }, "expirationDate", /must be in the future/, {
    checkOnly: "an unchanged date may have passed since the key was made; only check knows the stack's old inputs",
});
row("KmsKey", "expirationDate without a time", { expirationDate: "2099-01-31" }, "expirationDate", /RFC 3339 date-time such as/);
row("KmsKey", "an unknown key type", { type: "symmetric" }, "type", /root .* or standard/);
row("KmsKey", "payload that is not base64", { payload: SECRET_PAYLOAD_NOT_BASE64 }, "payload", /must be base64/, [SECRET_PAYLOAD_NOT_BASE64]);
row("KmsKey", "a root key payload of 20 bytes (contradicts type root)", { payload: SECRET_PAYLOAD_20_BYTES }, "payload", /16, 24 or 32 bytes.*has 20/, [
    SECRET_PAYLOAD_20_BYTES,
]);
row("KmsKey", "an empty apiKey", { apiKey: "" }, "apiKey", /must not be empty; pass the service ID's API key/);
row("KmsKey", "apiKey left out", { apiKey: undefined }, "apiKey", /apiKey is required/);
row("KmsKey", "force as a string", { force: "yes" }, "force", /true or false/);
row("KmsKey", "the key under ServiceApiKey's spelling", { apikey: SECRET_API_KEY }, "apikey", /did you mean "apiKey"\?/);

// ---------- KmsAccessReady ----------
row("KmsAccessReady", "instanceId not a GUID", { instanceId: "nope" }, "instanceId", /instance GUID/);
row("KmsAccessReady", "apiKey left out", { apiKey: undefined }, "apiKey", /apiKey is required/);
row("KmsAccessReady", "apiKey of the wrong type", { apiKey: 42 }, "apiKey", /must be the service ID's API key/);
row("KmsAccessReady", "a zero timeout (contradicts having a gate)", { timeoutSeconds: 0 }, "timeoutSeconds", /more than 0.*do not create the gate/);
row("KmsAccessReady", "a timeout over an hour", { timeoutSeconds: 3601 }, "timeoutSeconds", /at most 3600/);
row("KmsAccessReady", "timeoutSeconds as a string", { timeoutSeconds: "60" }, "timeoutSeconds", /a number of seconds/);
row("KmsAccessReady", "an empty policyId", { policyId: "" }, "policyId", /must not be empty/);
row("KmsAccessReady", "an unknown service", { service: "vault" }, "service", /hs-crypto .* or kms/);
row("KmsAccessReady", "an ftp endpoint", { endpoint: "ftp://kms.example.com" }, "endpoint", /https/);

// ---------- KmsKeyRing ----------
row("KmsKeyRing", "the default ring", { keyRingId: "default" }, "keyRingId", /cannot be created or deleted/);
row("KmsKeyRing", "a ring id with a space", { keyRingId: "orders keys" }, "keyRingId", /2 to 100 letters, digits or dashes/);
row("KmsKeyRing", "a ring id with a ! (the README's mistake)", { keyRingId: "orders_keys!" }, "keyRingId", /2 to 100 letters, digits or dashes/);
row("KmsKeyRing", "keyRingId left out", { keyRingId: undefined }, "keyRingId", /keyRingId is required/);
row("KmsKeyRing", "a malformed instanceCrn", { instanceCrn: "crn:v1:bluemix:public:kms:us-south" }, "instanceCrn", /10 colon-separated segments/);
row("KmsKeyRing", "instanceCrn contradicting region (contradictory)", { region: "eu-de" }, "region", /contradicts instanceCrn, which says region us-south/);
row("KmsKeyRing", "no instance at all", { instanceCrn: undefined }, "instanceId", /instanceId is required/);
row("KmsKeyRing", "an empty apiKey", { apiKey: "" }, "apiKey", /must not be empty/);
row("KmsKeyRing", "force as a string", { force: "yes" }, "force", /true or false/);
row("KmsKeyRing", "Terraform's force_delete", { force_delete: true }, "force_delete", /unknown argument "force_delete"/);

// ---------- AuthorizationPolicy ----------
row("AuthorizationPolicy", "sourceServiceName left out", { sourceServiceName: undefined }, "sourceServiceName", /sourceServiceName is required/);
row(
    "AuthorizationPolicy",
    "a source service in capitals",
    { sourceServiceName: "Cloud-Object-Storage" },
    "sourceServiceName",
    /lowercase letters, digits and dashes/,
);
row(
    "AuthorizationPolicy",
    "a target that is not a KMS service",
    { targetServiceName: "cloud-object-storage" },
    "targetServiceName",
    /kms \(Key Protect\) or hs-crypto/,
);
row("AuthorizationPolicy", "a service authorized to itself (contradictory)", { sourceServiceName: "kms" }, "sourceServiceName", /not authorized to itself/);
row("AuthorizationPolicy", "targetServiceInstance given as a name", { targetServiceInstance: "my-kp" }, "targetServiceInstance", /instance GUID/);
row("AuthorizationPolicy", "a misspelt role", { roles: ["Raeder"] }, "roles[0]", /unknown role "Raeder" for kms; valid roles:/);
row(
    "AuthorizationPolicy",
    "an HPCS-only role on Key Protect",
    { roles: ["Key Custodian - Creator"] },
    "roles[0]",
    /unknown role "Key Custodian - Creator" for kms/,
);
row("AuthorizationPolicy", "no roles", { roles: [] }, "roles", /at least one role/);
row("AuthorizationPolicy", "a role listed twice", { roles: ["Reader", "reader"] }, "roles[1]", /grants the same role as roles\[0\]/);
row("AuthorizationPolicy", "a key without targetResourceType", { targetResource: KEY_ID }, "targetResourceType", /needs targetResourceType: "key"/);
row("AuthorizationPolicy", "targetResourceType key without the key", { targetResourceType: "key" }, "targetResource", /needs targetResource: the key's id/);
row("AuthorizationPolicy", "a resource type other than key", { targetResourceType: "bucket", targetResource: KEY_ID }, "targetResourceType", /must be "key"/);
row(
    "AuthorizationPolicy",
    "the key's CRN as targetResource",
    { targetResourceType: "key", targetResource: `${KP_CRN.slice(0, -2)}:key:${KEY_ID}` },
    "targetResource",
    /not its name or CRN/,
);
row(
    "AuthorizationPolicy",
    "Terraform's source_service_name",
    { source_service_name: "cloud-object-storage", sourceServiceName: undefined },
    "source_service_name",
    /did you mean "sourceServiceName"\?/,
);
row("AuthorizationPolicy", "description of 301 characters", { description: "d".repeat(301) }, "description", /at most 300 characters/);

// ---------- KmsAccess (the component: construction throws) ----------
const inst = (changes: Record<string, unknown>) => ({ instance: apply(BASES.KmsAccess.instance as Record<string, unknown>, changes) });
row("KmsAccess", "instance left out", { instance: undefined }, "instance", /instance is required/);
row("KmsAccess", "instance.instanceId given as a name", inst({ instanceId: "my-hpcs" }), "instance.instanceId", /instance GUID/);
row("KmsAccess", "an unknown instance.service", inst({ service: "key-protect" }), "instance.service", /hs-crypto .* or kms/);
row("KmsAccess", "a region by its display name", inst({ region: "Dallas" }), "instance.region", /region id such as us-south/);
row("KmsAccess", "a plain-http instance.endpoint", inst({ endpoint: "http://kms.example.com" }), "instance.endpoint", /must use https/);
row("KmsAccess", "a malformed instance.crn", { instance: { crn: "crn:v1:bluemix:public:kms" } }, "instance.crn", /instance.crn is not a KMS instance CRN/);
row(
    "KmsAccess",
    "instance.crn contradicting instance.service (contradictory)",
    { instance: { crn: KP_CRN, service: "hs-crypto" } },
    "instance.service",
    /contradicts instance.crn/,
);
row("KmsAccess", "no roles", { roles: [] }, "roles", /at least one role/);
row("KmsAccess", "a misspelt role", { roles: ["Wrtier"] }, "roles[0]", /unknown role "Wrtier" for hs-crypto; valid roles:/);
row("KmsAccess", "500 made-up roles (summarized)", { roles: MADE_UP_ROLES }, "roles[3]", /^and 497 more with the same problem as roles\[0\]/, {
    maxFailures: 4,
});
row("KmsAccess", "a NUL character in the description", { description: "orders\u0000" }, "description", /control character U\+0000 \(NUL\)/);
row("KmsAccess", "a role listed twice", { roles: ["Writer", "writer"] }, "roles[1]", /grants the same role as roles\[0\]/);
row(
    "KmsAccess",
    "an HPCS-only role on Key Protect",
    { roles: ["Key Custodian - Creator"], ...inst({ service: "kms" }) },
    "roles[0]",
    /unknown role "Key Custodian - Creator" for kms/,
);
row("KmsAccess", "an empty serviceIdName", { serviceIdName: "" }, "serviceIdName", /must not be empty/);
row("KmsAccess", "a serviceIdName too long for its API key's name", { serviceIdName: "s".repeat(994) }, "serviceIdName", /at most 993 characters/);
row("KmsAccess", "description of 1001 characters", { description: "d".repeat(1001) }, "description", /at most 1000 characters/);
row("KmsAccess", "expiresAt in the past", { expiresAt: "2020-01-01T00:00+0000" }, "expiresAt", /must be in the future/);
row("KmsAccess", "storeValue as a string", { storeValue: "yes" }, "storeValue", /true or false/);
row("KmsAccess", "a negative wait", { waitForAccess: { timeoutSeconds: -1 } }, "waitForAccess.timeoutSeconds", /≥ 0 \(0 disables the wait\)/);
row("KmsAccess", "a wait of two hours", { waitForAccess: { timeoutSeconds: 7200 } }, "waitForAccess.timeoutSeconds", /at most 3600/);
row("KmsAccess", "a misspelt argument", { role: ["Writer"] }, "role", /did you mean "roles"\?/);
row("KmsAccess", "an empty outputFile", { outputFile: "" }, "outputFile", /must not be empty/);
row("KmsAccess", "rotationTrigger as a boolean", { rotationTrigger: true }, "rotationTrigger", /a string or a number/);

// ---------- TrustedProfile ----------
row("TrustedProfile", "name left out", { name: undefined }, "name", /name is required: trusted profile name must be a string/);
row("TrustedProfile", "empty name", { name: "" }, "name", /trusted profile name must not be empty/);
row("TrustedProfile", "name of 1001 characters", { name: "p".repeat(1001) }, "name", /at most 1000 characters/);
row("TrustedProfile", "description of the wrong type", { description: 7 }, "description", /description must be a string/);
row("TrustedProfile", "a misspelt argument", { descripton: "x" }, "descripton", /did you mean "description"\?/);
row("TrustedProfile", "Terraform's email argument (not modelled here)", { email: "a@example.com" }, "email", /unknown argument "email"/);

// ---------- TrustedProfileLink ----------
row("TrustedProfileLink", "profileId left out", { profileId: undefined }, "profileId", /profileId is required/);
row(
    "TrustedProfileLink",
    "profileId given as a name",
    { profileId: "orders-runtime" },
    "profileId",
    /trusted profile's id \(Profile-<uuid>\), e\.g\. profileId: profile\.profileId/,
);
row("TrustedProfileLink", "crType unknown", { crType: "POD" }, "crType", /crType must be one of VSI, BMS, PVS, IKS_SA, ROKS_SA, CE/);
row("TrustedProfileLink", "crn that is not a CRN", { crn: "my-cluster" }, "crn", /crn must be a CRN such as/);
row("TrustedProfileLink", "a service account without its namespace", { namespace: undefined }, "namespace", /namespace is required for IKS_SA/);
row("TrustedProfileLink", "a service account without its name", { serviceAccount: undefined }, "serviceAccount", /serviceAccount is required for IKS_SA/);
row(
    "TrustedProfileLink",
    "a VSI with a namespace",
    { crType: "VSI", serviceAccount: undefined },
    "namespace",
    /applies only to IKS_SA and ROKS_SA links; remove it for VSI/,
);
row(
    "TrustedProfileLink",
    "a Code Engine link without its component",
    { crType: "CE", namespace: undefined, serviceAccount: undefined },
    "componentType",
    /componentType is required for CE links/,
);
row("TrustedProfileLink", "isCrossAccount as a string", { isCrossAccount: "yes" }, "isCrossAccount", /true or false/);
row("TrustedProfileLink", "Terraform's cr_type", { cr_type: "IKS_SA", crType: undefined }, "cr_type", /did you mean "crType"\?/);

// ---------- TrustedProfileClaimRule ----------
const SAML_REALM = "https://sso.example.com/saml";
row("TrustedProfileClaimRule", "profileId given as a name", { profileId: "orders-runtime" }, "profileId", /trusted profile's id \(Profile-<uuid>\)/);
row("TrustedProfileClaimRule", "type unknown", { type: "Profile-K8S" }, "type", /type must be Profile-CR \(a compute resource's claims\) or Profile-SAML/);
row("TrustedProfileClaimRule", "a Profile-CR rule without crType", { crType: undefined }, "crType", /crType is required for a Profile-CR rule/);
row("TrustedProfileClaimRule", "a Profile-CR rule with a realm", { realmName: SAML_REALM }, "realmName", /realmName applies only to Profile-SAML rules/);
row(
    "TrustedProfileClaimRule",
    "a Profile-SAML rule without its realm",
    { type: "Profile-SAML", crType: undefined },
    "realmName",
    /realmName is required for a Profile-SAML rule: the identity provider's realm/,
);
row(
    "TrustedProfileClaimRule",
    "a Profile-SAML rule with crType",
    { type: "Profile-SAML", realmName: SAML_REALM },
    "crType",
    /crType applies only to Profile-CR rules; remove it for Profile-SAML/,
);
row("TrustedProfileClaimRule", "no conditions", { conditions: [] }, "conditions", /at least one condition/);
row("TrustedProfileClaimRule", "conditions left out", { conditions: undefined }, "conditions", /conditions is required/);
row(
    "TrustedProfileClaimRule",
    "an operator IBM does not have",
    { conditions: [{ claim: "namespace", operator: "MATCHES", value: "orders" }] },
    "conditions[0].operator",
    /operator must be one of EQUALS, NOT_EQUALS, EQUALS_IGNORE_CASE, NOT_EQUALS_IGNORE_CASE, CONTAINS, IN/,
);
row(
    "TrustedProfileClaimRule",
    "IN with one string",
    { conditions: [{ claim: "namespace", operator: "IN", value: "orders" }] },
    "conditions[0].value",
    /the IN operator takes a list of strings, e\.g\. value: \["orders"\]/,
);
row(
    "TrustedProfileClaimRule",
    "a list without IN",
    { conditions: [{ claim: "namespace", operator: "EQUALS", value: ["orders"] }] },
    "conditions[0].value",
    /a list of values needs the IN operator/,
);
row(
    "TrustedProfileClaimRule",
    "Terraform's JSON-quoted value",
    { conditions: [{ claim: "namespace", operator: "EQUALS", value: '"orders"' }] },
    "conditions[0].value",
    /write "orders" without its quotes/,
);
row(
    "TrustedProfileClaimRule",
    "a condition without its claim",
    { conditions: [{ operator: "EQUALS", value: "orders" }] },
    "conditions[0].claim",
    /claim is required/,
);
row("TrustedProfileClaimRule", "expiration under 15 minutes", { expiration: 60 }, "expiration", /at least 900 seconds/);
row("TrustedProfileClaimRule", "expiration over 12 hours", { expiration: 86400 }, "expiration", /at most 43200 seconds/);
row("TrustedProfileClaimRule", "expiration as a string", { expiration: "1h" }, "expiration", /expiration must be a number of seconds/);
row("TrustedProfileClaimRule", "Terraform's cr_type", { cr_type: "IKS_SA", crType: undefined }, "cr_type", /did you mean "crType"\?/);
row("TrustedProfileClaimRule", "Terraform's realm_name", { realm_name: SAML_REALM }, "realm_name", /did you mean "realmName"\?/);

// ---------- TrustedProfileIdentity ----------
row("TrustedProfileIdentity", "identityType unknown", { identityType: "profile" }, "identityType", /identityType must be one of serviceid, user, crn/);
row(
    "TrustedProfileIdentity",
    "a service ID given by its IAM id",
    { identifier: `iam-${SERVICE_ID}` },
    "identifier",
    /the service ID's id \(ServiceId-<uuid>\), e\.g\. identifier: serviceId\.serviceId/,
);
row(
    "TrustedProfileIdentity",
    "a user given by e-mail",
    { identityType: "user", identifier: "ops@example.com" },
    "identifier",
    /the user's IAM id \(IBMid-…\), not an e-mail address/,
);
row("TrustedProfileIdentity", "a crn identity that is not a CRN", { identityType: "crn", identifier: "my-project" }, "identifier", /must be a CRN such as/);
row(
    "TrustedProfileIdentity",
    "accounts for a service ID",
    { accounts: ["0123456789abcdef0123456789abcdef"] },
    "accounts",
    /accounts applies only to user identities; remove it for serviceid/,
);
row(
    "TrustedProfileIdentity",
    "an account that is not an account id",
    { identityType: "user", identifier: "IBMid-550000ABCD", accounts: ["my-account"] },
    "accounts[0]",
    /account id \(32 lowercase hex characters\)/,
);
row("TrustedProfileIdentity", "profileId left out", { profileId: undefined }, "profileId", /profileId is required/);
row(
    "TrustedProfileIdentity",
    "Terraform's identity_type",
    { identity_type: "serviceid", identityType: undefined },
    "identity_type",
    /did you mean "identityType"\?/,
);

/** Every row, in table order. */
export const BAD_INPUTS: ReadonlyArray<BadInputRow> = Object.freeze(rows);

/** The rows for one target. */
export function badInputsFor(target: BadInputTarget): BadInputRow[] {
    return BAD_INPUTS.filter((r) => r.target === target);
}

/** The argument names a target takes (a failure's property must start with one, or with an argument the row added). */
export const KNOWN_ARGUMENTS: Readonly<Record<BadInputTarget, string[]>> = {
    ServiceId: ["name", "description", "uniqueInstanceCrns", "locked"],
    ServiceApiKey: [
        "serviceId",
        "name",
        "description",
        "expiresAt",
        "actionWhenLeaked",
        "supportSessions",
        "locked",
        "disabled",
        "storeValue",
        "apikey",
        "rotationTrigger",
        "outputFile",
    ],
    AccessPolicy: ["serviceId", "iamId", "roles", "resource", "description", "adoptExisting"],
    KmsKey: [
        "instanceId",
        "instanceCrn",
        "service",
        "region",
        "endpoint",
        "name",
        "description",
        "keyRing",
        "expirationDate",
        "type",
        "payload",
        "force",
        "apiKey",
        "rotation",
        "dualAuthDelete",
        "rotationTrigger",
    ],
    KmsAccessReady: ["instanceId", "instanceCrn", "service", "region", "endpoint", "apiKey", "policyId", "policyEtag", "timeoutSeconds"],
    KmsKeyRing: ["instanceId", "instanceCrn", "service", "region", "endpoint", "keyRingId", "force", "apiKey"],
    TrustedProfile: ["name", "description"],
    TrustedProfileLink: ["profileId", "crType", "crn", "namespace", "serviceAccount", "componentType", "componentName", "linkName", "isCrossAccount"],
    TrustedProfileClaimRule: ["profileId", "type", "crType", "realmName", "conditions", "expiration", "name"],
    TrustedProfileIdentity: ["profileId", "identityType", "identifier", "accounts", "description"],
    AuthorizationPolicy: [
        "sourceServiceName",
        "sourceServiceInstance",
        "sourceResourceGroupId",
        "sourceResourceType",
        "targetServiceName",
        "targetServiceInstance",
        "targetResourceType",
        "targetResource",
        "roles",
        "description",
        "adoptExisting",
    ],
    KmsAccess: ["instance", "roles", "serviceIdName", "description", "rotationTrigger", "expiresAt", "storeValue", "outputFile", "waitForAccess"],
};

/** The top-level argument a property path starts with: `resource.tags.env` → `resource`, `roles[1]` → `roles`. */
export function rootArgument(property: string): string {
    return /^[^.[]*/.exec(property)![0];
}
