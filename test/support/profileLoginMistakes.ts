// A deployer logging in as a trusted profile with a bad setting: each front door's message must name the setting as
// that door spells it (the dynamic resources' `ibmcloud:iamProfileId`, the plugin's `ibmcloud-iam:iamProfileId`),
// never the client's option names (`profileId`, `crTokenFilename`) nor the other door's keys. Shared by
// test/plugin/deployerProfile.test.ts and test/plugin/provider/deployerProfile.test.ts.

export interface ProfileLoginMistake {
    what: string;
    /** The provider settings, by plain name (`iamProfileId`, `crTokenFile`). */
    settings: Record<string, string>;
    /** What the error must say, given the door's stack config key of a setting. */
    expect: (key: (name: string) => string) => RegExp;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export const PROFILE_LOGIN_MISTAKES: readonly ProfileLoginMistake[] = [
    {
        what: "a profile id that is no Profile-<uuid>",
        settings: { iamProfileId: "Profile-0000" },
        expect: (key) => new RegExp(`${escapeRegExp(key("iamProfileId"))} must be a trusted profile's id \\(Profile-<uuid>\\), not 'Profile-0000'`),
    },
    {
        what: "a token file that cannot be read",
        settings: { iamProfileId: "Profile-12345678-1234-1234-1234-123456789012", crTokenFile: "/nonexistent/cr-token" },
        expect: (key) => new RegExp(`cannot read the compute resource token file /nonexistent/cr-token; check ${escapeRegExp(key("crTokenFile"))} and`),
    },
];

/** Names a message of one door must not contain: the client's option names, and the other door's namespace. */
export function foreignSettingNames(otherNamespace: string): RegExp {
    return new RegExp(`crTokenFilename|\\bprofileId must|(?<![\\w-])${escapeRegExp(otherNamespace)}:`);
}
