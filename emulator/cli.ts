// `npm run emulator`: run the local IBM Cloud until SIGINT/SIGTERM.
import { startEmulator } from "./index";
import { EmulatorOptions } from "./app";
import { KmsInstanceSpec } from "./state";

const USAGE = `usage: emulator [--port N] [--host H] [--state-file PATH] [--token-lifetime SECONDS]
                [--policy-propagation-delay MS] [--instance service:region[:guid]]... [--json]

  --port N                      listen port; 0 (default) picks a free one
  --host H                      listen address (default 127.0.0.1)
  --state-file PATH             keep state in PATH (loaded at start, rewritten after each change)
  --token-lifetime S            access token lifetime in seconds (default 3600)
  --policy-propagation-delay MS new policies take effect after MS milliseconds (default 0)
  --instance SPEC               KMS instance, e.g. hs-crypto:us-south or kms:eu-de:<guid> (repeatable;
                                default: one hs-crypto instance in us-south)
  --json                        print one JSON line {"url","accountId","apiKey"} and nothing else`;

class UsageError extends Error {}

interface CliArgs {
    opts: EmulatorOptions;
    json: boolean;
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

function nonNegativeInt(flag: string, v: string | undefined): number {
    if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`${flag} needs a non-negative integer`);
    return Number(v);
}

export function parseArgs(argv: string[]): CliArgs {
    const opts: EmulatorOptions = {};
    const instances: KmsInstanceSpec[] = [];
    let json = false;
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].startsWith("--") && argv[i].includes("=") ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
        const value = () => {
            if (inline !== undefined) return inline;
            const v = argv[++i];
            if (v === undefined) throw new UsageError(`${flag} needs a value`);
            return v;
        };
        switch (flag) {
            case "--port":
                opts.port = nonNegativeInt(flag, value());
                if (opts.port > 65535) throw new UsageError("--port must be at most 65535");
                break;
            case "--host":
                opts.host = value();
                break;
            case "--state-file":
                opts.stateFile = value();
                break;
            case "--token-lifetime":
                opts.tokenLifetimeSeconds = nonNegativeInt(flag, value());
                if (opts.tokenLifetimeSeconds < 1) throw new UsageError("--token-lifetime must be at least 1 second");
                break;
            case "--policy-propagation-delay":
                opts.policyPropagationDelayMs = nonNegativeInt(flag, value());
                break;
            case "--instance":
                instances.push(parseInstance(value()));
                break;
            case "--json":
                json = true;
                break;
            case "--help":
            case "-h":
                throw new UsageError("");
            default:
                throw new UsageError(`unknown argument ${argv[i]}`);
        }
    }
    if (instances.length > 0) opts.instances = instances;
    return { opts, json };
}

async function main(): Promise<void> {
    let args: CliArgs;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        if (e instanceof UsageError) {
            if (e.message) process.stderr.write(`emulator: ${e.message}\n`);
            process.stderr.write(USAGE + "\n");
            process.exit(e.message ? 2 : 0);
        }
        throw e;
    }
    const emu = await startEmulator(args.opts);
    let stopping = false;
    const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        if (!args.json) process.stderr.write(`emulator: ${signal}, stopping\n`);
        emu.stop().then(
            () => process.exit(0),
            () => process.exit(1),
        );
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));

    if (args.json) {
        // machine-readable: exactly one line on stdout, nothing else ever
        process.stdout.write(JSON.stringify({ url: emu.url, accountId: emu.accountId, apiKey: emu.apiKey }) + "\n");
        return;
    }
    const lines = [
        `IBM Cloud emulator listening on ${emu.url}`,
        `  account id     ${emu.accountId}`,
        `  owner API key  ${emu.apiKey}`,
        `  instances`,
        ...emu.instances.map((i) => `    ${i.service.padEnd(9)} ${i.region.padEnd(9)} ${i.guid}  (${i.name})`),
        args.opts.stateFile ? `  state file     ${args.opts.stateFile}` : `  state          in memory (use --state-file to keep it)`,
        ``,
        `Point clients at it:`,
        `  export IBMCLOUD_IAM_API_ENDPOINT=${emu.url}`,
        `  export IBMCLOUD_HPCS_API_ENDPOINT=${emu.url}`,
        `  export IBMCLOUD_KP_API_ENDPOINT=${emu.url}`,
        `  export IC_API_KEY=${emu.apiKey}`,
        ``,
        `Inspect: curl ${emu.url}/__emulator/state    Stop: Ctrl-C`,
    ];
    process.stdout.write(lines.join("\n") + "\n");
}

if (require.main === module) {
    main().catch((e) => {
        process.stderr.write(`emulator: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
    });
}
