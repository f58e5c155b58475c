// examples/kms-app after a rotation, against the emulator (settings from the environment, no Pulumi): `status`
// says which files' data keys are on an old root key version, `rewrap` moves only those to the newest.
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { IamTokenManager, KmsClient } from "../../client";
import { RunningEmulator, startEmulator } from "../../emulator";

const APP = path.join(__dirname, "..", "..", "examples", "kms-app", "index.js");

describe("kms-app: versions after a rotation", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    let tokens: IamTokenManager;
    let kms: KmsClient;
    let dir: string;
    let env: NodeJS.ProcessEnv;

    before(async () => {
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }] });
        tokens = new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url });
        kms = new KmsClient({ endpoint: emu.url, instanceId: emu.instances[0].guid, httpClient: tokens.http, tokenSource: () => tokens.getToken() });
        const key = await kms.createKey({ name: "app-root" });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "kms-app-versions-"));
        env = {
            ...process.env,
            KMS_APP_API_KEY: emu.apiKey,
            KMS_APP_INSTANCE_ID: emu.instances[0].guid,
            KMS_APP_ENDPOINT: emu.url,
            KMS_APP_KEY_ID: key.id,
            IBMCLOUD_IAM_API_ENDPOINT: emu.url,
        };
    });
    after(async () => {
        fs.rmSync(dir, { recursive: true, force: true });
        await tokens.http.close();
        await emu.stop();
    });

    const app = (...argv: string[]): Promise<Record<string, unknown>[]> =>
        new Promise((resolve, reject) =>
            execFile(process.execPath, [APP, ...argv], { env }, (err, stdout, stderr) =>
                err
                    ? reject(new Error(`kms-app ${argv[0]} failed: ${stderr}`))
                    : resolve(
                          stdout
                              .trim()
                              .split("\n")
                              .map((l) => JSON.parse(l)),
                      ),
            ),
        );
    const file = (n: string) => path.join(dir, `${n}.json`);

    it("names the files on an old version and rewraps only those; every file still decrypts", async () => {
        await app("encrypt", "--file", file("old"), "--message", "written before the rotation");
        const keyId = env.KMS_APP_KEY_ID as string;
        const rotated = await kms.rotate(keyId);
        const newest = rotated.keyVersion?.id;
        await app("encrypt", "--file", file("new"), "--message", "written after the rotation");

        const status = await app("status", "--file", file("old"), "--file", file("new"));
        assert.deepStrictEqual(
            status.map((s) => [path.basename(s.file as string), s.onOldVersion, s.newestKeyVersion]),
            [
                ["old.json", true, newest],
                ["new.json", false, newest],
            ],
        );
        const newBefore = fs.readFileSync(file("new"), "utf8");

        const rewrap = await app("rewrap", "--file", file("old"), "--file", file("new"));
        assert.deepStrictEqual(
            rewrap.map((r) => [path.basename(r.file as string), r.rewrapped, r.keyVersion]),
            [
                ["old.json", true, newest],
                ["new.json", false, newest],
            ],
        );
        assert.notStrictEqual(rewrap[0].fromKeyVersion, newest);
        assert.strictEqual(fs.readFileSync(file("new"), "utf8"), newBefore, "a file already on the newest version is not rewritten");
        assert.ok((await app("status", "--file", file("old"))).every((s) => s.onOldVersion === false));
        assert.strictEqual((await app("decrypt", "--file", file("old")))[0].message, "written before the rotation");
        assert.strictEqual((await app("decrypt", "--file", file("new")))[0].message, "written after the rotation");
    });
});
