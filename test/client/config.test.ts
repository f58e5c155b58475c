import * as assert from "assert";
import { resolveCloudSettings, settingsFromProviderConfig, kmsEndpointFor, kmsEndpointFromSettings, httpOptionsFromSettings, InputError } from "../../client";

const KEY = "k".repeat(44);

describe("config: resolveCloudSettings", () => {
    it("uses stack config over every environment variable", () => {
        const s = resolveCloudSettings(
            { apiKey: "explicit-key-000000", iamEndpoint: "https://iam.test.cloud.ibm.com", region: "eu-de", visibility: "private" },
            {
                IC_API_KEY: "env-ic",
                IBMCLOUD_API_KEY: "env-ibmcloud",
                IBMCLOUD_IAM_API_ENDPOINT: "https://env.example.com",
                IC_REGION: "jp-tok",
                IC_VISIBILITY: "public",
            },
        );
        assert.strictEqual(s.apiKey, "explicit-key-000000");
        assert.strictEqual(s.iamEndpoint, "https://iam.test.cloud.ibm.com");
        assert.strictEqual(s.region, "eu-de");
        assert.strictEqual(s.visibility, "private");
    });

    it("takes IC_API_KEY before IBMCLOUD_API_KEY, and IBMCLOUD_API_KEY alone", () => {
        assert.strictEqual(resolveCloudSettings({}, { IC_API_KEY: "from-ic", IBMCLOUD_API_KEY: "from-ibmcloud" }).apiKey, "from-ic");
        assert.strictEqual(resolveCloudSettings({}, { IBMCLOUD_API_KEY: "from-ibmcloud" }).apiKey, "from-ibmcloud");
        // Blank values count as unset.
        assert.strictEqual(resolveCloudSettings({ apiKey: "  " }, { IC_API_KEY: "", IBMCLOUD_API_KEY: "from-ibmcloud" }).apiKey, "from-ibmcloud");
    });

    it("defaults to the public IAM endpoint and us-south, and derives the private endpoint from visibility", () => {
        const pub = resolveCloudSettings({}, { IC_API_KEY: KEY });
        assert.deepStrictEqual([pub.iamEndpoint, pub.region, pub.visibility], ["https://iam.cloud.ibm.com", "us-south", "public"]);
        assert.strictEqual(resolveCloudSettings({}, { IC_API_KEY: KEY, IBMCLOUD_VISIBILITY: "private" }).iamEndpoint, "https://private.iam.cloud.ibm.com");
        assert.strictEqual(resolveCloudSettings({}, { IC_API_KEY: KEY, IC_VISIBILITY: "public-and-private" }).iamEndpoint, "https://iam.cloud.ibm.com");
        // An explicit endpoint wins over the derived one.
        assert.strictEqual(
            resolveCloudSettings({}, { IC_API_KEY: KEY, IC_VISIBILITY: "private", IBMCLOUD_IAM_API_ENDPOINT: "https://iam.test.cloud.ibm.com/" }).iamEndpoint,
            "https://iam.test.cloud.ibm.com",
        );
    });

    it("reads IC_REGION before IBMCLOUD_REGION", () => {
        assert.strictEqual(resolveCloudSettings({}, { IC_API_KEY: KEY, IC_REGION: "eu-gb", IBMCLOUD_REGION: "jp-tok" }).region, "eu-gb");
        assert.strictEqual(resolveCloudSettings({}, { IC_API_KEY: KEY, IBMCLOUD_REGION: "jp-tok" }).region, "jp-tok");
    });

    it("a missing API key names the config key, the env var and the command that fixes it", () => {
        assert.throws(
            () => resolveCloudSettings({}, {}),
            (err: unknown) => {
                assert.ok(err instanceof InputError);
                assert.strictEqual(err.field, "ibmcloud:apiKey");
                assert.match(err.message, /IC_API_KEY/);
                assert.match(err.message, /pulumi config set --secret ibmcloud:apiKey/);
                return true;
            },
        );
    });

    it("rejects bad endpoints, visibilities and regions, naming the setting", () => {
        const bad = (explicit: object, env: object, field: RegExp) =>
            assert.throws(
                () => resolveCloudSettings(explicit, { IC_API_KEY: KEY, ...env }),
                (e: unknown) => e instanceof InputError && field.test(e.field),
            );
        bad({ iamEndpoint: "not a url" }, {}, /ibmcloud:iamEndpoint/);
        bad({}, { IBMCLOUD_IAM_API_ENDPOINT: "http://iam.cloud.ibm.com" }, /IBMCLOUD_IAM_API_ENDPOINT/); // clear text to a remote host
        bad({ iamEndpoint: "https://user:pw@iam.cloud.ibm.com" }, {}, /iamEndpoint/);
        bad({ kmsEndpoint: "https://x.example.com/?a=b" }, {}, /kmsEndpoint/);
        bad({ visibility: "internal" }, {}, /ibmcloud:visibility/);
        bad({}, { IC_VISIBILITY: "everywhere" }, /IC_VISIBILITY/);
        bad({}, { IBMCLOUD_REGION: "Dallas!" }, /IBMCLOUD_REGION/);
        bad({ timeout: "soon" }, {}, /ibmcloud:timeout/);
        bad({}, { IC_TIMEOUT: "0" }, /IC_TIMEOUT/);
        bad({}, { IBMCLOUD_TIMEOUT: "-5" }, /IBMCLOUD_TIMEOUT/);
    });

    it("reads the request timeout from stack config, then IC_TIMEOUT, then IBMCLOUD_TIMEOUT; unset by default", () => {
        assert.strictEqual(resolveCloudSettings({}, { IC_API_KEY: KEY }).timeoutSeconds, undefined);
        assert.strictEqual(resolveCloudSettings({ timeout: "7" }, { IC_API_KEY: KEY, IC_TIMEOUT: "9" }).timeoutSeconds, 7);
        assert.strictEqual(resolveCloudSettings({}, { IC_API_KEY: KEY, IC_TIMEOUT: "9", IBMCLOUD_TIMEOUT: "11" }).timeoutSeconds, 9);
        assert.strictEqual(resolveCloudSettings({}, { IC_API_KEY: KEY, IBMCLOUD_TIMEOUT: "2.5" }).timeoutSeconds, 2.5);
        assert.deepStrictEqual(httpOptionsFromSettings({ timeoutSeconds: 2.5 }), { timeoutMs: 2500 });
        assert.deepStrictEqual(httpOptionsFromSettings({}), {});
    });

    it("accepts plain http only for loopback (the local emulator)", () => {
        assert.strictEqual(resolveCloudSettings({ iamEndpoint: "http://127.0.0.1:4567" }, { IC_API_KEY: KEY }).iamEndpoint, "http://127.0.0.1:4567");
        assert.strictEqual(resolveCloudSettings({ iamEndpoint: "http://localhost:4567/" }, { IC_API_KEY: KEY }).iamEndpoint, "http://localhost:4567");
    });

    it("keeps the KMS overrides apart: explicit for both services, KP and HPCS env per service", () => {
        const env = { IC_API_KEY: KEY, IBMCLOUD_KP_API_ENDPOINT: "https://kp.example.com", IBMCLOUD_HPCS_API_ENDPOINT: "https://hpcs.example.com:8443" };
        const s = resolveCloudSettings({}, env);
        assert.strictEqual(kmsEndpointFromSettings(s, { service: "kms", instanceId: "abc" }), "https://kp.example.com");
        assert.strictEqual(kmsEndpointFromSettings(s, { service: "hs-crypto", instanceId: "0123abcd-0000" }), "https://hpcs.example.com:8443");
        const t = resolveCloudSettings({ kmsEndpoint: "http://127.0.0.1:9999" }, env);
        assert.strictEqual(kmsEndpointFromSettings(t, { service: "kms", instanceId: "abc" }), "http://127.0.0.1:9999");
        assert.strictEqual(kmsEndpointFromSettings(t, { service: "hs-crypto", instanceId: "0123abcd-0000" }), "http://127.0.0.1:9999");
    });
});

describe("config: settingsFromProviderConfig", () => {
    it("reads the ibmcloud:* keys from a configure() request and omits absent ones", () => {
        const values: { [k: string]: string } = {
            "ibmcloud:apiKey": "cfg-key",
            "ibmcloud:region": "eu-de",
            "ibmcloud:iamEndpoint": "",
            "ibmcloud:timeout": "12",
        };
        const explicit = settingsFromProviderConfig({ config: { get: (k: string) => values[k] } });
        assert.deepStrictEqual(explicit, { apiKey: "cfg-key", region: "eu-de", timeout: "12" });
        assert.ok(!("iamEndpoint" in explicit), "empty strings are treated as unset, not as an endpoint");
        // Stack config then wins over env.
        assert.strictEqual(resolveCloudSettings(explicit, { IC_API_KEY: "env", IC_REGION: "jp-tok" }).region, "eu-de");
    });
});

describe("config: kmsEndpointFor", () => {
    const id = "1b2c3d4e-0000-4000-8000-00000000abcd";
    it("builds Key Protect and HPCS endpoints for public and private networks", () => {
        assert.strictEqual(kmsEndpointFor({ service: "kms", instanceId: id, region: "us-south" }), "https://us-south.kms.cloud.ibm.com");
        assert.strictEqual(
            kmsEndpointFor({ service: "kms", instanceId: id, region: "eu-de", visibility: "private" }),
            "https://private.eu-de.kms.cloud.ibm.com",
        );
        assert.strictEqual(kmsEndpointFor({ service: "hs-crypto", instanceId: id, region: "us-east" }), `https://${id}.api.us-east.hs-crypto.appdomain.cloud`);
        assert.strictEqual(
            kmsEndpointFor({ service: "hs-crypto", instanceId: id, region: "us-east", visibility: "private" }),
            `https://${id}.api.private.us-east.hs-crypto.appdomain.cloud`,
        );
        assert.strictEqual(kmsEndpointFor({ service: "hs-crypto", instanceId: id }), `https://${id}.api.us-south.hs-crypto.appdomain.cloud`);
    });
    it("an override wins and is validated", () => {
        assert.strictEqual(kmsEndpointFor({ service: "hs-crypto", instanceId: id, override: "http://127.0.0.1:3000/" }), "http://127.0.0.1:3000");
        assert.throws(() => kmsEndpointFor({ service: "kms", instanceId: id, override: "ftp://x" }), InputError);
    });
    it("refuses an HPCS instance id that cannot be a GUID (it becomes part of a host name)", () => {
        assert.throws(() => kmsEndpointFor({ service: "hs-crypto", instanceId: "evil.example.com/x" }), InputError);
    });
});

describe("config: resolveCloudEndpoints", () => {
    it("resolves endpoints with the same precedence but needs no API key", () => {
        const { resolveCloudEndpoints } = require("../../client/config") as typeof import("../../client/config");
        const env = { IBMCLOUD_IAM_API_ENDPOINT: "http://127.0.0.1:9", IBMCLOUD_HPCS_API_ENDPOINT: "https://hpcs.example.test" };
        const e = resolveCloudEndpoints({ region: "eu-de" }, env);
        const { endpointOrigins, ...rest } = e;
        assert.deepStrictEqual(rest, { iamEndpoint: "http://127.0.0.1:9", visibility: "public", region: "eu-de", hpcsEndpoint: "https://hpcs.example.test" });
        // where each came from, for connection errors
        assert.deepStrictEqual(
            endpointOrigins?.map((o) => [o.url, o.from]),
            [
                ["http://127.0.0.1:9", "the environment variable IBMCLOUD_IAM_API_ENDPOINT"],
                ["https://hpcs.example.test", "the environment variable IBMCLOUD_HPCS_API_ENDPOINT"],
            ],
        );
        assert.ok(!("apiKey" in e));
        assert.throws(() => resolveCloudEndpoints({ iamEndpoint: "http://iam.example.test" }, {}), /ibmcloud:iamEndpoint/);
    });

    it("names where each endpoint came from: stack config, the environment, or IBM's default", () => {
        const { resolveCloudEndpoints } = require("../../client/config") as typeof import("../../client/config");
        assert.deepStrictEqual(
            resolveCloudEndpoints({ iamEndpoint: "http://127.0.0.1:9", kmsEndpoint: "http://127.0.0.1:9" }, {}).endpointOrigins?.map((o) => o.from),
            ["stack config ibmcloud:iamEndpoint", "stack config ibmcloud:kmsEndpoint"],
        );
        const dflt = resolveCloudEndpoints({}, {}).endpointOrigins!;
        assert.strictEqual(dflt[0].url, "https://iam.cloud.ibm.com");
        assert.match(
            dflt[0].from,
            /IBM Cloud's public IAM endpoint \(the default: neither stack config ibmcloud:iamEndpoint nor IBMCLOUD_IAM_API_ENDPOINT is set\)/,
        );
    });

    it("reads @pulumi/ibm's ibm:ibmcloudApiKey, ibm:region, ibm:visibility and ibm:ibmcloudTimeout after our own keys", () => {
        const { settingsFromProviderConfig, resolveCloudSettings } = require("../../client/config") as typeof import("../../client/config");
        const source = (values: Record<string, string>) => ({ config: { get: (k: string) => values[k] } });
        const ibmOnly = settingsFromProviderConfig(
            source({ "ibm:ibmcloudApiKey": "ibm-provider-key-0123456789", "ibm:region": "eu-de", "ibm:visibility": "private", "ibm:ibmcloudTimeout": "90" }),
        );
        assert.deepStrictEqual(ibmOnly, { apiKey: "ibm-provider-key-0123456789", region: "eu-de", visibility: "private", timeout: "90" });
        const both = settingsFromProviderConfig(
            source({ "ibmcloud:apiKey": "ours-0123456789", "ibm:ibmcloudApiKey": "theirs-0123456789", "ibmcloud:region": "us-east", "ibm:region": "eu-de" }),
        );
        assert.deepStrictEqual(both, { apiKey: "ours-0123456789", region: "us-east" });
        // the environment comes after both
        assert.strictEqual(resolveCloudSettings(ibmOnly, { IC_API_KEY: "env-key-0123456789" }).apiKey, "ibm-provider-key-0123456789");
        assert.throws(
            () => resolveCloudSettings({}, {}),
            /ibmcloud:apiKey: no IBM Cloud API key is configured \(looked for stack config ibmcloud:apiKey, then ibm:ibmcloudApiKey, then IC_API_KEY and IBMCLOUD_API_KEY/,
        );
    });
});
