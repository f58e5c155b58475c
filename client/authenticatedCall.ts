// What the IAM and the KMS client share: a call with a bearer token and the rule for a 401, paging,
// and reading a response body against its schema.
import { z } from "zod";
import { HttpClient, HttpRequest, HttpResponse } from "./http";
import { hideField, IbmCloudError } from "./errors";
import { decodeJwtPayload } from "./tokenManager";

export interface BearerTokenSource {
    /** A current IAM access token (usually `tokenManager.getToken()`). */
    tokenSource: () => Promise<string>;
    /**
     * Drops the cached token (usually `tokenManager.invalidate()`). Given, a call refused with 401 gets
     * one fresh token and is sent once more: a token the client still thought valid may have expired
     * at IBM (clock skew, or revoked). A token obtained that way and refused again is a missing grant,
     * not expiry.
     */
    invalidateToken?: () => void;
}

interface After401 {
    stale: string;
    fresh: Promise<string>;
    freshValue?: string;
    freshAt?: number;
    freshLifetimeMs?: number;
}

/** Sends requests with `Authorization: Bearer <token>` and applies the 401 rule. One per client. */
export class BearerAuth {
    /** How often a 401 led to a fresh token and a second attempt. */
    readonly stats = { retriesAfter401: 0 };
    private readonly tokenSource: () => Promise<string>;
    private readonly invalidateToken: (() => void) | undefined;
    /** The last token refused with 401 and the one fetched in its place (hidden: tokens). */
    private after401!: After401 | undefined;

    constructor(source: BearerTokenSource) {
        this.tokenSource = source.tokenSource;
        this.invalidateToken = source.invalidateToken;
        hideField(this, "after401", undefined);
    }

    /**
     * Sends `request(token)` through `http`; when it is refused with 401 and a fresh token can help,
     * sends it once more with that token. A 401 is decided before the service acts, so even a create
     * may be sent again.
     */
    async send<T>(http: HttpClient, request: (token: string) => HttpRequest): Promise<HttpResponse<T>> {
        const token = await this.tokenSource();
        try {
            return await http.request<T>(withBearer(request(token), token));
        } catch (err) {
            if (!(err instanceof IbmCloudError) || err.status !== 401 || !this.invalidateToken) throw err;
            const fresh = await this.freshTokenAfter401(token);
            if (fresh === undefined) throw err;
            this.stats.retriesAfter401++;
            return http.request<T>(withBearer(request(fresh), fresh));
        }
    }

    /**
     * One new token per refused token, shared by every call refused with it; undefined when asking again
     * cannot help: the token was itself fetched after a 401 and refused again within half its lifetime
     * (then the identity lacks access; later, it may simply have expired too).
     */
    private async freshTokenAfter401(stale: string): Promise<string | undefined> {
        const last = this.after401;
        if (last && last.stale === stale) return last.fresh.then((v) => (v === stale ? undefined : v));
        if (last && last.freshValue === stale && Date.now() - last.freshAt! < last.freshLifetimeMs! / 2) return undefined;
        const entry: After401 = {
            stale,
            fresh: (async () => {
                // a call sent just before a refresh may come back refused after it: then the new token is the answer
                const current = await this.tokenSource();
                if (current !== stale) return current;
                this.invalidateToken!();
                return this.tokenSource();
            })(),
        };
        this.after401 = entry;
        const v = await entry.fresh;
        if (entry.freshValue === undefined) {
            entry.freshValue = v;
            entry.freshAt = Date.now();
            entry.freshLifetimeMs = lifetimeMsOf(v);
        }
        return v === stale ? undefined : v;
    }
}

function withBearer(req: HttpRequest, token: string): HttpRequest {
    return { ...req, headers: { ...(req.headers ?? {}), Authorization: `Bearer ${token}` }, secrets: [token, ...(req.secrets ?? [])] };
}

/** A JWT's lifetime (exp - iat) in ms; unknown (not a JWT) counts as an hour. */
function lifetimeMsOf(token: string): number {
    try {
        const c = decodeJwtPayload(token);
        if (typeof c.exp === "number" && typeof c.iat === "number" && c.exp > c.iat) return (c.exp - c.iat) * 1000;
    } catch {
        // not a JWT: fall through
    }
    return 3_600_000;
}

// ---------- paging ----------

/** Guards against a server whose "next" never ends. */
export const MAX_PAGES = 1000;

/**
 * Every item of a paged list: `fetchPage(cursor)` returns one page and the cursor of the next (none at
 * the end). Stops at an empty page, a cursor seen before, or MAX_PAGES.
 */
export async function collectPages<C, T>(first: C, fetchPage: (cursor: C) => Promise<{ items: T[]; next?: C }>): Promise<T[]> {
    const out: T[] = [];
    const seen = new Set<C>();
    let cursor = first;
    for (let page = 0; page < MAX_PAGES; page++) {
        const { items, next } = await fetchPage(cursor);
        out.push(...items);
        if (next === undefined || seen.has(next) || items.length === 0) break;
        seen.add(next);
        cursor = next;
    }
    return out;
}

// ---------- response bodies ----------

/** Reads response bodies against zod schemas; an answer that does not fit is an `unexpected_response` error. */
export class ResponseReader {
    /** Built on first use per client: building a zod object schema costs far more than parsing with it, and none may live at module scope (closure serialization). */
    private readonly schemas: { [name: string]: z.ZodType } = {};

    /**
     * @param service how messages name the answering service ("IBM Cloud", "KMS")
     * @param traceHeader the response header holding the service's trace id
     */
    constructor(
        private readonly service: string,
        private readonly traceHeader: string,
    ) {}

    schema<T extends z.ZodType>(name: string, build: () => T): T {
        if (!this.schemas[name]) this.schemas[name] = build();
        return this.schemas[name] as T;
    }

    /** The whole body, parsed. */
    parse<S extends z.ZodType>(res: HttpResponse<unknown>, schema: S, operation: string): z.infer<S> {
        const r = schema.safeParse(res.body);
        if (!r.success) throw this.invalid(res, operation, describeIssues(r.error));
        return r.data;
    }

    /** One item of a list already fetched (`where` names it: `serviceids[3]`). */
    check<S extends z.ZodType>(schema: S, value: unknown, operation: string, where: string): z.infer<S> {
        const r = schema.safeParse(value);
        if (!r.success) {
            throw new IbmCloudError({ operation, status: 200, code: "unexpected_response", ibmMessage: `${where}: ${describeIssues(r.error)}` });
        }
        return r.data;
    }

    invalid(res: HttpResponse<unknown>, operation: string, why: string): IbmCloudError {
        return new IbmCloudError({
            operation,
            status: res.status,
            code: "unexpected_response",
            ibmMessage: `${this.service} answered with an unexpected body: ${why}`,
            traceId: res.headers[this.traceHeader] ?? res.correlationId,
        });
    }
}

function describeIssues(error: z.ZodError): string {
    return error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
        .join("; ");
}

/** A path segment from an id; an empty id is a programming error, caught before any request. */
export function pathSegment(id: string, what = "an id"): string {
    if (typeof id !== "string" || id === "") throw new Error(`${what} is required`);
    return encodeURIComponent(id);
}
