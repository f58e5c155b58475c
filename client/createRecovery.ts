// Creates that survive a lost answer. IBM's IAM and KMS create calls take no idempotency key, so when a
// create POST may have reached the server but no answer came back (connection reset, timeout, 500/502/504,
// an unreadable body: `IbmCloudError.outcomeUnknown`), sending it again could make a second object, and
// giving up would leave the first one behind, unknown to Pulumi. Instead: look for what the lost attempt
// made; exactly one match is adopted, none means nothing was made and the create is sent again, several
// means we cannot tell which one is ours and the user is told which ones exist. A lookup that fails for
// a reason that may pass is tried again before giving up: giving up there leaves an object Pulumi does not
// know of, which the next `pulumi up` would duplicate.
//
// Closure-serialized with the client (plain functions and constants only).
import { IbmCloudError } from "./errors";
import { retrying } from "./backoff";

/** Sends after the first (so at most 1 + this many create POSTs per create). */
export const MAX_CREATE_RESENDS = 2;
/** How much earlier than our first attempt (by our clock) a match may be dated by IBM's clock. */
export const CREATE_CLOCK_SKEW_MS = 5 * 60_000;
/** Lookups after the first when one fails retryably (429, 5xx, transport); each is already retried by the HTTP client. */
export const MAX_LOOKUP_RETRIES = 2;
/** Pause before the next lookup, times the number of lookups made so far. */
export const LOOKUP_RETRY_PAUSE_MS = 2_000;

export interface CreateRecovery<T> {
    /** `create service ID`: starts error messages. */
    operation: string;
    /** One create POST (the HTTP client already retries what was turned away unprocessed). */
    send: () => Promise<T>;
    /**
     * What a lost attempt may have made: the objects matching the request that were created at or after
     * `since` (epoch ms, already allowing for clock skew). Reads only; its requests are retried as usual.
     */
    lookup: (since: number) => Promise<T[]>;
    /**
     * What a lost attempt leaves behind, for the user to look for when the lookup itself keeps failing:
     * `a service ID named "orders"` (names and ids only, never a secret).
     */
    leftover?: string;
    /** Identifies a match in messages (`ServiceId-…`). */
    idOf: (found: T) => string;
    /** Told when a lost attempt is recovered (for logs; never given secrets). */
    onRecovered?: (event: { operation: string; outcome: "adopted" | "resent"; id?: string; attempt: number }) => void;
    /** Clock, for tests. */
    now?: () => number;
    /** Pause between lookups, for tests. */
    sleep?: (ms: number) => Promise<void>;
}

/** The same error, outcome unknown, with `note` in place of the generic outcome-unknown advice. */
function recoveryNoted(err: IbmCloudError, note: string): IbmCloudError {
    return err.withContext({ outcomeUnknown: true, note: `its outcome was unknown and ${note}` }, { replaceNote: true });
}

/**
 * Runs `send`; when its outcome is unknown, adopts the one object `lookup` finds, or sends again when it
 * finds none. Throws the create's own error when recovery is impossible, with a note saying why.
 */

export async function createWithRecovery<T>(r: CreateRecovery<T>): Promise<T> {
    const now = r.now ?? Date.now;
    const since = now() - CREATE_CLOCK_SKEW_MS;
    for (let attempt = 1; ; attempt++) {
        try {
            return await r.send();
        } catch (err) {
            if (!(err instanceof IbmCloudError) || !err.outcomeUnknown) throw err;
            const lookup = await lookupPatiently(r, since);
            if ("cause" in lookup) {
                const { cause, lookups } = lookup;
                throw recoveryNoted(
                    err,
                    `looking for what it may have created failed too${lookups > 1 ? `, ${lookups} times` : ""} (${cause instanceof Error ? cause.message : String(cause)}); ` +
                        `once IBM Cloud answers again, look for ${r.leftover ?? "an object this request would have made"} created at ${new Date(since + CREATE_CLOCK_SKEW_MS).toISOString()} or later ` +
                        "that this stack does not track (`pulumi stack --show-ids` lists the ids it does), delete it if there is one, and then run `pulumi up` again: " +
                        "it creates the resource anew (a dynamic resource cannot be imported, and running it without looking could leave that object behind)",
                );
            }
            const found = lookup.found;
            if (found.length === 1) {
                r.onRecovered?.({ operation: r.operation, outcome: "adopted", id: r.idOf(found[0]), attempt });
                return found[0];
            }
            if (found.length > 1) {
                throw recoveryNoted(
                    err,
                    `${found.length} matching objects were created since then (${found.map(r.idOf).join(", ")}) and it cannot tell which one this request made: ` +
                        "delete all but one, and adopt that one with the resource's `get` (the `id` resource option)",
                );
            }
            if (attempt > MAX_CREATE_RESENDS) {
                throw recoveryNoted(err, `nothing was created; gave up after ${attempt} create attempts`);
            }
            r.onRecovered?.({ operation: r.operation, outcome: "resent", attempt });
        }
    }
}

/**
 * `r.lookup(since)`, tried again (after a pause) while it fails retryably, up to MAX_LOOKUP_RETRIES more
 * times; a refusal (403: no right to list, 400) is final at once.
 */
async function lookupPatiently<T>(r: CreateRecovery<T>, since: number): Promise<{ found: T[] } | { cause: unknown; lookups: number }> {
    let lookups = 0;
    try {
        const found = await retrying(
            (n) => {
                lookups = n;
                return r.lookup(since);
            },
            (cause, n) => (cause instanceof IbmCloudError && cause.retryable && n <= MAX_LOOKUP_RETRIES ? LOOKUP_RETRY_PAUSE_MS * n : undefined),
            r.sleep,
        );
        return { found };
    } catch (cause) {
        return { cause, lookups };
    }
}

/** Was `createdAt` (IBM's `created_at`, `creationDate`) at or after `since`? Unknown dates count as recent. */
export function createdSince(createdAt: string | undefined, since: number): boolean {
    if (!createdAt) return true;
    const t = Date.parse(createdAt);
    return Number.isNaN(t) || t >= since;
}
