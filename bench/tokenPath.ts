// Section 1: the token path. Our IamTokenManager against ibm-cloud-sdk-core's IamTokenManager /
// IamAuthenticator: token requests made by 1,000 concurrent callers (cold and expired cache),
// cached-token calls per second, and authenticated KMS requests per second through each client.
import { BaseService, IamAuthenticator, IamTokenManager as IbmIamTokenManager, UserOptions } from "ibm-cloud-sdk-core";
import { IamTokenManager } from "../client/tokenManager";
import { KmsClient } from "../client/kmsClient";
import {
    CountingProxy,
    emulatorTokenRequests,
    EmulatorProcess,
    fmt,
    interleave,
    median,
    pool,
    processCpuMs,
    Results,
    sleep,
    spawnEmulator,
    startCountingProxy,
    timed,
    TrialResult,
} from "./support";

const SECTION = "token path";
const TOKEN_PATH = "POST /identity/token";

export interface TokenPathOptions {
    quick: boolean;
}

/** What either token implementation looks like to the bench. */
interface TokenPeer {
    /** A current access token (no `Bearer `), the way a client asks for one before each request. */
    token(): Promise<string>;
    close(): Promise<void>;
}

function ourPeer(apiKey: string, url: string): TokenPeer {
    const tm = new IamTokenManager({ apiKey, iamEndpoint: url });
    return { token: () => tm.getToken(), close: () => tm.http.close() };
}

// Through the authenticator, as IBM's SDK does before every request: it asks the token manager and
// sets the Authorization header.
function ibmPeer(apiKey: string, url: string): TokenPeer {
    const auth = new IamAuthenticator({ apikey: apiKey, url });
    return {
        token: async () => {
            const opts: { headers: Record<string, string> } = { headers: {} };
            await auth.authenticate(opts);
            return opts.headers.Authorization.slice("Bearer ".length);
        },
        close: async () => undefined,
    };
}

const makePeer = { ours: ourPeer, ibm: ibmPeer };

/** 1,000 callers ask at once; returns the token requests the proxy saw and how many distinct tokens came back. */
async function burst(proxy: CountingProxy, peer: TokenPeer, callers: number): Promise<{ requests: number; distinct: number }> {
    proxy.reset();
    const tokens = await Promise.all(Array.from({ length: callers }, () => peer.token()));
    return { requests: proxy.count(TOKEN_PATH), distinct: new Set(tokens).size };
}

export async function benchTokenPath(results: Results, opts: TokenPathOptions): Promise<void> {
    const callers = 1000;
    const coldRounds = opts.quick ? 2 : 5;

    // (a) cold cache: a fresh manager, 1,000 concurrent callers.
    {
        const emu = await spawnEmulator();
        const proxy = await startCountingProxy(emu.url);
        try {
            const before = await emulatorTokenRequests(emu.url);
            const distinct: number[] = [];
            const s = await interleave(coldRounds, async (p) => {
                const peer = makePeer[p](emu.apiKey, proxy.url);
                try {
                    const r = await burst(proxy, peer, callers);
                    distinct.push(r.distinct);
                    return r.requests;
                } finally {
                    await peer.close();
                }
            });
            const after = await emulatorTokenRequests(emu.url);
            const total = s.ours.reduce((a, b) => a + b, 0) + s.ibm.reduce((a, b) => a + b, 0);
            results.compare({
                section: SECTION,
                metric: `cold cache, ${callers} concurrent callers`,
                unit: "token requests",
                better: "lower",
                ours: s.ours,
                ibm: s.ibm,
                target: { on: "ours", op: "==", value: 1 },
                note:
                    `worst case over ${coldRounds} rounds: ours ${Math.max(...s.ours)}, IBM ${Math.max(...s.ibm)}; distinct tokens per burst ≤ ${Math.max(...distinct)}` +
                    (before !== undefined && after !== undefined
                        ? `; emulator's own counter agrees: ${after - before === total ? "yes" : `NO (${after - before} vs ${total})`}`
                        : ""),
            });
        } finally {
            await proxy.stop();
            await emu.stop();
        }
    }

    // (a') expired cache: tokens live 12 s and count as expired 10 s before `exp` (both managers),
    // so 2.1 s after the first fetch the cached token is expired and 1,000 callers arrive at once.
    if (!opts.quick) {
        const emu = await spawnEmulator({ tokenLifetimeSeconds: 12 });
        const proxy = await startCountingProxy(emu.url);
        try {
            const s = await interleave(3, async (p) => {
                const peer = makePeer[p](emu.apiKey, proxy.url);
                try {
                    await peer.token();
                    await sleep(2100);
                    return (await burst(proxy, peer, callers)).requests;
                } finally {
                    await peer.close();
                }
            });
            results.compare({
                section: SECTION,
                metric: `expired cache, ${callers} concurrent callers`,
                unit: "token requests",
                better: "lower",
                ours: s.ours,
                ibm: s.ibm,
                target: { on: "ours", op: "==", value: 1 },
            });
        } finally {
            await proxy.stop();
            await emu.stop();
        }
    }

    const emu = await spawnEmulator();
    try {
        await warmTokenCalls(results, emu, opts);
        await kmsThroughput(results, emu, opts);
    } finally {
        await emu.stop();
    }
}

// (b) a cached token: calls per second, sequential awaits (what a client does before each request).
async function warmTokenCalls(results: Results, emu: EmulatorProcess, opts: TokenPathOptions): Promise<void> {
    const n = opts.quick ? 50_000 : 300_000;
    const rounds = opts.quick ? 3 : 9;
    const ourTm = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
    const ibmTm = new IbmIamTokenManager({ apikey: emu.apiKey, url: emu.url });
    const ibmAuth = new IamAuthenticator({ apikey: emu.apiKey, url: emu.url });
    await Promise.all([ourTm.getToken(), ibmTm.getToken(), ibmAuth.authenticate({ headers: {} })]);
    try {
        const loop = (get: () => Promise<unknown>) =>
            timed(async () => {
                for (let i = 0; i < n; i++) await get();
                return n;
            });
        const rate = (t: TrialResult) => (t.ops / t.ms) * 1000;

        const tm = await interleave(rounds, (p) => loop(p === "ours" ? () => ourTm.getToken() : () => ibmTm.getToken()), 1);
        results.compare({
            section: SECTION,
            metric: "warm getToken() (token manager)",
            unit: "calls/s",
            better: "higher",
            ours: tm.ours.map(rate),
            ibm: tm.ibm.map(rate),
            // No target any more: both hand out a cached token in well under a microsecond, which
            // no caller can tell apart; the row stays so a regression (a lock, a copy per call) shows.
            note: "no target (retired: both hand out a cached token in well under a microsecond)",
        });

        // The whole per-request step: a header ready to send.
        const header = await interleave(
            rounds,
            (p) => loop(p === "ours" ? async () => ({ Authorization: `Bearer ${await ourTm.getToken()}` }) : () => ibmAuth.authenticate({ headers: {} })),
            1,
        );
        results.compare({
            section: SECTION,
            metric: "warm Authorization header (IBM: IamAuthenticator.authenticate)",
            unit: "calls/s",
            better: "higher",
            ours: header.ours.map(rate),
            ibm: header.ibm.map(rate),
            target: { on: "ratio", op: ">=", value: 2 },
        });
    } finally {
        await ourTm.http.close();
    }
}

/** IBM's request path for the KMS keys list: a minimal BaseService, as IBM's generated SDKs are written. */
export class IbmKeysService extends BaseService {
    static override DEFAULT_SERVICE_URL = "https://us-south.kms.cloud.ibm.com";
    private readonly instanceId: string;

    constructor(options: UserOptions & { instanceId: string }) {
        super(options);
        this.instanceId = options.instanceId;
    }

    listKeys(params: { limit?: number; offset?: number } = {}): Promise<any> {
        return this.createRequest({
            options: { url: "/api/v2/keys", method: "GET", qs: { limit: params.limit, offset: params.offset } },
            defaultOptions: {
                ...this.baseOptions,
                headers: { ...this.baseOptions.headers, Accept: "application/json", "bluemix-instance": this.instanceId },
            },
        });
    }
}

// (c) authenticated GET /api/v2/keys: our KmsClient.listKeys() (token, headers, request, zod check of
// every key) against IBM's BaseService.createRequest with an IamAuthenticator.
async function kmsThroughput(results: Results, emu: EmulatorProcess, opts: TokenPathOptions): Promise<void> {
    const instance = emu.instances[0];
    const ourTm = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
    const ours = new KmsClient({ endpoint: emu.url, instanceId: instance.guid, tokenSource: () => ourTm.getToken(), httpClient: ourTm.http });
    const ibm = new IbmKeysService({
        serviceUrl: emu.url,
        instanceId: instance.guid,
        authenticator: new IamAuthenticator({ apikey: emu.apiKey, url: emu.url }),
    });
    const keys = 5;
    try {
        // A few keys so each response carries something to parse.
        for (let i = 0; i < keys; i++) await ours.createKey({ name: `bench-key-${i}` });
        const check = await ibm.listKeys({ limit: 200, offset: 0 });
        const got = (check.result?.resources ?? []).length;
        if (got !== keys) throw new Error(`IBM's request path listed ${got} keys, expected ${keys}`);
        if ((await ours.listKeys()).length !== keys) throw new Error(`KmsClient did not list ${keys} keys`);

        for (const concurrency of [1, 32]) {
            const n = (opts.quick ? 300 : 1500) * (concurrency === 1 ? 1 : 2);
            const rounds = opts.quick ? 3 : 7;
            // Warm both connection pools at this concurrency before measuring.
            await pool(concurrency * 2, concurrency, () => ours.listKeys());
            await pool(concurrency * 2, concurrency, () => ibm.listKeys({ limit: 200, offset: 0 }));
            const serverUs: number[] = [];
            const s = await interleave(rounds, async (p) => {
                const get = p === "ours" ? () => ours.listKeys() : () => ibm.listKeys({ limit: 200, offset: 0 });
                const cpu0 = processCpuMs(emu.pid);
                const t = await timed(async () => {
                    await pool(n, concurrency, get);
                    return n;
                });
                const cpu1 = processCpuMs(emu.pid);
                if (cpu0 !== undefined && cpu1 !== undefined) serverUs.push(((cpu1 - cpu0) * 1000) / n);
                return t;
            });
            results.compare({
                section: SECTION,
                metric: `authenticated GET /api/v2/keys, ${concurrency} in flight`,
                unit: "req/s",
                better: "higher",
                ours: s.ours.map((t) => (t.ops / t.ms) * 1000),
                ibm: s.ibm.map((t) => (t.ops / t.ms) * 1000),
                target: { on: "ratio", op: ">=", value: 2 },
                note: `emulator in its own process, ${keys} keys per response; the emulator itself spends a median ${fmt(median(serverUs))} µs CPU per request, which bounds both clients`,
            });
            results.compare({
                section: SECTION,
                metric: `client CPU per KMS request, ${concurrency} in flight`,
                unit: "µs CPU/req",
                better: "lower",
                ours: s.ours.map((t) => (t.cpuMs * 1000) / t.ops),
                ibm: s.ibm.map((t) => (t.cpuMs * 1000) / t.ops),
            });
        }
    } finally {
        await ourTm.http.close();
    }
}
