// resolveProfileLogin: when and how the deployer logs in as a trusted profile (no API key), and from which of
// IBM's setting names.
import * as assert from "assert";
import { resolveProfileLogin, settingsFromProviderConfig } from "../../client";

const ID = "Profile-7d2c4e6f-8a1b-4c3d-9e5f-0a1b2c3d4e5f";

describe("client/config: resolveProfileLogin", function () {
    it("stack config: profile id and name, token file; read by settingsFromProviderConfig", function () {
        const values: Record<string, string> = { "ibmcloud:iamProfileId": ID, "ibmcloud:iamProfileName": "ci", "ibmcloud:crTokenFile": "/t/token" };
        const explicit = settingsFromProviderConfig({ config: { get: (k) => values[k] } });
        const login = resolveProfileLogin(explicit, {});
        assert.deepStrictEqual(
            { ...login, from: undefined },
            {
                crTokenFile: "/t/token",
                profileId: ID,
                profileName: "ci",
                from: undefined,
                // what a message names: the settings as given
                settingNames: { profileId: "ibmcloud:iamProfileId", crTokenFile: "ibmcloud:crTokenFile" },
            },
        );
        assert.deepStrictEqual(resolveProfileLogin({ iamProfileId: ID }, {})?.settingNames, {
            profileId: "ibmcloud:iamProfileId",
            crTokenFile: "ibmcloud:crTokenFile (or IBMCLOUD_CR_TOKEN=@<token file>)",
        });
    });

    it("an API key, configured or in the environment, wins: no profile login", function () {
        assert.strictEqual(resolveProfileLogin({ apiKey: "k".repeat(44), iamProfileId: ID }, {}), undefined);
        assert.strictEqual(resolveProfileLogin({ iamProfileId: ID }, { IBMCLOUD_API_KEY: "k".repeat(44) }), undefined);
        assert.strictEqual(resolveProfileLogin({}, {}), undefined, "no profile anywhere");
    });

    it("the ibmcloud CLI's IBMCLOUD_CR_PROFILE is a name, an id or a CRN; IBMCLOUD_CR_TOKEN a token or @file", function () {
        assert.strictEqual(resolveProfileLogin({}, { IBMCLOUD_CR_PROFILE: "ci" })?.profileName, "ci");
        assert.strictEqual(resolveProfileLogin({}, { IBMCLOUD_CR_PROFILE: ID })?.profileId, ID);
        const crn = `crn:v1:bluemix:public:iam-identity::a/0123456789abcdef0123456789abcdef::profile:${ID}`;
        assert.strictEqual(resolveProfileLogin({}, { IBMCLOUD_CR_PROFILE: crn })?.profileCrn, crn);
        assert.strictEqual(resolveProfileLogin({}, { IBMCLOUD_CR_PROFILE: "ci", IBMCLOUD_CR_TOKEN: "@/t/file" })?.crTokenFile, "/t/file");
        assert.strictEqual(resolveProfileLogin({}, { IBMCLOUD_CR_PROFILE: "ci", IBMCLOUD_CR_TOKEN: "eyJ.x.y" })?.crToken, "eyJ.x.y");
        assert.deepStrictEqual(resolveProfileLogin({}, { IBMCLOUD_CR_PROFILE: ID, IBMCLOUD_CR_TOKEN: "@/t/file" })?.settingNames, {
            profileId: "IBMCLOUD_CR_PROFILE",
            crTokenFile: "IBMCLOUD_CR_TOKEN",
        });
    });

    it("Terraform's IC_IAM_PROFILE_ID / IBMCLOUD_IAM_PROFILE_NAME when nothing else names a profile; stack config first", function () {
        assert.strictEqual(resolveProfileLogin({}, { IBMCLOUD_IAM_PROFILE_ID: ID })?.profileId, ID);
        assert.strictEqual(resolveProfileLogin({}, { IBMCLOUD_IAM_PROFILE_ID: ID })?.settingNames.profileId, "IBMCLOUD_IAM_PROFILE_ID");
        assert.strictEqual(resolveProfileLogin({}, { IC_IAM_PROFILE_NAME: "ci" })?.profileName, "ci");
        assert.strictEqual(resolveProfileLogin({ iamProfileName: "from-config" }, { IBMCLOUD_CR_PROFILE: "from-env" })?.profileName, "from-config");
        assert.strictEqual(resolveProfileLogin({}, { IBMCLOUD_CR_PROFILE: "cli", IC_IAM_PROFILE_NAME: "tf" })?.profileName, "cli");
    });
});
