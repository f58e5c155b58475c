// Entry point of the provider plugin `pulumi-resource-ibmcloud-iam` (plugin/bin/ starts it with node): serves
// the resources and functions of plugin/resources.ts and plugin/functions.ts until the engine stops it.
// The engine passes its address as the last argument; this plugin never calls back (it constructs no
// components), so it only needs to print its port.
import * as fs from "fs";
import * as path from "path";
import { serve } from "./server";
import { schemaJson } from "./schema";

function packageVersion(): string {
    // dist/plugin/main.js → package.json two levels up, in the repository and in an installed package.
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string };
    return pkg.version;
}

async function main(): Promise<void> {
    const version = packageVersion();
    const { port } = await serve({ version, schema: schemaJson(version) });
    // The engine reads the port from the first line of stdout.
    process.stdout.write(`${port}\n`);
}

main().catch((err) => {
    process.stderr.write(`pulumi-resource-ibmcloud-iam: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
