// API key (or another grant: a compute resource's token, an assumed trusted profile, a VSI's metadata service)
// → IAM access token, cached. Refresh policy follows IBM's node-sdk-core (expiry from the JWT, refresh due at
// 80 % of the lifetime, expired 10 s before `exp`, one shared in-flight request) but, unlike it, keeps IBM's
// error code and message (BXNIM0415E "Provided API key could not be found.").
import * as crypto from "crypto";
import { HttpClient, HttpClientOptions, HttpResponse } from "./http";
import { hideField, IbmCloudError } from "./errors";

/**
 * One token request of a grant other than the API key's: it answers with a body holding `access_token` (a JWT).
 * It gets the manager's HTTP client and the operation name to use, and registers any secret it sends with it.
 */
export type TokenRequester = (http: HttpClient, operation: string) => Promise<HttpResponse<Record<string, unknown>>>;

export interface IamTokenManagerOptions {
    /** The API key to exchange; or `requestToken` for another grant (exactly one of the two). */
    apiKey?: string;
    requestToken?: TokenRequester;
    /** IAM base URL, e.g. https://iam.cloud.ibm.com (no trailing slash needed). */
    iamEndpoint: string;
    /** Shared HTTP client; one is made from `http` otherwise. The API key is registered with it as a secret. */
    httpClient?: HttpClient;
    http?: HttpClientOptions;
    /** A token counts as expired this many seconds before its `exp` (default 10). */
    expiryMarginSeconds?: number;
    /** Fraction of the lifetime before `exp` at which a background refresh starts (default 0.2). */
    refreshWindowFraction?: number;
    /** After a failed background refresh, wait this long before starting another (default 5 s). */
    backgroundRetrySeconds?: number;
    /** Clock in epoch milliseconds (tests). */
    now?: () => number;
    /** Told when a background refresh fails (the cached token keeps being served). Never given secrets. */
    onBackgroundRefreshError?: (err: Error) => void;
}

/** What a token says about its holder, decoded from the JWT payload (not verified: IAM checks it). */
export interface TokenInfo {
    accessToken: string;
    /** `exp`, epoch seconds. */
    expiration: number;
    /** `iat`, epoch seconds. */
    issuedAt: number;
    /** Epoch seconds after which a background refresh is started. */
    refreshAt: number;
    /** `iam_id`, e.g. `iam-ServiceId-…` or `IBMid-…`. */
    iamId: string;
    /** `account.bss`: the account id other calls need. */
    accountId: string;
    /** `sub`. */
    subject: string | undefined;
    /** `sub_type`, e.g. `ServiceId`; absent for users. */
    subjectType: string | undefined;
    name: string | undefined;
}

/** Decodes a JWT's payload (base64url JSON); throws a plain Error (no token text) when malformed. */
export function decodeJwtPayload(token: string): Record<string, unknown> {
    const parts = token.split(".");
    if (parts.length !== 3 || !parts[1]) throw new Error("the access token is not a JWT");
    let payload: unknown;
    try {
        payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    } catch {
        throw new Error("the access token's payload is not base64url JSON");
    }
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) throw new Error("the access token's payload is not an object");
    return payload as Record<string, unknown>;
}

const OPERATION = "get IAM access token";

export class IamTokenManager {
    readonly iamEndpoint: string;
    readonly http: HttpClient;
    private readonly apiKey!: string | undefined;
    private readonly requester: TokenRequester | undefined;
    private readonly marginSeconds: number;
    private readonly refreshFraction: number;
    private readonly clock: () => number;
    private readonly backgroundRetrySeconds: number;
    /** Epoch seconds before which no new background refresh starts (set after one failed). */
    private backgroundPausedUntil = 0;
    private readonly onBackgroundRefreshError: ((err: Error) => void) | undefined;
    private cached!: TokenInfo | undefined;
    private inFlight!: Promise<TokenInfo> | undefined;
    /** The settled promise of the cached token, handed to every warm caller (no allocation per call). */
    private warmToken!: Promise<string> | undefined;
    private warmFor!: TokenInfo | undefined;
    /** Bumped by invalidate() so a request started before it cannot repopulate the cache. */
    private generation = 0;
    /** The last background refresh failure, kept for diagnostics (redacted). */
    lastRefreshError: Error | undefined;

    constructor(options: IamTokenManagerOptions) {
        if (!options.apiKey === !options.requestToken) throw new Error("IamTokenManager needs an API key or a requestToken function (one of the two)");
        // The key and the tokens are hidden from util.inspect / JSON.stringify of the manager.
        hideField(this, "apiKey", options.apiKey);
        this.requester = options.requestToken;
        hideField(this, "cached", undefined);
        hideField(this, "inFlight", undefined);
        hideField(this, "warmToken", undefined);
        hideField(this, "warmFor", undefined);
        this.iamEndpoint = options.iamEndpoint.replace(/\/+$/, "");
        this.http = options.httpClient ?? new HttpClient(options.http);
        if (options.apiKey) this.http.addSecret(options.apiKey);
        this.marginSeconds = options.expiryMarginSeconds ?? 10;
        this.refreshFraction = options.refreshWindowFraction ?? 0.2;
        this.clock = options.now ?? (() => Date.now());
        this.backgroundRetrySeconds = options.backgroundRetrySeconds ?? 5;
        this.onBackgroundRefreshError = options.onBackgroundRefreshError;
    }

    /** A valid access token (without the `Bearer ` prefix). */
    getToken(): Promise<string> {
        const cached = this.validCached();
        if (!cached) return this.fetchShared().then((info) => info.accessToken);
        // Reusing one settled promise per token: the warm path allocates nothing (bench: the clock read
        // and this allocation were the cost above the floor of awaiting a settled promise).
        if (this.warmFor !== cached) {
            this.warmFor = cached;
            this.warmToken = Promise.resolve(cached.accessToken);
        }
        return this.warmToken as Promise<string>;
    }

    /** The current token with its decoded claims, requesting one when none is valid. */
    getTokenInfo(): Promise<TokenInfo> {
        const cached = this.validCached();
        return cached ? Promise.resolve(cached) : this.fetchShared();
    }

    // Not async on purpose: the warm path is the hot one (every request), and each await layer costs.
    private validCached(): TokenInfo | undefined {
        const nowS = this.clock() / 1000;
        const cached = this.cached;
        if (!cached || nowS >= cached.expiration - this.marginSeconds) return undefined;
        if (nowS >= cached.refreshAt && nowS >= this.backgroundPausedUntil && !this.inFlight) this.refreshInBackground();
        return cached;
    }

    /** Drops the cached token (e.g. after a 401): the next call requests a new one. */
    invalidate(): void {
        this.cached = undefined;
        this.warmFor = undefined;
        this.warmToken = undefined;
        this.inFlight = undefined;
        this.backgroundPausedUntil = 0;
        this.generation++;
    }

    private refreshInBackground(): void {
        this.fetchShared().catch((err: Error) => {
            this.lastRefreshError = err;
            // Do not hammer a failing IAM on every call while the cached token is still good.
            this.backgroundPausedUntil = this.clock() / 1000 + this.backgroundRetrySeconds;
            try {
                this.onBackgroundRefreshError?.(err);
            } catch {
                // A faulty hook must not turn into an unhandled rejection.
            }
        });
    }

    // Every caller without a valid token joins the same request.
    private fetchShared(): Promise<TokenInfo> {
        if (this.inFlight) return this.inFlight;
        const generation = this.generation;
        const p = this.requestToken().then(
            (info) => {
                if (this.generation === generation) {
                    this.cached = info;
                    this.inFlight = undefined;
                    this.lastRefreshError = undefined;
                }
                return info;
            },
            (err) => {
                if (this.generation === generation) this.inFlight = undefined;
                throw err;
            },
        );
        this.inFlight = p;
        return p;
    }

    private async requestToken(): Promise<TokenInfo> {
        const res = this.requester
            ? await this.requester(this.http, OPERATION)
            : await this.http.request<Record<string, unknown>>({
                  operation: OPERATION,
                  method: "POST",
                  url: `${this.iamEndpoint}/identity/token`,
                  form: {
                      grant_type: "urn:ibm:params:oauth:grant-type:apikey",
                      apikey: this.apiKey,
                      response_type: "cloud_iam",
                  },
                  // Exchanging a key for a token creates nothing: safe to replay.
                  idempotent: true,
                  secrets: [this.apiKey],
              });
        const body = res.body;
        const accessToken = body && typeof body === "object" ? body.access_token : undefined;
        const invalid = (why: string) =>
            new IbmCloudError({
                operation: OPERATION,
                status: res.status,
                code: "invalid_token_response",
                ibmMessage: why,
                traceId: res.headers["transaction-id"] ?? res.correlationId,
                secrets: [this.apiKey],
            });
        if (typeof accessToken !== "string" || accessToken === "") throw invalid("IAM answered without an access_token");
        this.http.addSecret(accessToken);
        let claims: Record<string, unknown>;
        try {
            claims = decodeJwtPayload(accessToken);
        } catch (e) {
            throw invalid((e as Error).message);
        }
        const nowS = Math.floor(this.clock() / 1000);
        const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
        const expiresIn = num(body.expires_in);
        // The JWT is authoritative; the body's `expiration` / `expires_in` only fill gaps.
        const exp = num(claims.exp) ?? num(body.expiration) ?? (expiresIn !== undefined ? nowS + expiresIn : undefined);
        if (exp === undefined) throw invalid("the access token has no exp claim");
        const iat = num(claims.iat) ?? (expiresIn !== undefined ? exp - expiresIn : nowS);
        const account = claims.account as { bss?: unknown } | undefined;
        const str = (v: unknown) => (typeof v === "string" ? v : undefined);
        return {
            accessToken,
            expiration: exp,
            issuedAt: iat,
            refreshAt: exp - this.refreshFraction * (exp - iat),
            iamId: str(claims.iam_id) ?? str(claims.id) ?? "",
            accountId: str(account?.bss) ?? "",
            subject: str(claims.sub),
            subjectType: str(claims.sub_type),
            name: str(claims.name),
        };
    }
}

/**
 * Token managers by (IAM endpoint, API key) for providers that act with keys they are handed (the
 * service ID's, not the deployer's): one cached token per key for the life of the plugin. Keyed by a
 * hash, so the key itself is never a property name. The table is made on first use, so a pool held
 * by a provider object closure-serializes as an empty object.
 */
export class TokenManagerPool {
    private managers: { [fingerprint: string]: IamTokenManager } | undefined;

    get(apiKey: string, iamEndpoint: string, http?: HttpClientOptions): IamTokenManager {
        const fingerprint = crypto.createHash("sha256").update(`${iamEndpoint}\n${apiKey}`).digest("hex");
        if (!this.managers) this.managers = {};
        let manager = this.managers[fingerprint];
        if (!manager) {
            manager = new IamTokenManager({ apiKey, iamEndpoint, ...(http ? { http } : {}) });
            this.managers[fingerprint] = manager;
        }
        return manager;
    }

    /** Forgets every manager (new settings from configure()). */
    clear(): void {
        this.managers = undefined;
    }
}
