// Role catalog: CRNs, display names and the actions each role grants, per service.
export interface RoleDef {
    display_name: string;
    description: string;
    crn: string;
    actions: string[];
}

export interface ServiceRoles {
    custom_roles: RoleDef[];
    service_roles: RoleDef[];
    system_roles: RoleDef[];
}

const PLATFORM = "crn:v1:bluemix:public:iam::::role:";
const GENERIC_SERVICE = "crn:v1:bluemix:public:iam::::serviceRole:";

/** Account management services: covered by `serviceType: platform_service`, not by `service`. */
export const ACCOUNT_MANAGEMENT_SERVICES: readonly string[] = [
    "iam-identity",
    "iam-access-management",
    "iam-groups",
    "billing",
    "user-management",
    "support",
    "globalcatalog",
    "enterprise",
    "resource-group",
];

export const KMS_SERVICES: readonly string[] = ["kms", "hs-crypto"];

export function serviceTypeOf(serviceName: string): "service" | "platform_service" {
    return ACCOUNT_MANAGEMENT_SERVICES.includes(serviceName) ? "platform_service" : "service";
}

interface Def {
    id: string;
    display: string;
    description: string;
    actions: (svc: string) => string[];
}

// actions every platform role on any service grants; Administrator may also assign access
const platformDefs: Def[] = [
    {
        id: "Viewer",
        display: "Viewer",
        description: "As a viewer, you can view service instances, but you can't modify them.",
        actions: (s) => [`${s}.instance.read`, ...identityReads(s)],
    },
    {
        id: "Operator",
        display: "Operator",
        description:
            "As an operator, you can perform platform actions required to configure and operate service instances, such as viewing a service's dashboard.",
        actions: (s) => [`${s}.instance.read`, `${s}.instance.operate`, ...identityReads(s)],
    },
    {
        id: "Editor",
        display: "Editor",
        description: "As an editor, you can perform all platform actions except for managing the account and assigning access policies.",
        actions: (s) => [
            `${s}.instance.read`,
            `${s}.instance.operate`,
            `${s}.instance.update`,
            `${s}.instance.create`,
            `${s}.instance.delete`,
            ...identityReads(s),
            ...identityWrites(s),
        ],
    },
    {
        id: "Administrator",
        display: "Administrator",
        description:
            "As an administrator, you can perform all platform actions based on the resource this role is being assigned, including assigning access policies to other users.",
        actions: (s) => [
            `${s}.instance.read`,
            `${s}.instance.operate`,
            `${s}.instance.update`,
            `${s}.instance.create`,
            `${s}.instance.delete`,
            ...identityReads(s),
            ...identityWrites(s),
            "iam.policy.create",
            "iam.policy.update",
            "iam.policy.delete",
        ],
    },
];

function identityReads(s: string): string[] {
    return s === "iam-identity" ? ["iam-identity.serviceid.get", "iam-identity.apikey.get", "iam-identity.profile.get"] : [];
}

function identityWrites(s: string): string[] {
    return s === "iam-identity"
        ? [
              "iam-identity.serviceid.create",
              "iam-identity.serviceid.update",
              "iam-identity.serviceid.delete",
              "iam-identity.apikey.create",
              "iam-identity.apikey.update",
              "iam-identity.apikey.delete",
              "iam-identity.profile.create",
              "iam-identity.profile.update",
              "iam-identity.profile.delete",
              "iam-identity.profile.linkToResource",
          ]
        : [];
}

// Key Protect / HPCS service roles (IBM: "Managing user access", Key Protect roles and permissions):
//
// | action                                   | Reader | ReaderPlus | Writer | Manager | KeyPurge |
// |------------------------------------------|--------|------------|--------|---------|----------|
// | list keys, read key metadata             | yes    | yes        | yes    | yes     |          |
// | wrap, unwrap, rewrap                     | yes    | yes        | yes    | yes     |          |
// | list key rings, read key policies        | yes    | yes        | yes    | yes     |          |
// | read a standard key's payload            |        | yes        |        | yes     |          |
// | create, import, rotate keys              |        |            | yes    | yes     |          |
// | delete keys, set key policies            |        |            |        | yes     |          |
// | set / unset a key for deletion (dual auth)|       |            |        | yes     |          |
// | enable, disable, restore keys            |        |            |        | yes     |          |
// | aliases, sync, set instance policies     |        |            |        | yes     |          |
// | key versions, registrations, inst. pols. | yes    | yes        | yes    | yes     |          |
// | create, delete key rings                 |        |            |        | yes     |          |
// | purge a deleted key                      |        |            |        |         | yes      |
const kmsReader = (s: string) => [
    `${s}.secrets.list`,
    `${s}.secrets.readmetadata`,
    `${s}.secrets.wrap`,
    `${s}.secrets.unwrap`,
    `${s}.secrets.rewrap`,
    `${s}.secrets.readpolicies`,
    `${s}.secrets.listkeyversions`,
    `${s}.registrations.list`,
    `${s}.instancepolicies.read`,
    `${s}.keyrings.list`,
];
const kmsWriter = (s: string) => [...kmsReader(s), `${s}.secrets.create`, `${s}.secrets.import`, `${s}.secrets.rotate`];

const genericServiceDefs: Def[] = [
    {
        id: "Reader",
        display: "Reader",
        description: "As a reader, you can perform read-only actions within a service such as viewing service-specific resources.",
        actions: (s) => (KMS_SERVICES.includes(s) ? kmsReader(s) : [`${s}.data.read`]),
    },
    {
        id: "Writer",
        display: "Writer",
        description: "As a writer, you have permissions beyond the reader role, including creating and editing service-specific resources.",
        actions: (s) => (KMS_SERVICES.includes(s) ? kmsWriter(s) : [`${s}.data.read`, `${s}.data.write`]),
    },
    {
        id: "Manager",
        display: "Manager",
        description:
            "As a manager, you have permissions beyond the writer role to complete privileged actions as defined by the service. In addition, you can create and edit service-specific resources.",
        actions: (s) =>
            KMS_SERVICES.includes(s)
                ? [
                      ...kmsWriter(s),
                      `${s}.secrets.read`,
                      `${s}.secrets.delete`,
                      `${s}.secrets.setpolicies`,
                      `${s}.secrets.disable`,
                      `${s}.secrets.enable`,
                      `${s}.secrets.restore`,
                      `${s}.secrets.setkeyfordeletion`,
                      `${s}.secrets.unsetkeyfordeletion`,
                      `${s}.secrets.createalias`,
                      `${s}.secrets.deletealias`,
                      `${s}.secrets.sync`,
                      `${s}.instancepolicies.write`,
                      `${s}.keyrings.create`,
                      `${s}.keyrings.delete`,
                  ]
                : [`${s}.data.read`, `${s}.data.write`, `${s}.data.manage`],
    },
];

const kmsSpecificDefs: Def[] = [
    {
        id: "ReaderPlus",
        display: "ReaderPlus",
        description: "As a ReaderPlus, you have reader permissions and can also retrieve the payload of standard keys.",
        actions: (s) => [...kmsReader(s), `${s}.secrets.read`],
    },
    {
        id: "KeyPurge",
        display: "KeyPurge",
        description: "As a KeyPurge, you can only purge deleted keys.",
        actions: (s) => [`${s}.secrets.purge`],
    },
];

const hpcsOnlyDefs: Def[] = [
    {
        id: "CertificateManager",
        display: "Certificate Manager",
        description: "As a certificate manager, you can manage the certificates of the instance.",
        actions: (s) => [`${s}.certificates.manage`],
    },
    {
        id: "VMwareKMIPManager",
        display: "VMware KMIP Manager",
        description: "As a VMware KMIP manager, you can manage the KMIP adapters for VMware.",
        actions: (s) => [`${s}.kmip.manage`],
    },
    {
        id: "VaultAdministrator",
        display: "Vault Administrator",
        description: "As a vault administrator, you can manage the vaults of the instance.",
        actions: (s) => [`${s}.vaults.manage`],
    },
    {
        id: "KeyCustodianCreator",
        display: "Key Custodian - Creator",
        description: "As a key custodian creator, you can create key templates and key stores.",
        actions: (s) => [`${s}.keytemplates.create`],
    },
    {
        id: "KeyCustodianDeployer",
        display: "Key Custodian - Deployer",
        description: "As a key custodian deployer, you can deploy key templates to keystores.",
        actions: (s) => [`${s}.keytemplates.deploy`],
    },
];

const identitySpecificDefs: Def[] = [
    {
        id: "ServiceIdCreator",
        display: "Service ID creator",
        description: "As a service ID creator, you can create service IDs.",
        actions: () => ["iam-identity.serviceid.create"],
    },
    {
        id: "UserApiKeyCreator",
        display: "User API key creator",
        description: "As a user API key creator, you can create API keys for yourself.",
        actions: () => ["iam-identity.userapikey.create"],
    },
];

function render(prefix: string, d: Def, svc: string): RoleDef {
    return { display_name: d.display, description: d.description, crn: prefix + d.id, actions: d.actions(svc) };
}

/** The roles `GET /v2/roles?service_name=` lists; with no service, only the platform roles. */
export function rolesFor(serviceName?: string): ServiceRoles {
    if (!serviceName) {
        return { custom_roles: [], service_roles: [], system_roles: platformDefs.map((d) => render(PLATFORM, d, "")) };
    }
    const svc = serviceName;
    const own = `crn:v1:bluemix:public:${svc}::::serviceRole:`;
    let service: RoleDef[];
    if (svc === "kms") service = [...genericServiceDefs.map((d) => render(GENERIC_SERVICE, d, svc)), ...kmsSpecificDefs.map((d) => render(own, d, svc))];
    else if (svc === "hs-crypto")
        service = [...genericServiceDefs.map((d) => render(GENERIC_SERVICE, d, svc)), ...[...kmsSpecificDefs, ...hpcsOnlyDefs].map((d) => render(own, d, svc))];
    else if (svc === "iam-identity") service = identitySpecificDefs.map((d) => render(own, d, svc));
    else if (ACCOUNT_MANAGEMENT_SERVICES.includes(svc)) service = [];
    else service = genericServiceDefs.map((d) => render(GENERIC_SERVICE, d, svc));
    return { custom_roles: [], service_roles: service, system_roles: platformDefs.map((d) => render(PLATFORM, d, svc)) };
}

/** Services of each service group `GET /v2/roles?service_group_id=` knows; `IAM` is IBM's IAM services group. */
export const SERVICE_GROUPS: Readonly<Record<string, readonly string[]>> = {
    IAM: ["iam-identity", "iam-access-management", "iam-groups", "user-management"],
};

/** The service roles of every service in the group (an unknown group has none), and the platform roles. */
export function rolesForServiceGroup(groupId: string): ServiceRoles {
    const services = SERVICE_GROUPS[groupId] ?? [];
    return {
        custom_roles: [],
        service_roles: services.flatMap((svc) => rolesFor(svc).service_roles),
        system_roles: platformDefs.map((d) => render(PLATFORM, d, "")),
    };
}

/** Roles a policy may grant on a resource scoped by serviceName, or by serviceType only. */
export function assignableRoles(serviceName: string | undefined, serviceType: string | undefined): RoleDef[] {
    if (serviceName) {
        const r = rolesFor(serviceName);
        return [...r.system_roles, ...r.service_roles];
    }
    const platform = platformDefs.map((d) => render(PLATFORM, d, ""));
    // "All IAM-enabled services" / "All account management services" / a resource group: generic roles only
    if (serviceType === "platform_service") return platform;
    return [...platform, ...genericServiceDefs.map((d) => render(GENERIC_SERVICE, d, ""))];
}

/** Looks a role CRN up among those a policy on this resource may grant. */
export function findRole(roleCrn: string, serviceName: string | undefined, serviceType: string | undefined): RoleDef | undefined {
    return assignableRoles(serviceName, serviceType).find((r) => r.crn === roleCrn);
}

/** The actions a role grants on one concrete service (generic CRNs take that service's meaning). */
export function actionsOf(roleCrn: string, serviceName: string): string[] {
    return (
        rolesFor(serviceName)
            .system_roles.concat(rolesFor(serviceName).service_roles)
            .find((r) => r.crn === roleCrn)?.actions ?? []
    );
}

/** Display name and description for a role CRN, for enriching policy responses. */
export function describeRole(roleCrn: string, serviceName: string | undefined): { display_name: string; description: string } | undefined {
    const all = serviceName ? assignableRoles(serviceName, undefined) : assignableRoles(undefined, "service");
    const r = all.find((x) => x.crn === roleCrn);
    return r ? { display_name: r.display_name, description: r.description } : undefined;
}
