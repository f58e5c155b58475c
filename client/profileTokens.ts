// IAM access tokens with no API key: as a trusted profile, from a compute resource's token file (a Kubernetes
// service account, Code Engine), from a VSI's metadata service, or by assuming a profile from another identity.
// Each is the one token manager with a different grant (same cache, 80 % refresh, single flight) behind the
// same provider face as `accessTokenProvider`. Nothing here logs; errors never carry a token.
import * as fs from "fs";
import { AccessTokenProvider, providerOf } from "./accessToken";
import { resolveCloudEndpoints } from "./config";
import { HttpClient, HttpClientOptions, HttpResponse } from "./http";
import { IamTokenManager } from "./tokenManager";

const CR_TOKEN_GRANT = "urn:ibm:params:oauth:grant-type:cr-token";
const ASSUME_GRANT = "urn:ibm:params:oauth:grant-type:assume";

/** Where IBM's SDKs look for a compute resource's token, in this order, when no file is given. */
export const DEFAULT_CR_TOKEN_FILES: readonly string[] = Object.freeze([
    "/var/run/secrets/tokens/vault-token",
    "/var/run/secrets/tokens/sa-token",
    "/var/run/secrets/codeengine.cloud.ibm.com/compute-resource-token/token",
]);

/** The VSI metadata service (reachable from the instance only). */
export const DEFAULT_METADATA_ENDPOINT = "http://169.254.169.254";
const METADATA_VERSION = "2022-03-01";

interface CommonOptions {
    /** IAM base URL; default `IBMCLOUD_IAM_API_ENDPOINT`, else the public (or, with `visibility: "private"`, private) IAM. */
    iamEndpoint?: string;
    /** `public` (default), `private` or `public-and-private`; default `IC_VISIBILITY` / `IBMCLOUD_VISIBILITY`. */
    visibility?: string;
    /** HTTP options (timeouts, retries) of the token requests. */
    http?: HttpClientOptions;
    /** Clock in epoch milliseconds (tests). */
    now?: () => number;
}

export interface ComputeResourceTokenProviderOptions extends CommonOptions {
    /** The trusted profile's id (`Profile-…`) and/or its name; or its CRN. At least one. */
    profileId?: string;
    profileName?: string;
    profileCrn?: string;
    /** The compute resource's token file; default the first readable of `DEFAULT_CR_TOKEN_FILES`. Read again for every token. */
    crTokenFilename?: string;
    /** The token itself, instead of a file (it is not renewed: once it expires, tokens are refused). */
    crToken?: string;
}

export interface VpcInstanceTokenProviderOptions extends CommonOptions {
    /** The metadata service's base URL (default `http://169.254.169.254`). */
    metadataEndpoint?: string;
    /** At most one of these; none: the instance's default trusted profile. */
    profileId?: string;
    profileCrn?: string;
    profileName?: string;
    /** Lifetime of the instance identity token asked for (5..3600 s, default 300). */
    identityTokenLifetimeSeconds?: number;
}

export interface AssumedProfileTokenProviderOptions extends CommonOptions {
    /** The identity that assumes the profile (e.g. `accessTokenProvider({ apiKey })`); its tokens are read, never closed. */
    from: Pick<AccessTokenProvider, "getAccessToken">;
    /** The profile: its CRN, or its id, or its name with `accountId`. */
    profileCrn?: string;
    profileId?: string;
    profileName?: string;
    accountId?: string;
}

function given(v: string | undefined): string | undefined {
    return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

function checkProfileId(fn: string, id: string | undefined, name = "profileId"): void {
    if (id !== undefined && !/^Profile-[0-9a-fA-F-]{36}$/.test(id)) {
        throw new Error(`${fn}: ${name} must be a trusted profile's id (Profile-<uuid>), not '${id}'`);
    }
}

function managerFor(opts: CommonOptions, requestToken: (http: HttpClient, operation: string) => Promise<HttpResponse<Record<string, unknown>>>) {
    const { iamEndpoint } = resolveCloudEndpoints({ iamEndpoint: opts.iamEndpoint, visibility: opts.visibility });
    return new IamTokenManager({ iamEndpoint, requestToken, http: opts.http, ...(opts.now ? { now: opts.now } : {}) });
}

/** Reads the compute resource's token: the file given, else the first of IBM's default paths that can be read. */
async function readCrToken(file: string | undefined, fileSetting = "crTokenFilename"): Promise<string> {
    const candidates = file ? [file] : DEFAULT_CR_TOKEN_FILES;
    for (const f of candidates) {
        let text: string;
        try {
            text = await fs.promises.readFile(f, "utf8");
        } catch {
            continue;
        }
        if (text.trim() === "") throw new Error(`the compute resource token file ${f} is empty; check the projected service account token mount`);
        return text.trim();
    }
    throw new Error(
        file
            ? `cannot read the compute resource token file ${file}; check ${fileSetting} and that the file is mounted and readable`
            : `no compute resource token found in ${DEFAULT_CR_TOKEN_FILES.join(", ")}; mount one (e.g. a projected service account token) or set ${fileSetting}`,
    );
}

/**
 * Tokens of a trusted profile for the compute resource this runs on, from its token file (IBM's cr-token grant).
 *
 * ```ts
 * const tokens = computeResourceTokenProvider({ profileId: process.env.APP_PROFILE_ID! });
 * const headers = await tokens.authHeaders(instanceId);
 * ```
 */
export function computeResourceTokenProvider(options: ComputeResourceTokenProviderOptions): AccessTokenProvider {
    return providerOf(computeResourceTokenManager(options));
}

/** The token manager behind `computeResourceTokenProvider` (the deployer's session uses it directly). */
export function computeResourceTokenManager(
    options: ComputeResourceTokenProviderOptions,
    /**
     * How messages name the settings the options came from (a provider's deployer: its stack config keys, e.g.
     * `ibmcloud:iamProfileId`), so an error names what the user set rather than these option names; `who` leads them.
     */
    names?: { who: string; profileId: string; crTokenFile: string },
): IamTokenManager {
    const fn = names?.who ?? "computeResourceTokenProvider";
    const profileId = given(options?.profileId);
    const profileName = given(options?.profileName);
    const profileCrn = given(options?.profileCrn);
    if (!profileId && !profileName && !profileCrn) {
        throw new Error(`${fn}: profileId or profileName is required (the trusted profile the compute resource is linked to)`);
    }
    checkProfileId(fn, profileId, names?.profileId);
    const file = given(options.crTokenFilename);
    const literal = given(options.crToken);
    const manager = managerFor(options, async (http, operation) => {
        const crToken = literal ?? (await readCrToken(file, names?.crTokenFile));
        http.addSecret(crToken);
        return http.request<Record<string, unknown>>({
            operation,
            method: "POST",
            url: `${manager.iamEndpoint}/identity/token`,
            form: { grant_type: CR_TOKEN_GRANT, cr_token: crToken, profile_id: profileId, profile_name: profileName, profile_crn: profileCrn },
            idempotent: true,
            secrets: [crToken],
        });
    });
    if (literal) manager.http.addSecret(literal);
    return manager;
}

/** Tokens of a trusted profile for the VSI this runs on, from the instance metadata service. */
export function vpcInstanceTokenProvider(options: VpcInstanceTokenProviderOptions = {}): AccessTokenProvider {
    const fn = "vpcInstanceTokenProvider";
    const profileId = given(options.profileId);
    const profileCrn = given(options.profileCrn);
    const profileName = given(options.profileName);
    if ([profileId, profileCrn, profileName].filter((x) => x !== undefined).length > 1) {
        throw new Error(`${fn}: give at most one of profileId, profileCrn and profileName`);
    }
    checkProfileId(fn, profileId);
    const lifetime = options.identityTokenLifetimeSeconds ?? 300;
    if (!Number.isInteger(lifetime) || lifetime < 5 || lifetime > 3600) {
        throw new Error(`${fn}: identityTokenLifetimeSeconds must be a whole number from 5 to 3600, not ${lifetime}`);
    }
    const base = (given(options.metadataEndpoint) ?? DEFAULT_METADATA_ENDPOINT).replace(/\/+$/, "");
    const headers = { "Metadata-Flavor": "ibm" };
    const manager = managerFor(options, async (http, operation) => {
        const identity = await http.request<Record<string, unknown>>({
            operation: `${operation} (instance identity token)`,
            method: "PUT",
            url: `${base}/instance_identity/v1/token`,
            query: { version: METADATA_VERSION },
            headers,
            json: { expires_in: lifetime },
            idempotent: true,
        });
        const identityToken = identity.body?.access_token;
        if (typeof identityToken !== "string" || identityToken === "") throw new Error(`${fn}: the metadata service answered without an access_token`);
        http.addSecret(identityToken);
        const profile = profileId ? { id: profileId } : profileCrn ? { crn: profileCrn } : profileName ? { name: profileName } : undefined;
        return http.request<Record<string, unknown>>({
            operation,
            method: "POST",
            url: `${base}/instance_identity/v1/iam_token`,
            query: { version: METADATA_VERSION },
            headers: { ...headers, Authorization: `Bearer ${identityToken}` },
            ...(profile ? { json: { trusted_profile: profile } } : {}),
            idempotent: true,
            secrets: [identityToken],
        });
    });
    return providerOf(manager);
}

/** Tokens of a trusted profile assumed by another identity that the profile trusts (IBM's assume grant). */
export function assumedProfileTokenProvider(options: AssumedProfileTokenProviderOptions): AccessTokenProvider {
    const fn = "assumedProfileTokenProvider";
    if (!options?.from || typeof options.from.getAccessToken !== "function") {
        throw new Error(`${fn}: from is required: the provider of the identity that assumes the profile, e.g. accessTokenProvider({ apiKey })`);
    }
    const profileCrn = given(options.profileCrn);
    const profileId = given(options.profileId);
    const profileName = given(options.profileName);
    const accountId = given(options.accountId);
    if ([profileCrn, profileId, profileName].filter((x) => x !== undefined).length !== 1) {
        throw new Error(`${fn}: give exactly one of profileCrn, profileId and profileName (with accountId)`);
    }
    if (profileName && !accountId) throw new Error(`${fn}: profileName needs accountId (the account the profile is in)`);
    checkProfileId(fn, profileId);
    const from = options.from;
    const manager = managerFor(options, async (http, operation) => {
        const accessToken = await from.getAccessToken();
        http.addSecret(accessToken);
        return http.request<Record<string, unknown>>({
            operation,
            method: "POST",
            url: `${manager.iamEndpoint}/identity/token`,
            form: {
                grant_type: ASSUME_GRANT,
                access_token: accessToken,
                profile_crn: profileCrn,
                profile_id: profileId,
                profile_name: profileName,
                account: profileName ? accountId : undefined,
            },
            idempotent: true,
            secrets: [accessToken],
        });
    });
    return providerOf(manager);
}
