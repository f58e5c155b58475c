// Child-process entry of the cold-start bench (kms.ts): what a short-lived application (a function, a
// job, a CLI) pays from `node` to its first KMS answer. Loads the client, gets an IAM token and makes one
// authenticated KMS call (a wrap of a 32-byte data key), then prints its own figures as one JSON line:
//
//   node build/bench/coldStart.js ours|ibm '{"url":…,"apiKey":…,"instanceId":…,"keyId":…}'
//
// No import at the top: the module cache starts empty but for this file.
const [peer, argText] = process.argv.slice(2);
const args = JSON.parse(argText ?? "{}") as { url: string; apiKey: string; instanceId: string; keyId: string };

async function main(): Promise<void> {
    const t0 = performance.now();
    let loadMs: number;
    const plaintext = Buffer.alloc(32, 7);
    let ciphertext: string;
    if (peer === "ours") {
        // As an application does: the package's client entry point, by name.
        const { IamTokenManager, KmsClient } = require("pulumi-ibmcloud-iam/client") as typeof import("../client");
        loadMs = performance.now() - t0;
        const tm = new IamTokenManager({ apiKey: args.apiKey, iamEndpoint: args.url });
        const kms = new KmsClient({ endpoint: args.url, instanceId: args.instanceId, tokenSource: () => tm.getToken(), httpClient: tm.http });
        ciphertext = (await kms.wrap(args.keyId, plaintext)).toString("base64");
    } else {
        // As Key Protect's README does: the service and its own auth export (ibm-cloud-sdk-core).
        const KeyProtectV2 = require("@ibm-cloud/ibm-key-protect/ibm-key-protect-api/v2");
        const { IamAuthenticator } = require("@ibm-cloud/ibm-key-protect/auth");
        loadMs = performance.now() - t0;
        const kp = new KeyProtectV2({ authenticator: new IamAuthenticator({ apikey: args.apiKey, url: args.url }), serviceUrl: args.url });
        const res = await kp.wrapKey({ id: args.keyId, bluemixInstance: args.instanceId, keyActionWrapBody: { plaintext: plaintext.toString("base64") } });
        ciphertext = res.result.ciphertext;
    }
    if (typeof ciphertext !== "string" || ciphertext.length < 40) throw new Error(`${peer}: no ciphertext`);
    const firstUseMs = performance.now() - t0;
    // maxRSS: peak resident set of this process, KiB.
    process.stdout.write(JSON.stringify({ loadMs, firstUseMs, uptimeMs: process.uptime() * 1000, maxRssKiB: process.resourceUsage().maxRSS }) + "\n");
    // An application would exit here; keep-alive sockets must not hold the process (both peers alike).
    process.exit(0);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
