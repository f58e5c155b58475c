#!/usr/bin/env node
// `npm run emulator`: run the local IBM Cloud until SIGINT/SIGTERM.
import * as crypto from "crypto";
import * as fs from "fs";
import { parseArgs as parseArgsUtil } from "node:util";
import { startEmulator } from "./index";
import { EmulatorOptions } from "./app";
import { checkFaultRule, checkSeed, FaultConfigError, FaultRule } from "./chaos/faults";
import { isLoopbackHost } from "./core/guard";
import { KmsInstanceSpec } from "./core/state";

const USAGE = `usage: pulumi-ibmcloud-iam-emulator [--port N] [--host H [--allow-remote]] [--state-file PATH] [--token-lifetime SECONDS]
                [--policy-propagation-delay MS] [--instance service:region[:guid]]...
                [--fault SPEC]... [--faults-file PATH] [--fault-seed N]
                [--rate-limit RPS] [--rate-limit-burst N] [--save-env PATH] [--json]

A local IBM Cloud (IAM and Key Protect / HPCS) for Pulumi stacks and tests. It prints its URL, the
owner API key and each instance's CRN, and the lines to paste into your Pulumi project:

  pulumi config set ibmcloud:iamEndpoint <url>
  pulumi config set ibmcloud:kmsEndpoint <url>
  pulumi config set --secret ibmcloud:apiKey -- <owner API key>
  pulumi config set instanceCrn <the instance's CRN>

With --save-env emulator.env the same values are written to that file, so the lines can be pasted as is:

  . ./emulator.env
  pulumi config set ibmcloud:iamEndpoint "$IBMCLOUD_EMULATOR_URL"
  pulumi config set ibmcloud:kmsEndpoint "$IBMCLOUD_EMULATOR_URL"
  pulumi config set --secret ibmcloud:apiKey -- "$IBMCLOUD_EMULATOR_API_KEY"
  pulumi config set instanceCrn "$IBMCLOUD_EMULATOR_INSTANCE_CRN"

  --port N                      listen port; 0 (default) picks a free one
  --host H                      listen address (default 127.0.0.1); an address other machines can
                                reach (e.g. 0.0.0.0) also needs --allow-remote
  --allow-remote                accept a non-loopback --host: whoever reaches it can use the admin
                                routes (no token: reset, faults, service tokens) and the owner key
  --state-file PATH             keep state in PATH (loaded at start, rewritten after each change)
  --token-lifetime S            access token lifetime in seconds (default 3600)
  --policy-propagation-delay MS new policies take effect after MS milliseconds (default 0)
  --instance SPEC               KMS instance, e.g. kms:eu-de:<guid> or hs-crypto:us-south (repeatable;
                                default: one Key Protect instance, kms:us-south)
  --fault SPEC                  inject a fault on IBM paths (repeatable; rules are tried in order):
                                  '[METHOD] [PATH] KIND [p=0..1] [count=N]'
                                KIND: status=429|500|502|503|504 [retry-after=S], reset-before,
                                  reset-after, slow[=MS] (default 35000), malformed-json
                                PATH: /v1/serviceids, /v1/serviceids/* (one segment), /v1/policies/**
                                  (it and all below); default every IBM path. METHOD default: any.
                                e.g. --fault 'POST /v1/serviceids status=503 p=0.2'
                                     --fault 'POST /api/v2/keys reset-after count=1'
  --faults-file PATH            fault rules as JSON: [FaultRule...] or {"rules":[...],"seed":N}
                                (FaultRule fields: kind, method, path, probability, count, status,
                                retryAfterSeconds, delayMs)
  --fault-seed N                seed of the fault PRNG (0..4294967295; default random, printed)
  --rate-limit RPS              token bucket per caller (token's iam_id, API key, or address);
                                excess requests get 429 with Retry-After
  --rate-limit-burst N          bucket size (default RPS rounded up)
  --save-env PATH               write IBMCLOUD_EMULATOR_URL, _ACCOUNT_ID, _API_KEY, _INSTANCE_CRN and
                                _INSTANCE_ID (the first instance) to PATH as shell assignments (mode 0600,
                                removed when the emulator stops), for \`. PATH\`
  --json                        print one JSON line {"url","accountId","apiKey","instances":[{"service",
                                "region","guid","name","crn"}]} and nothing else

Faults, rate limit and counters can also be changed while running: /__emulator/faults,
/__emulator/rate-limit, /__emulator/stats (see emulator/README.md).`;

class UsageError extends Error {}

interface CliArgs {
    opts: EmulatorOptions;
    json: boolean;
    envFile?: string;
}

/** The instance the CLI starts when none is given: Key Protect, the service IBM takes new instances for. */
export const DEFAULT_INSTANCE: KmsInstanceSpec = { service: "kms", region: "us-south" };

/** The CRN of a KMS instance of the emulator's account, as IBM writes it (what `instanceCrn` takes). */
export function instanceCrn(accountId: string, i: { service: string; region: string; guid: string }): string {
    return `crn:v1:bluemix:public:${i.service}:${i.region}:a/${accountId}:${i.guid}::`;
}

/** A value quoted for a POSIX shell (single quotes; a quote inside is closed, escaped and reopened). */
function shellQuote(v: string): string {
    return `'${v.replace(/'/g, `'\\''`)}'`;
}

function parseInstance(spec: string): KmsInstanceSpec {
    const [service, region, guid, ...rest] = spec.split(":");
    if ((service !== "hs-crypto" && service !== "kms") || rest.length > 0) {
        throw new UsageError(`--instance ${spec}: expected service:region[:guid] with service hs-crypto or kms`);
    }
    const out: KmsInstanceSpec = { service };
    if (region) out.region = region;
    if (guid) out.guid = guid;
    return out;
}

const KIND_WORDS = ["reset-before", "reset-after", "slow", "malformed-json"];
const METHOD_WORDS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** `--fault '[METHOD] [PATH] KIND [p=..] [count=..]'` → a checked rule; errors quote the flag. */
export function parseFault(spec: string): FaultRule {
    const fail = (m: string): never => {
        throw new UsageError(`--fault '${spec}': ${m}`);
    };
    const rule: Record<string, unknown> = {};
    const setKind = (k: string) => {
        if (rule.kind !== undefined) fail(`two kinds (${String(rule.kind)} and ${k}); use one --fault per rule`);
        rule.kind = k;
    };
    const num = (v: string) => (v.trim() === "" ? NaN : Number(v));
    for (const word of spec.trim().split(/\s+/).filter(Boolean)) {
        const eq = word.indexOf("=");
        const key = eq < 0 ? word : word.slice(0, eq);
        const val = eq < 0 ? undefined : word.slice(eq + 1);
        if (val === undefined && (METHOD_WORDS.includes(word.toUpperCase()) || (word === "*" && rule.method === undefined))) {
            if (rule.method !== undefined || rule.path !== undefined) fail(`method ${word} must come first, once`);
            rule.method = word.toUpperCase();
        } else if (val === undefined && (word.startsWith("/") || word === "*")) {
            if (rule.path !== undefined) fail(`two paths (${String(rule.path)} and ${word})`);
            rule.path = word;
        } else if (val === undefined && KIND_WORDS.includes(word)) {
            setKind(word);
        } else if (key === "status" && val !== undefined) {
            setKind("status");
            rule.status = num(val);
        } else if (key === "slow" && val !== undefined) {
            setKind("slow");
            rule.delayMs = num(val);
        } else if ((key === "p" || key === "probability") && val !== undefined) {
            rule.probability = num(val);
        } else if (key === "count" && val !== undefined) {
            rule.count = num(val);
        } else if ((key === "retry-after" || key === "retryAfterSeconds") && val !== undefined) {
            rule.retryAfterSeconds = num(val);
        } else if ((key === "delay" || key === "delayMs") && val !== undefined) {
            rule.delayMs = num(val);
        } else {
            fail(
                `'${word}' is not understood: expected [METHOD] [PATH] KIND [p=0..1] [count=N] with KIND status=CODE, reset-before, reset-after, slow[=MS] or malformed-json`,
            );
        }
    }
    if (rule.kind === undefined) fail("no kind: add status=CODE, reset-before, reset-after, slow[=MS] or malformed-json");
    try {
        return checkFaultRule(rule, "");
    } catch (e) {
        if (e instanceof FaultConfigError) fail(e.message.replace(/^\./, ""));
        throw e;
    }
}

/** `--faults-file`: a JSON array of rules, or `{rules, seed}`. */
function readFaultsFile(file: string): { rules: FaultRule[]; seed?: number } {
    const fail = (m: string): never => {
        throw new UsageError(`--faults-file ${file}: ${m}`);
    };
    let parsed: unknown;
    try {
        parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        fail(e instanceof SyntaxError ? `not valid JSON (${e.message})` : `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    const obj = Array.isArray(parsed) ? { rules: parsed } : (parsed as Record<string, unknown>);
    if (!obj || typeof obj !== "object" || !Array.isArray(obj.rules)) fail('expected [rule, ...] or {"rules": [...], "seed": N}');
    try {
        for (const k of Object.keys(obj)) if (k !== "rules" && k !== "seed") throw new FaultConfigError(`${k} is not a field (fields: rules, seed)`);
        const rules = (obj.rules as unknown[]).map((r, i) => checkFaultRule(r, `rules[${i}]`));
        return { rules, seed: obj.seed === undefined ? undefined : checkSeed(obj.seed, "seed") };
    } catch (e) {
        if (e instanceof FaultConfigError) fail(e.message);
        throw e;
    }
}

function positiveNumber(flag: string, v: string): number {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a number greater than 0`);
    return n;
}

function nonNegativeInt(flag: string, v: string | undefined): number {
    if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`${flag} needs a non-negative integer`);
    return Number(v);
}

/** Flags and whether they take a value; node:util's parseArgs splits the words (`--flag v`, `--flag=v`). */
const FLAGS = {
    port: { type: "string" },
    host: { type: "string" },
    "allow-remote": { type: "boolean" },
    "state-file": { type: "string" },
    "token-lifetime": { type: "string" },
    "policy-propagation-delay": { type: "string" },
    instance: { type: "string", multiple: true },
    fault: { type: "string", multiple: true },
    "faults-file": { type: "string", multiple: true },
    "fault-seed": { type: "string" },
    "rate-limit": { type: "string" },
    "rate-limit-burst": { type: "string" },
    "save-env": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
} as const;

export function parseArgs(argv: string[]): CliArgs {
    // strict: false so that a value may start with "-" (`--fault-seed -1` is then refused by its own check, naming
    // the flag) and unknown flags reach the usage message below; tokens keep --fault and --faults-file in order.
    const { tokens } = parseArgsUtil({ args: argv, options: FLAGS, strict: false, allowPositionals: true, tokens: true });
    const opts: EmulatorOptions = {};
    const instances: KmsInstanceSpec[] = [];
    const faults: FaultRule[] = [];
    let fileSeed: number | undefined;
    let burst: number | undefined;
    let json = false;
    let envFile: string | undefined;
    for (const t of tokens) {
        if (t.kind === "positional") throw new UsageError(`unknown argument ${t.value}`);
        if (t.kind !== "option") continue;
        const flag = t.rawName;
        const known = (FLAGS as Record<string, { type: string }>)[t.name];
        if (!known) throw new UsageError(`unknown argument ${argv[t.index]}`);
        const value = (): string => {
            if (t.value === undefined) throw new UsageError(`${flag} needs a value`);
            return t.value;
        };
        switch (t.name) {
            case "port":
                opts.port = nonNegativeInt(flag, value());
                if (opts.port > 65535) throw new UsageError("--port must be at most 65535");
                break;
            case "host":
                opts.host = value();
                break;
            case "allow-remote":
                opts.allowRemote = true;
                break;
            case "state-file":
                opts.stateFile = value();
                break;
            case "token-lifetime":
                opts.tokenLifetimeSeconds = nonNegativeInt(flag, value());
                if (opts.tokenLifetimeSeconds < 1) throw new UsageError("--token-lifetime must be at least 1 second");
                break;
            case "policy-propagation-delay":
                opts.policyPropagationDelayMs = nonNegativeInt(flag, value());
                break;
            case "instance":
                instances.push(parseInstance(value()));
                break;
            case "fault":
                faults.push(parseFault(value()));
                break;
            case "faults-file": {
                const f = readFaultsFile(value());
                faults.push(...f.rules);
                if (f.seed !== undefined) fileSeed = f.seed;
                break;
            }
            case "fault-seed":
                opts.faultSeed = nonNegativeInt(flag, value());
                if (opts.faultSeed > 4294967295) throw new UsageError("--fault-seed must be at most 4294967295");
                break;
            case "rate-limit":
                opts.rateLimit = { requestsPerSecond: positiveNumber(flag, value()) };
                break;
            case "rate-limit-burst":
                burst = nonNegativeInt(flag, value());
                if (burst < 1) throw new UsageError("--rate-limit-burst must be at least 1");
                break;
            case "save-env":
                envFile = value();
                break;
            case "json":
                json = true;
                break;
            case "help":
                throw new UsageError("");
        }
    }
    if (instances.length > 0) opts.instances = instances;
    if (faults.length > 0) {
        opts.faults = faults;
        // chosen here when not given, so the summary can print it for a replay
        opts.faultSeed ??= fileSeed ?? crypto.randomInt(0, 4294967295);
    } else if (fileSeed !== undefined) {
        opts.faultSeed ??= fileSeed;
    }
    if (opts.host !== undefined && !isLoopbackHost(opts.host) && !opts.allowRemote) {
        throw new UsageError(
            `--host ${opts.host} is not a loopback address: other machines could reach the admin routes (no token: reset the account, inject faults, mint service tokens) and use the owner API key; add --allow-remote to accept that`,
        );
    }
    if (burst !== undefined) {
        if (!opts.rateLimit) throw new UsageError("--rate-limit-burst needs --rate-limit");
        opts.rateLimit.burst = burst;
    }
    return { opts, json, ...(envFile !== undefined ? { envFile } : {}) };
}

async function main(): Promise<void> {
    let args: CliArgs;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        if (e instanceof UsageError) {
            // --help: the usage on stdout, exit 0; a mistake: the message and the usage on stderr, exit 2
            if (!e.message) {
                process.stdout.write(USAGE + "\n");
                process.exit(0);
            }
            process.stderr.write(`emulator: ${e.message}\n${USAGE}\n`);
            process.exit(2);
        }
        throw e;
    }
    // The CLI's default is Key Protect (startEmulator's stays HPCS for the tests and stacks written before).
    const emu = await startEmulator({ ...args.opts, instances: args.opts.instances ?? [{ ...DEFAULT_INSTANCE }] });
    const instances = emu.instances.map((i) => ({ service: i.service, region: i.region, guid: i.guid, name: i.name, crn: instanceCrn(emu.accountId, i) }));
    const first = instances[0];
    if (args.envFile) writeEnvFile(args.envFile, emu.url, emu.accountId, emu.apiKey, first);
    if (args.opts.host !== undefined && !isLoopbackHost(args.opts.host)) {
        process.stderr.write(
            `emulator: WARNING listening on ${args.opts.host} (--allow-remote): anyone who can reach ${emu.url} can reset this account, inject faults and mint service tokens through /__emulator/ without a token, and use the owner API key\n`,
        );
    }
    let stopping = false;
    const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        if (!args.json) process.stderr.write(`emulator: ${signal}, stopping\n`);
        if (args.envFile) fs.rmSync(args.envFile, { force: true });
        emu.stop().then(
            () => process.exit(0),
            () => process.exit(1),
        );
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));

    if (args.json) {
        // machine-readable: exactly one line on stdout, nothing else ever
        process.stdout.write(JSON.stringify({ url: emu.url, accountId: emu.accountId, apiKey: emu.apiKey, instances }) + "\n");
        return;
    }
    const lines = [
        `IBM Cloud emulator listening on ${emu.url}`,
        `  account id     ${emu.accountId}`,
        `  owner API key  ${emu.apiKey}`,
        `  instances`,
        ...instances.flatMap((i) => [`    ${i.service.padEnd(9)} ${i.region.padEnd(9)} ${i.guid}  (${i.name})`, `      ${i.crn}`]),
        args.opts.stateFile ? `  state file     ${args.opts.stateFile}` : `  state          in memory (use --state-file to keep it)`,
        ...(args.envFile ? [`  env file       ${args.envFile} (for \`. ${args.envFile}\`; removed on stop)`] : []),
        ...(args.opts.faults
            ? [`  faults         ${args.opts.faults.length} rule(s), seed ${args.opts.faultSeed} (replay: --fault-seed ${args.opts.faultSeed})`]
            : []),
        ...(args.opts.rateLimit
            ? [
                  `  rate limit     ${args.opts.rateLimit.requestsPerSecond} requests/s per caller, burst ${args.opts.rateLimit.burst ?? Math.max(1, Math.ceil(args.opts.rateLimit.requestsPerSecond))}`,
              ]
            : []),
        ``,
        `Point a Pulumi stack at it (run these in your project):`,
        `  pulumi config set ibmcloud:iamEndpoint ${emu.url}`,
        `  pulumi config set ibmcloud:kmsEndpoint ${emu.url}`,
        `  pulumi config set --secret ibmcloud:apiKey -- ${shellQuote(emu.apiKey)}`,
        ...(first ? [`  pulumi config set instanceCrn ${first.crn}`] : []),
        ``,
        `Point other clients (IBM's SDKs, the ibmcloud CLI, pulumi-ibmcloud-iam/client) at it:`,
        `  export IBMCLOUD_IAM_API_ENDPOINT=${emu.url}`,
        `  export IBMCLOUD_KP_API_ENDPOINT=${emu.url}`,
        `  export IBMCLOUD_HPCS_API_ENDPOINT=${emu.url}`,
        `  export IC_API_KEY=${shellQuote(emu.apiKey)}`,
        ``,
        `Inspect: curl ${emu.url}/__emulator/state  (faults: /__emulator/faults, counters: /__emulator/stats)    Stop: Ctrl-C`,
    ];
    process.stdout.write(lines.join("\n") + "\n");
}

/** `--save-env`: the values a stack needs, as shell assignments (the owner key is in it: mode 0600). */
function writeEnvFile(file: string, url: string, accountId: string, apiKey: string, first: { crn: string; guid: string } | undefined): void {
    const vars: Array<[string, string]> = [
        ["IBMCLOUD_EMULATOR_URL", url],
        ["IBMCLOUD_EMULATOR_ACCOUNT_ID", accountId],
        ["IBMCLOUD_EMULATOR_API_KEY", apiKey],
        ...(first
            ? ([
                  ["IBMCLOUD_EMULATOR_INSTANCE_CRN", first.crn],
                  ["IBMCLOUD_EMULATOR_INSTANCE_ID", first.guid],
              ] as Array<[string, string]>)
            : []),
    ];
    const text = `# Written by pulumi-ibmcloud-iam-emulator (removed when it stops). Use: . ${file}\n${vars.map(([k, v]) => `${k}=${shellQuote(v)}`).join("\n")}\n`;
    fs.writeFileSync(file, text, { mode: 0o600 });
    fs.chmodSync(file, 0o600);
}

if (require.main === module) {
    main().catch((e) => {
        process.stderr.write(`emulator: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
    });
}
