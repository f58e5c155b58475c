// What every policy resource (AccessPolicy, AuthorizationPolicy) does with Policy Management v1 once its
// body is built: create, adopting an identical policy on 409 when asked; read, where a policy left
// `deleted` is gone; replace with the ETag held in state; delete, where already gone is success.
// `kind` ("access", "authorization") and `resource` (the resource type) only shape the messages.
import { appendErrorNote, isEntityLocked, isEtagMismatch, isNotFound, isPolicyConflict } from "../../client/errors";
import { IamClient, PolicyBody, PolicyWithEtag } from "../../client/iamClient";

export interface PolicyKind {
    /** `access` or `authorization`, as in "an identical access policy". */
    kind: string;
    /** The resource type, for `Resource.get(...)` in messages. */
    resource: string;
    /** What an identical policy shares, e.g. "same subject, roles and resource". */
    identical: string;
    /** Who the policy is for, for a locked-subject message (access policies only). */
    subject?: string;
}

function conflictNote(k: PolicyKind, existingId: string | undefined): string {
    const id = existingId ?? "<id of the existing policy>";
    return (
        `an identical ${k.kind} policy (${k.identical}) already exists: ${id}. Set adoptExisting: true on this ${k.resource} to manage it ` +
        `(pulumi destroy then deletes it), or use it without managing it with ${k.resource}.get("<name>", "${id}")`
    );
}

function lockedNote(k: PolicyKind): string {
    return `the subject ${k.subject ?? "of the policy"} is a locked service ID: unlock it to change its policies`;
}

/**
 * Creates the policy; on 409 takes over the identical one when `adoptExisting` (marked `adopted`: not made by this
 * create), else fails naming it.
 */
export async function createPolicyOrAdopt(
    iam: IamClient,
    body: PolicyBody,
    adoptExisting: boolean | undefined,
    k: PolicyKind,
): Promise<PolicyWithEtag & { adopted?: true }> {
    try {
        return await iam.createPolicy(body);
    } catch (err) {
        if (isPolicyConflict(err)) {
            const existingId = err.conflictingPolicyId ?? (await iam.findIdenticalPolicy(body))?.policy.id;
            if (adoptExisting !== true || existingId === undefined) throw appendErrorNote(err, conflictNote(k, existingId));
            return { ...(await adopt(iam, existingId, body)), adopted: true };
        }
        if (isEntityLocked(err)) throw appendErrorNote(err, lockedNote(k));
        throw err;
    }
}

/** Takes over an existing identical policy, giving it this resource's description. */
async function adopt(iam: IamClient, policyId: string, body: PolicyBody): Promise<PolicyWithEtag> {
    const current = await iam.getPolicy(policyId);
    if ((current.policy.description ?? "") === (body.description ?? "")) return current;
    return iam.replacePolicy(policyId, current.etag, body);
}

/** The live policy, or undefined when it is gone (404, or left `deleted` by its subject's deletion). */
export async function readLivePolicy(iam: IamClient, id: string): Promise<PolicyWithEtag | undefined> {
    let got: PolicyWithEtag;
    try {
        got = await iam.getPolicy(id);
    } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
    }
    return got.policy.state === "deleted" ? undefined : got;
}

/** Replaces the policy with `If-Match` = the ETag in state (none recorded: the current one). */
export async function replacePolicyInPlace(
    iam: IamClient,
    id: string,
    etagInState: string | undefined,
    body: PolicyBody,
    k: PolicyKind,
): Promise<PolicyWithEtag> {
    const gone = `${k.kind} policy ${id} no longer exists (deleted outside Pulumi, or its subject was deleted); run \`pulumi refresh\` so Pulumi forgets it, then \`pulumi up\` creates it again`;
    let etag = etagInState;
    try {
        // State written before an ETag was recorded: take the current one (nothing to protect yet).
        if (typeof etag !== "string" || etag === "") etag = (await iam.getPolicy(id)).etag;
        return await iam.replacePolicy(id, etag, body);
    } catch (err) {
        if (isEtagMismatch(err)) {
            throw appendErrorNote(
                err,
                `${k.kind} policy ${id} was changed outside Pulumi since Pulumi last read it (its ETag ${etag} is stale); ` +
                    "run `pulumi refresh` to take in the change, then `pulumi up` to apply the program's policy",
            );
        }
        if (isNotFound(err)) throw appendErrorNote(err, gone);
        if (isPolicyConflict(err)) {
            throw appendErrorNote(
                err,
                `another policy (${err.conflictingPolicyId ?? "see IAM"}) already grants exactly this; delete it, or delete this ${k.resource} and adopt the other with adoptExisting: true`,
            );
        }
        if (isEntityLocked(err)) throw appendErrorNote(err, lockedNote(k));
        throw err;
    }
}

/** Deletes the policy; already gone (or left `deleted`) is success. */
export async function deletePolicyIfPresent(iam: IamClient, id: string): Promise<void> {
    try {
        await iam.deletePolicy(id); // false when already gone: fine
    } catch (err) {
        // A policy left `deleted` by its service ID's deletion may refuse a delete: it is gone all the same.
        try {
            const current = await iam.getPolicy(id);
            if (current.policy.state === "deleted") return;
        } catch (probe) {
            if (isNotFound(probe)) return;
        }
        if (isEntityLocked(err)) throw appendErrorNote(err, "the policy's subject is a locked service ID: unlock it, then destroy again");
        throw err;
    }
}
