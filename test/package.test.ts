// What a consumer can import from the package (package.json `exports`): the public entry points, and
// the provider modules that state written by any release names (the by-name providers load them inside
// the plugin: see CONTRIBUTING.md, "The state format is a contract"). Nothing else.
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { locateProvider, moduleLocation } from "../provider/dynamicProvider";
import { PROVIDER_BY_EXPORT } from "./support/resources";

const REPO_ROOT = path.resolve(__dirname, "../..");
/** Every resource's provider: state names each by its module path and export (both forms below). */
const PROVIDERS = PROVIDER_BY_EXPORT;
const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));

/** How each specifier resolves from a consumer project whose node_modules holds the package. */
async function resolveAsConsumer(specs: string[]): Promise<string[]> {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "package-exports-"));
    try {
        fs.mkdirSync(path.join(project, "node_modules"));
        fs.symlinkSync(REPO_ROOT, path.join(project, "node_modules", "pulumi-ibmcloud-iam"), "dir");
        const code = `process.stdout.write(JSON.stringify(${JSON.stringify(specs)}.map((s) => { try { return require("fs").realpathSync(require.resolve(s)); } catch (e) { return "FAILED " + e.code; } })))`;
        return await new Promise<string[]>((resolve, reject) => {
            execFile(process.execPath, ["-e", code], { cwd: project }, (err, stdout, stderr) =>
                err ? reject(new Error(stderr || err.message)) : resolve(JSON.parse(stdout)),
            );
        });
    } finally {
        fs.rmSync(project, { recursive: true, force: true });
    }
}

describe("package: what a consumer can import", function () {
    this.timeout(60_000);

    it("the public entry points resolve: the root, ./client, ./emulator, ./package.json", async () => {
        const cases: Array<[string, string]> = [
            ["pulumi-ibmcloud-iam", "dist/index.js"],
            ["pulumi-ibmcloud-iam/client", "dist/client/index.js"],
            ["pulumi-ibmcloud-iam/emulator", "dist/emulator/index.js"],
            ["pulumi-ibmcloud-iam/package.json", "package.json"],
        ];
        assert.deepEqual(
            await resolveAsConsumer(cases.map((c) => c[0])),
            cases.map((c) => path.join(REPO_ROOT, c[1])),
        );
    });

    it("every provider module a by-name provider names in state resolves, at the path and export it names", async () => {
        const located = Object.entries(PROVIDERS).map(([name, p]) => {
            const where = locateProvider(p);
            assert.ok(where, `${name} is exported by exactly one module of provider/`);
            assert.equal(where.exportName, name, "the export name is the state format's");
            assert.match(where.spec, /^pulumi-ibmcloud-iam\/dist\/provider\/[A-Za-z]+\.js$/);
            return where;
        });
        const resolved = await resolveAsConsumer(located.map((w) => w.spec));
        assert.deepEqual(
            resolved,
            located.map((w) => fs.realpathSync(w.file)),
            "each by-name spec is in package.json exports",
        );
    });

    it("every module-shaped provider state names (installed from npm: one require of it) resolves, and its whole export is the provider", async () => {
        const modules = Object.entries(PROVIDERS).map(([name, p]) => {
            const where = locateProvider(p);
            assert.ok(where, name);
            const mod = moduleLocation(where);
            assert.match(mod.spec, /^pulumi-ibmcloud-iam\/dist\/provider\/module\/[A-Za-z]+\.js$/);
            assert.equal(require(mod.file), p, `${mod.spec} exports ${name} as module.exports`);
            return mod;
        });
        const resolved = await resolveAsConsumer(modules.map((m) => m.spec));
        assert.deepEqual(
            resolved,
            modules.map((m) => fs.realpathSync(m.file)),
            "each module spec is in package.json exports",
        );
    });

    it("internals are not importable: dist/provider plumbing, the client's modules, tests, bench, scripts", async () => {
        const internal = [
            "pulumi-ibmcloud-iam/dist/provider/check/validate.js",
            "pulumi-ibmcloud-iam/dist/client/http.js",
            "pulumi-ibmcloud-iam/dist/emulator/core/state.js",
            "pulumi-ibmcloud-iam/dist/index.js",
            "pulumi-ibmcloud-iam/test/package.test.ts",
            "pulumi-ibmcloud-iam/scripts/ensure-pulumi.sh",
        ];
        for (const r of await resolveAsConsumer(internal)) assert.equal(r, "FAILED ERR_PACKAGE_PATH_NOT_EXPORTED");
    });

    it("declares what the release promises: Node >= 22, @pulumi/pulumi as a peer, caret ranges, a bin for the emulator", () => {
        assert.equal(pkg.private, undefined, "publishable");
        assert.equal(pkg.engines.node, ">=22");
        assert.match(pkg.peerDependencies["@pulumi/pulumi"], /^\^3\.\d+\.\d+$/);
        assert.equal(pkg.dependencies["@pulumi/pulumi"], undefined, "never a dependency: one SDK copy in the consumer's tree");
        for (const dep of ["undici", "zod"]) assert.match(pkg.dependencies[dep], /^\^\d/, `${dep} as a caret range`);
        assert.equal(pkg.bin["pulumi-ibmcloud-iam-emulator"], "dist/emulator/cli.js");
        assert.match(fs.readFileSync(path.join(REPO_ROOT, "emulator", "cli.ts"), "utf8"), /^#!\/usr\/bin\/env node\n/, "the bin starts with a node shebang");
    });
});
