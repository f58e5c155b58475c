// `npm run bench`: our client layer measured against IBM's own SDKs on a loopback emulator. Not part
// of the test suite. Prints a table and writes bench/results/latest.json.
//
//   node build/bench/run.js [--help] [--quick] [--only=token,iam,kms,provisioning] [--scale=100,500] [--rounds=N] [--rate-limit-triples=50]
//
// --quick: fewer rounds (a smoke run; its ratios are not worth quoting). --scale: triples per stack in
// the provisioning section (default 100,500; 10 with --quick). --rate-limit-triples: triples deployed and destroyed under
// the emulator's 20 requests/s limit (default 50, 20 with --quick; 0 skips that run). --rounds: rounds per
// provisioning size (default 2 at 100 triples, 1 at 500).
import { parseArgs } from "util";
import { Results } from "./support";
import { benchTokenPath } from "./tokenPath";
import { benchIamClient } from "./iamClient";
import { benchProvisioning } from "./provisioning";
import { benchKms } from "./kms";

interface Section {
    key: string;
    title: string;
    run(results: Results, quick: boolean, args: BenchArgs): Promise<void>;
}

/** The command line, as `parseArgs` reads it (`--scale=10,100` and `--scale 10,100` alike). */
interface BenchArgs {
    help?: boolean;
    quick?: boolean;
    only?: string;
    scale?: string;
    rounds?: string;
    "rate-limit-triples"?: string;
}

const USAGE = "  node build/bench/run.js [--help] [--quick] [--only=token,iam,kms,provisioning] [--scale=100,500] [--rounds=N] [--rate-limit-triples=50]";

const HELP = `npm run bench: this package against IBM's SDKs and against Pulumi's floor, on the local emulator; ratios in one run.
${USAGE}

  --only=provisioning --scale=100 --rate-limit-triples=0   the provisioning rows at 100 triples only: the dynamic
      resources, the provider plugin (pulumi-resource-ibmcloud-iam) and the no-op dynamic floor, interleaved in one
      run, with the plugin's start (launcher to its port, vs a bare node) and peak RSS. Needs Node 24 under
      .tools/node and the pulumi CLI in .tools/bin (bench/README.md, "Reproduce").
  --scale=100,500   also 500 triples (1 round by default; about 40 min on a busy 2-core machine).

Columns: ours = this package (for "through the provider plugin" rows: the plugin); IBM* = IBM's SDK or the peer the
metric names in parentheses (e.g. the no-op dynamic resources); ours/IBM* = the median of the per-round ratios,
arrow = which way is better; target / met = the issue's goal for that ratio. Full notes are printed below the table
and written to bench/results/latest.json; bench/README.md explains each section and keeps past runs.`;

function scaleOf(args: BenchArgs, quick: boolean): number[] {
    const v = args.scale;
    const sizes = (v ?? (quick ? "10" : "100,500"))
        .split(",")
        .map(Number)
        .filter((x) => Number.isInteger(x) && x > 0);
    if (sizes.length === 0) throw new Error(`--scale wants positive integers, e.g. --scale=10,100,500`);
    return sizes;
}

function rateLimitTriplesOf(args: BenchArgs): number | undefined {
    const v = args["rate-limit-triples"];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--rate-limit-triples wants a whole number (0 skips the run), e.g. --rate-limit-triples=50`);
    return n;
}

function roundsOf(args: BenchArgs): number | undefined {
    const v = args.rounds;
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds wants a positive whole number, e.g. --rounds=3`);
    return n;
}

const SECTIONS: Section[] = [
    { key: "token", title: "token path", run: (r, quick) => benchTokenPath(r, { quick }) },
    { key: "iam", title: "IAM client", run: (r, quick) => benchIamClient(r, { quick }) },
    { key: "kms", title: "KMS", run: (r, quick) => benchKms(r, { quick }) },
    {
        key: "provisioning",
        title: "provisioning",
        run: (r, quick, args) =>
            benchProvisioning(r, { quick, sizes: scaleOf(args, quick), rateLimitTriples: rateLimitTriplesOf(args), rounds: roundsOf(args) }),
    },
];

async function main(): Promise<void> {
    let args: BenchArgs;
    try {
        args = parseArgs({
            args: process.argv.slice(2),
            options: {
                help: { type: "boolean", short: "h" },
                quick: { type: "boolean" },
                only: { type: "string" },
                scale: { type: "string" },
                rounds: { type: "string" },
                "rate-limit-triples": { type: "string" },
            },
            strict: true,
            allowPositionals: false,
        }).values;
    } catch (err) {
        // A typo must not start a 35-minute run with the defaults.
        console.error(`bench: ${(err as Error).message}; the usage (--help for more):`);
        console.error(USAGE);
        process.exit(2);
    }
    if (args.help) {
        console.log(HELP);
        return;
    }
    const quick = args.quick === true;
    const only = args.only?.split(",");
    const results = new Results();
    let failed = false;
    for (const s of SECTIONS) {
        if (only && !only.includes(s.key)) continue;
        const t0 = Date.now();
        process.stderr.write(`bench: ${s.title}…\n`);
        try {
            await s.run(results, quick, args);
            process.stderr.write(`bench: ${s.title} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
        } catch (err) {
            // Keep the figures of the other sections; the run still fails at the end.
            failed = true;
            console.error(err);
            results.skip(s.title, `failed: ${(err as Error)?.message?.split("\n")[0] ?? String(err)}`);
        }
    }
    console.log(results.table());
    const file = results.write();
    console.log(`\nfigures written to ${file}`);
    if (failed) process.exitCode = 1;
}

main().then(
    () => process.exit(process.exitCode ?? 0),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
