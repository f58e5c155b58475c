// `npm run bench`: our client layer measured against IBM's own SDKs on a loopback emulator. Not part
// of the test suite. Prints a table and writes bench/results/latest.json.
//
//   node build/bench/run.js [--quick] [--only=token,iam,kms,provisioning] [--scale=100,500] [--rounds=N] [--rate-limit-triples=50]
//
// --quick: fewer rounds (a smoke run; its ratios are not worth quoting). --scale: triples per stack in
// the provisioning section (default 100,500; 10 with --quick). --rate-limit-triples: triples deployed and destroyed under
// the emulator's 20 requests/s limit (default 50, 20 with --quick; 0 skips that run). --rounds: rounds per
// provisioning size (default 2 at 100 triples, 1 at 500).
import { Results } from "./support";
import { benchTokenPath } from "./tokenPath";
import { benchIamClient } from "./iamClient";
import { benchProvisioning } from "./provisioning";
import { benchKms } from "./kms";

interface Section {
    key: string;
    title: string;
    run(results: Results, quick: boolean, args: string[]): Promise<void>;
}

function scaleOf(args: string[], quick: boolean): number[] {
    const v = args.find((a) => a.startsWith("--scale="))?.slice("--scale=".length);
    const sizes = (v ?? (quick ? "10" : "100,500"))
        .split(",")
        .map(Number)
        .filter((x) => Number.isInteger(x) && x > 0);
    if (sizes.length === 0) throw new Error(`--scale wants positive integers, e.g. --scale=10,100,500`);
    return sizes;
}

function rateLimitTriplesOf(args: string[]): number | undefined {
    const v = args.find((a) => a.startsWith("--rate-limit-triples="))?.slice("--rate-limit-triples=".length);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--rate-limit-triples wants a whole number (0 skips the run), e.g. --rate-limit-triples=50`);
    return n;
}

function roundsOf(args: string[]): number | undefined {
    const v = args.find((a) => a.startsWith("--rounds="))?.slice("--rounds=".length);
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
    const args = process.argv.slice(2);
    const known = ["--quick", "--only=", "--scale=", "--rounds=", "--rate-limit-triples="];
    const unknown = args.filter((a) => !known.some((k) => (k.endsWith("=") ? a.startsWith(k) : a === k)));
    if (unknown.length > 0) {
        // A typo must not start a 35-minute run with the defaults.
        console.error(`bench: unknown argument(s) ${unknown.join(" ")}; the usage is at the top of bench/run.ts:`);
        console.error("  node build/bench/run.js [--quick] [--only=token,iam,kms,provisioning] [--scale=100,500] [--rounds=N] [--rate-limit-triples=50]");
        process.exit(2);
    }
    const quick = args.includes("--quick");
    const only = args
        .find((a) => a.startsWith("--only="))
        ?.slice("--only=".length)
        .split(",");
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
