import * as assert from "assert";
import { HttpClient, HttpClientOptions, IbmCloudError, DEFAULT_RETRY_POLICY, connectRetries } from "../../client";
import { backoffDelayMs, parseRetryAfter } from "../../client/backoff";
import { startLocalServer, LocalServer, json, reset, hang, closedPort, Handler } from "../support/localServer";

const IAM_ERROR = (status: number, code: string) => ({
    errors: [{ code, message_code: "BXNIM9999E", message: `IBM says ${code}` }],
    status_code: status,
    trace: "trace-" + code,
});

describe("http: the one request function", function () {
    let server: LocalServer;
    let slept: number[];
    let clients: HttpClient[];

    function client(extra: HttpClientOptions = {}): HttpClient {
        const c = new HttpClient({
            sleep: async (ms) => {
                slept.push(ms);
            },
            retry: { jitter: 0 },
            ...extra,
        });
        clients.push(c);
        return c;
    }
    async function script(...handlers: Handler[]) {
        server = await startLocalServer(handlers);
    }

    beforeEach(() => {
        slept = [];
        clients = [];
    });
    afterEach(async () => {
        await Promise.all(clients.map((c) => c.close()));
        if (server) await server.stop();
    });

    it("sends JSON with Accept, User-Agent and one correlation id, and parses the JSON answer", async () => {
        await script(json(201, { id: "ServiceId-1" }));
        const res = await client().request<{ id: string }>({
            operation: "create service ID",
            method: "POST",
            url: `${server.url}/v1/serviceids/`,
            json: { name: "app" },
        });
        assert.strictEqual(res.status, 201);
        assert.strictEqual(res.body.id, "ServiceId-1");
        const seen = server.seen[0];
        assert.strictEqual(seen.headers["accept"], "application/json");
        assert.strictEqual(seen.headers["content-type"], "application/json");
        assert.match(String(seen.headers["user-agent"]), /^pulumi-ibmcloud-iam\/\d+\.\d+\.\d+/);
        assert.ok(seen.headers["x-correlation-id"]);
        assert.strictEqual(seen.headers["transaction-id"], seen.headers["x-correlation-id"]);
        assert.deepStrictEqual(JSON.parse(seen.body), { name: "app" });
    });

    it("retries a GET on 429, 500, 502, 503 and 504 with the 0.5/1.5/3.5/7.5 s backoff, keeping the correlation id", async () => {
        await script(json(500, IAM_ERROR(500, "a")), json(502, {}), json(503, {}), json(504, {}), json(200, { ok: true }));
        const res = await client().request({ operation: "get service ID", method: "GET", url: `${server.url}/v1/serviceids/x` });
        assert.deepStrictEqual(res.body, { ok: true });
        assert.strictEqual(res.attempts, 5);
        assert.deepStrictEqual(slept, [500, 1500, 3500, 7500]);
        const ids = new Set(server.seen.map((s) => s.headers["x-correlation-id"]));
        assert.strictEqual(ids.size, 1, "every retry carries the same correlation id");
    });

    it("gives up after 4 retries and reports IBM's code, message and trace", async () => {
        await script(json(503, IAM_ERROR(503, "service_unavailable")));
        await assert.rejects(client().request({ operation: "list service IDs", method: "GET", url: `${server.url}/v1/serviceids/` }), (err: unknown) => {
            assert.ok(err instanceof IbmCloudError);
            assert.strictEqual(err.status, 503);
            assert.strictEqual(err.code, "service_unavailable");
            assert.strictEqual(err.messageCode, "BXNIM9999E");
            assert.strictEqual(err.traceId, "trace-service_unavailable");
            assert.strictEqual(err.retryable, true);
            assert.strictEqual(err.attempts, 5);
            assert.match(
                err.message,
                /^list service IDs failed: 503 service_unavailable \(BXNIM9999E\): IBM says service_unavailable; gave up after 5 attempts \[trace trace-service_unavailable\]$/,
            );
            return true;
        });
        assert.strictEqual(server.seen.length, 5);
    });

    it("never retries 501 or a 4xx", async () => {
        await script(json(501, IAM_ERROR(501, "not_implemented")));
        await assert.rejects(
            client().request({ operation: "x", method: "GET", url: server.url }),
            (e: unknown) => e instanceof IbmCloudError && e.status === 501 && !e.retryable,
        );
        server.setScript([json(409, IAM_ERROR(409, "entity_locked"))]);
        await assert.rejects(
            client().request({ operation: "x", method: "DELETE", url: server.url }),
            (e: unknown) => e instanceof IbmCloudError && e.code === "entity_locked",
        );
        assert.strictEqual(server.seen.length, 2);
        assert.deepStrictEqual(slept, []);
    });

    it("honours Retry-After in seconds and as an HTTP date", async () => {
        const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
        await script(json(429, {}, { "retry-after": "2" }), json(429, {}, { "retry-after": inTwoMinutes }), json(200, {}));
        await client().request({ operation: "x", method: "GET", url: server.url });
        assert.strictEqual(slept[0], 2000);
        assert.ok(slept[1] > 110_000 && slept[1] <= 120_000, `waited ${slept[1]} ms for a date two minutes away`);
    });

    it("fails at once when Retry-After asks for more than 5 minutes, saying so", async () => {
        await script(json(429, { errorCode: "BXNIM0429E", errorMessage: "Too many requests" }, { "retry-after": "301" }));
        await assert.rejects(client().request({ operation: "get IAM access token", method: "POST", url: server.url, idempotent: true }), (err: unknown) => {
            assert.ok(err instanceof IbmCloudError);
            assert.strictEqual(err.retryAfterMs, 301_000);
            assert.match(err.message, /429 \(BXNIM0429E\): Too many requests; IBM Cloud asked to retry after 301 s/);
            return true;
        });
        assert.strictEqual(server.seen.length, 1);
        assert.deepStrictEqual(slept, []);
    });

    describe("a create POST is never retried blindly", () => {
        it("retries on 429 and 503 (turned away before any work was done)", async () => {
            await script(json(429, {}), json(503, {}), json(201, { id: "k1" }));
            const res = await client().request({ operation: "create API key", method: "POST", url: server.url, json: {} });
            assert.deepStrictEqual(res.body, { id: "k1" });
            assert.strictEqual(server.seen.length, 3);
        });

        for (const status of [500, 502, 504]) {
            it(`does not retry on ${status} and says the outcome is unknown`, async () => {
                await script(json(status, IAM_ERROR(status, "internal")), json(201, { id: "duplicate!" }));
                await assert.rejects(
                    client().request({ operation: "create service ID", method: "POST", url: server.url, json: { name: "a" } }),
                    (err: unknown) => {
                        assert.ok(err instanceof IbmCloudError);
                        assert.strictEqual(err.outcomeUnknown, true);
                        assert.match(err.message, /outcome is unknown/);
                        return true;
                    },
                );
                assert.strictEqual(server.seen.length, 1, "a second create would make a duplicate");
            });
        }

        it("does not retry after the connection dropped mid-request", async () => {
            await script(reset, json(201, { id: "duplicate!" }));
            await assert.rejects(client().request({ operation: "create service ID", method: "POST", url: server.url, json: { name: "a" } }), (err: unknown) => {
                assert.ok(err instanceof IbmCloudError);
                assert.strictEqual(err.status, 0);
                assert.strictEqual(err.outcomeUnknown, true);
                assert.match(err.message, /^create service ID failed: \S+: the connection failed during the request .*outcome is unknown/);
                return true;
            });
            assert.strictEqual(server.seen.length, 1);
        });

        it("does not retry after a timeout, and says the outcome is unknown", async () => {
            await script(hang);
            const started = Date.now();
            await assert.rejects(
                client({ timeoutMs: 200 }).request({ operation: "create access policy", method: "POST", url: server.url, json: {} }),
                (err: unknown) => {
                    assert.ok(err instanceof IbmCloudError);
                    assert.strictEqual(err.code, "UND_ERR_HEADERS_TIMEOUT");
                    assert.strictEqual(err.outcomeUnknown, true);
                    return true;
                },
            );
            assert.ok(Date.now() - started < 5_000);
            assert.strictEqual(server.seen.length, 1);
        });

        it("retries a refused connection twice (IBM's SDK's count) when the address never answered, and names the URL and its setting", async () => {
            const port = await closedPort();
            const base = `http://127.0.0.1:${port}`;
            const c = client({ endpointOrigins: [{ url: base, from: "stack config ibmcloud:iamEndpoint", fix: "correct it" }] });
            await assert.rejects(
                c.request({ operation: "create service ID", method: "POST", url: `${base}/v1/serviceids/?account_id=x`, json: {} }),
                (err: unknown) => {
                    assert.ok(err instanceof IbmCloudError);
                    assert.strictEqual(err.code, "ECONNREFUSED");
                    assert.strictEqual(err.outcomeUnknown, false);
                    assert.strictEqual(err.attempts, 3);
                    assert.match(
                        err.message,
                        new RegExp(
                            `^create service ID failed: ECONNREFUSED: could not connect to ${base} \\(connection refused: nothing listens there\\); that URL is stack config ibmcloud:iamEndpoint: correct it; gave up after 3 attempts`,
                        ),
                    );
                    return true;
                },
            );
            assert.strictEqual(slept.length, 2);
        });

        it("a host name DNS does not know is not retried on first contact; other failures get the schedule", () => {
            const policy = { ...DEFAULT_RETRY_POLICY };
            assert.strictEqual(connectRetries(policy, "ENOTFOUND", false), 0);
            assert.strictEqual(connectRetries(policy, "ECONNREFUSED", false), 2);
            assert.strictEqual(connectRetries(policy, "UND_ERR_CONNECT_TIMEOUT", false), 2);
            assert.strictEqual(connectRetries(policy, "EAI_AGAIN", false), 4, "a DNS answer that may change");
            assert.strictEqual(connectRetries(policy, "ENOTFOUND", true), 4, "an address that answered before: an outage");
            assert.strictEqual(connectRetries(policy, "ECONNREFUSED", true), 4);
        });

        it("once the address has answered, a refused connection is an outage: the whole retry schedule", async () => {
            await script(json(200, { ok: true }));
            const c = client();
            await c.request({ operation: "get thing", method: "GET", url: server.url });
            const origin = new URL(server.url).origin;
            await server.stop();
            slept.length = 0;
            await assert.rejects(
                c.request({ operation: "get thing", method: "GET", url: `${origin}/again` }),
                (err: unknown) => err instanceof IbmCloudError && err.code === "ECONNREFUSED" && err.attempts === 5,
            );
            assert.strictEqual(slept.length, 4);
        });
    });

    it("retries a PUT only when it carries If-Match", async () => {
        await script(json(500, IAM_ERROR(500, "internal")), json(200, {}));
        await assert.rejects(
            client().request({ operation: "replace thing", method: "PUT", url: server.url, json: {} }),
            (e: unknown) => e instanceof IbmCloudError && e.outcomeUnknown === true,
        );
        assert.strictEqual(server.seen.length, 1);
        server.setScript([json(500, IAM_ERROR(500, "internal")), json(200, { ok: true })]);
        const res = await client().request({ operation: "replace policy", method: "PUT", url: server.url, headers: { "If-Match": "1-a" }, json: {} });
        assert.strictEqual(res.attempts, 2);
    });

    it("retries an idempotent GET after a reset and after a timeout", async () => {
        await script(reset, hang, json(200, { ok: 1 }));
        const res = await client({ timeoutMs: 200 }).request({ operation: "get policy", method: "GET", url: server.url });
        assert.deepStrictEqual(res.body, { ok: 1 });
        assert.strictEqual(server.seen.length, 3);
    });

    it("asks again when a GET's answer is garbled, but a create's garbled answer is an unknown outcome, not a retry", async () => {
        const garbled: Handler = (_req, res) => {
            res.writeHead(200, { "content-type": "application/json" });
            res.end('{"id":"ServiceId-1","na');
        };
        await script(garbled, json(200, { ok: 1 }));
        const res = await client().request({ operation: "get service ID", method: "GET", url: server.url });
        assert.deepStrictEqual(res.body, { ok: 1 });
        assert.strictEqual(res.attempts, 2);
        server.setScript([garbled, json(201, { id: "ServiceId-2" })]);
        await assert.rejects(client().request({ operation: "create service ID", method: "POST", url: server.url, json: {} }), (err: unknown) => {
            assert.ok(err instanceof IbmCloudError);
            assert.strictEqual(err.code, "invalid_json");
            assert.strictEqual(err.outcomeUnknown, true);
            return true;
        });
    });

    it("a replayed If-Match PUT that meets 412 reports that the first attempt may have been applied", async () => {
        let tag = 1;
        const applyThenDrop: Handler = (req, _res, raw) => {
            if (req.headers["if-match"] === `${tag}-x`) tag++;
            raw.socket.destroy();
        };
        const precondition: Handler = (req, res) =>
            json(req.headers["if-match"] === `${tag}-x` ? 200 : 412, IAM_ERROR(412, "entity_tag_mismatch"))(req, res, undefined as never);
        await script(applyThenDrop, precondition);
        await assert.rejects(
            client().request({ operation: "update service ID", method: "PUT", url: server.url, headers: { "If-Match": "1-x" }, json: { name: "b" } }),
            (err: unknown) => {
                assert.ok(err instanceof IbmCloudError);
                assert.strictEqual(err.status, 412);
                assert.strictEqual(err.outcomeUnknown, true);
                assert.match(err.message, /earlier attempt .* may already have been applied/);
                return true;
            },
        );
        assert.strictEqual(tag, 2, "the server did apply the first attempt");
    });

    it("keeps secrets the request carries out of the error, even when the server echoes them", async () => {
        const value = "Secret_Value_0123456789_abcdefghijklmnopq";
        await script(json(400, { errors: [{ code: "bad", message: `apikey ${value} is invalid`, details: value }], trace: "t" }));
        await assert.rejects(
            client().request({ operation: "get API key details", method: "GET", url: server.url, headers: { "IAM-ApiKey": value }, secrets: [value] }),
            (err: unknown) => {
                assert.ok(err instanceof IbmCloudError);
                assert.ok(!JSON.stringify({ m: err.message, d: err.details, i: err.ibmMessage }).includes(value));
                assert.match(err.message, /is invalid/);
                return true;
            },
        );
    });

    it("waits for real when no sleep is injected (schedule shortened through the policy)", async () => {
        await script(json(503, {}), json(503, {}), json(200, {}));
        const c = new HttpClient({ retry: { delaysMs: [60, 120], jitter: 0 } });
        clients.push(c);
        const started = Date.now();
        await c.request({ operation: "x", method: "GET", url: server.url });
        assert.ok(Date.now() - started >= 170, `took ${Date.now() - started} ms`);
    });

    it("reports a stalled response body as a timeout", async () => {
        await script((_req, res) => {
            res.writeHead(200, { "content-type": "application/json" });
            res.write('{"a":');
        });
        await assert.rejects(
            client({ timeoutMs: 200, retry: { maxRetries: 0 } }).request({ operation: "get", method: "GET", url: server.url }),
            (e: unknown) => e instanceof IbmCloudError && e.code === "UND_ERR_BODY_TIMEOUT",
        );
    });
});

describe("http: retry arithmetic", () => {
    it("parses Retry-After forms", () => {
        const now = Date.parse("2026-01-01T00:00:00Z");
        assert.strictEqual(parseRetryAfter("3", now), 3000);
        assert.strictEqual(parseRetryAfter("0.5", now), 500);
        assert.strictEqual(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now), 10_000);
        assert.strictEqual(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now), 0);
        assert.strictEqual(parseRetryAfter("soon", now), undefined);
        assert.strictEqual(parseRetryAfter(undefined, now), undefined);
    });
    it("backs off 0.5, 1.5, 3.5, 7.5 s and is capped at 30 s", () => {
        const p = { ...DEFAULT_RETRY_POLICY };
        assert.deepStrictEqual(
            [0, 1, 2, 3, 4, 5].map((i) => backoffDelayMs(p, i)),
            [500, 1500, 3500, 7500, 15000, 30000],
        );
    });
});
