// What every dynamic provider holds between calls inside the plugin: the settings its `configure()`
// received from stack config, and one IAM client (so one cached token) built from them on first use.
// Credentials never travel in the serialized closure or in resource inputs; they arrive here.
import {
    CloudSettings,
    ExplicitCloudSettings,
    httpOptionsFromSettings,
    ProfileLoginSettings,
    ProviderConfigSource,
    resolveCloudEndpoints,
    resolveCloudSettings,
    resolveProfileLogin,
    settingsFromProviderConfig,
} from "../../client/config";
import { IamClient } from "../../client/iamClient";
import { computeResourceTokenManager } from "../../client/profileTokens";
import type { CheckFailure } from "../check/validate";

export class CloudSession {
    private explicit: ExplicitCloudSettings & ProfileLoginSettings = {};
    private resolved: CloudSettings | undefined;
    private client: IamClient | undefined;
    private configured = false;

    /** Called from a provider's `configure(req)`: reads `ibmcloud:*` stack config. */
    configure(req: ProviderConfigSource): void {
        this.configured = true;
        this.explicit = settingsFromProviderConfig(req);
        this.resolved = undefined;
        this.client = undefined;
    }

    /** Settings from stack config, then IBM's environment conventions; throws an InputError naming the missing setting. */
    settings(): CloudSettings {
        if (!this.resolved) this.resolved = resolveCloudSettings(this.explicit);
        return this.resolved;
    }

    /** configure() has run (the engine always runs it first; a provider called directly, in a unit test, has no settings). */
    get isConfigured(): boolean {
        return this.configured;
    }

    /**
     * The deployer's API key, the secret recovery marks are derived from (provider/core/recoveryMark.ts);
     * undefined for a deployer logged in as a trusted profile, whose creates carry no mark.
     */
    deployerApiKey(): string | undefined {
        if (resolveProfileLogin(this.explicit)) return undefined;
        return this.settings().apiKey;
    }

    /**
     * For `check`: what is missing or wrong in the deployer's settings (no API key anywhere, an endpoint
     * that is no URL), as a failure of the resource rather than of one argument, so `pulumi preview`
     * stops on it before `up` creates anything. Never a value: the messages name settings only.
     */
    credentialFailures(): CheckFailure[] {
        // The engine configures every provider before its first check; one called directly (a unit test) has no settings to judge.
        if (!this.configured) return [];
        try {
            // a deployer logging in as a trusted profile has no API key: only its endpoints are judged here
            if (resolveProfileLogin(this.explicit)) resolveCloudEndpoints(this.explicit);
            else this.settings();
            return [];
        } catch (err) {
            if ((err as Error)?.name === "InputError") return [{ property: "", reason: (err as Error).message }];
            throw err;
        }
    }

    /**
     * The deployer's IAM client; its token is cached and refreshed for the life of the plugin. With no API key and a
     * trusted profile configured (`resolveProfileLogin`), the deployer is that profile, from a compute-resource token.
     */
    iam(): IamClient {
        if (!this.client) {
            const login = resolveProfileLogin(this.explicit);
            if (login) {
                const endpoints = resolveCloudEndpoints(this.explicit);
                const tokenManager = computeResourceTokenManager(
                    {
                        profileId: login.profileId,
                        profileName: login.profileName,
                        profileCrn: login.profileCrn,
                        crTokenFilename: login.crTokenFile,
                        crToken: login.crToken,
                        iamEndpoint: endpoints.iamEndpoint,
                        http: httpOptionsFromSettings(endpoints),
                    },
                    { who: "the deployer's trusted-profile login", ...login.settingNames },
                );
                this.client = new IamClient({ tokenManager });
            } else {
                this.client = IamClient.fromSettings(this.settings());
            }
        }
        return this.client;
    }
}
