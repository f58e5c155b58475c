// IAM access tokens for a service ID's API key, for application runtime and for Pulumi programs (a
// stack that reads another stack's `apiKey` output). Built on the one token manager (cached, refreshed
// before expiry, one in-flight request) and the one settings resolver (IAM endpoint from the argument,
// then IBMCLOUD_IAM_API_ENDPOINT, then visibility). Nothing here logs, and errors never carry the key
// or a token.
import { resolveCloudSettings } from "./config";
import { HttpClientOptions } from "./http";
import { IamTokenManager, TokenInfo } from "./tokenManager";

export interface AccessTokenProviderOptions {
    /** The API key to exchange, e.g. a service ID's key from `KmsAccess.apiKey` or a stack reference. */
    apiKey: string;
    /** IAM base URL; default `IBMCLOUD_IAM_API_ENDPOINT`, else the public (or, with `visibility: "private"`, private) IAM. */
    iamEndpoint?: string;
    /** `public` (default), `private` or `public-and-private`; default `IC_VISIBILITY` / `IBMCLOUD_VISIBILITY`. */
    visibility?: string;
    /** HTTP options (timeouts, retries) of the token requests. */
    http?: HttpClientOptions;
    /** Clock in epoch milliseconds (tests). */
    now?: () => number;
}

/** What a token says, minus what nobody outside needs. Expiration and issue time are epoch seconds. */
export type AccessTokenInfo = Pick<TokenInfo, "accessToken" | "expiration" | "issuedAt" | "iamId" | "accountId" | "subject" | "subjectType" | "name">;

/** Headers for a KMS call to one instance. */
export interface KmsAuthHeaders {
    Authorization: string;
    "bluemix-instance": string;
}

export interface AccessTokenProvider {
    /** The IAM endpoint tokens come from. */
    readonly iamEndpoint: string;
    /** A valid access token (no `Bearer ` prefix); cached, and refreshed in the background past 80 % of its life. */
    getAccessToken(): Promise<string>;
    /** The current token with its expiration (epoch seconds) and holder (`iamId`, `accountId`). */
    getTokenInfo(): Promise<AccessTokenInfo>;
    /** `{Authorization: "Bearer …", "bluemix-instance": instanceId}` for the KMS keys API. */
    authHeaders(instanceId: string): Promise<KmsAuthHeaders>;
    /** Drops the cached token (e.g. after a 401): the next call asks IAM again. */
    invalidate(): void;
    /** Closes pooled connections (the provider stays usable). */
    close(): Promise<void>;
}

/**
 * Turns an API key into IAM access tokens.
 *
 * ```ts
 * const tokens = accessTokenProvider({ apiKey: process.env.APP_API_KEY! });
 * const headers = await tokens.authHeaders(instanceId); // Authorization + bluemix-instance
 * ```
 */
export function accessTokenProvider(options: AccessTokenProviderOptions): AccessTokenProvider {
    if (typeof options?.apiKey !== "string" || options.apiKey.trim() === "") {
        throw new Error("accessTokenProvider: apiKey is required (the service ID's API key, e.g. the KmsAccess apiKey output)");
    }
    const settings = resolveCloudSettings({ apiKey: options.apiKey.trim(), iamEndpoint: options.iamEndpoint, visibility: options.visibility });
    // A connection failure names where the URL came from: this option, IBMCLOUD_IAM_API_ENDPOINT, or IBM's default.
    const endpointOrigins =
        options.iamEndpoint !== undefined && options.iamEndpoint.trim() !== ""
            ? [{ url: settings.iamEndpoint, from: "the iamEndpoint option given to accessTokenProvider", fix: "correct that option" }]
            : settings.endpointOrigins;
    const manager = new IamTokenManager({
        apiKey: settings.apiKey,
        iamEndpoint: settings.iamEndpoint,
        http: { ...(endpointOrigins ? { endpointOrigins } : {}), ...options.http },
        ...(options.now ? { now: options.now } : {}),
    });
    return providerOf(manager);
}

/** The provider face of a token manager, whatever grant it uses: shared by every token provider of this layer. */
export function providerOf(manager: IamTokenManager): AccessTokenProvider {
    const info = async (): Promise<AccessTokenInfo> => {
        const t = await manager.getTokenInfo();
        return {
            accessToken: t.accessToken,
            expiration: t.expiration,
            issuedAt: t.issuedAt,
            iamId: t.iamId,
            accountId: t.accountId,
            subject: t.subject,
            subjectType: t.subjectType,
            name: t.name,
        };
    };
    return {
        iamEndpoint: manager.iamEndpoint,
        getAccessToken: () => manager.getToken(),
        getTokenInfo: info,
        async authHeaders(instanceId: string): Promise<KmsAuthHeaders> {
            if (typeof instanceId !== "string" || instanceId.trim() === "") {
                throw new Error("authHeaders: instanceId is required (the KMS instance GUID sent as bluemix-instance)");
            }
            return { Authorization: `Bearer ${await manager.getToken()}`, "bluemix-instance": instanceId.trim() };
        },
        invalidate: () => manager.invalidate(),
        close: () => manager.http.close(),
    };
}
