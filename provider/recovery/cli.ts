#!/usr/bin/env node
// `npx pulumi-ibmcloud-iam recover [--stack S] [--no-up]`: the one command after a Pulumi CLI died mid-deployment
// (provider/recovery/recover.ts says what it does; docs/crash-recovery.md says when to run it).
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
    let stack: string | undefined;
    let cwd = process.cwd();
    let up = true;
    for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        if ((a === "--stack" || a === "-s") && rest[i + 1]) stack = rest[++i];
        else if (a.startsWith("--stack=")) stack = a.slice("--stack=".length);
        else if (a === "--cwd" && rest[i + 1]) cwd = rest[++i];
        else if (a === "--no-up") up = false;
        else if (a === "--help" || a === "-h") {
            process.stdout.write(`${USAGE}\n`);
            return 0;
        } else {
            process.stderr.write(`unknown argument ${JSON.stringify(a)}\n${USAGE}\n`);
            return 2;
        }
    }
    try {
        const report = await recover({ cwd, stack, up });
        return report.upExit ?? 0;
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        return 1;
    }
}

main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
});
