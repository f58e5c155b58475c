// Contract of the emulator CLI: --json prints one line, flags are honoured, signals stop it cleanly.
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
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
            assert.deepStrictEqual(Object.keys(info), ["url", "accountId", "apiKey"]);
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

    it("without --json prints a summary with the exports, and stops on SIGINT", async () => {
        const p = run(["--port", "0"]);
        try {
            const line = await firstLine(p);
            assert.match(line, /listening on http:\/\/127\.0\.0\.1:\d+/);
            for (let i = 0; i < 100 && !p.stdout().includes("Ctrl-C"); i++) await new Promise((r) => setTimeout(r, 20));
            const text = p.stdout();
            for (const name of ["IBMCLOUD_IAM_API_ENDPOINT", "IC_API_KEY", "IBMCLOUD_HPCS_API_ENDPOINT", "account id", "hs-crypto"]) {
                assert.ok(text.includes(name), `summary mentions ${name}`);
            }
        } finally {
            p.child.kill("SIGINT");
        }
        assert.strictEqual(await p.exit, 0);
    });

    it("rejects unknown flags and bad instances with exit code 2", async () => {
        for (const args of [["--bogus"], ["--instance", "s3:us-south"], ["--port", "abc"]]) {
            const p = run(args);
            assert.strictEqual(await p.exit, 2, args.join(" "));
            assert.match(p.stderr(), /usage: emulator/);
            assert.strictEqual(p.stdout(), "");
        }
    });
});
