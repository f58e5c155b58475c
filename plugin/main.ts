// Entry point of the provider plugin `pulumi-resource-ibmcloud-iam` (plugin/bin/ starts it with node): serves
// the resources and functions of plugin/resources.ts and plugin/functions.ts until the engine stops it.
// The engine passes its address as the last argument (after flags such as --logtostderr, -v=9, --tracing <url>);
// Construct reports the KmsAccess component's children to it.
import * as fs from "fs";
import * as path from "path";
import { serve } from "./server";
import { schemaJson } from "./schema";

function packageVersion(): string {
    // dist/plugin/main.js → package.json two levels up, in the repository and in an installed package.
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string };
    return pkg.version;
}

/** The first argument that is not one of the flags the engine may put before its address. */
export function engineAddress(args: readonly string[]): string | undefined {
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a === "--logtostderr" || a.startsWith("-v=")) continue;
        if (a === "--tracing") {
            i++;
            continue;
        }
        return a;
    }
    return undefined;
}

async function main(): Promise<void> {
    const version = packageVersion();
    const { port } = await serve({ version, schema: schemaJson(version), engineAddress: engineAddress(process.argv.slice(2)) });
    // The engine reads the port from the first line of stdout.
    process.stdout.write(`${port}\n`);
}

main().catch((err) => {
    process.stderr.write(`pulumi-resource-ibmcloud-iam: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
