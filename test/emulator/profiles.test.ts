// The emulator's trusted-profile contract beyond what IBM's SDKs exercise (test/conformance/trustedProfiles.test.ts):
// the compute-resource token admin route, the metadata service's checks, the grants' own refusals, and what a
// deleted profile leaves behind.
import * as assert from "assert";
import { RunningEmulator, startEmulator } from "../../emulator";
import { call, decodeJwt, expectStatus, serviceIdWithKey, tokenFor, tokenRequest } from "./helpers";

const CR_GRANT = "urn:ibm:params:oauth:grant-type:cr-token";
const ASSUME_GRANT = "urn:ibm:params:oauth:grant-type:assume";

describe("emulator: trusted profiles", function () {
    this.timeout(20000);
    let emu: RunningEmulator;
    let owner: string;
    const cluster = () => `crn:v1:bluemix:public:containers-kubernetes:us-south:a/${emu.accountId}:c1::`;

    before(async () => {
        emu = await startEmulator({ port: 0 });
        owner = await tokenFor(emu.url, emu.apiKey);
    });
    after(() => emu.stop());

    const mint = (body: unknown) => call(emu.url, "POST", "/__emulator/compute-resource-token", { body });
    const profile = async (name: string) => {
        const r = await call(emu.url, "POST", "/v1/profiles", { token: owner, body: { name, account_id: emu.accountId } });
        expectStatus(r, 201);
        return r.body as { id: string; iam_id: string; entity_tag: string };
    };

    describe("POST /__emulator/compute-resource-token", () => {
        it("answers 200 {token} for each compute resource type, with the resource's claims in it", async () => {
            const bodies = [
                { crType: "IKS_SA", crn: cluster(), namespace: "ns", name: "sa" },
                { crType: "ROKS_SA", crn: cluster(), namespace: "ns", name: "sa" },
                { crType: "VSI", crn: `crn:v1:bluemix:public:is:us-south-1:a/${emu.accountId}::instance:i-1` },
                { crType: "BMS", crn: `crn:v1:bluemix:public:is:us-south-1:a/${emu.accountId}::bare-metal-server:b-1` },
                { crType: "PVS", crn: `crn:v1:bluemix:public:power-iaas:dal12:a/${emu.accountId}:w1:pvm-instance:p-1` },
                {
                    crType: "CE",
                    crn: `crn:v1:bluemix:public:codeengine:us-south:a/${emu.accountId}:proj::`,
                    componentType: "application",
                    componentName: "app",
                },
            ];
            for (const b of bodies) {
                const r = await mint(b);
                expectStatus(r, 200);
                assert.deepStrictEqual(Object.keys(r.body), ["token"]);
                const claims = decodeJwt(r.body.token).claims;
                assert.strictEqual(claims.cr_type, b.crType);
                assert.strictEqual(claims.crn, b.crn);
            }
        });

        it("bad bodies are 400 naming the field and the fix", async () => {
            const cases: [unknown, RegExp][] = [
                [{ crType: "POD", crn: cluster() }, /crType must be one of VSI, BMS, PVS, IKS_SA, ROKS_SA, CE/],
                [{ crType: "IKS_SA", crn: "not-a-crn", namespace: "n", name: "s" }, /crn must be the compute resource's CRN/],
                [{ crType: "IKS_SA", crn: cluster() }, /IKS_SA needs namespace and name/],
                [{ crType: "VSI", crn: cluster(), namespace: "n" }, /namespace and name apply only to IKS_SA and ROKS_SA/],
                [{ crType: "CE", crn: cluster() }, /CE needs componentType and componentName/],
                [{ crType: "VSI", crn: cluster(), extra: 1 }, /extra is not a field of this body/],
                [{ crType: "VSI", crn: cluster(), expiresIn: 0 }, /expiresIn must be a whole number of seconds/],
                ["[]", /body must be a JSON object/],
            ];
            for (const [body, message] of cases) {
                const r = await mint(body);
                expectStatus(r, 400);
                assert.match(r.body.error, message);
            }
        });

        it("is never faulted nor rate-limited, while IBM paths are", async () => {
            emu.addFaults([{ kind: "status", status: 503 }]);
            emu.setRateLimit({ requestsPerSecond: 1, burst: 1 });
            try {
                for (let i = 0; i < 3; i++) expectStatus(await mint({ crType: "IKS_SA", crn: cluster(), namespace: "n", name: "s" }), 200);
                expectStatus(await call(emu.url, "GET", "/v1/profiles?account_id=x", { token: owner }), 503);
            } finally {
                emu.clearFaults();
                emu.setRateLimit(null);
            }
        });

        it("a compute-resource token is not an IAM token: IAM and KMS refuse it as a bearer", async () => {
            const t = (await mint({ crType: "IKS_SA", crn: cluster(), namespace: "n", name: "s" })).body.token;
            expectStatus(await call(emu.url, "GET", `/v1/profiles?account_id=${emu.accountId}`, { token: t }), 401);
            expectStatus(await call(emu.url, "GET", "/api/v2/keys", { token: t, headers: { "bluemix-instance": emu.instances[0].guid } }), 401);
        });
    });

    describe("token grants", () => {
        it("cr-token: an expired compute-resource token is refused (400 BXNIM0440E)", async () => {
            const p = await profile("expired-cr");
            const t = (await mint({ crType: "IKS_SA", crn: cluster(), namespace: "n", name: "s", expiresIn: 1 })).body.token;
            await new Promise((r) => setTimeout(r, 1100));
            const r = await tokenRequest(emu.url, { grant_type: CR_GRANT, cr_token: t, profile_id: p.id });
            expectStatus(r, 400);
            assert.strictEqual(r.body.errorCode, "BXNIM0440E");
        });

        it("cr-token: a missing profile is 400 BXNIM0106E naming profile_id and profile_name", async () => {
            const t = (await mint({ crType: "IKS_SA", crn: cluster(), namespace: "n", name: "s" })).body.token;
            const r = await tokenRequest(emu.url, { grant_type: CR_GRANT, cr_token: t });
            expectStatus(r, 400);
            assert.strictEqual(r.body.errorCode, "BXNIM0106E");
            assert.match(r.body.errorMessage, /profile_id' or 'profile_name/);
        });

        it("cr-token: a link with is_cross_account lets another account's resource in; without it the link is refused", async () => {
            const p = await profile("cross");
            const foreign = "crn:v1:bluemix:public:containers-kubernetes:us-south:a/0123456789abcdef0123456789abcdef:c9::";
            const link = { cr_type: "IKS_SA", link: { crn: foreign, namespace: "n", name: "s" } };
            expectStatus(await call(emu.url, "POST", `/v1/profiles/${p.id}/links`, { token: owner, body: link }), 400);
            expectStatus(await call(emu.url, "POST", `/v1/profiles/${p.id}/links`, { token: owner, body: { ...link, is_cross_account: true } }), 201);
            const t = (await mint({ crType: "IKS_SA", crn: foreign, namespace: "n", name: "s" })).body.token;
            const r = await tokenRequest(emu.url, { grant_type: CR_GRANT, cr_token: t, profile_id: p.id });
            expectStatus(r, 200);
            assert.strictEqual(decodeJwt(r.body.access_token).claims.iam_id, p.iam_id);
            assert.strictEqual(r.body.refresh_token, "not_supported");
        });

        it("assume: a user listed for its account may assume; a profile token cannot assume another profile", async () => {
            const p = await profile("assume-user");
            const q = await profile("assume-chain");
            const ownerIamId = decodeJwt(owner).claims.iam_id;
            const ids = await call(emu.url, "GET", `/v1/profiles/${p.id}/identities`, { token: owner });
            expectStatus(
                await call(emu.url, "PUT", `/v1/profiles/${p.id}/identities`, {
                    token: owner,
                    headers: { "If-Match": ids.body.entity_tag },
                    body: { identities: [{ identifier: ownerIamId, type: "user", accounts: [emu.accountId] }] },
                }),
                200,
            );
            const r = await tokenRequest(emu.url, { grant_type: ASSUME_GRANT, access_token: owner, profile_id: p.id });
            expectStatus(r, 200);
            const chained = await tokenRequest(emu.url, { grant_type: ASSUME_GRANT, access_token: r.body.access_token, profile_id: q.id });
            expectStatus(chained, 403);
            assert.strictEqual(chained.body.errorCode, "BXNIM0443E");
            const byName = await tokenRequest(emu.url, { grant_type: ASSUME_GRANT, access_token: owner, profile_name: "assume-user" });
            expectStatus(byName, 400);
            assert.match(byName.body.errorMessage, /'account' is missing/);
        });
    });

    describe("deleting a profile", () => {
        it("retires its policies (state deleted) and the IAM token it had stops working", async () => {
            const p = await profile("retire");
            const sid = await serviceIdWithKey(emu, owner, "retire-assumer");
            expectStatus(
                await call(emu.url, "POST", `/v1/profiles/${p.id}/identities/serviceid`, { token: owner, body: { identifier: sid.id, type: "serviceid" } }),
                200,
            );
            const policy = await call(emu.url, "POST", "/v1/policies", {
                token: owner,
                body: {
                    type: "access",
                    subjects: [{ attributes: [{ name: "iam_id", value: p.iam_id }] }],
                    roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Reader" }],
                    resources: [
                        {
                            attributes: [
                                { name: "accountId", value: emu.accountId },
                                { name: "serviceName", value: "kms" },
                            ],
                        },
                    ],
                },
            });
            expectStatus(policy, 201);
            const sidToken = await tokenFor(emu.url, sid.apikey);
            const assumed = await tokenRequest(emu.url, { grant_type: ASSUME_GRANT, access_token: sidToken, profile_id: p.id });
            expectStatus(assumed, 200);
            expectStatus(await call(emu.url, "GET", `/v1/profiles/${p.id}`, { token: assumed.body.access_token }), 200);
            expectStatus(await call(emu.url, "DELETE", `/v1/profiles/${p.id}`, { token: owner }), 204);
            expectStatus(await call(emu.url, "GET", `/v1/profiles?account_id=${emu.accountId}`, { token: assumed.body.access_token }), 401);
            const after = await call(emu.url, "GET", `/v1/policies/${policy.body.id}`, { token: owner });
            assert.strictEqual(after.body.state, "deleted");
        });
    });

    describe("VSI metadata service", () => {
        const vsi = () => `crn:v1:bluemix:public:is:us-south-1:a/${emu.accountId}::instance:i-meta`;
        const base = () => `/metadata/${encodeURIComponent(vsi())}`;

        it("needs Metadata-Flavor: ibm and the version of the path; expires_in is 5..3600", async () => {
            const noFlavor = await call(emu.url, "PUT", `${base()}/instance_identity/v1/token?version=2022-03-01`, { body: {} });
            expectStatus(noFlavor, 400);
            assert.match(noFlavor.text, /Metadata-Flavor/);
            const flavor = { "Metadata-Flavor": "ibm" };
            expectStatus(await call(emu.url, "PUT", `${base()}/instance_identity/v1/token?version=2025-08-26`, { body: {}, headers: flavor }), 400);
            expectStatus(
                await call(emu.url, "PUT", `${base()}/instance_identity/v1/token?version=2022-03-01`, { body: { expires_in: 4 }, headers: flavor }),
                400,
            );
            const ok = await call(emu.url, "PUT", `${base()}/identity/v1/token?version=2025-08-26`, { body: { expires_in: 60 }, headers: flavor });
            expectStatus(ok, 200);
            assert.deepStrictEqual(Object.keys(ok.body).sort(), ["access_token", "created_at", "expires_at", "expires_in"]);
            assert.strictEqual(ok.body.expires_in, 60);
        });

        it("another instance's identity token is refused (401)", async () => {
            const flavor = { "Metadata-Flavor": "ibm" };
            const other = `/metadata/${encodeURIComponent(`crn:v1:bluemix:public:is:us-south-1:a/${emu.accountId}::instance:i-other`)}`;
            const t = (await call(emu.url, "PUT", `${other}/instance_identity/v1/token?version=2022-03-01`, { body: {}, headers: flavor })).body.access_token;
            const r = await call(emu.url, "POST", `${base()}/instance_identity/v1/iam_token?version=2022-03-01`, {
                headers: { ...flavor, Authorization: `Bearer ${t}` },
            });
            expectStatus(r, 401);
        });
    });

    it("POST /__emulator/reset forgets every profile", async () => {
        await profile("before-reset");
        expectStatus(await call(emu.url, "POST", "/__emulator/reset"), 204);
        const r = await call(emu.url, "GET", `/v1/profiles?account_id=${emu.accountId}`, { token: owner });
        assert.deepStrictEqual(r.body.profiles, []);
    });
});
