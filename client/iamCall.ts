// What every IAM call shares, written once for both halves of the IAM client (identity, policies): the endpoint,
// the token and its 401 rule (BearerAuth), response parsing, paging, idempotent deletes and If-Match replays.
import { BearerAuth, collectPages, ResponseReader } from "./authenticatedCall";
import { IbmCloudError, isEtagMismatch, isNotFound } from "./errors";
import { HttpClient, HttpMethod, HttpResponse, QueryValue } from "./http";
import { queryParamOf } from "./iamWire";
import { IamTokenManager } from "./tokenManager";

export class IamCalls {
    readonly responses = new ResponseReader("IBM Cloud", "transaction-id");
    private readonly auth: BearerAuth;

    constructor(
        readonly tokens: IamTokenManager,
        readonly http: HttpClient,
        readonly iamEndpoint: string,
        readonly pageSize: number,
    ) {
        this.auth = new BearerAuth({ tokenSource: () => tokens.getToken(), invalidateToken: () => tokens.invalidate() });
    }

    /** The account of the configured API key (`account.bss` of its token). */
    async accountId(): Promise<string> {
        const info = await this.tokens.getTokenInfo();
        if (!info.accountId) {
            throw new IbmCloudError({ operation: "read account id", status: 0, code: "no_account", ibmMessage: "the IAM token carries no account.bss claim" });
        }
        return info.accountId;
    }

    /** An authenticated IAM call (a 401 gets one fresh token: see BearerAuth). */
    async call<T = unknown>(
        operation: string,
        method: HttpMethod,
        path: string,
        extra: {
            json?: unknown;
            query?: { [k: string]: QueryValue };
            headers?: { [k: string]: string } | undefined;
            idempotent?: boolean;
            secrets?: ReadonlyArray<string | undefined>;
        } = {},
    ): Promise<HttpResponse<T>> {
        return this.auth.send<T>(this.http, () => ({
            operation,
            method,
            url: `${this.iamEndpoint}${path}`,
            query: extra.query,
            json: extra.json,
            headers: { ...(extra.headers ?? {}) },
            ...(extra.idempotent !== undefined ? { idempotent: extra.idempotent } : {}),
            secrets: extra.secrets ?? [],
        }));
    }

    async deleteIdempotent(operation: string, path: string): Promise<boolean> {
        try {
            await this.call(operation, "DELETE", path);
            return true;
        } catch (err) {
            if (isNotFound(err)) return false;
            throw err;
        }
    }

    async listPages(operation: string, path: string, query: { [k: string]: QueryValue }, field: string): Promise<unknown[]> {
        return collectPages(undefined as string | undefined, async (pagetoken) => {
            const res = await this.call<Record<string, unknown>>(operation, "GET", path, {
                query: { ...query, pagesize: Math.min(this.pageSize, 100), pagetoken },
            });
            const items = res.body?.[field];
            if (!Array.isArray(items)) throw this.responses.invalid(res, operation, `the response has no ${field} list`);
            return { items, next: queryParamOf(res.body?.next, "pagetoken") || undefined };
        });
    }

    /**
     * An If-Match write the HTTP client replayed after losing the first answer can meet 412 because the
     * first attempt WAS applied (the entity tag moved on). Then the live object already holds `body`:
     * that is success, read back. If it holds something else, someone else changed it: the 412 stands.
     */
    async replayedWrite<T>(body: object, read: () => Promise<T>, write: () => Promise<T>, view: (t: T) => unknown = (t) => t): Promise<T> {
        try {
            return await write();
        } catch (err) {
            if (!(err instanceof IbmCloudError) || !err.outcomeUnknown || !isEtagMismatch(err)) throw err;
            const live = await read();
            if (holds(view(live), body)) return live;
            throw err;
        }
    }
}

export function requireEtag(etag: string, operation: string): void {
    if (typeof etag !== "string" || etag === "") {
        throw new IbmCloudError({
            operation,
            status: 0,
            code: "missing_etag",
            ibmMessage: 'an entity tag is required for If-Match (read the object first, or pass "*")',
        });
    }
}

/**
 * Does `live` hold what `wanted` asked for? Every field of `wanted` equal in `live` (which may have more);
 * arrays match element for element in any order (IBM may reorder CRNs, roles, attributes).
 */
export function holds(live: unknown, wanted: unknown): boolean {
    if (Array.isArray(wanted)) {
        if (wanted.length === 0 && (live === undefined || live === null)) return true; // IBM omits empty lists
        if (!Array.isArray(live) || live.length !== wanted.length) return false;
        const left = [...live];
        return wanted.every((w) => {
            const i = left.findIndex((l) => holds(l, w));
            if (i < 0) return false;
            left.splice(i, 1);
            return true;
        });
    }
    if (wanted !== null && typeof wanted === "object") {
        if (live === null || typeof live !== "object" || Array.isArray(live)) return false;
        return Object.entries(wanted as Record<string, unknown>).every(([k, v]) => v === undefined || holds((live as Record<string, unknown>)[k], v));
    }
    return live === wanted || ((live === undefined || live === null) && wanted === "");
}
