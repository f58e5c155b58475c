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

export class CloudSession {
    private explicit: ExplicitCloudSettings & ProfileLoginSettings = {};
    private resolved: CloudSettings | undefined;
    private client: IamClient | undefined;

    /** Called from a provider's `configure(req)`: reads `ibmcloud:*` stack config. */
    configure(req: ProviderConfigSource): void {
        this.explicit = settingsFromProviderConfig(req);
        this.resolved = undefined;
        this.client = undefined;
    }

    /** Settings from stack config, then IBM's environment conventions; throws an InputError naming the missing setting. */
    settings(): CloudSettings {
        if (!this.resolved) this.resolved = resolveCloudSettings(this.explicit);
        return this.resolved;
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
                const tokenManager = computeResourceTokenManager({
                    profileId: login.profileId,
                    profileName: login.profileName,
                    profileCrn: login.profileCrn,
                    crTokenFilename: login.crTokenFile,
                    crToken: login.crToken,
                    iamEndpoint: endpoints.iamEndpoint,
                    http: httpOptionsFromSettings(endpoints),
                });
                this.client = new IamClient({ tokenManager });
            } else {
                this.client = IamClient.fromSettings(this.settings());
            }
        }
        return this.client;
    }
}
