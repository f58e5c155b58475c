// The lock-aware update and delete of IBM identity entities, written once for ServiceId and
// ServiceApiKey (the same IBM semantics: a lock refuses updates and deletes with 409 `entity_locked`;
// If-Match updates carry the entity tag held in state; lock, unlock, disable and enable take none).
import { isEntityLocked, isEtagMismatch, isNotFound } from "../../client/errors";
import { ApiKey, IamClient, ServiceIdEntity } from "../../client/iamClient";

/** A service ID or API key as the algorithms below see it. */
export interface LockableEntity<W extends { entity_tag: string }> {
    /** `service ID`, `API key`: for messages. */
    what: string;
    id: string;
    get(): Promise<W>;
    lock(): Promise<void>;
    unlock(): Promise<void>;
    /** Deletes it; already gone counts as success. */
    remove(): Promise<unknown>;
}

/** A service ID or an API key, through the deployer's IAM client. */
export function iamEntity(iam: IamClient, what: "service ID", id: string): LockableEntity<ServiceIdEntity>;
export function iamEntity(iam: IamClient, what: "API key", id: string): LockableEntity<ApiKey>;
export function iamEntity(iam: IamClient, what: "service ID" | "API key", id: string): LockableEntity<ServiceIdEntity> | LockableEntity<ApiKey> {
    if (what === "service ID") {
        return {
            what,
            id,
            get: () => iam.getServiceId(id),
            lock: () => iam.lockServiceId(id),
            unlock: () => iam.unlockServiceId(id),
            remove: () => iam.deleteServiceId(id),
        };
    }
    return { what, id, get: () => iam.getApiKey(id), lock: () => iam.lockApiKey(id), unlock: () => iam.unlockApiKey(id), remove: () => iam.deleteApiKey(id) };
}

/** What state holds of the entity. */
export interface LockableState {
    entityTag?: unknown;
    locked?: unknown;
}

export interface LockableChange {
    /** The If-Match write of the changed fields; undefined when no field changed. */
    write?: (entityTag: string) => Promise<unknown>;
    /** Writes that take no If-Match but that a lock refuses (disable/enable), in order. */
    toggles?: ReadonlyArray<() => Promise<unknown>>;
    /** The lock wanted afterwards. */
    wantLocked: boolean;
}

/**
 * Turns IBM's answer to an If-Match write into what the user must do: a stale entity tag means the
 * object was changed elsewhere (never overwritten by us); a 404 means it was deleted elsewhere.
 */
export function explainIdentityWriteError(what: string, id: string, err: unknown): Error {
    if (isEtagMismatch(err)) {
        return new Error(
            `${what} ${id} was changed outside Pulumi since it was last read; run \`pulumi refresh\`, then \`pulumi up\` ` + `(IBM: ${(err as Error).message})`,
        );
    }
    if (isNotFound(err)) {
        return new Error(`${what} ${id} no longer exists (deleted outside Pulumi); run \`pulumi refresh\`, then \`pulumi up\` to create it again`);
    }
    return err instanceof Error ? err : new Error(String(err));
}

/** The entity tag held in state; never `*` (that would overwrite a change made elsewhere). */
export function entityTagFromState(what: string, id: string, state: LockableState): string {
    if (typeof state.entityTag !== "string" || state.entityTag === "" || state.entityTag === "*") {
        throw new Error(`${what} ${id} has no entity tag in state; run \`pulumi refresh\`, then \`pulumi up\``);
    }
    return state.entityTag;
}

/**
 * Lock, unlock, disable and enable take no If-Match, so before an update made only of those the live
 * entity tag is compared with the one in state: a change made elsewhere is reported, not taken in.
 */
function checkNotChangedElsewhere(what: string, id: string, state: LockableState, liveTag: string): void {
    const held = entityTagFromState(what, id, state);
    if (liveTag !== held) {
        throw new Error(
            `${what} ${id} was changed outside Pulumi since it was last read; run \`pulumi refresh\`, then \`pulumi up\` ` +
                `(its entity tag is ${liveTag}, state holds ${held})`,
        );
    }
}

/**
 * Runs `write`. When IBM refuses because the entity is locked: unlock, write again, then lock again if
 * `relock` — and always lock again when the second write fails, so a failure never leaves an entity
 * less protected than it was. Returns whether the entity had to be unlocked.
 */
async function writeThroughLock(write: () => Promise<unknown>, e: LockableEntity<{ entity_tag: string }>, relock: boolean): Promise<{ unlocked: boolean }> {
    try {
        await write();
        return { unlocked: false };
    } catch (err) {
        if (!isEntityLocked(err)) throw err;
    }
    await e.unlock();
    try {
        await write();
    } catch (err) {
        await e.lock().catch(() => undefined);
        throw err;
    }
    if (relock) await e.lock();
    return { unlocked: true };
}

/**
 * An update that failed after IBM accepted one of its writes: carrying `id` and `properties` makes it a
 * partial failure, so the engine records the live outputs (with the new entity tag) instead of keeping
 * a state that the next `pulumi up` would find stale.
 */
function partialUpdateFailure(err: Error, id: string, properties: Record<string, unknown>): Error {
    return Object.assign(new Error(err.message), { id, properties, reasons: [err.message] });
}

/**
 * Applies `change` to the entity through its lock (unlocking and locking again as needed, never
 * leaving it less protected after a failure) and returns the outputs of what IBM holds afterwards:
 * lock changes may move the entity tag, so state keeps the one IBM holds now.
 */
export async function updateLockable<W extends { entity_tag: string }, O>(
    e: LockableEntity<W>,
    state: LockableState,
    change: LockableChange,
    outputs: (live: W) => O,
): Promise<O> {
    const toggles = change.toggles ?? [];
    let locked = state.locked === true;
    let wrote = false;
    try {
        if (!change.write && (toggles.length > 0 || change.wantLocked !== locked)) checkNotChangedElsewhere(e.what, e.id, state, (await e.get()).entity_tag);
        if (change.write) {
            const etag = entityTagFromState(e.what, e.id, state);
            const write = change.write;
            const r = await writeThroughLock(() => write(etag), e, change.wantLocked);
            wrote = true;
            // A successful write proves the entity was unlocked, unless we unlocked it (and maybe locked it again).
            locked = r.unlocked ? change.wantLocked : false;
        }
        for (const toggle of toggles) {
            const r = await writeThroughLock(toggle, e, change.wantLocked);
            wrote = true;
            if (r.unlocked) locked = change.wantLocked;
        }
        if (change.wantLocked && !locked) await e.lock();
        if (!change.wantLocked && locked) await e.unlock();
        wrote = true;
        return outputs(await e.get());
    } catch (err) {
        const explained = explainIdentityWriteError(e.what, e.id, err);
        if (!wrote) throw explained;
        const live = await e.get().catch(() => undefined);
        throw live ? partialUpdateFailure(explained, e.id, outputs(live) as unknown as Record<string, unknown>) : explained;
    }
}

/**
 * Deletes the entity, unlocking it first when state says it is locked, or when IBM refuses because it
 * was locked elsewhere since (and `unlockHelps` agrees: a service ID also answers 409 when one of its
 * API keys is locked). Already gone is success; a failed delete leaves it as protected as it was.
 */
export async function deleteLockable(
    e: LockableEntity<{ entity_tag: string }>,
    state: LockableState,
    unlockHelps: () => Promise<boolean> = async () => true,
): Promise<void> {
    let unlockedByUs = false;
    try {
        if (state.locked === true) {
            await e.unlock();
            unlockedByUs = true;
        }
        try {
            await e.remove();
        } catch (err) {
            if (unlockedByUs || !isEntityLocked(err) || !(await unlockHelps())) throw err;
            await e.unlock();
            unlockedByUs = true;
            await e.remove();
        }
    } catch (err) {
        if (isNotFound(err)) return;
        if (unlockedByUs) await e.lock().catch(() => undefined);
        throw err;
    }
}
