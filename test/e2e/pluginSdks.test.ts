// The SDKs other languages use, generated from the plugin's schema by scripts/gen-sdks.sh with Pulumi's own
// generators and checked as far as this machine can: the Go SDK builds and vets against the Pulumi Go SDK, the
// Python SDK byte-compiles, the Node and .NET SDKs are generated (no .NET toolchain here). Each SDK has every
// resource, the provider, the token function and the KmsAccess component.
import { strict as assert } from "assert";
import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";
import "../support/failFast";
import { REPO_ROOT } from "./support/engine";

const SDK_DIR = path.join(REPO_ROOT, ".tools", "sdk");
// A cold Go build cache makes the first `go vet` analyse the ~780 packages under the Pulumi Go SDK (minutes on a
// loaded 2-core machine); with the cache warm the whole script takes seconds.
const GEN_SDKS_TIMEOUT_MS = 25 * 60 * 1000;

function filesUnder(dir: string): string[] {
    return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).flatMap((e) => (e.isFile() ? [path.join(e.parentPath, e.name)] : []));
}

describe("provider plugin: SDKs generated from its schema (scripts/gen-sdks.sh)", function () {
    this.timeout(GEN_SDKS_TIMEOUT_MS + 60_000);
    let output = "";

    before(() => {
        const start = Date.now();
        const r = childProcess.spawnSync("bash", [path.join(REPO_ROOT, "scripts", "gen-sdks.sh")], {
            cwd: REPO_ROOT,
            encoding: "utf8",
            timeout: GEN_SDKS_TIMEOUT_MS,
            killSignal: "SIGKILL",
        });
        output = `${r.stdout}${r.stderr}`;
        if (process.env.E2E_TIMINGS) console.log(`gen-sdks.sh: ${((Date.now() - start) / 1000).toFixed(1)} s\n${output}`);
        assert.equal(r.status, 0, `gen-sdks.sh failed (${r.error?.message ?? `exit ${r.status}`}):\n${output}`);
    });

    const schema = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "plugin", "schema.json"), "utf8")) as { resources: Record<string, unknown> };
    const names = Object.keys(schema.resources).map((t) => t.split(":")[2]);
    const camel = (n: string) => `${n[0].toLowerCase()}${n.slice(1)}`;
    const snake = (n: string) => n.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

    it("Go: go build and go vet clean; a file per resource, the component and the function", () => {
        assert.match(output, /^go: \d+ files, go build and go vet \.\/\.\.\. clean/m);
        const files = filesUnder(path.join(SDK_DIR, "go")).map((f) => path.basename(f));
        for (const n of [...names.map(camel), "getAccessToken", "provider"]) assert.ok(files.includes(`${n}.go`), `${n}.go missing from the Go SDK`);
    });

    it("Python: byte-compiles; a module per resource, the component and the function", () => {
        assert.match(output, /^python: \d+ files, byte-compiled/m);
        const files = filesUnder(path.join(SDK_DIR, "python")).map((f) => path.basename(f));
        for (const n of [...names.map(snake), "get_access_token", "provider"]) assert.ok(files.includes(`${n}.py`), `${n}.py missing from the Python SDK`);
        assert.ok(
            files.some((f) => f.endsWith(".pyc")),
            "no byte-compiled file",
        );
    });

    it(".NET: generated, a class per resource, the component and the function, and the project file", () => {
        assert.match(output, /^dotnet: \d+ files/m);
        const files = filesUnder(path.join(SDK_DIR, "dotnet")).map((f) => path.basename(f));
        for (const n of [...names, "GetAccessToken", "Provider"]) assert.ok(files.includes(`${n}.cs`), `${n}.cs missing from the .NET SDK`);
        assert.ok(
            files.some((f) => f.endsWith(".csproj")),
            "no .csproj",
        );
    });

    it("each SDK hands the schema's pluginDownloadURL to the engine (so a program fetches the plugin it lacks)", () => {
        const url = (schema as unknown as { pluginDownloadURL: string }).pluginDownloadURL;
        assert.match(url, /^github:\/\/api\.github\.com\/[\w.-]+\/[\w.-]+$/);
        const json = (...p: string[]) => JSON.parse(fs.readFileSync(path.join(SDK_DIR, ...p), "utf8"));
        assert.equal(json("nodejs", "package.json").pulumi.server, url, "Node: package.json pulumi.server");
        assert.equal(json("python", "pulumi_ibmcloud_iam", "pulumi-plugin.json").server, url, "Python: pulumi-plugin.json");
        assert.equal(json("go", "ibmcloudiam", "pulumi-plugin.json").server, url, "Go: pulumi-plugin.json");
        const dotnet = filesUnder(path.join(SDK_DIR, "dotnet")).find((f) => path.basename(f) === "pulumi-plugin.json");
        assert.ok(dotnet, "no pulumi-plugin.json in the .NET SDK");
        assert.equal(JSON.parse(fs.readFileSync(dotnet, "utf8")).server, url, ".NET: pulumi-plugin.json");
    });

    it("Node: generated, a module per resource, the component and the function", () => {
        assert.match(output, /^nodejs: \d+ files/m);
        const files = filesUnder(path.join(SDK_DIR, "nodejs")).map((f) => path.basename(f));
        for (const n of [...names.map(camel), "getAccessToken", "provider"]) assert.ok(files.includes(`${n}.ts`), `${n}.ts missing from the Node SDK`);
    });
});
