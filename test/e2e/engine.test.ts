// Smoke test of the e2e support: a trivial dynamic resource (test/e2e/programs/smoke.ts) through the
// real Pulumi engine (a program stack of the sandbox, then a hand-written Pulumi.yaml project, both
// run by `pulumi-language-nodejs` in their own process). It proves what the other e2e tests rely on:
// the binaries are found or built, the closure-serialized provider (compiled into dist/, importing an
// npm package) runs in the real plugin, `configure()` sees secret config, `additionalSecretOutputs`
// keeps a generated value out of the state in plaintext, and nothing keeps running afterwards.
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { createSandbox, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS, TOOLS_BIN } from "./support/engine";
import { PROJECT } from "./programs/smoke";
import { SECRET_SIG, SIG_KEY } from "../support/pulumiWire";

const TYPE = "pulumi-nodejs:dynamic/e2e-smoke:Thing";

describe("e2e: the real Pulumi engine", function () {
    this.timeout(ENGINE_OP_TIMEOUT_MS);
    let sandbox: EngineSandbox;

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        sandbox = await createSandbox();
    });

    after(async function () {
        this.timeout(ENGINE_OP_TIMEOUT_MS);
        await sandbox?.cleanup();
    });

    describe("program stack with a dynamic resource", function () {
        let stack: EngineStack;
        const apiKey = crypto.randomBytes(22).toString("hex");
        let token = "";

        before(async function () {
            stack = await sandbox.programStack(
                "smoke",
                { module: "smoke", export: "smoke" },
                {
                    projectName: PROJECT,
                    config: { [`${PROJECT}:apiKey`]: { value: apiKey, secret: true } },
                },
            );
        });

        it("previews the creation (provider outputs unknown)", async function () {
            const { result, output } = await stack.preview();
            assert.deepStrictEqual(result.changeSummary, { create: 2 });
            assert.match(output, /\+\s+e2e-smoke:Thing\s+smoke\s+create|pulumi-nodejs:dynamic\/e2e-smoke:Thing/);
        });

        it("creates it: outputs come from the provider run by the plugin, configure() saw the secret config", async function () {
            const { result, output } = await stack.up();
            assert.deepStrictEqual(result.summary.resourceChanges, { create: 2 }, output);
            if (sandbox.binaries.binDir === TOOLS_BIN) {
                // The plugin launcher next to the CLI is taken as bundled: no "from $PATH" warning.
                assert.doesNotMatch(output, /warning/i, output);
            }
            assert.strictEqual(result.summary.result, "succeeded");
            const outs = result.outputs;
            assert.match(String(outs.id.value), /^thing-world-[0-9a-f]{8}$/);
            assert.strictEqual(outs.greeting.value, "hello world");
            assert.strictEqual(outs.greeting.secret, false);
            assert.strictEqual(outs.apiKeyLength.value, apiKey.length);
            assert.strictEqual(outs.token.secret, true, "token is an additionalSecretOutput");
            token = String(outs.token.value);
            assert.match(token, /^[A-Za-z0-9_-]{32}$/);
        });

        it("keeps the secret output encrypted in the state, decrypted in stack outputs", async function () {
            assert.ok(token, "needs the previous test");
            const text = await stack.exportStateText();
            assert.ok(!text.includes(token), "the token value must not be in the exported state");
            assert.ok(!text.includes(apiKey), "the secret config must not be in the exported state");
            const [thing] = await stack.resourcesOfType(TYPE);
            assert.ok(thing, `a ${TYPE} in state`);
            assert.strictEqual(thing.outputs.greeting, "hello world");
            assert.strictEqual(thing.outputs.token[SIG_KEY], SECRET_SIG);
            assert.ok(typeof thing.outputs.token.ciphertext === "string");
            assert.ok(typeof thing.inputs.__provider === "string" && thing.inputs.__provider.includes("zod"));

            // The Automation API's own export (--show-secrets) decrypts: the value is found there.
            assert.ok(JSON.stringify(await stack.exportStateWithSecrets()).includes(token));

            const outputs = await stack.outputs();
            assert.strictEqual(outputs.token.secret, true);
            assert.strictEqual(outputs.token.value, token);
        });

        it("sees no changes on a second preview and on refresh", async function () {
            const preview = await stack.preview();
            assert.deepStrictEqual(preview.result.changeSummary, { same: 2 }, preview.output);
            const refresh = await stack.refresh();
            assert.deepStrictEqual(refresh.result.summary.resourceChanges, { same: 2 }, refresh.output);
        });

        it("destroys it and leaves no process behind", async function () {
            const { result, output } = await stack.destroy();
            assert.deepStrictEqual(result.summary.resourceChanges, { delete: 2 }, output);
            assert.deepStrictEqual(await stack.resourcesOfType(TYPE), []);
            assert.ok(stack.log.includes("pulumi up"), "the log keeps every operation");
            await stack.remove();
            assert.deepStrictEqual(sandbox.liveProcesses(), []);
        });
    });

    describe("plain Pulumi.yaml project (pulumi-language-nodejs)", function () {
        let stack: EngineStack;
        let projectDir: string;

        before(async function () {
            // A throwaway project inside the sandbox (inside the repo: node_modules is visible),
            // its program a compiled JavaScript file named by `main`.
            projectDir = path.join(sandbox.dir, "yaml-project");
            fs.mkdirSync(path.join(projectDir, "out"), { recursive: true });
            fs.writeFileSync(
                path.join(projectDir, "Pulumi.yaml"),
                ["name: e2e-yaml", "runtime:", "  name: nodejs", "  options:", "    typescript: false", "main: out/index.js", ""].join("\n"),
            );
            // A self-contained JavaScript program with its own dynamic provider (plain JS, builtins
            // only), as `main` would name a file compiled into dist/.
            fs.writeFileSync(
                path.join(projectDir, "out", "index.js"),
                [
                    `"use strict";`,
                    `const pulumi = require("@pulumi/pulumi");`,
                    `const crypto = require("crypto");`,
                    `const provider = {`,
                    `  async create(inputs) {`,
                    `    return { id: "yaml-" + inputs.name, outs: { name: inputs.name, greeting: "hello " + inputs.name,`,
                    `      token: crypto.randomBytes(24).toString("base64url") } };`,
                    `  },`,
                    `  async update(id, olds, news) { return { outs: { ...olds, name: news.name } }; },`,
                    `  async delete() {},`,
                    `};`,
                    `const config = new pulumi.Config();`,
                    `const thing = new pulumi.dynamic.Resource(provider, "yaml",`,
                    `  { name: config.require("who"), greeting: undefined, token: undefined },`,
                    `  { additionalSecretOutputs: ["token"] }, "e2e-yaml", "Thing");`,
                    `exports.greeting = thing.greeting;`,
                    `exports.token = thing.token;`,
                    "",
                ].join("\n"),
            );
            stack = await sandbox.projectStack("dev", projectDir, {
                config: { "e2e-yaml:who": { value: "yaml" } },
            });
        });

        it("runs up and destroy through the language host", async function () {
            const up = await stack.up();
            assert.deepStrictEqual(up.result.summary.resourceChanges, { create: 2 }, up.output);
            assert.strictEqual(up.result.outputs.greeting.value, "hello yaml");
            assert.strictEqual(up.result.outputs.token.secret, true);
            assert.ok(!(await stack.exportStateText()).includes(String(up.result.outputs.token.value)));
            const destroy = await stack.destroy();
            assert.deepStrictEqual(destroy.result.summary.resourceChanges, { delete: 2 }, destroy.output);
            await stack.remove();
            assert.deepStrictEqual(sandbox.liveProcesses(), []);
        });
    });
});
