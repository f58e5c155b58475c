// Where the time goes, for a benchmark that misses its target. Runs one peer of one scenario in a loop
// (under `node --cpu-prof`), or summarizes a .cpuprofile by function and by package:
//
//   node --cpu-prof --cpu-prof-dir=bench/results/profiles dist/bench/profile.js run kms-ours
//   node build/bench/profile.js summarize bench/results/profiles/<file>.cpuprofile
//
// Scenarios: warm-ours, warm-ibm, kms-ours, kms-ibm, load-ours, load-ibm; and, without a profiler,
//   node build/bench/profile.js requires ours|ibm|client   (exclusive require time by package)
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { fmt, pool, REPO_ROOT, spawnEmulator } from "./support";

async function run(scenario: string): Promise<void> {
    // Loaded here, not at the top: `requires` must start from an empty module cache.
    const { IamAuthenticator, IamTokenManager: IbmIamTokenManager } = require("ibm-cloud-sdk-core") as typeof import("ibm-cloud-sdk-core");
    const { IamTokenManager } = require("../client/tokenManager") as typeof import("../client/tokenManager");
    const { KmsClient } = require("../client/kmsClient") as typeof import("../client/kmsClient");
    const { IbmKeysService } = require("./tokenPath") as typeof import("./tokenPath");
    if (scenario === "load-ours") {
        require(path.join(REPO_ROOT, "dist", "provider", "index.js"));
        return;
    }
    if (scenario === "load-ibm") {
        require("@ibm-cloud/platform-services/iam-identity/v1");
        require("@ibm-cloud/platform-services/iam-policy-management/v1");
        return;
    }
    const emu = await spawnEmulator();
    try {
        if (scenario === "warm-ours" || scenario === "warm-ibm") {
            const get =
                scenario === "warm-ours"
                    ? (() => {
                          const tm = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
                          return () => tm.getToken();
                      })()
                    : (() => {
                          const tm = new IbmIamTokenManager({ apikey: emu.apiKey, url: emu.url });
                          return () => tm.getToken();
                      })();
            await get();
            for (let i = 0; i < 3_000_000; i++) await get();
            return;
        }
        if (scenario === "kms-ours" || scenario === "kms-ibm") {
            const instanceId = emu.instances[0].guid;
            const tm = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
            const ours = new KmsClient({ endpoint: emu.url, instanceId, tokenSource: () => tm.getToken(), httpClient: tm.http });
            for (let i = 0; i < 5; i++) await ours.createKey({ name: `profile-key-${i}` });
            const ibm = new IbmKeysService({ serviceUrl: emu.url, instanceId, authenticator: new IamAuthenticator({ apikey: emu.apiKey, url: emu.url }) });
            const get = scenario === "kms-ours" ? () => ours.listKeys() : () => ibm.listKeys({ limit: 200, offset: 0 });
            await pool(3000, 8, get);
            await tm.http.close();
            return;
        }
        throw new Error(`unknown scenario ${scenario}`);
    } finally {
        await emu.stop();
    }
}

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
}

/** Self time by function and by where the code lives (our folders, a package, node internals). */
export function summarize(file: string, top = 25): string {
    const prof = JSON.parse(fs.readFileSync(file, "utf8")) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const selfUs = new Map<number, number>();
    prof.samples.forEach((id, i) => {
        selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
    });
    const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
    const fn = new Map<string, number>();
    const where = new Map<string, number>();
    for (const [id, us] of selfUs) {
        const cf = byId.get(id)!.callFrame;
        const loc = locationOf(cf.url);
        const name = `${cf.functionName || "(anonymous)"}  ${loc}${cf.url ? `:${cf.lineNumber + 1}` : ""}`;
        fn.set(name, (fn.get(name) ?? 0) + us);
        where.set(loc, (where.get(loc) ?? 0) + us);
    }
    const list = (m: Map<string, number>, n: number) =>
        [...m]
            .sort((a, b) => b[1] - a[1])
            .slice(0, n)
            .map(([k, us]) => `  ${fmt((100 * us) / total).padStart(5)} %  ${fmt(us / 1000).padStart(7)} ms  ${k}`);
    return [`${path.basename(file)}: ${fmt(total / 1000)} ms sampled`, "by location:", ...list(where, 15), "by function (self):", ...list(fn, top)].join("\n");
}

interface AllocNode {
    callFrame: { functionName: string; url: string; lineNumber: number };
    selfSize: number;
    children: AllocNode[];
}

/**
 * Bytes allocated (sampled, garbage included) by where the allocating code lives, from a .heapprofile
 * (bench/pluginProfiler.ts with BENCH_PLUGIN_ALLOC=1): self by location and function, and inclusive by the
 * first frame outside node internals and @pulumi/pulumi's plumbing that is ours or a dependency of ours.
 */
export function summarizeAllocations(file: string, top = 25): string {
    const prof = JSON.parse(fs.readFileSync(file, "utf8")) as { head: AllocNode };
    const where = new Map<string, number>();
    const fn = new Map<string, number>();
    let total = 0;
    const walk = (n: AllocNode) => {
        const loc = locationOf(n.callFrame.url);
        const name = `${n.callFrame.functionName || "(anonymous)"}  ${loc}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ""}`;
        where.set(loc, (where.get(loc) ?? 0) + n.selfSize);
        fn.set(name, (fn.get(name) ?? 0) + n.selfSize);
        total += n.selfSize;
        for (const c of n.children) walk(c);
    };
    walk(prof.head);
    const list = (m: Map<string, number>, n: number) =>
        [...m]
            .sort((a, b) => b[1] - a[1])
            .slice(0, n)
            .map(([k, b]) => `  ${fmt((100 * b) / total).padStart(5)} %  ${fmt(b / 1048576).padStart(7)} MiB  ${k}`);
    return [
        `${path.basename(file)}: ${fmt(total / 1048576)} MiB allocated (sampled)`,
        "by location (self):",
        ...list(where, 15),
        "by function (self):",
        ...list(fn, top),
    ].join("\n");
}

function locationOf(url: string): string {
    if (!url) return "(native / gc / idle)";
    if (url.startsWith("node:")) return url;
    const nm = url.lastIndexOf("node_modules/");
    if (nm >= 0) {
        const rest = url.slice(nm + "node_modules/".length).split("/");
        return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
    }
    const m = /\/dist\/([^/]+)\/([^/]+)$/.exec(url);
    return m ? `${m[1]}/${m[2]}` : url;
}

/**
 * Requires the modules while timing every nested require, and returns the exclusive time by package
 * (the package or our dist folder owning each loaded file): where a cold load goes.
 */
export function requireBreakdown(modules: string[]): string {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const Module = require("module") as {
        _load: (request: string, parent: unknown, isMain: boolean) => unknown;
        _resolveFilename: (r: string, p: unknown) => string;
    };
    const original = Module._load;
    const exclusive = new Map<string, number>();
    const stack: Array<{ child: number }> = [];
    Module._load = function (request: string, parent: unknown, isMain: boolean) {
        let owner: string;
        try {
            owner = locationOf(Module._resolveFilename(request, parent));
        } catch {
            owner = request;
        }
        if (owner.startsWith("node:") || (!owner.includes("/") && !owner.includes("."))) owner = owner.startsWith("node:") ? "(node builtins)" : owner;
        const frame = { child: 0 };
        stack.push(frame);
        const t = process.hrtime.bigint();
        try {
            return original.call(this, request, parent, isMain);
        } finally {
            const total = Number(process.hrtime.bigint() - t) / 1e6;
            stack.pop();
            exclusive.set(owner, (exclusive.get(owner) ?? 0) + total - frame.child);
            if (stack.length) stack[stack.length - 1].child += total;
        }
    };
    const t0 = process.hrtime.bigint();
    try {
        for (const m of modules) require(m);
    } finally {
        Module._load = original;
    }
    const total = Number(process.hrtime.bigint() - t0) / 1e6;
    const rows = [...exclusive]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 15)
        .map(([k, ms]) => `  ${fmt((100 * ms) / total).padStart(5)} %  ${fmt(ms).padStart(7)} ms  ${k}`);
    return [`require of ${modules.map((m) => path.basename(m)).join(", ")}: ${fmt(total)} ms; exclusive time by package:`, ...rows].join("\n");
}

// not strict: this module is also loaded by others, whose own arguments are not ours to refuse
const [cmd, arg] = parseArgs({ args: process.argv.slice(2), allowPositionals: true, strict: false }).positionals;
if (cmd === "requires" && arg) {
    const targets: Record<string, string[]> = {
        ours: [path.join(REPO_ROOT, "dist", "provider", "index.js")],
        client: [path.join(REPO_ROOT, "dist", "client", "index.js")],
        ibm: ["@ibm-cloud/platform-services/iam-identity/v1", "@ibm-cloud/platform-services/iam-policy-management/v1"],
    };
    console.log(requireBreakdown(targets[arg] ?? [arg]));
} else if (cmd === "run" && arg) {
    run(arg).then(
        () => process.exit(0),
        (err) => {
            console.error(err);
            process.exit(1);
        },
    );
} else if (cmd === "summarize" && arg) {
    console.log(summarize(arg));
} else if (cmd === "allocs" && arg) {
    console.log(summarizeAllocations(arg));
} else if (require.main === module) {
    console.error("usage: profile.js run <scenario> | summarize <file.cpuprofile> | allocs <file.heapprofile> | requires ours|ibm|client");
    process.exit(2);
}
