// A provider's own KMS call made with a token IAM no longer honours: the provider fetches one fresh
// token and the call goes through. The token is revoked the way IBM does it when it rotates its signing
// key: the emulator is restarted on the same port and state with a new signing key, so every token it
// issued before fails verification with 401 while the account, the instance and the ring are unchanged.
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import "../support/failFast";
import { IamTokenManager, IbmCloudError, KmsClient } from "../../client";
import { RunningEmulator, startEmulator } from "../../emulator";
import { kmsKeyRingProvider } from "../../provider/kmsKeyRing";
import { rejection } from "../support/rejection";
import { RunningPlugin, startPlugin } from "./harness";

describe("plugin/kmsTokenRevoked: a provider's KMS call survives a revoked token", function () {
    this.timeout(60_000);
    let dir: string;
    let stateFile: string;
    let emu: RunningEmulator | undefined;
    let plugin: RunningPlugin | undefined;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "kms-token-revoked-"));
        stateFile = path.join(dir, "state.json");
        emu = await startEmulator({ port: 0, stateFile, instances: [{ service: "kms", region: "us-south" }] });
        plugin = await startPlugin({ config: { "ibmcloud:apiKey": emu.apiKey, "ibmcloud:iamEndpoint": emu.url }, secretKeys: ["ibmcloud:apiKey"] });
    });
    after(async () => {
        await plugin?.stop();
        await emu?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    /** Restarts the emulator on the same port and state, signing with a new key. */
    async function revokeEveryToken(): Promise<void> {
        const port = Number(new URL(emu!.url).port);
        await emu!.stop();
        emu = undefined;
        const state = JSON.parse(fs.readFileSync(stateFile, "utf8"));
        const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
        state.signingKey = { kid: `${state.signingKey.kid}r`, privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
        fs.writeFileSync(stateFile, JSON.stringify(state));
        emu = await startEmulator({ port, stateFile });
    }

    it("refresh reads a key ring with a fresh token after the cached one is revoked", async () => {
        const url = emu!.url;
        const guid = emu!.instances[0].guid;
        const news = { instanceId: guid, service: "kms", endpoint: url, keyRingId: "app-keys", apiKey: emu!.apiKey };
        const checked = await plugin!.check(kmsKeyRingProvider, {}, news);
        assert.deepStrictEqual(checked.failures, []);
        const created = await plugin!.create(kmsKeyRingProvider, checked.inputs);

        // A client holding a token from before, with no way to replace it, shows the token is refused.
        const tokens = new IamTokenManager({ apiKey: emu!.apiKey, iamEndpoint: url });
        const stale = new KmsClient({ endpoint: url, instanceId: guid, tokenSource: () => tokens.getToken(), httpClient: tokens.http });
        await stale.listKeyRings();
        await revokeEveryToken();
        try {
            const refused = await rejection<IbmCloudError>(stale.listKeyRings());
            assert.ok(refused instanceof IbmCloudError && refused.status === 401, `the old token is refused: ${refused.message}`);
        } finally {
            await tokens.http.close();
        }

        const read = await plugin!.read(kmsKeyRingProvider, created.id, created.outs);
        assert.strictEqual(read.id, "app-keys");
        assert.deepStrictEqual(read.props, created.outs, "refresh finds the ring as create recorded it");
    });
});
