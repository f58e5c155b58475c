// `npm run demo`: the two example stacks end to end with the real pulumi CLI.
//   - starts the IBM Cloud emulator in this process (one hs-crypto instance),
//   - `pulumi up` of the producer (root Pulumi.yaml: examples/hpcs-identity) and of the consumer
//     (examples/kms-consumer, reading the producer through a StackReference), in a temp file backend
//     under .tools/demo,
//   - shows what was created (never the apiKey or token values), proves the service ID can use the
//     instance and that a service ID without the policy is refused (401),
//   - destroys both stacks, removes them, shows the emulator holds nothing of theirs any more.
// `npm run demo -- --real` (with IC_API_KEY and HPCS_INSTANCE_ID, optional HPCS_REGION) does the same
// against real IBM Cloud, without the emulator and without the negative check's extra service ID
// left behind (it is deleted at the end).
// Exits non-zero on any failure.
import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";
import { startEmulator, RunningEmulator } from "../emulator";
import { IamClient, IamTokenManager, IbmCloudError, KmsClient, PUBLIC_IAM_ENDPOINT, kmsEndpointFor } from "../client";

const REPO = path.resolve(__dirname, "..", "..");
const CONSUMER_DIR = path.join(REPO, "examples", "kms-consumer");
const PROJECT = "pulumi-ibmcloud-iam-example";
const STACK = "demo";
const PASSPHRASE = "demo-passphrase"; // a throwaway backend's passphrase, not a secret

interface Target {
    apiKey: string;
    iamEndpoint: string;
    kmsEndpoint?: string;
    instanceId: string;
    region: string;
}

function say(line = ""): void {
    process.stdout.write(line + "\n");
}
function step(title: string): void {
    say(`\n== ${title}`);
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
        PATH: [path.join(REPO, ".tools", "bin"), path.join(REPO, "node_modules", "@pulumi", "pulumi"), path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
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
            if (opts.echo) process.stdout.write(d.toString().split("\n").map((l) => (l ? `   | ${l}` : l)).join("\n"));
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
    const real = process.argv.includes("--real");
    let emu: RunningEmulator | undefined;
    let target: Target;
    if (real) {
        const apiKey = process.env.IC_API_KEY ?? process.env.IBMCLOUD_API_KEY;
        const instanceId = process.env.HPCS_INSTANCE_ID;
        if (!apiKey || !instanceId) throw new Error("--real needs IC_API_KEY (or IBMCLOUD_API_KEY) and HPCS_INSTANCE_ID (and optionally HPCS_REGION)");
        target = { apiKey, iamEndpoint: process.env.IBMCLOUD_IAM_API_ENDPOINT ?? PUBLIC_IAM_ENDPOINT, instanceId, region: process.env.HPCS_REGION ?? "us-south" };
        step(`Target: real IBM Cloud, hs-crypto instance ${instanceId} in ${target.region}`);
    } else {
        step("Starting the IBM Cloud emulator (in this process)");
        emu = await startEmulator({ port: 0, instances: [{ service: "hs-crypto", region: "us-south", name: "demo-hpcs" }] });
        const inst = emu.instances[0];
        target = { apiKey: emu.apiKey, iamEndpoint: emu.url, kmsEndpoint: emu.url, instanceId: inst.guid, region: inst.region };
        say(`   emulator ${emu.url}, account ${emu.accountId}, hs-crypto instance ${inst.guid} (${inst.region})`);
    }
    const kmsEndpoint = target.kmsEndpoint ?? kmsEndpointFor({ service: "hs-crypto", instanceId: target.instanceId, region: target.region });

    const dir = path.join(REPO, ".tools", "demo", `${Date.now().toString(36)}`);
    const env = makeEnv(dir);
    say(`   file backend ${path.relative(REPO, dir)}/state`);
    const stacksUp: string[] = [];
    let extraServiceId: string | undefined;
    const ownerTokens = new IamTokenManager({ apiKey: target.apiKey, iamEndpoint: target.iamEndpoint });
    const iam = new IamClient({ tokenManager: ownerTokens });
    let failed: unknown;
    try {
        step("Producer stack (root Pulumi.yaml → examples/hpcs-identity): pulumi up");
        await pulumi(env, REPO, ["stack", "init", STACK]);
        stacksUp.push(REPO);
        await pulumi(env, REPO, ["config", "set", "--secret", "ibmcloud:apiKey", "--stack", STACK], { secretStdin: target.apiKey });
        const settings: Array<[string, string]> = [["ibmcloud:iamEndpoint", target.iamEndpoint], ["instanceId", target.instanceId], ["region", target.region]];
        if (target.kmsEndpoint) settings.push(["ibmcloud:kmsEndpoint", target.kmsEndpoint]);
        for (const [k, v] of settings) await pulumi(env, REPO, ["config", "set", k, v, "--stack", STACK]);
        await pulumi(env, REPO, ["up", "--yes", "--skip-preview", "--stack", STACK, "--color", "never"], { echo: true });
        const p = await stackOutputs(env, REPO);

        step("Consumer stack (examples/kms-consumer): pulumi up");
        const producerRef = `organization/${PROJECT}/${STACK}`;
        await pulumi(env, CONSUMER_DIR, ["stack", "init", STACK]);
        stacksUp.push(CONSUMER_DIR);
        await pulumi(env, CONSUMER_DIR, ["config", "set", "producerStack", producerRef, "--stack", STACK]);
        await pulumi(env, CONSUMER_DIR, ["config", "set", "ibmcloud:iamEndpoint", target.iamEndpoint, "--stack", STACK]);
        await pulumi(env, CONSUMER_DIR, ["up", "--yes", "--skip-preview", "--stack", STACK, "--color", "never"], { echo: true });
        const c = await stackOutputs(env, CONSUMER_DIR);

        step("What was created");
        const secretShown = (name: string) => {
            const v = p[name];
            if (v !== "[secret]") throw new Error(`output ${name} is not shown as [secret] by pulumi stack output`);
            return "[secret]";
        };
        say(`   service ID       ${p.serviceId}  (iam_id ${p.iamId})`);
        say(`   API key          ${p.apiKeyId}  value: ${secretShown("apiKey")}`);
        say(`   access policy    ${p.policyId}  on hs-crypto instance ${p.instanceId}`);
        say(`   KMS endpoint     ${p.kmsEndpoint}`);
        say(`   root key         ${p.rootKeyId}  created by ${p.rootKeyCreatedBy}`);
        say(`                    ${p.rootKeyCrn}`);
        say(`   token            ${secretShown("token")}, expires ${new Date(Number(p.tokenExpiration) * 1000).toISOString()} (in ${Math.round((Number(p.tokenExpiration) - Date.now() / 1000) / 60)} min)`);
        say(`   consumer key     ${c.keyId}  created by ${c.keyCreatedBy}`);
        say(`   consumer token   of ${c.tokenIamId}, expires ${new Date(Number(c.tokenExpiration) * 1000).toISOString()}`);
        if (p.rootKeyCreatedBy !== p.iamId || c.keyCreatedBy !== p.iamId || c.tokenIamId !== p.iamId) {
            throw new Error("the keys and the consumer's token should all belong to the producer's service ID");
        }

        step("The service ID can use the instance (its key, read from the stack with --show-secrets, kept in memory only)");
        const secrets = JSON.parse(await pulumi(env, REPO, ["stack", "output", "--json", "--show-secrets", "--stack", STACK]));
        const svcTokens = new IamTokenManager({ apiKey: String(secrets.apiKey), iamEndpoint: target.iamEndpoint });
        const svcKms = new KmsClient({ endpoint: kmsEndpoint, instanceId: target.instanceId, tokenSource: () => svcTokens.getToken(), httpClient: svcTokens.http });
        const keys = await svcKms.listKeys();
        const names = keys.filter((k) => k.id === p.rootKeyId || k.id === c.keyId).map((k) => `${k.name} (${k.id})`);
        say(`   listKeys as ${p.iamId}: ${keys.length} key(s), ours: ${names.join(", ")}`);
        if (names.length !== 2) throw new Error("the service ID should see both keys");
        await svcTokens.http.close();

        step("A service ID WITHOUT the policy is refused");
        const sid = await iam.createServiceId({ name: "demo-no-policy", description: "pulumi-ibmcloud-iam demo: no access policy" });
        extraServiceId = sid.id;
        const key = await iam.createApiKey({ name: "demo-no-policy-key", iam_id: sid.iam_id });
        const otherTokens = new IamTokenManager({ apiKey: String(key.apikey), iamEndpoint: target.iamEndpoint });
        const otherKms = new KmsClient({ endpoint: kmsEndpoint, instanceId: target.instanceId, tokenSource: () => otherTokens.getToken(), httpClient: otherTokens.http });
        const refused = await otherKms.listKeys().then(() => undefined, (e: unknown) => e);
        await otherTokens.http.close();
        if (!(refused instanceof IbmCloudError) || (refused.status !== 401 && refused.status !== 403)) {
            throw new Error(`expected KMS to refuse ${sid.iam_id} with 401, got ${refused === undefined ? "a key list" : String(refused)}`);
        }
        say(`   listKeys as ${sid.iam_id}: HTTP ${refused.status} ${refused.ibmMessage ?? refused.code ?? ""}`.trimEnd());
        await iam.deleteServiceId(sid.id); // its API key goes with it
        extraServiceId = undefined;
        say(`   (deleted ${sid.id} again)`);
    } catch (e) {
        failed = e;
    }

    // Teardown runs even after a failure, consumer first (it reads the producer).
    step("pulumi destroy and stack rm (consumer, then producer)");
    for (const cwd of [...stacksUp].reverse()) {
        const label = cwd === REPO ? "producer" : "consumer";
        try {
            const out = await pulumi(env, cwd, ["destroy", "--yes", "--skip-preview", "--stack", STACK, "--color", "never"]);
            const summary = out.split("\n").find((l) => /^\s*-\s*\d+ deleted/.test(l))?.trim() ?? "destroyed";
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
        step("The emulator after destroy");
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
