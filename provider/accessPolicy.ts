// An IAM access policy: grants one subject (a service ID, or any IAM id) roles on a resource of the
// deployer's account, through Policy Management v1. Role names are resolved to CRNs before any API
// call for the services the offline catalog knows (so a typo fails at preview with the valid list),
// and through `GET /v2/roles` at create/update for the others. The `accountId` attribute always comes
// from the deployer's token.
import type * as pulumi from "@pulumi/pulumi";
import { Resource as DynamicResource } from "@pulumi/pulumi/dynamic";
import { PolicyWithEtag } from "../client/iamClient";
import { accessPolicySchema, checkAccessPolicy, given, NAMED_ATTRIBUTES, offlineCatalog, subjectIamIdOf } from "./policy/accessCheck";
import { providerForDeployment } from "./dynamicProvider";
import { journaled } from "./core/createJournal";
import { createPolicyOrAdopt, deletePolicyIfPresent, PolicyKind, readLivePolicy, replacePolicyInPlace } from "./policy/lifecycle";
import { catalogFromIam, liveOutputs, policyBody, resolveRoles, resourceFromLive, rolesFromLive, subjectInputs } from "./policy/accessMapping";
import { canResolveOffline, normalizeRoleName, resolveRole, RoleInfo } from "./policy/roles";
import { CloudSession } from "./core/session";
import { CheckFailure, schemaOnce, validate } from "./check/validate";
import { refuseBadArguments } from "./check/argumentCheck";
import { finishCheck } from "./check/failures";
import { compact, containsUnknown, UNKNOWN } from "./core/props";
import { OutputsOf, resourceOptions, resourceProps, resourceShape } from "./core/resourceShape";
import type { AccessPolicyInputs, AccessPolicyOutputs, AccessPolicyResource } from "./policy/accessState";

// The state shapes live beside the policy helpers that read them; they are part of this module's API.
export type { AccessPolicyInputs, AccessPolicyOutputs, AccessPolicyResource } from "./policy/accessState";

// ---------- arguments ----------

/** Which resources the policy covers. Each field becomes a `resources[].attributes` entry (stringEquals). */
export interface AccessPolicyResourceArgs {
    /** The service, e.g. `hs-crypto`, `kms`, `cloud-object-storage`. Roles of `hs-crypto`/`kms` resolve offline, others through IAM. */
    serviceName?: pulumi.Input<string>;
    /** `service` (all IAM-enabled services) or `platform_service` (all account management services), when no serviceName is given. */
    serviceType?: pulumi.Input<"service" | "platform_service">;
    /** Instance GUID within `serviceName` (needs `serviceName`). */
    serviceInstance?: pulumi.Input<string>;
    /** A region (e.g. `us-south`) the covered resources must be in; default: every region. */
    region?: pulumi.Input<string>;
    /** e.g. `key`, `bucket`, `resource-group`. */
    resourceType?: pulumi.Input<string>;
    /** A resource id within `resourceType`, e.g. a key id. */
    resource?: pulumi.Input<string>;
    /** A resource group's id: the roles cover the resources in that group (alone, or with `serviceName`). */
    resourceGroupId?: pulumi.Input<string>;
    /** Further attributes, name → value (e.g. `{ keyRing: "app" }`); the named fields above and `accountId` are refused here. */
    attributes?: pulumi.Input<{ [name: string]: pulumi.Input<string> }>;
    /** Access management tags, name → value: resources carrying all of them are covered (`resources[].tags`, stringEquals). */
    tags?: pulumi.Input<{ [name: string]: pulumi.Input<string> }>;
}

export interface AccessPolicyArgs {
    /**
     * The subject as a service ID: `ServiceId-…` or its IAM id `iam-ServiceId-…`. Pass the ServiceId resource's `id` (`app.id`),
     * which stays known while a preview plans an update of the service ID (its `serviceId` output does not, and the preview
     * would show the policy replaced). Exactly one of serviceId / profileId / iamId. Changing the subject replaces the policy.
     */
    serviceId?: pulumi.Input<string>;
    /**
     * The subject as a trusted profile: `Profile-…` or its IAM id `iam-Profile-…`. Pass the TrustedProfile resource's `id`
     * (`profile.id`), which stays known while a preview plans an update of the profile. Exactly one of serviceId / profileId / iamId.
     */
    profileId?: pulumi.Input<string>;
    /** The subject as any IAM id (`iam-ServiceId-…`, `iam-Profile-…`, `IBMid-…`). Exactly one of serviceId / profileId / iamId. Changing the subject replaces the policy. */
    iamId?: pulumi.Input<string>;
    /**
     * Roles to grant, each a display name (`Writer`, `Key Custodian - Creator`), id (`KeyCustodianCreator`)
     * or CRN. Order does not matter. Custom roles are given by CRN. Changes update the policy in place.
     */
    roles: pulumi.Input<pulumi.Input<string>[]>;
    /** What the roles apply to; one of serviceName, serviceType or resourceGroupId is required. Changes update in place. */
    resource: pulumi.Input<AccessPolicyResourceArgs>;
    /** Up to 300 characters. Changes update in place. */
    description?: pulumi.Input<string>;
    /**
     * When an identical policy (same subject, roles and resource) already exists, IAM refuses to create
     * another. `false` (default): that is an error naming the existing policy. `true`: the existing
     * policy becomes this resource's (its description is set to this one's), and `pulumi destroy`
     * then DELETES it. To use an existing policy without managing it, use `AccessPolicy.get(name, id)`.
     */
    adoptExisting?: pulumi.Input<boolean>;
}

// ---------- diff ----------

/** `resource` reduced to what IAM compares: sorted attribute and tag pairs (empty maps = absent). */
function canonicalResource(r: AccessPolicyResource | undefined): string {
    const attrs: Array<[string, string]> = [];
    const tags: Array<[string, string]> = [];
    if (r) {
        for (const name of NAMED_ATTRIBUTES) {
            const v = r[name];
            if (typeof v === "string") attrs.push([name, v]);
        }
        for (const [k, v] of Object.entries(r.attributes ?? {})) attrs.push([k, String(v)]);
        for (const [k, v] of Object.entries(r.tags ?? {})) tags.push([k, String(v)]);
    }
    const order = (a: [string, string], b: [string, string]) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1);
    return JSON.stringify({ attributes: attrs.sort(order), tags: tags.sort(order) });
}

/**
 * The CRN each role of `news` stands for, without calling IAM: from check's `roleCrns`, the offline
 * catalog, or (for services resolved online) the name → CRN pairs already in state. `undefined` for a
 * role only IAM can resolve, or one still unknown.
 */
function plannedRoleCrns(olds: Partial<AccessPolicyOutputs>, news: Partial<AccessPolicyInputs>): Array<string | undefined> {
    if (!Array.isArray(news.roles)) return [undefined];
    if (Array.isArray(news.roleCrns) && news.roleCrns.length === news.roles.length) return news.roleCrns;
    const svc = typeof news.resource?.serviceName === "string" ? news.resource.serviceName : undefined;
    const catalog = offlineCatalog(svc, news.resource?.serviceType);
    const oldRoles = Array.isArray(olds.roles) ? olds.roles : [];
    const oldCrns = Array.isArray(olds.roleCrns) ? olds.roleCrns : [];
    const paired = oldRoles.length === oldCrns.length;
    return news.roles.map((role) => {
        if (typeof role !== "string" || role === UNKNOWN) return undefined;
        if (role.trim().startsWith("crn:") || canResolveOffline(svc)) {
            const r = resolveRole(role, svc, catalog);
            return r.ok ? r.crn : undefined;
        }
        const norm = normalizeRoleName(role);
        if (paired) {
            const i = oldRoles.findIndex((o) => typeof o === "string" && normalizeRoleName(o) === norm);
            if (i >= 0) return oldCrns[i];
        }
        // IBM role ids are their display names without spaces (`Service ID creator` → ServiceIdCreator).
        return oldCrns.find((c) => normalizeRoleName(c.slice(c.lastIndexOf(":") + 1)) === norm);
    });
}

/** What `diff` decides, as a pure function of stored outputs and checked inputs. */
function diffAccessPolicy(olds: Partial<AccessPolicyOutputs>, news: Partial<AccessPolicyInputs>): { changes: boolean; replaces: string[]; updates: string[] } {
    const replaces: string[] = [];
    const updates: string[] = [];

    // A policy is about its subject: a new subject is a new policy (IBM's Terraform provider forces new too).
    const before = olds.subjectIamId ?? subjectIamIdOf(olds);
    const after = subjectIamIdOf(news);
    if (after === UNKNOWN || after !== before) {
        if (given(news.iamId)) replaces.push("iamId");
        if (given(news.profileId)) replaces.push("profileId");
        if (given(news.serviceId) || (!given(news.iamId) && !given(news.profileId))) replaces.push("serviceId");
    }

    const planned = plannedRoleCrns(olds, news);
    const stored = new Set(Array.isArray(olds.roleCrns) ? olds.roleCrns : []);
    const wanted = new Set(planned.filter((c): c is string => typeof c === "string"));
    const sameRoles = planned.every((c) => c !== undefined) && wanted.size === stored.size && [...wanted].every((c) => stored.has(c));
    if (!sameRoles) updates.push("roles");

    if (containsUnknown(news.resource) || canonicalResource(news.resource) !== canonicalResource(olds.resource)) updates.push("resource");
    if (news.description === UNKNOWN || (news.description ?? "") !== (olds.description ?? "")) updates.push("description");
    return { changes: replaces.length > 0 || updates.length > 0, replaces, updates };
}

/** Outputs after create/update: the live identity and the arguments as given. */
function outputsOf(got: PolicyWithEtag, inputs: AccessPolicyInputs, roleCrns: string[]): AccessPolicyOutputs {
    return compact({
        ...liveOutputs(got),
        roleCrns,
        serviceId: inputs.serviceId,
        iamId: inputs.iamId,
        profileId: inputs.profileId,
        roles: inputs.roles,
        resource: compact({ ...(inputs.resource ?? {}) }) as AccessPolicyResource,
        description: inputs.description,
        adoptExisting: inputs.adoptExisting,
    }) as AccessPolicyOutputs;
}

/** The inputs a state corresponds to (read's `inputs`). */
function inputsOf(outs: AccessPolicyOutputs): AccessPolicyInputs {
    return compact({
        serviceId: outs.serviceId,
        iamId: outs.iamId,
        profileId: outs.profileId,
        roles: outs.roles,
        resource: outs.resource,
        description: outs.description,
        adoptExisting: outs.adoptExisting,
    }) as AccessPolicyInputs;
}

/**
 * AccessPolicy's check, pure: the schema, the cross-field rules and roles resolved offline (or with
 * `onlineCatalog`, IAM's list for a service the offline catalog does not know). The provider runs it,
 * and the constructor on the arguments known then. `roleCrns` is added when every role resolved.
 */
export function checkAccessPolicyInputs(
    news: Record<string, unknown>,
    onlineCatalog?: RoleInfo[],
): { inputs: Record<string, unknown>; failures: CheckFailure[] } {
    const { __provider: _p, roleCrns: _derived, ...inputs } = news;
    const r = validate(schemaOnce("AccessPolicy", accessPolicySchema), inputs);
    const cross = checkAccessPolicy(inputs, onlineCatalog);
    const failures = [...(r.ok ? [] : r.failures), ...cross.failures];
    if (failures.length > 0) return { inputs: news, failures };
    const { roleCrns: _stale, ...rest } = news;
    return { inputs: cross.roleCrns ? { ...rest, roleCrns: cross.roleCrns } : rest, failures: [] };
}

// ---------- provider ----------

export class AccessPolicyProvider implements pulumi.dynamic.ResourceProvider {
    private readonly session = new CloudSession();
    /** IAM's role lists by service, read at check (roles change rarely; one read per service per plugin). */
    private roleCatalogs: { [service: string]: RoleInfo[] } | undefined;

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
    }

    async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
        const offline = checkAccessPolicyInputs(news);
        const credentials = this.session.credentialFailures();
        if (offline.failures.length > 0 || credentials.length > 0) return finishCheck(offline, credentials);
        // Roles of a service the offline catalog does not know: asked of IAM now (a read), so a made-up
        // role fails the preview rather than an `up` that has already created the service ID.
        const online = await this.rolesFromIam(news);
        if (online === undefined) return offline;
        if ("failure" in online) return finishCheck(offline, [online.failure]);
        return finishCheck(checkAccessPolicyInputs(news, online.catalog));
    }

    /** IAM's roles for the policy's service when only IAM can judge its role names; undefined when nothing needs asking. */
    private async rolesFromIam(news: Record<string, unknown>): Promise<{ catalog: RoleInfo[] } | { failure: CheckFailure } | undefined> {
        const resource = news.resource as { serviceName?: unknown } | undefined;
        const svc = resource?.serviceName;
        const roles = news.roles;
        if (!this.session.isConfigured || typeof svc !== "string" || svc === UNKNOWN || canResolveOffline(svc) || !Array.isArray(roles)) return undefined;
        if (!roles.some((r) => typeof r === "string" && r !== UNKNOWN && !r.trim().startsWith("crn:"))) return undefined;
        try {
            if (!this.roleCatalogs) this.roleCatalogs = {};
            const cached = Object.hasOwn(this.roleCatalogs, svc) ? this.roleCatalogs[svc] : undefined;
            const catalog = cached ?? catalogFromIam(await this.session.iam().listRoles({ serviceName: svc }));
            this.roleCatalogs[svc] = catalog;
            return { catalog };
        } catch (err) {
            return { failure: { property: "roles", reason: `the roles of ${svc} could not be read from IAM to check them: ${(err as Error).message}` } };
        }
    }

    async diff(_id: string, olds: AccessPolicyOutputs, news: AccessPolicyInputs): Promise<pulumi.dynamic.DiffResult> {
        const d = diffAccessPolicy(olds, news);
        // Two policies for different subjects can coexist: create the new one first.
        return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: false };
    }

    async create(inputs: AccessPolicyInputs): Promise<pulumi.dynamic.CreateResult<AccessPolicyOutputs>> {
        const iam = this.session.iam();
        const accountId = await iam.accountId();
        const roleCrns = await resolveRoles(iam, inputs, accountId);
        const body = policyBody(inputs, roleCrns, accountId);
        // A policy carries no mark: the journal holds the grant, which `recover` looks for (docs/crash-recovery.md).
        const got = await journaled(
            "AccessPolicy",
            inputs,
            this.session.deployerApiKey(),
            () => createPolicyOrAdopt(iam, body, inputs.adoptExisting, policyKind(subjectIamIdOf(inputs))),
            // A policy adopted (not made) is no object of this create's: a recovery must never delete it.
            (g) => (g.adopted ? undefined : g.policy.id),
        );
        return { id: got.policy.id, outs: outputsOf(got, inputs, roleCrns) };
    }

    async read(id: string, props: Partial<AccessPolicyOutputs>): Promise<pulumi.dynamic.ReadResult> {
        const p = props ?? {};
        // Deleting a service ID leaves its policies behind as `deleted`: gone, as far as the program is concerned.
        const got = await readLivePolicy(this.session.iam(), id);
        if (!got) return { id: "" };
        const live = liveOutputs(got);
        const outs = compact({
            ...live,
            ...rolesFromLive(got.policy, p),
            ...subjectInputs(live.subjectIamId, p),
            resource: resourceFromLive(got.policy),
            description: typeof got.policy.description === "string" && got.policy.description !== "" ? got.policy.description : undefined,
            adoptExisting: p.adoptExisting,
        }) as AccessPolicyOutputs;
        return { id, props: outs, inputs: inputsOf(outs) };
    }

    async update(id: string, olds: AccessPolicyOutputs, news: AccessPolicyInputs): Promise<pulumi.dynamic.UpdateResult<AccessPolicyOutputs>> {
        const iam = this.session.iam();
        const accountId = await iam.accountId();
        const roleCrns = await resolveRoles(iam, news, accountId);
        const body = policyBody(news, roleCrns, accountId);
        const got = await replacePolicyInPlace(iam, id, olds.etag, body, policyKind(subjectIamIdOf(news)));
        return { outs: outputsOf(got, news, roleCrns) };
    }

    async delete(id: string, _props: AccessPolicyOutputs): Promise<void> {
        await deletePolicyIfPresent(this.session.iam(), id);
    }

    /**
     * For a recovery after a crash: the active policies granting exactly what a create of `inputs` would, with the
     * identity that made each (`recover` applies the adopt rule: docs/crash-recovery.md). Reads only.
     */
    async identicalPolicies(inputs: AccessPolicyInputs): Promise<Array<{ id: string; createdById?: string; subject?: string }>> {
        const iam = this.session.iam();
        const accountId = await iam.accountId();
        const body = policyBody(inputs, await resolveRoles(iam, inputs, accountId), accountId);
        return (await iam.listIdenticalPolicies(body)).map((p) => ({ id: p.id, createdById: p.created_by_id, subject: subjectIamIdOf(inputs) }));
    }
}

function policyKind(subject: string | undefined): PolicyKind {
    return { kind: "access", resource: "AccessPolicy", identical: "same subject, roles and resource", subject };
}

export const accessPolicyProvider = new AccessPolicyProvider();

// ---------- resource ----------

/** AccessPolicy's type name and outputs: the props its constructor hands to Pulumi are derived from them. */
const ACCESS_POLICY = resourceShape<AccessPolicyOutputs>("AccessPolicy", {
    policyId: true,
    etag: true,
    href: true,
    state: true,
    roleCrns: true,
    subjectIamId: true,
    accountId: true,
    createdAt: true,
    lastModifiedAt: true,
    serviceId: true,
    iamId: true,
    profileId: true,
    roles: true,
    resource: true,
    description: true,
    adoptExisting: true,
});

/**
 * An IAM access policy granting `roles` on `resource` to a service ID, a trusted profile (or any IAM id).
 *
 * ```ts
 * new AccessPolicy("app-keys", {
 *     serviceId: app.id,
 *     roles: ["Writer", "ReaderPlus"],
 *     resource: { serviceName: "hs-crypto", serviceInstance: instanceGuid },
 * });
 * ```
 * Role and resource changes update the policy in place; a new subject replaces it.
 */
export class AccessPolicy extends DynamicResource implements OutputsOf<AccessPolicyOutputs> {
    declare readonly policyId: pulumi.Output<string>;
    declare readonly etag: pulumi.Output<string>;
    declare readonly href: pulumi.Output<string>;
    declare readonly state: pulumi.Output<string>;
    declare readonly roleCrns: pulumi.Output<string[]>;
    declare readonly subjectIamId: pulumi.Output<string>;
    declare readonly accountId: pulumi.Output<string>;
    declare readonly createdAt: pulumi.Output<string>;
    declare readonly lastModifiedAt: pulumi.Output<string>;
    declare readonly serviceId: pulumi.Output<string | undefined>;
    declare readonly iamId: pulumi.Output<string | undefined>;
    declare readonly profileId: pulumi.Output<string | undefined>;
    declare readonly roles: pulumi.Output<string[]>;
    declare readonly resource: pulumi.Output<AccessPolicyResource>;
    declare readonly description: pulumi.Output<string | undefined>;
    declare readonly adoptExisting: pulumi.Output<boolean | undefined>;

    constructor(name: string, args: AccessPolicyArgs, opts?: pulumi.CustomResourceOptions) {
        refuseBadArguments("AccessPolicy", name, args, opts, (inputs) => checkAccessPolicyInputs(inputs).failures);
        super(
            providerForDeployment(accessPolicyProvider),
            name,
            resourceProps(ACCESS_POLICY, args),
            resourceOptions(ACCESS_POLICY, opts),
            "ibmcloud-iam",
            ACCESS_POLICY.type,
        );
    }

    /** Uses an existing policy by its id without managing it (the engine reads it; destroy leaves it alone). */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): AccessPolicy {
        return new AccessPolicy(name, {} as AccessPolicyArgs, { ...opts, id });
    }
}
