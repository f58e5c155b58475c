// Run-time soak: wrap/unwrap at 16 in flight for 60 s with 3-second tokens. No call may fail, tokens
// are requested at most once per expiry (never a herd of 16), and the 401 path is exercised: in
// alternate 6-second windows the client's clock runs 1 s behind IAM's, so it keeps using a token IBM
// already refuses; the client must then fetch one new token and send the call again.
import * as assert from "assert";
import { RunningEmulator, startEmulator } from "../../emulator";
import { HttpClient, IamTokenManager, KmsClient } from "../../provider/client";

const DURATION_MS = Number(process.env.KMS_SOAK_MS ?? 60_000);
const IN_FLIGHT = 16;
const LIFETIME_S = 3;
const MARGIN_S = 0.25;
const SKEW_MS = 1000;

describe("kmsSoak: wrap/unwrap across token expiries", function () {
    this.timeout(DURATION_MS + 60_000);
    let emu: RunningEmulator;

    before(async () => {
        emu = await startEmulator({ port: 0, tokenLifetimeSeconds: LIFETIME_S, instances: [{ service: "kms", region: "us-south" }] });
    });
    after(() => emu.stop());

    it(`${IN_FLIGHT} in flight for ${DURATION_MS / 1000} s with ${LIFETIME_S}-second tokens: 0 failures, one token per expiry, 401 refresh exercised`, async () => {
        const instanceId = emu.instances[0].guid;
        const http = new HttpClient();
        const started = Date.now();
        const skewed = () => {
            const now = Date.now();
            return Math.floor((now - started) / 6000) % 2 === 1 ? now - SKEW_MS : now;
        };
        const tokens = new IamTokenManager({
            apiKey: emu.apiKey, iamEndpoint: emu.url, httpClient: http, now: skewed,
            expiryMarginSeconds: MARGIN_S, refreshWindowFraction: 0,
        });
        const kms = new KmsClient({
            endpoint: emu.url, instanceId, httpClient: http,
            tokenSource: () => tokens.getToken(), invalidateToken: () => tokens.invalidate(),
        });
        try {
            const key = await kms.createKey({ name: "soak-root" });
            const tokensAtStart = await tokenRequests();
            const t0 = Date.now();
            let calls = 0;
            const failures: string[] = [];
            const worker = async (w: number) => {
                for (let i = 0; Date.now() - t0 < DURATION_MS; i++) {
                    const data = Buffer.from(`worker ${w} message ${i}`);
                    try {
                        const ct = await kms.wrap(key.id, data, { aad: [`w${w}`] });
                        const pt = await kms.unwrap(key.id, ct, { aad: [`w${w}`] });
                        calls += 2;
                        if (!pt.equals(data)) failures.push(`worker ${w} #${i}: round trip mismatch`);
                    } catch (err) {
                        calls += 2;
                        failures.push(`worker ${w} #${i}: ${(err as Error).message}`);
                    }
                }
            };
            await Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));
            const seconds = (Date.now() - t0) / 1000;
            const requested = (await tokenRequests()) - tokensAtStart;
            const expiries = Math.floor(seconds / LIFETIME_S);
            // each token serves until MARGIN_S before its exp (client clock), so expiries come every LIFETIME_S - MARGIN_S at most
            const allowed = Math.ceil(seconds / (LIFETIME_S - MARGIN_S)) + 1;
            console.log(`      soak: ${seconds.toFixed(1)} s, ${calls} calls (${(calls / seconds).toFixed(0)}/s), ${failures.length} failed, ` +
                `${requested} token requests for ${expiries} token lifetimes (allowed ${allowed}), ${kms.stats.retriesAfter401} retries after 401`);
            assert.deepStrictEqual(failures.slice(0, 5), []);
            assert.ok(requested <= allowed, `${requested} token requests, more than one per expiry (${allowed})`);
            assert.ok(requested >= expiries - 1, `${requested} token requests in ${seconds} s: tokens were not renewed`);
            assert.ok(kms.stats.retriesAfter401 > 0, "the 401 refresh-and-retry path was never exercised");
        } finally {
            await http.close();
        }
    });

    async function tokenRequests(): Promise<number> {
        const state = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { counts: { tokenRequests: number } };
        return state.counts.tokenRequests;
    }
});
