// The error envelopes of the emulated services (IAM token, IAM Identity / Policy Management, KMS, admin) and how
// a thrown error becomes one on the wire.
import * as http from "http";
import { BodyError, type Ctx, type Family } from "./request";

/** Policy Management's paths (policies, roles); every other IAM path belongs to IAM Identity. */
export function isPolicyPath(path: string): boolean {
    return /^\/v[12]\/(policies|roles)(\/|$)/.test(path);
}

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
        e.more_info = isPolicyPath(ctx.path) ? "https://cloud.ibm.com/apidocs/iam-policy-management" : "https://cloud.ibm.com/apidocs/iam-identity-token-api";
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

export class AdminError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
    }
}

export function retryAfterHeader(seconds: number | undefined): Record<string, string> {
    return seconds === undefined ? {} : { "Retry-After": String(seconds) };
}

export function correlationHeader(ctx: Ctx): Record<string, string> {
    return { "Correlation-Id": ctx.header("correlation-id") ?? ctx.requestId };
}

export function notFoundFor(family: Family, status: 404 | 405, ctx: Ctx): Error {
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
            const identity = /^\/v1\/(serviceids|apikeys|profiles)(\/|$)/.test(ctx.path);
            const e = new IamError(status, t.iam, message, identity ? `BXNIM0${status}E` : undefined);
            e.retryAfterSeconds = retryAfterSeconds;
            return e;
        }
    }
}

export function bodyErrorFor(family: Family, message: string): Error {
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

/** Renders any error thrown by a route or middleware in the envelope of the request's family. */
export function renderError(ctx: Ctx, err: unknown, startedAt: number): void {
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
