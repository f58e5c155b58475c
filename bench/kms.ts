// Section: KMS from an application, our client layer against IBM's Key Protect SDK
// (`@ibm-cloud/ibm-key-protect` on its `ibm-cloud-sdk-core`), the emulator in its own process:
// - cold start to first use: a fresh `node` that loads the client, gets a token and wraps one data key
//   (bench/coldStart.ts), wall time from spawn to exit and peak RSS; module load alone as a second row;
// - wrap/unwrap throughput at 1 and 32 in flight: requests/s and client CPU per call (this process's
//   CPU; the emulator's is measured apart, it is what bounds both).
import * as childProcess from "child_process";
import * as path from "path";
import { IamTokenManager } from "../client/tokenManager";
import { KmsClient } from "../client/kmsClient";
import { EmulatorProcess, fmt, interleave, median, Peer, pool, processCpuMs, REPO_ROOT, Results, spawnEmulator, timed, TrialResult } from "./support";

const SECTION = "KMS";

export interface KmsBenchOptions {
    quick: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const KeyProtectV2 = require("@ibm-cloud/ibm-key-protect/ibm-key-protect-api/v2");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { IamAuthenticator: KpIamAuthenticator } = require("@ibm-cloud/ibm-key-protect/auth");

interface ColdRun {
    wallMs: number;
    loadMs: number;
    firstUseMs: number;
    maxRssKiB: number;
}

/** One fresh process of bench/coldStart.js; wall from spawn to exit, as the parent sees it. */
function coldStart(peer: Peer, args: Record<string, string>): Promise<ColdRun> {
    return new Promise((resolve, reject) => {
        const t0 = process.hrtime.bigint();
        childProcess.execFile(
            process.execPath,
            [path.join(__dirname, "coldStart.js"), peer, JSON.stringify(args)],
            { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: "" } },
            (err, stdout, stderr) => {
                const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
                if (err) return reject(new Error(`cold start of ${peer} failed: ${stderr || err.message}`));
                resolve({ wallMs, ...(JSON.parse(stdout.trim().split("\n").pop()!) as Omit<ColdRun, "wallMs">) });
            },
        );
    });
}

/** Our root key for both peers (created with our client: what it is made with does not matter). */
async function rootKey(emu: EmulatorProcess): Promise<string> {
    const tm = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
    const kms = new KmsClient({ endpoint: emu.url, instanceId: emu.instances[0].guid, tokenSource: () => tm.getToken(), httpClient: tm.http });
    try {
        return (await kms.createKey({ name: "bench-root" })).id;
    } finally {
        await (tm.http as unknown as { close?: () => Promise<void> }).close?.();
    }
}

export async function benchKms(results: Results, opts: KmsBenchOptions): Promise<void> {
    const emu = await spawnEmulator({ instances: [{ service: "kms", region: "us-south" }] });
    try {
        const keyId = await rootKey(emu);
        await coldStartRows(results, emu, keyId, opts);
        await wrapThroughput(results, emu, keyId, opts);
    } finally {
        await emu.stop();
    }
}

async function coldStartRows(results: Results, emu: EmulatorProcess, keyId: string, opts: KmsBenchOptions): Promise<void> {
    const rounds = opts.quick ? 3 : 11;
    const args = { url: emu.url, apiKey: emu.apiKey, instanceId: emu.instances[0].guid, keyId };
    const runs = await interleave(rounds, (p) => coldStart(p, args), 1);
    const ibmNote = "IBM = @ibm-cloud/ibm-key-protect/ibm-key-protect-api/v2 + its auth export (ibm-cloud-sdk-core), as its README shows";
    results.compare({
        section: SECTION,
        metric: "cold start to first use: fresh node, load, token, one wrap",
        unit: "ms",
        better: "lower",
        ours: runs.ours.map((r) => r.wallMs),
        ibm: runs.ibm.map((r) => r.wallMs),
        target: { on: "ratio", op: "<=", value: 0.5 },
        note:
            `wall from spawn to exit, Node ${process.version}, ${rounds} rounds interleaved; inside the process, start to first answer: ` +
            `${fmt(median(runs.ours.map((r) => r.firstUseMs)))} vs ${fmt(median(runs.ibm.map((r) => r.firstUseMs)))} ms; ${ibmNote}`,
    });
    results.compare({
        section: SECTION,
        metric: "cold start to first use: peak RSS",
        unit: "MiB",
        better: "lower",
        ours: runs.ours.map((r) => r.maxRssKiB / 1024),
        ibm: runs.ibm.map((r) => r.maxRssKiB / 1024),
        target: { on: "ratio", op: "<=", value: 0.7 },
        note: "process.resourceUsage().maxRSS at the end of the same processes",
    });
    results.compare({
        section: SECTION,
        metric: "cold start: module load alone (pulumi-ibmcloud-iam/client vs Key Protect + auth)",
        unit: "ms",
        better: "lower",
        ours: runs.ours.map((r) => r.loadMs),
        ibm: runs.ibm.map((r) => r.loadMs),
        note: "the require() inside the same processes, timed from the start of the script",
    });
}

async function wrapThroughput(results: Results, emu: EmulatorProcess, keyId: string, opts: KmsBenchOptions): Promise<void> {
    const instanceId = emu.instances[0].guid;
    const tm = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
    const ours = new KmsClient({ endpoint: emu.url, instanceId, tokenSource: () => tm.getToken(), httpClient: tm.http });
    const kp = new KeyProtectV2({ authenticator: new KpIamAuthenticator({ apikey: emu.apiKey, url: emu.url }), serviceUrl: emu.url });
    const plaintext = Buffer.alloc(32, 9);
    const b64 = plaintext.toString("base64");
    const wrapped = (await ours.wrap(keyId, plaintext)).toString("base64");
    const calls: Record<"wrap" | "unwrap", Record<Peer, () => Promise<unknown>>> = {
        wrap: {
            ours: () => ours.wrap(keyId, plaintext),
            ibm: () => kp.wrapKey({ id: keyId, bluemixInstance: instanceId, keyActionWrapBody: { plaintext: b64 } }),
        },
        unwrap: {
            ours: () => ours.unwrap(keyId, wrapped),
            ibm: () => kp.unwrapKey({ id: keyId, bluemixInstance: instanceId, keyActionUnwrapBody: { ciphertext: wrapped } }),
        },
    };
    // Both answer the same: a sanity check before measuring.
    const u = await kp.unwrapKey({ id: keyId, bluemixInstance: instanceId, keyActionUnwrapBody: { ciphertext: wrapped } });
    if (u.result.plaintext !== b64) throw new Error("IBM's SDK did not unwrap what ours wrapped");
    try {
        for (const op of ["wrap", "unwrap"] as const) {
            for (const concurrency of [1, 32]) {
                const n = (opts.quick ? 300 : 1500) * (concurrency === 1 ? 1 : 2);
                const rounds = opts.quick ? 3 : 7;
                await pool(concurrency * 4, concurrency, calls[op].ours);
                await pool(concurrency * 4, concurrency, calls[op].ibm);
                const serverUs: Record<Peer, number[]> = { ours: [], ibm: [] };
                const s = await interleave(rounds, async (p): Promise<TrialResult> => {
                    const cpu0 = processCpuMs(emu.pid);
                    const t = await timed(async () => {
                        await pool(n, concurrency, calls[op][p]);
                        return n;
                    });
                    const cpu1 = processCpuMs(emu.pid);
                    if (cpu0 !== undefined && cpu1 !== undefined) serverUs[p].push(((cpu1 - cpu0) * 1000) / n);
                    return t;
                });
                results.compare({
                    section: SECTION,
                    metric: `${op}, ${concurrency} in flight`,
                    unit: "req/s",
                    better: "higher",
                    ours: s.ours.map((t) => (t.ops * 1000) / t.ms),
                    ibm: s.ibm.map((t) => (t.ops * 1000) / t.ms),
                    target: { on: "ratio", op: ">=", value: 2 },
                    note:
                        `${n} calls × ${rounds} rounds interleaved; the emulator (own process, real AES-GCM) spent ${fmt(median(serverUs.ours))} vs ${fmt(median(serverUs.ibm))} µs CPU per call ` +
                        `(10 ms ticks), the client ${fmt(median(s.ours.map((t) => (t.cpuMs * 1000) / t.ops)))} vs ${fmt(median(s.ibm.map((t) => (t.cpuMs * 1000) / t.ops)))} µs`,
                });
                results.compare({
                    section: SECTION,
                    metric: `client CPU per ${op}, ${concurrency} in flight`,
                    unit: "µs CPU/call",
                    better: "lower",
                    ours: s.ours.map((t) => (t.cpuMs * 1000) / t.ops),
                    ibm: s.ibm.map((t) => (t.cpuMs * 1000) / t.ops),
                    target: { on: "ratio", op: "<=", value: 0.5 },
                    note: "user + system CPU of this process (the client) per call",
                });
            }
        }
    } finally {
        await (tm.http as unknown as { close?: () => Promise<void> }).close?.();
    }
}
