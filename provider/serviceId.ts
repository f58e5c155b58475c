// ServiceId: an IBM Cloud IAM service ID, the identity an application runs as. Replaces Terraform's
// `ibm_iam_service_id`, and adds what it cannot do: lock and unlock after creation, and updates that
// refuse to overwrite a change made elsewhere (If-Match with the entity tag held in state).
import type * as pulumi from "@pulumi/pulumi";
import { Resource as DynamicResource } from "@pulumi/pulumi/dynamic";
import { z } from "zod";
import { CloudSession } from "./core/session";
import { isNotFound } from "../client/errors";
import { ServiceIdEntity as ServiceIdWire, UpdateServiceIdBody } from "../client/iamClient";
import { deleteLockable, iamEntity, updateLockable } from "./identity/lockableEntity";
import { crnField, descriptionField, nameField } from "./check/fields";
import { CheckFailure, schemaOnce, validate } from "./check/validate";
import { refuseBadArguments } from "./check/argumentCheck";
import { finishCheck } from "./check/failures";
import { differs, sameSet } from "./core/diff";
import { compact, withoutProvider } from "./core/props";
import { providerForDeployment } from "./dynamicProvider";
import { engineGone } from "./core/parentWatch";
import { createSettled, holdAnswerForTest, journalCreate, journalDone, journalMade } from "./core/createJournal";
import { OutputsOf, resourceOptions, resourceProps, resourceShape } from "./core/resourceShape";
import { deleteMarkerKey, MARKER_KEY_DESCRIPTION, MARKER_KEY_NAME, markOf, withoutRecoveryNonce, withRecoveryNonce } from "./core/recoveryMark";

// ---------- arguments ----------

export interface ServiceIdArgs {
    /** Display name (1–1000 characters; need not be unique). Terraform: `name`. Updatable in place. */
    name: pulumi.Input<string>;
    /** Free text (up to 1000 characters); omitting it clears it. Terraform: `description`. */
    description?: pulumi.Input<string>;
    /** CRNs of the service instances this service ID is unique to (IBM's `unique_instance_crns`); omitting it clears them. */
    uniqueInstanceCrns?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Locked service IDs refuse changes and deletion by anyone until unlocked (default false). Created
     * with `Entity-Lock`; toggled later with lock/unlock. Pulumi's own updates and deletes unlock, act
     * and lock again.
     */
    locked?: pulumi.Input<boolean>;
}

// ---------- outputs (plain values, as stored in state) ----------

export interface ServiceIdOutputs {
    /** `ServiceId-<uuid>` (also the resource id). */
    serviceId: string;
    /** `iam-ServiceId-<uuid>`: the subject of access policies. */
    iamId: string;
    /** The service ID's CRN (`crn:v1:bluemix:public:iam-identity::a/<account>::serviceid:ServiceId-…`). */
    crn: string;
    /** The account the service ID belongs to. */
    accountId: string;
    /** IBM's entity tag when last read; sent with If-Match on update. */
    entityTag: string;
    /** When IAM created it (ISO 8601). */
    createdAt: string;
    /** When IAM last changed it (ISO 8601). */
    modifiedAt: string;
    name: string;
    description: string;
    uniqueInstanceCrns: string[];
    locked: boolean;
}

/** Checked inputs (defaults applied). */
export interface ServiceIdInputs {
    name: string;
    description: string;
    uniqueInstanceCrns: string[];
    locked: boolean;
    /** Added by the provider's `check` (never by the user): what finds this create again after a crash. */
    recoveryNonce?: string;
}

// ---------- validation ----------

function serviceIdSchema() {
    return z
        .object({
            name: nameField("service ID"),
            description: descriptionField().optional(),
            uniqueInstanceCrns: z
                .array(crnField("uniqueInstanceCrns entry"), { error: "uniqueInstanceCrns must be a list of CRN strings" })
                // IBM keeps a set: a CRN listed twice would come back once and show as a change on every run.
                .superRefine((crns, ctx) => {
                    crns.forEach((crn, i) => {
                        const first = crns.indexOf(crn);
                        if (first < i)
                            ctx.addIssue({
                                code: "custom",
                                path: [i],
                                message: `uniqueInstanceCrns lists ${crn} twice (also at [${first}]); list each CRN once`,
                            });
                    });
                })
                .optional(),
            locked: z.boolean({ error: "locked must be true or false" }).optional(),
        })
        .strict();
}

/** ServiceId's check, pure: the provider runs it, and the constructor on the arguments known then. */
export function checkServiceIdInputs(news: unknown): { inputs: ServiceIdInputs; failures: CheckFailure[] } {
    const raw = withoutProvider((withoutRecoveryNonce(news) ?? {}) as Record<string, unknown>);
    const r = validate(schemaOnce("ServiceId", serviceIdSchema), raw);
    if (!r.ok) return { inputs: raw as unknown as ServiceIdInputs, failures: r.failures };
    const v = r.value as Partial<ServiceIdInputs>;
    return {
        inputs: {
            name: v.name as string,
            description: v.description ?? "",
            uniqueInstanceCrns: v.uniqueInstanceCrns ?? [],
            locked: v.locked ?? false,
        },
        failures: [],
    };
}

function serviceIdOutputs(s: ServiceIdWire): ServiceIdOutputs {
    return compact({
        serviceId: s.id,
        iamId: s.iam_id,
        crn: s.crn,
        accountId: s.account_id,
        entityTag: s.entity_tag,
        createdAt: s.created_at ?? "",
        modifiedAt: s.modified_at ?? "",
        name: s.name,
        description: s.description ?? "",
        uniqueInstanceCrns: [...(s.unique_instance_crns ?? [])],
        locked: s.locked,
    });
}

function inputsOf(o: ServiceIdOutputs): ServiceIdInputs {
    return { name: o.name, description: o.description, uniqueInstanceCrns: o.uniqueInstanceCrns, locked: o.locked };
}

// ---------- provider ----------

class ServiceIdProvider implements pulumi.dynamic.ResourceProvider<ServiceIdInputs, ServiceIdOutputs> {
    private readonly session = new CloudSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
    }

    async check(_olds: unknown, news: unknown): Promise<pulumi.dynamic.CheckResult<ServiceIdInputs>> {
        const checked = checkServiceIdInputs(news);
        if (checked.failures.length === 0) checked.inputs = withRecoveryNonce(checked.inputs);
        return finishCheck(checked, this.session.credentialFailures());
    }

    async diff(_id: string, olds: Partial<ServiceIdOutputs>, news: ServiceIdInputs): Promise<pulumi.dynamic.DiffResult> {
        const changes =
            differs(olds.name, news.name) ||
            differs(olds.description ?? "", news.description ?? "") ||
            !sameSet(olds.uniqueInstanceCrns, news.uniqueInstanceCrns) ||
            differs(olds.locked ?? false, news.locked ?? false);
        // Every field is updatable in place.
        return { changes, replaces: [], deleteBeforeReplace: false };
    }

    async create(inputs: ServiceIdInputs): Promise<pulumi.dynamic.CreateResult<ServiceIdOutputs>> {
        // The mark travels as an inline API key, the one thing IBM stores with a service ID that the user did not
        // choose; it lives for the length of this call on a service ID with no policy yet. Not on a locked one,
        // whose keys cannot be deleted while it is locked.
        const mark = inputs.locked === true ? undefined : markOf(this.session.deployerApiKey(), "serviceid", inputs);
        // A locked one is journaled too: without a mark, the id IBM gives is what finds it after a plugin kill.
        const entry = journalCreate("ServiceId", inputs as unknown as Record<string, unknown>, this.session.deployerApiKey());
        try {
            return await this.createMarked(inputs, mark, entry);
        } catch (err) {
            if (!engineGone() && createSettled(err)) journalDone(entry);
            throw err;
        }
    }

    private async createMarked(
        inputs: ServiceIdInputs,
        mark: string | undefined,
        entry: string | undefined,
    ): Promise<pulumi.dynamic.CreateResult<ServiceIdOutputs>> {
        const iam = this.session.iam();
        const created = await iam.createServiceId(
            compact({
                name: inputs.name,
                description: inputs.description ? inputs.description : undefined,
                unique_instance_crns: inputs.uniqueInstanceCrns?.length ? inputs.uniqueInstanceCrns : undefined,
                apikey: mark ? { name: MARKER_KEY_NAME, description: MARKER_KEY_DESCRIPTION, apikey: mark } : undefined,
            }),
            { locked: inputs.locked === true },
        );
        // Recorded before the marker goes: once it is deleted, the id in the journal is all that finds this service ID.
        journalMade(entry, created.id);
        const outs = serviceIdOutputs(created);
        if (mark) {
            // With the engine gone nobody records this service ID: the marker stays for `recover` to find it by.
            if (engineGone()) throw new Error(`the Pulumi engine is gone; service ID ${created.id} was created and keeps its recovery marker`);
            try {
                await deleteMarkerKey(iam, mark);
            } catch (err) {
                // The service ID exists: keep it in state; the leftover marker is what `recover` deletes.
                const reason = `${(err as Error).message}; the service ID ${created.id} was created and is kept in state, but its recovery marker key could not be deleted: run \`npx pulumi-ibmcloud-iam recover --no-up\` (or delete the API key named ${MARKER_KEY_NAME} of it)`;
                throw Object.assign(new Error(reason), { id: created.id, properties: outs, reasons: [reason] });
            }
        }
        await holdAnswerForTest("ServiceId");
        return { id: created.id, outs };
    }

    async read(id: string, _props?: Partial<ServiceIdOutputs>): Promise<pulumi.dynamic.ReadResult<ServiceIdOutputs>> {
        let live: ServiceIdWire;
        try {
            live = await this.session.iam().getServiceId(id);
        } catch (err) {
            if (isNotFound(err)) return { id: "" };
            throw err;
        }
        const outs = serviceIdOutputs(live);
        return { id: live.id, props: outs, inputs: inputsOf(outs) as unknown as ServiceIdOutputs };
    }

    async update(id: string, olds: ServiceIdOutputs, news: ServiceIdInputs): Promise<pulumi.dynamic.UpdateResult<ServiceIdOutputs>> {
        const iam = this.session.iam();
        const body: UpdateServiceIdBody = {};
        if (news.name !== olds.name) body.name = news.name;
        if ((news.description ?? "") !== (olds.description ?? "")) body.description = news.description ?? "";
        if (!sameSet(olds.uniqueInstanceCrns, news.uniqueInstanceCrns)) body.unique_instance_crns = news.uniqueInstanceCrns ?? [];
        const outs = await updateLockable(
            iamEntity(iam, "service ID", id),
            olds,
            {
                write: Object.keys(body).length > 0 ? (etag) => iam.updateServiceId(id, etag, body) : undefined,
                wantLocked: news.locked === true,
            },
            serviceIdOutputs,
        );
        return { outs };
    }

    async delete(id: string, props: Partial<ServiceIdOutputs>): Promise<void> {
        const iam = this.session.iam();
        // 409 entity_locked is also IBM's answer when one of its API keys is locked: unlocking helps
        // only when the service ID itself was locked (elsewhere, since it was last read).
        await deleteLockable(iamEntity(iam, "service ID", id), props ?? {}, async () => (await iam.getServiceId(id)).locked);
    }
}

/** The one provider object for ServiceId (serialized by identity; tests drive it through the plugin). */
export const serviceIdProvider = new ServiceIdProvider();

// ---------- resource ----------

/** ServiceId's type name and outputs: the props its constructor hands to Pulumi are derived from them. */
const SERVICE_ID = resourceShape<ServiceIdOutputs>("ServiceId", {
    serviceId: true,
    iamId: true,
    crn: true,
    accountId: true,
    entityTag: true,
    createdAt: true,
    modifiedAt: true,
    name: true,
    description: true,
    uniqueInstanceCrns: true,
    locked: true,
});

/** An IBM Cloud IAM service ID. */
export class ServiceId extends DynamicResource implements OutputsOf<ServiceIdOutputs> {
    /** `ServiceId-<uuid>` (also `id`). */
    declare readonly serviceId: pulumi.Output<string>;
    /** `iam-ServiceId-<uuid>`: use it as a policy subject. */
    declare readonly iamId: pulumi.Output<string>;
    declare readonly crn: pulumi.Output<string>;
    declare readonly accountId: pulumi.Output<string>;
    declare readonly entityTag: pulumi.Output<string>;
    declare readonly createdAt: pulumi.Output<string>;
    declare readonly modifiedAt: pulumi.Output<string>;
    declare readonly name: pulumi.Output<string>;
    declare readonly description: pulumi.Output<string>;
    declare readonly uniqueInstanceCrns: pulumi.Output<string[]>;
    declare readonly locked: pulumi.Output<boolean>;

    constructor(name: string, args: ServiceIdArgs, opts?: pulumi.CustomResourceOptions) {
        refuseBadArguments("ServiceId", name, args, opts, (inputs) => checkServiceIdInputs(inputs).failures);
        super(
            providerForDeployment(serviceIdProvider),
            name,
            resourceProps(SERVICE_ID, args),
            resourceOptions(SERVICE_ID, opts),
            "ibmcloud-iam",
            SERVICE_ID.type,
        );
    }

    /** Adopts an existing service ID by its `ServiceId-…` id (the engine reads it; nothing is created). */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): ServiceId {
        return new ServiceId(name, undefined as unknown as ServiceIdArgs, { ...opts, id });
    }
}
