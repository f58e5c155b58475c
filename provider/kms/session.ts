// What a KMS provider keeps between calls inside the plugin, and how it reaches an instance as a given
// identity: settings from configure(), one token manager per API key, and a KmsClient per call.
import {
    EndpointOrigin,
    ExplicitCloudSettings,
    httpOptionsFromSettings,
    kmsEndpointOrigin,
    ProviderConfigSource,
    resolveCloudEndpoints,
    resolveCloudSettings,
    settingsFromProviderConfig,
} from "../../client/config";
import { KmsClient } from "../../client/kmsClient";
import { computeResourceTokenManager } from "../../client/profileTokens";
import { IamTokenManager, TokenManagerPool } from "../../client/tokenManager";
import { compact } from "../core/props";
import { kmsEndpointOf, KmsInstanceRef, KmsInstance } from "./endpoint";
import { DEFAULT_KMS_SERVICE, KmsInstanceFields, instanceInputsOf } from "./instance";

/**
 * What a KMS provider keeps between calls inside the plugin: the `ibmcloud:*` settings from
 * configure() and one token manager per (IAM endpoint, API key), so every call as the same service
 * ID shares one cached token.
 */
export class KmsSession {
    private explicit: ExplicitCloudSettings = {};
    private readonly tokenPool = new TokenManagerPool();
    private readonly profilePool = new Map<string, IamTokenManager>();

    /** From a provider's `configure(req)`. */
    configure(req: ProviderConfigSource): void {
        this.explicit = settingsFromProviderConfig(req);
        this.tokenPool.clear();
        this.profilePool.clear();
    }

    /** The region the endpoint is derived from when neither region nor endpoint is given. */
    defaultRegion(): string {
        return resolveCloudEndpoints(this.explicit).region;
    }

    /** Where `ref` lives (and `keyRing`, if any). */
    target(ref: KmsInstanceRef, keyRing?: string): KmsInstance {
        const endpoint = kmsEndpointOf(this.explicit, ref);
        return compact({
            instanceId: ref.instanceId,
            service: ref.service ?? DEFAULT_KMS_SERVICE,
            endpoint,
            keyRing,
            origin: this.originOf(ref, endpoint),
        }) as KmsInstance;
    }

    /** Where an endpoint came from, for connection errors; undefined when that cannot be told (never an error of its own). */
    private originOf(ref: KmsInstanceRef, endpoint: string): EndpointOrigin | undefined {
        try {
            const o = kmsEndpointOrigin(resolveCloudEndpoints(this.explicit), {
                service: ref.service ?? DEFAULT_KMS_SERVICE,
                instanceId: ref.instanceId,
                region: ref.region,
                given: ref.endpoint,
            });
            return o.url === endpoint ? o : undefined;
        } catch {
            return undefined;
        }
    }

    /**
     * The token manager of trusted profile `profileId` from the compute-resource token in `crTokenFile` (read again for
     * every token, as projected tokens rotate), shared by every call with the same pair.
     */
    profileTokensFor(profileId: string, crTokenFile: string): IamTokenManager {
        const endpoints = resolveCloudEndpoints(this.explicit);
        const key = `${endpoints.iamEndpoint} ${profileId} ${crTokenFile}`;
        let m = this.profilePool.get(key);
        if (!m) {
            m = computeResourceTokenManager(
                { profileId, crTokenFilename: crTokenFile, iamEndpoint: endpoints.iamEndpoint, http: httpOptionsFromSettings(endpoints) },
                // The resource's own arguments gave these.
                { who: "the trusted profile's token", profileId: "profileId", crTokenFile: "crTokenFile" },
            );
            this.profilePool.set(key, m);
        }
        return m;
    }

    /** The token manager of `apiKey` (the service ID's), shared by every call with that key. */
    tokensFor(apiKey: string, what = "the resource"): IamTokenManager {
        if (typeof apiKey !== "string" || apiKey === "") {
            throw new Error(`${what}: no apiKey in state; pass the service ID's API key as apiKey and run \`pulumi up\``);
        }
        const settings = resolveCloudSettings({ ...this.explicit, apiKey });
        return this.tokenPool.get(apiKey, settings.iamEndpoint, httpOptionsFromSettings(settings));
    }

    /** Where a resource lives according to its (new) inputs: endpoint given, else derived from region and settings. */
    targetOf(inputs: KmsInstanceFields, keyRing?: string): KmsInstance {
        return this.target({ instanceId: String(inputs.instanceId ?? ""), service: inputs.service, region: inputs.region, endpoint: inputs.endpoint }, keyRing);
    }

    /** For an update: with neither endpoint nor region given, the endpoint derived at create stays. */
    targetForUpdate(news: KmsInstanceFields, storedEndpoint: string | undefined, keyRing?: string): KmsInstance {
        const t = this.targetOf(news, keyRing);
        if (news.endpoint === undefined && news.region === undefined && storedEndpoint !== undefined && storedEndpoint !== t.endpoint) {
            const { origin: _derivedOrigin, ...rest } = t;
            return { ...rest, endpoint: storedEndpoint };
        }
        return t;
    }

    /** Where a stored resource lives: the endpoint recorded in state (a static get() may give only region or endpoint). */
    targetFromState(p: KmsInstanceFields, keyRing?: string): KmsInstance {
        if (p.endpoint === undefined) return this.targetOf(instanceInputsOf(p), keyRing);
        return compact({ instanceId: String(p.instanceId ?? ""), service: p.service ?? DEFAULT_KMS_SERVICE, endpoint: p.endpoint, keyRing }) as KmsInstance;
    }

    /** The region recorded in outputs: the given one, else (no endpoint given) the configured one the endpoint was derived from. */
    regionUsed(inputs: KmsInstanceFields): string | undefined {
        if (inputs.region !== undefined) return inputs.region;
        if (inputs.endpoint !== undefined) return undefined;
        return this.defaultRegion();
    }

    /** A KMS client for `target` that authenticates with `tokens` (a token refused with 401 is replaced once). */
    client(target: KmsInstance, tokens: IamTokenManager): KmsClient {
        return KmsClient.withTokens(tokens, target);
    }
}
