// Contract of the emulator CLI: --json prints one line, flags are honoured, signals stop it cleanly, and it
// tells a user what to paste: each instance's CRN, the `pulumi config set` lines, an --save-env to source.
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { call, expectStatus, tokenFor } from "./helpers";

const CLI = path.resolve(__dirname, "../../emulator/cli.js");

function run(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, stdout: () => out, stderr: () => err, exit };
}

async function firstLine(p: ReturnType<typeof run>): Promise<string> {
    for (let i = 0; i < 200; i++) {
        const nl = p.stdout().indexOf("\n");
        if (nl >= 0) return p.stdout().slice(0, nl);
        await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no output from the CLI; stderr: ${p.stderr()}`);
}

describe("emulator: CLI", () => {
    it("--json prints exactly one JSON line, serves the flags it was given, stops on SIGTERM", async () => {
        const p = run([
            "--json",
            "--port",
            "0",
            "--token-lifetime",
            "120",
            "--instance",
            "kms:eu-de:11111111-2222-3333-4444-555555555555",
            "--instance",
            "hs-crypto:us-east",
        ]);
        try {
            const info = JSON.parse(await firstLine(p));
            assert.deepStrictEqual(Object.keys(info), ["url", "accountId", "apiKey", "instances"]);
            assert.deepStrictEqual(
                info.instances.map((i: { crn: string }) => i.crn),
                [
                    `crn:v1:bluemix:public:kms:eu-de:a/${info.accountId}:11111111-2222-3333-4444-555555555555::`,
                    `crn:v1:bluemix:public:hs-crypto:us-east:a/${info.accountId}:${info.instances[1].guid}::`,
                ],
            );
            assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
            const token = await call(info.url, "POST", "/identity/token", {
                body: new URLSearchParams({ grant_type: "urn:ibm:params:oauth:grant-type:apikey", apikey: info.apiKey }).toString(),
                headers: { "Content-Type": "application/x-www-form-urlencoded" },
            });
            expectStatus(token, 200);
            assert.strictEqual(token.body.expires_in, 120);
            const state = await call(info.url, "GET", "/__emulator/state");
            assert.deepStrictEqual(
                state.body.instances.map((i: { service: string; region: string }) => `${i.service}:${i.region}`),
                ["kms:eu-de", "hs-crypto:us-east"],
            );
            assert.strictEqual(state.body.instances[0].guid, "11111111-2222-3333-4444-555555555555");
            await tokenFor(info.url, info.apiKey);
        } finally {
            p.child.kill("SIGTERM");
        }
        assert.strictEqual(await p.exit, 0);
        assert.strictEqual(p.stdout().split("\n").filter(Boolean).length, 1, "nothing but the JSON line on stdout");
    });

    it("without --json prints a summary: a Key Protect instance by default, its CRN, the lines to paste; --save-env; stops on SIGINT", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-cli-"));
        const envFile = path.join(dir, "emulator.env");
        const p = run(["--port", "0", "--save-env", envFile]);
        try {
            const line = await firstLine(p);
            assert.match(line, /listening on http:\/\/127\.0\.0\.1:\d+/);
            for (let i = 0; i < 100 && !p.stdout().includes("Ctrl-C"); i++) await new Promise((r) => setTimeout(r, 20));
            const text = p.stdout();
            const url = line.replace(/^.* on /, "");
            const account = /account id +(\S+)/.exec(text)?.[1];
            const crn = new RegExp(`crn:v1:bluemix:public:kms:us-south:a/${account}:[0-9a-f-]{36}::`).exec(text)?.[0];
            assert.ok(crn, `the summary shows the default Key Protect instance's CRN:\n${text}`);
            for (const expected of [
                `pulumi config set ibmcloud:iamEndpoint ${url}`,
                `pulumi config set ibmcloud:kmsEndpoint ${url}`,
                "pulumi config set --secret ibmcloud:apiKey -- '",
                `pulumi config set instanceCrn ${crn}`,
                `export IBMCLOUD_IAM_API_ENDPOINT=${url}`,
                "IC_API_KEY",
                "IBMCLOUD_KP_API_ENDPOINT",
            ]) {
                assert.ok(text.includes(expected), `summary has ${expected}`);
            }
            assert.ok(!text.includes("hs-crypto"), "no HPCS instance unless asked for");
            // The env file, sourced by a shell, gives the same values.
            assert.strictEqual(fs.statSync(envFile).mode & 0o777, 0o600, "the env file holds the owner key: 0600");
            const sourced = execFileSync(
                "sh",
                ["-c", `. "$1" && printf '%s\\n' "$IBMCLOUD_EMULATOR_URL" "$IBMCLOUD_EMULATOR_INSTANCE_CRN" "$IBMCLOUD_EMULATOR_API_KEY"`, "sh", envFile],
                { encoding: "utf8" },
            ).split("\n");
            assert.strictEqual(sourced[0], url);
            assert.strictEqual(sourced[1], crn);
            await tokenFor(url, sourced[2]);
        } finally {
            p.child.kill("SIGINT");
        }
        assert.strictEqual(await p.exit, 0);
        assert.ok(!fs.existsSync(envFile), "the env file is removed on stop");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("--help prints the usage with the lines to paste on stdout, exit 0", async () => {
        const p = run(["--help"]);
        assert.strictEqual(await p.exit, 0);
        assert.match(p.stdout(), /^usage: pulumi-ibmcloud-iam-emulator/);
        for (const expected of ["pulumi config set instanceCrn", "--save-env", ". ./emulator.env", "default: one Key Protect instance"]) {
            assert.ok(p.stdout().includes(expected), `--help mentions ${expected}`);
        }
        assert.strictEqual(p.stderr(), "");
    });

    it("rejects unknown flags and bad instances with exit code 2", async () => {
        for (const args of [["--bogus"], ["--instance", "s3:us-south"], ["--port", "abc"]]) {
            const p = run(args);
            assert.strictEqual(await p.exit, 2, args.join(" "));
            assert.match(p.stderr(), /usage: pulumi-ibmcloud-iam-emulator/);
            assert.strictEqual(p.stdout(), "");
        }
    });
});
