// Fault injection and request counters, with the per-caller rate limit (rateLimit.ts): one middleware in front of every IBM route.
import * as crypto from "crypto";
import { turnedAway, TURNED_AWAY_STATUSES } from "../core/errors";
import type { TokenSigner } from "../core/jwt";
import { Ctx, WireResponse } from "../core/request";
import { Middleware } from "../core/server";
import { TOKEN_PATHS } from "../iam/token";
import { checkRateLimit, FaultConfigError, isWhole, RateLimit, RateLimiter } from "./rateLimit";

export { checkRateLimit, FaultConfigError } from "./rateLimit";
export type { RateLimit } from "./rateLimit";

export type FaultKind =
    | "status" // answer `status` in the family's envelope without running the handler
    | "reset-before" // destroy the socket before the handler runs
    | "reset-after" // run the handler (the write commits), then destroy the socket instead of answering
    | "slow" // run the handler, then hold the response `delayMs` before sending it
    | "malformed-json"; // run the handler, then send its status with a truncated JSON body

export const FAULT_KINDS: readonly FaultKind[] = ["status", "reset-before", "reset-after", "slow", "malformed-json"];

export interface FaultRule {
    kind: FaultKind;
    /** "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "*" (default "*"). */
    method?: string;
    /** "*" (default: every IBM path) or a path whose segments may be `*` (one segment); a trailing `/**` matches any rest, none included. */
    path?: string;
    /** 0..1 (default 1). */
    probability?: number;
    /** Fire at most this many times, then the rule is spent (default unlimited). */
    count?: number;
    /** Kind "status" only (required there): 429, 500, 502, 503 or 504. */
    status?: number;
    /** Kind "status" only: `Retry-After` seconds (default 1 on 429 and 503, none otherwise). */
    retryAfterSeconds?: number;
    /** Kind "slow" only (default 35000). */
    delayMs?: number;
}

export interface EmulatorStats {
    /** Requests to IBM paths (admin paths not counted), whatever happened to them. */
    requests: number;
    /** POST/PUT/PATCH/DELETE that reached a route handler, token endpoints not counted. */
    writes: number;
    faultsInjected: { total: number; byKind: Record<FaultKind, number> };
    /** Requests turned away with 429 by the rate limit. */
    rateLimited: number;
}

export type ListedFault = FaultRule & { id: string; fired: number };

export const DEFAULT_SLOW_DELAY_MS = 35000;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "*"];
const RULE_FIELDS = ["kind", "method", "path", "probability", "count", "status", "retryAfterSeconds", "delayMs"];
const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const MAX_TIMER_MS = 2147483647;
const MAX_SEED = 4294967295;

/** Checks one rule and returns a copy with its known fields only; `where` names it in errors (`faults[2]`). */
export function checkFaultRule(raw: unknown, where: string): FaultRule {
    const fail = (m: string): never => {
        throw new FaultConfigError(`${where}${m}`);
    };
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) fail(` must be an object like {"kind":"status","status":503}`);
    const r = raw as Record<string, unknown>;
    for (const k of Object.keys(r)) {
        if (!RULE_FIELDS.includes(k)) fail(`.${k} is not a fault rule field (fields: ${RULE_FIELDS.join(", ")})`);
    }
    const kinds = FAULT_KINDS.map((k) => `"${k}"`).join(", ");
    if (typeof r.kind !== "string" || !(FAULT_KINDS as readonly string[]).includes(r.kind)) fail(`.kind must be one of ${kinds}`);
    const kind = r.kind as FaultKind;
    const out: FaultRule = { kind };
    if (r.method !== undefined) {
        if (typeof r.method !== "string" || !METHODS.includes(r.method.toUpperCase())) fail(`.method must be GET, POST, PUT, PATCH, DELETE or "*"`);
        out.method = (r.method as string).toUpperCase();
    }
    if (r.path !== undefined) {
        if (typeof r.path !== "string") fail(`.path must be a string: "*" or a path like "/v1/serviceids/*"`);
        const problem = pathProblem(r.path as string);
        if (problem) fail(`.path ${problem}`);
        out.path = r.path as string;
    }
    if (r.probability !== undefined) {
        if (typeof r.probability !== "number" || !(r.probability >= 0 && r.probability <= 1)) fail(".probability must be a number from 0 to 1");
        out.probability = r.probability as number;
    }
    if (r.count !== undefined) {
        if (!isWhole(r.count) || r.count < 1) fail(".count must be a whole number, at least 1 (leave it out for no limit)");
        out.count = r.count as number;
    }
    const statuses = TURNED_AWAY_STATUSES.join(", ");
    if (kind === "status") {
        if (r.status === undefined) fail(`.status is required for kind "status": one of ${statuses}`);
        if (!TURNED_AWAY_STATUSES.includes(r.status as number)) fail(`.status must be one of ${statuses}`);
        out.status = r.status as number;
        if (r.retryAfterSeconds !== undefined) {
            if (!isWhole(r.retryAfterSeconds) || r.retryAfterSeconds < 0) fail(".retryAfterSeconds must be a whole number of seconds, 0 or more");
            out.retryAfterSeconds = r.retryAfterSeconds as number;
        }
    } else {
        if (r.status !== undefined) fail(`.status only applies to kind "status" (this rule is "${kind}")`);
        if (r.retryAfterSeconds !== undefined) fail(`.retryAfterSeconds only applies to kind "status" (this rule is "${kind}")`);
    }
    if (kind === "slow") {
        if (r.delayMs !== undefined) {
            if (!isWhole(r.delayMs) || r.delayMs < 0 || r.delayMs > MAX_TIMER_MS)
                fail(`.delayMs must be a whole number of milliseconds from 0 to ${MAX_TIMER_MS}`);
            out.delayMs = r.delayMs as number;
        }
    } else if (r.delayMs !== undefined) {
        fail(`.delayMs only applies to kind "slow" (this rule is "${kind}")`);
    }
    return out;
}

function pathProblem(p: string): string | undefined {
    if (p === "*") return undefined;
    if (!p.startsWith("/")) return `must be "*" or start with "/", like "/v1/serviceids/*" (got ${JSON.stringify(p.slice(0, 60))})`;
    if (/[?#]/.test(p)) return "must not contain a query or fragment: rules match the path only";
    const segs = p.split("/").filter(Boolean);
    if (segs[0] === "__emulator") return "cannot name an admin path: /__emulator/** is never faulted";
    for (let i = 0; i < segs.length; i++) {
        const s = segs[i];
        if (s === "**" && i !== segs.length - 1) return `may use "**" only as its last segment (got ${JSON.stringify(p)})`;
        if (s !== "*" && s !== "**" && s.includes("*"))
            return `segments must be whole: "*" matches one segment, a trailing "**" the rest (got ${JSON.stringify(p)})`;
    }
    return undefined;
}

/** `/a/*` matches one segment in place of `*`; `/a/**` matches `/a` and everything below it. */
function pathMatcher(pattern: string | undefined): (path: string) => boolean {
    if (pattern === undefined || pattern === "*") return () => true;
    const segs = pattern.split("/").filter(Boolean);
    const rest = segs[segs.length - 1] === "**";
    const fixed = rest ? segs.slice(0, -1) : segs;
    return (path) => {
        const parts = path.split("/").filter(Boolean);
        if (rest ? parts.length < fixed.length : parts.length !== fixed.length) return false;
        return fixed.every((s, i) => s === "*" || s === parts[i]);
    };
}

export function checkSeed(raw: unknown, name: string): number {
    if (!isWhole(raw) || raw < 0 || raw > MAX_SEED) throw new FaultConfigError(`${name} must be a whole number from 0 to ${MAX_SEED}`);
    return raw;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function mulberry32(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

interface ActiveRule {
    id: string;
    rule: FaultRule;
    fired: number;
    matchesPath: (path: string) => boolean;
}

interface Held {
    ctx: Ctx;
    drop: () => void;
}

function zeroStats(): EmulatorStats {
    const byKind = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
    return { requests: 0, writes: 0, faultsInjected: { total: 0, byKind }, rateLimited: 0 };
}

export interface FaultOptions {
    faults?: FaultRule[];
    faultSeed?: number;
    rateLimit?: RateLimit;
}

/** Rules, PRNG, rate-limit buckets and counters of one emulator; `middleware` applies them. */
export class FaultInjector {
    private rules: ActiveRule[] = [];
    private nextId = 1;
    private seedValue: number;
    private random: () => number;
    private readonly limiter: RateLimiter;
    private counters = zeroStats();
    private readonly held = new Set<Held>();

    /** Throws `FaultConfigError` naming the option (`faults[1].status`, `rateLimit.burst`, `faultSeed`). */
    constructor(opts: FaultOptions, signer: () => TokenSigner) {
        this.limiter = new RateLimiter(signer);
        this.seedValue = opts.faultSeed === undefined ? crypto.randomInt(0, MAX_SEED) : checkSeed(opts.faultSeed, "faultSeed");
        this.random = mulberry32(this.seedValue);
        if (opts.faults) this.add(opts.faults.map((r, i) => checkFaultRule(r, `faults[${i}]`)));
        if (opts.rateLimit) this.setRateLimit(checkRateLimit(opts.rateLimit, "rateLimit"));
    }

    get seed(): number {
        return this.seedValue;
    }

    /** Restarts the random sequence: the same rules and requests then fire the same way again. */
    reseed(seed: number): void {
        this.seedValue = seed;
        this.random = mulberry32(seed);
    }

    add(rules: FaultRule[]): string[] {
        return rules.map((rule) => {
            const id = `f${this.nextId++}`;
            this.rules.push({ id, rule: { ...rule }, fired: 0, matchesPath: pathMatcher(rule.path) });
            return id;
        });
    }

    list(): ListedFault[] {
        return this.rules.map((r) => ({ id: r.id, ...r.rule, fired: r.fired }));
    }

    remove(id: string): boolean {
        const before = this.rules.length;
        this.rules = this.rules.filter((r) => r.id !== id);
        return this.rules.length < before;
    }

    clear(): void {
        this.rules = [];
    }

    get rateLimit(): Required<RateLimit> | null {
        return this.limiter.limit;
    }

    /** Replaces the limit; every caller starts again with a full bucket. */
    setRateLimit(rl: RateLimit | null): void {
        this.limiter.set(rl);
    }

    stats(): EmulatorStats {
        const c = this.counters;
        return { ...c, faultsInjected: { total: c.faultsInjected.total, byKind: { ...c.faultsInjected.byKind } } };
    }

    resetStats(): void {
        this.counters = zeroStats();
    }

    /** At stop: responses held by "slow" are dropped with their connections, so stop() never waits for them. */
    dropHeld(): void {
        for (const h of [...this.held]) {
            h.drop();
            h.ctx.req.socket.destroy();
        }
    }

    readonly middleware: Middleware = async (ctx, next) => {
        if (ctx.family === "admin") return next();
        this.counters.requests++;
        {
            const wait = this.limiter.take(ctx);
            if (wait !== undefined) {
                this.counters.rateLimited++;
                throw turnedAway(ctx, 429, wait);
            }
        }
        const fault = this.pick(ctx);
        if (!fault) {
            await next();
            this.countWrite(ctx);
            return;
        }
        this.counters.faultsInjected.total++;
        this.counters.faultsInjected.byKind[fault.kind]++;
        if (fault.kind === "status") {
            const status = fault.status as number;
            const retryAfter = fault.retryAfterSeconds ?? (status === 429 || status === 503 ? 1 : undefined);
            throw turnedAway(ctx, status, retryAfter);
        }
        if (fault.kind === "reset-before") {
            ctx.responded = true;
            reset(ctx);
            return;
        }
        // the other kinds let the handler run and commit, then tamper with what goes on the wire
        const capture: { response?: WireResponse } = {};
        ctx.capture = capture;
        try {
            await next();
        } finally {
            ctx.capture = undefined;
        }
        this.countWrite(ctx);
        const response = capture.response;
        if (!response) throw new Error("route produced no response");
        switch (fault.kind) {
            case "reset-after":
                reset(ctx);
                return;
            case "malformed-json":
                ctx.write(garbled(response));
                return;
            case "slow":
                if (await this.hold(ctx, fault.delayMs ?? DEFAULT_SLOW_DELAY_MS)) ctx.write(response);
                return;
        }
    };

    /** The first rule (in order) that matches and fires; a draw from the PRNG only when 0 < p < 1. */
    private pick(ctx: Ctx): FaultRule | undefined {
        for (const r of this.rules) {
            if (r.rule.count !== undefined && r.fired >= r.rule.count) continue;
            const method = r.rule.method ?? "*";
            if (method !== "*" && method !== ctx.method) continue;
            if (!r.matchesPath(ctx.path)) continue;
            const p = r.rule.probability ?? 1;
            if (p <= 0 || (p < 1 && this.random() >= p)) continue;
            r.fired++;
            return r.rule;
        }
        return undefined;
    }

    private countWrite(ctx: Ctx): void {
        if (ctx.reachedHandler && WRITE_METHODS.has(ctx.method) && !TOKEN_PATHS.has(ctx.path)) this.counters.writes++;
    }

    /** Resolves true after `ms`, false if the client went away or the emulator stopped first. */
    private hold(ctx: Ctx, ms: number): Promise<boolean> {
        return new Promise((resolve) => {
            const done = (send: boolean) => {
                clearTimeout(timer);
                ctx.res.off("close", gone);
                this.held.delete(entry);
                resolve(send);
            };
            const gone = () => done(false);
            const entry: Held = { ctx, drop: gone };
            const timer = setTimeout(() => done(true), ms);
            ctx.res.on("close", gone);
            this.held.add(entry);
        });
    }
}

/** A real connection reset (TCP RST): the client sees ECONNRESET or "other side closed", never a response. */
function reset(ctx: Ctx): void {
    const socket = ctx.req.socket;
    if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
    else socket.destroy();
}

/** The handler's status and headers with its JSON cut in half, so no JSON parser accepts it. */
function garbled(r: WireResponse): WireResponse {
    // a 204 cannot carry a body: the garbled answer becomes a 200, like a proxy mangling an empty reply
    const status = r.status === 204 || r.body === undefined ? 200 : r.status;
    const text = r.body ?? "{}";
    let body = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    if (parses(body)) body = `{${body}`;
    const headers = { ...r.headers, "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)) };
    return { status, headers, body };
}

function parses(text: string): boolean {
    try {
        JSON.parse(text);
        return true;
    } catch {
        return false;
    }
}
