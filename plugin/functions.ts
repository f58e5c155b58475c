// The plugin's functions (served by Invoke): the same token path the KmsAccess component and applications use
// (client/accessToken.ts), so `fn::invoke` in YAML or any SDK gets a token minted exactly as TypeScript does.
import * as crypto from "crypto";
import { z } from "zod";
import { AccessTokenProvider, accessTokenProvider } from "../client/accessToken";
import { CloudEndpoints } from "../client/config";
import { containsUnknown } from "../provider/core/props";
import { PACKAGE } from "./resources";

type Props = Record<string, unknown>;

export interface InvokeResult {
    outputs?: Props;
    failures?: Array<{ property: string; reason: string }>;
}

export interface ServedFunction {
    name: string;
    /** Outputs returned as secrets. */
    secretOutputs: readonly string[];
    /** Inputs that are secrets. */
    secretInputs: readonly string[];
    invoke(args: Props, endpoints: () => CloudEndpoints): Promise<InvokeResult>;
}

/** Inputs of getAccessToken (the schema's inputs are derived from it). */
export function getAccessTokenArgsSchema() {
    return z
        .object({
            /** The API key to exchange for a token: a service ID's key, e.g. the `apikey` output of a ServiceApiKey. */
            apiKey: z
                .string({ error: "apiKey must be a string: the API key to exchange, e.g. the apikey output of a ServiceApiKey" })
                .min(1, { error: "apiKey must not be empty; pass the apikey output of a ServiceApiKey" }),
        })
        .strict();
}

/** Outputs of getAccessToken. */
export interface GetAccessTokenResult {
    /** An IAM access token of the key's identity, without the `Bearer ` prefix (secret). */
    accessToken: string;
    /** Epoch seconds after which the token is no longer valid (about an hour after it was minted). */
    expiration: number;
    /** The identity the token stands for, e.g. `iam-ServiceId-<uuid>`. */
    iamId: string;
    /** The account the identity belongs to. */
    accountId: string;
}

// One token provider per key and IAM endpoint for the life of the plugin: repeated invokes share one cached token.
const tokenProviders = new Map<string, AccessTokenProvider>();

const getAccessToken: ServedFunction = {
    name: "getAccessToken",
    secretOutputs: ["accessToken"],
    secretInputs: ["apiKey"],
    async invoke(args, endpoints) {
        const parsed = getAccessTokenArgsSchema().safeParse(args);
        if (!parsed.success) {
            return {
                failures: parsed.error.issues.map((i) => ({
                    property: String(i.path[0] ?? "apiKey"),
                    reason: i.code === "unrecognized_keys" ? `getAccessToken takes only apiKey (not ${i.keys.join(", ")})` : i.message,
                })),
            };
        }
        if (containsUnknown(parsed.data.apiKey)) return { outputs: {} };
        const { iamEndpoint, visibility } = endpoints();
        const cacheKey = crypto.createHash("sha256").update(`${iamEndpoint}\n${parsed.data.apiKey}`).digest("hex");
        let tokens = tokenProviders.get(cacheKey);
        if (!tokens) {
            tokens = accessTokenProvider({ apiKey: parsed.data.apiKey, iamEndpoint, visibility });
            tokenProviders.set(cacheKey, tokens);
        }
        const info = await tokens.getTokenInfo();
        const result: GetAccessTokenResult = {
            accessToken: info.accessToken,
            expiration: info.expiration,
            iamId: info.iamId ?? "",
            accountId: info.accountId ?? "",
        };
        return { outputs: { ...result } };
    },
};

/** `ibmcloud-iam:index:getAccessToken` → what serves it. */
export const FUNCTIONS: ReadonlyMap<string, ServedFunction> = new Map([getAccessToken].map((f) => [`${PACKAGE}:index:${f.name}`, f]));
