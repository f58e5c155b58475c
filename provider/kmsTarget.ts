// Where a KMS instance is and how to reach it as a given identity: the one module behind every KMS
// resource (KmsKey, KmsAccessReady) and the KmsAccess component. The instance fields and their
// validation, the endpoint (given, else stack config / environment, else derived from service,
// instance and region), the KMS client as an API key's holder, and how IAM and KMS refusals read.
import { z } from "zod";
import {
    ExplicitCloudSettings, httpOptionsFromSettings, KmsService, kmsEndpointFromSettings, ProviderConfigSource, resolveCloudEndpoints,
    resolveCloudSettings, settingsFromProviderConfig, validateEndpoint,
} from "../client/config";
import { KmsClient } from "../client/kmsClient";
import { IamTokenManager, TokenManagerPool } from "../client/tokenManager";
import { compact } from "./validation";

/** `hs-crypto` until HPCS's end of marketing made Key Protect the first path; kept so state and stacks written before read the same. */
export const DEFAULT_KMS_SERVICE: KmsService = "hs-crypto";

const GUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

// ---------- fields ----------

/** Zod field for a KMS instance GUID. */
export function kmsInstanceIdField() {
    return z.string({ error: "instanceId must be a string" })
        .trim()
        .regex(new RegExp(GUID_PATTERN), { error: "instanceId must be the instance GUID such as 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b (the last-but-two segment of the instance CRN)" });
}

/** Zod field for the KMS service name. */
export function kmsServiceField() {
    return z.enum(["hs-crypto", "kms"], { error: "service must be hs-crypto (Hyper Protect Crypto Services) or kms (Key Protect)" });
}

/** Zod field for a KMS endpoint override (https, or http on loopback for the emulator). */
export function kmsEndpointField(field: string) {
    return z.string({ error: `${field} must be a URL string` }).superRefine((v, ctx) => {
        try {
            validateEndpoint(field, v);
        } catch (e) {
            ctx.addIssue({ code: "custom", message: (e as Error).message });
        }
    });
}

/** Zod field for a region id. */
export function kmsRegionField() {
    return z.string({ error: "region must be a string" })
        .regex(/^[a-z]{2,}(-[a-z0-9]+)+$/, { error: "region must be an IBM Cloud region id such as us-south, eu-de or jp-tok" });
}

/** The instance fields every KMS resource takes, as a zod shape (`endpointField` names the endpoint in messages). */
export function kmsTargetShape(endpointField = "endpoint") {
    return {
        instanceId: kmsInstanceIdField(),
        service: kmsServiceField().optional(),
        region: kmsRegionField().optional(),
        endpoint: kmsEndpointField(endpointField).optional(),
    };
}

// ---------- endpoints ----------

/** The instance as a resource's inputs give it. */
export interface KmsInstanceRef {
    instanceId: string;
    service?: KmsService;
    region?: string;
    endpoint?: string;
}

/** Where the calls go. */
export interface KmsTarget {
    instanceId: string;
    service: KmsService;
    /** KMS base URL. */
    endpoint: string;
    keyRing?: string;
}

/** An endpoint as it is stored (validated and normalised); an invalid one unchanged, for diff to compare. */
export function normalizeEndpoint(v: string): string {
    try {
        return validateEndpoint("endpoint", v);
    } catch {
        return v;
    }
}

/** The instance's KMS base URL: `endpoint`, else the stack/env override, else derived from service, instance and region. */
export function kmsEndpointOf(explicit: ExplicitCloudSettings, ref: KmsInstanceRef, endpointField = "endpoint"): string {
    if (ref.endpoint !== undefined && ref.endpoint !== "") return validateEndpoint(endpointField, ref.endpoint);
    return kmsEndpointFromSettings(resolveCloudEndpoints(explicit), {
        service: ref.service ?? DEFAULT_KMS_SERVICE, instanceId: ref.instanceId, region: ref.region,
    });
}

// ---------- connections ----------

/**
 * What a KMS provider keeps between calls inside the plugin: the `ibmcloud:*` settings from
 * configure() and one token manager per (IAM endpoint, API key), so every call as the same service
 * ID shares one cached token.
 */
export class KmsConnections {
    private explicit: ExplicitCloudSettings = {};
    private readonly tokenPool = new TokenManagerPool();

    /** From a provider's `configure(req)`. */
    configure(req: ProviderConfigSource): void {
        this.explicit = settingsFromProviderConfig(req);
        this.tokenPool.clear();
    }

    /** The region the endpoint is derived from when neither region nor endpoint is given. */
    defaultRegion(): string {
        return resolveCloudEndpoints(this.explicit).region;
    }

    /** Where `ref` lives (and `keyRing`, if any). */
    target(ref: KmsInstanceRef, keyRing?: string): KmsTarget {
        return compact({
            instanceId: ref.instanceId,
            service: ref.service ?? DEFAULT_KMS_SERVICE,
            endpoint: kmsEndpointOf(this.explicit, ref),
            keyRing,
        }) as KmsTarget;
    }

    /** The token manager of `apiKey` (the service ID's), shared by every call with that key. */
    tokensFor(apiKey: string, what = "the resource"): IamTokenManager {
        if (typeof apiKey !== "string" || apiKey === "") {
            throw new Error(`${what}: no apiKey in state; pass the service ID's API key as apiKey and run \`pulumi up\``);
        }
        const settings = resolveCloudSettings({ ...this.explicit, apiKey });
        return this.tokenPool.get(apiKey, settings.iamEndpoint, httpOptionsFromSettings(settings));
    }

    /** A KMS client for `target` that authenticates with `tokens`. */
    client(target: KmsTarget, tokens: IamTokenManager): KmsClient {
        return new KmsClient({
            endpoint: target.endpoint,
            instanceId: target.instanceId,
            keyRing: target.keyRing,
            tokenSource: () => tokens.getToken(),
            httpClient: tokens.http,
        });
    }
}

// ---------- refusals ----------

/** IAM refused to exchange the API key for a token (deleted, disabled, expired or unknown key). */
export function isApiKeyRejected(err: unknown): boolean {
    const e = err as { name?: unknown; operation?: unknown; status?: unknown } | undefined;
    return !!e && e.name === "IbmCloudError" && e.operation === "get IAM access token" && (e.status === 400 || e.status === 401);
}

/** KMS refused the caller (no policy on the instance, or one that has not applied yet). */
export function isKmsUnauthorized(err: unknown): boolean {
    const e = err as { name?: unknown; operation?: unknown; status?: unknown } | undefined;
    return !!e && e.name === "IbmCloudError" && e.operation !== "get IAM access token" && (e.status === 401 || e.status === 403);
}

/** Who holds `tokens`, for messages: the token's `iam_id`, else `fallback`. */
export async function holderOf(tokens: IamTokenManager, fallback: string): Promise<string> {
    try {
        return (await tokens.getTokenInfo()).iamId || fallback;
    } catch {
        return fallback;
    }
}
