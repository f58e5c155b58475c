// Contract of IAM Identity v1: bearer enforcement, service IDs, API keys, entity tags, locks.
import * as assert from "assert";
import * as crypto from "crypto";
import { RunningEmulator, startEmulator } from "../../emulator";
import { APIKEY_GRANT, call, expectStatus, serviceIdWithKey, tokenFor, tokenRequest } from "./helpers";

const IDENTITY_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}\+0000$/;
const ETAG = /^(\d+)-[0-9a-f]{32}$/;

function tagVersion(tag: string): number {
    return Number(ETAG.exec(tag)![1]);
}

describe("emulator: IAM Identity", () => {
    let emu: RunningEmulator;
    let owner: string;

    before(async () => {
        emu = await startEmulator({ port: 0 });
        owner = await tokenFor(emu.url, emu.apiKey);
    });
    after(() => emu.stop());

    const create = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
        call(emu.url, "POST", "/v1/serviceids/", { token: owner, body: { account_id: emu.accountId, ...body }, headers });

    describe("bearer token enforcement", () => {
        it("answers a missing Authorization header with 401 BXNIM0308E in the common envelope", async () => {
            const r = await call(emu.url, "GET", `/v1/serviceids/?account_id=${emu.accountId}`);
            expectStatus(r, 401);
            assert.strictEqual(r.body.errors[0].message_code, "BXNIM0308E");
            assert.strictEqual(r.body.status_code, 401);
            assert.match(r.body.trace, /^[0-9a-f]{32}$/);
            assert.strictEqual(r.body.trace, r.headers.get("x-correlation-id"));
        });

        it("rejects a malformed token and a token signed by another key", async () => {
            const garbage = await call(emu.url, "GET", "/v1/apikeys", { token: "not.a.jwt" });
            expectStatus(garbage, 401);
            const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
            const [h, c] = owner.split(".");
            const forged = `${h}.${c}.${crypto.sign("RSA-SHA256", Buffer.from(`${h}.${c}`), privateKey).toString("base64url")}`;
            const r = await call(emu.url, "GET", "/v1/apikeys", { token: forged });
            expectStatus(r, 401);
            assert.strictEqual(r.body.errors[0].code, "unauthorized");
        });

        it("rejects a token of another emulator (different signing key)", async () => {
            const other = await startEmulator({ port: 0 });
            try {
                const foreign = await tokenFor(other.url, other.apiKey);
                expectStatus(await call(emu.url, "GET", "/v1/apikeys", { token: foreign }), 401);
            } finally {
                await other.stop();
            }
        });
    });

    describe("service IDs", () => {
        it("creates a service ID with IBM's resource shape", async () => {
            const r = await create({ name: "app-1", description: "the app", unique_instance_crns: ["crn:v1:x"] });
            expectStatus(r, 201);
            const s = r.body;
            assert.match(s.id, /^ServiceId-[0-9a-f-]{36}$/);
            assert.strictEqual(s.iam_id, `iam-${s.id}`);
            assert.match(s.entity_tag, ETAG);
            assert.strictEqual(tagVersion(s.entity_tag), 1);
            assert.strictEqual(s.crn, `crn:v1:bluemix:public:iam-identity::a/${emu.accountId}::serviceid:${s.id}`);
            assert.strictEqual(s.locked, false);
            assert.match(s.created_at, IDENTITY_TIME);
            assert.match(s.modified_at, IDENTITY_TIME);
            assert.strictEqual(s.account_id, emu.accountId);
            assert.strictEqual(s.name, "app-1");
            assert.strictEqual(s.description, "the app");
            assert.deepStrictEqual(s.unique_instance_crns, ["crn:v1:x"]);
            assert.strictEqual(s.apikey, undefined, "no apikey sub-object without an inline key");

            const got = await call(emu.url, "GET", `/v1/serviceids/${s.id}`, { token: owner });
            expectStatus(got, 200);
            assert.deepStrictEqual(got.body, s);
        });

        it("omits description when unset and allows duplicate names", async () => {
            const a = await create({ name: "same" });
            const b = await create({ name: "same" });
            expectStatus(a, 201);
            expectStatus(b, 201);
            assert.ok(!("description" in a.body));
            assert.notStrictEqual(a.body.id, b.body.id);
        });

        it("validates required fields and the 1000-character name limit", async () => {
            for (const body of [{ name: "" }, { name: "x".repeat(1001) }, {}, { name: 3 }]) {
                const r = await create(body);
                expectStatus(r, 400);
                assert.strictEqual(r.body.errors[0].code, "invalid_request");
                assert.match(r.body.errors[0].message_code, /^BXNIM\d{4}E$/);
            }
            expectStatus(await create({ name: "x".repeat(1000) }), 201);
            const noAccount = await call(emu.url, "POST", "/v1/serviceids/", { token: owner, body: { name: "n" } });
            expectStatus(noAccount, 400);
            const badJson = await call(emu.url, "POST", "/v1/serviceids/", { token: owner, body: "{nope" });
            expectStatus(badJson, 400);
            const otherAccount = await call(emu.url, "POST", "/v1/serviceids/", { token: owner, body: { account_id: "f".repeat(32), name: "n" } });
            expectStatus(otherAccount, 403);
        });

        it("creates an inline API key and returns it in the create response only", async () => {
            const r = await create({ name: "with-key", apikey: { name: "k1", description: "inline" } });
            expectStatus(r, 201);
            const key = r.body.apikey;
            assert.match(key.id, /^ApiKey-/);
            assert.strictEqual(key.iam_id, r.body.iam_id);
            assert.match(key.apikey, /^[A-Za-z0-9_-]{44}$/);
            const got = await call(emu.url, "GET", `/v1/serviceids/${r.body.id}`, { token: owner });
            assert.strictEqual(got.body.apikey, undefined);
            const token = await tokenRequest(emu.url, { grant_type: APIKEY_GRANT, apikey: key.apikey });
            expectStatus(token, 200);
        });

        it("updates with If-Match: counter rises, stale tag → 412, '*' allowed, missing → 400", async () => {
            const s = (await create({ name: "upd", description: "d", unique_instance_crns: ["a"] })).body;
            const put = (tag: string | undefined, body: unknown) =>
                call(emu.url, "PUT", `/v1/serviceids/${s.id}`, { token: owner, body, headers: tag === undefined ? {} : { "If-Match": tag } });

            const u1 = await put(s.entity_tag, { name: "upd2" });
            expectStatus(u1, 200);
            assert.strictEqual(u1.body.name, "upd2");
            assert.strictEqual(u1.body.description, "d", "fields not sent are kept");
            assert.strictEqual(tagVersion(u1.body.entity_tag), 2);

            const stale = await put(s.entity_tag, { name: "lost" });
            expectStatus(stale, 412);
            assert.strictEqual(stale.body.errors[0].code, "entity_tag_mismatch");

            const star = await put("*", { description: "", unique_instance_crns: [] });
            expectStatus(star, 200);
            assert.ok(!("description" in star.body), "empty description clears it");
            assert.deepStrictEqual(star.body.unique_instance_crns, []);
            assert.strictEqual(tagVersion(star.body.entity_tag), 3);

            expectStatus(await put(undefined, { name: "x" }), 400);
            expectStatus(await put(star.body.entity_tag, { name: "" }), 400);
            const missing = await call(emu.url, "PUT", `/v1/serviceids/ServiceId-${crypto.randomUUID()}`, {
                token: owner,
                body: { name: "x" },
                headers: { "If-Match": "*" },
            });
            expectStatus(missing, 404);
            assert.strictEqual(missing.body.errors[0].code, "not_found");
        });

        it("locks and unlocks: a locked service ID refuses update and delete with 409 entity_locked", async () => {
            const s = (await create({ name: "lockme" })).body;
            expectStatus(await call(emu.url, "POST", `/v1/serviceids/${s.id}/lock`, { token: owner }), 204);
            const got = await call(emu.url, "GET", `/v1/serviceids/${s.id}`, { token: owner });
            assert.strictEqual(got.body.locked, true);
            const upd = await call(emu.url, "PUT", `/v1/serviceids/${s.id}`, { token: owner, body: { name: "x" }, headers: { "If-Match": "*" } });
            expectStatus(upd, 409);
            assert.strictEqual(upd.body.errors[0].code, "entity_locked");
            const del = await call(emu.url, "DELETE", `/v1/serviceids/${s.id}`, { token: owner });
            expectStatus(del, 409);
            assert.strictEqual(del.body.errors[0].code, "entity_locked");
            expectStatus(await call(emu.url, "DELETE", `/v1/serviceids/${s.id}/lock`, { token: owner }), 204);
            expectStatus(await call(emu.url, "DELETE", `/v1/serviceids/${s.id}`, { token: owner }), 204);
            expectStatus(await call(emu.url, "GET", `/v1/serviceids/${s.id}`, { token: owner }), 404);
        });

        it("creates a locked service ID with Entity-Lock: true", async () => {
            const r = await create({ name: "born-locked" }, { "Entity-Lock": "true" });
            expectStatus(r, 201);
            assert.strictEqual(r.body.locked, true);
        });

        it("paginates with pagesize/pagetoken through `next` URLs and filters by name", async () => {
            const prefix = `page-${crypto.randomBytes(3).toString("hex")}`;
            for (let i = 0; i < 5; i++) expectStatus(await create({ name: prefix }), 201);
            const seen: string[] = [];
            let path: string | undefined = `/v1/serviceids/?account_id=${emu.accountId}&name=${prefix}&pagesize=2`;
            let pages = 0;
            while (path) {
                const r = await call(emu.url, "GET", path, { token: owner });
                expectStatus(r, 200);
                pages++;
                assert.strictEqual(r.body.limit, 2);
                assert.ok(r.body.first.startsWith(emu.url));
                for (const s of r.body.serviceids as Array<{ id: string; name: string }>) {
                    assert.strictEqual(s.name, prefix);
                    seen.push(s.id);
                }
                if (r.body.next) {
                    const next = new URL(r.body.next);
                    assert.ok(next.searchParams.get("pagetoken"), "next carries a pagetoken");
                    path = next.pathname + next.search;
                } else path = undefined;
            }
            assert.strictEqual(pages, 3);
            assert.strictEqual(new Set(seen).size, 5);

            const all = await call(emu.url, "GET", `/v1/serviceids/?account_id=${emu.accountId}&name=${prefix}`, { token: owner });
            assert.strictEqual(all.body.serviceids.length, 5);
            assert.strictEqual(all.body.next, undefined, "no next on the last page");
            assert.strictEqual(all.body.limit, 20);

            for (const q of ["pagesize=0", "pagesize=101", "pagetoken=garbage"]) {
                expectStatus(await call(emu.url, "GET", `/v1/serviceids/?account_id=${emu.accountId}&${q}`, { token: owner }), 400);
            }
            expectStatus(await call(emu.url, "GET", "/v1/serviceids/", { token: owner }), 400);
        });
    });

    describe("API keys", () => {
        let sid: { id: string; iam_id: string };
        before(async () => {
            sid = (await create({ name: "key-holder" })).body;
        });

        const createKey = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
            call(emu.url, "POST", "/v1/apikeys", { token: owner, body: { iam_id: sid.iam_id, ...body }, headers });

        it("creates a key with a generated 44-char value and IBM's resource shape", async () => {
            const r = await createKey({ name: "gen", description: "generated" });
            expectStatus(r, 201);
            const k = r.body;
            assert.match(k.id, /^ApiKey-[0-9a-f-]{36}$/);
            assert.match(k.apikey, /^[A-Za-z0-9_-]{44}$/);
            assert.strictEqual(k.crn, `crn:v1:bluemix:public:iam-identity::a/${emu.accountId}::apikey:${k.id}`);
            assert.strictEqual(tagVersion(k.entity_tag), 1);
            assert.strictEqual(k.locked, false);
            assert.strictEqual(k.disabled, false);
            assert.strictEqual(k.support_sessions, false);
            assert.strictEqual(k.action_when_leaked, "none");
            assert.strictEqual(k.iam_id, sid.iam_id);
            assert.strictEqual(k.account_id, emu.accountId);
            assert.match(k.created_by, /^IBMid-/);
            assert.match(k.created_at, IDENTITY_TIME);
            const got = await call(emu.url, "GET", `/v1/apikeys/${k.id}`, { token: owner });
            expectStatus(got, 200);
            assert.strictEqual(got.body.apikey, undefined, "value not returned without store_value");
        });

        it("accepts iam_id as ServiceId-… as well as iam-ServiceId-…", async () => {
            const r = await createKey({ name: "short-form", iam_id: sid.id });
            expectStatus(r, 201);
            assert.strictEqual(r.body.iam_id, sid.iam_id);
            const unknown = await createKey({ name: "x", iam_id: `iam-ServiceId-${crypto.randomUUID()}` });
            expectStatus(unknown, 404);
        });

        it("stores the value when store_value is true, and only then shows it later", async () => {
            const r = await createKey({ name: "stored", store_value: true });
            expectStatus(r, 201);
            const got = await call(emu.url, "GET", `/v1/apikeys/${r.body.id}`, { token: owner });
            assert.strictEqual(got.body.apikey, r.body.apikey);
        });

        it("brings its own value (≥ 32 chars, unique)", async () => {
            const value = `byo-${crypto.randomBytes(20).toString("hex")}`;
            const r = await createKey({ name: "byo", apikey: value });
            expectStatus(r, 201);
            assert.strictEqual(r.body.apikey, value);
            expectStatus(await tokenRequest(emu.url, { grant_type: APIKEY_GRANT, apikey: value }), 200);
            const dup = await createKey({ name: "byo2", apikey: value });
            expectStatus(dup, 409);
            const short = await createKey({ name: "short", apikey: "x".repeat(31) });
            expectStatus(short, 400);
        });

        it("validates expires_at (seconds optional, past accepted), action_when_leaked and store_value for user keys", async () => {
            expectStatus(await createKey({ name: "e", expires_at: "2099-01-01T00:00:00Z" }), 400);
            // a past expiry is accepted, as IBM accepts it: the key exists but cannot be exchanged
            const past = await createKey({ name: "e", expires_at: "2001-01-01T00:00+0000" });
            expectStatus(past, 201);
            expectStatus(await tokenRequest(emu.url, { grant_type: APIKEY_GRANT, apikey: past.body.apikey }), 400);
            // seconds are accepted too, kept at IAM Identity's minute precision
            const seconds = await createKey({ name: "e", expires_at: "2049-01-02T18:30:00+0000" });
            expectStatus(seconds, 201);
            assert.strictEqual(seconds.body.expires_at, "2049-01-02T18:30+0000");
            expectStatus(await createKey({ name: "e", expires_at: "2049-02-30T18:30+0000" }), 400);
            expectStatus(await createKey({ name: "e", action_when_leaked: "explode" }), 400);
            expectStatus(await createKey({}), 400);
            const ok = await createKey({ name: "e", expires_at: "2099-01-01T00:00+0000", action_when_leaked: "disable", support_sessions: true });
            expectStatus(ok, 201);
            assert.strictEqual(ok.body.expires_at, "2099-01-01T00:00+0000");
            assert.strictEqual(ok.body.action_when_leaked, "disable");
            assert.strictEqual(ok.body.support_sessions, true);
            const me = (await call(emu.url, "GET", "/v1/apikeys/details", { token: owner, headers: { "IAM-ApiKey": emu.apiKey } })).body.iam_id;
            const userStored = await createKey({ name: "u", iam_id: me, store_value: true });
            expectStatus(userStored, 400);
        });

        it("returns details by IAM-ApiKey header, with leaked and expires_at", async () => {
            const r = await createKey({ name: "details" });
            const d = await call(emu.url, "GET", "/v1/apikeys/details", { token: owner, headers: { "IAM-ApiKey": r.body.apikey } });
            expectStatus(d, 200);
            assert.strictEqual(d.body.id, r.body.id);
            assert.strictEqual(d.body.leaked, false);
            assert.ok("expires_at" in d.body);
            assert.strictEqual(d.body.apikey, undefined);
            expectStatus(await call(emu.url, "GET", "/v1/apikeys/details", { token: owner, headers: { "IAM-ApiKey": "x".repeat(44) } }), 404);
            expectStatus(await call(emu.url, "GET", "/v1/apikeys/details", { token: owner }), 400);
        });

        it("lists by iam_id (both forms), by owner scope, and pages", async () => {
            const holder = (await create({ name: "lister" })).body;
            for (let i = 0; i < 3; i++) {
                expectStatus(await call(emu.url, "POST", "/v1/apikeys", { token: owner, body: { iam_id: holder.iam_id, name: `l${i}` } }), 201);
            }
            for (const iam of [holder.iam_id, holder.id]) {
                const r = await call(emu.url, "GET", `/v1/apikeys?account_id=${emu.accountId}&iam_id=${iam}`, { token: owner });
                expectStatus(r, 200);
                assert.strictEqual(r.body.apikeys.length, 3);
                assert.ok(r.body.apikeys.every((k: { apikey?: string }) => k.apikey === undefined));
            }
            const paged = await call(emu.url, "GET", `/v1/apikeys?iam_id=${holder.iam_id}&pagesize=2`, { token: owner });
            assert.strictEqual(paged.body.apikeys.length, 2);
            assert.ok(paged.body.next);
            const mine = await call(emu.url, "GET", "/v1/apikeys", { token: owner });
            expectStatus(mine, 200);
            assert.ok(mine.body.apikeys.length >= 1);
            assert.ok(
                mine.body.apikeys.every((k: { iam_id: string }) => k.iam_id.startsWith("IBMid-")),
                "scope=entity lists the caller's own keys",
            );
            const account = await call(emu.url, "GET", "/v1/apikeys?scope=account&type=serviceid", { token: owner });
            assert.ok(account.body.apikeys.length >= 3);
            assert.ok(account.body.apikeys.every((k: { iam_id: string }) => k.iam_id.startsWith("iam-ServiceId-")));
        });

        it("updates with If-Match and refuses stale tags and locked keys", async () => {
            const k = (await createKey({ name: "upd", description: "d", expires_at: "2099-01-01T00:00+0000" })).body;
            const put = (tag: string, body: unknown) => call(emu.url, "PUT", `/v1/apikeys/${k.id}`, { token: owner, body, headers: { "If-Match": tag } });
            const u = await put(k.entity_tag, { name: "upd2", support_sessions: true, action_when_leaked: "delete", expires_at: "" });
            expectStatus(u, 200);
            assert.strictEqual(u.body.name, "upd2");
            assert.strictEqual(u.body.description, "d");
            assert.strictEqual(u.body.support_sessions, true);
            assert.strictEqual(u.body.action_when_leaked, "delete");
            assert.strictEqual(u.body.expires_at, undefined, "empty expires_at clears it");
            assert.strictEqual(tagVersion(u.body.entity_tag), 2);
            const stale = await put(k.entity_tag, { name: "x" });
            expectStatus(stale, 412);
            assert.strictEqual(stale.body.errors[0].code, "entity_tag_mismatch");

            expectStatus(await call(emu.url, "POST", `/v1/apikeys/${k.id}/lock`, { token: owner }), 204);
            const locked = await put("*", { name: "x" });
            expectStatus(locked, 409);
            assert.strictEqual(locked.body.errors[0].code, "entity_locked");
            const del = await call(emu.url, "DELETE", `/v1/apikeys/${k.id}`, { token: owner });
            expectStatus(del, 409);
            expectStatus(await call(emu.url, "DELETE", `/v1/apikeys/${k.id}/lock`, { token: owner }), 204);
            expectStatus(await call(emu.url, "DELETE", `/v1/apikeys/${k.id}`, { token: owner }), 204);
            expectStatus(await call(emu.url, "GET", `/v1/apikeys/${k.id}`, { token: owner }), 404);
        });

        it("a locked key still gets tokens; disabled and deleted keys do not, issued tokens stay valid", async () => {
            const k = (await createKey({ name: "life" })).body;
            const exchange = () => tokenRequest(emu.url, { grant_type: APIKEY_GRANT, apikey: k.apikey });
            expectStatus(await call(emu.url, "POST", `/v1/apikeys/${k.id}/lock`, { token: owner }), 204);
            expectStatus(await exchange(), 200);
            expectStatus(await call(emu.url, "DELETE", `/v1/apikeys/${k.id}/lock`, { token: owner }), 204);

            const issued = (await exchange()).body.access_token as string;
            expectStatus(await call(emu.url, "POST", `/v1/apikeys/${k.id}/disable`, { token: owner }), 204);
            const disabled = await exchange();
            expectStatus(disabled, 400);
            assert.strictEqual(disabled.body.errorCode, "BXNIM0415E");
            assert.strictEqual((await call(emu.url, "GET", `/v1/apikeys/${k.id}`, { token: owner })).body.disabled, true);
            expectStatus(await call(emu.url, "DELETE", `/v1/apikeys/${k.id}/disable`, { token: owner }), 204);
            expectStatus(await exchange(), 200);

            expectStatus(await call(emu.url, "DELETE", `/v1/apikeys/${k.id}`, { token: owner }), 204);
            const deleted = await exchange();
            expectStatus(deleted, 400);
            assert.strictEqual(deleted.body.errorCode, "BXNIM0415E");
            // a token minted before the delete stays a valid bearer until it expires
            expectStatus(await call(emu.url, "GET", `/v1/apikeys/details`, { token: issued, headers: { "IAM-ApiKey": emu.apiKey } }), 200);
        });

        it("creates disabled and locked keys from Entity-Disable / Entity-Lock headers", async () => {
            const r = await createKey({ name: "hdr" }, { "Entity-Disable": "true", "Entity-Lock": "true" });
            expectStatus(r, 201);
            assert.strictEqual(r.body.disabled, true);
            assert.strictEqual(r.body.locked, true);
            expectStatus(await tokenRequest(emu.url, { grant_type: APIKEY_GRANT, apikey: r.body.apikey }), 400);
        });
    });

    describe("access of service IDs", () => {
        it("refuses identity writes of a service ID without a policy (403 insufficent_permissions), allows reads", async () => {
            const sid = await serviceIdWithKey(emu, owner, "no-rights");
            const token = await tokenFor(emu.url, sid.apikey);
            const w = await call(emu.url, "POST", "/v1/serviceids/", { token, body: { account_id: emu.accountId, name: "sneaky" } });
            expectStatus(w, 403);
            assert.strictEqual(w.body.errors[0].code, "insufficent_permissions");
            const k = await call(emu.url, "POST", "/v1/apikeys", { token, body: { iam_id: sid.iamId, name: "more" } });
            expectStatus(k, 403);
            const del = await call(emu.url, "DELETE", `/v1/serviceids/${sid.id}`, { token });
            expectStatus(del, 403);
            const read = await call(emu.url, "GET", `/v1/serviceids/${sid.id}`, { token });
            expectStatus(read, 200);
        });

        it("refuses a service ID creating a key for the owner user", async () => {
            const sid = await serviceIdWithKey(emu, owner, "not-the-user");
            const token = await tokenFor(emu.url, sid.apikey);
            const me = (await call(emu.url, "GET", "/v1/apikeys/details", { token: owner, headers: { "IAM-ApiKey": emu.apiKey } })).body.iam_id;
            expectStatus(await call(emu.url, "POST", "/v1/apikeys", { token, body: { iam_id: me, name: "steal" } }), 403);
        });
    });
});
