// Secrets hygiene of the client layer and the component: distinctive API keys, the tokens
// the emulator mints for them and KMS key material are driven through every error path of http.ts,
// errors.ts, tokenManager.ts, iamClient.ts, kmsClient.ts, accessToken.ts, config.ts and KmsAccess's
// token methods — the emulator's real refusals, and a proxy in front of it that echoes every
// credential of the request back in its error (message, details, trace, headers, a plain-text page),
// resets, hangs or truncates. Every rendering of every error (String, message, stack, util.inspect,
// JSON.stringify, the cause chain), what reached stdout/stderr meanwhile, the retry and background
// refresh hooks, and util.inspect of the clients themselves are searched for every secret the proxy
// saw cross the wire (whole, URL-encoded, base64, or a recognizable piece such as a JWT's
// header+payload prefix) and for anything JWT-shaped.
import * as assert from "assert";
import * as util from "util";
import * as pulumi from "@pulumi/pulumi";
import { nextUnhandledRejection } from "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import { accessTokenProvider, HttpClientOptions, IamClient, IamTokenManager, KmsClient, resolveCloudSettings, RetryInfo } from "../../client";
import { KmsAccess } from "../../components";
import { describeLeaks, findLeaks, SecretTap, startSecretTap, Sweep, TapRule, distinctive } from "../support/secretTap";
import { outputValue, setupMocks } from "../support/mocks";
import { json, startLocalServer } from "../support/localServer";
import { kmsInstanceGrant } from "../support/grants";

const OWNER_KEY = distinctive("sweepOwnerKey-");
const UNKNOWN_KEY = distinctive("sweepUnknownKey-");
const BYO_KEY = distinctive("sweepByoKey-");
const INLINE_KEY = distinctive("sweepInlineKey-");
const PAYLOAD = Buffer.from("sweep-payload-material-0123456789").toString("base64");
const SHORT_TIMEOUT_MS = 300;

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

describe("secrets hygiene: client layer and component errors, logs and debug output hold no key or token", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    let tap: SecretTap;
    const sweep = new Sweep();
    /** Values chosen here (some never cross the wire, e.g. refused by validation). */
    const chosen = [OWNER_KEY, UNKNOWN_KEY, BYO_KEY, INLINE_KEY, PAYLOAD];
    const retries: RetryInfo[] = [];
    const closers: Array<() => Promise<void>> = [];

    /** HTTP options: retries without waiting, every retry reported to the hook. */
    function http(extra: HttpClientOptions = {}): HttpClientOptions {
        return { sleep: async () => undefined, retry: { jitter: 0 }, onRetry: (i) => retries.push(i), ...extra };
    }

    function tokens(apiKey: string, extra: HttpClientOptions = {}, endpoint = tap.url): IamTokenManager {
        const m = new IamTokenManager({ apiKey, iamEndpoint: endpoint, http: http(extra) });
        closers.push(() => m.http.close());
        return m;
    }

    function iam(apiKey = OWNER_KEY, extra: HttpClientOptions = {}): IamClient {
        return new IamClient({ tokenManager: tokens(apiKey, extra) });
    }

    /** Runs `fn` with `rules` in force on the proxy, then clears them. */
    async function withRules<T>(rules: TapRule[], fn: () => Promise<T>): Promise<T> {
        tap.setRules(rules);
        try {
            return await fn();
        } finally {
            tap.setRules([]);
        }
    }

    const secrets = () => [...new Set([...tap.values(), ...chosen])];

    /** Searches what was collected since the last call (or everything) for every secret known now. */
    let checkedUpTo = 0;
    function assertClean(where: string, everything = false): void {
        const leaks = sweep.leaks(secrets(), everything ? 0 : checkedUpTo);
        checkedUpTo = sweep.texts.length;
        assert.ok(leaks.length === 0, `${where}: ${leaks.length} secrets found in output:\n${describeLeaks(leaks)}`);
    }

    const TOKEN = /^\/identity\/token$/;
    const forgedToken = [
        b64url({ alg: "RS256", kid: "forged" }),
        b64url({ iam_id: "iam-ServiceId-forged", sweep: "forged-token" }),
        "Zm9yZ2VkLXNpZ25hdHVyZS1zd2VlcA",
    ].join(".");
    chosen.push(forgedToken);
    const ECHO_STATUSES = [400, 401, 403, 404, 409, 412, 429, 500, 502, 503, 504];

    before(async function () {
        emu = await startEmulator({ port: 0, ownerApiKey: OWNER_KEY });
        tap = await startSecretTap(emu.url);
    });
    after(async function () {
        for (const c of closers) await c().catch(() => undefined);
        await tap?.stop();
        await emu?.stop();
    });

    it("the search finds a planted secret in every form (so a clean result means something)", async function () {
        const owner = iam();
        await owner.accountId();
        const token = await owner.tokens.getToken();
        assert.ok(tap.values().includes(token), "the proxy recorded the token the emulator minted");
        assert.ok(tap.values().includes(OWNER_KEY), "and the key sent for it");
        const [header, payload, signature] = token.split(".");
        for (const planted of [
            token,
            `Bearer ${token}`,
            `${header}.${payload.slice(0, 20)}`,
            signature,
            OWNER_KEY,
            encodeURIComponent(`x=${OWNER_KEY}`),
            Buffer.from(OWNER_KEY).toString("base64"),
            OWNER_KEY.slice(0, 20),
        ]) {
            assert.ok(findLeaks("planted", `some text ${planted} more`, secrets()).length > 0, "a planted secret is found");
        }
        assert.deepStrictEqual(findLeaks("clean", "service ID ServiceId-1234 failed: 400 [REDACTED]", secrets()), []);
    });

    it("token endpoint: a key IAM does not know (400), and every status echoing the key, until retries are exhausted", async function () {
        await sweep.fails("token 400 unknown key (emulator)", () => tokens(UNKNOWN_KEY).getToken());
        for (const status of ECHO_STATUSES) {
            await withRules([{ method: "POST", path: TOKEN, action: { kind: "echo", status, retryAfter: "0" } }], async () => {
                const err = await sweep.fails(`token ${status} echoing the key`, () => tokens(UNKNOWN_KEY).getToken());
                assert.strictEqual(err.status, status);
                if (status === 429 || status >= 500) assert.strictEqual(err.attempts, 5, "retried until the retries were exhausted");
            });
        }
        await withRules([{ method: "POST", path: TOKEN, action: { kind: "echo-text", status: 500, retryAfter: "0" } }], () =>
            sweep.fails("token 500 plain-text page dumping the request", () => tokens(UNKNOWN_KEY).getToken()),
        );
        // The key straddles the 500th character of a long page (where an error message may be cut).
        for (const pad of [470, 480, 490, 495]) {
            await withRules([{ method: "POST", path: TOKEN, action: { kind: "echo-text", status: 400, pad } }], () =>
                sweep.fails(`token 400 plain-text page, key at character ${pad}`, () => tokens(UNKNOWN_KEY).getToken()),
            );
        }
        assertClean("token endpoint refusals");
    });

    it("token endpoint: connection reset, timeout, malformed JSON and an answer that is not a token", async function () {
        await withRules([{ path: TOKEN, action: { kind: "reset" } }], async () => {
            const err = await sweep.fails("token connection reset (every attempt)", () => tokens(OWNER_KEY).getToken());
            assert.strictEqual(err.attempts, 5);
        });
        await withRules([{ path: TOKEN, action: { kind: "hang" } }], () =>
            sweep.fails("token timeout (every attempt)", () => tokens(OWNER_KEY, { timeoutMs: SHORT_TIMEOUT_MS }).getToken()),
        );
        // The emulator minted a token; the client gets half the JSON body, the token cut in the middle.
        await withRules([{ path: TOKEN, action: { kind: "malformed" } }], () =>
            sweep.fails("token malformed JSON holding half a token", () => tokens(OWNER_KEY, { retry: { maxRetries: 0 } }).getToken()),
        );

        // Answers no emulator gives: a token that is not a JWT, a JWT without exp.
        const opaque = distinctive("sweepOpaqueToken-");
        const noExp = [b64url({ alg: "RS256", kid: "k" }), b64url({ iam_id: "iam-ServiceId-x", account: { bss: "a" } }), "c2lnbmF0dXJlLXN3ZWVw"].join(".");
        chosen.push(opaque, noExp);
        const server = await startLocalServer([json(200, { access_token: opaque }), json(200, { access_token: noExp })]);
        try {
            await sweep.fails("token answer that is not a JWT", () => tokens(OWNER_KEY, {}, server.url).getToken());
            await sweep.fails("token answer without exp", () => tokens(OWNER_KEY, {}, server.url).getToken());
        } finally {
            await server.stop();
        }
        assertClean("token endpoint transport failures");
    });

    it("a background refresh that fails reports through its hook and lastRefreshError, without the key", async function () {
        let nowMs = Date.now();
        const reported: Error[] = [];
        const m = new IamTokenManager({
            apiKey: OWNER_KEY,
            iamEndpoint: tap.url,
            http: http(),
            now: () => nowMs,
            onBackgroundRefreshError: (e) => reported.push(e),
        });
        closers.push(() => m.http.close());
        const info = await m.getTokenInfo();
        nowMs = (info.refreshAt + 1) * 1000; // inside the refresh window, still valid
        await withRules([{ path: TOKEN, action: { kind: "echo", status: 500, retryAfter: "0" } }], async () => {
            await sweep.runs("background refresh failing", async () => {
                assert.strictEqual(await m.getToken(), info.accessToken, "the cached token is still served");
                for (let i = 0; i < 50 && reported.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
            });
        });
        assert.strictEqual(reported.length, 1, "the hook heard of the failure");
        sweep.paths.push("background token refresh failing");
        sweep.addError("background refresh hook", reported[0]);
        sweep.addError("lastRefreshError", m.lastRefreshError);
        assertClean("background refresh");
    });

    it("IAM: requests carrying the token (and keys in bodies) refused by the emulator and by an echoing server", async function () {
        const owner = iam();
        const sid = await owner.createServiceId({ name: "sweep" });
        await owner.createApiKey({ iam_id: sid.iam_id, name: "byo", apikey: BYO_KEY });

        await sweep.fails("IAM 404 get service ID (emulator)", () => owner.getServiceId("ServiceId-00000000-0000-0000-0000-000000000000"));
        await sweep.fails("IAM 409 API key value already in use (emulator)", () => owner.createApiKey({ iam_id: sid.iam_id, name: "again", apikey: BYO_KEY }));
        await sweep.fails("IAM 412 stale entity tag (emulator)", () => owner.updateServiceId(sid.id, "1-stale", { name: "x" }));
        await owner.lockServiceId(sid.id);
        await sweep.fails("IAM 409 entity locked (emulator)", () => owner.updateServiceId(sid.id, "*", { name: "x" }));
        await owner.unlockServiceId(sid.id);
        await sweep.fails("IAM 404 key details by an unknown value (emulator)", () => owner.getApiKeyDetailsByValue(UNKNOWN_KEY));
        await sweep.fails("IAM 400 API key too short (emulator)", () => owner.createApiKey({ iam_id: sid.iam_id, name: "short", apikey: "sweepShortKey-123" }));
        chosen.push("sweepShortKey-123");
        await sweep.fails("IAM 401 with a token IAM did not issue", () =>
            new IamClient({
                tokenManager: Object.assign(tokens(OWNER_KEY), { getToken: async () => forgedToken }),
            }).getServiceId(sid.id),
        );

        // An echoing server, for each kind of request that carries a secret.
        const calls: Array<[string, RegExp, string, () => Promise<unknown>]> = [
            ["GET service ID", /^\/v1\/serviceids\/[^/]+$/, "GET", () => owner.getServiceId(sid.id)],
            [
                "create API key with its value",
                /^\/v1\/apikeys$/,
                "POST",
                () => owner.createApiKey({ iam_id: sid.iam_id, name: "byo2", apikey: distinctive("sweepByoKeyTwo-") }),
            ],
            [
                "create service ID with an inline key",
                /^\/v1\/serviceids$/,
                "POST",
                () => owner.createServiceId({ name: "inline", apikey: { name: "k", apikey: INLINE_KEY } }),
            ],
            ["update service ID (If-Match)", /^\/v1\/serviceids\/[^/]+$/, "PUT", () => owner.updateServiceId(sid.id, "*", { name: "y" })],
            ["key details by value (IAM-ApiKey header)", /^\/v1\/apikeys\/details$/, "GET", () => owner.getApiKeyDetailsByValue(BYO_KEY)],
            ["list policies", /^\/v1\/policies$/, "GET", () => owner.listPolicies({ iamId: sid.iam_id })],
        ];
        chosen.push(distinctive("sweepByoKeyTwo-"));
        for (const [what, path, method, call] of calls) {
            for (const status of ECHO_STATUSES) {
                await withRules([{ method, path, action: { kind: "echo", status, retryAfter: "0" } }], () => sweep.fails(`IAM ${status} echo: ${what}`, call));
            }
            await withRules([{ method, path, action: { kind: "echo-text", status: 502, retryAfter: "0", pad: 490 } }], () =>
                sweep.fails(`IAM 502 plain-text page: ${what}`, call),
            );
        }
        assertClean("IAM refusals");
    });

    it("IAM: resets before and after a write commits, timeouts, truncated bodies holding a new key, unexpected bodies", async function () {
        const owner = iam();
        const sid = await owner.createServiceId({ name: "sweep-transport" });
        await withRules([{ method: "GET", action: { kind: "reset" } }], () => sweep.fails("IAM GET reset (every attempt)", () => owner.getServiceId(sid.id)));
        // The emulator creates the key (the proxy records its value); the client never sees the answer
        // (it may find the key again by looking it up: the path counts either way).
        await withRules([{ method: "POST", path: /^\/v1\/apikeys$/, action: { kind: "reset-after" } }], () =>
            sweep.attempt("IAM create API key, reset after commit", () => owner.createApiKey({ iam_id: sid.iam_id, name: "lost" })),
        );
        await withRules([{ method: "GET", path: /^\/v1\/serviceids\/[^/]+$/, action: { kind: "hang" } }], () =>
            sweep.fails("IAM GET timeout (every attempt)", () => iam(OWNER_KEY, { timeoutMs: SHORT_TIMEOUT_MS }).getServiceId(sid.id)),
        );
        await withRules([{ method: "POST", path: /^\/v1\/apikeys$/, action: { kind: "hang" } }], () =>
            sweep.attempt("IAM create API key timeout", () =>
                iam(OWNER_KEY, { timeoutMs: SHORT_TIMEOUT_MS }).createApiKey({ iam_id: sid.iam_id, name: "slow" }),
            ),
        );
        // A new key's value in the first half of a truncated 201 body.
        await withRules([{ method: "POST", path: /^\/v1\/apikeys$/, action: { kind: "malformed" } }], () =>
            sweep.attempt("IAM create API key, malformed JSON holding the new value", () =>
                owner.createApiKey({ iam_id: sid.iam_id, name: "half", apikey: distinctive("sweepHalfKey-") }),
            ),
        );
        chosen.push(distinctive("sweepHalfKey-"));
        const stored = await owner.createApiKey({ iam_id: sid.iam_id, name: "stored", store_value: true });
        await withRules([{ method: "GET", path: /^\/v1\/apikeys\/[^/]+$/, action: { kind: "malformed" } }], () =>
            sweep.fails("IAM get stored API key, malformed JSON holding the value", () => owner.getApiKey(stored.id)),
        );

        // Bodies that fail the response schema while holding a key value (no emulator sends these).
        const jwt = [
            b64url({ alg: "RS256", kid: "k" }),
            b64url({ iam_id: "iam-x", account: { bss: "acct" }, exp: 4_102_444_800, iat: 1 }),
            "c2lnLXN3ZWVwLXNjaGVtYQ",
        ].join(".");
        const odd = distinctive("sweepOddKey-");
        chosen.push(jwt, odd);
        const server = await startLocalServer([
            json(200, { access_token: jwt }),
            json(201, { apikey: odd, id: 5, locked: "no" }),
            json(200, { apikeys: [{ apikey: odd, id: 7 }] }),
        ]);
        try {
            const c = new IamClient({ tokenManager: tokens(OWNER_KEY, {}, server.url) });
            await sweep.fails("IAM create API key, unexpected body holding a value", () => c.createApiKey({ iam_id: "iam-ServiceId-x", name: "odd" }));
            await sweep.fails("IAM list API keys, unexpected item holding a value", () => c.listApiKeys({ iamId: "iam-ServiceId-x", accountId: "acct" }));
        } finally {
            await server.stop();
        }
        assertClean("IAM transport failures");
    });

    it("IAM policies: conflict and stale ETag, from the emulator and echoed", async function () {
        const owner = iam();
        const sid = await owner.createServiceId({ name: "sweep-policy" });
        const body = {
            type: "access",
            subjects: [{ attributes: [{ name: "iam_id", value: sid.iam_id }] }],
            roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Reader" }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: emu.accountId },
                        { name: "serviceName", value: "hs-crypto" },
                    ],
                },
            ],
        };
        const made = await owner.createPolicy(body);
        await sweep.fails("policy 409 conflict (emulator)", () => owner.createPolicy(body));
        await sweep.fails("policy 412 stale ETag (emulator)", () => owner.replacePolicy(made.policy.id, "stale-etag", body));
        for (const status of [409, 412, 500]) {
            await withRules([{ method: "PUT", path: /^\/v1\/policies\/[^/]+$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                sweep.fails(`policy ${status} echo on replace`, () => owner.replacePolicy(made.policy.id, made.etag, body)),
            );
        }
        assertClean("policy refusals");
    });

    it("KMS: a service ID without access (401), and echoing, resetting, hanging and truncating KMS servers", async function () {
        const owner = iam();
        const instanceId = emu.instances[0].guid;
        const sid = await owner.createServiceId({ name: "sweep-kms" });
        const key = await owner.createApiKey({ iam_id: sid.iam_id, name: "kms-key" });
        const sidTokens = tokens(String(key.apikey));
        const kms = (extra: HttpClientOptions = {}) => {
            const t = Object.keys(extra).length ? tokens(String(key.apikey), extra) : sidTokens;
            return new KmsClient({ endpoint: tap.url, instanceId, tokenSource: () => t.getToken(), httpClient: t.http });
        };
        await sweep.fails("KMS 401 list keys without a policy (emulator)", () => kms().listKeys());
        await sweep.fails("KMS wait for access times out on 401 (emulator)", () => kms().waitUntilAuthorized({ timeoutMs: 200, initialIntervalMs: 20 }));

        await owner.createPolicy(
            kmsInstanceGrant({
                accountId: emu.accountId,
                iamId: sid.iam_id,
                roleCrn: "crn:v1:bluemix:public:iam::::serviceRole:Manager",
                service: "hs-crypto",
                instance: instanceId,
            }),
        );
        await kms().waitUntilAuthorized({ timeoutMs: 10_000, initialIntervalMs: 20 });
        const standard = await kms().createKey({ name: "sweep-standard", extractable: true, payload: PAYLOAD });
        await sweep.fails("KMS 404 get key (emulator)", () => kms().getKey("00000000-0000-0000-0000-000000000000"));
        const calls: Array<[string, RegExp, string, () => Promise<unknown>]> = [
            ["list keys", /^\/api\/v2\/keys$/, "GET", () => kms().listKeys()],
            [
                "create key with imported material",
                /^\/api\/v2\/keys$/,
                "POST",
                () => kms().createKey({ name: "sweep-import", extractable: true, payload: PAYLOAD }),
            ],
            ["get standard key (payload in the answer)", /^\/api\/v2\/keys\/[^/]+$/, "GET", () => kms().getKey(standard.id)],
            ["delete key", /^\/api\/v2\/keys\/[^/]+$/, "DELETE", () => kms().deleteKey(standard.id)],
        ];
        for (const [what, path, method, call] of calls) {
            for (const status of [400, 401, 403, 404, 409, 429, 500, 503]) {
                if (method === "DELETE" && status === 404) continue; // already gone counts as deleted
                await withRules([{ method, path, action: { kind: "echo", status, retryAfter: "0" } }], () => sweep.fails(`KMS ${status} echo: ${what}`, call));
            }
            await withRules([{ method, path, action: { kind: "echo-text", status: 500, retryAfter: "0", pad: 485 } }], () =>
                sweep.fails(`KMS 500 plain-text page: ${what}`, call),
            );
        }
        await withRules([{ path: /^\/api\/v2\/keys$/, action: { kind: "reset" } }], () => sweep.fails("KMS reset (every attempt)", () => kms().listKeys()));
        await withRules([{ path: /^\/api\/v2\/keys$/, action: { kind: "hang" } }], () =>
            sweep.fails("KMS timeout (every attempt)", () => kms({ timeoutMs: SHORT_TIMEOUT_MS }).listKeys()),
        );
        await withRules([{ method: "GET", path: /^\/api\/v2\/keys\/[^/]+$/, action: { kind: "malformed" } }], () =>
            sweep.fails("KMS malformed JSON holding the key material", () => kms().getKey(standard.id)),
        );
        await withRules([{ path: /^\/api\/v2\/keys$/, action: { kind: "echo", status: 401 } }], () =>
            sweep.fails("KMS wait for access times out on echoed 401", () => kms().waitUntilAuthorized({ timeoutMs: 100, initialIntervalMs: 20 })),
        );
        assertClean("KMS refusals");
    });

    it("accessTokenProvider: getAccessToken, getTokenInfo and authHeaders failing, and refused arguments", async function () {
        const provider = (apiKey: string) => {
            const p = accessTokenProvider({ apiKey, iamEndpoint: tap.url, http: http() });
            closers.push(() => p.close());
            return p;
        };
        await sweep.fails("accessToken getAccessToken, unknown key (emulator)", () => provider(UNKNOWN_KEY).getAccessToken());
        await sweep.fails("accessToken getTokenInfo, unknown key (emulator)", () => provider(UNKNOWN_KEY).getTokenInfo());
        await sweep.fails("accessToken authHeaders, unknown key (emulator)", () => provider(UNKNOWN_KEY).authHeaders(emu.instances[0].guid));
        for (const status of [400, 401, 500, 503]) {
            await withRules([{ path: TOKEN, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                sweep.fails(`accessToken authHeaders, token ${status} echo`, () => provider(OWNER_KEY).authHeaders(emu.instances[0].guid)),
            );
        }
        await sweep.fails("accessToken authHeaders without an instance", () => provider(OWNER_KEY).authHeaders(" "));
        await sweep.fails("accessToken without a key", () => accessTokenProvider({ apiKey: " " }));
        await sweep.fails("accessToken, the key given as the IAM endpoint", () => accessTokenProvider({ apiKey: OWNER_KEY, iamEndpoint: OWNER_KEY }));
        assertClean("accessTokenProvider");
    });

    it("settings: a key pasted where an endpoint belongs, or inside an endpoint URL, is not echoed", async function () {
        const cases: Array<[string, () => unknown]> = [
            ["ibmcloud:iamEndpoint = the key", () => resolveCloudSettings({ apiKey: OWNER_KEY, iamEndpoint: OWNER_KEY }, {})],
            ["ibmcloud:kmsEndpoint = the key", () => resolveCloudSettings({ apiKey: OWNER_KEY, kmsEndpoint: OWNER_KEY }, {})],
            ["IBMCLOUD_IAM_API_ENDPOINT = the key", () => resolveCloudSettings({}, { IC_API_KEY: OWNER_KEY, IBMCLOUD_IAM_API_ENDPOINT: OWNER_KEY })],
            ["IBMCLOUD_KP_API_ENDPOINT = the key", () => resolveCloudSettings({}, { IC_API_KEY: OWNER_KEY, IBMCLOUD_KP_API_ENDPOINT: OWNER_KEY })],
            [
                "endpoint URL with the key as password over http",
                () => resolveCloudSettings({ apiKey: OWNER_KEY, iamEndpoint: `http://apikey:${OWNER_KEY}@iam.example.com` }, {}),
            ],
            [
                "endpoint URL with the key as password over https",
                () => resolveCloudSettings({ apiKey: OWNER_KEY, iamEndpoint: `https://apikey:${OWNER_KEY}@iam.example.com` }, {}),
            ],
            [
                "endpoint URL with the key in its query",
                () => resolveCloudSettings({ apiKey: OWNER_KEY, iamEndpoint: `https://iam.example.com/?key=${OWNER_KEY}` }, {}),
            ],
            [
                "endpoint URL with the key in its fragment",
                () => resolveCloudSettings({ apiKey: OWNER_KEY, iamEndpoint: `https://iam.example.com/#${OWNER_KEY}` }, {}),
            ],
        ];
        for (const [what, fn] of cases) {
            const err = await sweep.fails(`settings: ${what}`, fn);
            assert.strictEqual(err.name, "InputError", `${what}: ${err.message}`);
            assert.match(err.message, /Endpoint|ENDPOINT/, "the message still names the setting");
        }
        assertClean("settings");
    });

    it("KmsAccess: getAccessToken, getAccessTokenInfo and authHeaders failing in the program", async function () {
        const keyOfComponent = distinctive("sweepComponentKey-");
        chosen.push(keyOfComponent);
        pulumi.runtime.setAllConfig({ "ibmcloud:iamEndpoint": tap.url });
        try {
            await setupMocks({
                newResource: (args) => {
                    if (args.type.endsWith(":ServiceApiKey"))
                        return { id: "ApiKey-sweep", state: { ...args.inputs, apikey: keyOfComponent, apiKeyId: "ApiKey-sweep" } };
                    if (args.type.endsWith(":ServiceId"))
                        return { id: "ServiceId-sweep", state: { ...args.inputs, serviceId: "ServiceId-sweep", iamId: "iam-ServiceId-sweep" } };
                    return undefined;
                },
            });
            const access = new KmsAccess("sweep", { instance: { instanceId: emu.instances[0].guid, endpoint: tap.url }, waitForAccess: { timeoutSeconds: 0 } });
            /** A token method's Output must reject; Pulumi also reports the error as an unhandled rejection (as the engine would print it): both are collected. */
            const rejects = (label: string, make: () => pulumi.Output<unknown>, timeoutMs = 30_000) =>
                sweep.fails(label, async () => {
                    const unhandled = nextUnhandledRejection(timeoutMs);
                    unhandled.catch(() => undefined);
                    try {
                        return await outputValue(make(), timeoutMs);
                    } catch (err) {
                        const also = await Promise.race([unhandled, new Promise((r) => setTimeout(r, 2_000))]);
                        if (also !== undefined && also !== err) sweep.addError(`${label} (unhandled rejection)`, also);
                        throw err;
                    }
                });
            await rejects("KmsAccess getAccessToken, key unknown to IAM (emulator)", () => access.getAccessToken());
            await withRules([{ path: TOKEN, action: { kind: "echo", status: 503, retryAfter: "0" } }], () =>
                rejects("KmsAccess getAccessTokenInfo, token 503 echo until retries are exhausted", () => access.getAccessTokenInfo()),
            );
            await withRules([{ path: TOKEN, action: { kind: "echo", status: 400 } }], () =>
                rejects("KmsAccess authHeaders, token 400 echo", () => access.authHeaders()),
            );
            // What a user prints while debugging a program.
            sweep.add("util.inspect(KmsAccess)", util.inspect(access, { depth: 6 }));
        } finally {
            pulumi.runtime.setAllConfig({});
        }
        assertClean("KmsAccess");
    });

    it("util.inspect of the clients (what console.log shows while debugging) holds no key or token", async function () {
        const owner = iam();
        await owner.getServiceId((await owner.createServiceId({ name: "inspect" })).id);
        const sid = await owner.createServiceId({ name: "inspect-kms" });
        const key = await owner.createApiKey({ iam_id: sid.iam_id, name: "k" });
        const t = tokens(String(key.apikey));
        await t.getToken();
        const kms = new KmsClient({ endpoint: tap.url, instanceId: emu.instances[0].guid, tokenSource: () => t.getToken(), httpClient: t.http });
        const atp = accessTokenProvider({ apiKey: OWNER_KEY, iamEndpoint: tap.url });
        closers.push(() => atp.close());
        await atp.getAccessToken();
        for (const [what, value] of [
            ["IamClient", owner],
            ["IamTokenManager", owner.tokens],
            ["HttpClient", owner.http],
            ["KmsClient", kms],
            ["accessTokenProvider", atp],
        ] as Array<[string, unknown]>) {
            sweep.add(`util.inspect(${what})`, util.inspect(value, { depth: 8 }));
            try {
                sweep.add(`JSON.stringify(${what})`, JSON.stringify(value));
            } catch {
                /* circular */
            }
        }
        sweep.paths.push("util.inspect / JSON.stringify of the clients");
        assertClean("client objects");
    });

    it("over the whole sweep: no output held any secret, and the retry hook never saw one", function () {
        sweep.add("onRetry reports", JSON.stringify(retries));
        assert.ok(retries.length > 50, `retries were exercised (${retries.length})`);
        assert.ok(sweep.paths.length >= 150, `error paths swept: ${sweep.paths.length}`);
        const values = secrets();
        assert.ok(values.filter((v) => v.startsWith("eyJ")).length >= 10, "tokens minted by the emulator are among the values searched");
        assertClean("the whole sweep", true);
        process.stdout.write(
            `      (${sweep.paths.length} error paths, ${sweep.texts.length} texts, ${values.length} secret values searched; ` +
                `proxy rules fired ${JSON.stringify(tap.fired)})\n`,
        );
    });
});
