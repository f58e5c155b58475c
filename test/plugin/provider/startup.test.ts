// What the plugin loads, in a fresh node: at start only gRPC and Pulumi's protos; a resource's module on the first
// request for its type, and no other resource's; @pulumi/pulumi's index (its closure serializer, TypeScript
// included) never for a resource request. Start-up is paid on every operation; the times are in `npm run bench`.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as path from "path";

const PLUGIN_DIR = path.resolve(__dirname, "../../../plugin");

/** Runs the served plugin in a child node: serve(), then one Check per type in `types`; the modules loaded after each step. */
function loadedModules(types: string[]): { atStart: string[]; afterRequests: string[]; checkErrors: string[] } {
    const script = `
        const { createRequire } = require("module");
        const { serve, providerService } = require(${JSON.stringify(path.join(PLUGIN_DIR, "server.js"))});
        const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi/package.json", { paths: [${JSON.stringify(PLUGIN_DIR)}] }));
        const provproto = pulumiRequire("./proto/provider_pb");
        const structproto = pulumiRequire("google-protobuf/google/protobuf/struct_pb");
        const loaded = () => Object.keys(require.cache);
        (async () => {
            const { server } = await serve({ version: "0.0.0", schema: "{}" });
            const atStart = loaded();
            const service = providerService({ version: "0.0.0", schema: "{}" });
            const checkErrors = [];
            for (const type of ${JSON.stringify(types)}) {
                const req = new provproto.CheckRequest();
                req.setUrn("urn:pulumi:dev::p::" + type + "::r");
                req.setNews(structproto.Struct.fromJavaScript({ name: "startup" }));
                await new Promise((resolve) => service.check({ request: req }, (err) => { if (err) checkErrors.push(err.message); resolve(); }));
            }
            const afterRequests = loaded();
            server.forceShutdown();
            process.stdout.write(JSON.stringify({ atStart, afterRequests, checkErrors }));
            process.exit(0);
        })().catch((e) => { console.error(e); process.exit(1); });`;
    return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8", env: { ...process.env, IC_API_KEY: "startup-test-key" } }));
}

const sdkIndex = (files: string[]) => files.filter((f) => /[\\/]@pulumi[\\/]pulumi[\\/]index\.js$/.test(f));
const ourProviders = (files: string[]) =>
    files
        .filter((f) => /[\\/]dist[\\/]provider[\\/][^\\/]+\.js$/.test(f))
        .map((f) => path.basename(f, ".js"))
        .sort();
const packageFiles = (files: string[], pkg: string) => files.filter((f) => f.includes(`${path.sep}node_modules${path.sep}${pkg}${path.sep}`));

describe("provider plugin: start-up loads what a request needs", function () {
    this.timeout(60_000);

    it("starts on gRPC and the protos alone: no resource module, no zod, no undici, no @pulumi/pulumi index", () => {
        const { atStart } = loadedModules([]);
        assert.deepStrictEqual(ourProviders(atStart), []);
        assert.deepStrictEqual(sdkIndex(atStart), []);
        assert.deepStrictEqual(packageFiles(atStart, "zod"), []);
        assert.deepStrictEqual(packageFiles(atStart, "undici"), []);
        assert.ok(packageFiles(atStart, path.join("@grpc", "grpc-js")).length > 0, "the gRPC server is loaded at start");
        assert.ok(!atStart.some((f) => /[\\/]dist[\\/](components|plugin[\\/](component|functions))\.?/.test(f)), "no component or function module at start");
    });

    it("a request loads its resource's module only, and never @pulumi/pulumi's index", () => {
        const { afterRequests, checkErrors } = loadedModules(["ibmcloud-iam:index:ServiceId", "ibmcloud-iam:index:AccessPolicy"]);
        assert.deepStrictEqual(checkErrors, []);
        const providers = ourProviders(afterRequests);
        assert.ok(providers.includes("serviceId") && providers.includes("accessPolicy"), `loaded: ${providers.join(", ")}`);
        for (const other of ["serviceApiKey", "kmsKey", "kmsKeyRing", "trustedProfile", "authorizationPolicy"]) {
            assert.ok(!providers.includes(other), `${other} was loaded for a ServiceId and an AccessPolicy request`);
        }
        assert.deepStrictEqual(sdkIndex(afterRequests), []);
    });
});
