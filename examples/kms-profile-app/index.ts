// An application running on a trusted profile (examples/kms-profile): it holds no API key. In its pod
// the platform mounts a compute-resource token; the app trades it for the profile's IAM token (IBM's
// cr-token grant, `computeResourceTokenProvider`) and wraps and unwraps a fresh data key with the root key.
// A plain Node program: only `pulumi-ibmcloud-iam/client`, no Pulumi.
//
//   node build/examples/kms-profile-app/index.js
//
// Settings (the stack's outputs): KMS_APP_PROFILE_ID (or KMS_APP_PROFILE_NAME), KMS_APP_INSTANCE_ID,
// KMS_APP_ENDPOINT, KMS_APP_KEY_ID; the token file: KMS_APP_CR_TOKEN_FILE, else the paths IBM's SDK reads
// (/var/run/secrets/tokens/sa-token, …). IAM: IBMCLOUD_IAM_API_ENDPOINT, else public IAM.
// Prints one JSON line: the identity KMS saw and whether the data key came back intact. Exit 3 when IAM or
// KMS refuses the identity, 1 on other errors. Never prints a token or key material.
import * as crypto from "crypto";
import * as client from "pulumi-ibmcloud-iam/client";

function need(name: string): string {
    const v = process.env[name];
    if (!v) throw new Error(`set ${name} (the kms-profile stack's outputs give it)`);
    return v;
}

async function main(): Promise<void> {
    const profileId = process.env.KMS_APP_PROFILE_ID;
    const profileName = process.env.KMS_APP_PROFILE_NAME;
    if (!profileId && !profileName) throw new Error("set KMS_APP_PROFILE_ID or KMS_APP_PROFILE_NAME (the stack's profileId / profileName)");
    const instanceId = need("KMS_APP_INSTANCE_ID");
    const keyId = need("KMS_APP_KEY_ID");
    const iamEndpoint = process.env.IBMCLOUD_IAM_API_ENDPOINT;
    const crTokenFilename = process.env.KMS_APP_CR_TOKEN_FILE;
    const tokens = client.computeResourceTokenProvider({
        ...(profileId ? { profileId } : { profileName }),
        ...(crTokenFilename ? { crTokenFilename } : {}),
        ...(iamEndpoint ? { iamEndpoint } : {}),
    });
    const kms = new client.KmsClient({
        endpoint: need("KMS_APP_ENDPOINT"),
        instanceId,
        tokenSource: () => tokens.getAccessToken(),
        invalidateToken: () => tokens.invalidate(),
    });
    try {
        const dataKey = crypto.randomBytes(32);
        const aad = { aad: ["kms-profile-app"] };
        const wrapped = await kms.wrap(keyId, dataKey, aad);
        const unwrapped = await kms.unwrap(keyId, wrapped, aad);
        const intact = unwrapped.equals(dataKey);
        dataKey.fill(0);
        unwrapped.fill(0);
        const info = await tokens.getTokenInfo();
        console.log(JSON.stringify({ iamId: info.iamId, keyId, wrappedBytes: wrapped.length, unwrappedIntact: intact }));
        if (!intact) process.exitCode = 1;
    } finally {
        await tokens.close();
    }
}

main().catch((err: Error & { status?: number }) => {
    console.error(`kms-profile-app: ${err.message}`);
    process.exitCode = err.status === 401 || err.status === 403 || err.status === 400 ? 3 : 1;
});
