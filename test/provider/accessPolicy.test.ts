import { strict as assert } from "assert";
import { AccessPolicyOutputs, AccessPolicyProvider } from "../../provider/accessPolicy";
import { policyBody, subjectInputs } from "../../provider/policy/accessMapping";
import { subjectIamIdOf } from "../../provider/policy/accessCheck";
import { UNKNOWN } from "../../provider/core/props";

const SID = "ServiceId-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const PROFILE = "Profile-5c4b3a29-1807-4f6e-8d5c-4b3a29180766";
const INSTANCE = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d";
const CRN = {
    writer: "crn:v1:bluemix:public:iam::::serviceRole:Writer",
    reader: "crn:v1:bluemix:public:iam::::serviceRole:Reader",
    manager: "crn:v1:bluemix:public:iam::::serviceRole:Manager",
    viewer: "crn:v1:bluemix:public:iam::::role:Viewer",
    hpcsKeyPurge: "crn:v1:bluemix:public:hs-crypto::::serviceRole:KeyPurge",
    hpcsCustodian: "crn:v1:bluemix:public:hs-crypto::::serviceRole:KeyCustodianCreator",
    idCreator: "crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator",
};

type Props = Record<string, unknown>;

/** Inputs of a policy giving SID roles on one HPCS instance, with overrides. */
function hpcs(over: Props = {}): Props {
    return { serviceId: SID, roles: ["Writer"], resource: { serviceName: "hs-crypto", serviceInstance: INSTANCE }, ...over };
}

/** State of a created policy, as create() would have written it. */
function state(over: Partial<AccessPolicyOutputs> = {}): AccessPolicyOutputs {
    return {
        policyId: "p-1",
        etag: "1-abc",
        href: "https://iam.example/v1/policies/p-1",
        state: "active",
        roleCrns: [CRN.writer],
        subjectIamId: `iam-${SID}`,
        accountId: "a".repeat(32),
        createdAt: "t",
        lastModifiedAt: "t",
        serviceId: SID,
        roles: ["Writer"],
        resource: { serviceName: "hs-crypto", serviceInstance: INSTANCE },
        ...over,
    };
}

describe("accessPolicy: check and diff (no network)", function () {
    const provider = new AccessPolicyProvider();
    const check = (news: Props) => provider.check({}, news);
    const failuresOf = async (news: Props) => (await check(news)).failures ?? [];
    const diff = (olds: AccessPolicyOutputs, news: Props) => provider.diff("p-1", olds, news as never);

    describe("check: roles", function () {
        it("resolves display names, ids and CRNs to the CRNs the policy will grant, order kept, spacing and case folded", async function () {
            const r = await check(hpcs({ roles: ["writer", "Key Custodian - Creator", "key purge", CRN.viewer] }));
            assert.deepEqual(r.failures, []);
            assert.deepEqual(r.inputs.roleCrns, [CRN.writer, CRN.hpcsCustodian, CRN.hpcsKeyPurge, CRN.viewer]);
            assert.deepEqual(r.inputs.roles, ["writer", "Key Custodian - Creator", "key purge", CRN.viewer], "the roles stay as given");
        });

        it("an unknown role fails at preview naming the role and every valid role of that service", async function () {
            const [f, ...rest] = await failuresOf(hpcs({ roles: ["Reader", "Writter"] }));
            assert.equal(rest.length, 0);
            assert.equal(f.property, "roles[1]");
            assert.match(f.reason, /unknown role "Writter" for hs-crypto/);
            for (const valid of [
                "Viewer",
                "Administrator",
                "Reader",
                "Writer",
                "Manager",
                "ReaderPlus",
                "KeyPurge",
                "Vault Administrator",
                "Key Custodian - Deployer",
            ]) {
                assert.ok(f.reason.includes(valid), `${valid} missing from: ${f.reason}`);
            }
        });

        it("a role of another service fails (VaultAdministrator exists for hs-crypto, not kms)", async function () {
            const f = await failuresOf(hpcs({ roles: ["VaultAdministrator"], resource: { serviceName: "kms", serviceInstance: INSTANCE } }));
            assert.equal(f.length, 1);
            assert.match(f[0].reason, /unknown role "VaultAdministrator" for kms; valid roles: .*KeyPurge/);
            assert.ok(!f[0].reason.includes("Vault Administrator"));
        });

        it("a role listed twice, by name or as the same CRN, fails on the second mention", async function () {
            assert.deepEqual(await failuresOf(hpcs({ roles: ["Writer", "writer"] })), [
                { property: "roles[1]", reason: '"writer" grants the same role as roles[0] ("Writer"); list each role once' },
            ]);
            const f = await failuresOf(hpcs({ roles: ["Reader", "Writer", CRN.writer] }));
            assert.deepEqual(
                f.map((x) => x.property),
                ["roles[2]"],
            );
        });

        it("roles must be a non-empty list of non-empty strings", async function () {
            assert.match((await failuresOf(hpcs({ roles: [] })))[0].reason, /at least one role/);
            assert.deepEqual(
                (await failuresOf(hpcs({ roles: ["  "] }))).map((x) => x.property),
                ["roles[0]"],
            );
            assert.deepEqual(
                (await failuresOf(hpcs({ roles: "Writer" }))).map((x) => x.property),
                ["roles"],
            );
            assert.deepEqual(
                (await failuresOf(hpcs({ roles: undefined }))).map((x) => x.property),
                ["roles"],
            );
        });

        it("an account-management scope (serviceType platform_service) only takes platform roles", async function () {
            const resource = { serviceType: "platform_service" };
            assert.deepEqual((await check(hpcs({ roles: ["Administrator"], resource }))).inputs.roleCrns, ["crn:v1:bluemix:public:iam::::role:Administrator"]);
            const f = await failuresOf(hpcs({ roles: ["Writer"], resource }));
            assert.match(f[0].reason, /unknown role "Writer" for this policy; valid roles: Viewer, Operator, Editor, Administrator$/);
        });

        it("for a service not in the offline catalog, names are left for IAM to resolve at create (no roleCrns yet); CRNs are still checked", async function () {
            const r = await check(hpcs({ roles: ["Service ID creator", CRN.idCreator], resource: { serviceName: "iam-identity" } }));
            assert.deepEqual(r.failures, []);
            assert.equal(r.inputs.roleCrns, undefined);
            const bad = await failuresOf(hpcs({ roles: ["crn:v1:bluemix:iam-identity:ServiceIdCreator"], resource: { serviceName: "iam-identity" } }));
            assert.match(bad[0].reason, /is not a role CRN/);
        });
    });

    describe("check: subject", function () {
        it("takes a service ID as ServiceId-… or iam-ServiceId-…, or any IAM id as iamId", async function () {
            assert.deepEqual(await failuresOf(hpcs()), []);
            assert.deepEqual(await failuresOf(hpcs({ serviceId: `iam-${SID}` })), []);
            assert.deepEqual(await failuresOf(hpcs({ serviceId: undefined, iamId: "IBMid-550000ABCD" })), []);
            assert.deepEqual(await failuresOf(hpcs({ serviceId: undefined, iamId: `iam-${SID}` })), []);
        });

        it("takes a trusted profile as profileId (Profile-… or iam-Profile-…), its subject being the profile's IAM id", async function () {
            for (const profileId of [PROFILE, `iam-${PROFILE}`]) {
                const r = await check(hpcs({ serviceId: undefined, profileId }));
                assert.deepEqual(r.failures, []);
                assert.equal(subjectIamIdOf(r.inputs), `iam-${PROFILE}`);
            }
            assert.deepEqual(await failuresOf(hpcs({ serviceId: undefined, iamId: `iam-${PROFILE}` })), []);
            const f = await failuresOf(hpcs({ serviceId: undefined, profileId: "orders-runtime" }));
            assert.equal(f[0].property, "profileId");
            assert.match(f[0].reason, /profileId must be a trusted profile such as Profile-/);
            const both = await failuresOf(hpcs({ profileId: PROFILE }));
            assert.deepEqual(
                both.map((x) => x.property),
                ["serviceId"],
            );
            assert.match(both[0].reason, /not both serviceId and profileId/);
            assert.match((await failuresOf(hpcs({ serviceId: undefined, iamId: PROFILE })))[0].reason, /a bare Profile-… in profileId/);
        });

        it("the policy IAM gets names the profile's IAM id; a live profile subject reads back in the form the program used", function () {
            const body = policyBody({ profileId: PROFILE, roles: ["Reader"], resource: { serviceName: "kms" } }, [CRN.reader], "acct");
            assert.deepEqual(body.subjects, [{ attributes: [{ name: "iam_id", value: `iam-${PROFILE}` }] }]);
            assert.deepEqual(subjectInputs(`iam-${PROFILE}`, { profileId: PROFILE }), { profileId: PROFILE });
            assert.deepEqual(subjectInputs(`iam-${PROFILE}`, { iamId: `iam-${PROFILE}` }), { iamId: `iam-${PROFILE}` });
            assert.deepEqual(subjectInputs(`iam-${PROFILE}`, {}), { profileId: PROFILE }, "an adopted policy names its profile");
        });

        it("both or neither is a failure that names both fields", async function () {
            for (const news of [hpcs({ iamId: `iam-${SID}` }), hpcs({ serviceId: undefined })]) {
                const f = await failuresOf(news);
                assert.equal(f.length, 1, JSON.stringify(f));
                assert.equal(f[0].property, "serviceId");
                assert.match(f[0].reason, /serviceId/);
                assert.match(f[0].reason, /iamId/);
            }
            assert.match((await failuresOf(hpcs({ iamId: `iam-${SID}` })))[0].reason, /not both/);
        });

        it("a malformed subject says which form each field takes", async function () {
            assert.match((await failuresOf(hpcs({ serviceId: "my-app" })))[0].reason, /serviceId must be a service ID such as ServiceId-/);
            const f = await failuresOf(hpcs({ serviceId: undefined, iamId: SID }));
            assert.equal(f[0].property, "iamId");
            assert.match(f[0].reason, /a bare ServiceId-… goes in serviceId/);
        });
    });

    describe("check: resource", function () {
        it("needs one of serviceName, serviceType or resourceGroupId", async function () {
            const f = await failuresOf(hpcs({ resource: { region: "us-south" } }));
            assert.equal(f.length, 1);
            assert.equal(f[0].property, "resource.serviceName");
            assert.match(f[0].reason, /serviceName .*serviceType .*resourceGroupId/);
            assert.deepEqual(await failuresOf(hpcs({ resource: { resourceGroupId: "9f8e7d" }, roles: ["Viewer"] })), []);
            assert.deepEqual(await failuresOf(hpcs({ resource: { serviceType: "service" } })), []);
        });

        it("a serviceInstance without serviceName fails", async function () {
            const f = await failuresOf(hpcs({ resource: { serviceType: "service", serviceInstance: INSTANCE } }));
            assert.deepEqual(
                f.map((x) => x.property),
                ["resource.serviceName"],
            );
            assert.match(f[0].reason, /serviceInstance needs resource.serviceName/);
        });

        it("values are 1 to 1000 characters, serviceType is one of IAM's two, and unknown fields are named", async function () {
            const long = "x".repeat(1001);
            const f = await failuresOf(hpcs({ resource: { serviceName: "hs-crypto", serviceInstance: "", region: long, serviceType: "all", bucket: "b" } }));
            const byProperty = Object.fromEntries(f.map((x) => [x.property, x.reason]));
            assert.match(byProperty["resource.serviceInstance"], /must not be empty/);
            assert.match(byProperty["resource.region"], /at most 1000 characters/);
            assert.match(byProperty["resource.serviceType"], /"service" .*"platform_service"/);
            assert.match(byProperty["resource.bucket"], /unknown argument "bucket"/);
            assert.deepEqual(await failuresOf(hpcs({ resource: { serviceName: "hs-crypto", region: "x".repeat(1000) } })), []);
        });

        it("an unknown service name is allowed", async function () {
            assert.deepEqual(
                await failuresOf(
                    hpcs({ roles: ["Object Writer"], resource: { serviceName: "cloud-object-storage", resource: "my-bucket", resourceType: "bucket" } }),
                ),
                [],
            );
        });

        it("attributes: extra names only, string values of 1 to 1000 characters", async function () {
            assert.deepEqual(await failuresOf(hpcs({ resource: { serviceName: "kms", attributes: { keyRing: "app" } } })), []);
            const f = await failuresOf(
                hpcs({
                    resource: {
                        serviceName: "kms",
                        attributes: { accountId: "x", serviceInstance: INSTANCE, "bad name": "v", keyRing: "", other: "y".repeat(1001) },
                    },
                }),
            );
            const byProperty = Object.fromEntries(f.map((x) => [x.property, x.reason]));
            assert.match(byProperty["resource.attributes.accountId"], /taken from the deployer's credentials/);
            assert.match(byProperty["resource.attributes.serviceInstance"], /use resource.serviceInstance instead/);
            assert.match(byProperty["resource.attributes.bad name"], /is not an attribute name/);
            assert.match(byProperty["resource.attributes.keyRing"], /must not be empty/);
            assert.match(byProperty["resource.attributes.other"], /at most 1000/);
            assert.match(
                (await failuresOf(hpcs({ resource: { serviceName: "kms", attributes: ["keyRing"] } })))[0].reason,
                /map of attribute name to string value/,
            );
        });

        it("tags: name → value in IBM's tag alphabet, at most 128 characters as name:value", async function () {
            assert.deepEqual(await failuresOf(hpcs({ resource: { serviceName: "kms", tags: { env: "prod", "cost center": "team_a-1.2" } } })), []);
            const f = await failuresOf(hpcs({ resource: { serviceName: "kms", tags: { "env:x": "prod", team: "a/b", big: "v".repeat(125) } } }));
            const byProperty = Object.fromEntries(f.map((x) => [x.property, x.reason]));
            assert.match(byProperty["resource.tags.env:x"], /tag name "env:x" may only hold/);
            assert.match(byProperty["resource.tags.team"], /tag value "a\/b"/);
            assert.match(byProperty["resource.tags.big"], /longer than 128 characters/);
            assert.match((await failuresOf(hpcs({ resource: { serviceName: "kms", tags: { env: 1 } } })))[0].reason, /tag value must be a string/);
        });

        it("description is at most 300 characters; adoptExisting is a boolean; unknown arguments are named", async function () {
            assert.match((await failuresOf(hpcs({ description: "d".repeat(301) })))[0].reason, /at most 300/);
            assert.match((await failuresOf(hpcs({ adoptExisting: "yes" })))[0].reason, /adoptExisting must be true or false/);
            assert.deepEqual(await failuresOf(hpcs({ rolez: ["Writer"] })), [{ property: "rolez", reason: 'unknown argument "rolez"; did you mean "roles"?' }]);
        });
    });

    describe("check: preview unknowns", function () {
        it("never judges values that depend on resources not created yet", async function () {
            const resolved = [CRN.writer];
            for (const [news, roleCrns] of [
                [hpcs({ serviceId: UNKNOWN }), resolved],
                [hpcs({ roles: UNKNOWN }), undefined],
                [hpcs({ roles: [UNKNOWN, "Writer"] }), undefined],
                [hpcs({ resource: UNKNOWN }), undefined],
                [hpcs({ resource: { serviceName: "hs-crypto", serviceInstance: UNKNOWN } }), resolved],
                // the service decides which roles exist: a role cannot be judged before it is known
                [hpcs({ roles: ["Writter"], resource: { serviceName: UNKNOWN, serviceInstance: INSTANCE } }), undefined],
                [hpcs({ resource: { serviceName: "kms", tags: { env: UNKNOWN }, attributes: { keyRing: UNKNOWN } } }), resolved],
                [hpcs({ description: UNKNOWN }), resolved],
            ] as const) {
                const r = await check(news);
                assert.deepEqual(r.failures, [], JSON.stringify(news));
                assert.deepEqual(r.inputs.roleCrns, roleCrns, `resolved only when every role and the service are known: ${JSON.stringify(news)}`);
            }
        });

        it("still reports what is wrong with the known parts", async function () {
            const f = await failuresOf(hpcs({ serviceId: UNKNOWN, roles: ["Writter"] }));
            assert.deepEqual(
                f.map((x) => x.property),
                ["roles[0]"],
            );
            assert.deepEqual(
                (await failuresOf(hpcs({ serviceId: UNKNOWN, iamId: "IBMid-1" }))).map((x) => x.property),
                ["serviceId"],
            );
        });
    });

    describe("diff", function () {
        it("a new subject replaces the policy; the same subject written another way changes nothing", async function () {
            const other = "ServiceId-99999999-4b5a-6978-8a9b-0c1d2e3f4a5b";
            assert.deepEqual(await diff(state(), hpcs({ serviceId: other })), { changes: true, replaces: ["serviceId"], deleteBeforeReplace: false });
            assert.deepEqual((await diff(state(), hpcs({ serviceId: undefined, iamId: "IBMid-1" }))).replaces, ["iamId"]);
            assert.deepEqual((await diff(state(), hpcs({ serviceId: UNKNOWN }))).replaces, ["serviceId"]);
            assert.equal((await diff(state(), hpcs({ serviceId: `iam-${SID}` }))).changes, false);
            assert.equal((await diff(state(), hpcs({ serviceId: undefined, iamId: `iam-${SID}` }))).changes, false);
            assert.deepEqual((await diff(state(), hpcs({ serviceId: undefined, profileId: PROFILE }))).replaces, ["profileId"]);
            const onProfile = state({ serviceId: undefined, profileId: PROFILE, subjectIamId: `iam-${PROFILE}` });
            assert.equal((await diff(onProfile, hpcs({ serviceId: undefined, profileId: `iam-${PROFILE}` }))).changes, false);
            assert.equal((await diff(onProfile, hpcs({ serviceId: undefined, iamId: `iam-${PROFILE}` }))).changes, false);
        });

        it("roles, resource, tags and description update in place", async function () {
            for (const news of [
                hpcs({ roles: ["Writer", "Reader"] }),
                hpcs({ roles: ["Manager"] }),
                hpcs({ resource: { serviceName: "hs-crypto", serviceInstance: "other" } }),
                hpcs({ resource: { serviceName: "hs-crypto", serviceInstance: INSTANCE, tags: { env: "prod" } } }),
                hpcs({ resource: { serviceName: "hs-crypto", serviceInstance: INSTANCE, attributes: { keyRing: "r" } } }),
                hpcs({ description: "now described" }),
                hpcs({ roles: [UNKNOWN] }),
                hpcs({ resource: { serviceName: "hs-crypto", serviceInstance: UNKNOWN } }),
            ]) {
                const d = await diff(state(), news);
                assert.equal(d.changes, true, JSON.stringify(news));
                assert.deepEqual(d.replaces, [], JSON.stringify(news));
            }
        });

        it("ignores role order, name versus CRN, case and spacing of names, map order, an empty description and __provider", async function () {
            const olds = state({
                roles: ["Writer", "Key Custodian - Creator"],
                roleCrns: [CRN.writer, CRN.hpcsCustodian],
                resource: { serviceName: "hs-crypto", serviceInstance: INSTANCE, tags: { a: "1", b: "2" } },
                ...{ __provider: "old code" },
            });
            for (const news of [
                hpcs({ roles: ["KeyCustodianCreator", "Writer"], resource: { serviceInstance: INSTANCE, serviceName: "hs-crypto", tags: { b: "2", a: "1" } } }),
                hpcs({ roles: [CRN.hpcsCustodian, CRN.writer], resource: { serviceName: "hs-crypto", serviceInstance: INSTANCE, tags: { a: "1", b: "2" } } }),
                hpcs({
                    roles: ["writer", "key custodian creator"],
                    resource: { serviceName: "hs-crypto", serviceInstance: INSTANCE, tags: { a: "1", b: "2" } },
                    description: "",
                    __provider: "new code",
                }),
            ]) {
                assert.deepEqual(await diff(olds, news), { changes: false, replaces: [], deleteBeforeReplace: false }, JSON.stringify(news));
            }
        });

        it("uses check's resolved CRNs when present", async function () {
            const checked = (await check(hpcs({ roles: [CRN.writer] }))).inputs;
            assert.equal((await diff(state(), checked)).changes, false);
            const more = (await check(hpcs({ roles: ["Writer", "ReaderPlus"] }))).inputs;
            assert.equal((await diff(state(), more)).changes, true);
        });

        it("for a service resolved online, a name already in state is the CRN recorded for it; a new name is a change", async function () {
            const resource = { serviceName: "iam-identity" };
            const olds = state({ roles: ["Service ID creator"], roleCrns: [CRN.idCreator], resource });
            assert.equal((await diff(olds, hpcs({ roles: ["service id creator"], resource }))).changes, false);
            assert.equal((await diff(olds, hpcs({ roles: ["ServiceIdCreator"], resource }))).changes, false, "the id is the CRN's last segment");
            assert.equal((await diff(olds, hpcs({ roles: [CRN.idCreator], resource }))).changes, false);
            assert.equal((await diff(olds, hpcs({ roles: ["User API key creator"], resource }))).changes, true);
        });
    });

    describe("the policy body", function () {
        it("carries the account from the token, every resource field and extra attribute with stringEquals, tags, and no empty description", function () {
            const body = policyBody(
                {
                    serviceId: SID,
                    roles: ["Writer"],
                    description: "",
                    resource: { serviceName: "kms", serviceInstance: INSTANCE, region: "us-south", attributes: { keyRing: "app" }, tags: { env: "prod" } },
                },
                [CRN.writer],
                "acct",
            );
            assert.deepEqual(body, {
                type: "access",
                subjects: [{ attributes: [{ name: "iam_id", value: `iam-${SID}` }] }],
                roles: [{ role_id: CRN.writer }],
                resources: [
                    {
                        attributes: [
                            { name: "accountId", value: "acct", operator: "stringEquals" },
                            { name: "serviceName", value: "kms", operator: "stringEquals" },
                            { name: "serviceInstance", value: INSTANCE, operator: "stringEquals" },
                            { name: "region", value: "us-south", operator: "stringEquals" },
                            { name: "keyRing", value: "app", operator: "stringEquals" },
                        ],
                        tags: [{ name: "env", value: "prod", operator: "stringEquals" }],
                    },
                ],
            });
        });
    });
});
