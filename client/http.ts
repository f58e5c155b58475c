// The one HTTP client every IBM Cloud call goes through (undici): JSON in and out, a timeout on every
// attempt, retries of 429 / 500 / 502–599 with backoff that honours Retry-After, and never a blind
// retry of a request that may already have created something.
//
// Why a small loop and not undici's RetryAgent: its handler drops the error body when it gives up
// (IBM's code and message would be lost), caps a long Retry-After instead of failing, decides per
// method only (a create POST must still be retried on 429/503 but not on 500/502), and cannot report
// "outcome unknown". The loop below is the whole retry policy, in one place.
import { request, Agent } from "undici";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { hideField, IbmCloudError, isRetryableStatus, parseErrorBody, redact } from "./errors";
import { backoffDelayMs, BackoffSchedule, parseRetryAfter, sleep, withJitter } from "./backoff";
import type { EndpointOrigin } from "./config";

export type { BackoffSchedule };

export const CLIENT_NAME = "pulumi-ibmcloud-iam";
/** The package's version, read from its package.json: the one place it is written. */
export const CLIENT_VERSION = packageVersion();

function packageVersion(): string {
    try {
        // dist/client/http.js → the package root.
        const v = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")).version;
        return typeof v === "string" && v !== "" ? v : "0.0.0";
    } catch {
        return "0.0.0";
    }
}

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RetryPolicy extends BackoffSchedule {
    /** Retries after the first attempt (so at most maxRetries + 1 attempts). */
    maxRetries: number;
    /** A Retry-After longer than this fails the request instead of waiting. */
    maxRetryAfterMs: number;
    /** Random extra delay as a fraction of the backoff (0 = none); spreads out retry storms. */
    jitter: number;
}

/** IBM's SDK schedule: 0.5, 1.5, 3.5, 7.5 s, capped at 30 s; Retry-After over 5 min fails. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
    maxRetries: 4,
    delaysMs: Object.freeze([500, 1500, 3500, 7500]),
    maxDelayMs: 30_000,
    maxRetryAfterMs: 300_000,
    jitter: 0.2,
});

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface HttpClientOptions {
    /** Per-attempt limit for the response headers and for each gap in the body (default 30 s). */
    timeoutMs?: number;
    /** TCP/TLS connect limit (default 10 s). */
    connectTimeoutMs?: number;
    retry?: Partial<RetryPolicy>;
    /** How to wait between attempts; tests pass a recorder that resolves at once. */
    sleep?: (ms: number) => Promise<void>;
    /** Extra product token appended to the User-Agent. */
    userAgentSuffix?: string;
    /** Values scrubbed from every error message (the client adds the key and tokens it holds). */
    secrets?: string[];
    /** Told about each retry (for logs); never given secrets. */
    onRetry?: (info: RetryInfo) => void;
    /** Where the base URLs this client calls came from (a setting, a default): a connection failure names it. */
    endpointOrigins?: ReadonlyArray<EndpointOrigin>;
}

export interface RetryInfo {
    operation: string;
    attempt: number;
    delayMs: number;
    reason: string;
}

export type QueryValue = string | number | boolean | undefined | null;

export interface HttpRequest {
    /** What the call does, in words; starts every error message (`create service ID failed: …`). */
    operation: string;
    method: HttpMethod;
    url: string;
    query?: { [name: string]: QueryValue };
    headers?: { [name: string]: string | undefined };
    /** Sent as JSON (content type `application/json` unless `contentType` says otherwise). */
    json?: unknown;
    /** Sent as `application/x-www-form-urlencoded`. */
    form?: { [name: string]: string | undefined };
    contentType?: string;
    /**
     * Replaying the request cannot do harm. Default: true for GET/HEAD/DELETE and for a PUT with
     * If-Match, false for POST/PATCH and a bare PUT. A POST that only reads or toggles state (token exchange, lock) may set true.
     */
    idempotent?: boolean;
    timeoutMs?: number;
    /** Secrets this request carries (e.g. an API key value in a header or body). */
    secrets?: ReadonlyArray<string | undefined>;
    /** Correlation id to send; a fresh UUID otherwise. The same id is sent on every retry. */
    correlationId?: string;
    /** Where the request's base URL came from, when the caller knows better than the client's list. */
    origin?: EndpointOrigin;
}

export interface HttpResponse<T = unknown> {
    status: number;
    /** Lower-case names; repeated headers joined with ", ". */
    headers: { [name: string]: string };
    /** Parsed JSON, the raw text for non-JSON bodies, or null when empty. */
    body: T;
    correlationId: string;
    attempts: number;
}

// Transport failures where the request certainly never reached the server.
const NOT_SENT_CODES: ReadonlyArray<string> = Object.freeze([
    "ECONNREFUSED",
    "ENOTFOUND",
    "EAI_AGAIN",
    "ENETUNREACH",
    "EHOSTUNREACH",
    "ENETDOWN",
    "EHOSTDOWN",
    "UND_ERR_CONNECT_TIMEOUT",
    "ECONNABORTED",
]);
// Transport failures after which the server may or may not have acted on the request.
const MAYBE_SENT_CODES: ReadonlyArray<string> = Object.freeze([
    "ECONNRESET",
    "EPIPE",
    "ETIMEDOUT",
    "UND_ERR_SOCKET",
    "UND_ERR_HEADERS_TIMEOUT",
    "UND_ERR_BODY_TIMEOUT",
    "UND_ERR_CLOSED",
    "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
    "UND_ERR_RESPONSE_STATUS_CODE",
]);

interface TransportFailure {
    code: string;
    /** false: certainly not sent; true: may have reached the server. */
    maybeSent: boolean;
    /** Retrying can help at all (a TLS certificate error cannot). */
    transient: boolean;
    text: string;
}

function transportCodeOf(err: unknown): string {
    const e = err as { code?: unknown; cause?: { code?: unknown }; errors?: Array<{ code?: unknown }> };
    if (typeof e?.code === "string" && e.code !== "UND_ERR_SOCKET") return e.code;
    if (typeof e?.cause?.code === "string") return e.cause.code;
    if (Array.isArray(e?.errors) && typeof e.errors[0]?.code === "string") return e.errors[0].code as string;
    return typeof e?.code === "string" ? e.code : "ERR_NETWORK";
}

// What a connection-level code means, for a reader who does not know Node's error codes.
const CONNECT_MEANINGS: { readonly [code: string]: string } = Object.freeze({
    ECONNREFUSED: "connection refused: nothing listens there",
    ENOTFOUND: "no such host name",
    EAI_AGAIN: "the host name could not be resolved just now",
    ENETUNREACH: "network unreachable",
    EHOSTUNREACH: "host unreachable",
    UND_ERR_CONNECT_TIMEOUT: "no connection within the connect timeout",
});

function classifyTransport(err: unknown): TransportFailure {
    const code = transportCodeOf(err);
    if (NOT_SENT_CODES.includes(code)) {
        const meaning = Object.hasOwn(CONNECT_MEANINGS, code) ? CONNECT_MEANINGS[code] : undefined;
        return { code, maybeSent: false, transient: true, text: `could not connect (${meaning ?? code})` };
    }
    if (code === "UND_ERR_HEADERS_TIMEOUT") return { code, maybeSent: true, transient: true, text: "no response within the timeout" };
    if (code === "UND_ERR_BODY_TIMEOUT") return { code, maybeSent: true, transient: true, text: "the response body stalled past the timeout" };
    if (MAYBE_SENT_CODES.includes(code)) return { code, maybeSent: true, transient: true, text: `the connection failed during the request (${code})` };
    // TLS and other local errors: a retry would fail the same way; be conservative about the outcome.
    const message = (err as { message?: unknown })?.message;
    return { code, maybeSent: true, transient: false, text: `request failed (${code}${typeof message === "string" ? `: ${message}` : ""})` };
}

// A PUT counts only with If-Match: then a replay can never overwrite someone else's later change.
function defaultIdempotent(method: HttpMethod, headers: HttpRequest["headers"]): boolean {
    if (method === "PUT") return Object.keys(headers ?? {}).some((k) => k.toLowerCase() === "if-match" && !!headers?.[k]);
    return method === "GET" || method === "HEAD" || method === "DELETE";
}

function buildUrl(base: string, query: HttpRequest["query"]): string {
    if (!query) return base;
    const url = new URL(base);
    for (const [k, v] of Object.entries(query)) {
        if (v === undefined || v === null) continue;
        url.searchParams.set(k, String(v));
    }
    return url.toString();
}

function withoutQuery(url: string): string {
    const i = url.indexOf("?");
    return i < 0 ? url : url.slice(0, i);
}

function normalizeHeaders(raw: Record<string, string | string[] | undefined>): { [name: string]: string } {
    const out: { [name: string]: string } = {};
    for (const [k, v] of Object.entries(raw)) {
        if (v === undefined) continue;
        out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
    }
    return out;
}

function parseBody(text: string, contentType: string | undefined): { ok: true; value: unknown } | { ok: false } {
    if (text.length === 0) return { ok: true, value: null };
    const looksJson = /json/i.test(contentType ?? "") || /^\s*[[{]/.test(text);
    if (!looksJson) return { ok: true, value: text };
    try {
        return { ok: true, value: JSON.parse(text) };
    } catch {
        return /json/i.test(contentType ?? "") ? { ok: false } : { ok: true, value: text };
    }
}

function traceFrom(headers: { [name: string]: string }): string | undefined {
    return headers["transaction-id"] ?? headers["x-correlation-id"] ?? headers["correlation-id"] ?? headers["x-request-id"];
}

/** undici-based client; one instance per configured provider, shared by the IAM and KMS clients. */
// Connection failures that say the address itself is wrong (more often a setting than an outage).
const WRONG_ADDRESS_CODES: ReadonlyArray<string> = Object.freeze(["ECONNREFUSED", "ENOTFOUND", "ENETUNREACH", "EHOSTUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * Retries a request that could not connect deserves. To an origin that has answered this client before,
 * the whole policy (an outage, a restart). To one that never has, what IBM's SDK (node-sdk-core with
 * retries on: retry-axios's two retries without a response) does — two — and none for a host name DNS
 * does not know: that address is most likely a wrong setting, and five attempts over 13 s only delay
 * the error that names it.
 */
export function connectRetries(policy: RetryPolicy, code: string, originAnsweredBefore: boolean): number {
    if (originAnsweredBefore || !WRONG_ADDRESS_CODES.includes(code)) return policy.maxRetries;
    return code === "ENOTFOUND" ? 0 : Math.min(2, policy.maxRetries);
}

function originOf(url: string): string {
    try {
        return new URL(url).origin;
    } catch {
        return url;
    }
}

export class HttpClient {
    readonly options: HttpClientOptions;
    readonly policy: RetryPolicy;
    private secrets!: string[];
    private agent: Agent | undefined;
    /** Origins that have sent any HTTP answer: a refused connection there is an outage, not a wrong address. */
    private answered: { [origin: string]: true } | undefined;
    private origins: EndpointOrigin[] | undefined;

    constructor(options: HttpClientOptions = {}) {
        this.options = options;
        this.policy = { ...DEFAULT_RETRY_POLICY, ...(options.retry ?? {}) };
        // Hidden from util.inspect / JSON.stringify of the client (it holds keys and tokens).
        hideField(this, "secrets", [...(options.secrets ?? [])]);
        if (options.endpointOrigins) for (const o of options.endpointOrigins) this.describeEndpoint(o);
    }

    /** Registers where a base URL came from; the first registration of a URL wins. */
    describeEndpoint(origin: EndpointOrigin): void {
        const url = origin.url.replace(/\/+$/, "");
        if (!this.origins) this.origins = [];
        if (!this.origins.some((o) => o.url === url)) this.origins.push({ ...origin, url });
    }

    /** Where `url`'s base came from: the longest registered base URL it starts with. */
    endpointOriginOf(url: string): EndpointOrigin | undefined {
        let best: EndpointOrigin | undefined;
        for (const o of this.origins ?? []) {
            if ((url === o.url || url.startsWith(`${o.url}/`)) && (!best || o.url.length > best.url.length)) best = o;
        }
        return best;
    }

    /** Registers a value that must never appear in an error (an API key, a token). */
    addSecret(value: string | undefined): void {
        if (value && !this.secrets.includes(value)) this.secrets.push(value);
    }

    /** Scrubs every known secret (and anything token-shaped) from `text`. */
    redact(text: string, extra: ReadonlyArray<string | undefined> = []): string {
        return redact(text, [...this.secrets, ...extra]);
    }

    /** Closes pooled connections. The client stays usable (a new pool is made on demand). */
    async close(): Promise<void> {
        const agent = this.agent;
        this.agent = undefined;
        if (agent) await agent.close();
    }

    // Built on first use, never at module scope: an Agent cannot be closure-serialized.
    private dispatcher(): Agent {
        if (!this.agent) {
            this.agent = new Agent({
                connect: { timeout: this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS },
                keepAliveTimeout: 4_000,
            });
        }
        return this.agent;
    }

    private sleep(ms: number): Promise<void> {
        return (this.options.sleep ?? sleep)(ms);
    }

    private delayFor(retryIndex: number): number {
        return withJitter(backoffDelayMs(this.policy, retryIndex), this.policy.jitter);
    }

    /**
     * Sends `req`, retrying as the policy allows, and returns the 2xx response. Anything else throws
     * `IbmCloudError` (IBM's code, message code, message and trace kept; secrets removed).
     */
    async request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
        const call = this.prepare(req);
        // Set once an attempt may have reached the server without us seeing its answer.
        let earlierAttemptMayHaveApplied = false;
        for (let attempt = 1; ; attempt++) {
            const outcome: { response: HttpResponse<T> } | Verdict = await this.attempt<T>(call, {
                attempt,
                canRetryMore: attempt <= this.policy.maxRetries,
                earlierAttemptMayHaveApplied,
            });
            if ("response" in outcome) return outcome.response;
            earlierAttemptMayHaveApplied ||= outcome.mayHaveApplied;
            this.options.onRetry?.({ operation: call.operation, attempt, delayMs: outcome.delayMs, reason: outcome.reason });
            await this.sleep(outcome.delayMs);
        }
    }

    /** One attempt, judged: the response, or when and why to try again; throws when it must not be retried. */
    private async attempt<T>(call: PreparedCall, turn: Turn): Promise<{ response: HttpResponse<T> } | Verdict> {
        let answer: Answer;
        try {
            answer = await this.send(call);
        } catch (err) {
            return this.afterTransportFailure(call, turn, err);
        }
        if (answer.status >= 200 && answer.status < 300) return this.afterSuccess<T>(call, turn, answer);
        return this.afterErrorStatus(call, turn, answer);
    }

    /** What every attempt of `req` sends: URL, headers (one correlation id for all attempts), body. */
    private prepare(req: HttpRequest): PreparedCall {
        const correlationId = req.correlationId ?? crypto.randomUUID();
        const secrets = [...this.secrets, ...(req.secrets ?? [])];
        const url = buildUrl(req.url, req.query);
        const headers: { [name: string]: string } = {
            accept: "application/json",
            "user-agent": `${CLIENT_NAME}/${CLIENT_VERSION}${this.options.userAgentSuffix ? ` ${this.options.userAgentSuffix}` : ""}`,
            "x-correlation-id": correlationId,
            "transaction-id": correlationId,
        };
        let body: string | undefined;
        if (req.form !== undefined) {
            const form = new URLSearchParams();
            for (const [k, v] of Object.entries(req.form)) if (v !== undefined) form.set(k, v);
            body = form.toString();
            headers["content-type"] = req.contentType ?? "application/x-www-form-urlencoded";
        } else if (req.json !== undefined) {
            body = JSON.stringify(req.json);
            headers["content-type"] = req.contentType ?? "application/json";
        }
        for (const [k, v] of Object.entries(req.headers ?? {})) {
            if (v !== undefined) headers[k.toLowerCase()] = v;
        }
        return {
            operation: req.operation,
            method: req.method,
            url,
            headers,
            body,
            correlationId,
            idempotent: req.idempotent ?? defaultIdempotent(req.method, req.headers),
            timeoutMs: req.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
            ...(req.origin ? { origin: req.origin } : {}),
            fail: (init) => new IbmCloudError({ operation: req.operation, method: req.method, url: withoutQuery(url), secrets, ...init }),
        };
    }

    /** One attempt: the status, headers and body text, or a transport error thrown. */
    private async send(call: PreparedCall): Promise<Answer> {
        const res = await request(call.url, {
            method: call.method,
            headers: call.headers,
            body: call.body,
            dispatcher: this.dispatcher(),
            headersTimeout: call.timeoutMs,
            bodyTimeout: call.timeoutMs,
        });
        if (!this.answered) this.answered = {};
        this.answered[originOf(call.url)] = true;
        const headers = normalizeHeaders(res.headers as Record<string, string | string[] | undefined>);
        return { status: res.statusCode, headers, text: await res.body.text() };
    }

    /** No answer: retry when it can help and cannot do harm (idempotent, or certainly never sent); else throw. */
    private afterTransportFailure(call: PreparedCall, turn: Turn, err: unknown): Verdict {
        const t = classifyTransport(err);
        const retriesAllowed = t.maybeSent ? this.policy.maxRetries : connectRetries(this.policy, t.code, this.answered?.[originOf(call.url)] === true);
        if (t.transient && turn.attempt <= retriesAllowed && (call.idempotent || !t.maybeSent)) {
            return { delayMs: this.delayFor(turn.attempt - 1), reason: t.code, mayHaveApplied: t.maybeSent };
        }
        const outcomeUnknown = !call.idempotent && t.maybeSent;
        const where = call.origin ?? this.endpointOriginOf(call.url);
        const base = where?.url ?? originOf(call.url);
        // The URL (scheme, host, port, base path: no query) and the setting it came from, so the fix is in the message.
        const said = t.maybeSent ? `${t.text} (${withoutQuery(call.url)})` : t.text.replace(/^could not connect/, `could not connect to ${base}`);
        const text = where && (!t.maybeSent || !t.transient) ? `${said}; that URL is ${where.from}: ${where.fix}` : said;
        throw call.fail({
            status: 0,
            code: t.code,
            ibmMessage: text,
            traceId: call.correlationId,
            retryable: t.transient,
            outcomeUnknown,
            attempts: turn.attempt,
            note: outcomeUnknown
                ? "the request may have reached IBM Cloud, so the outcome is unknown: look the object up before creating it again"
                : turn.attempt > 1
                  ? `gave up after ${turn.attempt} attempts`
                  : undefined,
            cause: err,
        });
    }

    /** A 2xx: the parsed response; a garbled body is retried when asking twice is harmless, else thrown. */
    private afterSuccess<T>(call: PreparedCall, turn: Turn, answer: Answer): { response: HttpResponse<T> } | Verdict {
        const parsed = parseBody(answer.text, answer.headers["content-type"]);
        if (parsed.ok) {
            return {
                response: {
                    status: answer.status,
                    headers: answer.headers,
                    body: parsed.value as T,
                    correlationId: call.correlationId,
                    attempts: turn.attempt,
                },
            };
        }
        // A garbled body is a transport failure in practice (a proxy cut it short).
        if (call.idempotent && turn.canRetryMore) {
            // it answered 2xx: a write was carried out
            return { delayMs: this.delayFor(turn.attempt - 1), reason: "invalid_json", mayHaveApplied: true };
        }
        throw call.fail({
            status: answer.status,
            code: "invalid_json",
            ibmMessage: "the response body is not valid JSON",
            traceId: traceFrom(answer.headers) ?? call.correlationId,
            outcomeUnknown: !call.idempotent,
            attempts: turn.attempt,
        });
    }

    /** A 4xx/5xx: retried when the status allows it (honouring Retry-After), else thrown with what is known of the outcome. */
    private afterErrorStatus(call: PreparedCall, turn: Turn, answer: Answer): Verdict {
        const { status, headers } = answer;
        const parsedBody = parseBody(answer.text, headers["content-type"]);
        const info = parseErrorBody(parsedBody.ok ? parsedBody.value : answer.text);
        const retryable = isRetryableStatus(status);
        // 429 and 503 mean the request was turned away before anything was done.
        const turnedAway = status === 429 || status === 503;
        const retryAfterMs = parseRetryAfter(headers["retry-after"]);
        const base = {
            status,
            ...info,
            traceId: info.traceId ?? traceFrom(headers) ?? call.correlationId,
            attempts: turn.attempt,
            ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        };
        if (retryable && (call.idempotent || turnedAway)) {
            if (retryAfterMs !== undefined && retryAfterMs > this.policy.maxRetryAfterMs) {
                throw call.fail({
                    ...base,
                    retryable: true,
                    note: `IBM Cloud asked to retry after ${Math.round(retryAfterMs / 1000)} s, longer than the ${Math.round(this.policy.maxRetryAfterMs / 1000)} s this client waits; try again later`,
                });
            }
            if (turn.canRetryMore) {
                return { delayMs: retryAfterMs ?? this.delayFor(turn.attempt - 1), reason: String(status), mayHaveApplied: !turnedAway };
            }
        }
        // A create that failed with 500/502/504 may have been carried out anyway.
        let outcomeUnknown = !call.idempotent && retryable && !turnedAway;
        let note: string | undefined = outcomeUnknown
            ? "the request may have been processed, so the outcome is unknown: look the object up before creating it again"
            : retryable && turn.attempt > 1
              ? `gave up after ${turn.attempt} attempts`
              : undefined;
        // A replayed write whose first attempt may have succeeded: its precondition or target is now gone.
        if (turn.earlierAttemptMayHaveApplied && (status === 412 || status === 409 || status === 404)) {
            outcomeUnknown = true;
            note = "an earlier attempt of this request may already have been applied (its answer was lost); read the object's current state";
        }
        throw call.fail({ ...base, retryable, outcomeUnknown, ...(note ? { note } : {}) });
    }
}

/** A request as every attempt sends it, and how its errors are made. */
interface PreparedCall {
    operation: string;
    method: HttpMethod;
    url: string;
    headers: { [name: string]: string };
    body: string | undefined;
    correlationId: string;
    idempotent: boolean;
    timeoutMs: number;
    origin?: EndpointOrigin;
    fail(init: Omit<ConstructorParameters<typeof IbmCloudError>[0], "operation" | "secrets" | "method" | "url">): IbmCloudError;
}

/** Where the retry loop stands. */
interface Turn {
    attempt: number;
    canRetryMore: boolean;
    earlierAttemptMayHaveApplied: boolean;
}

/** What one attempt got back. */
interface Answer {
    status: number;
    headers: { [name: string]: string };
    text: string;
}

/** Try again after `delayMs`; `mayHaveApplied`: this attempt may have changed something at IBM. */
interface Verdict {
    delayMs: number;
    reason: string;
    mayHaveApplied: boolean;
}
