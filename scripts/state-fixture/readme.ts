// The README.md of a state fixture: what the folder holds, what it contains (resources by type, the modules its
// providers name), how it was made. Written from the run's facts; the writer checks them before.
import { ACCOUNT_ID, INSTANCE_CRN, INSTANCE_GUID, OWNER_API_KEY, PASSPHRASE, PROJECT, REGION, STACK } from "./inputs";

export interface CheckpointResource {
    urn: string;
    type: string;
    id?: string;
    parent?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** The URN's last segment: the resource's name. */
const nameOf = (urn: string) => urn.split("::").pop() as string;

export interface ReadmeFacts {
    name: string;
    manifest: { writtenBy: Record<string, unknown> & { installed: Record<string, string> }; emulatorUrl: string };
    resources: CheckpointResource[];
    /** The package modules the providers in state name. */
    modules: string[];
    /** Each dynamic resource's serialized provider, in characters. */
    providerSizes: number[];
    /** How many secret values the checkpoint was checked against (the owner key included). */
    secretCount: number;
    /** The files of program/. */
    programFiles: string[];
}

export function fixtureReadme({ name, manifest, resources, modules, providerSizes, secretCount, programFiles }: ReadmeFacts): string {
    const w = manifest.writtenBy;
    const byType = new Map<string, string[]>();
    for (const r of resources) byType.set(r.type, [...(byType.get(r.type) ?? []), nameOf(r.urn)]);
    // sorted: the engine registers resources in parallel, so the checkpoint's order may differ between runs
    const rows = [...byType.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(
            ([type, names]) =>
                `| \`${type}\` | ${names.length} | ${names
                    .sort()
                    .map((n) => `\`${n}\``)
                    .join(", ")} |`,
        );
    const kib = (n: number) => (n / 1024).toFixed(1);
    const sizes = [kib(Math.min(...providerSizes)), kib(Math.max(...providerSizes))];
    const sizeText = sizes[0] === sizes[1] ? `${sizes[0]} KiB` : `${sizes[0]}–${sizes[1]} KiB`;
    return `# State fixture ${name}

A Pulumi checkpoint written by pulumi-ibmcloud-iam **${w.version}** at **${String(w.commit).slice(0, 7)}**${w.dirty ? " (with uncommitted changes)" : ""}
as users write state: the checkout \`npm pack\`ed and installed into a fresh project outside the repository,
so every provider in state is what an INSTALLED package writes. With the emulator state it belongs to.
\`test/e2e/stateFixtures.test.ts\` imports it and runs \`pulumi refresh --expect-no-changes\` and
\`pulumi destroy\` with the code of the checkout, through the real engine.

Written ${w.date} by \`scripts/write-state-fixture.ts\` from \`scripts/state-fixture/program/\` with Pulumi CLI ${w.pulumiCli}, Node ${w.node}; installed:
${Object.entries(manifest.writtenBy.installed)
    .map(([p, v]) => `\`${p}@${v}\``)
    .join(", ")}.

| file | what |
|---|---|
| \`checkpoint.json\` | \`pulumi stack export\` (no \`--show-secrets\`: secrets are ciphertext) of stack \`${STACK}\`, project \`${PROJECT}\` |
| \`Pulumi.${STACK}.yaml\` | the stack's config file: passphrase salt, encrypted \`ibmcloud:apiKey\`, the endpoints, the instance |
| \`emulator-state.json\` | the emulator's state file after the \`up\` (stopped with SIGTERM) |
| \`fixture.json\` | manifest the test reads: project, stack, passphrase, the emulator URL of the run, file names, \`writtenBy\` |
| \`program/\` | ${programFiles.map((f) => `\`${f}\``).join(", ")}: the project that ran \`up\` (\`index.ts\` is the program; refresh and destroy do not run it) |

## What it contains
${resources.length} resources, every resource type the package exports, with non-default options (see
\`program/index.ts\`), on one Key Protect instance \`${INSTANCE_GUID}\` in ${REGION} given by its CRN
\`${INSTANCE_CRN}\`:

| type | count | names |
|---|---|---|
${rows.join("\n")}

Providers in state name ${modules.map((m) => `\`${m}\``).join(", ")}
(\`__provider\` ${sizeText} each). No secret is in the checkpoint or the
config in plaintext (checked against the owner key and the ${secretCount - 1} other decrypted secret values of the stack),
nor an API key value anywhere in this folder.

Test values, not secrets: the stack passphrase \`${PASSPHRASE}\`; the emulator's owner API key
\`${OWNER_API_KEY}\` and account \`${ACCOUNT_ID}\` (fixed by \`program/start-emulator.js\`). The emulator
state file holds that owner key, an emulator-only RSA signing key and hashes of the API keys, as every emulator
state file does; it gives access to nothing but an emulator started on it.

The emulator listened on \`${manifest.emulatorUrl}\` (\`fixture.json\` \`emulatorUrl\`): that URL is in the
checkpoint (KMS endpoints) and in the config; the test replaces it with its own emulator's URL.

## How it was made
From a clean checkout of ${String(w.commit).slice(0, 7)}:

\`\`\`sh
npm ci --no-audit --no-fund
npm run state-fixture -- ${name}      # = npm run build && scripts/ensure-pulumi.sh && node build/scripts/write-state-fixture.js ${name}
\`\`\`

It packs the checkout, installs the tarball with \`@pulumi/pulumi\` of the repository, \`typescript\` and
\`@types/node\` into a project under \`os.tmpdir()\`, starts the installed emulator (\`start-emulator.js\`),
runs \`pulumi stack init ${STACK}\`, sets the config and \`pulumi up\` with a file backend, exports the stack,
checks it and writes this folder; it removes its temp dir and every process it started. Never edit a
committed fixture: it is what users' state looks like.
`;
}
