// Role names → IAM role CRNs, resolved before any API call so a typo fails at preview.
// The catalog covers the platform roles, the generic service roles and the service-specific roles of
// `kms` (Key Protect) and `hs-crypto` (HPCS). For other services a role must be given as a CRN, or is
// resolved at create time through `GET /v2/roles` (see `resolveRolesOnline` in the policy resource).

export type RoleKind = "platform" | "service";

export interface RoleInfo {
    /** The role's id as it appears at the end of its CRN, e.g. `Writer`, `KeyPurge`. */
    readonly id: string;
    readonly displayName: string;
    readonly kind: RoleKind;
    readonly crn: string;
}

// Plain frozen data only: this module is reached by closure-serialized providers.
const PLATFORM_ROLE_IDS = ["Viewer", "Operator", "Editor", "Administrator"];
const GENERIC_SERVICE_ROLE_IDS = ["Reader", "Writer", "Manager"];
const SERVICE_SPECIFIC_ROLES: { readonly [service: string]: ReadonlyArray<readonly [string, string]> } = {
    kms: [
        ["ReaderPlus", "ReaderPlus"],
        ["KeyPurge", "KeyPurge"],
    ],
    "hs-crypto": [
        ["ReaderPlus", "ReaderPlus"],
        ["KeyPurge", "KeyPurge"],
        ["CertificateManager", "Certificate Manager"],
        ["VMwareKMIPManager", "VMware KMIP Manager"],
        ["VaultAdministrator", "Vault Administrator"],
        ["KeyCustodianCreator", "Key Custodian - Creator"],
        ["KeyCustodianDeployer", "Key Custodian - Deployer"],
    ],
};

/** Services whose roles this module knows without asking IAM. */
export const KNOWN_ROLE_SERVICES: readonly string[] = ["kms", "hs-crypto"];

// Platform and service roles have an empty scope (`…:iam::::serviceRole:Writer`); custom roles carry
// their account (`crn:v1:ibmcloud:public:iam-access-management::a/<account>::customRole:Name`).
const ROLE_CRN_PATTERN = /^crn:v1:[a-z0-9-]+:[a-z0-9-]+:([a-z0-9-]+)::(?:a\/[A-Za-z0-9]+)?::(role|serviceRole|customRole):([A-Za-z0-9_-]+)$/;

/** True when `value` is an IAM role CRN such as `crn:v1:bluemix:public:iam::::serviceRole:Writer`. */
export function isRoleCrn(value: string): boolean {
    return ROLE_CRN_PATTERN.test(value);
}

/** The roles a policy on `serviceName` may grant, as IAM's `/v2/roles` would list them. */
export function knownRoles(serviceName?: string): RoleInfo[] {
    const roles: RoleInfo[] = [];
    for (const id of PLATFORM_ROLE_IDS) {
        roles.push({ id, displayName: id, kind: "platform", crn: `crn:v1:bluemix:public:iam::::role:${id}` });
    }
    for (const id of GENERIC_SERVICE_ROLE_IDS) {
        roles.push({ id, displayName: id, kind: "service", crn: `crn:v1:bluemix:public:iam::::serviceRole:${id}` });
    }
    // Own keys only: a service named "__proto__" or "constructor" must not reach Object's members.
    const specific = serviceName && Object.hasOwn(SERVICE_SPECIFIC_ROLES, serviceName) ? SERVICE_SPECIFIC_ROLES[serviceName] : undefined;
    for (const [id, displayName] of specific ?? []) {
        roles.push({ id, displayName, kind: "service", crn: `crn:v1:bluemix:public:${serviceName}::::serviceRole:${id}` });
    }
    return roles;
}

/** Folds case, spaces, dashes and underscores so `key purge`, `Key-Purge` and `KeyPurge` match. */
export function normalizeRoleName(name: string): string {
    return name.toLowerCase().replace(/[\s_-]+/g, "");
}

export type RoleResolution = { ok: true; crn: string } | { ok: false; reason: string };

/**
 * Resolves one role, given by display name, id or CRN, against the roles valid for `serviceName`.
 * A CRN of a known service is checked too (a `kms` role on an `hs-crypto` policy is a mistake);
 * a CRN for a service this module does not know is passed through for IAM to judge.
 */
export function resolveRole(role: string, serviceName: string | undefined, catalog: RoleInfo[] = knownRoles(serviceName)): RoleResolution {
    const trimmed = role.trim();
    if (trimmed.startsWith("crn:")) {
        const match = ROLE_CRN_PATTERN.exec(trimmed);
        if (!match) {
            return { ok: false, reason: `"${role}" is not a role CRN; expected crn:v1:bluemix:public:<service>::::<role|serviceRole>:<Id>` };
        }
        const crnService = match[1];
        const knowsService = crnService === "iam" || KNOWN_ROLE_SERVICES.includes(crnService);
        if (knowsService && !catalog.some((r) => r.crn === trimmed)) {
            return { ok: false, reason: `role CRN "${role}" is not valid for ${serviceName ?? "this policy"}; valid roles: ${describeRoles(catalog)}` };
        }
        return { ok: true, crn: trimmed };
    }
    const wanted = normalizeRoleName(trimmed);
    const found = catalog.find((r) => normalizeRoleName(r.id) === wanted || normalizeRoleName(r.displayName) === wanted);
    if (found) return { ok: true, crn: found.crn };
    return { ok: false, reason: `unknown role "${role}" for ${serviceName ?? "this policy"}; valid roles: ${describeRoles(catalog)}` };
}

/** `Viewer, Operator, …, Key Custodian - Creator` — for error messages. */
export function describeRoles(catalog: RoleInfo[]): string {
    return catalog.map((r) => r.displayName).join(", ");
}

/** True when roles for `serviceName` can be resolved offline (at check time, so preview fails on a typo). */
export function canResolveOffline(serviceName: string | undefined): boolean {
    return serviceName === undefined || KNOWN_ROLE_SERVICES.includes(serviceName);
}
