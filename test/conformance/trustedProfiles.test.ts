// Conformance: trusted profiles through IBM's own clients. IamIdentityV1's profile, claim rule, link and identity
// operations; IamPolicyManagementV1 policies whose subject is a profile; and the secretless authenticators of
// IBM's SDK core (ContainerAuthenticator, VpcInstanceAuthenticator, IamAssumeAuthenticator) getting tokens that
// KMS accepts, and refused where the profile does not trust the caller.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ContainerAuthenticator, IamAssumeAuthenticator, IamTokenManager, VpcInstanceAuthenticator } from "ibm-cloud-sdk-core";
import { ETAG, IbmClients, IDENTITY_TIME, pageToken, rejected, startWithIbmClients } from "./support";

interface SdkAuthenticator {
    authenticate(o: { headers?: Record<string, string> }): Promise<void>;
}

/** The bearer token an IBM authenticator puts on a request. */
async function bearer(a: SdkAuthenticator): Promise<string> {
    const o: { headers: Record<string, string> } = { headers: {} };
    await a.authenticate(o);
    const m = /^Bearer (\S+)$/.exec(o.headers.Authorization ?? "");
    assert.ok(m, "the authenticator set a Bearer Authorization header");
    return m[1];
}

/** What the authenticator's failure says (IBM's SDK turns token-endpoint failures into its own message). */
async function refusedBy(a: SdkAuthenticator): Promise<{ status?: number; message: string; body?: string }> {
    try {
        await a.authenticate({ headers: {} });
    } catch (e) {
        const err = e as { status?: number; message: string; body?: string };
        return { status: err.status, message: err.message, body: err.body };
    }
    throw new assert.AssertionError({ message: "expected the authenticator to be refused" });
}

function claimsOf(token: string): Record<string, unknown> {
    return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}

describe("conformance: trusted profiles through IBM's SDKs", function () {
    this.timeout(30000);
    let c: IbmClients;
    let dir: string;
    let instance: string;
    const clusterCrn = () => `crn:v1:bluemix:public:containers-kubernetes:us-south:a/${c.emu.accountId}:c0ffee0123456789abcd::`;
    const vsiCrn = () => `crn:v1:bluemix:public:is:us-south-1:a/${c.emu.accountId}::instance:0717_4c6b8e2a-1f3d-4b58-9a7e-2a1c3d4e5f60`;

    before(async () => {
        c = await startWithIbmClients();
        instance = c.emu.instances[0].guid;
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "cr-token-"));
    });
    after(async () => {
        fs.rmSync(dir, { recursive: true, force: true });
        await c?.emu.stop();
    });

    async function computeResourceToken(body: Record<string, unknown>): Promise<string> {
        const res = await fetch(`${c.emu.url}/__emulator/compute-resource-token`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(body),
        });
        assert.strictEqual(res.status, 200, await res.clone().text());
        return ((await res.json()) as { token: string }).token;
    }

    async function tokenFile(body: Record<string, unknown>): Promise<string> {
        const file = path.join(dir, `token-${Math.random().toString(36).slice(2)}`);
        fs.writeFileSync(file, `${await computeResourceToken(body)}\n`, { mode: 0o600 });
        return file;
    }

    async function kmsStatus(token: string): Promise<number> {
        const res = await fetch(`${c.emu.url}/api/v2/keys`, { headers: { Authorization: `Bearer ${token}`, "bluemix-instance": instance } });
        await res.arrayBuffer();
        return res.status;
    }

    async function newProfile(name: string): Promise<{ id: string; iam_id: string; entity_tag: string; crn: string }> {
        const r = await c.identity.createProfile({ name, accountId: c.emu.accountId, description: "conformance" });
        assert.strictEqual(r.status, 201);
        return r.result as { id: string; iam_id: string; entity_tag: string; crn: string };
    }

    async function grantKmsReader(profileIamId: string): Promise<void> {
        const r = await c.policies.createPolicy({
            type: "access",
            subjects: [{ attributes: [{ name: "iam_id", value: profileIamId }] }],
            roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Reader" }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: c.emu.accountId },
                        { name: "serviceName", value: c.emu.instances[0].service },
                        { name: "serviceInstance", value: instance },
                    ],
                },
            ],
        });
        assert.strictEqual(r.status, 201);
    }

    describe("IamIdentityV1: profiles", () => {
        it("createProfile: 201 with IBM's ids, CRN, entity tag and minute timestamps", async () => {
            const p = (await c.identity.createProfile({ name: "conf-profile", accountId: c.emu.accountId, description: "d", email: "a@example.com" })).result;
            assert.match(p.id, /^Profile-[0-9a-f-]{36}$/);
            assert.strictEqual(p.iam_id, `iam-${p.id}`);
            assert.strictEqual(p.crn, `crn:v1:bluemix:public:iam-identity::a/${c.emu.accountId}::profile:${p.id}`);
            assert.match(p.entity_tag, ETAG);
            assert.match(p.created_at!, IDENTITY_TIME);
            assert.strictEqual(p.account_id, c.emu.accountId);
            assert.strictEqual(p.description, "d");
            assert.strictEqual(p.email, "a@example.com");
        });

        it("createProfile: a name taken in the account is 409; a malformed account 400", async () => {
            await newProfile("conf-dup");
            const dup = await rejected(c.identity.createProfile({ name: "conf-dup", accountId: c.emu.accountId }), 409);
            assert.match(dup.body.errors[0].message, /already exists/);
            const bad = await rejected(c.identity.createProfile({ name: "x", accountId: "not-an-account" }), 400);
            assert.match(bad.body.errors[0].message, /account_id/);
        });

        it("getProfile: 200; an unknown id is 404", async () => {
            const p = await newProfile("conf-get");
            assert.strictEqual((await c.identity.getProfile({ profileId: p.id })).result.name, "conf-get");
            await rejected(c.identity.getProfile({ profileId: "Profile-00000000-0000-0000-0000-000000000000" }), 404);
        });

        it("listProfiles: pages through every profile and filters by name", async () => {
            for (let i = 0; i < 3; i++) await newProfile(`conf-page-${i}`);
            const seen: string[] = [];
            let token: string | undefined;
            do {
                const r = (await c.identity.listProfiles({ accountId: c.emu.accountId, pagesize: 2, pagetoken: token })).result;
                assert.ok(r.profiles.length <= 2);
                seen.push(...r.profiles.map((p) => p.name));
                token = pageToken(r.next);
            } while (token);
            for (let i = 0; i < 3; i++) assert.ok(seen.includes(`conf-page-${i}`));
            const one = (await c.identity.listProfiles({ accountId: c.emu.accountId, name: "conf-page-1" })).result.profiles;
            assert.deepStrictEqual(
                one.map((p) => p.name),
                ["conf-page-1"],
            );
        });

        it("updateProfile: with the entity tag 200 and a new tag; a stale tag is refused", async () => {
            const p = await newProfile("conf-upd");
            const u = (await c.identity.updateProfile({ profileId: p.id, ifMatch: p.entity_tag, name: "conf-upd2", description: "" })).result;
            assert.strictEqual(u.name, "conf-upd2");
            assert.strictEqual(u.description, undefined, "an empty description clears it");
            assert.notStrictEqual(u.entity_tag, p.entity_tag);
            const stale = await rejected(c.identity.updateProfile({ profileId: p.id, ifMatch: p.entity_tag, name: "x" }), 412);
            assert.strictEqual(stale.body.errors[0].code, "entity_tag_mismatch");
        });

        it("deleteProfile: 204, then 404", async () => {
            const p = await newProfile("conf-del");
            assert.strictEqual((await c.identity.deleteProfile({ profileId: p.id })).status, 204);
            await rejected(c.identity.getProfile({ profileId: p.id }), 404);
        });
    });

    describe("IamIdentityV1: claim rules, links, identities", () => {
        it("claim rules: Profile-CR on a service account's claims; create, list, get, update with If-Match, delete", async () => {
            const p = await newProfile("conf-rules");
            const conditions = [{ claim: "namespace", operator: "EQUALS", value: '"orders"' }];
            const r = (await c.identity.createClaimRule({ profileId: p.id, type: "Profile-CR", crType: "IKS_SA", conditions, name: "orders-ns" })).result;
            assert.match(r.id, /^ClaimRule-/);
            assert.strictEqual(r.cr_type, "IKS_SA");
            assert.deepStrictEqual(r.conditions, conditions);
            assert.deepStrictEqual(
                (await c.identity.listClaimRules({ profileId: p.id })).result.rules.map((x) => x.id),
                [r.id],
            );
            assert.strictEqual((await c.identity.getClaimRule({ profileId: p.id, ruleId: r.id })).result.name, "orders-ns");
            const u = (
                await c.identity.updateClaimRule({
                    profileId: p.id,
                    ruleId: r.id,
                    ifMatch: r.entity_tag,
                    type: "Profile-CR",
                    crType: "IKS_SA",
                    conditions: [{ claim: "namespace", operator: "IN", value: '["orders","billing"]' }],
                })
            ).result;
            assert.strictEqual(u.name, undefined, "a full replacement: the name not sent is gone");
            assert.notStrictEqual(u.entity_tag, r.entity_tag);
            assert.strictEqual((await c.identity.deleteClaimRule({ profileId: p.id, ruleId: r.id })).status, 204);
            await rejected(c.identity.getClaimRule({ profileId: p.id, ruleId: r.id }), 404);
        });

        it("claim rules: Profile-CR without cr_type and Profile-SAML without realm_name are 400", async () => {
            const p = await newProfile("conf-rules-bad");
            const conditions = [{ claim: "name", operator: "EQUALS", value: '"x"' }];
            const noCr = await rejected(c.identity.createClaimRule({ profileId: p.id, type: "Profile-CR", conditions }), 400);
            assert.match(noCr.body.errors[0].message, /cr_type/);
            const noRealm = await rejected(c.identity.createClaimRule({ profileId: p.id, type: "Profile-SAML", conditions }), 400);
            assert.match(noRealm.body.errors[0].message, /realm_name/);
            const saml = await c.identity.createClaimRule({
                profileId: p.id,
                type: "Profile-SAML",
                realmName: "https://idp.example.com/saml",
                expiration: 43200,
                conditions: [{ claim: "blueGroups", operator: "CONTAINS", value: '"admins"' }],
            });
            assert.strictEqual(saml.status, 201);
            assert.strictEqual(saml.result.realm_name, "https://idp.example.com/saml");
        });

        it("links: VSI, IKS_SA and CE with their link fields; list, get, delete, delete by parameters", async () => {
            const p = await newProfile("conf-links");
            const vsi = (await c.identity.createLink({ profileId: p.id, crType: "VSI", link: { crn: vsiCrn() }, name: "web-1" })).result;
            assert.match(vsi.id, /^ProfileLink-/);
            assert.deepStrictEqual(vsi.link, { crn: vsiCrn() });
            const sa = (await c.identity.createLink({ profileId: p.id, crType: "IKS_SA", link: { crn: clusterCrn(), namespace: "orders", name: "api" } }))
                .result;
            assert.deepStrictEqual(sa.link, { crn: clusterCrn(), namespace: "orders", name: "api" });
            const ceCrn = `crn:v1:bluemix:public:codeengine:us-south:a/${c.emu.accountId}:7a1b2c3d-0000-4000-8000-000000000001::`;
            const ce = (
                await c.identity.createLink({ profileId: p.id, crType: "CE", link: { crn: ceCrn, component_type: "application", component_name: "orders" } })
            ).result;
            assert.strictEqual(ce.link.component_name, "orders");
            const noNs = await rejected(c.identity.createLink({ profileId: p.id, crType: "ROKS_SA", link: { crn: clusterCrn() } }), 400);
            assert.match(noNs.body.errors[0].message, /namespace/);
            const other = await rejected(
                c.identity.createLink({
                    profileId: p.id,
                    crType: "VSI",
                    link: { crn: "crn:v1:bluemix:public:is:us-south-1:a/0123456789abcdef0123456789abcdef::instance:x" },
                }),
                400,
            );
            assert.match(other.body.errors[0].message, /is_cross_account/);
            assert.strictEqual((await c.identity.listLinks({ profileId: p.id })).result.links?.length, 3);
            assert.strictEqual((await c.identity.getLink({ profileId: p.id, linkId: vsi.id })).result.name, "web-1");
            assert.strictEqual((await c.identity.deleteLink({ profileId: p.id, linkId: vsi.id })).status, 204);
            const byParams = await c.identity.deleteLinkByParameters({ profileId: p.id, type: "IKS_SA", crn: clusterCrn(), namespace: "orders", name: "api" });
            assert.strictEqual(byParams.status, 204);
            assert.deepStrictEqual(
                (await c.identity.listLinks({ profileId: p.id })).result.links?.map((l) => l.cr_type),
                ["CE"],
            );
        });

        it("identities: add one, get, replace the list with If-Match, delete", async () => {
            const p = await newProfile("conf-identities");
            const sid = (await c.identity.createServiceId({ accountId: c.emu.accountId, name: "conf-assumer", description: "assumes" })).result;
            const added = (await c.identity.setProfileIdentity({ profileId: p.id, identityType: "serviceid", identifier: sid.id!, type: "serviceid" })).result;
            assert.deepStrictEqual(added, { iam_id: sid.iam_id, identifier: sid.id, type: "serviceid", description: "assumes" });
            const list = (await c.identity.getProfileIdentities({ profileId: p.id })).result;
            assert.match(list.entity_tag!, ETAG);
            assert.strictEqual(list.identities?.length, 1);
            assert.strictEqual(
                (await c.identity.getProfileIdentity({ profileId: p.id, identityType: "serviceid", identifierId: sid.id! })).result.iam_id,
                sid.iam_id,
            );
            const owner = (await c.identity.getApiKeysDetails({ iamApiKey: c.emu.apiKey })).result.iam_id!;
            const replaced = (
                await c.identity.setProfileIdentities({
                    profileId: p.id,
                    ifMatch: list.entity_tag!,
                    identities: [{ identifier: owner, type: "user", accounts: [c.emu.accountId] }],
                })
            ).result;
            assert.deepStrictEqual(
                replaced.identities?.map((i) => i.type),
                ["user"],
            );
            await rejected(c.identity.setProfileIdentities({ profileId: p.id, ifMatch: list.entity_tag!, identities: [] }), 412);
            assert.strictEqual((await c.identity.deleteProfileIdentity({ profileId: p.id, identityType: "user", identifierId: owner })).status, 204);
            await rejected(c.identity.getProfileIdentity({ profileId: p.id, identityType: "user", identifierId: owner }), 404);
        });
    });

    describe("IamPolicyManagementV1: a profile as a policy subject", () => {
        it("createPolicy for iam-Profile-…: 201 and listed by iam_id; an unknown profile is 400", async () => {
            const p = await newProfile("conf-policy");
            await grantKmsReader(p.iam_id);
            const listed = (await c.policies.listPolicies({ accountId: c.emu.accountId, iamId: p.iam_id })).result.policies;
            assert.strictEqual(listed.length, 1);
            assert.strictEqual(listed[0].subjects?.[0].attributes?.[0].value, p.iam_id);
            const unknown = await rejected(
                c.policies.createPolicy({
                    type: "access",
                    subjects: [{ attributes: [{ name: "iam_id", value: "iam-Profile-00000000-0000-0000-0000-000000000000" }] }],
                    roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Reader" }],
                    resources: [
                        {
                            attributes: [
                                { name: "accountId", value: c.emu.accountId },
                                { name: "serviceName", value: "kms" },
                            ],
                        },
                    ],
                }),
                400,
            );
            assert.match(unknown.body.errors[0].message, /does not exist/);
        });
    });

    describe("ContainerAuthenticator (cr-token grant)", () => {
        it("a linked service account's token file + profile id or name: a profile token that KMS accepts", async () => {
            const p = await newProfile("conf-container");
            await c.identity.createLink({ profileId: p.id, crType: "IKS_SA", link: { crn: clusterCrn(), namespace: "orders", name: "api" } });
            await grantKmsReader(p.iam_id);
            const file = await tokenFile({ crType: "IKS_SA", crn: clusterCrn(), namespace: "orders", name: "api" });
            const byId = await bearer(new ContainerAuthenticator({ crTokenFilename: file, iamProfileId: p.id, url: c.emu.url }));
            const claims = claimsOf(byId);
            assert.strictEqual(claims.iam_id, p.iam_id);
            assert.strictEqual(claims.sub_type, "Profile");
            assert.strictEqual(claims.grant_type, "urn:ibm:params:oauth:grant-type:cr-token");
            assert.strictEqual(await kmsStatus(byId), 200);
            const byName = await bearer(new ContainerAuthenticator({ crTokenFilename: file, iamProfileName: "conf-container", url: c.emu.url }));
            assert.strictEqual(claimsOf(byName).iam_id, p.iam_id);
        });

        it("a claim rule on the service account's namespace lets any account of that namespace in, and no other", async () => {
            const p = await newProfile("conf-claims");
            await c.identity.createClaimRule({
                profileId: p.id,
                type: "Profile-CR",
                crType: "ROKS_SA",
                conditions: [
                    { claim: "crn", operator: "EQUALS", value: JSON.stringify(clusterCrn()) },
                    { claim: "namespace", operator: "IN", value: '["billing","orders"]' },
                ],
            });
            const ok = await tokenFile({ crType: "ROKS_SA", crn: clusterCrn(), namespace: "billing", name: "worker" });
            assert.strictEqual(
                claimsOf(await bearer(new ContainerAuthenticator({ crTokenFilename: ok, iamProfileId: p.id, url: c.emu.url }))).iam_id,
                p.iam_id,
            );
            const no = await tokenFile({ crType: "ROKS_SA", crn: clusterCrn(), namespace: "kube-system", name: "worker" });
            const refused = await refusedBy(new ContainerAuthenticator({ crTokenFilename: no, iamProfileId: p.id, url: c.emu.url }));
            assert.strictEqual(refused.status, 403);
        });

        it("refused: an unlinked compute resource (403 BXNIM0442E)", async () => {
            const p = await newProfile("conf-unlinked");
            await c.identity.createLink({ profileId: p.id, crType: "IKS_SA", link: { crn: clusterCrn(), namespace: "orders", name: "api" } });
            const file = await tokenFile({ crType: "IKS_SA", crn: clusterCrn(), namespace: "orders", name: "intruder" });
            const r = await refusedBy(new ContainerAuthenticator({ crTokenFilename: file, iamProfileId: p.id, url: c.emu.url }));
            assert.strictEqual(r.status, 403);
            const body = JSON.parse(r.body ?? "{}");
            assert.strictEqual(body.errorCode, "BXNIM0442E");
            assert.match(body.errorMessage, /is not linked to the trusted profile/);
        });

        it("refused: a deleted profile (its tokens stop at KMS, and no new one is issued)", async () => {
            const p = await newProfile("conf-deleted");
            await c.identity.createLink({ profileId: p.id, crType: "IKS_SA", link: { crn: clusterCrn(), namespace: "orders", name: "gone" } });
            await grantKmsReader(p.iam_id);
            const file = await tokenFile({ crType: "IKS_SA", crn: clusterCrn(), namespace: "orders", name: "gone" });
            const token = await bearer(new ContainerAuthenticator({ crTokenFilename: file, iamProfileId: p.id, url: c.emu.url }));
            assert.strictEqual(await kmsStatus(token), 200);
            await c.identity.deleteProfile({ profileId: p.id });
            assert.strictEqual(await kmsStatus(token), 401);
            const r = await refusedBy(new ContainerAuthenticator({ crTokenFilename: file, iamProfileId: p.id, url: c.emu.url }));
            assert.strictEqual(r.status, 400);
            assert.match(JSON.parse(r.body ?? "{}").errorMessage, /could not be found/);
        });

        it("refused: a token that is not a compute resource's (an IAM token) is invalid", async () => {
            const p = await newProfile("conf-not-cr");
            const iamToken = await new IamTokenManager({ apikey: c.emu.apiKey, url: c.emu.url }).getToken();
            const file = path.join(dir, "iam-token");
            fs.writeFileSync(file, iamToken);
            const r = await refusedBy(new ContainerAuthenticator({ crTokenFilename: file, iamProfileId: p.id, url: c.emu.url }));
            assert.strictEqual(r.status, 400);
            assert.strictEqual(JSON.parse(r.body ?? "{}").errorCode, "BXNIM0440E");
        });
    });

    describe("VpcInstanceAuthenticator (the VSI metadata service)", () => {
        it("the instance identity token traded for a linked profile's token, which KMS accepts; by id, CRN or the only linked profile", async () => {
            const p = await newProfile("conf-vsi");
            await c.identity.createLink({ profileId: p.id, crType: "VSI", link: { crn: vsiCrn() } });
            await grantKmsReader(p.iam_id);
            const url = `${c.emu.url}/metadata/${encodeURIComponent(vsiCrn())}`;
            const byId = await bearer(new VpcInstanceAuthenticator({ url, iamProfileId: p.id }));
            assert.strictEqual(claimsOf(byId).iam_id, p.iam_id);
            assert.strictEqual(await kmsStatus(byId), 200);
            assert.strictEqual(claimsOf(await bearer(new VpcInstanceAuthenticator({ url, iamProfileCrn: p.crn }))).iam_id, p.iam_id);
            assert.strictEqual(claimsOf(await bearer(new VpcInstanceAuthenticator({ url }))).iam_id, p.iam_id);
        });

        it("refused: a profile the instance is not linked to", async () => {
            const p = await newProfile("conf-vsi-other");
            const url = `${c.emu.url}/metadata/${encodeURIComponent(vsiCrn())}`;
            const r = await refusedBy(new VpcInstanceAuthenticator({ url, iamProfileId: p.id }));
            assert.strictEqual(r.status, 403);
            assert.match(r.body ?? "", /is not linked to the trusted profile/);
        });
    });

    describe("IamAssumeAuthenticator (assume grant)", () => {
        it("a trusted service ID assumes the profile; KMS accepts the profile's token", async () => {
            const p = await newProfile("conf-assume");
            await grantKmsReader(p.iam_id);
            const sid = (await c.identity.createServiceId({ accountId: c.emu.accountId, name: "conf-assume-sid", apikey: { name: "k" } })).result;
            await c.identity.setProfileIdentity({ profileId: p.id, identityType: "serviceid", identifier: sid.id!, type: "serviceid" });
            const a = new IamAssumeAuthenticator({ apikey: sid.apikey!.apikey!, iamProfileId: p.id, url: c.emu.url });
            const token = await bearer(a);
            const claims = claimsOf(token);
            assert.strictEqual(claims.iam_id, p.iam_id);
            assert.strictEqual(claims.grant_type, "urn:ibm:params:oauth:grant-type:assume");
            assert.strictEqual(await kmsStatus(token), 200);
            const byName = new IamAssumeAuthenticator({
                apikey: sid.apikey!.apikey!,
                iamProfileName: "conf-assume",
                iamAccountId: c.emu.accountId,
                url: c.emu.url,
            });
            assert.strictEqual(claimsOf(await bearer(byName)).iam_id, p.iam_id);
        });

        it("refused: an identity the profile does not trust (403 BXNIM0443E)", async () => {
            const p = await newProfile("conf-assume-no");
            const sid = (await c.identity.createServiceId({ accountId: c.emu.accountId, name: "conf-untrusted", apikey: { name: "k" } })).result;
            const r = await refusedBy(new IamAssumeAuthenticator({ apikey: sid.apikey!.apikey!, iamProfileId: p.id, url: c.emu.url }));
            assert.strictEqual(r.status, 403);
            const body = JSON.parse(r.body ?? "{}");
            assert.strictEqual(body.errorCode, "BXNIM0443E");
            assert.match(body.errorMessage, /is not trusted to assume/);
        });
    });
});
