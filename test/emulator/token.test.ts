// Contract of the IAM token service: POST /identity/token, /oidc/token, GET /identity/keys.
import * as assert from "assert";
import * as crypto from "crypto";
import { RunningEmulator, startEmulator } from "../../emulator";
import { APIKEY_GRANT, call, decodeJwt, expectStatus, serviceIdWithKey, sleep, tokenFor, tokenRequest } from "./helpers";

const BXBX = { Authorization: `Basic ${Buffer.from("bx:bx").toString("base64")}` };

describe("emulator: IAM token", () => {
    let emu: RunningEmulator;
    let short: RunningEmulator; // 1-second access and refresh tokens
    let owner: string;

    before(async () => {
        emu = await startEmulator({ port: 0 });
        short = await startEmulator({ port: 0, tokenLifetimeSeconds: 1, refreshTokenLifetimeSeconds: 1 });
        owner = await tokenFor(emu.url, emu.apiKey);
    });
    after(async () => {
        await emu.stop();
        await short.stop();
    });

    it("exchanges the owner's user API key for a bearer token with IBM's response fields", async () => {
        const r = await tokenRequest(emu.url, { grant_type: APIKEY_GRANT, apikey: emu.apiKey, response_type: "cloud_iam" });
        expectStatus(r, 200);
        assert.deepStrictEqual(Object.keys(r.body).sort(), ["access_token", "expiration", "expires_in", "ims_user_id", "refresh_token", "scope", "token_type"]);
        assert.strictEqual(r.body.token_type, "Bearer");
        assert.strictEqual(r.body.refresh_token, "not_supported");
        assert.strictEqual(r.body.expires_in, 3600);
        assert.strictEqual(r.body.scope, "ibm openid");
        assert.strictEqual(typeof r.body.ims_user_id, "number");
        const { header, claims } = decodeJwt(r.body.access_token);
        assert.strictEqual(header.alg, "RS256");
        assert.match(header.kid, /^\d{12}$/);
        assert.strictEqual(r.body.expiration, claims.iat + r.body.expires_in);
        assert.strictEqual(claims.exp, claims.iat + 3600);
        assert.match(claims.iam_id, /^IBMid-/);
        assert.strictEqual(claims.realmid, "IBMid");
        assert.strictEqual(claims.account.bss, emu.accountId);
        assert.strictEqual(r.headers.get("cache-control"), "no-cache, no-store, must-revalidate");
        assert.match(r.headers.get("transaction-id") ?? "", /^[0-9a-f]{32}$/);
        assert.strictEqual(r.headers.get("x-correlation-id"), r.headers.get("transaction-id"));
    });

    it("gives a service ID token exactly the claims IBM lists, verifiable with /identity/keys", async () => {
        const sid = await serviceIdWithKey(emu, owner, "token-claims");
        const r = await tokenRequest(emu.url, { grant_type: APIKEY_GRANT, apikey: sid.apikey });
        expectStatus(r, 200);
        assert.strictEqual(r.body.ims_user_id, undefined);
        const { header, claims } = decodeJwt(r.body.access_token);
        assert.deepStrictEqual(Object.keys(claims).sort(), [
            "account",
            "acr",
            "amr",
            "client_id",
            "exp",
            "grant_type",
            "iam_id",
            "iat",
            "id",
            "identifier",
            "iss",
            "jti",
            "name",
            "realmid",
            "scope",
            "sub",
            "sub_type",
        ]);
        assert.strictEqual(claims.iam_id, sid.iamId);
        assert.strictEqual(claims.id, sid.iamId);
        assert.strictEqual(claims.realmid, "iam");
        assert.strictEqual(claims.identifier, sid.id);
        assert.strictEqual(claims.sub, sid.id);
        assert.strictEqual(claims.sub_type, "ServiceId");
        assert.strictEqual(claims.name, "token-claims");
        assert.deepStrictEqual(claims.account, { valid: true, bss: emu.accountId, frozen: true });
        assert.strictEqual(claims.iss, "https://iam.cloud.ibm.com/identity");
        assert.strictEqual(claims.grant_type, APIKEY_GRANT);
        assert.strictEqual(claims.scope, "ibm openid");
        assert.strictEqual(claims.client_id, "default");
        assert.strictEqual(claims.acr, 1);
        assert.deepStrictEqual(claims.amr, ["pwd"]);

        const keys = await call(emu.url, "GET", "/identity/keys");
        expectStatus(keys, 200);
        assert.strictEqual(keys.body.keys.length, 1);
        const jwk = keys.body.keys[0];
        assert.deepStrictEqual(Object.keys(jwk).sort(), ["alg", "e", "kid", "kty", "n"]);
        assert.strictEqual(jwk.kid, header.kid);
        const [h, c, s] = r.body.access_token.split(".");
        const pub = crypto.createPublicKey({ key: jwk, format: "jwk" });
        assert.ok(crypto.verify("RSA-SHA256", Buffer.from(`${h}.${c}`), pub, Buffer.from(s, "base64url")), "signature must verify with the published key");
    });

    it("serves the legacy /oidc/token alias", async () => {
        const r = await tokenRequest(emu.url, { grant_type: APIKEY_GRANT, apikey: emu.apiKey }, {}, "/oidc/token");
        expectStatus(r, 200);
        assert.ok(r.body.access_token);
    });

    it("answers an unknown API key with 400 BXNIM0415E in the token envelope", async () => {
        const r = await tokenRequest(emu.url, { grant_type: APIKEY_GRANT, apikey: "x".repeat(44) });
        expectStatus(r, 400);
        assert.strictEqual(r.body.errorCode, "BXNIM0415E");
        assert.strictEqual(r.body.errorMessage, "Provided API key could not be found.");
        assert.strictEqual(r.body.context.requestId, r.headers.get("transaction-id"));
        assert.strictEqual(r.body.context.requestType, "incoming.Identity_Token");
        assert.strictEqual(r.body.errors, undefined, "the token endpoint does not use the common envelope");
    });

    it("echoes a caller's Transaction-Id", async () => {
        const r = await tokenRequest(emu.url, { grant_type: APIKEY_GRANT, apikey: "nope" }, { "Transaction-Id": "my-tx-123" });
        assert.strictEqual(r.headers.get("transaction-id"), "my-tx-123");
        assert.strictEqual(r.body.context.requestId, "my-tx-123");
    });

    it("rejects bad grant_type, response_type, missing apikey and non-form bodies with BXNIM0106E", async () => {
        for (const form of [
            { grant_type: "password", apikey: emu.apiKey },
            { apikey: emu.apiKey },
            { grant_type: APIKEY_GRANT, apikey: emu.apiKey, response_type: "banana" },
            { grant_type: APIKEY_GRANT },
        ]) {
            const r = await tokenRequest(emu.url, form as Record<string, string>);
            expectStatus(r, 400);
            assert.strictEqual(r.body.errorCode, "BXNIM0106E", JSON.stringify(Object.keys(form)));
        }
        const json = await call(emu.url, "POST", "/identity/token", { body: { grant_type: APIKEY_GRANT } });
        expectStatus(json, 400);
        assert.strictEqual(json.body.errorCode, "BXNIM0106E");
    });

    it("returns a usable refresh token only to the bx:bx client", async () => {
        const r = await tokenRequest(emu.url, { grant_type: APIKEY_GRANT, apikey: emu.apiKey }, BXBX);
        expectStatus(r, 200);
        assert.notStrictEqual(r.body.refresh_token, "not_supported");
        const refreshed = await tokenRequest(emu.url, { grant_type: "refresh_token", refresh_token: r.body.refresh_token }, BXBX);
        expectStatus(refreshed, 200);
        assert.strictEqual(decodeJwt(refreshed.body.access_token).claims.iam_id, decodeJwt(r.body.access_token).claims.iam_id);
        assert.strictEqual(decodeJwt(refreshed.body.access_token).claims.grant_type, "refresh_token");

        const withoutClient = await tokenRequest(emu.url, { grant_type: "refresh_token", refresh_token: r.body.refresh_token });
        expectStatus(withoutClient, 400);
        assert.strictEqual(withoutClient.body.errorCode, "BXNIM0106E");
        const notSupported = await tokenRequest(emu.url, { grant_type: "refresh_token", refresh_token: "not_supported" }, BXBX);
        expectStatus(notSupported, 400);
        assert.strictEqual(notSupported.body.errorCode, "BXNIM0407E");
    });

    it("expires access tokens and refresh tokens after their lifetime", async () => {
        const r = await tokenRequest(short.url, { grant_type: APIKEY_GRANT, apikey: short.apiKey }, BXBX);
        expectStatus(r, 200);
        assert.strictEqual(r.body.expires_in, 1);
        const fresh = await call(short.url, "GET", `/v1/serviceids/?account_id=${short.accountId}`, { token: r.body.access_token });
        expectStatus(fresh, 200);
        await sleep(1100);
        const stale = await call(short.url, "GET", `/v1/serviceids/?account_id=${short.accountId}`, { token: r.body.access_token });
        expectStatus(stale, 401);
        assert.strictEqual(stale.body.errors[0].code, "unauthorized");
        const refresh = await tokenRequest(short.url, { grant_type: "refresh_token", refresh_token: r.body.refresh_token }, BXBX);
        expectStatus(refresh, 400);
        assert.strictEqual(refresh.body.errorCode, "BXNIM0407E");
        assert.match(refresh.body.errorMessage, /expired/);
    });
});
