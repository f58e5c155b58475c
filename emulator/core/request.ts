// The request as a handler sees it: path, parameters, body, the authenticated caller, and `send`. The router
// (server.ts) builds one per request; the error envelopes (errors.ts) render onto it.
import * as crypto from "crypto";
import * as http from "http";
import { JwtClaims } from "./jwt";

/** Thrown when a body cannot be parsed; each family renders it in its own envelope (errors.ts). */
export class BodyError extends Error {}

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
