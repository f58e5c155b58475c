// HTTP plumbing of the emulator: router, request context, the three error envelopes, bearer auth.
import * as crypto from "crypto";
import * as http from "http";
import { TokenSigner, JwtClaims } from "./jwt";
import { StateStore } from "./state";

/** Which IBM service family a route belongs to: decides the error envelope. */
export type Family = "token" | "iam" | "kms" | "admin";

export interface Caller {
    iamId: string;
    accountId: string;
    isOwner: boolean;
    claims: JwtClaims;
}

/** A response as it would go on the wire; a middleware that captured it decides what is really sent. */
export interface WireResponse {
    status: number;
    headers: Record<string, string>;
    body?: string;
}

export class Ctx {
    readonly method: string;
    readonly url: URL;
    readonly path: string;
    readonly requestId: string;
    params: Record<string, string> = {};
    family: Family = "iam";
    caller?: Caller;
    body: Buffer = Buffer.alloc(0);
    /** Set by a route or by a middleware; a middleware may replace it (fault injection). */
    responded = false;
    /** A route's handler was entered (auth passed): the request really ran. */
    reachedHandler = false;
    /** While set, `send` stores the response here instead of writing it (fault injection holds, drops or garbles it). */
    capture?: { response?: WireResponse };

    constructor(
        readonly req: http.IncomingMessage,
        readonly res: http.ServerResponse,
    ) {
        this.method = (req.method ?? "GET").toUpperCase();
        // a fixed base: a hostile Host header must not be able to break parsing
        this.url = new URL(req.url ?? "/", "http://emulator.invalid");
        // IBM paths treat a trailing slash as the same resource (`/v1/serviceids/`)
        this.path = this.url.pathname.length > 1 ? this.url.pathname.replace(/\/+$/, "") : this.url.pathname;
        // IBM echoes a caller-supplied transaction id; otherwise it mints one
        const given = header(req, "transaction-id") ?? header(req, "x-correlation-id");
        this.requestId = given && /^[\w.-]{1,128}$/.test(given) ? given : crypto.randomBytes(16).toString("hex");
    }

    get query(): URLSearchParams {
        return this.url.searchParams;
    }

    /** Origin the client used, so `next`/`href` links work behind whatever host name it chose. */
    get origin(): string {
        return `http://${this.req.headers.host ?? "127.0.0.1"}`;
    }

    header(name: string): string | undefined {
        return header(this.req, name);
    }

    json<T = Record<string, unknown>>(): T {
        if (this.body.length === 0) throw new BodyError("request body is empty");
        try {
            return JSON.parse(this.body.toString("utf8")) as T;
        } catch {
            throw new BodyError("request body is not valid JSON");
        }
    }

    send(status: number, body?: unknown, headers: Record<string, string> = {}): void {
        if (this.responded) return;
        this.responded = true;
        const h: Record<string, string> = { ...headers };
        if (this.family !== "admin") {
            h["Transaction-Id"] = this.requestId;
            h["X-Correlation-Id"] = this.requestId;
        }
        const out: WireResponse = { status, headers: h };
        if (body !== undefined && status !== 204) {
            out.body = JSON.stringify(body);
            h["Content-Type"] ??= "application/json";
            h["Content-Length"] = String(Buffer.byteLength(out.body));
        }
        if (this.capture) this.capture.response = out;
        else this.write(out);
    }

    /** Puts a response on the wire as is (`send` builds one; a fault may have altered it). */
    write(r: WireResponse): void {
        if (this.res.headersSent || this.res.destroyed) return;
        this.res.writeHead(r.status, r.headers);
        this.res.end(r.body);
    }
}

export function header(req: http.IncomingMessage, name: string): string | undefined {
    const v = req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
}

/** Thrown when a body cannot be parsed; each family renders it in its own envelope. */
export class BodyError extends Error {}

/** The common envelope of IAM Identity and Policy Management. */
export class IamError extends Error {
    /** Sent as `Retry-After` (429 / 503 turned away). */
    retryAfterSeconds?: number;

    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
        readonly messageCode?: string,
        readonly details?: unknown,
    ) {
        super(message);
    }

    render(ctx: Ctx): unknown {
        const e: Record<string, unknown> = { code: this.code };
        if (this.messageCode) e.message_code = this.messageCode;
        e.message = this.message;
        if (this.details !== undefined) e.details = this.details;
        e.more_info = this.messageCode
            ? "https://cloud.ibm.com/apidocs/iam-identity-token-api"
            : "https://cloud.ibm.com/apidocs/iam-policy-management";
        return { errors: [e], status_code: this.status, trace: ctx.requestId };
    }
}

/** The token endpoint's own envelope `{errorCode, errorMessage, context}`. */
export class TokenError extends Error {
    constructor(
        readonly status: number,
        readonly errorCode: string,
        message: string,
        readonly retryAfterSeconds?: number,
    ) {
        super(message);
    }

    render(ctx: Ctx, startedAt: number): unknown {
        const end = Date.now();
        return {
            errorCode: this.errorCode,
            errorMessage: this.message,
            context: {
                requestId: ctx.requestId,
                requestType: "incoming.Identity_Token",
                userAgent: ctx.header("user-agent") ?? "",
                url: ctx.origin,
                instanceId: "iamid-emulator-0",
                threadId: "1",
                host: "iam-emulator",
                startTime: new Date(startedAt).toUTCString(),
                endTime: new Date(end).toUTCString(),
                elapsedTime: String(end - startedAt),
                locale: "en_US",
                clusterName: "iam-id-emulator",
            },
        };
    }
}

/** Key Protect / HPCS envelope `{metadata, resources:[{errorMsg, reasons[]}]}`. */
export class KmsError extends Error {
    /** Sent as `Retry-After` (429 / 503 turned away). */
    retryAfterSeconds?: number;

    constructor(
        readonly status: number,
        readonly code: string,
        readonly reasonMessage: string,
        readonly errorMsg: string,
        readonly target?: { type: string; name: string },
    ) {
        super(errorMsg);
    }

    render(): unknown {
        const reason: Record<string, unknown> = {
            code: this.code,
            message: this.reasonMessage,
            status: this.status,
            moreInfo: "https://cloud.ibm.com/apidocs/key-protect",
        };
        if (this.target) reason.target = this.target;
        return {
            metadata: { collectionType: "application/vnd.ibm.kms.error+json", collectionTotal: 1 },
            resources: [{ errorMsg: this.errorMsg, reasons: [reason] }],
        };
    }
}

export const KMS_UNAUTHORIZED = "Unauthorized: The user does not have access to the specified resource";

export function kmsUnauthorized(): KmsError {
    return new KmsError(401, "UNAUTHORIZED_ERR", "The user does not have access to the specified resource", KMS_UNAUTHORIZED);
}

export type Handler = (ctx: Ctx) => void | Promise<void>;
/**
 * Runs around every request (fault injection, rate limit). `next()` runs the route and always ends with a
 * response (an error is rendered in the family's envelope), which the middleware sees if it set `ctx.capture`.
 */
export type Middleware = (ctx: Ctx, next: () => Promise<void>) => Promise<void>;

interface Route {
    method: string;
    segments: string[];
    family: Family;
    auth: boolean;
    handler: Handler;
}

export interface RouteOptions {
    family: Family;
    /** Needs a valid bearer token signed by this emulator. */
    auth: boolean;
}

const MAX_BODY = 1024 * 1024;

export class Router {
    private readonly routes: Route[] = [];
    private readonly middlewares: Middleware[] = [];

    constructor(
        private readonly store: () => StateStore,
        private readonly signer: () => TokenSigner,
    ) {}

    add(method: string, pattern: string, opts: RouteOptions, handler: Handler): void {
        this.routes.push({ method, segments: pattern.split("/").filter(Boolean), family: opts.family, auth: opts.auth, handler });
    }

    use(mw: Middleware): void {
        this.middlewares.push(mw);
    }

    private match(ctx: Ctx): { route?: Route; methodMismatch: boolean } {
        const parts = ctx.path.split("/").filter(Boolean);
        let methodMismatch = false;
        for (const r of this.routes) {
            if (r.segments.length !== parts.length) continue;
            const params: Record<string, string> = {};
            let ok = true;
            for (let i = 0; i < parts.length; i++) {
                const seg = r.segments[i];
                if (seg.startsWith(":")) {
                    const v = safeDecode(parts[i]);
                    if (v === undefined) {
                        ok = false;
                        break;
                    }
                    params[seg.slice(1)] = v;
                }
                else if (seg !== parts[i]) {
                    ok = false;
                    break;
                }
            }
            if (!ok) continue;
            if (r.method !== ctx.method) {
                methodMismatch = true;
                continue;
            }
            ctx.params = params;
            return { route: r, methodMismatch: false };
        }
        return { methodMismatch };
    }

    /** The family of a path even when no route matches, so a 404 comes in the right envelope. */
    private familyOf(path: string): Family {
        if (path.startsWith("/__emulator")) return "admin";
        if (path.startsWith("/api/")) return "kms";
        if (path.startsWith("/identity") || path.startsWith("/oidc")) return "token";
        return "iam";
    }

    async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const startedAt = Date.now();
        let ctx: Ctx;
        try {
            ctx = new Ctx(req, res);
        } catch {
            res.writeHead(400).end();
            return;
        }
        ctx.family = this.familyOf(ctx.path);
        try {
            ctx.body = await readBody(req);
            const chain = [...this.middlewares];
            const run = async (i: number): Promise<void> => {
                if (i < chain.length) return chain[i](ctx, () => run(i + 1));
                try {
                    await this.dispatch(ctx);
                } catch (err) {
                    this.renderError(ctx, err, startedAt);
                }
            };
            await run(0);
            if (!ctx.responded) throw new Error("route produced no response");
        } catch (err) {
            this.renderError(ctx, err, startedAt);
        }
    }

    private async dispatch(ctx: Ctx): Promise<void> {
        const { route, methodMismatch } = this.match(ctx);
        if (!route) {
            if (methodMismatch) throw notFoundFor(ctx.family, 405, ctx);
            throw notFoundFor(ctx.family, 404, ctx);
        }
        ctx.family = route.family;
        if (route.auth) ctx.caller = this.authenticate(ctx);
        ctx.reachedHandler = true;
        await route.handler(ctx);
    }

    private authenticate(ctx: Ctx): Caller {
        const auth = ctx.header("authorization");
        const kms = ctx.family === "kms";
        if (!auth) {
            if (kms) throw kmsUnauthorized();
            throw new IamError(401, "unauthorized", "No authorization header found", "BXNIM0308E");
        }
        const m = /^Bearer\s+(\S+)$/i.exec(auth);
        if (!m) {
            if (kms) throw kmsUnauthorized();
            throw new IamError(401, "unauthorized", "Authorization header is not a Bearer token", "BXNIM0308E");
        }
        const result = this.signer().verify(m[1]);
        if (!result.ok) {
            if (kms) throw kmsUnauthorized();
            if (result.reason === "expired") throw new IamError(401, "unauthorized", "The provided token is expired.", "BXNIM0410E");
            throw new IamError(401, "unauthorized", "The provided token is invalid.", "BXNIM0302E");
        }
        const claims = result.claims;
        const account = claims.account as { bss?: string } | undefined;
        const store = this.store();
        return {
            iamId: String(claims.iam_id),
            accountId: String(account?.bss ?? ""),
            isOwner: claims.iam_id === store.data.owner.iamId,
            claims,
        };
    }

    private renderError(ctx: Ctx, err: unknown, startedAt: number): void {
        if (ctx.responded) return;
        if (err instanceof BodyError) {
            err = bodyErrorFor(ctx.family, err.message);
        }
        if (err instanceof TokenError) {
            const headers: Record<string, string> = { "Cache-Control": "no-cache, no-store, must-revalidate" };
            if (err.retryAfterSeconds !== undefined) headers["Retry-After"] = String(err.retryAfterSeconds);
            ctx.send(err.status, err.render(ctx, startedAt), headers);
        } else if (err instanceof IamError) {
            ctx.send(err.status, err.render(ctx), retryAfterHeader(err.retryAfterSeconds));
        } else if (err instanceof KmsError) {
            ctx.send(err.status, err.render(), { ...correlationHeader(ctx), ...retryAfterHeader(err.retryAfterSeconds) });
        } else if (err instanceof AdminError) {
            ctx.send(err.status, { error: err.message });
        } else {
            // an emulator bug: say so loudly in the family's envelope rather than hang
            const message = err instanceof Error ? err.message : String(err);
            process.stderr.write(`[emulator] internal error on ${ctx.method} ${ctx.path}: ${err instanceof Error ? err.stack : message}\n`);
            if (ctx.family === "kms") ctx.send(500, new KmsError(500, "INTERNAL_SERVER_ERR", message, "Internal Server Error").render());
            else if (ctx.family === "token") ctx.send(500, new TokenError(500, "BXNIM0500E", "Internal error").render(ctx, startedAt));
            else ctx.send(500, new IamError(500, "internal_error", message).render(ctx));
        }
    }
}

export class AdminError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
    }
}

function retryAfterHeader(seconds: number | undefined): Record<string, string> {
    return seconds === undefined ? {} : { "Retry-After": String(seconds) };
}

export function correlationHeader(ctx: Ctx): Record<string, string> {
    return { "Correlation-Id": ctx.header("correlation-id") ?? ctx.requestId };
}

function notFoundFor(family: Family, status: 404 | 405, ctx: Ctx): Error {
    const what = status === 405 ? `Method ${ctx.method} is not allowed on ${ctx.path}` : `No resource at ${ctx.path}`;
    switch (family) {
        case "kms":
            return status === 405
                ? new KmsError(405, "METHOD_NOT_ALLOWED_ERR", what, "Method Not Allowed")
                : new KmsError(404, "NOT_FOUND_ERR", what, "Not Found");
        case "token":
            return new TokenError(status, "BXNIM0100E", what);
        case "admin":
            return new AdminError(status, what);
        default:
            return new IamError(status, status === 405 ? "method_not_allowed" : "not_found", what);
    }
}

const TURNED_AWAY: Record<number, { iam: string; kms: string; text: string }> = {
    429: { iam: "too_many_requests", kms: "TOO_MANY_REQUESTS_ERR", text: "Too Many Requests" },
    500: { iam: "internal_error", kms: "INTERNAL_SERVER_ERR", text: "Internal Server Error" },
    502: { iam: "bad_gateway", kms: "BAD_GATEWAY_ERR", text: "Bad Gateway" },
    503: { iam: "service_unavailable", kms: "SERVICE_UNAVAILABLE_ERR", text: "Service Unavailable" },
    504: { iam: "gateway_timeout", kms: "GATEWAY_TIMEOUT_ERR", text: "Gateway Timeout" },
};

/** The statuses a request can be turned away with before it runs (rate limit, injected faults). */
export const TURNED_AWAY_STATUSES: readonly number[] = Object.keys(TURNED_AWAY).map(Number);

/**
 * A request turned away before it ran (429 rate limit, injected 5xx), in the envelope of the path's family;
 * thrown by a middleware, rendered by the router like any route error.
 */
export function turnedAway(ctx: Ctx, status: number, retryAfterSeconds?: number): Error {
    const t = TURNED_AWAY[status] ?? { iam: "error", kms: "ERR", text: http.STATUS_CODES[status] ?? "Error" };
    const message = status === 429 ? "Rate limit exceeded: too many requests, retry later" : `${t.text}: the request was not processed, retry later`;
    switch (ctx.family) {
        case "token":
            return new TokenError(status, `BXNIM0${status}E`, message, retryAfterSeconds);
        case "kms": {
            const e = new KmsError(status, t.kms, message, t.text);
            e.retryAfterSeconds = retryAfterSeconds;
            return e;
        }
        case "admin":
            return new AdminError(status, message);
        default: {
            // identity errors carry a BXNIM message code, policy management errors none
            const identity = /^\/v1\/(serviceids|apikeys)(\/|$)/.test(ctx.path);
            const e = new IamError(status, t.iam, message, identity ? `BXNIM0${status}E` : undefined);
            e.retryAfterSeconds = retryAfterSeconds;
            return e;
        }
    }
}

function bodyErrorFor(family: Family, message: string): Error {
    switch (family) {
        case "kms":
            return new KmsError(400, "BAD_BODY_ERR", message, "Bad Request: Invalid body data");
        case "token":
            return new TokenError(400, "BXNIM0106E", message);
        case "admin":
            return new AdminError(400, message);
        default:
            return new IamError(400, "invalid_body", message);
    }
}

function safeDecode(s: string): string | undefined {
    try {
        return decodeURIComponent(s);
    } catch {
        return undefined;
    }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on("data", (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) {
                reject(new BodyError("request body is larger than 1 MiB"));
                req.destroy();
                return;
            }
            chunks.push(c);
        });
        req.on("end", () => resolve(Buffer.concat(chunks)));
        req.on("error", reject);
    });
}
