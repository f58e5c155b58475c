// A KMS key ring (Key Protect `kms` or HPCS `hs-crypto`): on IBM a ring must exist before a key can be
// put in it (`x-kms-key-ring`). Created, read and deleted AS the service ID whose API key is the secret
// input `apiKey` (ring create and delete need Manager on the instance), like KmsKey; the deployer's
// credentials are the fallback for refresh and destroy. Terraform: `ibm_kms_key_rings`.
import type * as pulumi from "@pulumi/pulumi";
import { Resource as DynamicResource } from "@pulumi/pulumi/dynamic";
import { z } from "zod";
import { KmsService } from "../client/config";
import { appendErrorNote } from "../client/errors";
import { KmsClient, KmsKeyRingResource } from "../client/kmsClient";
import { IamTokenManager } from "../client/tokenManager";
import { providerForDeployment } from "./dynamicProvider";
import { refuseBadArguments } from "./check/argumentCheck";
import { finishCheck } from "./check/failures";
import { asServiceId, credentialOf, deployerTokensOf, explainKmsRefusal, journaledKmsCreate } from "./kms/asServiceId";
import { KmsInstance } from "./kms/endpoint";
import { OutputsOf, resourceOptions, resourceProps, resourceShape } from "./core/resourceShape";
import { diffKmsKeyRing } from "./kms/keyRingDiff";
import {
    checkKmsResource,
    DEFAULT_KMS_SERVICE,
    keyRingIdField,
    kmsApiKeyField,
    kmsServiceField,
    KmsInstanceFieldArgs,
    kmsInstanceShape,
    instanceInputsOf,
} from "./kms/instance";
import { KmsSession } from "./kms/session";
import { CloudSession } from "./core/session";
import { schemaOnce } from "./check/validate";
import { compact } from "./core/props";

// ---------- arguments ----------

export interface KmsKeyRingArgs extends KmsInstanceFieldArgs {
    /** The ring's id: 2–100 letters, digits or dashes (not `default`, which always exists). Changing it replaces the ring. */
    keyRingId: pulumi.Input<string>;
    /**
     * Delete the ring when only deleted keys are left in it (`?force=true`; they move to `default`).
     * Without it a ring holding keys in any state cannot be deleted. Changes in place.
     */
    force?: pulumi.Input<boolean>;
    /**
     * The SERVICE ID's API key (secret; it needs Manager on the instance). A new value is an in-place update.
     * Left out: the ring is created and managed with the deployer's credentials.
     */
    apiKey?: pulumi.Input<string>;
}

/** What state holds for a ring. */
export interface KmsKeyRingOutputs {
    keyRingId: string;
    instanceId: string;
    service: KmsService;
    /** The region given, or the configured one the endpoint was derived from. */
    region?: string;
    endpoint: string;
    force: boolean;
    /** Secret; absent when the ring is managed as the deployer. */
    apiKey?: string;
    instanceCrn?: string;
    /** When KMS created the ring (ISO 8601); absent for a ring read back without it. */
    creationDate?: string;
    /** Who created the ring (the service ID's `iam-ServiceId-…`). */
    createdBy?: string;
}

interface KmsKeyRingInputs {
    keyRingId: string;
    instanceId: string;
    service: KmsService;
    region?: string;
    endpoint?: string;
    force: boolean;
    apiKey?: string;
    instanceCrn?: string;
}

// ---------- validation ----------

function kmsKeyRingSchema() {
    return z
        .object({
            ...kmsInstanceShape(),
            service: kmsServiceField().default(DEFAULT_KMS_SERVICE),
            keyRingId: keyRingIdField("keyRingId", "app-keys").refine((v) => v !== "default", {
                error: 'keyRingId "default" is the ring every instance has (it cannot be created or deleted): leave keyRing out of the KmsKey instead, or pick another id',
            }),
            force: z.boolean({ error: "force must be true or false" }).default(false),
            apiKey: kmsApiKeyField().optional(),
        })
        .strict();
}

// ---------- provider ----------

export class KmsKeyRingProvider implements pulumi.dynamic.ResourceProvider {
    private readonly session = new CloudSession();
    private readonly connections = new KmsSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
        this.connections.configure(req);
    }

    async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
        return finishCheck(checkKmsResource(news, schemaOnce("KmsKeyRing", kmsKeyRingSchema)));
    }

    async diff(_id: string, olds: KmsKeyRingOutputs, news: KmsKeyRingInputs): Promise<pulumi.dynamic.DiffResult> {
        const d = diffKmsKeyRing(olds, news);
        // A new id or another instance: the new ring can exist beside the old one.
        return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: false };
    }

    async create(inputs: KmsKeyRingInputs): Promise<pulumi.dynamic.CreateResult<KmsKeyRingOutputs>> {
        const target = this.targetOf(inputs);
        const tokens = credentialOf(this.connections, () => this.deployerTokens(), "KmsKeyRing", inputs.apiKey);
        return journaledKmsCreate("KmsKeyRing", this.session, tokens, target, inputs, undefined, () => this.createRing(inputs, target, tokens));
    }

    private async createRing(inputs: KmsKeyRingInputs, target: KmsInstance, tokens: IamTokenManager): Promise<pulumi.dynamic.CreateResult<KmsKeyRingOutputs>> {
        const client = this.connections.client(target, tokens);
        let ring: KmsKeyRingResource | undefined;
        try {
            // false: the ring was there before this create (a retry after a lost answer counts as ours).
            const made = await client.createKeyRing(inputs.keyRingId);
            if (!made) {
                throw new Error(
                    `key ring "${inputs.keyRingId}" already exists in ${target.service} instance ${target.instanceId}: ` +
                        `adopt it with KmsKeyRing.get("<name>", "${inputs.keyRingId}", { instanceId, apiKey, ... }) or choose another keyRingId`,
                );
            }
            ring = (await client.listKeyRings()).find((r) => r.id === inputs.keyRingId);
        } catch (err) {
            throw await explainKmsRefusal(err, "KmsKeyRing", tokens, target, "create key rings (Manager)");
        }
        return { id: inputs.keyRingId, outs: this.outputsOf(inputs, target, ring) };
    }

    async read(id: string, props: Partial<KmsKeyRingOutputs>): Promise<pulumi.dynamic.ReadResult> {
        const p = props ?? {};
        const inputs = inputsOf({ ...p, keyRingId: p.keyRingId ?? id });
        const target = this.connections.targetFromState(p);
        const rings = await this.asServiceId(p.apiKey, target, "refresh", (client) => client.listKeyRings());
        const ring = rings.find((r) => r.id === id);
        if (!ring) return { id: "" };
        const outs = this.outputsOf(inputs, target, ring, p.region);
        return { id, props: outs, inputs: inputsOf(outs) };
    }

    async update(id: string, olds: KmsKeyRingOutputs, news: KmsKeyRingInputs): Promise<pulumi.dynamic.UpdateResult<KmsKeyRingOutputs>> {
        // Credential, force and endpoint change in place; the new credential must see the ring before it is stored.
        const target = this.connections.targetForUpdate(news, olds.endpoint);
        const tokens = credentialOf(this.connections, () => this.deployerTokens(), "KmsKeyRing", news.apiKey);
        let ring: KmsKeyRingResource | undefined;
        try {
            ring = (await this.connections.client(target, tokens).listKeyRings()).find((r) => r.id === id);
        } catch (err) {
            throw await explainKmsRefusal(
                err,
                "KmsKeyRing",
                tokens,
                target,
                "list key rings (Reader or more)",
                "the new apiKey was not stored; the previous one is kept in state",
            );
        }
        if (!ring)
            throw new Error(
                `key ring ${id} no longer exists in instance ${target.instanceId} (deleted outside Pulumi); run \`pulumi refresh\` so Pulumi forgets it and creates it again`,
            );
        return { outs: this.outputsOf(news, target, ring, news.region ?? (news.endpoint === undefined ? olds.region : undefined)) };
    }

    async delete(id: string, props: KmsKeyRingOutputs): Promise<void> {
        const target = this.connections.targetFromState(props);
        try {
            await this.asServiceId(props.apiKey, target, "destroy", (client) => client.deleteKeyRing(id, { force: props.force === true })); // false: already gone
        } catch (err) {
            if ((err as { status?: unknown }).status === 409) {
                // IBM tells the two apart: keys not yet deleted (KEY_RING_KEYS_NOT_DELETED_ERR), or only deleted
                // ones left without force (KEY_RING_NOT_EMPTY_ERR)
                const onlyDeletedLeft = (err as { code?: unknown }).code === "KEY_RING_NOT_EMPTY_ERR";
                throw appendErrorNote(
                    err,
                    onlyDeletedLeft
                        ? `key ring ${id} holds only deleted keys: set force: true on the KmsKeyRing and run \`pulumi up\`, then destroy again`
                        : `key ring ${id} still holds keys that are not deleted: delete them (or move them to another ring) first`,
                );
            }
            throw err;
        }
    }

    /**
     * For a recovery after a crash: the ring a create of `inputs` would have made (ids are unique in an instance), with
     * who made it and when (`recover` applies the adopt rule). Reads only.
     */
    async sameRings(inputs: KmsKeyRingInputs): Promise<Array<{ id: string; createdBy?: string; creationDate?: string }>> {
        const client = this.connections.client(
            this.targetOf(inputs),
            credentialOf(this.connections, () => this.deployerTokens(), "KmsKeyRing", inputs.apiKey),
        );
        return (await client.listKeyRings())
            .filter((r) => r.id === inputs.keyRingId)
            .map((r) => ({ id: r.id, createdBy: r.createdBy, creationDate: r.creationDate }));
    }

    private asServiceId<T>(apiKey: string | undefined, target: KmsInstance, what: "refresh" | "destroy", fn: (client: KmsClient) => Promise<T>): Promise<T> {
        return asServiceId(this.connections, () => this.deployerTokens(), "KmsKeyRing", apiKey, target, what, fn);
    }

    private deployerTokens(): IamTokenManager | undefined {
        return deployerTokensOf(this.session);
    }

    private targetOf(inputs: Partial<KmsKeyRingInputs>): KmsInstance {
        return this.connections.targetOf(inputs);
    }

    private outputsOf(inputs: Partial<KmsKeyRingInputs>, target: KmsInstance, ring: KmsKeyRingResource | undefined, region?: string): KmsKeyRingOutputs {
        return compact({
            keyRingId: String(inputs.keyRingId),
            instanceId: target.instanceId,
            service: target.service,
            region: region ?? this.connections.regionUsed(inputs),
            endpoint: target.endpoint,
            force: inputs.force ?? false,
            apiKey: inputs.apiKey,
            instanceCrn: inputs.instanceCrn,
            creationDate: ring?.creationDate,
            createdBy: ring?.createdBy,
        }) as KmsKeyRingOutputs;
    }
}

/** The inputs a state corresponds to (read's `inputs`, and a static get()). */
function inputsOf(p: Partial<KmsKeyRingOutputs>): Partial<KmsKeyRingInputs> {
    return compact({ ...instanceInputsOf(p), keyRingId: p.keyRingId, force: p.force ?? false, apiKey: p.apiKey }) as Partial<KmsKeyRingInputs>;
}

export const kmsKeyRingProvider = new KmsKeyRingProvider();

// ---------- resource ----------

/** KmsKeyRing's type name and outputs: the props its constructor hands to Pulumi are derived from them. */
const KMS_KEY_RING = resourceShape<KmsKeyRingOutputs>(
    "KmsKeyRing",
    {
        keyRingId: true,
        instanceId: true,
        service: true,
        region: true,
        endpoint: true,
        force: true,
        apiKey: true,
        instanceCrn: true,
        creationDate: true,
        createdBy: true,
    },
    ["apiKey"],
);

/** Identifies an existing ring for `KmsKeyRing.get` (its id is the resource id). */
export type KmsKeyRingLookup = Omit<KmsKeyRingArgs, "keyRingId">;

/**
 * A key ring in a Key Protect or HPCS instance, created and managed as a service ID (`apiKey`, with
 * Manager on the instance). Put keys in it with `keyRing: ring.keyRingId`.
 *
 * ```ts
 * const ring = new KmsKeyRing("app-ring", { instanceCrn, keyRingId: "app-keys", apiKey: access.apiKey });
 * const key = access.createKey("app-root", { name: "app-root", keyRing: ring.keyRingId });
 * ```
 */
export class KmsKeyRing extends DynamicResource implements OutputsOf<KmsKeyRingOutputs> {
    declare readonly keyRingId: pulumi.Output<string>;
    declare readonly instanceId: pulumi.Output<string>;
    declare readonly service: pulumi.Output<KmsService>;
    declare readonly region: pulumi.Output<string | undefined>;
    declare readonly endpoint: pulumi.Output<string>;
    declare readonly force: pulumi.Output<boolean>;
    /** Secret. */
    declare readonly apiKey: pulumi.Output<string>;
    declare readonly instanceCrn: pulumi.Output<string | undefined>;
    declare readonly creationDate: pulumi.Output<string | undefined>;
    declare readonly createdBy: pulumi.Output<string | undefined>;

    constructor(name: string, args: KmsKeyRingArgs, opts?: pulumi.CustomResourceOptions) {
        refuseBadArguments("KmsKeyRing", name, args, opts, (inputs) => checkKmsResource(inputs, schemaOnce("KmsKeyRing", kmsKeyRingSchema)).failures);
        super(
            providerForDeployment(kmsKeyRingProvider),
            name,
            resourceProps(KMS_KEY_RING, args),
            resourceOptions(KMS_KEY_RING, opts),
            "ibmcloud-iam",
            KMS_KEY_RING.type,
        );
    }

    /** Adopts an existing ring by its id (the engine reads it; `pulumi destroy` then deletes it). */
    static get(name: string, keyRingId: pulumi.Input<pulumi.ID>, lookup: KmsKeyRingLookup, opts?: pulumi.CustomResourceOptions): KmsKeyRing {
        return new KmsKeyRing(name, { ...lookup, keyRingId } as KmsKeyRingArgs, { ...opts, id: keyRingId });
    }
}
