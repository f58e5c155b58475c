// Conformance: IBM's own IamPolicyManagementV1 against the emulator — policies v1 (access and authorization)
// and /v2/roles — asserting what IBM's reference, typings and SDK integration tests say IBM answers.
import * as assert from "assert";
import * as crypto from "crypto";
import { clientsFor, ETAG, IbmClients, POLICY_DOCS, POLICY_TIME, rejected, startWithIbmClients } from "./support";

const VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer";
const EDITOR = "crn:v1:bluemix:public:iam::::role:Editor";
const READER = "crn:v1:bluemix:public:iam::::serviceRole:Reader";
const WRITER = "crn:v1:bluemix:public:iam::::serviceRole:Writer";

describe("conformance: Policy Management v1 and roles through IBM's SDK", function () {
    this.timeout(30000);
    let c: IbmClients;
    let account: string;
    let hpcs: string;

    before(async () => {
        c = await startWithIbmClients();
        account = c.emu.accountId;
        hpcs = c.emu.instances[0].guid;
    });
    after(async () => c?.emu.stop());

    describe("access policies (IBM's integration test, step by step)", () => {
        // IBM's test: a made-up user, Viewer on all IAM-enabled services, with a tag
        const testUserId = `IBMid-SDKNode${crypto.randomInt(100000)}`;
        const subjects = [{ attributes: [{ name: "iam_id", value: testUserId }] }];
        const resources = () => [
            {
                attributes: [
                    { name: "accountId", value: account, operator: "stringEquals" },
                    { name: "serviceType", value: "service", operator: "stringEquals" },
                ],
                tags: [{ name: "project", operator: "stringEquals", value: "prototype" }],
            },
        ];
        let id: string;
        let etag: string;

        it("create for a user IBM never checks: 201, subjects and resources echoed, ETag", async () => {
            const r = await c.policies.createPolicy({ type: "access", subjects, roles: [{ role_id: VIEWER }], resources: resources() });
            assert.strictEqual(r.status, 201);
            assert.strictEqual(r.result.type, "access");
            assert.deepStrictEqual(r.result.subjects, subjects);
            assert.strictEqual(r.result.roles[0].role_id, VIEWER);
            assert.strictEqual(r.result.roles[0].display_name, "Viewer");
            assert.deepStrictEqual(r.result.resources, resources());
            assert.strictEqual(r.result.state, "active");
            assert.match(r.result.created_at!, POLICY_TIME);
            assert.match(String(r.headers.etag), ETAG);
            assert.strictEqual(r.result.href, `${c.emu.url}/v1/policies/${r.result.id}`);
            id = r.result.id!;
        });

        it("get: 200, ETag header", async () => {
            const r = await c.policies.getPolicy({ policyId: id });
            assert.strictEqual(r.status, 200);
            assert.strictEqual(r.result.id, id);
            assert.deepStrictEqual(r.result.subjects, subjects);
            assert.deepStrictEqual(r.result.resources, resources());
            assert.match(String(r.headers.etag), ETAG);
            etag = String(r.headers.etag);
        });

        it("replace with If-Match: 200, new role, new ETag; the old ETag is then stale", async () => {
            const r = await c.policies.replacePolicy({
                policyId: id,
                ifMatch: etag,
                type: "access",
                subjects,
                roles: [{ role_id: EDITOR }],
                resources: resources(),
            });
            assert.strictEqual(r.status, 200);
            assert.strictEqual(r.result.roles[0].role_id, EDITOR);
            assert.notStrictEqual(r.headers.etag, etag);
            const stale = await rejected(
                c.policies.replacePolicy({ policyId: id, ifMatch: etag, type: "access", subjects, roles: [{ role_id: VIEWER }], resources: resources() }),
                412,
            );
            assert.strictEqual(stale.body.errors[0].more_info, POLICY_DOCS);
            etag = String(r.headers.etag);
        });

        it("patch the state with If-Match (updatePolicyState): 200 active, then deleted and back", async () => {
            const same = await c.policies.updatePolicyState({ policyId: id, ifMatch: etag, state: "active" });
            assert.strictEqual(same.status, 200);
            assert.strictEqual(same.result.state, "active");
            assert.deepStrictEqual(same.result.resources, resources());
            assert.strictEqual(same.headers.etag, etag, "nothing changed: same version");
            const deleted = await c.policies.updatePolicyState({ policyId: id, ifMatch: etag, state: "deleted" });
            assert.strictEqual(deleted.result.state, "deleted");
            assert.notStrictEqual(deleted.headers.etag, etag);
            const listedDeleted = await c.policies.listPolicies({ accountId: account, iamId: testUserId, state: "deleted" });
            assert.ok(listedDeleted.result.policies.some((p) => p.id === id));
            await rejected(c.policies.updatePolicyState({ policyId: id, ifMatch: etag, state: "active" }), 412);
            const restored = await c.policies.updatePolicyState({ policyId: id, ifMatch: String(deleted.headers.etag), state: "active" });
            assert.strictEqual(restored.result.state, "active");
            etag = String(restored.headers.etag);
            const bad = await rejected(c.policies.updatePolicyState({ policyId: id, ifMatch: etag, state: "paused" }), 400);
            assert.strictEqual(bad.body.errors[0].code, "invalid_body");
        });

        it("list by account and iam_id: 200 with the policy", async () => {
            const r = await c.policies.listPolicies({ accountId: account, iamId: testUserId });
            assert.strictEqual(r.status, 200);
            assert.ok(r.result.policies.some((p) => p.id === id));
            assert.ok(r.result.first?.href);
        });

        it("delete: 204, then 404 policy_not_found", async () => {
            assert.strictEqual((await c.policies.deletePolicy({ policyId: id })).status, 204);
            const gone = await rejected(c.policies.getPolicy({ policyId: id }), 404);
            assert.strictEqual(gone.body.errors[0].code, "policy_not_found");
            assert.strictEqual(gone.body.errors[0].more_info, POLICY_DOCS);
        });

        it("a policy for a user nobody can log in as grants nothing: the made-up user's Administrator does not reach a service ID", async () => {
            const ghost = `IBMid-${crypto.randomInt(1e9)}`;
            await c.policies.createPolicy({
                type: "access",
                subjects: [{ attributes: [{ name: "iam_id", value: ghost }] }],
                roles: [{ role_id: "crn:v1:bluemix:public:iam::::role:Administrator" }],
                resources: [
                    {
                        attributes: [
                            { name: "accountId", value: account },
                            { name: "serviceName", value: "iam-identity" },
                        ],
                    },
                ],
            });
            const sid = (await c.identity.createServiceId({ accountId: account, name: "conf-no-access", apikey: { name: "k" } })).result;
            const asSid = clientsFor(c.emu, sid.apikey!.apikey!);
            await rejected(asSid.identity.createServiceId({ accountId: account, name: "not-allowed" }), 403);
        });
    });

    describe("list filters and paging", () => {
        it("filters by iam_id, type and service_type; pages with limit and the next start token", async () => {
            const sid = (await c.identity.createServiceId({ accountId: account, name: "conf-list" })).result;
            for (const role of [READER, WRITER, "crn:v1:bluemix:public:iam::::serviceRole:Manager"]) {
                await c.policies.createPolicy({
                    type: "access",
                    subjects: [{ attributes: [{ name: "iam_id", value: sid.iam_id! }] }],
                    roles: [{ role_id: role }],
                    resources: [
                        {
                            attributes: [
                                { name: "accountId", value: account },
                                { name: "serviceName", value: "hs-crypto" },
                                { name: "serviceInstance", value: hpcs },
                            ],
                        },
                    ],
                });
            }
            const mine = await c.policies.listPolicies({ accountId: account, iamId: sid.iam_id!, type: "access", serviceType: "service" });
            assert.strictEqual(mine.result.policies.length, 3);
            const first = await c.policies.listPolicies({ accountId: account, iamId: sid.iam_id!, limit: 2 });
            assert.strictEqual(first.result.policies.length, 2);
            assert.strictEqual(first.result.limit, 2);
            const start = new URL(first.result.next!.href!).searchParams.get("start")!;
            const second = await c.policies.listPolicies({ accountId: account, iamId: sid.iam_id!, limit: 2, start });
            assert.strictEqual(second.result.policies.length, 1);
            assert.strictEqual(second.result.next, undefined);
            assert.deepStrictEqual((await c.policies.listPolicies({ accountId: account, iamId: sid.iam_id!, type: "authorization" })).result.policies, []);
        });
    });

    describe("authorization policies (service to service)", () => {
        const cosSubject = (extra: { name: string; value: string }[] = []) => [
            { attributes: [{ name: "accountId", value: account }, { name: "serviceName", value: "cloud-object-storage" }, ...extra] },
        ];
        const kmsTarget = (extra: { name: string; value: string }[] = []) => [
            {
                attributes: [
                    { name: "accountId", value: account },
                    { name: "serviceName", value: "hs-crypto" },
                    { name: "serviceInstance", value: hpcs },
                    ...extra,
                ],
            },
        ];

        it("create (source service → HPCS instance, Reader): 201, stored as type authorization; an identical one is 409", async () => {
            const body = { type: "authorization", subjects: cosSubject(), roles: [{ role_id: READER }], resources: kmsTarget() };
            const r = await c.policies.createPolicy(body);
            assert.strictEqual(r.status, 201);
            assert.strictEqual(r.result.type, "authorization");
            assert.deepStrictEqual(r.result.subjects, cosSubject());
            assert.strictEqual(r.result.roles[0].display_name, "Reader");
            const dup = await rejected(c.policies.createPolicy(body), 409);
            assert.strictEqual(dup.body.errors[0].code, "policy_conflict_error");
            assert.strictEqual((dup.body.errors[0].details as { conflicts_with: { policy: { id: string } } }).conflicts_with.policy.id, r.result.id);
            const state = (await (await fetch(`${c.emu.url}/__emulator/state`)).json()) as { policies: { id: string; type: string }[] };
            assert.strictEqual(state.policies.find((p) => p.id === r.result.id)?.type, "authorization");
        });

        it("a source instance / resource group and a single key as target: 201; listed with type=authorization", async () => {
            const keyId = crypto.randomUUID();
            const one = await c.policies.createPolicy({
                type: "authorization",
                subjects: cosSubject([
                    { name: "serviceInstance", value: crypto.randomUUID() },
                    { name: "resourceType", value: "bucket" },
                ]),
                roles: [{ role_id: READER }],
                resources: kmsTarget([
                    { name: "resourceType", value: "key" },
                    { name: "resource", value: keyId },
                ]),
            });
            assert.strictEqual(one.status, 201);
            const group = await c.policies.createPolicy({
                type: "authorization",
                subjects: [
                    {
                        attributes: [
                            { name: "accountId", value: account },
                            { name: "resourceGroupId", value: "0123456789abcdef0123456789abcdef" },
                        ],
                    },
                ],
                roles: [{ role_id: READER }],
                resources: kmsTarget(),
            });
            assert.strictEqual(group.status, 201);
            const listed = await c.policies.listPolicies({ accountId: account, type: "authorization" });
            const ids = listed.result.policies.map((p) => p.id);
            assert.ok(ids.includes(one.result.id) && ids.includes(group.result.id));
            assert.ok(listed.result.policies.every((p) => p.type === "authorization"));
        });

        it("refuses a subject without accountId, or without serviceName and resourceGroupId, and a role the target does not have", async () => {
            const cases = [
                [{ attributes: [{ name: "serviceName", value: "cloud-object-storage" }] }],
                [{ attributes: [{ name: "accountId", value: account }] }],
            ];
            for (const subjects of cases) {
                const r = await rejected(
                    c.policies.createPolicy({ type: "authorization", subjects, roles: [{ role_id: READER }], resources: kmsTarget() }),
                    400,
                );
                assert.strictEqual(r.body.errors[0].code, "invalid_body");
            }
            const role = await rejected(
                c.policies.createPolicy({
                    type: "authorization",
                    subjects: cosSubject(),
                    roles: [{ role_id: "crn:v1:bluemix:public:kms::::serviceRole:ReaderPlus" }],
                    resources: kmsTarget(),
                }),
                400,
            );
            assert.strictEqual(role.body.errors[0].code, "role_not_found");
        });
    });

    describe("roles (/v2/roles)", () => {
        it("by service name: the service's roles and the platform roles, each with IBM's fields", async () => {
            const r = await c.policies.listRoles({ accountId: account, serviceName: "hs-crypto" });
            assert.strictEqual(r.status, 200);
            assert.deepStrictEqual(r.result.custom_roles, []);
            const crns = r.result.service_roles.map((x) => x.crn);
            assert.ok(crns.includes(READER) && crns.includes("crn:v1:bluemix:public:hs-crypto::::serviceRole:KeyPurge"));
            assert.deepStrictEqual(
                r.result.system_roles.map((x) => x.display_name),
                ["Viewer", "Operator", "Editor", "Administrator"],
            );
            for (const role of [...r.result.service_roles, ...r.result.system_roles]) {
                assert.ok(role.display_name && role.description && role.crn && Array.isArray(role.actions), JSON.stringify(role));
            }
        });

        it("by service group IAM: the service roles of IAM's services, such as iam-identity's ServiceIdCreator", async () => {
            const r = await c.policies.listRoles({ serviceGroupId: "IAM" });
            assert.strictEqual(r.status, 200);
            const crns = r.result.service_roles.map((x) => x.crn);
            assert.ok(crns.includes("crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator"), crns.join(", "));
            assert.ok(!crns.includes(READER), "no generic service roles: IAM's services are account management services");
            await rejected(c.policies.listRoles({ serviceGroupId: "IAM", serviceName: "hs-crypto" }), 400);
        });
    });
});
