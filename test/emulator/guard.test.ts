// Only the emulator's user drives it: what a web page on the same machine could send (cross-site, or to a DNS name
// rebound to 127.0.0.1) is refused; a non-loopback bind needs consent; the state file stays owner-only.
import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { RunningEmulator, startEmulator } from "../../emulator";
import { parseArgs } from "../../emulator/cli";
import { APIKEY_GRANT, call, expectStatus, tokenFor } from "./helpers";

interface RawReply {
    status: number;
    body: string;
}

/** node:http, not fetch: fetch will not let a test choose Host, Origin or Sec-Fetch-Site. */
function raw(url: string, method: string, p: string, headers: Record<string, string>, body?: string): Promise<RawReply> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
        const req = http.request(
            {
                host: u.hostname,
                port: u.port,
                method,
                path: p,
                headers: { ...headers, ...(body ? { "Content-Length": String(Buffer.byteLength(body)) } : {}) },
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
            },
        );
        req.on("error", reject);
        req.end(body);
    });
}

describe("emulator: only its user drives it", () => {
    let emu: RunningEmulator;
    let host: string;
    before(async () => {
        emu = await startEmulator({ port: 0 });
        host = new URL(emu.url).host;
    });
    after(() => emu.stop());

    async function serviceIdCount(): Promise<number> {
        return (await call(emu.url, "GET", "/__emulator/state")).body.counts.serviceIds as number;
    }
    async function seedOne(): Promise<void> {
        const owner = await tokenFor(emu.url, emu.apiKey);
        expectStatus(await call(emu.url, "POST", "/v1/serviceids", { token: owner, body: { account_id: emu.accountId, name: `kept-${Date.now()}` } }), 201);
    }

    it("refuses a cross-site form POST (Origin of another site, text/plain) to reset, and resets nothing", async () => {
        await seedOne();
        const before = await serviceIdCount();
        const r = await raw(emu.url, "POST", "/__emulator/reset", { Host: host, Origin: "https://evil.example", "Content-Type": "text/plain" }, "{}");
        assert.strictEqual(r.status, 403, r.body);
        assert.match(JSON.parse(r.body).error, /cross-origin/);
        assert.strictEqual(await serviceIdCount(), before);
    });

    it("refuses Origin: null (sandboxed frames, file: pages) and a Sec-Fetch-Site: cross-site GET", async () => {
        const nul = await raw(emu.url, "POST", "/__emulator/faults", { Host: host, Origin: "null", "Content-Type": "application/json" }, '{"rules":[]}');
        assert.strictEqual(nul.status, 403, nul.body);
        const site = await raw(emu.url, "GET", "/__emulator/state", { Host: host, "Sec-Fetch-Site": "cross-site" });
        assert.strictEqual(site.status, 403, site.body);
        assert.doesNotMatch(site.body, /serviceIds/);
    });

    it("refuses a non-JSON content type on admin writes even without Origin, and names the fix", async () => {
        for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
            const r = await raw(emu.url, "POST", "/__emulator/service-token", { Host: host, "Content-Type": type }, '{"serviceName":"cloud-object-storage"}');
            assert.strictEqual(r.status, 415, `${type}: ${r.body}`);
            assert.match(JSON.parse(r.body).error, /Content-Type: application\/json/);
        }
        const noType = await raw(emu.url, "PUT", "/__emulator/rate-limit", { Host: host }, '{"requestsPerSecond":5}');
        assert.strictEqual(noType.status, 415, "a body without a content type is not taken either");
        assert.strictEqual((await call(emu.url, "GET", "/__emulator/faults")).body.rateLimit, null, "nothing was changed");
    });

    it("still takes the user's own requests: same origin, JSON, or no body at all (curl -X POST …/reset)", async () => {
        const same = await raw(
            emu.url,
            "POST",
            "/__emulator/faults",
            { Host: host, Origin: `http://${host}`, "Content-Type": "application/json; charset=utf-8" },
            '{"rules":[]}',
        );
        assert.strictEqual(same.status, 201, same.body);
        const vendor = await raw(emu.url, "POST", "/__emulator/instances", { Host: host, "Content-Type": "application/vnd.example+json" }, '{"service":"kms"}');
        assert.strictEqual(vendor.status, 201, vendor.body);
        const bare = await raw(emu.url, "POST", "/__emulator/stats/reset", { Host: host });
        assert.strictEqual(bare.status, 204, bare.body);
        const same2 = await raw(emu.url, "GET", "/__emulator/state", { Host: host, "Sec-Fetch-Site": "same-origin" });
        assert.strictEqual(same2.status, 200);
    });

    it("answers only to loopback Host names: a rebound DNS name gets 421 on admin and IBM paths alike", async () => {
        const port = new URL(emu.url).port;
        for (const [p, method] of [
            ["/__emulator/state", "GET"],
            [`/v1/serviceids?account_id=${emu.accountId}`, "GET"],
            ["/api/v2/keys", "GET"],
        ] as const) {
            const r = await raw(emu.url, method, p, { Host: `rebind.evil.example:${port}` });
            assert.strictEqual(r.status, 421, `${p}: ${r.body}`);
            assert.match(JSON.parse(r.body).error, /not a name this emulator answers to/);
        }
        const token = await raw(
            emu.url,
            "POST",
            "/identity/token",
            { Host: `rebind.evil.example:${port}`, "Content-Type": "application/x-www-form-urlencoded" },
            new URLSearchParams({ grant_type: APIKEY_GRANT, apikey: emu.apiKey }).toString(),
        );
        assert.strictEqual(token.status, 421, "no token for a rebound name, even with the right key");
        assert.doesNotMatch(token.body, /access_token/);
        const otherPort = await raw(emu.url, "GET", "/__emulator/state", { Host: `127.0.0.1:${Number(port) === 1 ? 2 : Number(port) - 1}` });
        assert.strictEqual(otherPort.status, 421, "the port is part of the name");
        for (const ok of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `127.0.0.2:${port}`]) {
            assert.strictEqual((await raw(emu.url, "GET", "/__emulator/state", { Host: ok })).status, 200, ok);
        }
    });

    it("serves IBM's token endpoint to a form POST from a client that names the URL it was given", async () => {
        // IBM's SDKs send Host from the URL and form-encoded token requests: the IBM paths keep taking them
        const r = await call(`http://localhost:${new URL(emu.url).port}`, "POST", "/identity/token", {
            body: new URLSearchParams({ grant_type: APIKEY_GRANT, apikey: emu.apiKey }).toString(),
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
        });
        expectStatus(r, 200);
    });
});

describe("emulator: binding beyond loopback needs consent", () => {
    it("startEmulator refuses host 0.0.0.0 without allowRemote, saying what it would expose", async () => {
        await assert.rejects(startEmulator({ port: 0, host: "0.0.0.0" }), (e: Error) => {
            assert.match(e.message, /^startEmulator: host 0\.0\.0\.0 is not a loopback address/);
            assert.match(e.message, /reset the account, inject faults, mint service tokens/);
            assert.match(e.message, /allowRemote: true \(CLI: --allow-remote\)/);
            return true;
        });
    });

    it("the CLI refuses --host 0.0.0.0 without --allow-remote and takes it with", () => {
        assert.throws(() => parseArgs(["--host", "0.0.0.0"]), /--host 0\.0\.0\.0 is not a loopback address.*add --allow-remote/);
        assert.throws(() => parseArgs(["--host", "ci-box.example"]), /not a loopback address/);
        const remote = parseArgs(["--host", "0.0.0.0", "--allow-remote"]).opts;
        assert.deepStrictEqual([remote.host, remote.allowRemote], ["0.0.0.0", true]);
        const local = parseArgs(["--host", "localhost"]).opts;
        assert.deepStrictEqual([local.host, local.allowRemote], ["localhost", undefined]);
    });

    it("with allowRemote, answers to IP literals and this machine's name but still not to another DNS name", async () => {
        const emu = await startEmulator({ port: 0, host: "0.0.0.0", allowRemote: true });
        try {
            const port = new URL(emu.url).port;
            const url = `http://127.0.0.1:${port}`;
            assert.strictEqual((await raw(url, "GET", "/__emulator/state", { Host: `10.1.2.3:${port}` })).status, 200);
            assert.strictEqual((await raw(url, "GET", "/__emulator/state", { Host: `${os.hostname()}:${port}` })).status, 200);
            assert.strictEqual((await raw(url, "GET", "/__emulator/state", { Host: `rebind.evil.example:${port}` })).status, 421);
        } finally {
            await emu.stop();
        }
    });
});

describe("emulator: the state file stays owner-only", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-guard-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("is 0600 when written, after every change, and again after a restart found it widened", async () => {
        const file = path.join(dir, "state.json");
        const first = await startEmulator({ port: 0, stateFile: file });
        try {
            assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
            fs.chmodSync(file, 0o644);
            expectStatus(await call(first.url, "POST", "/__emulator/instances", { body: { service: "kms" } }), 201);
            assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600, "a write replaces the file with an owner-only one");
        } finally {
            await first.stop();
        }
        fs.chmodSync(file, 0o640);
        const second = await startEmulator({ port: 0, stateFile: file });
        try {
            assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600, "a restart tightens a widened file at once");
            const saved = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
            // the secrets emulator/README.md documents as being in this file
            assert.strictEqual(saved.ownerApiKey, second.apiKey);
            assert.match(JSON.stringify(saved.signingKey), /PRIVATE KEY/);
        } finally {
            await second.stop();
        }
    });
});
