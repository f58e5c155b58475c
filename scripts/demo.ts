// `npm run demo`: the two example stacks and the application end to end with the real pulumi CLI.
//   - starts the IBM Cloud emulator in this process (one Key Protect instance, given to the stack by its CRN),
//   - `pulumi up` of the producer (root Pulumi.yaml: examples/hpcs-identity) and of the consumer
//     (examples/kms-consumer, reading the producer through a StackReference), in a temp file backend
//     under .tools/demo,
//   - shows what was created (never the apiKey or token values), proves the service ID can use the
//     instance and that a service ID without the policy is refused (401),
//   - runs the application (examples/kms-app, plain Node): encrypts a message with a data key wrapped by
//     the root key, rotates the root key from the stack (`rootKeyRotation`), decrypts the old file,
//     rewraps it to the new version; after the consumer is destroyed, removes the app's access policy
//     and shows the application refused,
//   - destroys both stacks, removes them, shows the emulator holds nothing of theirs any more.
// `npm run demo -- --real` (with IC_API_KEY and KMS_INSTANCE_CRN — a Key Protect instance, or an HPCS
// one by its CRN — or the older HPCS_INSTANCE_ID with optional HPCS_REGION) does the same against real
// IBM Cloud, without the emulator and without the negative check's extra service ID left behind.
// Exits non-zero on any failure.
import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { startEmulator, RunningEmulator } from "../emulator";
import { IamClient, IamTokenManager, IbmCloudError, KmsClient, PUBLIC_IAM_ENDPOINT, kmsEndpointFor } from "../client";
import { parseKmsInstanceCrn } from "../provider/kms/instance";

const REPO = path.resolve(__dirname, "..", "..");
const CONSUMER_DIR = path.join(REPO, "examples", "kms-consumer");
const APP = path.join(REPO, "build", "examples", "kms-app", "index.js");
const PROJECT = "pulumi-ibmcloud-iam-example";
const STACK = "demo";
const PASSPHRASE = "demo-passphrase"; // a throwaway backend's passphrase, not a secret

interface Target {
    apiKey: string;
    iamEndpoint: string;
    kmsEndpoint?: string;
    instanceId: string;
    service: "kms" | "hs-crypto";
    region: string;
    /** Given: the stack takes the instance by CRN. */
    instanceCrn?: string;
}

/** Runs the application (a plain Node program) against the producer stack; resolves to its JSON line and exit code. */
function runApp(env: NodeJS.ProcessEnv, target: Target, file: string, args: string[]): Promise<{ code: number; out: Record<string, unknown>; err: string }> {
    return new Promise((resolve) => {
        const appEnv = { ...env, ...(target.kmsEndpoint ? { IBMCLOUD_IAM_API_ENDPOINT: target.iamEndpoint } : {}) };
        childProcess.execFile(
            process.execPath,
            [APP, ...args, "--file", file, "--from-stack", REPO, "--stack", STACK],
            { env: appEnv },
            (e, stdout, stderr) => {
                const line = stdout.trim().split("\n").pop() ?? "";
                resolve({ code: e ? Number((e as { code?: unknown }).code ?? 1) : 0, out: line ? JSON.parse(line) : {}, err: stderr.trim() });
            },
        );
    });
}

function say(line = ""): void {
    process.stdout.write(line + "\n");
}
/** A step: what it does, then (indented) what it shows. */
function step(title: string, shows?: string): void {
    say(`\n== ${title}`);
    if (shows) say(`   shows: ${shows}`);
}

function makeEnv(dir: string): NodeJS.ProcessEnv {
    const home = path.join(dir, "home");
    const state = path.join(dir, "state");
    fs.mkdirSync(home, { recursive: true });
    fs.mkdirSync(state, { recursive: true });
    return {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${state}`,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        PULUMI_HOME: home,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_SELF_MANAGED_STATE_NO_LEGACY_WARNING: "true",
        // the stacks take their credentials from stack config only
        IC_API_KEY: "",
        IBMCLOUD_API_KEY: "",
        // Not node_modules/@pulumi/pulumi: the engine takes a plugin it finds on PATH with a warning at every
        // start ("using pulumi-resource-pulumi-nodejs from $PATH"); scripts/ensure-pulumi.sh puts the
        // launcher next to the CLI, where the engine takes it as bundled.
        PATH: [path.join(REPO, ".tools", "bin"), path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
    };
}

/** Runs `pulumi <args> --non-interactive` in cwd; resolves to stdout; on failure rejects with its output. */
function pulumi(env: NodeJS.ProcessEnv, cwd: string, args: string[], opts: { echo?: boolean; secretStdin?: string } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = childProcess.spawn("pulumi", [...args, "--non-interactive"], { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => {
            out += d.toString();
            if (opts.echo)
                process.stdout.write(
                    d
                        .toString()
                        .split("\n")
                        .map((l) => (l ? `   | ${l}` : l))
                        .join("\n"),
                );
        });
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => {
            if (code === 0) resolve(out);
            else reject(new Error(`pulumi ${args.join(" ")} (in ${path.relative(REPO, cwd) || "."}) failed with ${code}:\n${opts.echo ? "" : out}\n${err}`));
        });
        // a secret is passed on stdin so it never appears on a command line
        child.stdin.end(opts.secretStdin ?? "");
    });
}

async function stackOutputs(env: NodeJS.ProcessEnv, cwd: string): Promise<Record<string, unknown>> {
    return JSON.parse(await pulumi(env, cwd, ["stack", "output", "--json", "--stack", STACK]));
}

async function adminState(emu: RunningEmulator): Promise<any> {
    return (await fetch(`${emu.url}/__emulator/state`)).json();
}

async function main(): Promise<void> {
    const real = parseArgs({ args: process.argv.slice(2), options: { real: { type: "boolean", default: false } } }).values.real;
    let emu: RunningEmulator | undefined;
    let target: Target;
    if (real) {
        const apiKey = process.env.IC_API_KEY ?? process.env.IBMCLOUD_API_KEY;
        const crn = process.env.KMS_INSTANCE_CRN;
        const hpcs = process.env.HPCS_INSTANCE_ID;
        if (!apiKey || (!crn && !hpcs))
            throw new Error("--real needs IC_API_KEY (or IBMCLOUD_API_KEY) and KMS_INSTANCE_CRN (or HPCS_INSTANCE_ID, optionally HPCS_REGION)");
        const iamEndpoint = process.env.IBMCLOUD_IAM_API_ENDPOINT ?? PUBLIC_IAM_ENDPOINT;
        if (crn) {
            const parsed = parseKmsInstanceCrn(crn);
            if (!parsed.ok) throw new Error(`KMS_INSTANCE_CRN: ${parsed.reason}`);
            target = { apiKey, iamEndpoint, instanceId: parsed.value.instanceId, service: parsed.value.service, region: parsed.value.region, instanceCrn: crn };
        } else {
            target = { apiKey, iamEndpoint, instanceId: hpcs as string, service: "hs-crypto", region: process.env.HPCS_REGION ?? "us-south" };
        }
        step(`Target: real IBM Cloud, ${target.service} instance ${target.instanceId} in ${target.region}`, "the same steps against your account");
    } else {
        step("Starting the IBM Cloud emulator (in this process)", "a local IAM and Key Protect with one instance, given to the stack by its CRN");
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south", name: "demo-key-protect" }] });
        const inst = emu.instances[0];
        const instanceCrn = `crn:v1:bluemix:public:kms:${inst.region}:a/${emu.accountId}:${inst.guid}::`;
        target = { apiKey: emu.apiKey, iamEndpoint: emu.url, kmsEndpoint: emu.url, instanceId: inst.guid, service: "kms", region: inst.region, instanceCrn };
        say(`   emulator ${emu.url}, account ${emu.accountId}, Key Protect instance ${instanceCrn}`);
    }
    const kmsEndpoint = target.kmsEndpoint ?? kmsEndpointFor({ service: target.service, instanceId: target.instanceId, region: target.region });

    const dir = path.join(REPO, ".tools", "demo", `${Date.now().toString(36)}`);
    const env = makeEnv(dir);
    say(`   file backend ${path.relative(REPO, dir)}/state`);
    const stacksUp: string[] = [];
    let extraServiceId: string | undefined;
    const ownerTokens = new IamTokenManager({ apiKey: target.apiKey, iamEndpoint: target.iamEndpoint });
    const iam = new IamClient({ tokenManager: ownerTokens });
    let failed: unknown;
    let appFile: string | undefined;
    try {
        step(
            "Producer stack (root Pulumi.yaml → examples/hpcs-identity): pulumi up",
            "KmsAccess makes a service ID, its API key and an access policy, waits until KMS honours the policy, then creates a key ring and a root key as that service ID",
        );
        await pulumi(env, REPO, ["stack", "init", STACK]);
        stacksUp.push(REPO);
        await pulumi(env, REPO, ["config", "set", "--secret", "ibmcloud:apiKey", "--stack", STACK], { secretStdin: target.apiKey });
        const settings: Array<[string, string]> = target.instanceCrn
            ? [
                  ["ibmcloud:iamEndpoint", target.iamEndpoint],
                  ["instanceCrn", target.instanceCrn],
              ]
            : [
                  ["ibmcloud:iamEndpoint", target.iamEndpoint],
                  ["instanceId", target.instanceId],
                  ["service", target.service],
                  ["region", target.region],
              ];
        if (target.kmsEndpoint) settings.push(["ibmcloud:kmsEndpoint", target.kmsEndpoint]);
        for (const [k, v] of settings) await pulumi(env, REPO, ["config", "set", k, v, "--stack", STACK]);
        await pulumi(env, REPO, ["up", "--yes", "--skip-preview", "--suppress-progress", "--stack", STACK, "--color", "never"], { echo: true });
        const p = await stackOutputs(env, REPO);

        step(
            "Consumer stack (examples/kms-consumer): pulumi up",
            "a second stack reads the first one's outputs through a StackReference and creates its own key with the first one's identity",
        );
        const producerRef = `organization/${PROJECT}/${STACK}`;
        await pulumi(env, CONSUMER_DIR, ["stack", "init", STACK]);
        stacksUp.push(CONSUMER_DIR);
        await pulumi(env, CONSUMER_DIR, ["config", "set", "producerStack", producerRef, "--stack", STACK]);
        await pulumi(env, CONSUMER_DIR, ["config", "set", "ibmcloud:iamEndpoint", target.iamEndpoint, "--stack", STACK]);
        await pulumi(env, CONSUMER_DIR, ["up", "--yes", "--skip-preview", "--suppress-progress", "--stack", STACK, "--color", "never"], { echo: true });
        const c = await stackOutputs(env, CONSUMER_DIR);

        step("What was created", "the stacks' outputs; the API key and the token stay [secret]");
        const secretShown = (name: string) => {
            const v = p[name];
            if (v !== "[secret]") throw new Error(`output ${name} is not shown as [secret] by pulumi stack output`);
            return "[secret]";
        };
        say(`   service ID       ${p.serviceId}  (iam_id ${p.iamId})`);
        say(`   API key          ${p.apiKeyId}  value: ${secretShown("apiKey")}`);
        say(`   access policy    ${p.policyId}  on ${p.service} instance ${p.instanceId}`);
        say(`   key ring         ${p.keyRingId}`);
        say(`   KMS endpoint     ${p.kmsEndpoint}`);
        say(`   root key         ${p.rootKeyId}  created by ${p.rootKeyCreatedBy}, version ${p.rootKeyVersion}, rotation every 3 months`);
        say(`                    ${p.rootKeyCrn}`);
        say(
            `   token            ${secretShown("token")}, expires ${new Date(Number(p.tokenExpiration) * 1000).toISOString()} (in ${Math.round((Number(p.tokenExpiration) - Date.now() / 1000) / 60)} min)`,
        );
        say(`   consumer key     ${c.keyId}  created by ${c.keyCreatedBy}`);
        say(`   consumer token   of ${c.tokenIamId}, expires ${new Date(Number(c.tokenExpiration) * 1000).toISOString()}`);
        if (p.rootKeyCreatedBy !== p.iamId || c.keyCreatedBy !== p.iamId || c.tokenIamId !== p.iamId) {
            throw new Error("the keys and the consumer's token should all belong to the producer's service ID");
        }

        step(
            "The service ID can use the instance (its key, read from the stack with --show-secrets, kept in memory only)",
            "KMS lists both keys to the service ID",
        );
        const secrets = JSON.parse(await pulumi(env, REPO, ["stack", "output", "--json", "--show-secrets", "--stack", STACK]));
        const svcTokens = new IamTokenManager({ apiKey: String(secrets.apiKey), iamEndpoint: target.iamEndpoint });
        const svcKms = new KmsClient({
            endpoint: kmsEndpoint,
            instanceId: target.instanceId,
            tokenSource: () => svcTokens.getToken(),
            httpClient: svcTokens.http,
        });
        const keys = await svcKms.listKeys();
        const names = keys.filter((k) => k.id === p.rootKeyId || k.id === c.keyId).map((k) => `${k.name} (${k.id})`);
        say(`   listKeys as ${p.iamId}: ${keys.length} key(s), ours: ${names.join(", ")}`);
        if (names.length !== 2) throw new Error("the service ID should see both keys");
        await svcTokens.http.close();

        step("A service ID WITHOUT the policy is refused", "KMS enforces the policy: the same call as another identity gets 401");
        const sid = await iam.createServiceId({ name: "demo-no-policy", description: "pulumi-ibmcloud-iam demo: no access policy" });
        extraServiceId = sid.id;
        const key = await iam.createApiKey({ name: "demo-no-policy-key", iam_id: sid.iam_id });
        const otherTokens = new IamTokenManager({ apiKey: String(key.apikey), iamEndpoint: target.iamEndpoint });
        const otherKms = new KmsClient({
            endpoint: kmsEndpoint,
            instanceId: target.instanceId,
            tokenSource: () => otherTokens.getToken(),
            httpClient: otherTokens.http,
        });
        const refused = await otherKms.listKeys().then(
            () => undefined,
            (e: unknown) => e,
        );
        await otherTokens.http.close();
        if (!(refused instanceof IbmCloudError) || (refused.status !== 401 && refused.status !== 403)) {
            throw new Error(`expected KMS to refuse ${sid.iam_id} with 401, got ${refused === undefined ? "a key list" : String(refused)}`);
        }
        say(`   listKeys as ${sid.iam_id}: HTTP ${refused.status} ${refused.ibmMessage ?? refused.code ?? ""}`.trimEnd());
        await iam.deleteServiceId(sid.id); // its API key goes with it
        extraServiceId = undefined;
        say(`   (deleted ${sid.id} again)`);

        step(
            "The application (examples/kms-app, plain Node, reads the stack's outputs): envelope encryption with the root key",
            "a message sealed with a data key that KMS wraps with the root key, and opened again",
        );
        const file = path.join(dir, "message.json");
        const enc = await runApp(env, target, file, ["encrypt", "--message", "order 42: ship it"]);
        if (enc.code !== 0) throw new Error(`kms-app encrypt failed: ${enc.err}`);
        say(
            `   encrypt: data key generated and wrapped by root key version ${enc.out.keyVersion}; message sealed locally (AES-256-GCM, ${enc.out.bytes} bytes)`,
        );
        const dec = await runApp(env, target, file, ["decrypt"]);
        say(`   decrypt: "${dec.out.message}"`);
        if (dec.out.message !== "order 42: ship it") throw new Error(`kms-app decrypt failed: ${dec.err}`);

        step(
            "Rotate the root key from the stack: pulumi config set rootKeyRotation 1 && pulumi up (in place, the same key)",
            "the key gets a new version; data wrapped before still opens, and is rewrapped to the new version",
        );
        await pulumi(env, REPO, ["config", "set", "rootKeyRotation", "1", "--stack", STACK]);
        await pulumi(env, REPO, ["up", "--yes", "--skip-preview", "--suppress-progress", "--stack", STACK, "--color", "never"], { echo: true });
        const rotated = await stackOutputs(env, REPO);
        say(`   root key ${rotated.rootKeyId}: version ${p.rootKeyVersion} → ${rotated.rootKeyVersion}, last rotated ${rotated.rootKeyLastRotateDate}`);
        if (rotated.rootKeyId !== p.rootKeyId || rotated.rootKeyVersion === p.rootKeyVersion)
            throw new Error("the rotation should keep the key and change its version");
        const old = await runApp(env, target, file, ["decrypt"]);
        say(`   decrypt of the file written before: "${old.out.message}" (wrapped by ${old.out.keyVersion}; newer version ${old.out.newerKeyVersion})`);
        if (old.out.message !== "order 42: ship it") throw new Error(`kms-app decrypt after rotation failed: ${old.err}`);
        const rw = await runApp(env, target, file, ["rewrap"]);
        say(`   rewrap: the data key now wrapped by ${rw.out.keyVersion}`);
        if (rw.out.keyVersion !== rotated.rootKeyVersion) throw new Error(`kms-app rewrap failed: ${rw.err}`);
        appFile = file;
    } catch (e) {
        failed = e;
    }

    // Teardown runs even after a failure, consumer first (it reads the producer).
    step("pulumi destroy and stack rm (consumer, then producer)", "everything the stacks made is deleted");
    for (const cwd of [...stacksUp].reverse()) {
        const label = cwd === REPO ? "producer" : "consumer";
        if (cwd === REPO && appFile && !failed) {
            // The consumer (which has no deployer credentials of its own) is gone: now revoke the application.
            step("The application is refused once its access policy is removed", "revoking the policy cuts the application off (exit 3)");
            try {
                const p = await stackOutputs(env, REPO);
                await iam.deletePolicy(String(p.policyId));
                const refused = await runApp(env, target, appFile, ["decrypt"]);
                say(`   access policy ${p.policyId} deleted; kms-app decrypt → exit ${refused.code}: ${refused.err.split("\n")[0]}`);
                if (refused.code !== 3) throw new Error("the application should be refused (exit 3) without its policy");
                say("   (the producer's destroy falls back to the deployer's credentials for the key and the ring)");
            } catch (e) {
                failed ??= e;
            }
        }
        try {
            const out = await pulumi(env, cwd, ["destroy", "--yes", "--skip-preview", "--stack", STACK, "--color", "never"]);
            const summary =
                out
                    .split("\n")
                    .find((l) => /^\s*-\s*\d+ deleted/.test(l))
                    ?.trim() ?? "destroyed";
            say(`   ${label}: ${summary}`);
            await pulumi(env, cwd, ["stack", "rm", "--yes", STACK]);
            say(`   ${label}: stack ${STACK} removed`);
        } catch (e) {
            failed ??= e;
            say(`   ${label}: FAILED`);
        }
    }
    if (extraServiceId) await iam.deleteServiceId(extraServiceId).catch(() => undefined);
    await ownerTokens.http.close();

    if (emu) {
        step("The emulator after destroy", "nothing of the stacks is left: no service ID, key, active policy or live KMS key");
        const s = await adminState(emu);
        const ownerKeys = s.apiKeys.filter((k: any) => k.iam_id === s.owner.iam_id).length;
        const left = {
            serviceIds: s.counts.serviceIds,
            serviceIdApiKeys: s.counts.apiKeys - ownerKeys,
            activePolicies: s.counts.activePolicies,
            liveKmsKeys: s.kmsKeys.filter((k: any) => !k.deleted).length,
        };
        say(`   ${JSON.stringify(left)}  (deleted keys kept as tombstones: ${s.kmsKeys.length})`);
        if (left.serviceIds || left.serviceIdApiKeys || left.activePolicies || left.liveKmsKeys) {
            failed ??= new Error(`the emulator is not empty after destroy: ${JSON.stringify(left)}`);
        }
        await emu.stop();
        say("   emulator stopped");
    }
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
    if (failed) throw failed;
    step("Demo passed");
}

main().catch((e) => {
    process.stderr.write(`\ndemo FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
});
