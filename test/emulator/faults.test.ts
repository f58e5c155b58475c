// Contract of fault injection, the per-caller rate limit and request stats, seen from a real HTTP client (undici).
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Agent, request } from "undici";
import { EmulatorStats, FaultRule, RunningEmulator, startEmulator } from "../../emulator";
import { parseArgs, parseFault } from "../../emulator/cli";
import { APIKEY_GRANT, serviceIdWithKey, ServiceIdWithKey } from "./helpers";

const KEY_TYPE = "application/vnd.ibm.kms.key+json";

interface Answer {
    status: number;
    headers: Record<string, string>;
    text: string;
    body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

interface SendOptions {
    token?: string;
    json?: unknown;
    form?: Record<string, string>;
    headers?: Record<string, string>;
}

/** One undici client per emulator; a reset connection must surface as an error, never be retried. */
class Client {
    readonly agent = new Agent({ connections: 8 });

    constructor(readonly base: string) {}

    async send(method: string, path: string, o: SendOptions = {}): Promise<Answer> {
        const headers: Record<string, string> = { accept: "application/json", ...o.headers };
        if (o.token) headers.authorization = `Bearer ${o.token}`;
        let body: string | undefined;
        if (o.json !== undefined) {
            body = JSON.stringify(o.json);
            headers["content-type"] ??= "application/json";
        } else if (o.form) {
            body = new URLSearchParams(o.form).toString();
            headers["content-type"] = "application/x-www-form-urlencoded";
        }
        const res = await request(this.base + path, { method: method as "GET", headers, body, dispatcher: this.agent });
        const text = await res.body.text();
        let parsed: unknown;
        try {
            parsed = text ? JSON.parse(text) : undefined;
        } catch {
            parsed = undefined;
        }
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(", ") : v;
        return { status: res.statusCode, headers: flat, text, body: parsed };
    }

    /** The request must fail at the transport level; returns undici's error code. */
    async transportFailure(method: string, path: string, o: SendOptions = {}): Promise<string> {
        try {
            const r = await this.send(method, path, o);
            assert.fail(`expected the connection to be reset, got HTTP ${r.status}`);
        } catch (e) {
            if (e instanceof assert.AssertionError) throw e;
            const code = (e as { code?: string }).code ?? "";
            assert.ok(["ECONNRESET", "UND_ERR_SOCKET"].includes(code), `expected a reset connection, got ${code}: ${(e as Error).message}`);
            return code;
        }
    }

    async token(apikey: string): Promise<string> {
        const r = await this.send("POST", "/identity/token", { form: { grant_type: APIKEY_GRANT, apikey } });
        expect(r, 200);
        return r.body.access_token;
    }

    close(): Promise<void> {
        return this.agent.close();
    }
}

function expect(r: Answer, status: number): void {
    assert.strictEqual(r.status, status, `expected HTTP ${status}, got ${r.status}: ${r.text.slice(0, 400)}`);
}

async function serviceIdNames(c: Client): Promise<string[]> {
    const r = await c.send("GET", "/__emulator/state");
    expect(r, 200);
    return r.body.serviceIds.map((s: { name: string }) => s.name);
}

function createServiceId(c: Client, emu: RunningEmulator, token: string, name: string): Promise<Answer> {
    return c.send("POST", "/v1/serviceids/", { token, json: { account_id: emu.accountId, name } });
}

function createKmsKey(c: Client, emu: RunningEmulator, token: string, name: string): Promise<Answer> {
    return c.send("POST", "/api/v2/keys", {
        token,
        headers: { "bluemix-instance": emu.instances[0].guid, "content-type": KEY_TYPE },
        json: { metadata: { collectionType: KEY_TYPE, collectionTotal: 1 }, resources: [{ type: KEY_TYPE, name, extractable: true }] },
    });
}

describe("emulator: fault injection", () => {
    let emu: RunningEmulator;
    let c: Client;
    let owner: string;

    before(async () => {
        emu = await startEmulator({ port: 0 });
        c = new Client(emu.url);
        owner = await c.token(emu.apiKey);
    });
    afterEach(() => {
        emu.clearFaults();
        emu.setRateLimit(null);
    });
    after(async () => {
        await c.close();
        await emu.stop();
    });

    describe("kinds, on the wire", () => {
        it('"status" answers in the IAM envelope with Retry-After, and the create did not run', async () => {
            emu.addFaults([{ kind: "status", method: "POST", path: "/v1/serviceids", status: 503 }]);
            const r = await createServiceId(c, emu, owner, "status-iam");
            expect(r, 503);
            assert.strictEqual(r.headers["retry-after"], "1");
            assert.strictEqual(r.body.status_code, 503);
            assert.strictEqual(r.body.errors[0].code, "service_unavailable");
            assert.strictEqual(r.body.errors[0].message_code, "BXNIM0503E");
            assert.strictEqual(r.body.trace, r.headers["transaction-id"]);
            assert.ok(!(await serviceIdNames(c)).includes("status-iam"));
        });

        it('"status" on the token endpoint uses its {errorCode, errorMessage, context} envelope', async () => {
            emu.addFaults([{ kind: "status", path: "/identity/token", status: 429, retryAfterSeconds: 7 }]);
            const r = await c.send("POST", "/identity/token", { form: { grant_type: APIKEY_GRANT, apikey: emu.apiKey } });
            expect(r, 429);
            assert.strictEqual(r.headers["retry-after"], "7");
            assert.strictEqual(r.body.errorCode, "BXNIM0429E");
            assert.strictEqual(typeof r.body.errorMessage, "string");
            assert.strictEqual(r.body.context.requestId, r.headers["transaction-id"]);
            assert.ok(!r.text.includes(emu.apiKey));
        });

        it('"status" on KMS uses the {metadata, resources:[{errorMsg, reasons}]} envelope; 500 has no Retry-After', async () => {
            emu.addFaults([{ kind: "status", method: "POST", path: "/api/v2/keys", status: 500 }]);
            const r = await createKmsKey(c, emu, owner, "status-kms");
            expect(r, 500);
            assert.strictEqual(r.headers["retry-after"], undefined);
            assert.strictEqual(r.body.metadata.collectionType, "application/vnd.ibm.kms.error+json");
            assert.strictEqual(r.body.resources[0].errorMsg, "Internal Server Error");
            assert.strictEqual(r.body.resources[0].reasons[0].code, "INTERNAL_SERVER_ERR");
            assert.strictEqual(r.body.resources[0].reasons[0].status, 500);
            const state = await c.send("GET", "/__emulator/state");
            assert.ok(!state.body.kmsKeys.some((k: { name: string }) => k.name === "status-kms"));
        });

        it('"reset-before" resets the connection and nothing is created', async () => {
            emu.addFaults([{ kind: "reset-before", method: "POST", path: "/v1/serviceids" }]);
            await c.transportFailure("POST", "/v1/serviceids/", { token: owner, json: { account_id: emu.accountId, name: "reset-before" } });
            assert.ok(!(await serviceIdNames(c)).includes("reset-before"));
        });

        it('"reset-after" resets the connection after the create committed', async () => {
            emu.addFaults([{ kind: "reset-after", method: "POST", path: "/v1/serviceids" }]);
            await c.transportFailure("POST", "/v1/serviceids/", { token: owner, json: { account_id: emu.accountId, name: "reset-after" } });
            assert.ok((await serviceIdNames(c)).includes("reset-after"));
        });

        it('"malformed-json" sends the handler\'s status with a body no JSON parser accepts, after committing', async () => {
            emu.addFaults([{ kind: "malformed-json", method: "POST", path: "/v1/serviceids" }]);
            const r = await createServiceId(c, emu, owner, "malformed");
            expect(r, 201);
            assert.strictEqual(r.headers["content-type"], "application/json");
            assert.ok(r.text.length > 0);
            assert.throws(() => JSON.parse(r.text), SyntaxError);
            assert.strictEqual(r.body, undefined);
            assert.ok((await serviceIdNames(c)).includes("malformed"));
        });

        it('"malformed-json" on a 204 answer turns it into a 200 with a garbled body (a 204 cannot carry one)', async () => {
            const created = await createServiceId(c, emu, owner, "malformed-delete");
            expect(created, 201);
            emu.addFaults([{ kind: "malformed-json", method: "DELETE", path: "/v1/serviceids/*" }]);
            const r = await c.send("DELETE", `/v1/serviceids/${created.body.id}`, { token: owner });
            expect(r, 200);
            assert.throws(() => JSON.parse(r.text), SyntaxError);
            assert.ok(!(await serviceIdNames(c)).includes("malformed-delete"));
        });

        it('"slow" runs the handler and then sends its answer intact after the delay', async () => {
            // that the write commits while the answer is held is shown by the stop() test below (a 10-minute hold)
            const [id] = emu.addFaults([{ kind: "slow", method: "POST", path: "/v1/serviceids", delayMs: 50 }]);
            const r = await createServiceId(c, emu, owner, "slow");
            expect(r, 201);
            assert.strictEqual(r.body.name, "slow");
            assert.ok((await serviceIdNames(c)).includes("slow"));
            const listed = (await c.send("GET", "/__emulator/faults")).body.rules.find((x: { id: string }) => x.id === id);
            assert.strictEqual(listed.fired, 1);
        });
    });

    describe("matching, count and probability", () => {
        it("matches method and path patterns: * is one segment, a trailing /** is the path and all below it", async () => {
            emu.addFaults([
                { kind: "status", method: "post", path: "/v1/serviceids/*", status: 502 },
                { kind: "status", path: "/v1/policies/**", status: 504 },
            ]);
            const sid = await createServiceId(c, emu, owner, "matching");
            expect(sid, 201); // POST /v1/serviceids has one segment too few for /v1/serviceids/*
            expect(await c.send("POST", `/v1/serviceids/${sid.body.id}`, { token: owner, json: {} }), 502);
            expect(await c.send("GET", `/v1/serviceids/${sid.body.id}`, { token: owner }), 200); // method differs
            expect(await c.send("POST", `/v1/serviceids/${sid.body.id}/lock`, { token: owner }), 204); // one segment too many
            expect(await c.send("DELETE", `/v1/serviceids/${sid.body.id}/lock`, { token: owner }), 204);
            expect(await c.send("GET", `/v1/policies?account_id=${emu.accountId}`, { token: owner }), 504);
            expect(await c.send("GET", "/v1/policies/some-id", { token: owner }), 504);
            expect(await c.send("GET", "/v1/policies/some-id/deeper", { token: owner }), 504);
            expect(await c.send("GET", "/v2/roles?service_name=kms", { token: owner }), 200);
        });

        it("never faults admin paths, even with path *", async () => {
            emu.addFaults([{ kind: "reset-before" }]);
            expect(await c.send("GET", "/__emulator/state"), 200);
            expect(await c.send("GET", "/__emulator/stats"), 200);
            await c.transportFailure("GET", "/identity/keys");
        });

        it("checks rules in order: the first that matches and fires wins; a spent rule lets the next one fire", async () => {
            emu.addFaults([
                { kind: "status", path: "/identity/keys", status: 502, count: 2 },
                { kind: "status", path: "/identity/keys", status: 504, count: 1 },
            ]);
            const seen: number[] = [];
            for (let i = 0; i < 4; i++) seen.push((await c.send("GET", "/identity/keys")).status);
            assert.deepStrictEqual(seen, [502, 502, 504, 200]);
            const rules = (await c.send("GET", "/__emulator/faults")).body.rules;
            assert.deepStrictEqual(
                rules.map((r: { fired: number }) => r.fired),
                [2, 1],
            );
        });

        it("fires with the given probability from a seeded PRNG: the same seed replays the same sequence", async () => {
            const rule: FaultRule = { kind: "status", path: "/identity/keys", status: 503, probability: 0.5 };
            const run = async (seed: number): Promise<string> => {
                expect(await c.send("DELETE", "/__emulator/faults"), 204);
                expect(await c.send("POST", "/__emulator/faults", { json: { rules: [rule], seed } }), 201);
                let out = "";
                for (let i = 0; i < 40; i++) out += (await c.send("GET", "/identity/keys")).status === 503 ? "x" : ".";
                return out;
            };
            const first = await run(42);
            assert.strictEqual(await run(42), first, "same seed, same sequence");
            assert.ok(first.includes("x") && first.includes("."), `p=0.5 over 40 requests both fires and passes: ${first}`);
            assert.notStrictEqual(await run(7), first, "another seed, another sequence");

            // and a second emulator started with the same faultSeed fires the same way
            const other = await startEmulator({ port: 0, faultSeed: 42, faults: [rule] });
            const oc = new Client(other.url);
            try {
                let out = "";
                for (let i = 0; i < 40; i++) out += (await oc.send("GET", "/identity/keys")).status === 503 ? "x" : ".";
                assert.strictEqual(out, first);
                assert.strictEqual((await oc.send("GET", "/__emulator/faults")).body.seed, 42);
            } finally {
                await oc.close();
                await other.stop();
            }
        });

        it("probability 0 never fires; a random default seed is reported", async () => {
            emu.addFaults([{ kind: "status", status: 503, probability: 0 }]);
            for (let i = 0; i < 5; i++) expect(await c.send("GET", "/identity/keys"), 200);
            const listed = await c.send("GET", "/__emulator/faults");
            assert.strictEqual(listed.body.rules[0].fired, 0);
            assert.ok(Number.isInteger(listed.body.seed) && listed.body.seed >= 0, `seed ${listed.body.seed}`);
        });
    });

    describe("admin API and options", () => {
        it("round trip: POST appends rules and returns ids, GET lists them with fired, DELETE removes one or all", async () => {
            const rules: FaultRule[] = [
                { kind: "status", method: "POST", path: "/v1/apikeys", status: 429, retryAfterSeconds: 3, count: 2 },
                { kind: "slow", path: "/api/v2/keys/**", delayMs: 10, probability: 0.25 },
            ];
            const posted = await c.send("POST", "/__emulator/faults", { json: { rules, seed: 1234 } });
            expect(posted, 201);
            assert.strictEqual(posted.body.ids.length, 2);
            const more = await c.send("POST", "/__emulator/faults", { json: { rules: [{ kind: "reset-after", path: "/v1/policies" }] } });
            expect(more, 201);
            const ids = [...posted.body.ids, ...more.body.ids];
            assert.strictEqual(new Set(ids).size, 3, "ids are distinct");

            let listed = await c.send("GET", "/__emulator/faults");
            expect(listed, 200);
            assert.deepStrictEqual(listed.body, {
                rules: [
                    { id: ids[0], ...rules[0], fired: 0 },
                    { id: ids[1], ...rules[1], fired: 0 },
                    { id: ids[2], kind: "reset-after", path: "/v1/policies", fired: 0 },
                ],
                seed: 1234,
                rateLimit: null,
            });

            expect(await c.send("DELETE", `/__emulator/faults/${ids[1]}`), 204);
            expect(await c.send("DELETE", `/__emulator/faults/${ids[1]}`), 404);
            listed = await c.send("GET", "/__emulator/faults");
            assert.deepStrictEqual(
                listed.body.rules.map((r: { id: string }) => r.id),
                [ids[0], ids[2]],
            );
            expect(await c.send("DELETE", "/__emulator/faults"), 204);
            assert.deepStrictEqual((await c.send("GET", "/__emulator/faults")).body.rules, []);

            const rl = await c.send("PUT", "/__emulator/rate-limit", { json: { requestsPerSecond: 2.5 } });
            expect(rl, 200);
            assert.deepStrictEqual(rl.body, { requestsPerSecond: 2.5, burst: 3 });
            expect(await c.send("PUT", "/__emulator/rate-limit", { json: { requestsPerSecond: 20, burst: 40 } }), 200);
            assert.deepStrictEqual((await c.send("GET", "/__emulator/faults")).body.rateLimit, { requestsPerSecond: 20, burst: 40 });
            expect(await c.send("DELETE", "/__emulator/rate-limit"), 204);
            assert.strictEqual((await c.send("GET", "/__emulator/faults")).body.rateLimit, null);
        });

        it("rejects bad bodies with 400 naming the field, and adds nothing", async () => {
            const bad: [unknown, RegExp][] = [
                [{}, /^rules must be an array/],
                [{ rules: {} }, /^rules must be an array/],
                [{ rules: [], extra: 1 }, /^extra is not a field/],
                [{ rules: ["x"] }, /^rules\[0\] must be an object/],
                [{ rules: [{ kind: "explode" }] }, /^rules\[0\]\.kind must be one of "status", "reset-before"/],
                [{ rules: [{ kind: "slow" }, { kind: "status" }] }, /^rules\[1\]\.status is required for kind "status"/],
                [{ rules: [{ kind: "status", status: 404 }] }, /^rules\[0\]\.status must be one of 429, 500, 502, 503, 504/],
                [{ rules: [{ kind: "reset-after", status: 503 }] }, /^rules\[0\]\.status only applies to kind "status"/],
                [{ rules: [{ kind: "status", status: 503, delayMs: 5 }] }, /^rules\[0\]\.delayMs only applies to kind "slow"/],
                [{ rules: [{ kind: "slow", delayMs: -1 }] }, /^rules\[0\]\.delayMs must be a whole number/],
                [{ rules: [{ kind: "status", status: 503, retryAfterSeconds: 1.5 }] }, /^rules\[0\]\.retryAfterSeconds must be a whole number/],
                [{ rules: [{ kind: "slow", probability: 1.5 }] }, /^rules\[0\]\.probability must be a number from 0 to 1/],
                [{ rules: [{ kind: "slow", count: 0 }] }, /^rules\[0\]\.count must be a whole number, at least 1/],
                [{ rules: [{ kind: "slow", method: "HEAD" }] }, /^rules\[0\]\.method must be GET, POST, PUT, PATCH, DELETE or "\*"/],
                [{ rules: [{ kind: "slow", path: "v1/serviceids" }] }, /^rules\[0\]\.path must be "\*" or start with "\/"/],
                [{ rules: [{ kind: "slow", path: "/v1/service*" }] }, /^rules\[0\]\.path segments must be whole/],
                [{ rules: [{ kind: "slow", path: "/v1/**/keys" }] }, /^rules\[0\]\.path may use "\*\*" only as its last segment/],
                [{ rules: [{ kind: "slow", path: "/__emulator/state" }] }, /^rules\[0\]\.path cannot name an admin path/],
                [{ rules: [{ kind: "slow", statuss: 503 }] }, /^rules\[0\]\.statuss is not a fault rule field/],
                [{ rules: [], seed: -1 }, /^seed must be a whole number from 0 to 4294967295/],
            ];
            for (const [body, message] of bad) {
                const r = await c.send("POST", "/__emulator/faults", { json: body });
                expect(r, 400);
                assert.match(r.body.error, message, JSON.stringify(body));
            }
            expect(await c.send("POST", "/__emulator/faults", { json: "not json", headers: { "content-type": "application/json" } }), 400);
            const listed = (await c.send("GET", "/__emulator/faults")).body;
            assert.deepStrictEqual(listed.rules, [], "a rejected body adds no rule, not even its valid ones");

            const badLimits: [unknown, RegExp][] = [
                [{}, /^requestsPerSecond must be a number greater than 0/],
                [{ requestsPerSecond: 0 }, /^requestsPerSecond must be a number greater than 0/],
                [{ requestsPerSecond: "5" }, /^requestsPerSecond must be a number greater than 0/],
                [{ requestsPerSecond: 5, burst: 0.5 }, /^burst must be a whole number, at least 1/],
                [{ requestsPerSecond: 5, rps: 1 }, /^rps is not a rate limit field/],
            ];
            for (const [body, message] of badLimits) {
                const r = await c.send("PUT", "/__emulator/rate-limit", { json: body });
                expect(r, 400);
                assert.match(r.body.error, message, JSON.stringify(body));
            }
            assert.strictEqual((await c.send("GET", "/__emulator/faults")).body.rateLimit, null);
        });

        it("checks start options and handle arguments, naming the option", async () => {
            const cases: [Parameters<typeof startEmulator>[0], RegExp][] = [
                [{ faults: [{ kind: "status" } as FaultRule] }, /^Error: startEmulator: faults\[0\]\.status is required for kind "status"/],
                [{ faults: {} as FaultRule[] }, /^Error: startEmulator: faults must be an array/],
                [
                    { faults: [{ kind: "slow" }, { kind: "slow", path: "*", probability: -0.1 }] },
                    /^Error: startEmulator: faults\[1\]\.probability must be a number from 0 to 1/,
                ],
                [{ faultSeed: 1.5 }, /^Error: startEmulator: faultSeed must be a whole number from 0 to 4294967295/],
                [{ rateLimit: { requestsPerSecond: -1 } }, /^Error: startEmulator: rateLimit\.requestsPerSecond must be a number greater than 0/],
                [{ rateLimit: { requestsPerSecond: 1, burst: 0 } }, /^Error: startEmulator: rateLimit\.burst must be a whole number, at least 1/],
            ];
            for (const [opts, message] of cases) await assert.rejects(startEmulator({ port: 0, ...opts }), message);

            assert.throws(
                () => emu.addFaults([{ kind: "slow" }, { kind: "slow", delayMs: 1e12 }]),
                /^Error: addFaults: rules\[1\]\.delayMs must be a whole number/,
            );
            assert.throws(() => emu.setRateLimit({ requestsPerSecond: 0 }), /^Error: setRateLimit: requestsPerSecond must be a number greater than 0/);
            assert.deepStrictEqual((await c.send("GET", "/__emulator/faults")).body.rules, [], "the rejected addFaults added nothing");
        });
    });

    describe("rate limit", () => {
        let sid: ServiceIdWithKey;
        let sidToken: string;

        before(async () => {
            sid = await serviceIdWithKey(emu, owner, "rate-limited-caller");
            sidToken = await c.token(sid.apikey);
        });

        it("keeps one bucket per caller; the excess request gets 429 with Retry-After and does not run", async () => {
            // about one token per 17 minutes: nothing refills during the test
            emu.setRateLimit({ requestsPerSecond: 0.001, burst: 2 });
            const before = emu.stats();
            expect(await createServiceId(c, emu, owner, "rl-1"), 201);
            expect(await createServiceId(c, emu, owner, "rl-2"), 201);
            const excess = await createServiceId(c, emu, owner, "rl-3");
            expect(excess, 429);
            assert.strictEqual(excess.body.errors[0].code, "too_many_requests");
            const retryAfter = Number(excess.headers["retry-after"]);
            assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${excess.headers["retry-after"]}`);
            const names = await serviceIdNames(c);
            assert.ok(names.includes("rl-2") && !names.includes("rl-3"), "the excess create did not run");

            // the owner's bucket is empty on every family: KMS answers in its own envelope
            const kms = await createKmsKey(c, emu, owner, "rl-key");
            expect(kms, 429);
            assert.strictEqual(kms.body.resources[0].reasons[0].code, "TOO_MANY_REQUESTS_ERR");
            assert.ok(Number(kms.headers["retry-after"]) >= 1);

            // another caller (the service ID's token) has its own full bucket
            expect(await c.send("GET", `/v1/serviceids/${sid.id}`, { token: sidToken }), 200);
            expect(await c.send("GET", `/v1/serviceids/${sid.id}`, { token: sidToken }), 200);
            expect(await c.send("GET", `/v1/serviceids/${sid.id}`, { token: sidToken }), 429);

            const after = emu.stats();
            assert.strictEqual(after.rateLimited - before.rateLimited, 3);
            assert.strictEqual(after.writes - before.writes, 2, "only the two creates that ran are writes");
        });

        it("on the token endpoint the caller is the API key (never shown), else the remote address", async () => {
            emu.setRateLimit({ requestsPerSecond: 0.001, burst: 1 });
            expect(await c.send("POST", "/identity/token", { form: { grant_type: APIKEY_GRANT, apikey: emu.apiKey } }), 200);
            const excess = await c.send("POST", "/identity/token", { form: { grant_type: APIKEY_GRANT, apikey: emu.apiKey } });
            expect(excess, 429);
            assert.strictEqual(excess.body.errorCode, "BXNIM0429E");
            assert.ok(Number(excess.headers["retry-after"]) >= 1);
            assert.ok(!excess.text.includes(emu.apiKey));
            // a different key is a different caller
            expect(await c.send("POST", "/identity/token", { form: { grant_type: APIKEY_GRANT, apikey: sid.apikey } }), 200);
            // no token and no key: the address is the caller
            expect(await c.send("GET", "/identity/keys"), 200);
            expect(await c.send("GET", "/identity/keys"), 429);
            const listed = await c.send("GET", "/__emulator/faults");
            assert.ok(!listed.text.includes(emu.apiKey) && !listed.text.includes(sid.apikey));
        });

        it("setRateLimit(null) lifts it, and a new limit starts every caller with a full bucket", async () => {
            emu.setRateLimit({ requestsPerSecond: 0.001, burst: 1 });
            expect(await c.send("GET", "/identity/keys"), 200);
            expect(await c.send("GET", "/identity/keys"), 429);
            emu.setRateLimit({ requestsPerSecond: 0.001, burst: 1 });
            expect(await c.send("GET", "/identity/keys"), 200);
            emu.setRateLimit(null);
            for (let i = 0; i < 3; i++) expect(await c.send("GET", "/identity/keys"), 200);
        });

        it("is set from the start options too", async () => {
            const other = await startEmulator({ port: 0, rateLimit: { requestsPerSecond: 0.001, burst: 1 } });
            const oc = new Client(other.url);
            try {
                expect(await oc.send("GET", "/identity/keys"), 200);
                expect(await oc.send("GET", "/identity/keys"), 429);
                expect(await oc.send("GET", "/__emulator/state"), 200); // admin paths are never limited
                assert.deepStrictEqual((await oc.send("GET", "/__emulator/faults")).body.rateLimit, { requestsPerSecond: 0.001, burst: 1 });
            } finally {
                await oc.close();
                await other.stop();
            }
        });
    });

    describe("stats", () => {
        it("counts IBM requests, writes that reached a handler, faults by kind and rate-limited requests", async () => {
            expect(await c.send("POST", "/__emulator/stats/reset"), 204);
            const zero: EmulatorStats = {
                requests: 0,
                writes: 0,
                faultsInjected: { total: 0, byKind: { status: 0, "reset-before": 0, "reset-after": 0, slow: 0, "malformed-json": 0 } },
                rateLimited: 0,
            };
            assert.deepStrictEqual((await c.send("GET", "/__emulator/stats")).body, zero);

            await c.token(emu.apiKey); // request, not a write (token endpoint)
            expect(await c.send("GET", `/v1/serviceids/?account_id=${emu.accountId}`, { token: owner }), 200); // request
            expect(await createServiceId(c, emu, owner, "stats-1"), 201); // write
            expect(await c.send("POST", "/v1/serviceids/", { json: { account_id: emu.accountId, name: "x" } }), 401); // refused before the handler
            expect(await c.send("POST", "/v1/nowhere", { token: owner, json: {} }), 404); // no handler
            emu.addFaults([
                { kind: "status", method: "POST", path: "/v1/serviceids", status: 503, count: 1 },
                { kind: "reset-before", method: "POST", path: "/v1/serviceids", count: 1 },
                { kind: "reset-after", method: "POST", path: "/v1/serviceids", count: 1 },
                { kind: "malformed-json", method: "GET", path: "/v1/serviceids", count: 1 },
            ]);
            expect(await createServiceId(c, emu, owner, "stats-2"), 503); // fault, not a write
            await c.transportFailure("POST", "/v1/serviceids/", { token: owner, json: { account_id: emu.accountId, name: "stats-3" } }); // fault, not a write
            await c.transportFailure("POST", "/v1/serviceids/", { token: owner, json: { account_id: emu.accountId, name: "stats-4" } }); // fault AND write
            expect(await c.send("GET", `/v1/serviceids/?account_id=${emu.accountId}`, { token: owner }), 200); // fault (malformed), not a write
            emu.setRateLimit({ requestsPerSecond: 0.001, burst: 1 });
            expect(await c.send("DELETE", "/v1/serviceids/ServiceId-none", { token: owner }), 404); // reached the handler: a write
            expect(await c.send("DELETE", "/v1/serviceids/ServiceId-none", { token: owner }), 429); // rate limited, not a write
            expect(await c.send("GET", "/__emulator/state"), 200); // admin: not counted

            const expected: EmulatorStats = {
                requests: 11,
                writes: 3,
                faultsInjected: { total: 4, byKind: { status: 1, "reset-before": 1, "reset-after": 1, slow: 0, "malformed-json": 1 } },
                rateLimited: 1,
            };
            assert.deepStrictEqual(emu.stats(), expected);
            assert.deepStrictEqual((await c.send("GET", "/__emulator/stats")).body, expected);
            expect(await c.send("POST", "/__emulator/stats/reset"), 204);
            assert.deepStrictEqual(emu.stats(), zero);
        });
    });
});

describe("emulator: stop() with a slow response held", () => {
    it("closes the held connection instead of waiting for it; the write had committed", async () => {
        // ten minutes: if stop() waited for the held answer the test would time out
        const emu = await startEmulator({ port: 0, faults: [{ kind: "slow", method: "POST", path: "/v1/serviceids", delayMs: 600_000 }] });
        const c = new Client(emu.url);
        try {
            const owner = await c.token(emu.apiKey);
            let settled = false;
            const pending = createServiceId(c, emu, owner, "held").then(
                (r) => ({ status: r.status as number | undefined, code: undefined as string | undefined }),
                (e: { code?: string }) => ({ status: undefined, code: e.code }),
            );
            void pending.then(() => (settled = true));
            for (let i = 0; i < 500 && !(await serviceIdNames(c)).includes("held"); i++) await new Promise((r) => setTimeout(r, 10));
            assert.ok((await serviceIdNames(c)).includes("held"), "the handler ran before the hold");
            assert.strictEqual(emu.stats().faultsInjected.byKind.slow, 1);
            assert.ok(!settled, "the answer is still held");
            await emu.stop();
            const outcome = await pending;
            assert.strictEqual(outcome.status, undefined, "no answer was sent");
            assert.ok(["ECONNRESET", "UND_ERR_SOCKET"].includes(outcome.code ?? ""), `connection closed, got ${outcome.code}`);
        } finally {
            await c.close();
            await emu.stop();
        }
    });
});

describe("emulator: fault CLI flags", () => {
    it("parses --fault specs into rules, in order", () => {
        assert.deepStrictEqual(parseFault("POST /v1/serviceids status=503 p=0.2"), {
            kind: "status",
            method: "POST",
            path: "/v1/serviceids",
            status: 503,
            probability: 0.2,
        });
        assert.deepStrictEqual(parseFault("reset-after"), { kind: "reset-after" });
        assert.deepStrictEqual(parseFault("* /api/v2/keys/** slow=1200 count=2"), {
            kind: "slow",
            method: "*",
            path: "/api/v2/keys/**",
            delayMs: 1200,
            count: 2,
        });
        assert.deepStrictEqual(parseFault("get * status=429 retry-after=4"), { kind: "status", method: "GET", path: "*", status: 429, retryAfterSeconds: 4 });
        const { opts } = parseArgs([
            "--fault",
            "DELETE /v1/apikeys/* malformed-json",
            "--fault=reset-before count=1",
            "--fault-seed",
            "9",
            "--rate-limit",
            "2.5",
            "--rate-limit-burst",
            "4",
        ]);
        assert.deepStrictEqual(opts.faults, [
            { kind: "malformed-json", method: "DELETE", path: "/v1/apikeys/*" },
            { kind: "reset-before", count: 1 },
        ]);
        assert.strictEqual(opts.faultSeed, 9);
        assert.deepStrictEqual(opts.rateLimit, { requestsPerSecond: 2.5, burst: 4 });
        const seeded = parseArgs(["--fault", "slow"]).opts.faultSeed;
        assert.ok(Number.isInteger(seeded), "a seed is chosen (and printed) when faults are given without one");
    });

    it("reads --faults-file (array or {rules, seed}) and rejects bad flags naming them", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faults-cli-"));
        try {
            const file = path.join(dir, "faults.json");
            fs.writeFileSync(file, JSON.stringify({ rules: [{ kind: "status", status: 502, path: "/v1/policies/**" }], seed: 5 }));
            const { opts } = parseArgs(["--faults-file", file, "--fault", "slow"]);
            assert.deepStrictEqual(opts.faults, [{ kind: "status", status: 502, path: "/v1/policies/**" }, { kind: "slow" }]);
            assert.strictEqual(opts.faultSeed, 5);
            fs.writeFileSync(file, JSON.stringify([{ kind: "slow", delayMs: "soon" }]));
            assert.throws(() => parseArgs(["--faults-file", file]), /--faults-file .*faults\.json: rules\[0\]\.delayMs must be a whole number/);
            fs.writeFileSync(file, "{ nope");
            assert.throws(() => parseArgs(["--faults-file", file]), /--faults-file .*: not valid JSON/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        const bad: [string[], RegExp][] = [
            [["--fault", "POST /v1/serviceids status=404"], /^--fault 'POST \/v1\/serviceids status=404': status must be one of 429, 500, 502, 503, 504/],
            [["--fault", "POST /v1/serviceids"], /^--fault 'POST \/v1\/serviceids': no kind/],
            [["--fault", "slow reset-after"], /two kinds/],
            [["--fault", "status=503 p=often"], /probability must be a number from 0 to 1/],
            [["--fault", "/a /b slow"], /two paths/],
            [["--fault", "slow frobnicate"], /'frobnicate' is not understood/],
            [["--fault-seed", "-1"], /--fault-seed needs a non-negative integer/],
            [["--rate-limit", "0"], /--rate-limit needs a number greater than 0/],
            [["--rate-limit-burst", "3"], /--rate-limit-burst needs --rate-limit/],
        ];
        for (const [argv, message] of bad)
            assert.throws(
                () => parseArgs(argv),
                (e: Error) => message.test(e.message),
                argv.join(" "),
            );
    });

    it("a CLI started with --fault and --rate-limit serves them", async () => {
        const cli = path.resolve(__dirname, "../../emulator/cli.js");
        const child = spawn(
            process.execPath,
            [cli, "--json", "--fault", "GET /identity/keys status=502 count=1", "--fault-seed", "77", "--rate-limit", "0.001", "--rate-limit-burst", "2"],
            {
                stdio: ["ignore", "pipe", "pipe"],
            },
        );
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        let c: Client | undefined;
        try {
            for (let i = 0; i < 400 && !out.includes("\n"); i++) await new Promise((r) => setTimeout(r, 25));
            assert.ok(out.includes("\n"), `no output from the CLI; stderr: ${err}`);
            const info = JSON.parse(out.split("\n")[0]);
            c = new Client(info.url);
            const listed = await c.send("GET", "/__emulator/faults");
            assert.deepStrictEqual(listed.body, {
                rules: [{ id: listed.body.rules[0].id, kind: "status", method: "GET", path: "/identity/keys", status: 502, count: 1, fired: 0 }],
                seed: 77,
                rateLimit: { requestsPerSecond: 0.001, burst: 2 },
            });
            expect(await c.send("GET", "/identity/keys"), 502);
            expect(await c.send("GET", "/identity/keys"), 200);
            expect(await c.send("GET", "/identity/keys"), 429);
        } finally {
            await c?.close();
            child.kill("SIGTERM");
        }
        assert.strictEqual(await exited, 0);
    });
});
