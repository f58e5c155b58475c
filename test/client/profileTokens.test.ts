// The keyless token providers against the emulator: a compute resource's token file, a VSI's metadata service,
// an assumed profile. Each must behave as accessTokenProvider does (one request for concurrent callers, cached,
// refreshed past 80 % of the life, the same KMS headers) and be refused with IBM's reason, never a token.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    AccessTokenProvider,
    accessTokenProvider,
    assumedProfileTokenProvider,
    computeResourceTokenProvider,
    decodeJwtPayload,
    IamClient,
    IamTokenManager,
    vpcInstanceTokenProvider,
} from "../../client";
import { RunningEmulator, startEmulator } from "../../emulator";

describe("client/profileTokens: trusted-profile token providers", function () {
    this.timeout(20_000);
    const LIFETIME = 600;
    let emu: RunningEmulator;
    let ownerToken: string;
    let instanceId: string;
    let dir: string;
    const closers: Array<() => Promise<void>> = [];
    const cluster = () => `crn:v1:bluemix:public:containers-kubernetes:us-south:a/${emu.accountId}:c1::`;
    const vsi = () => `crn:v1:bluemix:public:is:us-south-1:a/${emu.accountId}::instance:i-app`;
    let profile: { id: string; iam_id: string; crn: string };

    const keep = (t: AccessTokenProvider) => {
        closers.push(() => t.close());
        return t;
    };
    async function iam(method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
        const res = await fetch(`${emu.url}${p}`, {
            method,
            headers: { Authorization: `Bearer ${ownerToken}`, "Content-Type": "application/json", ...headers },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        assert.ok(res.status < 300, `${method} ${p}: ${res.status} ${text}`);
        return text ? JSON.parse(text) : undefined;
    }
    async function crTokenFile(name: string): Promise<string> {
        const res = await fetch(`${emu.url}/__emulator/compute-resource-token`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ crType: "IKS_SA", crn: cluster(), namespace: "orders", name }),
        });
        const file = path.join(dir, name);
        fs.writeFileSync(file, ((await res.json()) as { token: string }).token);
        return file;
    }
    async function tokenRequests(): Promise<number> {
        return ((await (await fetch(`${emu.url}/__emulator/state`)).json()) as { counts: { tokenRequests: number } }).counts.tokenRequests;
    }

    before(async () => {
        emu = await startEmulator({ port: 0, tokenLifetimeSeconds: LIFETIME });
        instanceId = emu.instances[0].guid;
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "profile-tokens-"));
        const tm = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
        closers.push(() => tm.http.close());
        ownerToken = await tm.getToken();
        profile = await iam("POST", "/v1/profiles", { name: "orders-app", account_id: emu.accountId });
        await iam("POST", `/v1/profiles/${profile.id}/links`, { cr_type: "IKS_SA", link: { crn: cluster(), namespace: "orders", name: "api" } });
        await iam("POST", `/v1/profiles/${profile.id}/links`, { cr_type: "VSI", link: { crn: vsi() } });
        await new IamClient({ tokenManager: tm }).createPolicy({
            type: "access",
            subjects: [{ attributes: [{ name: "iam_id", value: profile.iam_id }] }],
            roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Reader" }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: emu.accountId, operator: "stringEquals" },
                        { name: "serviceName", value: "hs-crypto", operator: "stringEquals" },
                        { name: "serviceInstance", value: instanceId, operator: "stringEquals" },
                    ],
                },
            ],
        });
    });
    after(async () => {
        await Promise.all(closers.map((c) => c()));
        fs.rmSync(dir, { recursive: true, force: true });
        await emu.stop();
    });

    async function kmsAccepts(t: AccessTokenProvider): Promise<void> {
        const res = await fetch(`${emu.url}/api/v2/keys`, { headers: { ...(await t.authHeaders(instanceId)), Accept: "application/json" } });
        assert.strictEqual(res.status, 200, await res.text());
    }

    describe("computeResourceTokenProvider", () => {
        it("a linked service account's token file + profile id: the profile's token, KMS accepts it", async () => {
            const t = keep(computeResourceTokenProvider({ profileId: profile.id, crTokenFilename: await crTokenFile("api"), iamEndpoint: emu.url }));
            const info = await t.getTokenInfo();
            assert.deepStrictEqual([info.iamId, info.subjectType, info.accountId], [profile.iam_id, "Profile", emu.accountId]);
            await kmsAccepts(t);
        });

        it("by profile name too; concurrent callers share one request, then the cache answers", async () => {
            const t = keep(computeResourceTokenProvider({ profileName: "orders-app", crTokenFilename: await crTokenFile("api"), iamEndpoint: emu.url }));
            const before = await tokenRequests();
            const [a, b, c] = await Promise.all([t.getAccessToken(), t.getAccessToken(), t.getTokenInfo()]);
            assert.ok(a === b && b === c.accessToken);
            assert.strictEqual(await t.getAccessToken(), a);
            assert.strictEqual(await tokenRequests(), before + 1);
        });

        it("past 80 % of the life: the cached token is served and one background refresh reads the file again", async () => {
            let now = Date.now();
            const file = await crTokenFile("api");
            const t = keep(computeResourceTokenProvider({ profileId: profile.id, crTokenFilename: file, iamEndpoint: emu.url, now: () => now }));
            const first = await t.getAccessToken();
            fs.rmSync(file); // a rotated token file: the refresh must read it again, not reuse what it read first
            const rotated = await crTokenFile("api");
            assert.strictEqual(rotated, file);
            const before = await tokenRequests();
            now += Math.ceil(LIFETIME * 0.81) * 1000;
            await new Promise((r) => setTimeout(r, 1100)); // the emulator stamps whole seconds
            assert.strictEqual(await t.getAccessToken(), first, "the cached token is served while the refresh runs");
            for (let i = 0; i < 50 && (await tokenRequests()) === before; i++) await new Promise((r) => setTimeout(r, 20));
            assert.strictEqual(await tokenRequests(), before + 1);
            assert.notStrictEqual(await t.getAccessToken(), first);
        });

        it("refused: an unlinked service account, with IBM's code and no token in the message", async () => {
            const file = await crTokenFile("intruder");
            const token = fs.readFileSync(file, "utf8");
            const err = await keep(computeResourceTokenProvider({ profileId: profile.id, crTokenFilename: file, iamEndpoint: emu.url }))
                .getAccessToken()
                .then(
                    () => undefined,
                    (e: Error) => e,
                );
            assert.ok(err);
            assert.match(err.message, /BXNIM0442E/);
            assert.match(err.message, /not linked/);
            assert.ok(!err.message.includes(token));
        });

        it("bad options fail at once, naming the option and the fix", async () => {
            assert.throws(() => computeResourceTokenProvider({}), /profileId or profileName is required/);
            assert.throws(() => computeResourceTokenProvider({ profileId: "orders-app" }), /profileId must be a trusted profile's id/);
            const missing = keep(computeResourceTokenProvider({ profileId: profile.id, crTokenFilename: path.join(dir, "nope"), iamEndpoint: emu.url }));
            await assert.rejects(missing.getAccessToken(), /cannot read the compute resource token file .*nope; check crTokenFilename/);
        });
    });

    describe("vpcInstanceTokenProvider", () => {
        it("the metadata service's instance identity token traded for the linked profile's token; KMS accepts it", async () => {
            const metadataEndpoint = `${emu.url}/metadata/${encodeURIComponent(vsi())}`;
            const t = keep(vpcInstanceTokenProvider({ metadataEndpoint, profileId: profile.id, iamEndpoint: emu.url }));
            assert.strictEqual(decodeJwtPayload(await t.getAccessToken()).iam_id, profile.iam_id);
            await kmsAccepts(t);
            const byCrn = keep(vpcInstanceTokenProvider({ metadataEndpoint, profileCrn: profile.crn, iamEndpoint: emu.url }));
            assert.strictEqual((await byCrn.getTokenInfo()).iamId, profile.iam_id);
        });

        it("bad options fail at once", () => {
            assert.throws(() => vpcInstanceTokenProvider({ profileId: profile.id, profileName: "x" }), /at most one of profileId, profileCrn and profileName/);
            assert.throws(() => vpcInstanceTokenProvider({ identityTokenLifetimeSeconds: 4 }), /from 5 to 3600/);
        });
    });

    describe("assumedProfileTokenProvider", () => {
        it("a trusted service ID assumes the profile; an untrusted one is refused with IBM's code", async () => {
            const make = async (name: string) => {
                const sid = await iam("POST", "/v1/serviceids", { account_id: emu.accountId, name, apikey: { name: "k" } });
                return { id: sid.id as string, apiKey: sid.apikey.apikey as string };
            };
            const trusted = await make("assumer");
            const stranger = await make("stranger");
            await iam("POST", `/v1/profiles/${profile.id}/identities/serviceid`, { identifier: trusted.id, type: "serviceid" });
            const from = keep(accessTokenProvider({ apiKey: trusted.apiKey, iamEndpoint: emu.url }));
            const t = keep(assumedProfileTokenProvider({ from, profileId: profile.id, iamEndpoint: emu.url }));
            assert.strictEqual((await t.getTokenInfo()).iamId, profile.iam_id);
            await kmsAccepts(t);
            const byName = keep(assumedProfileTokenProvider({ from, profileName: "orders-app", accountId: emu.accountId, iamEndpoint: emu.url }));
            assert.strictEqual((await byName.getTokenInfo()).iamId, profile.iam_id);
            const refused = keep(
                assumedProfileTokenProvider({
                    from: keep(accessTokenProvider({ apiKey: stranger.apiKey, iamEndpoint: emu.url })),
                    profileId: profile.id,
                    iamEndpoint: emu.url,
                }),
            );
            await assert.rejects(refused.getAccessToken(), /BXNIM0443E.*not trusted to assume/);
        });

        it("bad options fail at once", () => {
            const from = { getAccessToken: async () => "x" };
            assert.throws(() => assumedProfileTokenProvider({ from, profileName: "p" }), /profileName needs accountId/);
            assert.throws(() => assumedProfileTokenProvider({ from, profileId: profile.id, profileCrn: profile.crn }), /exactly one of/);
            assert.throws(() => assumedProfileTokenProvider({ profileId: profile.id } as never), /from is required/);
        });
    });
});
