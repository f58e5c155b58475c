// The ONE place that reads credentials and endpoints: explicit settings (stack config handed to a
// provider's `configure()`), then IBM's environment conventions shared by the ibmcloud CLI and IBM's
// Terraform provider. Nothing else in the code base looks at `process.env` for IBM Cloud settings.
import { InputError } from "./errors";

export type Visibility = "public" | "private" | "public-and-private";
export type KmsService = "hs-crypto" | "kms";

/** Settings as given (stack config); every field optional. */
export interface ExplicitCloudSettings {
    /** The deployer's IBM Cloud API key (secret); default `IC_API_KEY`, then `IBMCLOUD_API_KEY`. */
    apiKey?: string;
    /** IAM base URL (https, or http on loopback for the emulator); default `IBMCLOUD_IAM_API_ENDPOINT`, else derived from visibility. */
    iamEndpoint?: string;
    /** KMS base URL for Key Protect and HPCS instances alike; default `IBMCLOUD_KP_API_ENDPOINT` / `IBMCLOUD_HPCS_API_ENDPOINT`, else derived from region. */
    kmsEndpoint?: string;
    /** `public` (default), `private` or `public-and-private`; default `IC_VISIBILITY`, then `IBMCLOUD_VISIBILITY`. */
    visibility?: string;
    /** Region, e.g. `us-south` (default); default `IC_REGION`, then `IBMCLOUD_REGION`. */
    region?: string;
    /** Seconds to wait for each IBM Cloud request; default `IC_TIMEOUT`, then `IBMCLOUD_TIMEOUT`, else the HTTP client's default. */
    timeout?: string;
}

/** The dynamic resources' way to log the deployer in with no API key (see `resolveProfileLogin`). */
export interface ProfileLoginSettings {
    /** With no API key: deploy as this trusted profile (`Profile-…`), from a compute-resource token; default `IBMCLOUD_CR_PROFILE`, then `IC_IAM_PROFILE_ID` / `IBMCLOUD_IAM_PROFILE_ID`. */
    iamProfileId?: string;
    /** With no API key: deploy as the trusted profile of this name; default `IBMCLOUD_CR_PROFILE`, then `IC_IAM_PROFILE_NAME` / `IBMCLOUD_IAM_PROFILE_NAME`. */
    iamProfileName?: string;
    /** The compute-resource token file the profile's tokens are traded from; default `IBMCLOUD_CR_TOKEN` (`@<file>` or the token), else the paths IBM's SDK reads. */
    crTokenFile?: string;
}

/** Resolved, validated settings. Endpoints carry no trailing slash. */
export interface CloudSettings {
    apiKey: string;
    /** IAM base URL (token, identity, policies, roles). */
    iamEndpoint: string;
    /** Explicit KMS base URL override for both Key Protect and HPCS (stack config `ibmcloud:kmsEndpoint`). */
    kmsEndpoint?: string;
    /** From `IBMCLOUD_KP_API_ENDPOINT`: override for Key Protect (`kms`) instances only. */
    kpEndpoint?: string;
    /** From `IBMCLOUD_HPCS_API_ENDPOINT`: override for HPCS (`hs-crypto`) instances only. */
    hpcsEndpoint?: string;
    visibility: Visibility;
    region: string;
    /** Per-request limit in seconds, when set (`ibmcloud:timeout`, `IC_TIMEOUT`, `IBMCLOUD_TIMEOUT`); the HTTP client's default otherwise. */
    timeoutSeconds?: number;
    /**
     * Where each endpoint came from, in words a connection error can quote: `stack config ibmcloud:iamEndpoint`,
     * `the environment variable IBMCLOUD_IAM_API_ENDPOINT`, or IBM Cloud's default. Keyed by base URL.
     */
    endpointOrigins?: EndpointOrigin[];
}

/** Where a base URL came from, and how to change it (for connection errors). */
export interface EndpointOrigin {
    /** Base URL, no trailing slash. */
    url: string;
    /** `stack config ibmcloud:iamEndpoint`, `the environment variable IBMCLOUD_IAM_API_ENDPOINT`, `IBM Cloud's default IAM endpoint …`. */
    from: string;
    /** The sentence that tells how to point it elsewhere. */
    fix: string;
}

/** Stack config keys read by `settingsFromProviderConfig` (namespace `ibmcloud`). */
export const CONFIG_KEYS = Object.freeze({
    apiKey: "ibmcloud:apiKey",
    iamEndpoint: "ibmcloud:iamEndpoint",
    kmsEndpoint: "ibmcloud:kmsEndpoint",
    visibility: "ibmcloud:visibility",
    region: "ibmcloud:region",
    timeout: "ibmcloud:timeout",
    iamProfileId: "ibmcloud:iamProfileId",
    iamProfileName: "ibmcloud:iamProfileName",
    crTokenFile: "ibmcloud:crTokenFile",
});

/**
 * The keys of `@pulumi/ibm`'s provider read as fallbacks, so a stack that already configures that
 * provider does not hold the same key twice: after our own key, before the environment.
 */
export const IBM_PROVIDER_CONFIG_KEYS = Object.freeze({
    apiKey: "ibm:ibmcloudApiKey",
    region: "ibm:region",
    visibility: "ibm:visibility",
    timeout: "ibm:ibmcloudTimeout",
});

export const DEFAULT_REGION = "us-south";
export const PUBLIC_IAM_ENDPOINT = "https://iam.cloud.ibm.com";
export const PRIVATE_IAM_ENDPOINT = "https://private.iam.cloud.ibm.com";
const VISIBILITIES: ReadonlyArray<string> = Object.freeze(["public", "private", "public-and-private"]);

type Env = { [name: string]: string | undefined };

function firstSet(...values: Array<string | undefined>): string | undefined {
    for (const v of values) {
        if (typeof v === "string" && v.trim() !== "") return v.trim();
    }
    return undefined;
}

function isLoopback(hostname: string): boolean {
    const h = hostname.replace(/^\[|\]$/g, "");
    return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Validates a base URL and returns it without trailing slash. `https` is required except for a
 * loopback host (the local emulator), so a key is never sent in clear text over a network.
 */
export function validateEndpoint(field: string, value: string): string {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        // Not echoed: a value that is no URL may be a credential pasted into the wrong setting.
        throw new InputError(
            field,
            "the value is not a URL (not shown, in case it is a key set in the wrong place)",
            `Give a base URL such as ${PUBLIC_IAM_ENDPOINT}.`,
        );
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
        // Shown without user info, path or query (any of which could hold a credential).
        throw new InputError(
            field,
            `"${url.protocol}//${url.host}" must use https (plain http is only accepted for localhost / 127.0.0.1)`,
            `Use the https:// form of the endpoint.`,
        );
    }
    if (url.username || url.password) {
        throw new InputError(field, "the URL must not contain credentials", "Remove the user:password@ part; the API key is given as ibmcloud:apiKey.");
    }
    if (url.search || url.hash) {
        throw new InputError(
            field,
            `"${url.protocol}//${url.host}${url.pathname}" must not have a query or fragment`,
            "Give only scheme, host, port and an optional base path.",
        );
    }
    return url.toString().replace(/\/+$/, "");
}

function parseVisibility(field: string, value: string | undefined): Visibility {
    if (value === undefined) return "public";
    const v = value.toLowerCase();
    if (!VISIBILITIES.includes(v)) {
        throw new InputError(field, `"${value}" is not a visibility`, "Use one of public, private, public-and-private.");
    }
    return v as Visibility;
}

function parseTimeout(field: string, value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) {
        // Not echoed, like the endpoints: a value that is no number may be a key set in the wrong place.
        throw new InputError(
            field,
            "the value is not a timeout in seconds",
            "Give the seconds to wait for each IBM Cloud request: more than 0, at most 3600, e.g. 60.",
        );
    }
    return n;
}

function parseRegion(field: string, value: string | undefined): string {
    if (value === undefined) return DEFAULT_REGION;
    const v = value.toLowerCase();
    if (!/^[a-z]{2,}(-[a-z0-9]+)+$/.test(v)) {
        throw new InputError(field, `"${value}" is not an IBM Cloud region`, "Use a region id such as us-south, eu-de or jp-tok.");
    }
    return v;
}

/** The IAM endpoint for a visibility. `public-and-private` uses the public endpoint, which is reachable from anywhere. */
export function iamEndpointFor(visibility: Visibility): string {
    return visibility === "private" ? PRIVATE_IAM_ENDPOINT : PUBLIC_IAM_ENDPOINT;
}

/**
 * Resolves settings. Precedence per field: `explicit` → environment. API key: `IC_API_KEY`, then
 * `IBMCLOUD_API_KEY`. IAM: `IBMCLOUD_IAM_API_ENDPOINT`, else derived from visibility. KMS:
 * `IBMCLOUD_KP_API_ENDPOINT` (Key Protect), `IBMCLOUD_HPCS_API_ENDPOINT` (HPCS). Visibility:
 * `IC_VISIBILITY`, `IBMCLOUD_VISIBILITY` (default public). Region: `IC_REGION`, `IBMCLOUD_REGION`
 * (default us-south). Request timeout: `IC_TIMEOUT`, `IBMCLOUD_TIMEOUT` (seconds, as IBM's Terraform
 * provider reads them). Throws `InputError` naming the setting and the fix.
 */
export function resolveCloudSettings(explicit: ExplicitCloudSettings = {}, env: Env = process.env): CloudSettings {
    const apiKey = firstSet(explicit.apiKey, env.IC_API_KEY, env.IBMCLOUD_API_KEY);
    if (!apiKey) throw missingApiKeyError();
    return { apiKey, ...resolveCloudEndpoints(explicit, env) };
}

/** The error for a deployer key set nowhere: names every place it is read from (never a value). */
export function missingApiKeyError(): InputError {
    return new InputError(
        CONFIG_KEYS.apiKey,
        `no IBM Cloud API key is configured (looked for stack config ${CONFIG_KEYS.apiKey}, then ${IBM_PROVIDER_CONFIG_KEYS.apiKey}, then IC_API_KEY and IBMCLOUD_API_KEY in the environment)`,
        "Set it with `pulumi config set --secret ibmcloud:apiKey <your API key>` or export IC_API_KEY=<your API key>; " +
            "or, with no API key, deploy as a trusted profile from a compute-resource token: `pulumi config set ibmcloud:iamProfileId <Profile-…>` " +
            "(or IBMCLOUD_CR_PROFILE with IBMCLOUD_CR_TOKEN=@<token file>).",
    );
}

/** Settings without the credential: where IAM and KMS are, for code that holds no key (a component in the program). */
export type CloudEndpoints = Omit<CloudSettings, "apiKey">;

/** The endpoint half of `resolveCloudSettings`, same precedence; needs no API key. */
export function resolveCloudEndpoints(explicit: ExplicitCloudSettings = {}, env: Env = process.env): CloudEndpoints {
    const visibilityField = explicit.visibility !== undefined ? CONFIG_KEYS.visibility : env.IC_VISIBILITY ? "IC_VISIBILITY" : "IBMCLOUD_VISIBILITY";
    const visibility = parseVisibility(visibilityField, firstSet(explicit.visibility, env.IC_VISIBILITY, env.IBMCLOUD_VISIBILITY));
    const regionField = explicit.region !== undefined ? CONFIG_KEYS.region : env.IC_REGION ? "IC_REGION" : "IBMCLOUD_REGION";
    const region = parseRegion(regionField, firstSet(explicit.region, env.IC_REGION, env.IBMCLOUD_REGION));

    const iamOverride = firstSet(explicit.iamEndpoint);
    const iamEnv = firstSet(env.IBMCLOUD_IAM_API_ENDPOINT);
    const iamEndpoint =
        iamOverride !== undefined
            ? validateEndpoint(CONFIG_KEYS.iamEndpoint, iamOverride)
            : iamEnv !== undefined
              ? validateEndpoint("IBMCLOUD_IAM_API_ENDPOINT", iamEnv)
              : iamEndpointFor(visibility);

    const iamOrigin: EndpointOrigin =
        iamOverride !== undefined
            ? {
                  url: iamEndpoint,
                  from: `stack config ${CONFIG_KEYS.iamEndpoint}`,
                  fix: `correct it with \`pulumi config set ${CONFIG_KEYS.iamEndpoint} <url>\`, or remove it to use IBM Cloud`,
              }
            : iamEnv !== undefined
              ? { url: iamEndpoint, from: "the environment variable IBMCLOUD_IAM_API_ENDPOINT", fix: "correct or unset IBMCLOUD_IAM_API_ENDPOINT" }
              : {
                    url: iamEndpoint,
                    from: `IBM Cloud's ${visibility === "private" ? "private" : "public"} IAM endpoint (the default: neither stack config ${CONFIG_KEYS.iamEndpoint} nor IBMCLOUD_IAM_API_ENDPOINT is set)`,
                    fix: `check this machine's network and DNS, or point ${CONFIG_KEYS.iamEndpoint} at another IAM (e.g. the local emulator's URL)`,
                };
    const settings: CloudEndpoints = { iamEndpoint, visibility, region, endpointOrigins: [iamOrigin] };
    const timeoutField = explicit.timeout !== undefined ? CONFIG_KEYS.timeout : env.IC_TIMEOUT ? "IC_TIMEOUT" : "IBMCLOUD_TIMEOUT";
    const timeoutSeconds = parseTimeout(timeoutField, firstSet(explicit.timeout, env.IC_TIMEOUT, env.IBMCLOUD_TIMEOUT));
    if (timeoutSeconds !== undefined) settings.timeoutSeconds = timeoutSeconds;
    const kms = firstSet(explicit.kmsEndpoint);
    if (kms !== undefined) settings.kmsEndpoint = validateEndpoint(CONFIG_KEYS.kmsEndpoint, kms);
    const kp = firstSet(env.IBMCLOUD_KP_API_ENDPOINT);
    if (kp !== undefined) settings.kpEndpoint = validateEndpoint("IBMCLOUD_KP_API_ENDPOINT", kp);
    const hpcs = firstSet(env.IBMCLOUD_HPCS_API_ENDPOINT);
    if (hpcs !== undefined) settings.hpcsEndpoint = validateEndpoint("IBMCLOUD_HPCS_API_ENDPOINT", hpcs);
    // Later entries lose to earlier ones for the same URL: the IAM origin first, then the KMS overrides by precedence.
    if (settings.kmsEndpoint !== undefined)
        settings.endpointOrigins!.push({
            url: settings.kmsEndpoint,
            from: `stack config ${CONFIG_KEYS.kmsEndpoint}`,
            fix: `correct it with \`pulumi config set ${CONFIG_KEYS.kmsEndpoint} <url>\`, or remove it to use the instance's IBM Cloud endpoint`,
        });
    if (settings.kpEndpoint !== undefined)
        settings.endpointOrigins!.push({
            url: settings.kpEndpoint,
            from: "the environment variable IBMCLOUD_KP_API_ENDPOINT",
            fix: "correct or unset IBMCLOUD_KP_API_ENDPOINT",
        });
    if (settings.hpcsEndpoint !== undefined)
        settings.endpointOrigins!.push({
            url: settings.hpcsEndpoint,
            from: "the environment variable IBMCLOUD_HPCS_API_ENDPOINT",
            fix: "correct or unset IBMCLOUD_HPCS_API_ENDPOINT",
        });
    return settings;
}

/** What `configure()` receives: `req.config.get("ibmcloud:apiKey")` etc. */
export interface ProviderConfigSource {
    config: { get(key: string): string | undefined };
}

/**
 * Reads a dynamic provider's `configure()` request into explicit settings (empty values are absent).
 * Our `ibmcloud:*` keys first, then `@pulumi/ibm`'s (`ibm:ibmcloudApiKey`, `ibm:region`, `ibm:visibility`,
 * `ibm:ibmcloudTimeout`) for a stack that already configures that provider.
 */
export function settingsFromProviderConfig(req: ProviderConfigSource): ExplicitCloudSettings & ProfileLoginSettings {
    const out: ExplicitCloudSettings & ProfileLoginSettings = {};
    const read = (key: string) => {
        const v = req?.config?.get(key);
        return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
    };
    const apiKey = read(CONFIG_KEYS.apiKey) ?? read(IBM_PROVIDER_CONFIG_KEYS.apiKey);
    if (apiKey !== undefined) out.apiKey = apiKey;
    const iamEndpoint = read(CONFIG_KEYS.iamEndpoint);
    if (iamEndpoint !== undefined) out.iamEndpoint = iamEndpoint;
    const kmsEndpoint = read(CONFIG_KEYS.kmsEndpoint);
    if (kmsEndpoint !== undefined) out.kmsEndpoint = kmsEndpoint;
    const visibility = read(CONFIG_KEYS.visibility) ?? read(IBM_PROVIDER_CONFIG_KEYS.visibility);
    if (visibility !== undefined) out.visibility = visibility;
    const region = read(CONFIG_KEYS.region) ?? read(IBM_PROVIDER_CONFIG_KEYS.region);
    if (region !== undefined) out.region = region;
    const timeout = read(CONFIG_KEYS.timeout) ?? read(IBM_PROVIDER_CONFIG_KEYS.timeout);
    if (timeout !== undefined) out.timeout = timeout;
    for (const k of ["iamProfileId", "iamProfileName", "crTokenFile"] as const) {
        const v = read(CONFIG_KEYS[k]);
        if (v !== undefined) out[k] = v;
    }
    return out;
}

/** How the deployer logs in as a trusted profile with a compute-resource token (no API key). */
export interface ProfileLogin {
    profileId?: string;
    profileName?: string;
    profileCrn?: string;
    /** The token file; absent with `crToken` or to read IBM's SDK default paths. */
    crTokenFile?: string;
    /** The token itself (IBMCLOUD_CR_TOKEN given as a value, not `@file`). */
    crToken?: string;
    /** Which settings named the profile, for messages. */
    from: string;
    /** The setting that gave the profile id and the one that gives (or would give) the token file, for messages. */
    settingNames: { profileId: string; crTokenFile: string };
}

/**
 * The trusted-profile login, when no API key is configured and a profile is: stack config `ibmcloud:iamProfileId` /
 * `ibmcloud:iamProfileName` (+ `ibmcloud:crTokenFile`), else the ibmcloud CLI's `IBMCLOUD_CR_PROFILE` (name, id or
 * CRN) with `IBMCLOUD_CR_TOKEN` (the token, or `@file`), else IBM's Terraform provider's `IC_IAM_PROFILE_ID` /
 * `IBMCLOUD_IAM_PROFILE_ID` and `IC_IAM_PROFILE_NAME` / `IBMCLOUD_IAM_PROFILE_NAME`. Without a token setting the
 * token is read from the paths IBM's SDK reads. Undefined when an API key is configured (it wins) or no profile is.
 */
export function resolveProfileLogin(explicit: ExplicitCloudSettings & ProfileLoginSettings = {}, env: Env = process.env): ProfileLogin | undefined {
    if (firstSet(explicit.apiKey, env.IC_API_KEY, env.IBMCLOUD_API_KEY) !== undefined) return undefined;
    const envToken = firstSet(env.IBMCLOUD_CR_TOKEN);
    const crTokenFile =
        explicit.crTokenFile !== undefined
            ? CONFIG_KEYS.crTokenFile
            : envToken !== undefined
              ? "IBMCLOUD_CR_TOKEN"
              : `${CONFIG_KEYS.crTokenFile} (or IBMCLOUD_CR_TOKEN=@<token file>)`;
    const token: Pick<ProfileLogin, "crToken" | "crTokenFile"> =
        explicit.crTokenFile !== undefined
            ? { crTokenFile: explicit.crTokenFile }
            : envToken === undefined
              ? {}
              : envToken.startsWith("@")
                ? { crTokenFile: envToken.slice(1) }
                : { crToken: envToken };
    if (explicit.iamProfileId !== undefined || explicit.iamProfileName !== undefined) {
        return {
            ...token,
            profileId: explicit.iamProfileId,
            profileName: explicit.iamProfileName,
            from: `${CONFIG_KEYS.iamProfileId} / ${CONFIG_KEYS.iamProfileName}`,
            settingNames: { profileId: CONFIG_KEYS.iamProfileId, crTokenFile },
        };
    }
    const cliProfile = firstSet(env.IBMCLOUD_CR_PROFILE);
    if (cliProfile !== undefined) {
        const kind = cliProfile.startsWith("crn:") ? "profileCrn" : /^Profile-/.test(cliProfile) ? "profileId" : "profileName";
        return { ...token, [kind]: cliProfile, from: "IBMCLOUD_CR_PROFILE", settingNames: { profileId: "IBMCLOUD_CR_PROFILE", crTokenFile } };
    }
    const id = firstSet(env.IC_IAM_PROFILE_ID, env.IBMCLOUD_IAM_PROFILE_ID);
    const name = firstSet(env.IC_IAM_PROFILE_NAME, env.IBMCLOUD_IAM_PROFILE_NAME);
    if (id !== undefined || name !== undefined) {
        const settingNames = { profileId: env.IC_IAM_PROFILE_ID !== undefined ? "IC_IAM_PROFILE_ID" : "IBMCLOUD_IAM_PROFILE_ID", crTokenFile };
        return { ...token, profileId: id, profileName: name, from: "IC_IAM_PROFILE_ID / IC_IAM_PROFILE_NAME", settingNames };
    }
    return undefined;
}

export interface KmsEndpointArgs {
    service: KmsService;
    /** Instance GUID; needed for HPCS (its host names start with it). */
    instanceId: string;
    region?: string;
    visibility?: Visibility;
    /** A base URL that wins over everything (validated). */
    override?: string;
}

/**
 * The KMS base URL for an instance: Key Protect `https://<region>.kms.cloud.ibm.com` (private:
 * `https://private.<region>.kms.cloud.ibm.com`), HPCS
 * `https://<instance_id>.api.<region>.hs-crypto.appdomain.cloud` (private: `…api.private.<region>…`).
 * `public-and-private` uses the public endpoint.
 */
export function kmsEndpointFor(args: KmsEndpointArgs): string {
    if (args.override !== undefined && args.override.trim() !== "") return validateEndpoint(CONFIG_KEYS.kmsEndpoint, args.override.trim());
    const region = parseRegion("region", args.region);
    const priv = args.visibility === "private";
    if (args.service === "kms") {
        return priv ? `https://private.${region}.kms.cloud.ibm.com` : `https://${region}.kms.cloud.ibm.com`;
    }
    if (args.service === "hs-crypto") {
        if (!/^[0-9a-fA-F-]{8,64}$/.test(args.instanceId ?? "")) {
            throw new InputError(
                "instanceId",
                `"${args.instanceId}" is not an HPCS instance GUID`,
                "Give the instance's GUID (the last-but-two segment of its CRN).",
            );
        }
        return priv
            ? `https://${args.instanceId}.api.private.${region}.hs-crypto.appdomain.cloud`
            : `https://${args.instanceId}.api.${region}.hs-crypto.appdomain.cloud`;
    }
    throw new InputError("service", `"${String(args.service)}" is not a KMS service`, "Use kms (Key Protect) or hs-crypto (Hyper Protect Crypto Services).");
}

/** `kmsEndpointFor` with the overrides and defaults from resolved settings (explicit override, then the per-service env override). */
export function kmsEndpointFromSettings(settings: CloudEndpoints, args: { service: KmsService; instanceId: string; region?: string }): string {
    const override = settings.kmsEndpoint ?? (args.service === "kms" ? settings.kpEndpoint : settings.hpcsEndpoint);
    return kmsEndpointFor({
        service: args.service,
        instanceId: args.instanceId,
        region: args.region ?? settings.region,
        visibility: settings.visibility,
        ...(override !== undefined ? { override } : {}),
    });
}

/** The HTTP client options the settings ask for: the request timeout, and where each endpoint came from (for connection errors). */
export function httpOptionsFromSettings(settings: { timeoutSeconds?: number; endpointOrigins?: EndpointOrigin[] }): {
    timeoutMs?: number;
    endpointOrigins?: EndpointOrigin[];
} {
    return {
        ...(settings.timeoutSeconds !== undefined ? { timeoutMs: Math.round(settings.timeoutSeconds * 1000) } : {}),
        ...(settings.endpointOrigins !== undefined ? { endpointOrigins: settings.endpointOrigins } : {}),
    };
}

/**
 * Where the KMS endpoint of an instance came from: the resource's own argument, a setting, or derived
 * (from service, instance and region). `given` is the resource's endpoint argument, if any.
 */
export function kmsEndpointOrigin(
    settings: CloudEndpoints,
    args: { service: KmsService; instanceId: string; region?: string; given?: string; givenField?: string },
): EndpointOrigin {
    const derived = kmsEndpointFromSettings(settings, args);
    const fromSettings = (settings.endpointOrigins ?? []).find((o) => o.url === derived && o !== settings.endpointOrigins?.[0]);
    const url = args.given !== undefined && args.given !== "" ? validateEndpoint(args.givenField ?? "endpoint", args.given) : derived;
    // A component hands its children the endpoint it derived from the same settings: name the setting, not the argument.
    if (url === derived && fromSettings) return fromSettings;
    if (url !== derived) return { url, from: `the ${args.givenField ?? "endpoint"} argument`, fix: `correct the ${args.givenField ?? "endpoint"} argument` };
    return {
        url,
        from: `the ${args.service === "kms" ? "Key Protect" : "HPCS"} endpoint derived from the instance's region ${args.region ?? settings.region} (no ibmcloud:kmsEndpoint, IBMCLOUD_KP_API_ENDPOINT or IBMCLOUD_HPCS_API_ENDPOINT set)`,
        fix: `check the instance's region (its CRN) and this machine's network, or set ${CONFIG_KEYS.kmsEndpoint}`,
    };
}

/**
 * The provider plugin's configuration keys (namespace `ibmcloud-iam`: stack config `ibmcloud-iam:apiKey`, or the
 * arguments of an explicit provider), each with the stack config key the dynamic resources read for the same setting.
 */
export const PLUGIN_CONFIG_KEYS = Object.freeze({
    apiKey: CONFIG_KEYS.apiKey,
    iamEndpoint: CONFIG_KEYS.iamEndpoint,
    kmsEndpoint: CONFIG_KEYS.kmsEndpoint,
    visibility: CONFIG_KEYS.visibility,
    region: CONFIG_KEYS.region,
    timeout: CONFIG_KEYS.timeout,
    iamProfileId: CONFIG_KEYS.iamProfileId,
    iamProfileName: CONFIG_KEYS.iamProfileName,
    crTokenFile: CONFIG_KEYS.crTokenFile,
} satisfies Record<keyof (ExplicitCloudSettings & ProfileLoginSettings), string>);

/** A plugin setting as given: strings as they are, numbers (a timeout) as their text; anything else is not a setting. */
function settingText(v: unknown): string | undefined {
    if (typeof v === "number" && Number.isFinite(v)) return String(v);
    return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

/**
 * The provider plugin's configuration (`{apiKey, iamEndpoint, …}` with plain values: the caller has unwrapped
 * secrets) as the `configure()` request every provider reads, so a resource served by the plugin resolves its
 * settings exactly as its dynamic twin does (explicit values, then IBM's environment variables).
 */
export function providerConfigFromPlugin(values: Record<string, unknown>): ProviderConfigSource {
    const byStackKey = new Map<string, string>();
    for (const [name, stackKey] of Object.entries(PLUGIN_CONFIG_KEYS)) {
        const v = settingText(values[name]);
        if (v !== undefined) byStackKey.set(stackKey, v);
    }
    return { config: { get: (key: string) => byStackKey.get(key) } };
}

/**
 * Judges the plugin's configuration before anything uses it: each failure names the plugin key (`iamEndpoint`) and
 * the fix. Only the values given are judged (the environment is read when a resource needs the settings), and a
 * value still unknown (`isUnknown`) is not judged at all.
 */
export function checkPluginConfig(
    values: Record<string, unknown>,
    isUnknown: (v: unknown) => boolean = () => false,
): Array<{ property: string; reason: string }> {
    const failures: Array<{ property: string; reason: string }> = [];
    const known: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(values)) {
        if (!(name in PLUGIN_CONFIG_KEYS)) {
            if (name === "version" || name.startsWith("__")) continue;
            failures.push({ property: name, reason: `${name} is not a setting of this provider; use ${Object.keys(PLUGIN_CONFIG_KEYS).join(", ")}` });
            continue;
        }
        if (v === undefined || v === null || isUnknown(v)) continue;
        if (typeof v !== "string" && !(name === "timeout" && typeof v === "number")) {
            failures.push({ property: name, reason: `${name} must be a string` });
            continue;
        }
        known[name] = v;
    }
    const explicit = settingsFromProviderConfig(providerConfigFromPlugin(known));
    // One setting at a time, so every bad one is named, not only the first.
    for (const name of Object.keys(explicit) as Array<keyof (ExplicitCloudSettings & ProfileLoginSettings)>) {
        if (name === "apiKey" || name === "iamProfileId" || name === "iamProfileName" || name === "crTokenFile") continue;
        try {
            resolveCloudEndpoints({ [name]: explicit[name] }, {});
        } catch (err) {
            const reason = err instanceof InputError ? err.message.replace(PLUGIN_CONFIG_KEYS[name], name) : String(err);
            failures.push({ property: name, reason });
        }
    }
    return failures;
}
