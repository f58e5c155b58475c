// ServiceId: an IBM Cloud IAM service ID, the identity an application runs as. Replaces Terraform's
// `ibm_iam_service_id`, and adds what it cannot do: lock and unlock after creation, and updates that
// refuse to overwrite a change made elsewhere (If-Match with the entity tag held in state).
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { CloudSession } from "./session";
import { IbmCloudError, isEtagMismatch, isNotFound } from "../client/errors";
import { ServiceId as ServiceIdWire, UpdateServiceIdBody } from "../client/iamClient";
import { compact, containsUnknown, crnField, descriptionField, nameField, validate } from "./validation";
import { providerForDeployment } from "./dynamicProvider";

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
    crn: string;
    accountId: string;
    /** IBM's entity tag when last read; sent with If-Match on update. */
    entityTag: string;
    createdAt: string;
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
}

// ---------- validation ----------

function serviceIdSchema() {
    return z.object({
        name: nameField("service ID"),
        description: descriptionField().optional(),
        uniqueInstanceCrns: z.array(crnField("uniqueInstanceCrns entry"), { error: "uniqueInstanceCrns must be a list of CRN strings" })
            // IBM keeps a set: a CRN listed twice would come back once and show as a change on every run.
            .superRefine((crns, ctx) => {
                crns.forEach((crn, i) => {
                    const first = crns.indexOf(crn);
                    if (first < i) ctx.addIssue({ code: "custom", path: [i], message: `uniqueInstanceCrns lists ${crn} twice (also at [${first}]); list each CRN once` });
                });
            })
            .optional(),
        locked: z.boolean({ error: "locked must be true or false" }).optional(),
    }).strict();
}

// ---------- helpers shared with ServiceApiKey (the same IBM identity semantics) ----------

/** IBM refuses a write to a locked service ID or API key with 409 `entity_locked`. */
export function isEntityLocked(err: unknown): boolean {
    return err instanceof IbmCloudError && err.status === 409 && err.code === "entity_locked";
}

/**
 * Turns IBM's answer to an If-Match write into what the user must do: a stale entity tag means the
 * object was changed elsewhere (never overwritten by us); a 404 means it was deleted elsewhere.
 */
export function explainIdentityWriteError(what: string, id: string, err: unknown): Error {
    if (isEtagMismatch(err)) {
        return new Error(`${what} ${id} was changed outside Pulumi since it was last read; run \`pulumi refresh\`, then \`pulumi up\` ` +
            `(IBM: ${(err as Error).message})`);
    }
    if (isNotFound(err)) {
        return new Error(`${what} ${id} no longer exists (deleted outside Pulumi); run \`pulumi refresh\`, then \`pulumi up\` to create it again`);
    }
    return err instanceof Error ? err : new Error(String(err));
}

/**
 * Lock, unlock, disable and enable take no If-Match, so before an update made only of those the live
 * entity tag is compared with the one in state: a change made elsewhere is reported, not taken in.
 */
export function checkNotChangedElsewhere(what: string, id: string, state: { entityTag?: unknown }, liveTag: string): void {
    const held = entityTagFromState(what, id, state);
    if (liveTag !== held) {
        throw new Error(`${what} ${id} was changed outside Pulumi since it was last read; run \`pulumi refresh\`, then \`pulumi up\` ` +
            `(its entity tag is ${liveTag}, state holds ${held})`);
    }
}

/** The entity tag held in state; never `*` (that would overwrite a change made elsewhere). */
export function entityTagFromState(what: string, id: string, state: { entityTag?: unknown }): string {
    if (typeof state.entityTag !== "string" || state.entityTag === "" || state.entityTag === "*") {
        throw new Error(`${what} ${id} has no entity tag in state; run \`pulumi refresh\`, then \`pulumi up\``);
    }
    return state.entityTag;
}

export interface LockControl {
    lock(): Promise<void>;
    unlock(): Promise<void>;
}

/**
 * Runs `write`. When IBM refuses because the entity is locked: unlock, write again, then lock again if
 * `relock` — and always lock again when the second write fails, so a failure never leaves an entity
 * less protected than it was. Returns whether the entity had to be unlocked.
 */
export async function writeThroughLock<T>(write: () => Promise<T>, lock: LockControl, relock: boolean): Promise<{ result: T; unlocked: boolean }> {
    try {
        return { result: await write(), unlocked: false };
    } catch (err) {
        if (!isEntityLocked(err)) throw err;
    }
    await lock.unlock();
    let result: T;
    try {
        result = await write();
    } catch (err) {
        await lock.lock().catch(() => undefined);
        throw err;
    }
    if (relock) await lock.lock();
    return { result, unlocked: true };
}

/**
 * An update that failed after IBM accepted one of its writes: carrying `id` and `properties` makes it a
 * partial failure, so the engine records the live outputs (with the new entity tag) instead of keeping
 * a state that the next `pulumi up` would find stale.
 */
export function partialUpdateFailure(err: Error, id: string, properties: Record<string, unknown>): Error {
    return Object.assign(new Error(err.message), { id, properties, reasons: [err.message] });
}

/** True when `news` (possibly unknown during preview) differs from `olds`. */
export function differs(olds: unknown, news: unknown): boolean {
    if (containsUnknown(news)) return true;
    return JSON.stringify(olds) !== JSON.stringify(news);
}

function sameSet(a: ReadonlyArray<string> | undefined, b: ReadonlyArray<string> | undefined): boolean {
    if (containsUnknown(b)) return false;
    const x = [...(a ?? [])].sort();
    const y = [...(b ?? [])].sort();
    return x.length === y.length && x.every((v, i) => v === y[i]);
}

function withoutProvider(props: Record<string, unknown>): Record<string, unknown> {
    const { __provider: _ignored, ...rest } = props;
    return rest;
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

const WHAT = "service ID";

// ---------- provider ----------

class ServiceIdProvider implements pulumi.dynamic.ResourceProvider<ServiceIdInputs, ServiceIdOutputs> {
    private readonly session = new CloudSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
    }

    async check(_olds: unknown, news: unknown): Promise<pulumi.dynamic.CheckResult<ServiceIdInputs>> {
        const raw = withoutProvider((news ?? {}) as Record<string, unknown>);
        const r = validate(serviceIdSchema(), raw);
        if (!r.ok) return { inputs: raw as unknown as ServiceIdInputs, failures: r.failures };
        const v = r.value as Partial<ServiceIdInputs>;
        return {
            inputs: {
                name: v.name as string,
                description: v.description ?? "",
                uniqueInstanceCrns: v.uniqueInstanceCrns ?? [],
                locked: v.locked ?? false,
            },
        };
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
        const created = await this.session.iam().createServiceId(compact({
            name: inputs.name,
            description: inputs.description ? inputs.description : undefined,
            unique_instance_crns: inputs.uniqueInstanceCrns?.length ? inputs.uniqueInstanceCrns : undefined,
        }), { locked: inputs.locked === true });
        return { id: created.id, outs: serviceIdOutputs(created) };
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
        const wantLocked = news.locked === true;
        let locked = olds.locked === true;
        const lock: LockControl = { lock: () => iam.lockServiceId(id), unlock: () => iam.unlockServiceId(id) };
        let wrote = false;
        try {
            if (Object.keys(body).length === 0) checkNotChangedElsewhere(WHAT, id, olds, (await iam.getServiceId(id)).entity_tag);
            if (Object.keys(body).length > 0) {
                const etag = entityTagFromState(WHAT, id, olds);
                const r = await writeThroughLock(() => iam.updateServiceId(id, etag, body), lock, wantLocked);
                wrote = true;
                // A successful write proves the entity was unlocked, unless we unlocked it (and maybe locked it again).
                locked = r.unlocked ? wantLocked : false;
            }
            if (wantLocked && !locked) await lock.lock();
            if (!wantLocked && locked) await lock.unlock();
            wrote = true;
            // Lock changes may move the entity tag: state keeps the one IBM holds now.
            return { outs: serviceIdOutputs(await iam.getServiceId(id)) };
        } catch (err) {
            const explained = explainIdentityWriteError(WHAT, id, err);
            if (!wrote) throw explained;
            const live = await iam.getServiceId(id).catch(() => undefined);
            throw live ? partialUpdateFailure(explained, id, serviceIdOutputs(live) as unknown as Record<string, unknown>) : explained;
        }
    }

    async delete(id: string, props: Partial<ServiceIdOutputs>): Promise<void> {
        const iam = this.session.iam();
        let unlockedByUs = false;
        try {
            if (props?.locked) {
                await iam.unlockServiceId(id);
                unlockedByUs = true;
            }
            try {
                await iam.deleteServiceId(id); // false when already gone: success
            } catch (err) {
                // 409 entity_locked is also IBM's answer when one of its API keys is locked: unlocking
                // helps only when the service ID itself was locked (elsewhere, since it was last read).
                if (unlockedByUs || !isEntityLocked(err) || !(await iam.getServiceId(id)).locked) throw err;
                await iam.unlockServiceId(id);
                unlockedByUs = true;
                await iam.deleteServiceId(id);
            }
        } catch (err) {
            if (isNotFound(err)) return; // already gone
            // A failed delete leaves it as protected as it was.
            if (unlockedByUs) await iam.lockServiceId(id).catch(() => undefined);
            throw err;
        }
    }
}

/** The one provider object for ServiceId (serialized by identity; tests drive it through the plugin). */
export const serviceIdProvider = new ServiceIdProvider();

// ---------- resource ----------

/** An IBM Cloud IAM service ID. */
export class ServiceId extends pulumi.dynamic.Resource {
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
        const a: Partial<ServiceIdArgs> = args ?? {};
        super(providerForDeployment(serviceIdProvider), name, {
            name: a.name,
            description: a.description,
            uniqueInstanceCrns: a.uniqueInstanceCrns,
            locked: a.locked,
            serviceId: undefined,
            iamId: undefined,
            crn: undefined,
            accountId: undefined,
            entityTag: undefined,
            createdAt: undefined,
            modifiedAt: undefined,
        }, opts, "ibmcloud-iam", "ServiceId");
    }

    /** Adopts an existing service ID by its `ServiceId-…` id (the engine reads it; nothing is created). */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): ServiceId {
        return new ServiceId(name, undefined as unknown as ServiceIdArgs, { ...opts, id });
    }
}
