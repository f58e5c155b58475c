// Section 2: our IamClient against @ibm-cloud/platform-services (IamIdentityV1, IamPolicyManagementV1)
// on the same emulator: create, get and delete of service IDs, API keys and policies; and the cold
// module-load time of our client entry point and of the whole provider against IBM's two service modules.
import * as childProcess from "child_process";
import * as crypto from "crypto";
import * as path from "path";
import { IamAuthenticator } from "ibm-cloud-sdk-core";
import IamIdentityV1 = require("@ibm-cloud/platform-services/iam-identity/v1");
import IamPolicyManagementV1 = require("@ibm-cloud/platform-services/iam-policy-management/v1");
import { IamClient } from "../client/iamClient";
import { IamTokenManager } from "../client/tokenManager";
import { EmulatorProcess, interleave, median, Peer, processCpuMs, REPO_ROOT, Results, spawnEmulator, timed, TrialResult, fmt } from "./support";

const SECTION = "IAM client";
const READER = "crn:v1:bluemix:public:iam::::serviceRole:Reader";

export interface IamClientBenchOptions {
    quick: boolean;
}

/** The nine operations, the same way for both peers; every method returns the new object's id. */
interface IamPeer {
    createServiceId(name: string): Promise<{ id: string; iamId: string }>;
    getServiceId(id: string): Promise<void>;
    deleteServiceId(id: string): Promise<void>;
    createApiKey(name: string, iamId: string): Promise<string>;
    getApiKey(id: string): Promise<void>;
    deleteApiKey(id: string): Promise<void>;
    createPolicy(iamId: string, instance: string): Promise<string>;
    getPolicy(id: string): Promise<void>;
    deletePolicy(id: string): Promise<void>;
    close(): Promise<void>;
}

function policyResource(accountId: string, instance: string) {
    return [
        {
            attributes: [
                { name: "accountId", value: accountId, operator: "stringEquals" },
                { name: "serviceName", value: "hs-crypto", operator: "stringEquals" },
                { name: "serviceInstance", value: instance, operator: "stringEquals" },
            ],
        },
    ];
}

function ourPeer(emu: EmulatorProcess): IamPeer {
    const tokenManager = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
    const iam = new IamClient({ tokenManager });
    const account_id = emu.accountId;
    return {
        createServiceId: async (name) => {
            const s = await iam.createServiceId({ account_id, name });
            return { id: s.id, iamId: s.iam_id };
        },
        getServiceId: async (id) => void (await iam.getServiceId(id)),
        deleteServiceId: async (id) => void (await iam.deleteServiceId(id)),
        createApiKey: async (name, iam_id) => (await iam.createApiKey({ name, iam_id, account_id })).id,
        getApiKey: async (id) => void (await iam.getApiKey(id)),
        deleteApiKey: async (id) => void (await iam.deleteApiKey(id)),
        createPolicy: async (iamId, instance) =>
            (
                await iam.createPolicy({
                    type: "access",
                    subjects: [{ attributes: [{ name: "iam_id", value: iamId }] }],
                    roles: [{ role_id: READER }],
                    resources: policyResource(account_id, instance),
                })
            ).policy.id,
        getPolicy: async (id) => void (await iam.getPolicy(id)),
        deletePolicy: async (id) => void (await iam.deletePolicy(id)),
        close: () => tokenManager.http.close(),
    };
}

function ibmPeer(emu: EmulatorProcess): IamPeer {
    // One authenticator shared by both services, as IBM's examples do.
    const authenticator = new IamAuthenticator({ apikey: emu.apiKey, url: emu.url });
    const identity = new IamIdentityV1({ authenticator, serviceUrl: emu.url });
    const policies = new IamPolicyManagementV1({ authenticator, serviceUrl: emu.url });
    const accountId = emu.accountId;
    return {
        createServiceId: async (name) => {
            const r = (await identity.createServiceId({ accountId, name })).result;
            return { id: r.id!, iamId: r.iam_id };
        },
        getServiceId: async (id) => void (await identity.getServiceId({ id })),
        deleteServiceId: async (id) => void (await identity.deleteServiceId({ id })),
        createApiKey: async (name, iamId) => (await identity.createApiKey({ name, iamId, accountId })).result.id!,
        getApiKey: async (id) => void (await identity.getApiKey({ id })),
        deleteApiKey: async (id) => void (await identity.deleteApiKey({ id })),
        createPolicy: async (iamId, instance) =>
            (
                await policies.createPolicy({
                    type: "access",
                    subjects: [{ attributes: [{ name: "iam_id", value: iamId }] }],
                    roles: [{ role_id: READER }],
                    resources: policyResource(accountId, instance),
                })
            ).result.id!,
        getPolicy: async (id) => void (await policies.getPolicy({ policyId: id })),
        deletePolicy: async (id) => void (await policies.deletePolicy({ policyId: id })),
        close: async () => undefined,
    };
}

const OPS = [
    "service ID create",
    "service ID get",
    "service ID delete",
    "API key create",
    "API key get",
    "API key delete",
    "policy create",
    "policy get",
    "policy delete",
] as const;
type Op = (typeof OPS)[number];
type Round = Record<Op, TrialResult> & { serverCpuMs: number | undefined };

/** One round for one peer: n of each object, each operation timed as its own sequential phase. */
async function round(peer: IamPeer, emuPid: number, n: number, tag: string): Promise<Round> {
    const cpu0 = processCpuMs(emuPid);
    const seq = async <T>(fn: (i: number) => Promise<T>) => {
        const out: T[] = [];
        const t: TrialResult = await timed(async () => {
            for (let i = 0; i < n; i++) out.push(await fn(i));
            return n;
        });
        return { out, t };
    };
    const sidC = await seq((i) => peer.createServiceId(`bench-${tag}-${i}`));
    const sids = sidC.out;
    const sidG = await seq((i) => peer.getServiceId(sids[i].id));
    const keyC = await seq((i) => peer.createApiKey(`bench-${tag}-key-${i}`, sids[i].iamId));
    const keyG = await seq((i) => peer.getApiKey(keyC.out[i]));
    const polC = await seq((i) => peer.createPolicy(sids[i].iamId, crypto.randomUUID()));
    const polG = await seq((i) => peer.getPolicy(polC.out[i]));
    const polD = await seq((i) => peer.deletePolicy(polC.out[i]));
    const keyD = await seq((i) => peer.deleteApiKey(keyC.out[i]));
    const sidD = await seq((i) => peer.deleteServiceId(sids[i].id));
    const cpu1 = processCpuMs(emuPid);
    return {
        "service ID create": sidC.t,
        "service ID get": sidG.t,
        "service ID delete": sidD.t,
        "API key create": keyC.t,
        "API key get": keyG.t,
        "API key delete": keyD.t,
        "policy create": polC.t,
        "policy get": polG.t,
        "policy delete": polD.t,
        serverCpuMs: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined,
    };
}

export async function benchIamClient(results: Results, opts: IamClientBenchOptions): Promise<void> {
    await iamOperations(results, opts);
    await moduleLoad(results, opts);
}

async function iamOperations(results: Results, opts: IamClientBenchOptions): Promise<void> {
    const n = opts.quick ? 10 : 30;
    const rounds = opts.quick ? 3 : 7;
    const emu = await spawnEmulator();
    const peers: Record<Peer, IamPeer> = { ours: ourPeer(emu), ibm: ibmPeer(emu) };
    try {
        const s = await interleave(rounds, (p, r) => round(peers[p], emu.pid, n, `${p}-${r < 0 ? `w${-r}` : r}`), 1);
        const rate = (t: TrialResult) => (t.ops / t.ms) * 1000;
        for (const op of OPS) {
            results.compare({
                section: SECTION,
                metric: `${op} (1 in flight)`,
                unit: "ops/s",
                better: "higher",
                ours: s.ours.map((x) => rate(x[op])),
                ibm: s.ibm.map((x) => rate(x[op])),
            });
        }
        const cpuPerOp = (x: Round) => (OPS.reduce((a, op) => a + x[op].cpuMs, 0) * 1000) / OPS.reduce((a, op) => a + x[op].ops, 0);
        const serverPerOp = [...s.ours, ...s.ibm].filter((x) => x.serverCpuMs !== undefined).map((x) => (x.serverCpuMs! * 1000) / (n * OPS.length));
        results.compare({
            section: SECTION,
            metric: "client CPU per IAM operation (all nine)",
            unit: "µs CPU/op",
            better: "lower",
            ours: s.ours.map(cpuPerOp),
            ibm: s.ibm.map(cpuPerOp),
            note: `${n} objects of each kind per round; the emulator spends a median ${fmt(median(serverPerOp))} µs CPU per operation`,
        });
        // The total: what one create-read-delete cycle of the triple costs, end to end.
        const totalMs = (x: Round) => OPS.reduce((a, op) => a + x[op].ms, 0);
        results.compare({
            section: SECTION,
            metric: "all nine operations × n, wall time",
            unit: "ms",
            better: "lower",
            ours: s.ours.map(totalMs),
            ibm: s.ibm.map(totalMs),
        });
    } finally {
        await peers.ours.close();
        await peers.ibm.close();
        await emu.stop();
    }
}

/** Modules each peer needs to talk to IAM, required in a fresh process. */
export const LOAD_TARGETS: Record<Peer, string[]> = {
    ours: [path.join(REPO_ROOT, "dist", "provider", "index.js")],
    ibm: ["@ibm-cloud/platform-services/iam-identity/v1", "@ibm-cloud/platform-services/iam-policy-management/v1"],
};

/**
 * Our client entry point (client/index.ts): config, errors, HTTP, token manager, IAM and KMS
 * clients, access-token provider; no @pulumi/pulumi. Required by its package name, as an application
 * does (inside the repo the name resolves through package self-reference).
 */
export const CLIENT_ENTRY = "pulumi-ibmcloud-iam/client";

/** Time to `require` the modules in a fresh `node` (after `preload`, untimed), measured inside that process, ms. */
export function loadTimeMs(modules: string[], preload: string[] = []): Promise<number> {
    const code =
        `for (const m of ${JSON.stringify(preload)}) require(m);` +
        `const t=process.hrtime.bigint();for (const m of ${JSON.stringify(modules)}) require(m);` +
        `process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));`;
    return new Promise((resolve, reject) => {
        childProcess.execFile(process.execPath, ["-e", code], { cwd: REPO_ROOT }, (err, stdout, stderr) => {
            if (err) return reject(new Error(`loading ${modules.join(", ")} failed: ${stderr || err.message}`));
            resolve(Number(stdout));
        });
    });
}

async function moduleLoad(results: Results, opts: IamClientBenchOptions): Promise<void> {
    const rounds = opts.quick ? 3 : 11;
    const target = { on: "ratio" as const, op: "<=" as const, value: 1 / 3 };
    const ibmNote = "fresh node, require timed inside it; IBM = platform-services iam-identity/v1 + iam-policy-management/v1";
    // What an application that calls IAM/KMS loads: the client entry point.
    const client = await interleave(rounds, (p) => loadTimeMs(p === "ours" ? [CLIENT_ENTRY] : LOAD_TARGETS.ibm), 1);
    // What undici and zod alone take, for the note: the client layer's own modules are the rest.
    const deps: number[] = [];
    for (let i = 0; i < Math.max(3, Math.ceil(rounds / 2)); i++) deps.push(await loadTimeMs(["undici", "zod"]));
    results.compare({
        section: SECTION,
        metric: `cold module load: ${CLIENT_ENTRY}`,
        unit: "ms",
        better: "lower",
        ours: client.ours,
        ibm: client.ibm,
        target,
        note: `${ibmNote}; ours = client/index.js (no @pulumi/pulumi); undici + zod alone take a median ${fmt(median(deps))} ms of it`,
    });
    // The whole package root, resources included: they import @pulumi/pulumi.
    const full = await interleave(rounds, (p) => loadTimeMs(LOAD_TARGETS[p]), 1);
    const pulumiAlone: number[] = [];
    for (let i = 0; i < Math.max(3, Math.ceil(rounds / 2)); i++) pulumiAlone.push(await loadTimeMs(["@pulumi/pulumi"]));
    results.compare({
        section: SECTION,
        metric: "cold module load: dist/provider/index.js (with the resources)",
        unit: "ms",
        better: "lower",
        ours: full.ours,
        ibm: full.ibm,
        target,
        note: `${ibmNote}; @pulumi/pulumi alone takes a median ${fmt(median(pulumiAlone))} ms (a Pulumi program has it loaded anyway: see the next row)`,
    });
    // In a Pulumi program @pulumi/pulumi is already loaded: what each adds on top of it.
    const onTop = await interleave(rounds, (p) => loadTimeMs(LOAD_TARGETS[p], ["@pulumi/pulumi"]), 1);
    results.compare({
        section: SECTION,
        metric: "module load on top of a loaded @pulumi/pulumi",
        unit: "ms",
        better: "lower",
        ours: onTop.ours,
        ibm: onTop.ibm,
        note: "what a Pulumi program pays to add each (the program has @pulumi/pulumi loaded anyway)",
    });
}
