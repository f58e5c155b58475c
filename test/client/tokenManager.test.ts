import * as assert from "assert";
import { IamTokenManager, IamTokenManagerOptions, IbmCloudError, HttpClient, decodeJwtPayload } from "../../client";
import { startLocalServer, LocalServer, json, Handler } from "../support/localServer";

const API_KEY = "TestApiKey_0123456789abcdefghijklmnopqrstuv";
const ACCOUNT = "0123456789abcdef0123456789abcdef";
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

/** A fake IAM token endpoint whose tokens say iat = its clock, exp = iat + lifetime. */
function tokenEndpoint(state: { clockS: number; lifetimeS: number; issued: number; delayMs?: number }): Handler {
    return (_req, res) => {
        const iat = state.clockS;
        const exp = iat + state.lifetimeS;
        state.issued++;
        const jwt = [
            b64url({ kid: "202308090834", alg: "RS256" }),
            b64url({
                iam_id: "iam-ServiceId-1111",
                id: "iam-ServiceId-1111",
                sub: "ServiceId-1111",
                sub_type: "ServiceId",
                name: "app",
                account: { valid: true, bss: ACCOUNT, frozen: true },
                iat,
                exp,
                n: state.issued,
            }),
            "c2lnbmF0dXJl",
        ].join(".");
        const send = () =>
            json(200, {
                access_token: jwt,
                refresh_token: "not_supported",
                token_type: "Bearer",
                // Deliberately wrong: the JWT is authoritative.
                expires_in: 999_999,
                expiration: iat + 999_999,
                scope: "ibm openid",
            })(_req, res, undefined as never);
        if (state.delayMs) setTimeout(send, state.delayMs);
        else send();
    };
}

const tokenNumber = (token: string) => decodeJwtPayload(token).n as number;

describe("tokenManager: IamTokenManager", function () {
    let server: LocalServer;
    let state: { clockS: number; lifetimeS: number; issued: number; delayMs?: number };
    let nowMs: number;
    let managers: IamTokenManager[];

    function manager(extra: Partial<IamTokenManagerOptions> = {}): IamTokenManager {
        const m = new IamTokenManager({
            apiKey: API_KEY,
            iamEndpoint: server.url,
            now: () => nowMs,
            http: { sleep: async () => undefined, retry: { jitter: 0 } },
            ...extra,
        });
        managers.push(m);
        return m;
    }
    const tokenRequests = () => server.seen.filter((s) => s.url === "/identity/token").length;
    /** Lets a background refresh finish. */
    const settle = async () => {
        for (let i = 0; i < 20 && managers.some((m) => (m as unknown as { inFlight?: unknown }).inFlight); i++) await new Promise((r) => setTimeout(r, 10));
    };

    beforeEach(async () => {
        state = { clockS: 1_700_000_000, lifetimeS: 100, issued: 0 };
        nowMs = state.clockS * 1000;
        managers = [];
        server = await startLocalServer([tokenEndpoint(state)]);
    });
    afterEach(async () => {
        await settle();
        await Promise.all(managers.map((m) => m.http.close()));
        await server.stop();
    });

    it("exchanges the API key with IBM's form fields and caches the token", async () => {
        const m = manager();
        const t1 = await m.getToken();
        const t2 = await m.getToken();
        assert.strictEqual(t1, t2);
        assert.strictEqual(tokenRequests(), 1);
        const req = server.seen[0];
        assert.strictEqual(req.method, "POST");
        assert.strictEqual(req.headers["content-type"], "application/x-www-form-urlencoded");
        assert.strictEqual(req.headers["accept"], "application/json");
        const form = new URLSearchParams(req.body);
        assert.strictEqual(form.get("grant_type"), "urn:ibm:params:oauth:grant-type:apikey");
        assert.strictEqual(form.get("apikey"), API_KEY);
        assert.strictEqual(form.get("response_type"), "cloud_iam");
    });

    it("decodes the holder from the token: iam_id, account.bss, exp", async () => {
        const info = await manager().getTokenInfo();
        assert.strictEqual(info.iamId, "iam-ServiceId-1111");
        assert.strictEqual(info.accountId, ACCOUNT);
        assert.strictEqual(info.subjectType, "ServiceId");
        assert.strictEqual(info.expiration, state.clockS + 100, "expiry comes from the JWT, not expires_in");
        assert.strictEqual(info.refreshAt, state.clockS + 80);
    });

    it("treats the token as expired 10 s before exp and then waits for a new one", async () => {
        const m = manager();
        const first = await m.getToken();
        nowMs = (state.clockS + 91) * 1000; // 9 s before exp
        state.clockS += 91;
        const second = await m.getToken();
        assert.notStrictEqual(second, first);
        assert.strictEqual(tokenNumber(second), 2);
        assert.strictEqual(tokenRequests(), 2);
    });

    it("the expiry margin is configurable", async () => {
        const m = manager({ expiryMarginSeconds: 30 });
        await m.getToken();
        nowMs = (state.clockS + 75) * 1000; // past exp − 30 s: the cached token must not be served
        const t = await m.getToken();
        assert.strictEqual(tokenNumber(t), 2);
    });

    it("past 80 % of the lifetime returns the cached token at once and refreshes once in the background", async () => {
        state.delayMs = 100;
        const m = manager();
        const first = await m.getToken();
        nowMs = (state.clockS + 85) * 1000;
        const started = Date.now();
        const during = await Promise.all(Array.from({ length: 50 }, () => m.getToken()));
        assert.ok(Date.now() - started < 90, "callers did not wait for the refresh");
        assert.ok(during.every((t) => t === first));
        await settle();
        assert.strictEqual(tokenRequests(), 2, "exactly one background refresh");
        assert.strictEqual(tokenNumber(await m.getToken()), 2, "the refreshed token is served afterwards");
    });

    it("1,000 concurrent callers on a cold cache cause exactly one token request", async () => {
        state.delayMs = 50;
        const m = manager();
        const tokens = await Promise.all(Array.from({ length: 1000 }, () => m.getToken()));
        assert.strictEqual(tokenRequests(), 1);
        assert.strictEqual(new Set(tokens).size, 1);
    });

    it("a failed background refresh keeps serving the valid token and is retried later", async () => {
        const errors: Error[] = [];
        const m = manager({ onBackgroundRefreshError: (e) => errors.push(e), backgroundRetrySeconds: 2, http: { retry: { maxRetries: 0 } } });
        const first = await m.getToken();
        server.setScript([json(500, { errorCode: "BXNIM0500E", errorMessage: "IAM is unwell" })]);
        nowMs = (state.clockS + 85) * 1000;
        assert.strictEqual(await m.getToken(), first);
        await settle();
        assert.strictEqual(errors.length, 1);
        assert.match(errors[0].message, /IAM is unwell/);
        assert.ok(!errors[0].message.includes(API_KEY));
        // Still valid: still served; IAM is not asked again at once, later the refresh is retried.
        nowMs += 1000;
        assert.strictEqual(await m.getToken(), first);
        await settle();
        assert.strictEqual(tokenRequests(), 2, "no new attempt right after a failure");
        nowMs += 2000; // 88 s: past the 2 s pause, still valid
        assert.strictEqual(await m.getToken(), first);
        await settle();
        assert.strictEqual(errors.length, 2);
        assert.strictEqual(tokenRequests(), 3);
        // IAM recovers.
        server.setScript([tokenEndpoint(state)]);
        nowMs = (state.clockS + 95) * 1000; // now expired: blocking fetch
        assert.notStrictEqual(await m.getToken(), first);
    });

    it("keeps IBM's error code and message, and never shows the key", async () => {
        server.setScript([
            json(400, {
                errorCode: "BXNIM0415E",
                errorMessage: "Provided API key could not be found.",
                context: { requestId: "req-42", requestType: "incoming.Identity_Token" },
                // A server that echoes the request must not leak it either.
                echo: `grant_type=urn%3Aibm&apikey=${API_KEY}`,
            }),
        ]);
        await assert.rejects(manager().getToken(), (err: unknown) => {
            assert.ok(err instanceof IbmCloudError);
            assert.strictEqual(err.status, 400);
            assert.strictEqual(err.messageCode, "BXNIM0415E");
            assert.strictEqual(err.ibmMessage, "Provided API key could not be found.");
            assert.strictEqual(err.traceId, "req-42");
            assert.strictEqual(err.message, "get IAM access token failed: 400 (BXNIM0415E): Provided API key could not be found. [trace req-42]");
            assert.ok(!JSON.stringify({ ...err, m: err.message, s: err.stack }).includes(API_KEY));
            return true;
        });
        assert.strictEqual(tokenRequests(), 1, "a 400 is not retried");
    });

    it("a failure rejects every waiting caller once, and the next call tries again", async () => {
        server.setScript([json(400, { errorCode: "BXNIM0415E", errorMessage: "Provided API key could not be found." }), tokenEndpoint(state)]);
        const m = manager();
        const results = await Promise.allSettled(Array.from({ length: 20 }, () => m.getToken()));
        assert.ok(results.every((r) => r.status === "rejected"));
        assert.strictEqual(tokenRequests(), 1);
        assert.strictEqual(tokenNumber(await m.getToken()), 1);
    });

    it("invalidate() forces a new token on the next call", async () => {
        const m = manager();
        await m.getToken();
        m.invalidate();
        assert.strictEqual(tokenNumber(await m.getToken()), 2);
    });

    it("registers the key with a shared HTTP client so other callers' errors cannot show it", async () => {
        const http = new HttpClient();
        const m = manager({ httpClient: http });
        const token = await m.getToken();
        assert.strictEqual(http.redact(`k=${API_KEY} t=${token}`), "k=[REDACTED] t=[REDACTED]");
    });
});
