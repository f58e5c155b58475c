// The names the package's type declarations export, entry point by entry point, against the lists below: a helper
// exported for a test (or by an `export *`) shows up here as a new public name, and the test fails until it is
// moved to an internal module (one package.json `exports` does not name) or knowingly added. The entry points are
// what a consumer's TypeScript can reach: the root, ./client, ./emulator and the provider modules `exports` names
// for state; the declarations are the ones `npm pack` ships (checked against its file list).
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type * as TS from "typescript";
import { REPO_ROOT } from "../scripts/lib/repoRoot";

/** ./client (and the root, which re-exports it). */
const CLIENT = [
    "AccessTokenInfo",
    "AccessTokenProvider",
    "AccessTokenProviderOptions",
    "ActionWhenLeaked",
    "ApiKey",
    "ApiKeyCreateOptions",
    "AssumedProfileTokenProviderOptions",
    "BackoffSchedule",
    "CLIENT_NAME",
    "CLIENT_VERSION",
    "CONFIG_KEYS",
    "ClaimRule",
    "ClaimRuleBody",
    "ClaimRuleCondition",
    "ClaimRuleType",
    "CloudEndpoints",
    "CloudSettings",
    "ComputeResourceTokenProviderOptions",
    "ComputeResourceType",
    "CreateApiKeyBody",
    "CreateKeyInput",
    "CreateProfileLinkBody",
    "CreateServiceIdBody",
    "CreateTrustedProfileBody",
    "DEFAULT_CONNECT_TIMEOUT_MS",
    "DEFAULT_CR_TOKEN_FILES",
    "DEFAULT_METADATA_ENDPOINT",
    "DEFAULT_REGION",
    "DEFAULT_RETRY_POLICY",
    "DEFAULT_TIMEOUT_MS",
    "DataKey",
    "EndpointOrigin",
    "EntityCreateOptions",
    "ExplicitCloudSettings",
    "HttpClient",
    "HttpClientOptions",
    "HttpMethod",
    "HttpRequest",
    "HttpResponse",
    "IBM_PROVIDER_CONFIG_KEYS",
    "IamClient",
    "IamClientOptions",
    "IamTokenManager",
    "IamTokenManagerOptions",
    "IbmCloudError",
    "IbmCloudErrorInit",
    "InputError",
    "KMS_KEY_TYPE",
    "KMS_POLICY_TYPE",
    "KmsActionOptions",
    "KmsAuthHeaders",
    "KmsBytes",
    "KmsCallExtra",
    "KmsClient",
    "KmsClientOptions",
    "KmsClientTarget",
    "KmsEndpointArgs",
    "KmsErrorReason",
    "KmsInstancePolicies",
    "KmsKey",
    "KmsKeyAlias",
    "KmsKeyPolicies",
    "KmsKeyResource",
    "KmsKeyRing",
    "KmsKeyRingResource",
    "KmsKeyVersion",
    "KmsRegistration",
    "KmsService",
    "ListPoliciesFilter",
    "PLUGIN_CONFIG_KEYS",
    "PRIVATE_IAM_ENDPOINT",
    "PUBLIC_IAM_ENDPOINT",
    "ParsedErrorBody",
    "Policy",
    "PolicyAttribute",
    "PolicyBody",
    "PolicyWithEtag",
    "ProfileIdentity",
    "ProfileIdentityBody",
    "ProfileIdentityType",
    "ProfileLink",
    "ProfileLinkTarget",
    "ProfileLogin",
    "ProfileLoginSettings",
    "ProviderConfigSource",
    "QueryValue",
    "RetryInfo",
    "RetryPolicy",
    "RewrapResult",
    "Role",
    "RoleList",
    "ServiceId",
    "ServiceIdEntity",
    "TokenInfo",
    "TokenManagerPool",
    "TokenRequester",
    "TrustedProfileClient",
    "TrustedProfileEntity",
    "UnwrapResult",
    "UpdateApiKeyBody",
    "UpdateServiceIdBody",
    "UpdateTrustedProfileBody",
    "Visibility",
    "VpcInstanceTokenProviderOptions",
    "WaitUntilAuthorizedOptions",
    "aadOf",
    "accessTokenProvider",
    "apiKeySchema",
    "appendErrorNote",
    "assumedProfileTokenProvider",
    "bytesIn",
    "bytesOut",
    "checkPluginConfig",
    "claimRuleSchema",
    "clip",
    "collectionSchema",
    "computeResourceTokenManager",
    "computeResourceTokenProvider",
    "connectRetries",
    "decodeJwtPayload",
    "envelope",
    "hideField",
    "holds",
    "httpOptionsFromSettings",
    "iamEndpointFor",
    "isEntityLocked",
    "isEtagMismatch",
    "isNotFound",
    "isPolicyConflict",
    "isRetryableStatus",
    "keySchema",
    "kmsEndpointFor",
    "kmsEndpointFromSettings",
    "kmsEndpointOrigin",
    "missingApiKeyError",
    "newApiKeyValue",
    "parseErrorBody",
    "policySchema",
    "profileIdentitySchema",
    "profileLinkSchema",
    "providerConfigFromPlugin",
    "providerOf",
    "queryParamOf",
    "redact",
    "requireEtag",
    "resolveCloudEndpoints",
    "resolveCloudSettings",
    "resolveProfileLogin",
    "roleSchema",
    "sameClaimRule",
    "sameGrant",
    "sameLinkTarget",
    "serviceIamId",
    "serviceIdSchema",
    "settingsFromProviderConfig",
    "trustedProfileSchema",
    "validateEndpoint",
    "versionOf",
    "vpcInstanceTokenProvider",
];

/** Each resource module (package.json exports names them for the providers in state). */
const RESOURCE_MODULES: Record<string, string[]> = {
    serviceId: ["ServiceId", "ServiceIdArgs", "ServiceIdInputs", "ServiceIdOutputs", "checkServiceIdInputs", "serviceIdProvider"],
    serviceApiKey: ["ServiceApiKey", "ServiceApiKeyArgs", "ServiceApiKeyInputs", "ServiceApiKeyOutputs", "checkServiceApiKeyInputs", "serviceApiKeyProvider"],
    accessPolicy: [
        "AccessPolicy",
        "AccessPolicyArgs",
        "AccessPolicyInputs",
        "AccessPolicyOutputs",
        "AccessPolicyProvider",
        "AccessPolicyResource",
        "AccessPolicyResourceArgs",
        "accessPolicyProvider",
        "checkAccessPolicyInputs",
    ],
    kmsKey: ["KmsKey", "KmsKeyArgs", "KmsKeyInputs", "KmsKeyLookup", "KmsKeyOutputs", "KmsKeyProvider", "kmsKeyProvider"],
    kmsAccessReady: [
        "DEFAULT_ACCESS_TIMEOUT_SECONDS",
        "KmsAccessReady",
        "KmsAccessReadyArgs",
        "KmsAccessReadyOutputs",
        "KmsAccessReadyProvider",
        "kmsAccessReadyProvider",
    ],
    kmsKeyRing: ["KmsKeyRing", "KmsKeyRingArgs", "KmsKeyRingLookup", "KmsKeyRingOutputs", "KmsKeyRingProvider", "kmsKeyRingProvider"],
    authorizationPolicy: [
        "AuthorizationPolicy",
        "AuthorizationPolicyArgs",
        "AuthorizationPolicyFields",
        "AuthorizationPolicyInputs",
        "AuthorizationPolicyOutputs",
        "AuthorizationPolicyProvider",
        "authorizationPolicyProvider",
        "checkAuthorizationPolicyInputs",
    ],
    trustedProfile: [
        "TrustedProfile",
        "TrustedProfileArgs",
        "TrustedProfileInputs",
        "TrustedProfileOutputs",
        "checkTrustedProfileInputs",
        "trustedProfileProvider",
    ],
    trustedProfileLink: [
        "TrustedProfileLink",
        "TrustedProfileLinkArgs",
        "TrustedProfileLinkInputs",
        "TrustedProfileLinkOutputs",
        "checkTrustedProfileLinkInputs",
        "trustedProfileLinkProvider",
    ],
    trustedProfileClaimRule: [
        "ClaimOperator",
        "TrustedProfileClaimRule",
        "TrustedProfileClaimRuleArgs",
        "TrustedProfileClaimRuleCondition",
        "TrustedProfileClaimRuleConditionArgs",
        "TrustedProfileClaimRuleInputs",
        "TrustedProfileClaimRuleOutputs",
        "checkTrustedProfileClaimRuleInputs",
        "trustedProfileClaimRuleProvider",
    ],
    trustedProfileIdentity: [
        "TrustedProfileIdentity",
        "TrustedProfileIdentityArgs",
        "TrustedProfileIdentityInputs",
        "TrustedProfileIdentityOutputs",
        "checkTrustedProfileIdentityInputs",
        "trustedProfileIdentityProvider",
    ],
};

/** The root adds the components and what every resource class implements. */
const ROOT_ONLY = ["AccessTokenInfoOutput", "KmsAccess", "KmsAccessArgs", "KmsAccessKeyArgs", "KmsAccessKeyRingArgs", "KmsInstanceArgs", "OutputsOf"];

const EMULATOR = ["EmulatorOptions", "EmulatorStats", "FaultKind", "FaultRule", "KmsInstanceSpec", "RateLimit", "RunningEmulator", "startEmulator"];

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
    exports: Record<string, string | { types?: string; default?: string }>;
};

/** Every declaration file a consumer's TypeScript reaches through `exports`, by the subpath that reaches it. */
function entryPoints(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [subpath, target] of Object.entries(pkg.exports)) {
        const file = typeof target === "string" ? target : (target.types ?? target.default ?? "");
        if (file.endsWith(".d.ts")) out.set(subpath, path.normalize(file));
        else if (file.endsWith(".js")) out.set(subpath, path.normalize(file.replace(/\.js$/, ".d.ts")));
    }
    return out;
}

function exportedNames(files: string[]): Map<string, string[]> {
    const ts: typeof TS = require("typescript");
    const program = ts.createProgram(
        files.map((f) => path.join(REPO_ROOT, f)),
        { noEmit: true, skipLibCheck: true, types: ["node"] },
    );
    const checker = program.getTypeChecker();
    const out = new Map<string, string[]>();
    for (const f of files) {
        const source = program.getSourceFile(path.join(REPO_ROOT, f));
        assert.ok(source, `${f} is built (npm run build)`);
        const symbol = checker.getSymbolAtLocation(source);
        out.set(
            f,
            symbol
                ? checker
                      .getExportsOfModule(symbol)
                      .map((s) => s.name)
                      .sort()
                : [],
        );
    }
    return out;
}

describe("package: the names its declarations export", function () {
    this.timeout(120_000);

    it("npm pack ships every declaration file an entry point reaches", () => {
        // --ignore-scripts: the file list, without prepack's build (dist/ is built already)
        const [packed] = JSON.parse(
            execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }),
        ) as Array<{ files: Array<{ path: string }> }>;
        const shipped = new Set(packed.files.map((f) => f.path));
        for (const file of entryPoints().values()) assert.ok(shipped.has(file), `${file} is in the tarball`);
    });

    it("each entry point exports exactly its listed names", () => {
        const entries = entryPoints();
        const names = exportedNames([...new Set(entries.values())]);
        const expected = new Map<string, string[]>([
            ["dist/index.d.ts", [...new Set([...CLIENT, ...Object.values(RESOURCE_MODULES).flat(), ...ROOT_ONLY])].sort()],
            ["dist/client/index.d.ts", [...CLIENT].sort()],
            ["dist/emulator/index.d.ts", [...EMULATOR].sort()],
        ]);
        for (const [module, list] of Object.entries(RESOURCE_MODULES)) {
            expected.set(path.join("dist", "provider", `${module}.d.ts`), [...list].sort());
            // the module-shaped providers export the provider as their whole export (`export =`): no names
            expected.set(path.join("dist", "provider", "module", `${module}.d.ts`), []);
        }
        for (const [subpath, file] of entries) {
            if (!file.endsWith(".d.ts") || subpath === "./package.json") continue;
            const want = expected.get(file);
            assert.ok(want, `${subpath} (${file}) has a list in this test`);
            const got = names.get(file) ?? [];
            const added = got.filter((n) => !want.includes(n));
            const removed = want.filter((n) => !got.includes(n));
            assert.deepStrictEqual(
                { added, removed },
                { added: [], removed: [] },
                `${file}: a new name is public API (or a helper to move into an internal module); a removed one breaks users`,
            );
        }
    });
});
