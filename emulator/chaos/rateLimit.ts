// The per-caller rate limit: a token bucket per caller, checked before any fault rule.
import * as crypto from "crypto";
import { performance } from "perf_hooks";
import type { TokenSigner } from "../core/jwt";
import type { Ctx } from "../core/request";
import { TOKEN_PATHS } from "../iam/token";

/** Bad fault or rate-limit configuration; the message names the field (`where` prefix) and what it must be. */
export class FaultConfigError extends Error {}

export const isWhole = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

export interface RateLimit {
    requestsPerSecond: number;
    /** Bucket size: requests a caller may make at once (default: requestsPerSecond rounded up, at least 1). */
    burst?: number;
}

export function checkRateLimit(raw: unknown, where: string): Required<RateLimit> {
    const fail = (m: string): never => {
        throw new FaultConfigError(`${where}${m}`);
    };
    const dot = where ? `${where}.` : "";
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) fail(`${where ? "" : "rate limit"} must be an object like {"requestsPerSecond":20,"burst":40}`);
    const r = raw as Record<string, unknown>;
    for (const k of Object.keys(r)) {
        if (k !== "requestsPerSecond" && k !== "burst") throw new FaultConfigError(`${dot}${k} is not a rate limit field (fields: requestsPerSecond, burst)`);
    }
    const rps = r.requestsPerSecond;
    if (typeof rps !== "number" || !Number.isFinite(rps) || rps <= 0) throw new FaultConfigError(`${dot}requestsPerSecond must be a number greater than 0`);
    let burst = Math.max(1, Math.ceil(rps));
    if (r.burst !== undefined) {
        if (!isWhole(r.burst) || r.burst < 1) throw new FaultConfigError(`${dot}burst must be a whole number, at least 1`);
        burst = r.burst;
    }
    return { requestsPerSecond: rps, burst };
}

interface Bucket {
    tokens: number;
    at: number; // seconds, monotonic
}

/** The buckets of one emulator; `take` says whether a request may go. */
export class RateLimiter {
    private current: Required<RateLimit> | null = null;
    private buckets = new Map<string, Bucket>();

    constructor(private readonly signer: () => TokenSigner) {}

    get limit(): Required<RateLimit> | null {
        return this.current ? { ...this.current } : null;
    }

    /** Replaces the limit (null: none); every caller starts again with a full bucket. */
    set(rl: RateLimit | null): void {
        this.current = rl ? { requestsPerSecond: rl.requestsPerSecond, burst: rl.burst ?? Math.max(1, Math.ceil(rl.requestsPerSecond)) } : null;
        this.buckets.clear();
    }

    /** Undefined when the request may go, else the whole seconds until it could. */
    take(ctx: Ctx): number | undefined {
        const limit = this.current;
        if (!limit) return undefined;
        const caller = this.callerOf(ctx);
        const now = performance.now() / 1000;
        let b = this.buckets.get(caller);
        if (!b) {
            if (this.buckets.size >= 10000) this.pruneFull(now, limit);
            b = { tokens: limit.burst, at: now };
            this.buckets.set(caller, b);
        } else {
            b.tokens = Math.min(limit.burst, b.tokens + (now - b.at) * limit.requestsPerSecond);
            b.at = now;
        }
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return undefined;
        }
        return Math.max(1, Math.ceil((1 - b.tokens) / limit.requestsPerSecond));
    }

    /** A full bucket is the same as no bucket: forget it so many callers cannot grow the map without end. */
    private pruneFull(now: number, limit: Required<RateLimit>): void {
        for (const [k, b] of this.buckets) {
            if (b.tokens + (now - b.at) * limit.requestsPerSecond >= limit.burst) this.buckets.delete(k);
        }
    }

    /** Who a bucket belongs to: a valid bearer token's iam_id, the API key (hashed) on the token endpoint, the address. */
    private callerOf(ctx: Ctx): string {
        const m = /^Bearer\s+(\S+)$/i.exec(ctx.header("authorization") ?? "");
        if (m) {
            const v = this.signer().verify(m[1]);
            if (v.ok && typeof v.claims.iam_id === "string") return `iam:${v.claims.iam_id}`;
        }
        if (TOKEN_PATHS.has(ctx.path)) {
            const key = new URLSearchParams(ctx.body.toString("utf8")).get("apikey");
            if (key) return `apikey:${crypto.createHash("sha256").update(key).digest("hex")}`;
        }
        return `addr:${ctx.req.socket.remoteAddress ?? "unknown"}`;
    }
}
