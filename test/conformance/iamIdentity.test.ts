// Conformance: IBM's own IamIdentityV1 and IamAuthenticator against the emulator, asserting what IBM's API
// reference, its typings and its SDK integration tests (run against the real service) say IBM answers.
import * as assert from "assert";
import { IamTokenManager } from "ibm-cloud-sdk-core";
import { clientsFor, ETAG, IbmClients, IDENTITY_DOCS, IDENTITY_TIME, pageToken, rejected, startWithIbmClients } from "./support";

const APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey";

describe("conformance: IAM token and Identity v1 through IBM's SDK", function () {
    this.timeout(30000);
    let c: IbmClients;
    let ownerIamId: string;

    before(async () => {
        c = await startWithIbmClients();
        ownerIamId = (await c.identity.getApiKeysDetails({ iamApiKey: c.emu.apiKey })).result.iam_id;
    });
    after(async () => c?.emu.stop());

    describe("token", () => {
        it("API key grant: IBM's token manager gets a Bearer JWT with IBM's claims", async () => {
            const manager = new IamTokenManager({ apikey: c.emu.apiKey, url: c.emu.url });
            const token = await manager.getToken();
            const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
            assert.strictEqual(claims.iam_id, ownerIamId);
            assert.strictEqual(claims.account.bss, c.emu.accountId);
            assert.strictEqual(claims.exp - claims.iat, 3600);
            assert.strictEqual(manager.getRefreshToken(), "not_supported", "without the bx:bx client no usable refresh token");
        });

        it("refresh grant: the bx:bx client's refresh token is exchanged (IBM's SDK has no call for it: raw form post)", async () => {
            const manager = new IamTokenManager({ apikey: c.emu.apiKey, url: c.emu.url, clientId: "bx", clientSecret: "bx" });
            await manager.getToken();
            const refresh = manager.getRefreshToken();
            assert.notStrictEqual(refresh, "not_supported");
            const res = await fetch(`${c.emu.url}/identity/token`, {
                method: "POST",
                headers: {
                    "Content-Type": "application/x-www-form-urlencoded",
                    Accept: "application/json",
                    Authorization: `Basic ${Buffer.from("bx:bx").toString("base64")}`,
                },
                body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refresh }).toString(),
            });
            assert.strictEqual(res.status, 200);
            assert.strictEqual(res.headers.get("cache-control"), "no-cache, no-store, must-revalidate");
            const body = (await res.json()) as Record<string, unknown>;
            assert.deepStrictEqual(Object.keys(body).sort(), [
                "access_token",
                "expiration",
                "expires_in",
                "ims_user_id",
                "refresh_token",
                "scope",
                "token_type",
            ]);
            assert.strictEqual(body.token_type, "Bearer");
            assert.strictEqual(body.scope, "ibm openid");
        });

        it("an unknown API key fails the SDK's authentication with 400 (BXNIM0415E on the wire)", async () => {
            const { identity } = clientsFor(c.emu, "x".repeat(44));
            const e = (await identity.listServiceIds({ accountId: c.emu.accountId }).catch((err) => err)) as { status?: number };
            assert.strictEqual(e.status, 400);
            const raw = await fetch(`${c.emu.url}/identity/token`, {
                method: "POST",
                headers: { "Content-Type": "application/x-www-form-urlencoded" },
                body: new URLSearchParams({ grant_type: APIKEY_GRANT, apikey: "x".repeat(44) }).toString(),
            });
            const body = (await raw.json()) as { errorCode: string; context: { requestId: string } };
            assert.strictEqual(body.errorCode, "BXNIM0415E");
            assert.strictEqual(body.context.requestId, raw.headers.get("transaction-id"));
        });
    });

    describe("service IDs", () => {
        it("create without a key: 201 and IBM's fields, no apikey, minute-precision timestamps", async () => {
            const r = await c.identity.createServiceId({ accountId: c.emu.accountId, name: "conf-sid", description: "NodeSDK ServiceId desc" });
            assert.strictEqual(r.status, 201);
            const s = r.result;
            assert.match(s.id!, /^ServiceId-[0-9a-f-]{36}$/);
            assert.strictEqual(s.iam_id, `iam-${s.id}`);
            assert.match(s.entity_tag!, ETAG);
            assert.strictEqual(s.crn, `crn:v1:bluemix:public:iam-identity::a/${c.emu.accountId}::serviceid:${s.id}`);
            assert.strictEqual(s.locked, false);
            assert.match(s.created_at!, IDENTITY_TIME);
            assert.match(s.modified_at!, IDENTITY_TIME);
            assert.strictEqual(s.account_id, c.emu.accountId);
            assert.strictEqual(s.description, "NodeSDK ServiceId desc");
            assert.deepStrictEqual(s.unique_instance_crns, []);
            assert.strictEqual(s.apikey, undefined);
        });

        it("create with an inline key whose expires_at has seconds (IBM's own test body): 201 with the key and its value", async () => {
            const r = await c.identity.createServiceId({
                accountId: c.emu.accountId,
                name: "conf-sid-key",
                apikey: { name: "APIKey Name", store_value: true, expires_at: "2049-01-02T18:30:00+0000" },
            });
            assert.strictEqual(r.status, 201);
            const key = r.result.apikey!;
            assert.match(key.id!, /^ApiKey-/);
            assert.strictEqual(key.iam_id, r.result.iam_id);
            assert.match(key.apikey!, /^[A-Za-z0-9_-]{44}$/);
            assert.strictEqual((key as { expires_at?: string }).expires_at, "2049-01-02T18:30+0000");
            // store_value: the value is readable later
            const again = await c.identity.getApiKey({ id: key.id! });
            assert.strictEqual(again.result.apikey, key.apikey);
        });

        it("Entity-Lock creates it locked", async () => {
            const r = await c.identity.createServiceId({ accountId: c.emu.accountId, name: "conf-sid-locked", entityLock: "true" });
            assert.strictEqual(r.result.locked, true);
        });

        it("get with include_history / include_activity: 200", async () => {
            const s = (await c.identity.createServiceId({ accountId: c.emu.accountId, name: "conf-sid-get", description: "d" })).result;
            const r = await c.identity.getServiceId({ id: s.id!, includeHistory: true, includeActivity: true });
            assert.strictEqual(r.status, 200);
            assert.strictEqual(r.result.id, s.id);
            assert.strictEqual(r.result.name, "conf-sid-get");
            assert.deepStrictEqual(r.result.history, []);
            assert.strictEqual(r.result.entity_tag, s.entity_tag);
        });

        it("list: name filter, offset 0 and no next on the last page; paging by the next URL's pagetoken", async () => {
            const byName = await c.identity.listServiceIds({ accountId: c.emu.accountId, name: "conf-sid-get", pagesize: 100 });
            assert.strictEqual(byName.status, 200);
            assert.strictEqual(byName.result.serviceids.length, 1);
            assert.strictEqual(byName.result.offset, 0);
            assert.strictEqual(byName.result.limit, 100);
            assert.strictEqual(byName.result.next, undefined);
            const total = (await c.identity.listServiceIds({ accountId: c.emu.accountId, pagesize: 100 })).result.serviceids.length;
            const seen: string[] = [];
            let token: string | undefined;
            do {
                const page = await c.identity.listServiceIds({ accountId: c.emu.accountId, pagesize: 1, pagetoken: token });
                assert.strictEqual(page.result.limit, 1);
                seen.push(...page.result.serviceids.map((s) => s.id!));
                token = pageToken(page.result.next);
            } while (token);
            assert.strictEqual(seen.length, total);
            assert.strictEqual(new Set(seen).size, total, "each service ID once");
        });

        it("update with If-Match: 200, the entity tag's counter rises; a stale tag is refused", async () => {
            const s = (await c.identity.createServiceId({ accountId: c.emu.accountId, name: "conf-sid-upd" })).result;
            const r = await c.identity.updateServiceId({ id: s.id!, ifMatch: s.entity_tag!, description: "This is an updated description" });
            assert.strictEqual(r.status, 200);
            assert.strictEqual(r.result.description, "This is an updated description");
            assert.strictEqual(Number(r.result.entity_tag!.split("-")[0]), Number(s.entity_tag!.split("-")[0]) + 1);
            const stale = await rejected(c.identity.updateServiceId({ id: s.id!, ifMatch: s.entity_tag!, name: "x" }), 412);
            assert.strictEqual(stale.body.errors[0].code, "entity_tag_mismatch");
            assert.strictEqual((await c.identity.updateServiceId({ id: s.id!, ifMatch: "*", name: "conf-sid-upd2" })).result.name, "conf-sid-upd2");
        });

        it("lock / unlock: 204, reflected by get; a locked service ID refuses updates with 409", async () => {
            const s = (await c.identity.createServiceId({ accountId: c.emu.accountId, name: "conf-sid-lock" })).result;
            assert.strictEqual((await c.identity.lockServiceId({ id: s.id! })).status, 204);
            assert.strictEqual((await c.identity.getServiceId({ id: s.id! })).result.locked, true);
            const locked = await rejected(c.identity.updateServiceId({ id: s.id!, ifMatch: "*", description: "x" }), 409);
            assert.strictEqual(locked.body.errors[0].code, "entity_locked");
            assert.strictEqual((await c.identity.unlockServiceId({ id: s.id! })).status, 204);
            assert.strictEqual((await c.identity.getServiceId({ id: s.id! })).result.locked, false);
        });

        it("delete: 204, then get answers 404 in IBM's identity envelope (identity more_info link)", async () => {
            const s = (await c.identity.createServiceId({ accountId: c.emu.accountId, name: "conf-sid-del", apikey: { name: "k" } })).result;
            assert.strictEqual((await c.identity.deleteServiceId({ id: s.id! })).status, 204);
            const gone = await rejected(c.identity.getServiceId({ id: s.id! }), 404);
            assert.strictEqual(gone.body.errors[0].code, "not_found");
            assert.match(gone.body.errors[0].message_code!, /^BXNIM\d{4}E$/);
            assert.strictEqual(gone.body.errors[0].more_info, IDENTITY_DOCS);
            assert.strictEqual(gone.body.status_code, 404);
            assert.match(gone.body.trace, /^[0-9a-f]{32}$/);
            await rejected(c.identity.getApiKey({ id: s.apikey!.id! }), 404);
        });
    });

    describe("API keys", () => {
        let sidIamId: string;
        const name = "Node-SDK-IT-ApiKey-conformance";

        before(async () => {
            sidIamId = (await c.identity.createServiceId({ accountId: c.emu.accountId, name: "conf-keys" })).result.iam_id!;
        });

        it("create for the user with expires_at in seconds (IBM's test body) and without: 201", async () => {
            const one = await c.identity.createApiKey({
                name,
                iamId: ownerIamId,
                description: "NodeSDK test apikey #1",
                expiresAt: "2049-01-02T18:30:00+0000",
            });
            assert.strictEqual(one.status, 201);
            assert.strictEqual(one.result.expires_at, "2049-01-02T18:30+0000");
            assert.match(one.result.apikey, /^[A-Za-z0-9_-]{44}$/);
            const two = await c.identity.createApiKey({ name, iamId: ownerIamId, description: "NodeSDK test apikey #2" });
            assert.strictEqual(two.status, 201);
            assert.strictEqual(two.result.expires_at, undefined);
        });

        it("get with history and activity: 200 with the fields IBM's test checks", async () => {
            const k = (await c.identity.createApiKey({ name: "conf-get", iamId: ownerIamId })).result;
            const r = await c.identity.getApiKey({ id: k.id, includeHistory: true, includeActivity: true });
            assert.strictEqual(r.status, 200);
            const g = r.result;
            assert.strictEqual(g.id, k.id);
            assert.strictEqual(g.iam_id, ownerIamId);
            assert.strictEqual(g.account_id, c.emu.accountId);
            assert.strictEqual(g.created_by, ownerIamId);
            assert.match(g.created_at!, IDENTITY_TIME);
            assert.strictEqual(g.locked, false);
            assert.strictEqual(g.disabled, false);
            assert.strictEqual(g.crn, `crn:v1:bluemix:public:iam-identity::a/${c.emu.accountId}::apikey:${k.id}`);
            assert.strictEqual(g.support_sessions, false);
            assert.strictEqual(g.action_when_leaked, "none");
            assert.match(g.entity_tag!, ETAG);
            assert.strictEqual(g.apikey, undefined, "a user key's value is shown only by the create call");
        });

        it("details by value (IAM-ApiKey header): 200, with leaked", async () => {
            const r = await c.identity.getApiKeysDetails({ iamApiKey: c.emu.apiKey, includeHistory: true });
            assert.strictEqual(r.status, 200);
            assert.strictEqual(r.result.iam_id, ownerIamId);
            assert.strictEqual(r.result.account_id, c.emu.accountId);
            assert.strictEqual(r.result.created_by, ownerIamId);
            assert.strictEqual(r.result.locked, false);
            assert.strictEqual((r.result as { leaked?: boolean }).leaked, false);
        });

        it("list by account and iam_id with paging: limit echoed, both keys found", async () => {
            const found: string[] = [];
            let token: string | undefined;
            do {
                const res = await c.identity.listApiKeys({
                    accountId: c.emu.accountId,
                    iamId: ownerIamId,
                    pagesize: 1,
                    includeHistory: true,
                    pagetoken: token,
                });
                assert.strictEqual(res.status, 200);
                assert.strictEqual(res.result.limit, 1);
                for (const k of res.result.apikeys) if (k.name === name) found.push(k.id);
                token = pageToken(res.result.next);
            } while (token);
            assert.strictEqual(found.length, 2);
            const byService = await c.identity.listApiKeys({ accountId: c.emu.accountId, iamId: sidIamId, pagesize: 100 });
            assert.deepStrictEqual(byService.result.apikeys, []);
        });

        it("update with If-Match to an expiry already past (IBM's test sends one): 200, and the key then gets no token", async () => {
            const k = (await c.identity.createApiKey({ name: "conf-upd", iamId: sidIamId })).result;
            const value = k.apikey;
            const fresh = (await c.identity.getApiKey({ id: k.id })).result;
            const r = await c.identity.updateApiKey({
                id: k.id,
                ifMatch: fresh.entity_tag!,
                description: "This is an updated description",
                expiresAt: "2021-01-02T18:30:00+0000",
            });
            assert.strictEqual(r.status, 200);
            assert.strictEqual(r.result.description, "This is an updated description");
            assert.strictEqual(r.result.expires_at, "2021-01-02T18:30+0000");
            const exchange = await new IamTokenManager({ apikey: value, url: c.emu.url }).getToken().catch((e) => e);
            assert.strictEqual((exchange as { status?: number }).status, 400, "an expired key cannot be exchanged");
            await rejected(c.identity.updateApiKey({ id: k.id, ifMatch: fresh.entity_tag!, name: "stale" }), 412);
        });

        it("lock / unlock and disable / enable: 204, reflected by get; a disabled key gets no token", async () => {
            const k = (await c.identity.createApiKey({ name: "conf-flags", iamId: sidIamId })).result;
            assert.strictEqual((await c.identity.lockApiKey({ id: k.id })).status, 204);
            assert.strictEqual((await c.identity.getApiKey({ id: k.id })).result.locked, true);
            assert.strictEqual((await rejected(c.identity.deleteApiKey({ id: k.id }), 409)).body.errors[0].code, "entity_locked");
            assert.strictEqual((await c.identity.unlockApiKey({ id: k.id })).status, 204);
            assert.strictEqual((await c.identity.getApiKey({ id: k.id })).result.locked, false);
            assert.strictEqual((await c.identity.disableApiKey({ id: k.id })).status, 204);
            assert.strictEqual((await c.identity.getApiKey({ id: k.id })).result.disabled, true);
            assert.strictEqual(
                ((await new IamTokenManager({ apikey: k.apikey, url: c.emu.url }).getToken().catch((e) => e)) as { status?: number }).status,
                400,
            );
            assert.strictEqual((await c.identity.enableApiKey({ id: k.id })).status, 204);
            assert.strictEqual((await c.identity.getApiKey({ id: k.id })).result.disabled, false);
            assert.ok(await new IamTokenManager({ apikey: k.apikey, url: c.emu.url }).getToken());
        });

        it("delete: 204, then 404", async () => {
            const k = (await c.identity.createApiKey({ name: "conf-del", iamId: sidIamId })).result;
            assert.strictEqual((await c.identity.deleteApiKey({ id: k.id })).status, 204);
            const gone = await rejected(c.identity.getApiKey({ id: k.id }), 404);
            assert.strictEqual(gone.body.errors[0].more_info, IDENTITY_DOCS);
        });
    });

    describe("what IBM answers that the emulator does not model", () => {
        it("an unknown identity path: 404 with the identity (not Policy Management) more_info link", async () => {
            const token = await new IamTokenManager({ apikey: c.emu.apiKey, url: c.emu.url }).getToken();
            const res = await fetch(`${c.emu.url}/v1/serviceids/x/nothing-here`, { headers: { Authorization: `Bearer ${token}` } });
            assert.strictEqual(res.status, 404);
            const body = (await res.json()) as { errors: { more_info: string }[] };
            assert.strictEqual(body.errors[0].more_info, IDENTITY_DOCS);
        });
    });
});
