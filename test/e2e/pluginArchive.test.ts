// The plugin archive users install with `pulumi plugin install resource ibmcloud-iam <version> --file <archive>`
// (scripts/plugin-archive.sh): installed into the sandbox's own PULUMI_HOME, listed by `pulumi plugin ls`, and
// found there by the engine for a YAML program that names no plugin path (plugins on PATH ignored), which creates
// a service ID on the emulator, calls the token function and is destroyed.
import { strict as assert } from "assert";
import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";
import "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import { createSandbox, EngineSandbox, ENSURE_PULUMI_TIMEOUT_MS, REPO_ROOT } from "./support/engine";

const VERSION = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).version as string;

describe("provider plugin: the archive for `pulumi plugin install … --file`", function () {
    this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let archive: string;
    const timings: string[] = [];

    before(async () => {
        childProcess.execFileSync("bash", [path.join(REPO_ROOT, "scripts", "ensure-pulumi-yaml.sh")], {
            stdio: ["ignore", "pipe", "pipe"],
            timeout: ENSURE_PULUMI_TIMEOUT_MS,
        });
        sandbox = await createSandbox({ env: { PULUMI_IGNORE_AMBIENT_PLUGINS: "true" } });
        const start = Date.now();
        archive = childProcess
            .execFileSync("bash", [path.join(REPO_ROOT, "scripts", "plugin-archive.sh"), path.join(sandbox.dir, "archive")], {
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
                timeout: 15 * 60 * 1000,
            })
            .trim()
            .split("\n")
            .pop()!;
        timings.push(`archive: ${((Date.now() - start) / 1000).toFixed(1)} s, ${(fs.statSync(archive).size / 1048576).toFixed(1)} MiB`);
        emu = await startEmulator({ port: 0 });
    });
    after(async () => {
        if (process.env.E2E_TIMINGS) console.log(timings.join("\n"));
        await sandbox?.cleanup();
        await emu?.stop();
    });

    it("is named as Pulumi names plugin downloads and holds the executable at its top", () => {
        assert.match(
            path.basename(archive),
            new RegExp(`^pulumi-resource-ibmcloud-iam-v${VERSION.replace(/\./g, "\\.")}-(linux|darwin)-(amd64|arm64)\\.tar\\.gz$`),
        );
        const listing = childProcess.execFileSync("tar", ["-tzvf", archive], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        assert.match(listing, /^-rwx\S* .* \.\/pulumi-resource-ibmcloud-iam$/m);
        assert.match(listing, / \.\/node_modules\/pulumi-ibmcloud-iam\/dist\/plugin\/main\.js$/m);
        assert.match(listing, / \.\/node_modules\/@pulumi\/pulumi\/package\.json$/m);
        assert.doesNotMatch(listing, / \.\/node_modules\/pulumi-ibmcloud-iam\/(test|bench|scripts)\//m, "tests, bench or scripts in the archive");
    });

    it("installs into PULUMI_HOME, is listed, and serves a YAML program that names no plugin path", async () => {
        const workDir = path.join(sandbox.dir, "work", "plugin-installed");
        fs.mkdirSync(workDir, { recursive: true });
        let start = Date.now();
        await sandbox.pulumi(["plugin", "install", "resource", "ibmcloud-iam", VERSION, "--file", archive], workDir);
        timings.push(`plugin install: ${((Date.now() - start) / 1000).toFixed(1)} s`);
        const installed = path.join(sandbox.env.PULUMI_HOME, "plugins", `resource-ibmcloud-iam-v${VERSION}`, "pulumi-resource-ibmcloud-iam");
        assert.ok(fs.existsSync(installed), `${installed} after the install`);
        const ls = await sandbox.pulumi(["plugin", "ls"], workDir);
        assert.match(ls, new RegExp(`ibmcloud-iam\\s+resource\\s+${VERSION.replace(/\./g, "\\.")}`), ls);

        fs.writeFileSync(
            path.join(workDir, "Pulumi.yaml"),
            `name: plugin-installed
runtime: yaml
resources:
  app:
    type: ibmcloud-iam:index:ServiceId
    properties:
      name: orders-app
  appKey:
    type: ibmcloud-iam:index:ServiceApiKey
    properties:
      serviceId: \${app.id}
      name: orders-app-key
variables:
  token:
    fn::invoke:
      function: ibmcloud-iam:index:getAccessToken
      arguments:
        apiKey: \${appKey.apikey}
outputs:
  serviceId: \${app.id}
  tokenIamId: \${token.iamId}
`,
        );
        const stack = await sandbox.projectStack("dev", workDir, {
            config: { "ibmcloud-iam:apiKey": { value: emu.apiKey, secret: true }, "ibmcloud-iam:iamEndpoint": { value: emu.url } },
        });
        start = Date.now();
        const up = await stack.up();
        timings.push(`up: ${((Date.now() - start) / 1000).toFixed(1)} s`);
        assert.equal(up.result.summary.resourceChanges?.create, 3, up.output);
        const outs = await stack.outputs();
        assert.match(String(outs.serviceId.value), /^ServiceId-/);
        assert.match(String(outs.tokenIamId.value), /^iam-ServiceId-/);
        // No plugins: path in the project and plugins on PATH ignored: the engine can only have used the installed one.
        const state = await stack.exportStateText();
        assert.match(state, /"type":"pulumi:providers:ibmcloud-iam"/, "the default provider of the installed plugin");
        const destroy = await stack.destroy();
        assert.equal(destroy.result.summary.resourceChanges?.delete, 3, destroy.output);
    });
});
