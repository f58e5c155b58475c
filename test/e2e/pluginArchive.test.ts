// The plugin archive users install with `pulumi plugin install resource ibmcloud-iam <version> --file <archive>`
// (scripts/plugin-archive.sh): installed into the sandbox's own PULUMI_HOME, listed by `pulumi plugin ls`, and
// found there by the engine for a YAML program that names no plugin path (plugins on PATH ignored), which creates
// a service ID on the emulator, calls the token function and is destroyed. And the same archive downloaded by the
// engine itself, from the schema's pluginDownloadURL as YAML's generated SDK (its package declaration) hands it on,
// with a loopback server standing in for the release host.
import { strict as assert } from "assert";
import * as childProcess from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import { pluginDownloadURL } from "../../scripts/plugin-schema";
import { createSandbox, EngineSandbox, ENSURE_PULUMI_TIMEOUT_MS, REPO_ROOT } from "./support/engine";
import { ensureYamlHost } from "./support/pluginYaml";

const PACKAGE_JSON = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
const VERSION = PACKAGE_JSON.version as string;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("provider plugin: the archive for `pulumi plugin install … --file`", function () {
    this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let archive: string;
    const timings: string[] = [];

    before(async () => {
        ensureYamlHost();
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
        assert.match(path.basename(archive), new RegExp(`^pulumi-resource-ibmcloud-iam-v${escapeRegExp(VERSION)}-(linux|darwin)-(amd64|arm64)\\.tar\\.gz$`));
        const listing = childProcess.execFileSync("tar", ["-tzvf", archive], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        assert.match(listing, /^-rwx\S* .* \.\/pulumi-resource-ibmcloud-iam$/m);
        assert.match(listing, / \.\/node_modules\/pulumi-ibmcloud-iam\/dist\/plugin\/main\.js$/m);
        assert.match(listing, / \.\/node_modules\/@pulumi\/pulumi\/package\.json$/m);
        assert.doesNotMatch(listing, / \.\/node_modules\/pulumi-ibmcloud-iam\/(test|bench|scripts)\//m, "tests, bench or scripts in the archive");
    });

    it("is downloaded by the engine from the schema's pluginDownloadURL, as YAML's generated SDK declares it", async () => {
        // A release host on loopback, laid out as GitHub's release downloads are (<owner>/<repo>/releases/download/
        // v<version>/<asset>), serving the archive under the name the script gave it: a name other than the one the
        // engine asks for is a 404 and the `up` fails.
        const release = pluginDownloadURL(PACKAGE_JSON);
        const repoPath = new URL(release.repository).pathname;
        const asset = `${repoPath}/releases/download/v${VERSION}/${path.basename(archive)}`;
        const requests: string[] = [];
        const server = http.createServer((req, res) => {
            requests.push(`${req.method} ${req.url}`);
            if (req.method === "GET" && req.url === asset) {
                res.writeHead(200, { "content-type": "application/octet-stream", "content-length": fs.statSync(archive).size });
                fs.createReadStream(archive).pipe(res);
            } else {
                res.writeHead(404).end();
            }
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        // A fresh PULUMI_HOME with automatic plugin acquisition on, plugins on PATH ignored. The engine sends only
        // the schema's URL to this host: Pulumi's override (regexp=URL) matches exactly that URL and nothing else,
        // so a wrong URL in the schema or a declaration that drops it leaves the engine asking api.github.com.
        const downloader = await createSandbox({
            env: {
                PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
                PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "false",
                PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES: `^${escapeRegExp(release.downloadURL)}$=${host}${repoPath}/releases/download/v\${VERSION}`,
            },
        });
        try {
            const workDir = path.join(downloader.dir, "work", "plugin-downloaded");
            fs.mkdirSync(workDir, { recursive: true });
            // YAML's SDK for a package is the declaration file the YAML language host generates from the schema.
            await downloader.pulumi(
                [
                    "package",
                    "gen-sdk",
                    path.join(REPO_ROOT, "plugin", "schema.json"),
                    "--language",
                    "yaml",
                    "--out",
                    path.join(workDir, "sdks"),
                    "--version",
                    VERSION,
                ],
                workDir,
            );
            const declaration = fs.readFileSync(path.join(workDir, "sdks", "yaml", `ibmcloud-iam-${VERSION}.yaml`), "utf8");
            assert.match(declaration, new RegExp(`^downloadUrl: ${escapeRegExp(release.downloadURL)}$`, "m"), declaration);
            fs.writeFileSync(
                path.join(workDir, "Pulumi.yaml"),
                `name: plugin-downloaded
runtime: yaml
resources:
  app:
    type: ibmcloud-iam:index:ServiceId
    properties:
      name: orders-downloaded
outputs:
  serviceId: \${app.id}
`,
            );
            const stack = await downloader.projectStack("dev", workDir, {
                config: { "ibmcloud-iam:apiKey": { value: emu.apiKey, secret: true }, "ibmcloud-iam:iamEndpoint": { value: emu.url } },
            });
            const start = Date.now();
            const up = await stack.up();
            timings.push(`up with the download: ${((Date.now() - start) / 1000).toFixed(1)} s`);
            assert.deepStrictEqual(requests, [`GET ${asset}`], "the engine asks the release host for the archive once, by its name");
            assert.equal(up.result.summary.resourceChanges?.create, 2, up.output);
            assert.match(String((await stack.outputs()).serviceId.value), /^ServiceId-/);
            const installed = path.join(downloader.env.PULUMI_HOME, "plugins", `resource-ibmcloud-iam-v${VERSION}`, "pulumi-resource-ibmcloud-iam");
            assert.ok(fs.existsSync(installed), `${installed} after the download`);
            const destroy = await stack.destroy();
            assert.equal(destroy.result.summary.resourceChanges?.delete, 2, destroy.output);
        } finally {
            await downloader.cleanup();
            await new Promise((resolve) => server.close(resolve));
        }
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
        assert.match(ls, new RegExp(`ibmcloud-iam\\s+resource\\s+${escapeRegExp(VERSION)}`), ls);

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
