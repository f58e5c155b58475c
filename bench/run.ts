// `npm run bench`: our client layer measured against IBM's own SDKs on a loopback emulator. Not part
// of the test suite. Prints a table and writes bench/results/latest.json.
//
//   node dist/bench/run.js [--quick] [--only=token,iam,provisioning]
import { Results } from "./support";
import { benchTokenPath } from "./tokenPath";
import { benchIamClient } from "./iamClient";

interface Section {
    key: string;
    title: string;
    run(results: Results, quick: boolean): Promise<void>;
}

const SECTIONS: Section[] = [
    { key: "token", title: "token path", run: (r, quick) => benchTokenPath(r, { quick }) },
    { key: "iam", title: "IAM client", run: (r, quick) => benchIamClient(r, { quick }) },
];

async function main(): Promise<void> {
    const args = process.argv.slice(2);
    const quick = args.includes("--quick");
    const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
    const results = new Results();
    for (const s of SECTIONS) {
        if (only && !only.includes(s.key)) continue;
        const t0 = Date.now();
        process.stderr.write(`bench: ${s.title}…\n`);
        await s.run(results, quick);
        process.stderr.write(`bench: ${s.title} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    console.log(results.table());
    const file = results.write();
    console.log(`\nfigures written to ${file}`);
}

main().then(
    () => process.exit(0),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
