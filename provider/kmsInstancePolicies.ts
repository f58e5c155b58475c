// The policies of a KMS instance (Key Protect `kms` or HPCS `hs-crypto`): dual authorization delete,
// rotation, metrics, who may create or import which keys, and the allowed network. Terraform:
// `ibm_kms_instance_policies`. Set with one PUT of `/api/v2/instance/policies` (idempotent: a lost answer is
// sent again, nothing can be made twice), read back with GET. Like Terraform, destroying the resource only
// forgets the policies: KMS keeps them until the instance itself is deleted (IBM has no call to remove an
// instance policy; to turn one off, set `enabled: false` and `pulumi up`).
//
// Calls run as the service ID of `apiKey` when it is given (it needs Manager on the instance), else with the
// deployer's credentials (stack config `ibmcloud:apiKey` / `IC_API_KEY`).
import type * as pulumi from "@pulumi/pulumi";
import { Resource as DynamicResource } from "@pulumi/pulumi/dynamic";
import { z } from "zod";
import { KmsService } from "../client/config";
import { KmsClient, KmsInstancePolicySettings as KmsInstancePolicySet } from "../client/kmsClient";
import { IamTokenManager } from "../client/tokenManager";
import { providerForDeployment } from "./dynamicProvider";
import { refuseBadArguments } from "./check/argumentCheck";
import { finishCheck } from "./check/failures";
import { deployerTokensOf, explainKmsRefusal, asServiceId } from "./kms/asServiceId";
import { KmsInstance } from "./kms/endpoint";
import { OutputsOf, resourceOptions, resourceProps, resourceShape } from "./core/resourceShape";
import { checkKmsResource, DEFAULT_KMS_SERVICE, KmsInstanceFieldArgs, kmsInstanceShape, kmsServiceField, instanceInputsOf } from "./kms/instance";
import { KmsSession } from "./kms/session";
import { CloudSession } from "./core/session";
import { schemaOnce } from "./check/validate";
import { compact } from "./core/props";
import { diffKmsInstancePolicies, INSTANCE_POLICY_FIELDS, instancePoliciesToSet, PolicyField } from "./kms/instancePoliciesDiff";

// ---------- arguments ----------

/** Who may create and import which keys (IBM's `keyCreateImportAccess`); each attribute defaults as IBM's does. */
export interface KmsKeyCreateImportAccessArgs {
    /** Turns the policy on: keys of the kinds set to false below can then not be made. */
    enabled: pulumi.Input<boolean>;
    /** Root keys may be created (default true). */
    createRootKey?: pulumi.Input<boolean>;
    /** Standard keys may be created (default true). */
    createStandardKey?: pulumi.Input<boolean>;
    /** Root keys may be imported (default true). */
    importRootKey?: pulumi.Input<boolean>;
    /** Standard keys may be imported (default true). */
    importStandardKey?: pulumi.Input<boolean>;
    /** Imported material must come through an import token (default false). */
    enforceToken?: pulumi.Input<boolean>;
}

export interface KmsInstancePoliciesArgs extends KmsInstanceFieldArgs {
    /**
     * Dual authorization delete for every key created from now on (Terraform `dual_auth_delete`): deleting such a
     * key then needs a second identity's `setKeyForDeletion` first. Keys that exist already keep their own policy.
     */
    dualAuthDelete?: pulumi.Input<{ enabled: pulumi.Input<boolean> }>;
    /** The rotation policy new root keys inherit: `enabled` (default true), `intervalMonth` 1–12 (required when enabled). */
    rotation?: pulumi.Input<{ enabled?: pulumi.Input<boolean>; intervalMonth?: pulumi.Input<number> }>;
    /** Metrics (Terraform `metrics`): KMS reports operations on the instance's keys to IBM Cloud Monitoring. */
    metrics?: pulumi.Input<{ enabled: pulumi.Input<boolean> }>;
    /** Which keys may be created or imported (Terraform `key_create_import_access`). */
    keyCreateImportAccess?: pulumi.Input<KmsKeyCreateImportAccessArgs>;
    /**
     * The networks KMS answers on for this instance (IBM's `allowedNetwork`; Terraform leaves it to context-based
     * restrictions). `private-only` shuts out the public endpoint this stack may itself be using.
     */
    allowedNetwork?: pulumi.Input<{ enabled: pulumi.Input<boolean>; allowedNetwork: pulumi.Input<"public-and-private" | "private-only"> }>;
    /**
     * The API key to act with (secret; its identity needs Manager on the instance). Left out: the deployer's
     * credentials (`ibmcloud:apiKey` / `IC_API_KEY`). A new value is an in-place update.
     */
    apiKey?: pulumi.Input<string>;
}

/** What state holds: the instance, and each policy this resource manages as KMS holds it. */
export interface KmsInstancePoliciesOutputs {
    instanceId: string;
    service: KmsService;
    /** The region given, or the configured one the endpoint was derived from. */
    region?: string;
    /** KMS base URL used for every call. */
    endpoint: string;
    /** The instance CRN, when the instance was given by it. */
    instanceCrn?: string;
    /** Secret; absent when the deployer's credentials are used. */
    apiKey?: string;
    /** Dual authorization delete, as KMS holds it (only when managed here). */
    dualAuthDelete?: { enabled: boolean };
    /** Rotation, as KMS holds it (only when managed here). */
    rotation?: { enabled: boolean; intervalMonth?: number };
    /** Metrics, as KMS holds it (only when managed here). */
    metrics?: { enabled: boolean };
    /** Key create and import access, as KMS holds it (only when managed here). */
    keyCreateImportAccess?: {
        enabled: boolean;
        createRootKey?: boolean;
        createStandardKey?: boolean;
        importRootKey?: boolean;
        importStandardKey?: boolean;
        enforceToken?: boolean;
    };
    /** The allowed network, as KMS holds it (only when managed here). */
    allowedNetwork?: { enabled: boolean; allowedNetwork: "public-and-private" | "private-only" };
}

/** Inputs after `check` (defaults applied). */
interface KmsInstancePoliciesInputs extends KmsInstancePolicySet {
    instanceId: string;
    service: KmsService;
    region?: string;
    endpoint?: string;
    instanceCrn?: string;
    apiKey?: string;
}

// ---------- validation ----------

const bool = (field: string) => z.boolean({ error: `${field} must be true or false` });
const enabledOnly = (field: string) =>
    z.object({ enabled: bool(`${field}.enabled`) }, { error: `${field} must be an object such as { enabled: true }` }).strict();

function kmsInstancePoliciesSchema() {
    return z
        .object({
            ...kmsInstanceShape(),
            service: kmsServiceField().default(DEFAULT_KMS_SERVICE),
            dualAuthDelete: enabledOnly("dualAuthDelete").optional(),
            metrics: enabledOnly("metrics").optional(),
            rotation: z
                .object(
                    {
                        enabled: bool("rotation.enabled").default(true),
                        intervalMonth: z
                            .number({ error: "rotation.intervalMonth must be a whole number of months from 1 to 12" })
                            .int({ error: "rotation.intervalMonth must be a whole number of months (1 to 12)" })
                            .min(1, { error: "rotation.intervalMonth must be 1 to 12 months (a KMS limit)" })
                            .max(12, { error: "rotation.intervalMonth must be 1 to 12 months (a KMS limit)" })
                            .optional(),
                    },
                    { error: "rotation must be an object such as { enabled: true, intervalMonth: 3 }" },
                )
                .strict()
                .superRefine((v, ctx) => {
                    if (v.enabled && v.intervalMonth === undefined) {
                        ctx.addIssue({
                            code: "custom",
                            path: ["intervalMonth"],
                            message:
                                "rotation.intervalMonth is required when rotation is enabled: a whole number of months from 1 to 12, e.g. { intervalMonth: 3 }",
                        });
                    }
                })
                .optional(),
            keyCreateImportAccess: z
                .object(
                    {
                        enabled: bool("keyCreateImportAccess.enabled"),
                        createRootKey: bool("keyCreateImportAccess.createRootKey").default(true),
                        createStandardKey: bool("keyCreateImportAccess.createStandardKey").default(true),
                        importRootKey: bool("keyCreateImportAccess.importRootKey").default(true),
                        importStandardKey: bool("keyCreateImportAccess.importStandardKey").default(true),
                        enforceToken: bool("keyCreateImportAccess.enforceToken").default(false),
                    },
                    { error: "keyCreateImportAccess must be an object such as { enabled: true, importRootKey: false }" },
                )
                .strict()
                .optional(),
            allowedNetwork: z
                .object(
                    {
                        enabled: bool("allowedNetwork.enabled"),
                        allowedNetwork: z.enum(["public-and-private", "private-only"], {
                            error: "allowedNetwork.allowedNetwork must be public-and-private or private-only",
                        }),
                    },
                    { error: 'allowedNetwork must be an object such as { enabled: true, allowedNetwork: "public-and-private" }' },
                )
                .strict()
                .optional(),
            apiKey: z
                .string({ error: "apiKey must be an API key (a string), e.g. serviceApiKey.apikey; leave it out to use the deployer's credentials" })
                .min(1, { error: "apiKey must not be empty: pass an API key whose identity has Manager on the instance, or leave apiKey out" })
                .optional(),
        })
        .strict()
        .superRefine((v, ctx) => {
            if (INSTANCE_POLICY_FIELDS.every((f) => v[f] === undefined)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["dualAuthDelete"],
                    message: `give at least one policy (${INSTANCE_POLICY_FIELDS.join(", ")}), e.g. dualAuthDelete: { enabled: true }`,
                });
            }
        });
}

// ---------- provider ----------

export class KmsInstancePoliciesProvider implements pulumi.dynamic.ResourceProvider {
    private readonly session = new CloudSession();
    private readonly connections = new KmsSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
        this.connections.configure(req);
    }

    async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
        return finishCheck(checkKmsResource(news, schemaOnce("KmsInstancePolicies", kmsInstancePoliciesSchema)));
    }

    async diff(_id: string, olds: KmsInstancePoliciesOutputs, news: KmsInstancePoliciesInputs): Promise<pulumi.dynamic.DiffResult> {
        const d = diffKmsInstancePolicies(olds, news);
        // Policies of another instance: set them there, then forget these (nothing to delete first).
        return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: false };
    }

    async create(inputs: KmsInstancePoliciesInputs): Promise<pulumi.dynamic.CreateResult<KmsInstancePoliciesOutputs>> {
        const target = this.connections.targetOf(inputs);
        const held = await this.setAndRead(target, inputs, instancePoliciesToSet({}, inputs));
        return { id: target.instanceId, outs: this.outputsOf(inputs, target, held, this.connections.regionUsed(inputs)) };
    }

    async read(id: string, props: Partial<KmsInstancePoliciesOutputs>): Promise<pulumi.dynamic.ReadResult> {
        const p = props ?? {};
        const inputs = inputsOf({ ...p, instanceId: p.instanceId ?? id });
        const target = this.connections.targetFromState({ ...p, instanceId: p.instanceId ?? id });
        const held = await this.asIdentity(p.apiKey, target, "refresh", (client) => client.getInstancePolicies());
        // Only the policies this resource manages (present in state); none given (an import): every one KMS holds.
        const managed = INSTANCE_POLICY_FIELDS.filter((f) => p[f] !== undefined);
        const outs = this.outputsOf(inputs, target, held, p.region, managed.length > 0 ? managed : INSTANCE_POLICY_FIELDS.filter((f) => held[f] !== undefined));
        return { id, props: outs, inputs: inputsOf(outs) };
    }

    async update(
        _id: string,
        olds: KmsInstancePoliciesOutputs,
        news: KmsInstancePoliciesInputs,
    ): Promise<pulumi.dynamic.UpdateResult<KmsInstancePoliciesOutputs>> {
        const target = this.connections.targetForUpdate(news, olds.endpoint);
        const held = await this.setAndRead(target, news, instancePoliciesToSet(olds, news));
        return { outs: this.outputsOf(news, target, held, news.region ?? (news.endpoint === undefined ? olds.region : undefined)) };
    }

    /** Like Terraform's: the policies stay on the instance (IBM has no call to remove one); Pulumi forgets them. */
    async delete(_id: string, _props: KmsInstancePoliciesOutputs): Promise<void> {}

    /** Sets `toSet` (when any) and reads back what KMS holds, as the identity of the inputs. */
    private async setAndRead(target: KmsInstance, inputs: KmsInstancePoliciesInputs, toSet: KmsInstancePolicySet): Promise<KmsInstancePolicySet> {
        const tokens = this.tokensOf(inputs.apiKey);
        const client = this.connections.client(target, tokens);
        try {
            if (Object.keys(toSet).length > 0) await client.setInstancePolicies(toSet);
            return await client.getInstancePolicies();
        } catch (err) {
            throw await explainKmsRefusal(err, "KmsInstancePolicies", tokens, target, "set instance policies (Manager)");
        }
    }

    private tokensOf(apiKey: string | undefined): IamTokenManager {
        if (apiKey !== undefined) return this.connections.tokensFor(apiKey, "KmsInstancePolicies");
        const deployer = deployerTokensOf(this.session);
        if (!deployer) {
            throw new Error(
                "KmsInstancePolicies: no apiKey given and no deployer credentials configured: pass apiKey (an identity with Manager on the instance), " +
                    "or set `pulumi config set --secret ibmcloud:apiKey <key>` (or IC_API_KEY)",
            );
        }
        return deployer;
    }

    private asIdentity<T>(apiKey: string | undefined, target: KmsInstance, what: "refresh" | "destroy", fn: (client: KmsClient) => Promise<T>): Promise<T> {
        return asServiceId(this.connections, () => deployerTokensOf(this.session), "KmsInstancePolicies", apiKey, target, what, fn);
    }

    /** Outputs: the instance, and of the policies KMS holds those `managed` (default: those the inputs give). */
    private outputsOf(
        inputs: Partial<KmsInstancePoliciesInputs>,
        target: KmsInstance,
        held: KmsInstancePolicySet,
        region: string | undefined,
        managed: readonly PolicyField[] = INSTANCE_POLICY_FIELDS.filter((f) => inputs[f] !== undefined),
    ): KmsInstancePoliciesOutputs {
        const policies: Record<string, unknown> = {};
        for (const f of managed) {
            const v = held[f];
            // A policy KMS does not hold (never set, or drift) reads as off, so diff sets it again.
            policies[f] = v !== undefined ? { ...v } : f === "allowedNetwork" ? { enabled: false, allowedNetwork: "public-and-private" } : { enabled: false };
        }
        return compact({
            instanceId: target.instanceId,
            service: target.service,
            region: region ?? this.connections.regionUsed(inputs),
            endpoint: target.endpoint,
            instanceCrn: inputs.instanceCrn,
            apiKey: inputs.apiKey,
            ...policies,
        }) as KmsInstancePoliciesOutputs;
    }
}

/** The inputs a state corresponds to (read's `inputs`, and a static get()). */
function inputsOf(p: Partial<KmsInstancePoliciesOutputs>): Partial<KmsInstancePoliciesInputs> {
    const out: Record<string, unknown> = { ...instanceInputsOf(p), apiKey: p.apiKey };
    for (const f of INSTANCE_POLICY_FIELDS) out[f] = p[f];
    return compact(out) as Partial<KmsInstancePoliciesInputs>;
}

export const kmsInstancePoliciesProvider = new KmsInstancePoliciesProvider();

// ---------- resource ----------

/** KmsInstancePolicies' type name and outputs: the props its constructor hands to Pulumi are derived from them. */
const KMS_INSTANCE_POLICIES = resourceShape<KmsInstancePoliciesOutputs>(
    "KmsInstancePolicies",
    {
        instanceId: true,
        service: true,
        region: true,
        endpoint: true,
        instanceCrn: true,
        apiKey: true,
        dualAuthDelete: true,
        rotation: true,
        metrics: true,
        keyCreateImportAccess: true,
        allowedNetwork: true,
    },
    ["apiKey"],
);

/** Identifies an instance for `KmsInstancePolicies.get` (its GUID is the resource id). */
export type KmsInstancePoliciesLookup = Pick<KmsInstancePoliciesArgs, "instanceCrn" | "service" | "region" | "endpoint" | "apiKey">;

/**
 * The policies of a Key Protect or HPCS instance (Terraform `ibm_kms_instance_policies`). Policies left out are
 * left as KMS holds them; `pulumi destroy` forgets the policies and leaves them on the instance, as Terraform does.
 * One per instance: two would undo each other's changes.
 *
 * ```ts
 * const policies = new KmsInstancePolicies("kp-policies", { instanceCrn, dualAuthDelete: { enabled: true }, rotation: { intervalMonth: 3 } });
 * const key = new KmsKey("app-root", { instanceCrn, name: "app-root", apiKey }, { dependsOn: [policies] }); // inherits both
 * ```
 */
export class KmsInstancePolicies extends DynamicResource implements OutputsOf<KmsInstancePoliciesOutputs> {
    declare readonly instanceId: pulumi.Output<string>;
    declare readonly service: pulumi.Output<KmsService>;
    declare readonly region: pulumi.Output<string | undefined>;
    declare readonly endpoint: pulumi.Output<string>;
    declare readonly instanceCrn: pulumi.Output<string | undefined>;
    /** Secret. */
    declare readonly apiKey: pulumi.Output<string | undefined>;
    declare readonly dualAuthDelete: pulumi.Output<{ enabled: boolean } | undefined>;
    declare readonly rotation: pulumi.Output<{ enabled: boolean; intervalMonth?: number } | undefined>;
    declare readonly metrics: pulumi.Output<{ enabled: boolean } | undefined>;
    declare readonly keyCreateImportAccess: pulumi.Output<KmsInstancePoliciesOutputs["keyCreateImportAccess"]>;
    declare readonly allowedNetwork: pulumi.Output<KmsInstancePoliciesOutputs["allowedNetwork"]>;

    constructor(name: string, args: KmsInstancePoliciesArgs, opts?: pulumi.CustomResourceOptions) {
        refuseBadArguments(
            "KmsInstancePolicies",
            name,
            args,
            opts,
            (inputs) => checkKmsResource(inputs, schemaOnce("KmsInstancePolicies", kmsInstancePoliciesSchema)).failures,
        );
        super(
            providerForDeployment(kmsInstancePoliciesProvider),
            name,
            resourceProps(KMS_INSTANCE_POLICIES, args),
            resourceOptions(KMS_INSTANCE_POLICIES, opts),
            "ibmcloud-iam",
            KMS_INSTANCE_POLICIES.type,
        );
    }

    /** Adopts the policies of an instance by its GUID (the engine reads every policy KMS holds; nothing is set). */
    static get(
        name: string,
        instanceId: pulumi.Input<pulumi.ID>,
        lookup: KmsInstancePoliciesLookup = {},
        opts?: pulumi.CustomResourceOptions,
    ): KmsInstancePolicies {
        return new KmsInstancePolicies(name, { ...lookup, instanceId } as KmsInstancePoliciesArgs, { ...opts, id: instanceId });
    }
}
