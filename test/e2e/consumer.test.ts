// The user's path, end to end: `npm pack` this repository, install the tarball into a fresh project
// OUTSIDE the repository next to @pulumi/pulumi (the one this test leg runs: the newest of the peer
// range on the newest leg, the oldest on the oldest), start the emulator through the package's bin, and
// run two TypeScript stacks like the README's "Using it" (a KmsAccess with a key created as the service
// ID; a second stack that reads it through a StackReference) with preview, up, refresh and destroy
// through the real engine.
import { strict as assert } from "assert";
import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ENSURE_PULUMI_TIMEOUT_MS, ensurePulumi, PulumiBinaries, REPO_ROOT } from "./support/engine";
import { ok, run, SDK_VERSION, SECRETS, usePackedProject } from "./support/packedProject";

const PASSPHRASE = "consumer-e2e-passphrase";
const INSTANCE = "7d0c3b1e-5a6f-4c2d-9e8b-0a1b2c3d4e5f";

const PRODUCER_PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { KmsAccess } from "pulumi-ibmcloud-iam";

const cfg = new pulumi.Config();
const access = new KmsAccess("orders-app", {
    instance: { instanceId: cfg.require("instanceId"), service: "kms", region: "us-south" },
    roles: ["Writer", "Manager"],
    waitForAccess: { timeoutSeconds: 60 },
});
const rootKey = access.createKey("orders-root", { name: "orders-root" });

export const serviceId = access.serviceId;
export const apiKey = access.apiKey;
export const instanceId = access.instanceId;
export const kmsEndpoint = access.kmsEndpoint;
export const token = access.getAccessTokenInfo();
export const rootKeyId = rootKey.keyId;
export const rootKeyCreatedBy = rootKey.createdBy;
`;

const CONSUMER_PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { KmsKey } from "pulumi-ibmcloud-iam";

const cfg = new pulumi.Config();
const producer = new pulumi.StackReference(cfg.require("producerStack"));
const key = new KmsKey("consumer-key", {
    instanceId: producer.requireOutput("instanceId") as pulumi.Output<string>,
    service: "kms",
    endpoint: producer.requireOutput("kmsEndpoint") as pulumi.Output<string>,
    name: "consumer-key",
    type: "standard",
    apiKey: producer.requireOutput("apiKey") as pulumi.Output<string>,
});
export const keyId = key.keyId;
export const keyCreatedBy = key.createdBy;
`;

const TSCONFIG = JSON.stringify(
    { compilerOptions: { strict: true, target: "ES2022", module: "commonjs", moduleResolution: "node", skipLibCheck: true } },
    null,
    2,
);

describe("e2e: the packed package in a fresh project outside the repository (the user's path)", function () {
    this.timeout(15 * 60 * 1000);
    let binaries: PulumiBinaries;
    let top: string;
    let project: string;
    let tarball: string;
    let emulator: childProcess.ChildProcess | undefined;
    let emu: { url: string; accountId: string; apiKey: string };
    let env: NodeJS.ProcessEnv;
    const packed = usePackedProject();

    const emulatorState = async (): Promise<Record<string, any>> => {
        const res = await fetch(`${emu.url}/__emulator/state`);
        return (await res.json()) as Record<string, any>;
    };
    const pulumi = (dir: string, args: string[]) => ok(binaries.pulumi, ["--non-interactive", ...args], { cwd: dir, env });

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS + 10 * 60 * 1000);
        binaries = await ensurePulumi();
        ({ top, project, tarball } = packed());
        top = path.join(top, "consumer-e2e");
        fs.mkdirSync(top);
        env = {
            ...process.env,
            PULUMI_BACKEND_URL: `file://${path.join(top, "state")}`,
            PULUMI_HOME: path.join(top, "home"),
            PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PATH: [binaries.binDir, path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
        };
        fs.mkdirSync(path.join(top, "state"));
        fs.mkdirSync(path.join(top, "home"));

        // The emulator, as a user starts it: the package's bin.
        const bin = path.join(project, "node_modules", ".bin", "pulumi-ibmcloud-iam-emulator");
        emulator = childProcess.spawn(bin, ["--json", "--port", "0", "--instance", `kms:us-south:${INSTANCE}`], {
            cwd: project,
            env,
            stdio: ["ignore", "pipe", "pipe"],
            detached: true,
        });
        emu = await new Promise((resolve, reject) => {
            let out = "";
            const timer = setTimeout(() => reject(new Error(`the emulator bin printed no JSON line within 30 s: ${out}`)), 30_000);
            emulator!.stdout!.on("data", (d: Buffer) => {
                out += d.toString();
                const line = out.split("\n")[0];
                if (out.includes("\n")) {
                    clearTimeout(timer);
                    try {
                        resolve(JSON.parse(line));
                    } catch (e) {
                        reject(new Error(`the emulator bin's first line is not JSON: ${line} (${String(e)})`));
                    }
                }
            });
            emulator!.on("exit", (code) => reject(new Error(`the emulator bin exited (${code}) before printing its URL`)));
        });
        SECRETS.add(emu.apiKey);

        for (const [dir, program] of [
            ["producer", PRODUCER_PROGRAM],
            ["consumer", CONSUMER_PROGRAM],
        ] as const) {
            const d = path.join(project, dir);
            fs.mkdirSync(d);
            fs.writeFileSync(path.join(d, "Pulumi.yaml"), `name: ${dir}\nruntime: nodejs\nmain: index.ts\n`);
            fs.writeFileSync(path.join(d, "index.ts"), program);
            fs.writeFileSync(path.join(d, "tsconfig.json"), TSCONFIG);
            await pulumi(d, ["stack", "init", "dev"]);
            // `--`: a generated key may start with "-".
            await pulumi(d, ["config", "set", "--secret", "ibmcloud:apiKey", "--", emu.apiKey]);
            await pulumi(d, ["config", "set", "ibmcloud:iamEndpoint", emu.url]);
            await pulumi(d, ["config", "set", "ibmcloud:kmsEndpoint", emu.url]);
        }
        await pulumi(path.join(project, "producer"), ["config", "set", "instanceId", INSTANCE]);
        await pulumi(path.join(project, "consumer"), ["config", "set", "producerStack", "organization/producer/dev"]);
    });

    after(async () => {
        if (emulator?.pid) {
            try {
                process.kill(-emulator.pid, "SIGTERM");
            } catch {
                // gone
            }
            await new Promise((r) => setTimeout(r, 200));
            try {
                process.kill(-emulator.pid, "SIGKILL");
            } catch {
                // gone
            }
        }
        if (top && !process.env.E2E_KEEP_SANDBOX) fs.rmSync(top, { recursive: true, force: true });
        for (const dir of ["producer", "consumer"]) if (project) fs.rmSync(path.join(project, dir), { recursive: true, force: true });
    });

    it("the tarball holds what a user needs and nothing else: no tests, bench, scripts or sources", async () => {
        const files = (await ok("tar", ["tzf", tarball], { cwd: top }))
            .trim()
            .split("\n")
            .map((f) => f.replace(/^package\//, ""));
        for (const f of files) {
            assert.ok(
                /^(package\.json|README\.md|LICENSE|emulator\/README\.md|docs\/[\w-]+\.md|plugin\/(schema\.json|bin\/[\w.-]+)|dist\/plugin\/schema\.json|dist\/.+\.(js|d\.ts|js\.map|d\.ts\.map))$/.test(
                    f,
                ),
                `unexpected file in the tarball: ${f}`,
            );
            assert.ok(!/^dist\/(test|bench|scripts|examples)\//.test(f), `${f} does not ship`);
        }
        // Every compiled file has its source: nothing stale from a deleted module ships.
        for (const f of files.filter((x) => x.startsWith("dist/") && x.endsWith(".js"))) {
            assert.ok(fs.existsSync(path.join(REPO_ROOT, f.replace(/^dist\//, "").replace(/\.js$/, ".ts"))), `${f} has no source`);
        }
        assert.ok(files.includes("dist/provider/serviceId.js") && files.includes("dist/client/index.js") && files.includes("dist/emulator/cli.js"));
        assert.ok(files.includes("LICENSE"), "the license the package.json names ships as a file");
        // Source maps resolve without the sources: each carries them (stack traces and debuggers show the TypeScript).
        const installed = path.join(project, "node_modules", "pulumi-ibmcloud-iam");
        const maps = files.filter((f) => f.endsWith(".js.map"));
        assert.ok(maps.length > 0);
        for (const f of maps) {
            const map = JSON.parse(fs.readFileSync(path.join(installed, f), "utf8")) as { sources: string[]; sourcesContent?: string[] };
            assert.equal(map.sourcesContent?.length, map.sources.length, `${f} carries its sources`);
        }
        // Nothing runs in a user's project when it installs the package.
        const scripts = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8")).scripts ?? {};
        for (const hook of ["preinstall", "install", "postinstall", "prepare"]) assert.equal(scripts[hook], undefined, `no ${hook} script`);
    });

    it("exactly one @pulumi/pulumi in the consumer's tree (the package takes it as a peer)", async () => {
        // Installed copies, not mentions: `npm ls --parseable` prints the folder of each one it finds.
        const listed = (await run("npm", ["ls", "@pulumi/pulumi", "--all", "--parseable"], { cwd: project })).stdout;
        const copies = [
            ...new Set(
                listed
                    .trim()
                    .split("\n")
                    .filter((l) => l.endsWith(`${path.sep}@pulumi${path.sep}pulumi`)),
            ),
        ];
        assert.deepEqual(copies, [path.join(project, "node_modules", "@pulumi", "pulumi")]);
        assert.equal(JSON.parse(fs.readFileSync(path.join(copies[0], "package.json"), "utf8")).version, SDK_VERSION);
        assert.ok(!fs.existsSync(path.join(project, "node_modules", "pulumi-ibmcloud-iam", "node_modules", "@pulumi")));
    });

    it("preview, up, refresh and destroy of both stacks through the real engine; state holds the provider as one require of its module and no plaintext key", async () => {
        const producer = path.join(project, "producer");
        const consumer = path.join(project, "consumer");
        await pulumi(producer, ["preview"]);
        await pulumi(producer, ["up", "--yes", "--skip-preview"]);
        const outputs = JSON.parse(await pulumi(producer, ["stack", "output", "--json", "--show-secrets"]));
        SECRETS.add(outputs.apiKey);
        SECRETS.add(outputs.token?.accessToken);
        assert.match(outputs.serviceId, /^ServiceId-/);
        assert.equal(outputs.rootKeyCreatedBy, `iam-${outputs.serviceId}`, "the key was created as the service ID");
        assert.ok(typeof outputs.apiKey === "string" && outputs.apiKey.length >= 32, "the API key is an output (secret)");
        await pulumi(consumer, ["up", "--yes", "--skip-preview"]);
        const consumerOut = JSON.parse(await pulumi(consumer, ["stack", "output", "--json"]));
        assert.equal(consumerOut.keyCreatedBy, `iam-${outputs.serviceId}`, "the consumer acts as the producer's service ID");

        for (const dir of [producer, consumer]) {
            const state = await pulumi(dir, ["stack", "export"]);
            assert.ok(!state.includes(outputs.apiKey), "no plaintext API key in state");
            assert.ok(!state.includes(emu.apiKey), "no plaintext deployer key in state");
            const deployment = JSON.parse(state).deployment;
            const dynamic = (deployment.resources as Array<Record<string, any>>).filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
            assert.ok(dynamic.length > 0);
            for (const r of dynamic) {
                const provider = String(r.inputs.__provider);
                // Installed under node_modules: one require of the module whose whole export is the provider.
                assert.match(provider, /require\("pulumi-ibmcloud-iam\/dist\/provider\/module\/[A-Za-z]+\.js"\)/, `${r.urn} names its provider module`);
                assert.ok(provider.length <= 512, `${r.urn}: one require, not a thin provider or the serialized client (${provider.length} bytes)`);
                assert.doesNotMatch(provider, /IamTokenManager|undici|createWithRecovery/, `${r.urn}: no client code by value`);
            }
        }

        await pulumi(producer, ["refresh", "--yes", "--skip-preview"]);
        await pulumi(consumer, ["refresh", "--yes", "--skip-preview"]);
        await pulumi(producer, ["preview", "--expect-no-changes"]);
        await pulumi(consumer, ["destroy", "--yes", "--skip-preview"]);
        await pulumi(producer, ["destroy", "--yes", "--skip-preview"]);

        const left = await emulatorState();
        assert.deepEqual(left.serviceIds, [], "no service ID left");
        assert.deepEqual(
            (left.apiKeys as Array<{ iam_id: string }>).filter((k) => k.iam_id.includes("ServiceId")),
            [],
            "no service-ID key left",
        );
        assert.deepEqual(
            (left.policies as Array<{ state: string }>).filter((p) => p.state === "active"),
            [],
            "no active policy left",
        );
        assert.deepEqual(
            (left.kmsKeys as Array<{ state: number }>).filter((k: { state: number }) => k.state !== 5),
            [],
            "no live KMS key left",
        );
        const all = `${JSON.stringify(left)}`;
        assert.ok(!all.includes(outputs.apiKey));
    });
});
