// An application using the producer stack's root key at run time (envelope encryption), as a plain Node
// program: no Pulumi, only `pulumi-ibmcloud-iam/client` (which never loads @pulumi/pulumi).
//
//   node build/examples/kms-app/index.js encrypt --file msg.json --message "hello"
//   node build/examples/kms-app/index.js decrypt --file msg.json
//   node build/examples/kms-app/index.js rewrap  --file msg.json [--file other.json …]
//   node build/examples/kms-app/index.js status  --file msg.json [--file other.json …]
//
// Where it finds its identity and key: `--from-stack <project dir> [--stack <name>]` runs
// `pulumi stack output --json --show-secrets` there (outputs apiKey, instanceId, kmsEndpoint, rootKeyId
// of examples/hpcs-identity); otherwise the environment: KMS_APP_API_KEY (the service ID's key),
// KMS_APP_INSTANCE_ID, KMS_APP_ENDPOINT, KMS_APP_KEY_ID. IAM: IBMCLOUD_IAM_API_ENDPOINT, else public IAM.
//
// encrypt: Key Protect generates a 256-bit data key and returns it in the clear and wrapped by the root
//   key (wrap without plaintext); the message is encrypted locally with AES-256-GCM under it (a fresh
//   96-bit nonce); the file keeps the wrapped data key, the sealed message and the context (AAD of both).
// decrypt: unwraps the data key (any version of the root key: a rotation does not break old files) and
//   opens the message; says when a newer root key version exists.
// status: after a rotation, says for each file which root key version wrapped its data key (KMS reports it on
//   unwrap) and whether that is the newest (the key's versions list, newest first): one line per file.
// rewrap: for each file whose data key is on an older version, has KMS wrap the same data key with the newest
//   version and rewrites the file; a file already on the newest version is left as it is.
// Prints one JSON line per command on stdout; exit 3 when KMS refuses the identity (no policy), 1 on
// other errors. Never prints a key, a data key or a token.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as client from "pulumi-ibmcloud-iam/client";
import { parseArgs } from "util";

interface AppSettings {
    apiKey: string;
    instanceId: string;
    endpoint: string;
    keyId: string;
}

/** The file an encrypt writes. */
interface EnvelopeFile {
    format: "kms-app/1";
    keyId: string;
    /** The root key version that wrapped `wrappedDataKey`. */
    keyVersion: string;
    /** base64 of the data key wrapped by the root key (KMS ciphertext). */
    wrappedDataKey: string;
    /** base64 of nonce | AES-256-GCM ciphertext | tag. */
    sealed: string;
    /** Authenticated with the message and with the wrapped data key: the same context is needed to decrypt. */
    context: string;
}

const USAGE =
    "usage: kms-app <encrypt|decrypt|rewrap|status> --file <envelope.json> [--file …] [--message <text>] [--context <aad>] [--from-stack <dir> [--stack <name>]]";

function parseCommandLine() {
    try {
        return parseArgs({
            args: process.argv.slice(2),
            allowPositionals: true,
            strict: true,
            options: {
                file: { type: "string", multiple: true, default: [] },
                message: { type: "string" },
                context: { type: "string" },
                "from-stack": { type: "string" },
                stack: { type: "string" },
            },
        });
    } catch (err) {
        throw new Error(`${(err as Error).message}\n${USAGE}`);
    }
}

let commandLine: ReturnType<typeof parseCommandLine> | undefined;
function cli(): ReturnType<typeof parseCommandLine> {
    commandLine ??= parseCommandLine();
    return commandLine;
}

function arg(name: "message" | "context" | "from-stack" | "stack"): string | undefined {
    return cli().values[name];
}

/** Every `--file` given (`--file a --file b`). */
function files(): string[] {
    return cli().values.file;
}

function settings(): AppSettings {
    const dir = arg("from-stack");
    if (dir !== undefined) {
        const stackArgs = arg("stack") ? ["--stack", arg("stack") as string] : [];
        const out = JSON.parse(
            execFileSync("pulumi", ["stack", "output", "--json", "--show-secrets", "--non-interactive", ...stackArgs], { cwd: dir, encoding: "utf8" }),
        );
        return { apiKey: String(out.apiKey), instanceId: String(out.instanceId), endpoint: String(out.kmsEndpoint), keyId: String(out.rootKeyId) };
    }
    const need = (name: string) => {
        const v = process.env[name];
        if (!v) throw new Error(`set ${name} (or use --from-stack <producer project dir>)`);
        return v;
    };
    return { apiKey: need("KMS_APP_API_KEY"), instanceId: need("KMS_APP_INSTANCE_ID"), endpoint: need("KMS_APP_ENDPOINT"), keyId: need("KMS_APP_KEY_ID") };
}

async function main(): Promise<void> {
    const [command, ...extra] = cli().positionals;
    const file = files()[0];
    if (!["encrypt", "decrypt", "rewrap", "status"].includes(command ?? "") || !file || extra.length > 0) throw new Error(USAGE);
    const s = settings();
    const iamEndpoint = process.env.IBMCLOUD_IAM_API_ENDPOINT;
    const tokens = client.accessTokenProvider({ apiKey: s.apiKey, ...(iamEndpoint ? { iamEndpoint } : {}) });
    const kms = new client.KmsClient({
        endpoint: s.endpoint,
        instanceId: s.instanceId,
        tokenSource: () => tokens.getAccessToken(),
        invalidateToken: () => tokens.invalidate(),
    });
    try {
        if (command === "encrypt") {
            const context = arg("context") ?? "kms-app";
            const dataKey = await kms.generateDataKey(s.keyId, { aad: [context] });
            const sealed = client.envelope.seal(dataKey.plaintext, Buffer.from(arg("message") ?? "", "utf8"), Buffer.from(context, "utf8"));
            dataKey.plaintext.fill(0); // used once, dropped
            const out: EnvelopeFile = {
                format: "kms-app/1",
                keyId: s.keyId,
                keyVersion: dataKey.keyVersion,
                wrappedDataKey: dataKey.ciphertext.toString("base64"),
                sealed: sealed.toString("base64"),
                context,
            };
            fs.writeFileSync(file, JSON.stringify(out, null, 2), { mode: 0o600 });
            print({ command, keyVersion: dataKey.keyVersion, bytes: sealed.length });
            return;
        }
        const read = (f: string): EnvelopeFile => {
            const env = JSON.parse(fs.readFileSync(f, "utf8")) as EnvelopeFile;
            if (env.format !== "kms-app/1") throw new Error(`${f} is not a kms-app envelope`);
            return env;
        };
        if (command === "decrypt") {
            const env = read(file);
            const aad = { aad: [env.context] };
            const unwrapped = await kms.unwrapDetailed(env.keyId, env.wrappedDataKey, aad);
            const message = client.envelope.open(unwrapped.plaintext, Buffer.from(env.sealed, "base64"), Buffer.from(env.context, "utf8")).toString("utf8");
            unwrapped.plaintext.fill(0);
            print({ command, message, keyVersion: unwrapped.keyVersion, ...(unwrapped.rewrapped ? { newerKeyVersion: unwrapped.rewrapped.keyVersion } : {}) });
            return;
        }
        // status and rewrap: the version that wrapped each data key, as KMS reports it, against the newest one
        const newest = new Map<string, string>();
        for (const f of files()) {
            const env = read(f);
            const aad = { aad: [env.context] };
            if (!newest.has(env.keyId)) newest.set(env.keyId, (await kms.listKeyVersions(env.keyId))[0]?.id ?? "");
            const latest = newest.get(env.keyId) as string;
            const unwrapped = await kms.unwrapDetailed(env.keyId, env.wrappedDataKey, aad);
            unwrapped.plaintext.fill(0);
            const current = unwrapped.keyVersion === latest;
            if (command === "status" || current) {
                print({ command, file: f, keyVersion: unwrapped.keyVersion, newestKeyVersion: latest, onOldVersion: !current, rewrapped: false });
                continue;
            }
            const moved = await kms.rewrapDetailed(env.keyId, env.wrappedDataKey, aad);
            fs.writeFileSync(
                f,
                JSON.stringify({ ...env, keyVersion: moved.rewrappedKeyVersion, wrappedDataKey: moved.ciphertext.toString("base64") }, null, 2),
                {
                    mode: 0o600,
                },
            );
            print({ command, file: f, fromKeyVersion: moved.keyVersion, keyVersion: moved.rewrappedKeyVersion, rewrapped: true });
        }
    } finally {
        await kms.http.close();
        await tokens.close();
    }
}

function print(o: Record<string, unknown>): void {
    process.stdout.write(`${JSON.stringify(o)}\n`);
}

main().catch((err: unknown) => {
    const e = err as { name?: string; status?: number; message?: string };
    const refused = e?.name === "IbmCloudError" && (e.status === 401 || e.status === 403);
    // IbmCloudError messages are redacted by the client: no key or token in them.
    process.stderr.write(
        `kms-app: ${refused ? "refused by KMS (does the service ID still have a policy on the instance?): " : ""}${e?.message ?? String(err)}\n`,
    );
    process.exit(refused ? 3 : 1);
});
