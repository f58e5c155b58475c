// Waiting and trying again, written once: the pause between attempts of an HTTP request, of a lookup
// after a lost create, and of the poll until KMS lets an identity in.
import { setTimeout as delay } from "timers/promises";

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
    return delay(ms);
}

/** A schedule of pauses: listed ones first, then the last one doubling, never above the cap. */
export interface BackoffSchedule {
    /** Pause before retry n (0-based); past the end the last value doubles. */
    delaysMs: ReadonlyArray<number>;
    /** Cap on any computed pause. */
    maxDelayMs: number;
}

/** The pause before retry `retryIndex` (0-based), without jitter. */
export function backoffDelayMs(schedule: BackoffSchedule, retryIndex: number): number {
    const list = schedule.delaysMs;
    let d: number;
    if (list.length === 0) d = 0;
    else if (retryIndex < list.length) d = list[retryIndex];
    else d = list[list.length - 1] * 2 ** (retryIndex - list.length + 1);
    return Math.min(d, schedule.maxDelayMs);
}

/** Parses Retry-After (delta seconds or an HTTP date) into milliseconds from `nowMs`; undefined when absent/invalid. */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
    if (value === undefined) return undefined;
    const v = value.trim();
    if (v === "") return undefined;
    if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    return Math.max(0, at - nowMs);
}

/** `ms` plus a random share of up to `fraction` of it: spreads out the retries of many callers. */
export function withJitter(ms: number, fraction: number): number {
    return Math.round(ms * (1 + Math.random() * Math.max(0, fraction)));
}

/**
 * Runs `attempt` (1-based attempt number) until it resolves. After a failure `pauseAfter(err, n)` says
 * how long to wait before attempt n + 1, or undefined to give up and throw `err` (it may also throw an
 * error of its own).
 */
export async function retrying<T>(
    attempt: (n: number) => Promise<T>,
    pauseAfter: (err: unknown, n: number) => number | undefined,
    wait: (ms: number) => Promise<void> = sleep,
): Promise<T> {
    for (let n = 1; ; n++) {
        try {
            return await attempt(n);
        } catch (err) {
            const pause = pauseAfter(err, n);
            if (pause === undefined) throw err;
            await wait(pause);
        }
    }
}
