#!/usr/bin/env node
// `npx pulumi-ibmcloud-iam recover [--stack S] [--no-up]`: the one command after a Pulumi CLI died mid-deployment
// (provider/recovery/recover.ts says what it does; docs/crash-recovery.md says when to run it).
import { parseArgs } from "util";
import { recover } from "./recover";

const USAGE = `usage: pulumi-ibmcloud-iam recover [--stack <stack>] [--cwd <project dir>] [--no-up]

After the Pulumi CLI was killed (or crashed) during an \`up\` of this project: finds what the interrupted creates
made in IBM Cloud, puts it into the stack, and runs \`pulumi up\` (not with --no-up). Run it where you run
\`pulumi up\`, with the same credentials and PULUMI_CONFIG_PASSPHRASE.`;

async function main(argv: string[]): Promise<number> {
    const [command, ...rest] = argv;
    if (command !== "recover") {
        process.stderr.write(`${USAGE}\n`);
        return command === "--help" || command === "-h" ? 0 : 2;
    }
    let values: { stack?: string; cwd?: string; "no-up"?: boolean; help?: boolean };
    try {
        ({ values } = parseArgs({
            args: rest,
            options: { stack: { type: "string", short: "s" }, cwd: { type: "string" }, "no-up": { type: "boolean" }, help: { type: "boolean", short: "h" } },
            strict: true,
            allowPositionals: false,
        }));
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    try {
        const report = await recover({ cwd: values.cwd ?? process.cwd(), stack: values.stack, up: values["no-up"] !== true });
        return report.upExit ?? 0;
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        return 1;
    }
}

main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
});
