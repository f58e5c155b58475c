// Run-time soak: wrap/unwrap at 16 in flight for 60 s with 3-second tokens. No call may fail, tokens
// are requested at most once per expiry (never a herd of 16), and the 401 path is exercised: in
// alternate 6-second windows the client's clock runs 1 s behind IAM's, so it keeps using a token IBM
// already refuses; the client must then fetch one new token and send the call again.
import * as assert from "assert";
import { RunningEmulator, startEmulator } from "../../emulator";
import { decodeJwtPayload, HttpClient, IamTokenManager, KmsClient } from "../../client";

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
            apiKey: emu.apiKey,
            iamEndpoint: emu.url,
            httpClient: http,
            now: skewed,
            expiryMarginSeconds: MARGIN_S,
            refreshWindowFraction: 0,
        });
        const kms = new KmsClient({
            endpoint: emu.url,
            instanceId,
            httpClient: http,
            tokenSource: async () => {
                const t = await tokens.getToken();
                if (!expOf.has(t)) expOf.set(t, decodeJwtPayload(t).exp as number);
                return t;
            },
            invalidateToken: () => tokens.invalidate(),
        });
        // every token the calls used, with its exp (IAM's whole seconds): the expiries the run went through
        const expOf = new Map<string, number>();
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
            const endS = Date.now() / 1000;
            const expiries = [...expOf.values()].filter((exp) => exp <= endS).length;
            // one request per token that expired, plus the one still live at the end
            const allowed = expiries + 1;
            console.log(
                `      soak: ${seconds.toFixed(1)} s, ${calls} calls (${(calls / seconds).toFixed(0)}/s), ${failures.length} failed, ` +
                    `${requested} token requests for ${expiries} token expiries (${expOf.size} tokens used), ${kms.stats.retriesAfter401} retries after 401`,
            );
            assert.deepStrictEqual(failures.slice(0, 5), []);
            assert.ok(requested <= allowed, `${requested} token requests, more than one per expiry (${allowed})`);
            assert.ok(expiries >= Math.floor(seconds / LIFETIME_S), `only ${expiries} expiries in ${seconds} s: tokens were not renewed`);
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
