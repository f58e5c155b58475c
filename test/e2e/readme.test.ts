// The README cannot rot: every fenced block after a `<!-- readme-test: … -->` marker is taken as a user takes it.
//   install          the npm install lines: they name exactly what the packed project installs
//   file=NAME        written to NAME in the quick start's folder
//   emulator         run in the background in that folder (the user's second terminal)
//   run              pasted, line by line, into one shell in that folder (the user's first terminal)
//   typecheck        compiled (tsc --noEmit, the README's tsconfig.json) against the PACKED package installed into a
//                    fresh project outside the repository; `with=@pulumi/ibm` adds that package's declarations
//   skip             not meant to compile (say why next to it)
// A TypeScript block without a marker fails. The quick start runs through the real engine against the emulator
// the package ships, exactly as pasted (config lines included); only the environment is the test's: HOME is a
// scratch folder (so `pulumi login --local` and its state stay in it) and PATH leads to the CLI this repository
// builds.
import { strict as assert } from "assert";
import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ENSURE_PULUMI_TIMEOUT_MS, ensurePulumi, PulumiBinaries, REPO_ROOT } from "./support/engine";
import { redacted, SECRETS, USER_PACKAGES, usePackedProject } from "./support/packedProject";

interface ReadmeBlock {
    /** 1-based line of the opening fence in README.md. */
    line: number;
    lang: string;
    /** The marker's words (`["typecheck", "with=@pulumi/ibm"]`), or undefined when unmarked. */
    marker?: string[];
    code: string;
}

/** The fenced blocks of a markdown text, each with the `<!-- readme-test: … -->` marker just above it (blank lines allowed). */
function readmeBlocks(markdown: string): ReadmeBlock[] {
    const lines = markdown.split("\n");
    const blocks: ReadmeBlock[] = [];
    let pending: string[] | undefined;
    for (let i = 0; i < lines.length; i++) {
        const marker = /^<!--\s*readme-test:\s*(.*?)\s*-->\s*$/.exec(lines[i]);
        if (marker) {
            pending = marker[1].split(/\s+/).filter(Boolean);
            continue;
        }
        const fence = /^```(\w*)/.exec(lines[i]);
        if (fence) {
            const start = i;
            const body: string[] = [];
            for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
            blocks.push({ line: start + 1, lang: fence[1], ...(pending ? { marker: pending } : {}), code: `${body.join("\n")}\n` });
            pending = undefined;
            continue;
        }
        if (lines[i].trim() !== "") pending = undefined; // a marker belongs to the block right below it
    }
    return blocks;
}

const kind = (b: ReadmeBlock) => b.marker?.[0];
const option = (b: ReadmeBlock, key: string) =>
    b.marker
        ?.find((w) => w.startsWith(`${key}=`))
        ?.slice(key.length + 1)
        .trim();
const isTs = (b: ReadmeBlock) => b.lang === "ts" || b.lang === "typescript";

/**
 * `@pulumi/ibm` is not on the npm registry: `pulumi package add terraform-provider ibm-cloud/ibm` generates it into
 * a project, which needs the Terraform provider from the network. So the part of it the README uses is declared
 * here as the generated SDK declares it (ibm.ResourceInstance: its arguments and the outputs the README reads).
 */
const PULUMI_IBM_DECLARATIONS = `declare module "@pulumi/ibm" {
    import * as pulumi from "@pulumi/pulumi";
    export interface ResourceInstanceArgs {
        location: pulumi.Input<string>;
        name?: pulumi.Input<string>;
        parameters?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
        parametersJson?: pulumi.Input<string>;
        plan: pulumi.Input<string>;
        resourceGroupId?: pulumi.Input<string>;
        service: pulumi.Input<string>;
        serviceEndpoints?: pulumi.Input<string>;
        tags?: pulumi.Input<pulumi.Input<string>[]>;
    }
    export class ResourceInstance extends pulumi.CustomResource {
        readonly crn: pulumi.Output<string>;
        readonly guid: pulumi.Output<string>;
        readonly location: pulumi.Output<string>;
        readonly name: pulumi.Output<string>;
        readonly plan: pulumi.Output<string>;
        readonly service: pulumi.Output<string>;
        constructor(name: string, args: ResourceInstanceArgs, opts?: pulumi.CustomResourceOptions);
    }
}
`;

/** A shell the way a terminal is one: lines pasted one after the other, state (cd, exports, sourced files) kept. */
class Terminal {
    private readonly child: childProcess.ChildProcessWithoutNullStreams;
    private out = "";
    private n = 0;

    constructor(cwd: string, env: NodeJS.ProcessEnv) {
        this.child = childProcess.spawn("bash", ["--noprofile", "--norc"], { cwd, env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
        this.child.stdout.on("data", (d: Buffer) => (this.out += d.toString()));
        this.child.stderr.on("data", (d: Buffer) => (this.out += d.toString()));
    }

    /** Pastes one line; resolves to its exit status and what it printed (stdout and stderr). */
    async paste(line: string, timeoutMs: number): Promise<{ code: number; output: string }> {
        const marker = `__readme_test_${++this.n}__`;
        const from = this.out.length;
        this.child.stdin.write(`${line}\nprintf '\\n${marker} %s\\n' "$?"\n`);
        const deadline = Date.now() + timeoutMs;
        const re = new RegExp(`\\n${marker} (\\d+)\\n`);
        for (;;) {
            const m = re.exec(this.out.slice(from));
            if (m) return { code: Number(m[1]), output: this.out.slice(from, from + m.index) };
            if (Date.now() > deadline) throw new Error(redacted(`\`${line}\` did not finish within ${timeoutMs} ms:\n${this.out.slice(from)}`));
            await new Promise((r) => setTimeout(r, 100));
        }
    }

    close(): void {
        this.child.stdin.end();
        killGroup(this.child.pid, "SIGKILL");
    }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
    if (!pid) return;
    try {
        process.kill(-pid, signal);
    } catch {
        // gone
    }
}

const README = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
const BLOCKS = readmeBlocks(README);

describe("README: its code, taken as a user takes it", function () {
    this.timeout(15 * 60 * 1000);
    const packed = usePackedProject();
    let binaries: PulumiBinaries;

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        binaries = await ensurePulumi();
    });

    it("every TypeScript block is marked, and the markers are known", () => {
        for (const b of BLOCKS) {
            if (isTs(b)) assert.ok(b.marker, `README.md:${b.line}: a TypeScript block needs a <!-- readme-test: … --> marker (typecheck, file=…, or skip)`);
            if (b.marker)
                assert.ok(
                    ["install", "file", "emulator", "run", "typecheck", "skip"].includes(kind(b)?.split("=")[0] ?? ""),
                    `README.md:${b.line}: unknown marker ${b.marker.join(" ")}`,
                );
        }
        assert.ok(BLOCKS.filter((b) => isTs(b)).length >= 4, "the README shows the quick start, a second stack, an application and @pulumi/ibm");
    });

    it("the install lines name what the packed project installs: the package, @pulumi/pulumi, typescript, @types/node", () => {
        const install = BLOCKS.filter((b) => kind(b) === "install");
        assert.equal(install.length, 1);
        const names = new Set<string>();
        for (const line of install[0].code.split("\n").filter((l) => l.trim())) {
            const words = line.trim().split(/\s+/);
            assert.deepEqual(words.slice(0, 2), ["npm", "install"], `README.md:${install[0].line}: ${line}`);
            for (const w of words.slice(2)) if (!w.startsWith("-")) names.add(w);
        }
        assert.deepEqual([...names].sort(), ["pulumi-ibmcloud-iam", ...Object.keys(USER_PACKAGES)].sort());
    });

    it("every TypeScript block compiles against the packed package (the README's tsconfig.json)", async function () {
        this.timeout(5 * 60 * 1000);
        const { project } = packed();
        const dir = path.join(project, "readme-typecheck");
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir);
        const tsconfig = BLOCKS.find((b) => kind(b) === "file=tsconfig.json");
        assert.ok(tsconfig, "the quick start has a tsconfig.json");
        const files: string[] = [];
        const origin = new Map<string, ReadmeBlock>();
        for (const b of BLOCKS.filter((x) => isTs(x) && kind(x) !== "skip")) {
            const file = `readme-line-${b.line}.ts`;
            fs.writeFileSync(path.join(dir, file), b.code);
            files.push(file);
            origin.set(file, b);
            if (option(b, "with") !== undefined) assert.equal(option(b, "with"), "@pulumi/ibm", `README.md:${b.line}: only @pulumi/ibm is declared here`);
        }
        if (BLOCKS.some((b) => option(b, "with") === "@pulumi/ibm")) {
            fs.writeFileSync(path.join(dir, "pulumi-ibm.d.ts"), PULUMI_IBM_DECLARATIONS);
            files.push("pulumi-ibm.d.ts");
        }
        const config = JSON.parse(tsconfig.code);
        fs.writeFileSync(
            path.join(dir, "tsconfig.json"),
            JSON.stringify({ ...config, compilerOptions: { ...config.compilerOptions, noEmit: true }, files }, null, 2),
        );
        const tsc = path.join(project, "node_modules", "typescript", "bin", "tsc");
        const r = await new Promise<{ code: number | null; out: string }>((resolve) =>
            childProcess.execFile(process.execPath, [tsc, "-p", dir], { cwd: dir }, (e, stdout, stderr) =>
                resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
            ),
        );
        // Errors name the README line of the block: readme-line-<fence line>.ts(<line in block>,<col>).
        const explained = r.out.replace(/readme-line-(\d+)\.ts\((\d+),(\d+)\)/g, (_m, fence, l, c) => `README.md:${Number(fence) + Number(l)}:${c}`);
        assert.equal(r.code, 0, `tsc failed:\n${explained}`);
    });

    it("the quick start, pasted into a new folder, runs through the real engine against the emulator", async function () {
        this.timeout(12 * 60 * 1000);
        const { project, top } = packed();
        const folder = path.join(project, "orders-infra"); // the README's `mkdir orders-infra && cd orders-infra`, under the install
        const home = path.join(top, "readme-home");
        fs.rmSync(folder, { recursive: true, force: true });
        fs.mkdirSync(folder);
        fs.mkdirSync(home, { recursive: true });
        for (const b of BLOCKS.filter((x) => kind(x)?.startsWith("file="))) fs.writeFileSync(path.join(folder, kind(b)!.slice("file=".length)), b.code);
        const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PULUMI_|IC_|IBMCLOUD_|npm_)/.test(k)));
        Object.assign(env, {
            HOME: home,
            PATH: [binaries.binDir, path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
            PULUMI_SKIP_UPDATE_CHECK: "true",
            NO_UPDATE_NOTIFIER: "1",
            npm_config_update_notifier: "false",
        });

        const emulatorBlocks = BLOCKS.filter((b) => kind(b) === "emulator");
        assert.equal(emulatorBlocks.length, 1);
        const emulator = childProcess.spawn("bash", ["--noprofile", "--norc", "-c", emulatorBlocks[0].code], {
            cwd: folder,
            env,
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let emulatorOut = "";
        emulator.stdout.on("data", (d: Buffer) => (emulatorOut += d.toString()));
        emulator.stderr.on("data", (d: Buffer) => (emulatorOut += d.toString()));
        const terminal = new Terminal(folder, env);
        const timings: string[] = [];
        try {
            const envFile = path.join(folder, "emulator.env");
            for (let i = 0; i < 600 && !fs.existsSync(envFile); i++) await new Promise((r) => setTimeout(r, 100));
            assert.ok(fs.existsSync(envFile), `the emulator wrote no emulator.env within 60 s:\n${emulatorOut}`);
            const emu = Object.fromEntries(
                childProcess
                    .execFileSync("bash", ["-c", '. ./emulator.env && printf "%s\\n" "$IBMCLOUD_EMULATOR_URL" "$IBMCLOUD_EMULATOR_API_KEY"'], {
                        cwd: folder,
                        encoding: "utf8",
                    })
                    .trim()
                    .split("\n")
                    .map((v, i) => [["url", "apiKey"][i], v]),
            ) as { url: string; apiKey: string };
            SECRETS.add(emu.apiKey);
            assert.ok(emulatorOut.includes("pulumi config set instanceCrn crn:v1:bluemix:public:kms:us-south:"), "the emulator printed the lines to paste");

            const runBlocks = BLOCKS.filter((b) => kind(b) === "run");
            assert.ok(runBlocks.length >= 2, "the quick start runs the stack, then cleans up");
            for (const [index, b] of runBlocks.entries()) {
                for (const line of b.code.split("\n").filter((l) => l.trim() && !l.trim().startsWith("#"))) {
                    const t = Date.now();
                    const r = await terminal.paste(line, 6 * 60 * 1000);
                    timings.push(`${((Date.now() - t) / 1000).toFixed(1)} s  ${line}`);
                    assert.equal(r.code, 0, redacted(`README.md:${b.line}: \`${line}\` exited ${r.code}:\n${r.output}`));
                    assert.ok(!r.output.includes(emu.apiKey), `\`${line}\` printed the owner API key`);
                    if (line.startsWith("pulumi up")) {
                        assert.doesNotMatch(r.output, /warning: Undefined value/, "no export is left undefined");
                    }
                    if (line.startsWith("pulumi stack output")) assert.match(r.output, /apiKey\s+\[secret\]/, "the API key shows as [secret]");
                }
                if (index === 0) {
                    // After the first block the stack is up: what the next stack and the application read is there.
                    const outputs = JSON.parse((await terminal.paste("pulumi stack output --json --show-secrets", 60_000)).output);
                    SECRETS.add(outputs.apiKey);
                    assert.match(outputs.serviceId, /^ServiceId-/);
                    assert.equal(outputs.rootKeyCreatedBy, `iam-${outputs.serviceId}`, "the root key was created as the service ID");
                    assert.equal(outputs.service, "kms");
                    assert.equal(outputs.kmsEndpoint, emu.url);
                    assert.match(outputs.instanceId, /^[0-9a-f-]{36}$/);
                    const state = (await terminal.paste("pulumi stack export", 60_000)).output;
                    assert.ok(!state.includes(outputs.apiKey) && !state.includes(emu.apiKey), "no plaintext key in state");
                }
            }
            const left = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { serviceIds: unknown[]; policies: Array<{ state: string }> };
            assert.deepEqual(left.serviceIds, [], "destroy left no service ID");
            assert.deepEqual(
                left.policies.filter((p) => p.state === "active"),
                [],
                "destroy left no active policy",
            );
            process.stdout.write(`      quick start, line by line (Node ${process.versions.node}):\n${timings.map((t) => `        ${t}`).join("\n")}\n`);
        } finally {
            terminal.close();
            killGroup(emulator.pid, "SIGINT"); // the emulator removes emulator.env on SIGINT, as after Ctrl-C
            await new Promise((r) => setTimeout(r, 500));
            killGroup(emulator.pid, "SIGKILL");
            if (!process.env.E2E_KEEP_SANDBOX) fs.rmSync(folder, { recursive: true, force: true });
        }
    });
});
