// The client entry point (`pulumi-ibmcloud-iam/client`, client/index.ts) gives an application the
// client layer without @pulumi/pulumi (and the TypeScript compiler it loads). Checked in a fresh
// process: what require.cache holds after requiring it.
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as path from "path";

const REPO_ROOT = path.resolve(__dirname, "../../..");

interface Loaded {
    exports: string[];
    /** Files in require.cache under a node_modules/<package>/ folder, by package name. */
    packages: string[];
    resolved: string;
}

/** Requires `spec` in a fresh node with cwd `cwd` and reports what got loaded. */
function loadInFreshNode(spec: string, cwd: string = REPO_ROOT): Promise<Loaded> {
    const code = `
        const m = require(${JSON.stringify(spec)});
        const packages = new Set();
        for (const f of Object.keys(require.cache)) {
            const i = f.lastIndexOf("/node_modules/");
            if (i < 0) continue;
            const rest = f.slice(i + "/node_modules/".length).split("/");
            packages.add(rest[0].startsWith("@") ? rest[0] + "/" + rest[1] : rest[0]);
        }
        process.stdout.write(JSON.stringify({ exports: Object.keys(m).sort(), packages: [...packages].sort(), resolved: require.resolve(${JSON.stringify(spec)}) }));`;
    return new Promise((resolve, reject) => {
        execFile(process.execPath, ["-e", code], { cwd }, (err, stdout, stderr) => {
            if (err) return reject(new Error(`requiring ${spec} failed: ${stderr || err.message}`));
            resolve(JSON.parse(stdout) as Loaded);
        });
    });
}

describe("client entry point: pulumi-ibmcloud-iam/client", function () {
    this.timeout(60_000);

    it("loads the client layer without loading @pulumi/pulumi", async () => {
        const loaded = await loadInFreshNode("pulumi-ibmcloud-iam/client");
        assert.equal(loaded.resolved, path.join(REPO_ROOT, "dist", "client", "index.js"));
        assert.ok(!loaded.packages.includes("@pulumi/pulumi"), `@pulumi/pulumi was loaded: ${loaded.packages.join(", ")}`);
        assert.ok(!loaded.packages.includes("typescript"), `typescript was loaded: ${loaded.packages.join(", ")}`);
        assert.deepEqual(loaded.packages, ["undici", "zod"], "the client needs undici and zod, nothing else");
        for (const name of [
            "IamClient",
            "KmsClient",
            "IamTokenManager",
            "TokenManagerPool",
            "HttpClient",
            "accessTokenProvider",
            "computeResourceTokenProvider",
            "vpcInstanceTokenProvider",
            "assumedProfileTokenProvider",
            "IbmCloudError",
            "InputError",
            "redact",
            "resolveCloudSettings",
            "kmsEndpointFor",
        ]) {
            assert.ok(loaded.exports.includes(name), `${name} is exported by the client entry`);
        }
        for (const resource of ["ServiceId", "ServiceApiKey", "AccessPolicy", "KmsKey", "KmsAccess"]) {
            // ServiceId and KmsKey also name wire types, which are types only: no value of that name.
            assert.ok(!loaded.exports.includes(resource), `the resource ${resource} is not part of the client entry`);
        }
    });

    it("the package root, which has the resources, does load @pulumi/pulumi (what the entry point avoids)", async () => {
        const loaded = await loadInFreshNode("pulumi-ibmcloud-iam");
        assert.ok(loaded.packages.includes("@pulumi/pulumi"));
        assert.ok(loaded.exports.includes("ServiceId") && loaded.exports.includes("IamClient"));
    });
});
