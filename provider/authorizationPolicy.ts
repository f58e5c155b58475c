// A service-to-service authorization (Policy Management v1 `type: authorization`): lets a source
// service (Cloud Object Storage, Databases, Kubernetes, …; optionally one instance of it) use a Key
// Protect or HPCS instance, or one root key in it, with `roles` (Reader by default: wrap and unwrap).
// Terraform: `ibm_iam_authorization_policy`. Roles of kms / hs-crypto resolve offline, so a typo fails
// at preview; the `accountId` attributes come from the deployer's token. Create, adopt-on-409, replace
// and delete are AccessPolicy's (policy/lifecycle.ts).
//
// No wait until the authorization is honoured: on IBM only the source service itself holds tokens of
// that service (nobody can mint one to probe KMS with), so such a wait could only ever work against
// the emulator (`POST /__emulator/service-token`). The policy is active when created; IBM applies it
// within minutes (terraform-provider-ibm #4478).
import type * as pulumi from "@pulumi/pulumi";
import { Resource as DynamicResource } from "@pulumi/pulumi/dynamic";
import { z } from "zod";
import { PolicyWithEtag } from "../client/iamClient";
import { checkRoles } from "./policy/accessCheck";
import { providerForDeployment } from "./dynamicProvider";
import { createPolicyOrAdopt, deletePolicyIfPresent, PolicyKind, readLivePolicy, replacePolicyInPlace } from "./policy/lifecycle";
import { liveOutputs, rolesFromLive } from "./policy/accessMapping";
import { CloudSession } from "./core/session";
import { descriptionField, rolesField } from "./check/fields";
import { CheckFailure, schemaOnce, validate } from "./check/validate";
import { refuseBadArguments } from "./check/argumentCheck";
import { finishCheck } from "./check/failures";
import { compact, UNKNOWN } from "./core/props";
import { journaled } from "./core/createJournal";
import { OutputsOf, resourceOptions, resourceProps, resourceShape } from "./core/resourceShape";
import type { AuthorizationPolicyInputs, AuthorizationPolicyOutputs } from "./policy/authorizationMapping";
import { authorizationPolicyBody, diffAuthorizationPolicy, SOURCE_ATTRIBUTES, TARGET_ATTRIBUTES } from "./policy/authorizationMapping";

// The state shapes live beside the mapping that reads them; they are part of this module's API.
export type { AuthorizationPolicyFields, AuthorizationPolicyInputs, AuthorizationPolicyOutputs } from "./policy/authorizationMapping";

// ---------- arguments ----------

export interface AuthorizationPolicyArgs {
    /** The service that is authorized, e.g. `cloud-object-storage`, `databases-for-postgresql`, `containers-kubernetes`. Changing it replaces the policy. */
    sourceServiceName: pulumi.Input<string>;
    /** One instance of the source service (its GUID); default: all its instances in the account. Changing it replaces the policy. */
    sourceServiceInstance?: pulumi.Input<string>;
    /** Only source instances in this resource group. Changing it replaces the policy. */
    sourceResourceGroupId?: pulumi.Input<string>;
    /** A resource type of the source service (e.g. `bucket`). Changing it replaces the policy. */
    sourceResourceType?: pulumi.Input<string>;
    /** `kms` (Key Protect) or `hs-crypto` (HPCS). Changing it replaces the policy. */
    targetServiceName: pulumi.Input<"kms" | "hs-crypto">;
    /** The target instance's GUID; default: every instance of the target service in the account. Changing it replaces the policy. */
    targetServiceInstance?: pulumi.Input<string>;
    /** `key` to scope the authorization to one key (with `targetResource`). Changing it replaces the policy. */
    targetResourceType?: pulumi.Input<"key">;
    /** The key id (e.g. `KmsKey.keyId`) when `targetResourceType` is `key`. Changing it replaces the policy. */
    targetResource?: pulumi.Input<string>;
    /** Roles on the target (display names, ids or CRNs); default `["Reader"]` (wrap, unwrap, read metadata). Changes update in place. */
    roles?: pulumi.Input<pulumi.Input<string>[]>;
    /** Up to 300 characters. Changes update in place. */
    description?: pulumi.Input<string>;
    /**
     * When an identical authorization already exists, IAM refuses another (409). `false` (default): an
     * error naming it. `true`: it becomes this resource's, and `pulumi destroy` then DELETES it.
     */
    adoptExisting?: pulumi.Input<boolean>;
}

// ---------- validation ----------

function idField(field: string, example: string) {
    return z
        .string({ error: `${field} must be a string such as ${example}` })
        .regex(/^[A-Za-z0-9_.-]{1,128}$/, { error: `${field} must be an id such as ${example} (letters, digits, ".", "_" and "-"), or be left out` });
}

function authorizationPolicySchema() {
    return z
        .object({
            sourceServiceName: z
                .string({ error: 'sourceServiceName must be the source service\'s name such as "cloud-object-storage"' })
                .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, {
                    error: 'sourceServiceName must be an IBM service name: lowercase letters, digits and dashes such as "cloud-object-storage" (IAM compares it case-sensitively)',
                }),
            sourceServiceInstance: idField("sourceServiceInstance", "the source instance's GUID").optional(),
            sourceResourceGroupId: idField("sourceResourceGroupId", "a resource group id (32 hex characters)").optional(),
            sourceResourceType: idField("sourceResourceType", '"bucket"').optional(),
            targetServiceName: z.enum(["kms", "hs-crypto"], {
                error: "targetServiceName must be kms (Key Protect) or hs-crypto (Hyper Protect Crypto Services)",
            }),
            targetServiceInstance: z
                .string({ error: "targetServiceInstance must be the instance GUID (a string)" })
                .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, {
                    error: "targetServiceInstance must be the KMS instance GUID such as 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b (the last-but-two segment of its CRN)",
                })
                .optional(),
            targetResourceType: z
                .literal("key", { error: 'targetResourceType must be "key" (with targetResource: the key id), or be left out to cover the whole instance' })
                .optional(),
            targetResource: z
                .string({ error: "targetResource must be a key id (a string), e.g. rootKey.keyId" })
                .regex(/^[0-9a-fA-F-]{8,64}$/, { error: "targetResource must be the key's id such as 8a2f…-… (e.g. rootKey.keyId), not its name or CRN" })
                .optional(),
            roles: rolesField("Reader", true).default(["Reader"]),
            description: descriptionField(300).optional(),
            adoptExisting: z.boolean({ error: "adoptExisting must be true or false" }).optional(),
        })
        .strict();
}

/** Cross-field rules and offline role resolution (pure). */
function checkAuthorizationPolicy(inputs: Record<string, unknown>): { failures: CheckFailure[]; roleCrns?: string[] } {
    const failures: CheckFailure[] = [];
    const given = (v: unknown) => v !== undefined && v !== null;
    if (given(inputs.targetResource) && !given(inputs.targetResourceType)) {
        failures.push({
            property: "targetResourceType",
            reason: 'targetResource needs targetResourceType: "key" (the only kind of KMS resource an authorization is scoped to here)',
        });
    }
    if (given(inputs.targetResourceType) && !given(inputs.targetResource)) {
        failures.push({ property: "targetResource", reason: 'targetResourceType "key" needs targetResource: the key\'s id (e.g. rootKey.keyId)' });
    }
    if (given(inputs.targetResource) && !given(inputs.targetServiceInstance)) {
        failures.push({
            property: "targetServiceInstance",
            reason: "a key is scoped within its instance: give targetServiceInstance (the instance GUID) with targetResource",
        });
    }
    if (inputs.sourceServiceName === inputs.targetServiceName && typeof inputs.sourceServiceName === "string" && inputs.sourceServiceName !== UNKNOWN) {
        failures.push({
            property: "sourceServiceName",
            reason: `a service is not authorized to itself: sourceServiceName must be the service that uses the keys (e.g. "cloud-object-storage"), not ${inputs.sourceServiceName}`,
        });
    }
    const roles = inputs.roles === undefined ? ["Reader"] : inputs.roles;
    const r = checkRoles(roles, inputs.targetServiceName);
    failures.push(...r.failures);
    return r.roleCrns && failures.length === 0 ? { failures, roleCrns: r.roleCrns } : { failures };
}

// ---------- mapping ----------

function fieldsFromLive(got: PolicyWithEtag): Partial<AuthorizationPolicyInputs> {
    const out: Record<string, string> = {};
    const read = (attrs: Array<{ name: string; value: unknown }> | undefined, map: ReadonlyArray<readonly [string, string]>) => {
        for (const [field, name] of map) {
            const a = (attrs ?? []).find((x) => x.name === name);
            if (a !== undefined) out[field] = String(a.value);
        }
    };
    read(got.policy.subjects?.[0]?.attributes, SOURCE_ATTRIBUTES);
    read(got.policy.resources?.[0]?.attributes, TARGET_ATTRIBUTES);
    return out as Partial<AuthorizationPolicyInputs>;
}

const KIND: PolicyKind = Object.freeze({ kind: "authorization", resource: "AuthorizationPolicy", identical: "same source, target and roles" });

function outputsOf(got: PolicyWithEtag, inputs: AuthorizationPolicyInputs, roleCrns: string[]): AuthorizationPolicyOutputs {
    const { subjectIamId: _none, ...live } = liveOutputs(got);
    const { roleCrns: _planned, ...args } = inputs;
    return compact({ ...live, ...args, roleCrns }) as AuthorizationPolicyOutputs;
}

function inputsOf(outs: AuthorizationPolicyOutputs): AuthorizationPolicyInputs {
    const { policyId: _a, etag: _b, href: _c, state: _d, roleCrns: _e, accountId: _f, createdAt: _g, lastModifiedAt: _h, ...args } = outs;
    return args;
}

/** AuthorizationPolicy's check, pure: the provider runs it, and the constructor on the arguments known then. */
export function checkAuthorizationPolicyInputs(news: Record<string, unknown>): { inputs: Record<string, unknown>; failures: CheckFailure[] } {
    const { __provider: _p, roleCrns: _derived, ...inputs } = news;
    const r = validate(schemaOnce("AuthorizationPolicy", authorizationPolicySchema), inputs);
    const cross = checkAuthorizationPolicy(inputs);
    const failures = [...(r.ok ? [] : r.failures), ...cross.failures.filter((f) => r.ok || !r.failures.some((g) => g.property === f.property))];
    if (failures.length > 0) return { inputs: news, failures };
    const checked = { ...news, ...compact(r.ok ? (r.value as Record<string, unknown>) : {}) };
    delete checked.roleCrns;
    return { inputs: cross.roleCrns ? { ...checked, roleCrns: cross.roleCrns } : checked, failures: [] };
}

// ---------- provider ----------

export class AuthorizationPolicyProvider implements pulumi.dynamic.ResourceProvider {
    private readonly session = new CloudSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
    }

    async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
        return finishCheck(checkAuthorizationPolicyInputs(news), this.session.credentialFailures());
    }

    async diff(_id: string, olds: AuthorizationPolicyOutputs, news: AuthorizationPolicyInputs): Promise<pulumi.dynamic.DiffResult> {
        const d = diffAuthorizationPolicy(olds, news);
        // Two authorizations for different sources or targets coexist: create the new one first.
        return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: false };
    }

    async create(inputs: AuthorizationPolicyInputs): Promise<pulumi.dynamic.CreateResult<AuthorizationPolicyOutputs>> {
        const iam = this.session.iam();
        const roleCrns = this.roleCrnsOf(inputs);
        const body = authorizationPolicyBody(inputs, roleCrns, await iam.accountId());
        // An authorization carries no mark: the journal holds the grant, which `recover` looks for (docs/crash-recovery.md).
        const got = await journaled(
            "AuthorizationPolicy",
            inputs,
            this.session.deployerApiKey(),
            () => createPolicyOrAdopt(iam, body, inputs.adoptExisting, KIND),
            // one taken over (not made) is no object of this create's: a recovery must never delete it
            (g) => (g.adopted ? undefined : g.policy.id),
        );
        return { id: got.policy.id, outs: outputsOf(got, inputs, roleCrns) };
    }

    async read(id: string, props: Partial<AuthorizationPolicyOutputs>): Promise<pulumi.dynamic.ReadResult> {
        const p = props ?? {};
        const got = await readLivePolicy(this.session.iam(), id);
        if (got?.policy.type !== "authorization") return { id: "" };
        const { subjectIamId: _none, ...live } = liveOutputs(got);
        const outs = compact({
            ...live,
            ...fieldsFromLive(got),
            ...rolesFromLive(got.policy, p),
            description: typeof got.policy.description === "string" && got.policy.description !== "" ? got.policy.description : undefined,
            adoptExisting: p.adoptExisting,
        }) as AuthorizationPolicyOutputs;
        return { id, props: outs, inputs: inputsOf(outs) };
    }

    async update(
        id: string,
        olds: AuthorizationPolicyOutputs,
        news: AuthorizationPolicyInputs,
    ): Promise<pulumi.dynamic.UpdateResult<AuthorizationPolicyOutputs>> {
        const iam = this.session.iam();
        const roleCrns = this.roleCrnsOf(news);
        const got = await replacePolicyInPlace(iam, id, olds.etag, authorizationPolicyBody(news, roleCrns, await iam.accountId()), KIND);
        return { outs: outputsOf(got, news, roleCrns) };
    }

    async delete(id: string, _props: AuthorizationPolicyOutputs): Promise<void> {
        await deletePolicyIfPresent(this.session.iam(), id);
    }

    /** The target's roles as CRNs: from check, else resolved again offline (kms / hs-crypto roles are all known). */
    /**
     * For a recovery after a crash: the active authorizations granting exactly what a create of `inputs` would, with
     * who made each and when (`recover` applies the adopt rule: docs/crash-recovery.md). Reads only.
     */
    async identicalPolicies(inputs: AuthorizationPolicyInputs): Promise<Array<{ id: string; createdById?: string; createdAt?: string }>> {
        const iam = this.session.iam();
        const body = authorizationPolicyBody(inputs, this.roleCrnsOf(inputs), await iam.accountId());
        return (await iam.listIdenticalPolicies(body)).map((p) => ({ id: p.id, createdById: p.created_by_id, createdAt: p.created_at }));
    }

    private roleCrnsOf(inputs: AuthorizationPolicyInputs): string[] {
        if (Array.isArray(inputs.roleCrns) && inputs.roleCrns.length === (inputs.roles ?? []).length) return inputs.roleCrns;
        const r = checkRoles(inputs.roles ?? ["Reader"], inputs.targetServiceName);
        if (!r.roleCrns)
            throw new Error(`AuthorizationPolicy: ${r.failures.map((f) => `${f.property}: ${f.reason}`).join("; ") || "roles could not be resolved"}`);
        return r.roleCrns;
    }
}

export const authorizationPolicyProvider = new AuthorizationPolicyProvider();

// ---------- resource ----------

/** AuthorizationPolicy's type name and outputs: the props its constructor hands to Pulumi are derived from them. */
const AUTHORIZATION_POLICY = resourceShape<AuthorizationPolicyOutputs>("AuthorizationPolicy", {
    sourceServiceName: true,
    sourceServiceInstance: true,
    sourceResourceGroupId: true,
    sourceResourceType: true,
    targetServiceName: true,
    targetServiceInstance: true,
    targetResourceType: true,
    targetResource: true,
    roles: true,
    description: true,
    adoptExisting: true,
    policyId: true,
    etag: true,
    href: true,
    state: true,
    roleCrns: true,
    accountId: true,
    createdAt: true,
    lastModifiedAt: true,
});

/**
 * A service-to-service authorization: the source service (or one instance of it) may use a Key Protect
 * or HPCS instance, or one key in it, with `roles` (default Reader).
 *
 * ```ts
 * new AuthorizationPolicy("cos-to-kms", {
 *     sourceServiceName: "cloud-object-storage", sourceServiceInstance: cosGuid,
 *     targetServiceName: "kms", targetServiceInstance: kmsGuid,
 *     targetResourceType: "key", targetResource: rootKey.keyId,   // optional: one key only
 * });
 * ```
 * Roles and description update in place; a new source or target replaces the policy.
 */
export class AuthorizationPolicy extends DynamicResource implements OutputsOf<AuthorizationPolicyOutputs> {
    declare readonly policyId: pulumi.Output<string>;
    declare readonly etag: pulumi.Output<string>;
    declare readonly href: pulumi.Output<string>;
    declare readonly state: pulumi.Output<string>;
    declare readonly roleCrns: pulumi.Output<string[]>;
    declare readonly accountId: pulumi.Output<string>;
    declare readonly createdAt: pulumi.Output<string>;
    declare readonly lastModifiedAt: pulumi.Output<string>;
    declare readonly sourceServiceName: pulumi.Output<string>;
    declare readonly sourceServiceInstance: pulumi.Output<string | undefined>;
    declare readonly sourceResourceGroupId: pulumi.Output<string | undefined>;
    declare readonly sourceResourceType: pulumi.Output<string | undefined>;
    declare readonly targetServiceName: pulumi.Output<string>;
    declare readonly targetServiceInstance: pulumi.Output<string | undefined>;
    declare readonly targetResourceType: pulumi.Output<string | undefined>;
    declare readonly targetResource: pulumi.Output<string | undefined>;
    declare readonly roles: pulumi.Output<string[]>;
    declare readonly description: pulumi.Output<string | undefined>;
    declare readonly adoptExisting: pulumi.Output<boolean | undefined>;

    constructor(name: string, args: AuthorizationPolicyArgs, opts?: pulumi.CustomResourceOptions) {
        refuseBadArguments("AuthorizationPolicy", name, args, opts, (inputs) => checkAuthorizationPolicyInputs(inputs).failures);
        super(
            providerForDeployment(authorizationPolicyProvider),
            name,
            resourceProps(AUTHORIZATION_POLICY, args),
            resourceOptions(AUTHORIZATION_POLICY, opts),
            "ibmcloud-iam",
            AUTHORIZATION_POLICY.type,
        );
    }

    /** Uses an existing authorization by its id without managing it (the engine reads it). */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): AuthorizationPolicy {
        return new AuthorizationPolicy(name, {} as AuthorizationPolicyArgs, { ...opts, id });
    }
}
