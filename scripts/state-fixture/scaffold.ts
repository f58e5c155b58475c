// The files the writer adds beside the program in the temp project (and keeps in the fixture's program/): the
// compiler settings of a user's TypeScript project, and a starter for the INSTALLED package's emulator with the
// fixture's fixed owner key, account and instance (its CLI has no flag for the owner key).
import { ACCOUNT_ID, INSTANCE_GUID, OWNER_API_KEY, REGION } from "./inputs";

export const TSCONFIG = `${JSON.stringify({ compilerOptions: { strict: true, target: "ES2022", module: "commonjs", moduleResolution: "node", skipLibCheck: true } }, null, 2)}\n`;

export const START_EMULATOR = `// Starts the emulator of the INSTALLED package (pulumi-ibmcloud-iam/emulator, run from the project) with a
// state file, a fixed test owner key and account, and one Key Protect instance: the emulator's CLI
// (node_modules/.bin/pulumi-ibmcloud-iam-emulator) has no flag for the owner key. Prints {"url","accountId"}
// and stops cleanly (state written) on SIGTERM/SIGINT.
//   node start-emulator.js <state file>
"use strict";
const { startEmulator } = require("pulumi-ibmcloud-iam/emulator");
(async () => {
    const emu = await startEmulator({
        stateFile: process.argv[2],
        ownerApiKey: ${JSON.stringify(OWNER_API_KEY)},
        accountId: ${JSON.stringify(ACCOUNT_ID)},
        instances: [{ service: "kms", region: ${JSON.stringify(REGION)}, guid: ${JSON.stringify(INSTANCE_GUID)} }],
    });
    process.stdout.write(JSON.stringify({ url: emu.url, accountId: emu.accountId }) + "\\n");
    const stop = () => emu.stop().then(() => process.exit(0), () => process.exit(1));
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
})().catch((e) => {
    process.stderr.write("start-emulator: " + (e && e.message ? e.message : String(e)) + "\\n");
    process.exit(1);
});
`;
