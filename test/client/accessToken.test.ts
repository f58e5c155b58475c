// accessTokenProvider against the emulator: what an application (or a stack reading another stack's
// apiKey) gets — a token for the service ID, cached, with its expiration, usable on KMS.
import * as assert from "assert";
import { startEmulator, RunningEmulator } from "../../emulator";
import { accessTokenProvider, AccessTokenProvider, IamClient, IamTokenManager, decodeJwtPayload } from "../../client";
import { kmsInstanceGrant } from "../support/grants";

describe("provider/accessToken: accessTokenProvider for a service ID's key", function () {
    this.timeout(20_000);
    const LIFETIME = 600;
    let emu: RunningEmulator;
    let owner: IamClient;
    let instanceId: string;
    let app: { iamId: string; apiKey: string };
    const closers: Array<() => Promise<void>> = [];

    function tokens(apiKey: string, extra: { now?: () => number } = {}): AccessTokenProvider {
        const t = accessTokenProvider({ apiKey, iamEndpoint: emu.url, ...extra });
        closers.push(() => t.close());
        return t;
    }
    async function tokenRequests(): Promise<number> {
        return ((await (await fetch(`${emu.url}/__emulator/state`)).json()) as { counts: { tokenRequests: number } }).counts.tokenRequests;
    }

    before(async () => {
        emu = await startEmulator({ port: 0, tokenLifetimeSeconds: LIFETIME });
        instanceId = emu.instances[0].guid;
        const tm = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
        closers.push(() => tm.http.close());
        owner = new IamClient({ tokenManager: tm });
        const sid = await owner.createServiceId({ name: "token-app" });
        const key = await owner.createApiKey({ name: "token-app-key", iam_id: sid.iam_id });
        await owner.createPolicy(
            kmsInstanceGrant({
                accountId: emu.accountId,
                iamId: sid.iam_id,
                roleCrn: "crn:v1:bluemix:public:iam::::serviceRole:Reader",
                service: "hs-crypto",
                instance: instanceId,
                operators: true,
            }),
        );
        app = { iamId: sid.iam_id, apiKey: key.apikey! };
    });
    after(async () => {
        await Promise.all(closers.map((c) => c()));
        await emu.stop();
    });

    it("mints a token for the service ID: its iam_id claim is the service ID's, not the deployer's", async () => {
        const t = tokens(app.apiKey);
        const token = await t.getAccessToken();
        const claims = decodeJwtPayload(token);
        assert.strictEqual(claims.iam_id, app.iamId);
        assert.strictEqual(claims.sub_type, "ServiceId");
        const info = await t.getTokenInfo();
        assert.deepStrictEqual([info.iamId, info.accountId, info.subjectType], [app.iamId, emu.accountId, "ServiceId"]);
    });

    it("caches: repeated and concurrent calls make one token request", async () => {
        const t = tokens(app.apiKey);
        const before = await tokenRequests();
        const [a, b, c] = await Promise.all([t.getAccessToken(), t.getAccessToken(), t.getTokenInfo()]);
        const d = await t.getAccessToken();
        assert.strictEqual(await tokenRequests(), before + 1);
        assert.ok(a === b && b === c.accessToken && c.accessToken === d);
    });

    it("tells when the token expires, and refreshes it before then", async () => {
        let now = Date.now();
        const t = tokens(app.apiKey, { now: () => now });
        const first = await t.getTokenInfo();
        assert.strictEqual(first.expiration - first.issuedAt, LIFETIME);
        assert.ok(Math.abs(first.expiration - (Date.now() / 1000 + LIFETIME)) < 5, "expiration is epoch seconds, a lifetime from now");

        // Past the token's life (as the clock says): a fresh one with a later expiration.
        now += (LIFETIME + 1) * 1000;
        await new Promise((r) => setTimeout(r, 1100)); // the emulator stamps whole seconds
        const second = await t.getTokenInfo();
        assert.notStrictEqual(second.accessToken, first.accessToken);
        assert.ok(second.issuedAt > first.issuedAt);
    });

    it("gives KMS headers the instance accepts for the service ID", async () => {
        const headers = await tokens(app.apiKey).authHeaders(instanceId);
        assert.deepStrictEqual(Object.keys(headers).sort(), ["Authorization", "bluemix-instance"]);
        assert.strictEqual(headers["bluemix-instance"], instanceId);
        const res = await fetch(`${emu.url}/api/v2/keys`, { headers: { ...headers, Accept: "application/json" } });
        assert.strictEqual(res.status, 200, await res.text());
    });

    it("fails with IBM's reason and never the key when the key is wrong; refuses a missing key at once", async () => {
        const wrong = "sk-wrong-key-0123456789abcdefghijklmnopqrstuv";
        const err = await tokens(wrong)
            .getAccessToken()
            .then(
                () => undefined,
                (e: Error) => e,
            );
        assert.ok(err);
        assert.match(err.message, /BXNIM0415E/);
        assert.ok(!err.message.includes(wrong));
        assert.throws(() => accessTokenProvider({ apiKey: "" }), /apiKey is required/);
        assert.throws(() => accessTokenProvider({ apiKey: app.apiKey, iamEndpoint: "http://iam.example.com" }), /must use https/);
    });
});
