import * as assert from "assert";
import { startEmulator, RunningEmulator } from "../../emulator";
import { IamClient, IamTokenManager, IbmCloudError, isNotFound, isEtagMismatch, isPolicyConflict, PolicyBody, resolveCloudSettings } from "../../client";
import { startLocalServer, LocalServer, json, Handler } from "../support/localServer";

interface AdminState {
    serviceIds: Array<{ id: string; name: string; locked: boolean; description?: string }>;
    apiKeys: Array<{ id: string; iam_id: string; disabled?: boolean; locked?: boolean; apikey?: string }>;
    policies: Array<{ id: string; state: string }>;
    counts: { tokenRequests: number };
}

describe("iamClient: IamClient against the emulator", function () {
    let emu: RunningEmulator;
    let iam: IamClient;
    const clients: IamClient[] = [];

    function clientFor(apiKey: string, pageSize?: number): IamClient {
        const c = new IamClient({ tokenManager: new IamTokenManager({ apiKey, iamEndpoint: emu.url }), ...(pageSize ? { pageSize } : {}) });
        clients.push(c);
        return c;
    }
    async function state(): Promise<AdminState> {
        const res = await fetch(`${emu.url}/__emulator/state`);
        return (await res.json()) as AdminState;
    }

    before(async () => {
        emu = await startEmulator({ port: 0 });
        iam = clientFor(emu.apiKey);
    });
    after(async () => {
        await Promise.all(clients.map((c) => c.http.close()));
        await emu.stop();
    });

    it("builds from resolved settings and reads the account from the token", async () => {
        const c = IamClient.fromSettings(resolveCloudSettings({ apiKey: emu.apiKey, iamEndpoint: emu.url }, {}));
        clients.push(c);
        assert.strictEqual(await c.accountId(), emu.accountId);
    });

    describe("service IDs", () => {
        it("create → get → update with the entity tag → delete, as the emulator stores it", async () => {
            const created = await iam.createServiceId({ name: "app-one", description: "first" });
            assert.match(created.id, /^ServiceId-/);
            assert.strictEqual(created.iam_id, `iam-${created.id}`);
            assert.strictEqual(created.account_id, emu.accountId, "account defaults to the token's account");
            assert.strictEqual((await iam.getServiceId(created.id)).description, "first");

            const updated = await iam.updateServiceId(created.id, created.entity_tag, { name: "app-one-renamed", description: "" });
            assert.strictEqual(updated.name, "app-one-renamed");
            assert.notStrictEqual(updated.entity_tag, created.entity_tag);
            const stored = (await state()).serviceIds.find((s) => s.id === created.id);
            assert.strictEqual(stored?.name, "app-one-renamed");
            assert.strictEqual(stored?.description, undefined, "an empty description clears it");

            assert.strictEqual(await iam.deleteServiceId(created.id), true);
            assert.ok(!(await state()).serviceIds.some((s) => s.id === created.id));
            assert.strictEqual(await iam.deleteServiceId(created.id), false, "a second delete finds it gone");
            await assert.rejects(iam.getServiceId(created.id), (e: unknown) => isNotFound(e));
        });

        it("a stale entity tag fails as an etag mismatch and changes nothing", async () => {
            const s = await iam.createServiceId({ name: "tagged" });
            await iam.updateServiceId(s.id, s.entity_tag, { description: "v2" });
            await assert.rejects(iam.updateServiceId(s.id, s.entity_tag, { description: "v3" }), (err: unknown) => {
                assert.ok(isEtagMismatch(err));
                assert.match((err as Error).message, /^update service ID failed: 412 entity_tag_mismatch \(BXNIM\d+E\): .+ \[trace [0-9a-f-]+\]$/);
                return true;
            });
            assert.strictEqual((await iam.getServiceId(s.id)).description, "v2");
        });

        it("Entity-Lock creates it locked; a locked service ID refuses changes until unlocked", async () => {
            const s = await iam.createServiceId({ name: "locked-one" }, { locked: true });
            assert.strictEqual(s.locked, true);
            await assert.rejects(
                iam.deleteServiceId(s.id),
                (err: unknown) => err instanceof IbmCloudError && err.status === 409 && err.code === "entity_locked",
            );
            await iam.unlockServiceId(s.id);
            assert.strictEqual((await iam.getServiceId(s.id)).locked, false);
            await iam.lockServiceId(s.id);
            assert.strictEqual((await state()).serviceIds.find((x) => x.id === s.id)?.locked, true);
            await iam.unlockServiceId(s.id);
            assert.strictEqual(await iam.deleteServiceId(s.id), true);
        });

        it("list follows every page and filters by name", async () => {
            const small = clientFor(emu.apiKey, 4);
            const made = [];
            for (let i = 0; i < 11; i++) made.push(await iam.createServiceId({ name: "paged" }));
            await iam.createServiceId({ name: "paged-not" });
            const listed = await small.listServiceIds({ name: "paged" });
            assert.deepStrictEqual(listed.map((s) => s.id).sort(), made.map((s) => s.id).sort());
            const all = await small.listServiceIds();
            assert.strictEqual(all.length, (await state()).serviceIds.length);
        });
    });

    describe("API keys", () => {
        let sid: { id: string; iam_id: string };
        before(async () => {
            sid = await iam.createServiceId({ name: "key-holder" });
        });

        it("a created key's value works: it exchanges for a token of the service ID", async () => {
            const key = await iam.createApiKey({ name: "k1", iam_id: sid.iam_id, description: "d" });
            assert.ok(key.apikey && key.apikey.length >= 32);
            const asApp = clientFor(key.apikey!);
            const info = await asApp.tokenInfo();
            assert.strictEqual(info.iamId, sid.iam_id);
            assert.strictEqual(info.accountId, emu.accountId);
        });

        it("store_value lets get return the value; details-by-value finds the key", async () => {
            const key = await iam.createApiKey({ name: "stored", iam_id: sid.iam_id, store_value: true });
            assert.strictEqual((await iam.getApiKey(key.id)).apikey, key.apikey);
            const details = await iam.getApiKeyDetailsByValue(key.apikey!);
            assert.strictEqual(details.id, key.id);
        });

        it("brings its own value, and a rejected value never appears in the error", async () => {
            const own = "BringYourOwn_" + "x".repeat(30);
            const key = await iam.createApiKey({ name: "byo", iam_id: sid.iam_id, apikey: own });
            assert.strictEqual(key.apikey, own);
            const tooShort = "short_value_abc";
            await assert.rejects(iam.createApiKey({ name: "bad", iam_id: sid.iam_id, apikey: tooShort }), (err: unknown) => {
                assert.ok(err instanceof IbmCloudError);
                assert.strictEqual(err.status, 400);
                assert.ok(!err.message.includes(tooShort));
                return true;
            });
        });

        it("Entity-Disable creates a key that cannot be used until enabled; IBM's BXNIM0415E comes through", async () => {
            const key = await iam.createApiKey({ name: "off", iam_id: sid.iam_id }, { disabled: true });
            assert.strictEqual(key.disabled, true);
            await assert.rejects(clientFor(key.apikey!).accountId(), (err: unknown) => {
                assert.ok(err instanceof IbmCloudError);
                assert.strictEqual(err.messageCode, "BXNIM0415E");
                assert.ok(!err.message.includes(key.apikey!), "the key value is not in the message");
                return true;
            });
            await iam.enableApiKey(key.id);
            assert.strictEqual(await clientFor(key.apikey!).accountId(), emu.accountId);
            await iam.disableApiKey(key.id);
            assert.strictEqual((await state()).apiKeys.find((k) => k.id === key.id)?.disabled, true);
        });

        it("update needs the entity tag; lock blocks delete; delete is idempotent", async () => {
            const key = await iam.createApiKey({ name: "upd", iam_id: sid.iam_id }, { locked: true });
            assert.strictEqual(key.locked, true);
            await iam.unlockApiKey(key.id);
            const fresh = await iam.getApiKey(key.id);
            const updated = await iam.updateApiKey(key.id, fresh.entity_tag, { name: "upd2", action_when_leaked: "delete" });
            assert.strictEqual(updated.name, "upd2");
            assert.strictEqual(updated.action_when_leaked, "delete");
            await assert.rejects(iam.updateApiKey(key.id, fresh.entity_tag, { name: "upd3" }), isEtagMismatch);
            await iam.lockApiKey(key.id);
            await assert.rejects(iam.deleteApiKey(key.id), (e: unknown) => e instanceof IbmCloudError && e.code === "entity_locked");
            await iam.unlockApiKey(key.id);
            assert.strictEqual(await iam.deleteApiKey(key.id), true);
            assert.strictEqual(await iam.deleteApiKey(key.id), false);
        });

        it("lists every key of one identity across pages", async () => {
            const other = await iam.createServiceId({ name: "many-keys" });
            const made = [];
            for (let i = 0; i < 7; i++) made.push((await iam.createApiKey({ name: `m${i}`, iam_id: other.iam_id })).id);
            const listed = await clientFor(emu.apiKey, 3).listApiKeys({ iamId: other.iam_id });
            assert.deepStrictEqual(listed.map((k) => k.id).sort(), made.sort());
            assert.ok(
                listed.every((k) => k.apikey === undefined),
                "list never carries values",
            );
        });

        it("deleting a service ID deletes its keys", async () => {
            const s = await iam.createServiceId({ name: "cascade" });
            const k = await iam.createApiKey({ name: "c", iam_id: s.iam_id });
            await iam.deleteServiceId(s.id);
            assert.ok(!(await state()).apiKeys.some((x) => x.id === k.id));
        });

        it("a service ID with an inline key returns the key in the create response", async () => {
            const s = await iam.createServiceId({ name: "with-key", apikey: { name: "inline", store_value: true } });
            assert.ok(s.apikey?.apikey);
            assert.strictEqual(s.apikey?.iam_id, s.iam_id);
        });
    });

    describe("policies and roles", () => {
        let subject: { id: string; iam_id: string };
        const body = (iamId: string, role = "Writer", instance = "inst-1"): PolicyBody => ({
            type: "access",
            description: "app may use keys",
            subjects: [{ attributes: [{ name: "iam_id", value: iamId }] }],
            roles: [{ role_id: `crn:v1:bluemix:public:iam::::serviceRole:${role}` }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: emu.accountId, operator: "stringEquals" },
                        { name: "serviceName", value: "hs-crypto", operator: "stringEquals" },
                        { name: "serviceInstance", value: instance, operator: "stringEquals" },
                    ],
                },
            ],
        });
        before(async () => {
            subject = await iam.createServiceId({ name: "policy-subject" });
        });

        it("create returns the policy with its ETag; get and replace use it", async () => {
            const created = await iam.createPolicy(body(subject.iam_id));
            assert.ok(created.etag, "ETag header is returned");
            assert.strictEqual(created.policy.state, "active");
            const got = await iam.getPolicy(created.policy.id);
            assert.strictEqual(got.etag, created.etag);
            const replaced = await iam.replacePolicy(created.policy.id, got.etag, body(subject.iam_id, "Manager"));
            assert.notStrictEqual(replaced.etag, got.etag);
            assert.match(replaced.policy.roles[0].role_id, /Manager$/);
            await assert.rejects(iam.replacePolicy(created.policy.id, got.etag, body(subject.iam_id, "Reader")), isEtagMismatch);
            assert.strictEqual(await iam.deletePolicy(created.policy.id), true);
            assert.strictEqual(await iam.deletePolicy(created.policy.id), false);
        });

        it("an identical policy is a conflict naming the existing policy", async () => {
            const first = await iam.createPolicy(body(subject.iam_id, "Reader", "inst-dup"));
            await assert.rejects(iam.createPolicy(body(subject.iam_id, "Reader", "inst-dup")), (err: unknown) => {
                assert.ok(isPolicyConflict(err));
                assert.strictEqual(err.conflictingPolicyId, first.policy.id);
                return true;
            });
        });

        it("list follows pages and filters by subject", async () => {
            const s = await iam.createServiceId({ name: "many-policies" });
            const ids = [];
            for (let i = 0; i < 5; i++) ids.push((await iam.createPolicy(body(s.iam_id, "Reader", `inst-p${i}`))).policy.id);
            const listed = await clientFor(emu.apiKey, 2).listPolicies({ iamId: s.iam_id });
            assert.deepStrictEqual(listed.map((p) => p.id).sort(), ids.sort());
        });

        it("lists the roles of a service", async () => {
            const roles = await iam.listRoles({ serviceName: "hs-crypto" });
            const crns = [...roles.service_roles, ...roles.system_roles].map((r) => r.crn);
            assert.ok(crns.includes("crn:v1:bluemix:public:iam::::serviceRole:Writer"));
            assert.ok(crns.some((c) => c.endsWith("serviceRole:KeyPurge")));
        });
    });
});

describe("iamClient: token handling on 401", () => {
    const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    let issued = 0;
    const tokenHandler: Handler = (_req, res) => {
        issued++;
        const iat = Math.floor(Date.now() / 1000);
        const jwt = `${b64url({ alg: "RS256" })}.${b64url({ iam_id: "iam-x", account: { bss: "acc" }, iat, exp: iat + 3600, n: issued })}.c2ln`;
        json(200, { access_token: jwt, expires_in: 3600 })(_req, res, undefined as never);
    };
    let server: LocalServer;
    afterEach(async () => server.stop());

    it("drops a token IAM rejects and retries once with a fresh one", async () => {
        issued = 0;
        const unauthorized = json(401, {
            errors: [{ code: "invalid_token", message_code: "BXNIM0308E", message: "Token is not valid." }],
            status_code: 401,
            trace: "t401",
        });
        let calls = 0;
        server = await startLocalServer([
            (req, res, raw) => {
                if (req.url === "/identity/token") return tokenHandler(req, res, raw);
                calls++;
                return (
                    calls === 1
                        ? unauthorized
                        : json(200, { id: "ServiceId-1", iam_id: "iam-ServiceId-1", entity_tag: "1-a", crn: "c", locked: false, account_id: "acc", name: "n" })
                )(req, res, raw);
            },
        ]);
        const c = new IamClient({ tokenManager: new IamTokenManager({ apiKey: "k".repeat(40), iamEndpoint: server.url }) });
        const s = await c.getServiceId("ServiceId-1");
        assert.strictEqual(s.id, "ServiceId-1");
        assert.strictEqual(issued, 2, "a new token was fetched after the 401");
        const auths = server.seen.filter((r) => r.url.startsWith("/v1/")).map((r) => r.headers["authorization"]);
        assert.notStrictEqual(auths[0], auths[1], "the retry carried the new token");
        // A second consecutive 401 is reported, with IBM's code, and no token in the text.
        calls = 0;
        server.setScript([(req, res, raw) => (req.url === "/identity/token" ? tokenHandler(req, res, raw) : unauthorized(req, res, raw))]);
        await assert.rejects(c.getServiceId("ServiceId-1"), (err: unknown) => {
            assert.ok(err instanceof IbmCloudError);
            assert.strictEqual(err.messageCode, "BXNIM0308E");
            assert.ok(!/eyJ/.test(err.message));
            return true;
        });
        await c.http.close();
    });

    it("rejects a response that is not what IBM sends, saying what is wrong", async () => {
        server = await startLocalServer([
            (req, res, raw) => (req.url === "/identity/token" ? tokenHandler(req, res, raw) : json(200, { id: "ServiceId-1", name: 5 })(req, res, raw)),
        ]);
        const c = new IamClient({ tokenManager: new IamTokenManager({ apiKey: "k".repeat(40), iamEndpoint: server.url }) });
        await assert.rejects(c.getServiceId("ServiceId-1"), (err: unknown) => {
            assert.ok(err instanceof IbmCloudError);
            assert.strictEqual(err.code, "unexpected_response");
            assert.match(err.message, /^get service ID failed: 200 unexpected_response: IBM Cloud answered with an unexpected body: iam_id: /);
            return true;
        });
        await c.http.close();
    });
});
