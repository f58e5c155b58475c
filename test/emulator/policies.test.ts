// Contract of Policy Management v1, roles v2, and how policies grant IAM access.
import * as assert from "assert";
import * as crypto from "crypto";
import { RunningEmulator, startEmulator } from "../../emulator";
import { APIKEY_GRANT, call, expectStatus, grant, policyBody, ROLE, serviceIdWithKey, sleep, tokenFor, tokenRequest } from "./helpers";

const POLICY_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ETAG = /^(\d+)-[0-9a-f]{32}$/;

describe("emulator: Policy Management and roles", () => {
    let emu: RunningEmulator;
    let owner: string;
    let hpcs: string;

    before(async () => {
        emu = await startEmulator({ port: 0 });
        owner = await tokenFor(emu.url, emu.apiKey);
        hpcs = emu.instances[0].guid;
    });
    after(() => emu.stop());

    const post = (body: unknown, token = owner) => call(emu.url, "POST", "/v1/policies", { token, body });
    const hpcsWriter = (iamId: string) => policyBody(emu.accountId, iamId, [ROLE.writer], { serviceName: "hs-crypto", serviceInstance: hpcs });

    describe("policies", () => {
        it("creates a policy: 201, ETag, roles enriched, IBM timestamps, state active", async () => {
            const sid = await serviceIdWithKey(emu, owner, "p-create");
            const body = { ...hpcsWriter(sid.iamId), description: "app writes keys" };
            const r = await post(body);
            expectStatus(r, 201);
            assert.match(r.headers.get("etag") ?? "", ETAG);
            assert.strictEqual(Number(ETAG.exec(r.headers.get("etag")!)![1]), 1);
            const p = r.body;
            assert.match(p.id, /^[0-9a-f-]{36}$/);
            assert.strictEqual(p.type, "access");
            assert.strictEqual(p.description, "app writes keys");
            assert.deepStrictEqual(p.subjects, body.subjects);
            assert.deepStrictEqual(p.resources, body.resources);
            assert.strictEqual(p.roles.length, 1);
            assert.strictEqual(p.roles[0].role_id, ROLE.writer);
            assert.strictEqual(p.roles[0].display_name, "Writer");
            assert.ok(p.roles[0].description.length > 10);
            assert.strictEqual(p.href, `${emu.url}/v1/policies/${p.id}`);
            assert.match(p.created_at, POLICY_TIME);
            assert.match(p.last_modified_at, POLICY_TIME);
            assert.match(p.created_by_id, /^IBMid-/);
            assert.strictEqual(p.last_modified_by_id, p.created_by_id);
            assert.strictEqual(p.state, "active");

            const got = await call(emu.url, "GET", `/v1/policies/${p.id}`, { token: owner });
            expectStatus(got, 200);
            assert.strictEqual(got.headers.get("etag"), r.headers.get("etag"));
            assert.deepStrictEqual(got.body, p);
        });

        it("answers an identical policy with 409 policy_conflict_error naming the existing one", async () => {
            const sid = await serviceIdWithKey(emu, owner, "p-conflict");
            const first = await post(hpcsWriter(sid.iamId));
            expectStatus(first, 201);
            // same policy, attributes in another order
            const reordered = hpcsWriter(sid.iamId);
            reordered.resources[0].attributes.reverse();
            const again = await post(reordered);
            expectStatus(again, 409);
            const e = again.body.errors[0];
            assert.strictEqual(e.code, "policy_conflict_error");
            assert.strictEqual(e.details.conflicts_with.etag, first.headers.get("etag"));
            assert.strictEqual(e.details.conflicts_with.policy.id, first.body.id);
            assert.strictEqual(again.body.status_code, 409);
            // a different role set is a different policy
            const reader = policyBody(emu.accountId, sid.iamId, [ROLE.reader], { serviceName: "hs-crypto", serviceInstance: hpcs });
            expectStatus(await post(reader), 201);
        });

        it("validates bodies like IBM: invalid_body and role_not_found", async () => {
            const sid = await serviceIdWithKey(emu, owner, "p-validate");
            const good = hpcsWriter(sid.iamId);
            const cases: [string, unknown, string][] = [
                ["no type", { ...good, type: undefined }, "invalid_body"],
                ["bad type", { ...good, type: "deny" }, "invalid_body"],
                ["no roles", { ...good, roles: [] }, "invalid_body"],
                ["no subjects", { ...good, subjects: [] }, "invalid_body"],
                ["no accountId", policyBody("", sid.iamId, [ROLE.writer], { serviceName: "hs-crypto" }), "invalid_body"],
                ["no service scope", { ...good, resources: [{ attributes: [{ name: "accountId", value: emu.accountId }] }] }, "invalid_body"],
                [
                    "value too long",
                    policyBody(emu.accountId, sid.iamId, [ROLE.writer], { serviceName: "hs-crypto", serviceInstance: "x".repeat(1001) }),
                    "invalid_body",
                ],
                ["empty value", policyBody(emu.accountId, sid.iamId, [ROLE.writer], { serviceName: "" }), "invalid_body"],
                ["subject without iam- prefix", policyBody(emu.accountId, sid.id, [ROLE.writer], { serviceName: "hs-crypto" }), "invalid_body"],
                [
                    "unknown subject",
                    policyBody(emu.accountId, `iam-ServiceId-${crypto.randomUUID()}`, [ROLE.writer], { serviceName: "hs-crypto" }),
                    "invalid_body",
                ],
                ["kms role on hs-crypto", policyBody(emu.accountId, sid.iamId, [ROLE.kmsReaderPlus], { serviceName: "hs-crypto" }), "role_not_found"],
                [
                    "made-up role",
                    policyBody(emu.accountId, sid.iamId, ["crn:v1:bluemix:public:iam::::serviceRole:Boss"], { serviceName: "hs-crypto" }),
                    "role_not_found",
                ],
                [
                    "service role on account management",
                    policyBody(emu.accountId, sid.iamId, [ROLE.writer], { serviceType: "platform_service" }),
                    "role_not_found",
                ],
            ];
            for (const [label, body, code] of cases) {
                // the empty-accountId case is refused as a value, the others by their own rule
                const r = await post(body);
                expectStatus(r, 400);
                assert.strictEqual(r.body.errors[0].code, code, label);
            }
            const badJson = await call(emu.url, "POST", "/v1/policies", { token: owner, body: "{" });
            expectStatus(badJson, 400);
            assert.strictEqual(badJson.body.errors[0].code, "invalid_body");
            const otherAccount = await post(policyBody("f".repeat(32), sid.iamId, [ROLE.writer], { serviceName: "hs-crypto" }));
            expectStatus(otherAccount, 403);
            // service-specific roles are valid on their own service
            expectStatus(await post(policyBody(emu.accountId, sid.iamId, [ROLE.hpcsReaderPlus], { serviceName: "hs-crypto" })), 201);
            expectStatus(await post(policyBody(emu.accountId, sid.iamId, [ROLE.kmsReaderPlus], { serviceName: "kms" })), 201);
        });

        it("lists only with account_id, filters by iam_id/type/service_type/state, pages with limit/start", async () => {
            expectStatus(await call(emu.url, "GET", "/v1/policies", { token: owner }), 400);
            const sid = await serviceIdWithKey(emu, owner, "p-list");
            for (const role of [ROLE.reader, ROLE.writer, ROLE.manager]) {
                await grant(emu, owner, sid.iamId, [role], { serviceName: "hs-crypto", serviceInstance: hpcs });
            }
            await grant(emu, owner, sid.iamId, [ROLE.editor], { serviceName: "iam-identity" });
            const base = `/v1/policies?account_id=${emu.accountId}&iam_id=${sid.iamId}`;
            const all = await call(emu.url, "GET", base, { token: owner });
            expectStatus(all, 200);
            assert.strictEqual(all.body.policies.length, 4);
            assert.ok(all.body.first.href.startsWith(emu.url));
            assert.strictEqual(all.body.next, undefined);
            const services = await call(emu.url, "GET", `${base}&service_type=service`, { token: owner });
            assert.strictEqual(services.body.policies.length, 3);
            const platform = await call(emu.url, "GET", `${base}&service_type=platform_service`, { token: owner });
            assert.strictEqual(platform.body.policies.length, 1);
            const auth = await call(emu.url, "GET", `${base}&type=authorization`, { token: owner });
            assert.strictEqual(auth.body.policies.length, 0);
            const deleted = await call(emu.url, "GET", `${base}&state=deleted`, { token: owner });
            assert.strictEqual(deleted.body.policies.length, 0);

            const ids: string[] = [];
            let path: string | undefined = `${base}&limit=3`;
            while (path) {
                const r = await call(emu.url, "GET", path, { token: owner });
                expectStatus(r, 200);
                ids.push(...r.body.policies.map((p: { id: string }) => p.id));
                path = r.body.next ? new URL(r.body.next.href).pathname + new URL(r.body.next.href).search : undefined;
                if (r.body.next) assert.ok(r.body.next.start);
            }
            assert.strictEqual(new Set(ids).size, 4);
            expectStatus(await call(emu.url, "GET", `${base}&limit=0`, { token: owner }), 400);
        });

        it("replaces with If-Match: new ETag, stale → 412, type cannot change, missing → 400", async () => {
            const sid = await serviceIdWithKey(emu, owner, "p-replace");
            const created = await post(hpcsWriter(sid.iamId));
            const id = created.body.id;
            const etag = created.headers.get("etag")!;
            const put = (tag: string | undefined, body: unknown) =>
                call(emu.url, "PUT", `/v1/policies/${id}`, { token: owner, body, headers: tag ? { "If-Match": tag } : {} });
            const manager = policyBody(emu.accountId, sid.iamId, [ROLE.manager], { serviceName: "hs-crypto", serviceInstance: hpcs });
            const r = await put(etag, manager);
            expectStatus(r, 200);
            assert.strictEqual(Number(ETAG.exec(r.headers.get("etag")!)![1]), 2);
            assert.strictEqual(r.body.roles[0].role_id, ROLE.manager);
            assert.strictEqual(r.body.id, id);
            assert.strictEqual(r.body.created_at, created.body.created_at);

            const stale = await put(etag, hpcsWriter(sid.iamId));
            expectStatus(stale, 412);
            assert.strictEqual(stale.body.errors[0].code, "precondition_failed");
            expectStatus(await put(undefined, manager), 400);
            const typeChange = await put(r.headers.get("etag")!, { ...manager, type: "authorization" });
            expectStatus(typeChange, 400);
            assert.strictEqual(typeChange.body.errors[0].code, "invalid_body");
            expectStatus(await call(emu.url, "PUT", `/v1/policies/${crypto.randomUUID()}`, { token: owner, body: manager, headers: { "If-Match": "*" } }), 404);
        });

        it("deletes: 204, then 404 policy_not_found", async () => {
            const sid = await serviceIdWithKey(emu, owner, "p-delete");
            const p = (await post(hpcsWriter(sid.iamId))).body;
            expectStatus(await call(emu.url, "DELETE", `/v1/policies/${p.id}`, { token: owner }), 204);
            const gone = await call(emu.url, "GET", `/v1/policies/${p.id}`, { token: owner });
            expectStatus(gone, 404);
            assert.strictEqual(gone.body.errors[0].code, "policy_not_found");
            expectStatus(await call(emu.url, "DELETE", `/v1/policies/${p.id}`, { token: owner }), 404);
        });

        it("refuses policy writes whose subject is a locked service ID (409 entity_locked)", async () => {
            const sid = await serviceIdWithKey(emu, owner, "p-locked");
            const p = await post(hpcsWriter(sid.iamId));
            expectStatus(await call(emu.url, "POST", `/v1/serviceids/${sid.id}/lock`, { token: owner }), 204);
            const create = await post(policyBody(emu.accountId, sid.iamId, [ROLE.reader], { serviceName: "hs-crypto" }));
            expectStatus(create, 409);
            assert.strictEqual(create.body.errors[0].code, "entity_locked");
            expectStatus(await call(emu.url, "DELETE", `/v1/policies/${p.body.id}`, { token: owner }), 409);
            expectStatus(await call(emu.url, "DELETE", `/v1/serviceids/${sid.id}/lock`, { token: owner }), 204);
            expectStatus(await call(emu.url, "DELETE", `/v1/policies/${p.body.id}`, { token: owner }), 204);
        });

        it("deleting a service ID deletes its API keys and leaves its policies in state deleted", async () => {
            const sid = await serviceIdWithKey(emu, owner, "p-cascade");
            const second = await call(emu.url, "POST", "/v1/apikeys", { token: owner, body: { iam_id: sid.iamId, name: "second" } });
            expectStatus(second, 201);
            const p = (await post(hpcsWriter(sid.iamId))).body;

            // a locked key makes the cascade fail, and nothing is deleted
            expectStatus(await call(emu.url, "POST", `/v1/apikeys/${second.body.id}/lock`, { token: owner }), 204);
            const blocked = await call(emu.url, "DELETE", `/v1/serviceids/${sid.id}`, { token: owner });
            expectStatus(blocked, 409);
            assert.strictEqual(blocked.body.errors[0].code, "entity_locked");
            expectStatus(await call(emu.url, "GET", `/v1/apikeys/${sid.apikeyId}`, { token: owner }), 200);
            expectStatus(await call(emu.url, "DELETE", `/v1/apikeys/${second.body.id}/lock`, { token: owner }), 204);

            expectStatus(await call(emu.url, "DELETE", `/v1/serviceids/${sid.id}`, { token: owner }), 204);
            expectStatus(await call(emu.url, "GET", `/v1/apikeys/${sid.apikeyId}`, { token: owner }), 404);
            expectStatus(await call(emu.url, "GET", `/v1/apikeys/${second.body.id}`, { token: owner }), 404);
            const exchange = await tokenRequest(emu.url, { grant_type: APIKEY_GRANT, apikey: sid.apikey });
            expectStatus(exchange, 400);
            assert.strictEqual(exchange.body.errorCode, "BXNIM0415E");

            const got = await call(emu.url, "GET", `/v1/policies/${p.id}`, { token: owner });
            expectStatus(got, 200);
            assert.strictEqual(got.body.state, "deleted");
            const active = await call(emu.url, "GET", `/v1/policies?account_id=${emu.accountId}&iam_id=${sid.iamId}`, { token: owner });
            assert.strictEqual(active.body.policies.length, 0);
            const deleted = await call(emu.url, "GET", `/v1/policies?account_id=${emu.accountId}&iam_id=${sid.iamId}&state=deleted`, { token: owner });
            assert.deepStrictEqual(
                deleted.body.policies.map((x: { id: string }) => x.id),
                [p.id],
            );
            // the orphan cannot be replaced or deleted: the trap a destroy must tolerate
            expectStatus(await call(emu.url, "DELETE", `/v1/policies/${p.id}`, { token: owner }), 404);
        });
    });

    describe("roles", () => {
        const CRN = "crn:v1:bluemix:public:";
        it("lists hs-crypto roles with IBM's CRNs", async () => {
            const r = await call(emu.url, "GET", `/v2/roles?service_name=hs-crypto&account_id=${emu.accountId}`, { token: owner });
            expectStatus(r, 200);
            assert.deepStrictEqual(r.body.custom_roles, []);
            assert.deepStrictEqual(
                r.body.system_roles.map((x: { crn: string }) => x.crn),
                ["Viewer", "Operator", "Editor", "Administrator"].map((n) => `${CRN}iam::::role:${n}`),
            );
            assert.deepStrictEqual(
                r.body.service_roles.map((x: { crn: string }) => x.crn).sort(),
                [
                    ...["Reader", "Writer", "Manager"].map((n) => `${CRN}iam::::serviceRole:${n}`),
                    ...[
                        "ReaderPlus",
                        "KeyPurge",
                        "CertificateManager",
                        "VMwareKMIPManager",
                        "VaultAdministrator",
                        "KeyCustodianCreator",
                        "KeyCustodianDeployer",
                    ].map((n) => `${CRN}hs-crypto::::serviceRole:${n}`),
                ].sort(),
            );
            for (const role of [...r.body.system_roles, ...r.body.service_roles]) {
                assert.deepStrictEqual(Object.keys(role).sort(), ["actions", "crn", "description", "display_name"]);
                assert.ok(Array.isArray(role.actions) && role.actions.length > 0, role.crn);
            }
            const readerPlus = r.body.service_roles.find((x: { crn: string }) => x.crn.endsWith(":ReaderPlus"));
            assert.ok(readerPlus.actions.includes("hs-crypto.secrets.read"));
        });

        it("lists kms roles and generic roles for other services", async () => {
            const kms = await call(emu.url, "GET", `/v2/roles?service_name=kms&account_id=${emu.accountId}`, { token: owner });
            assert.deepStrictEqual(
                kms.body.service_roles.map((x: { crn: string }) => x.crn).sort(),
                [
                    ...["Reader", "Writer", "Manager"].map((n) => `${CRN}iam::::serviceRole:${n}`),
                    `${CRN}kms::::serviceRole:KeyPurge`,
                    `${CRN}kms::::serviceRole:ReaderPlus`,
                ].sort(),
            );
            const cos = await call(emu.url, "GET", `/v2/roles?service_name=cloud-object-storage&account_id=${emu.accountId}`, { token: owner });
            assert.deepStrictEqual(
                cos.body.service_roles.map((x: { display_name: string }) => x.display_name),
                ["Reader", "Writer", "Manager"],
            );
            expectStatus(await call(emu.url, "GET", "/v2/roles?service_name=kms"), 401);
        });
    });

    describe("access through policies", () => {
        it("a service ID needs Editor/Administrator on iam-identity to write identities", async () => {
            const sid = await serviceIdWithKey(emu, owner, "identity-editor");
            const token = await tokenFor(emu.url, sid.apikey);
            const make = () => call(emu.url, "POST", "/v1/serviceids/", { token, body: { account_id: emu.accountId, name: "made-by-sid" } });
            expectStatus(await make(), 403);
            await grant(emu, owner, sid.iamId, [ROLE.viewer], { serviceName: "iam-identity" });
            expectStatus(await make(), 403);
            await grant(emu, owner, sid.iamId, [ROLE.editor], { serviceName: "iam-identity" });
            const made = await make();
            expectStatus(made, 201);
            const key = await call(emu.url, "POST", "/v1/apikeys", { token, body: { iam_id: made.body.iam_id, name: "k" } });
            expectStatus(key, 201);
            assert.strictEqual(key.body.created_by, sid.iamId);
        });

        it("Editor on all account management services also grants identity writes", async () => {
            const sid = await serviceIdWithKey(emu, owner, "acct-mgmt-editor");
            await grant(emu, owner, sid.iamId, [ROLE.editor], { serviceType: "platform_service" });
            const token = await tokenFor(emu.url, sid.apikey);
            expectStatus(await call(emu.url, "POST", "/v1/serviceids/", { token, body: { account_id: emu.accountId, name: "x" } }), 201);
        });

        it("policy writes need Administrator on the policy's target service", async () => {
            const admin = await serviceIdWithKey(emu, owner, "hpcs-admin");
            const subject = await serviceIdWithKey(emu, owner, "subject");
            const token = await tokenFor(emu.url, admin.apikey);
            const body = hpcsWriter(subject.iamId);
            const denied = await post(body, token);
            expectStatus(denied, 403);
            assert.strictEqual(denied.body.errors[0].code, "insufficent_permissions");
            await grant(emu, owner, admin.iamId, [ROLE.administrator], { serviceName: "hs-crypto" });
            expectStatus(await post(body, token), 201);
            const identity = policyBody(emu.accountId, subject.iamId, [ROLE.editor], { serviceName: "iam-identity" });
            expectStatus(await post(identity, token), 403);
        });
    });

    describe("propagation delay", () => {
        let slow: RunningEmulator;
        before(async () => {
            slow = await startEmulator({ port: 0, policyPropagationDelayMs: 400 });
        });
        after(() => slow.stop());

        it("a new policy only grants access after policyPropagationDelayMs", async () => {
            const o = await tokenFor(slow.url, slow.apiKey);
            const sid = await serviceIdWithKey(slow, o, "slow");
            const token = await tokenFor(slow.url, sid.apikey);
            const make = () => call(slow.url, "POST", "/v1/serviceids/", { token, body: { account_id: slow.accountId, name: "later" } });
            await grant(slow, o, sid.iamId, [ROLE.editor], { serviceName: "iam-identity" });
            expectStatus(await make(), 403);
            await sleep(450);
            expectStatus(await make(), 201);
        });
    });
});
