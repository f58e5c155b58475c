import * as assert from "assert";
import { startEmulator, RunningEmulator } from "../../emulator";
import {
    HttpClient,
    IamClient,
    IamTokenManager,
    KmsClient,
    KmsClientOptions,
    IbmCloudError,
    isNotFound,
    resolveCloudSettings,
    kmsEndpointFromSettings,
} from "../../client";
import { startLocalServer, json } from "../support/localServer";

interface AdminKey {
    id: string;
    name: string;
    instance: string;
    keyRing: string;
    extractable: boolean;
    deleted: boolean;
    imported?: boolean;
}

describe("kmsClient: KmsClient against the emulator", function () {
    const PROPAGATION_MS = 800;
    let emu: RunningEmulator;
    let owner: IamClient;
    let instanceId: string;
    const closers: Array<() => Promise<void>> = [];

    function kmsFor(tokens: IamTokenManager, extra: Partial<KmsClientOptions> = {}): KmsClient {
        const settings = resolveCloudSettings({ apiKey: "unused-in-this-helper", kmsEndpoint: emu.url }, {});
        if (Object.keys(extra).length === 0) return KmsClient.forInstance(tokens, settings, { service: "hs-crypto", instanceId });
        return new KmsClient({
            endpoint: kmsEndpointFromSettings(settings, { service: "hs-crypto", instanceId }),
            instanceId,
            tokenSource: () => tokens.getToken(),
            httpClient: tokens.http,
            ...extra,
        });
    }
    function tokensFor(apiKey: string): IamTokenManager {
        const t = new IamTokenManager({ apiKey, iamEndpoint: emu.url });
        closers.push(() => t.http.close());
        return t;
    }
    async function adminKeys(): Promise<AdminKey[]> {
        return ((await (await fetch(`${emu.url}/__emulator/state`)).json()) as { kmsKeys: AdminKey[] }).kmsKeys;
    }
    /** A service ID with an API key, and (optionally) a policy granting `role` on the instance. */
    async function appIdentity(role?: string): Promise<{ apiKey: string; iamId: string }> {
        const sid = await owner.createServiceId({ name: `app-${Math.random().toString(16).slice(2)}` });
        const key = await owner.createApiKey({ name: "app-key", iam_id: sid.iam_id });
        if (role) {
            await owner.createPolicy({
                type: "access",
                subjects: [{ attributes: [{ name: "iam_id", value: sid.iam_id }] }],
                roles: [{ role_id: `crn:v1:bluemix:public:iam::::serviceRole:${role}` }],
                resources: [
                    {
                        attributes: [
                            { name: "accountId", value: emu.accountId, operator: "stringEquals" },
                            { name: "serviceName", value: "hs-crypto", operator: "stringEquals" },
                            { name: "serviceInstance", value: instanceId, operator: "stringEquals" },
                        ],
                    },
                ],
            });
        }
        return { apiKey: key.apikey!, iamId: sid.iam_id };
    }

    before(async () => {
        emu = await startEmulator({ port: 0, policyPropagationDelayMs: PROPAGATION_MS });
        instanceId = emu.instances[0].guid;
        owner = new IamClient({ tokenManager: tokensFor(emu.apiKey) });
    });
    after(async () => {
        await Promise.all(closers.map((c) => c()));
        await emu.stop();
    });

    it("creates a root key by default and a standard key with imported material", async () => {
        const kms = kmsFor(owner.tokens);
        const root = await kms.createKey({ name: "root-1", description: "wraps data keys" });
        assert.strictEqual(root.extractable, false);
        assert.strictEqual(root.state, 1);
        assert.match(root.crn ?? "", new RegExp(`:hs-crypto:us-south:a/${emu.accountId}:${instanceId}:key:${root.id}$`));

        const material = Buffer.alloc(32, 7).toString("base64");
        const std = await kms.createKey({ name: "std-1", extractable: true, payload: material });
        assert.strictEqual(std.extractable, true);
        assert.strictEqual((await kms.getKey(std.id)).payload, material, "get returns a standard key's payload");
        assert.strictEqual((await kms.getKeyMetadata(std.id)).payload, undefined, "metadata never carries it");

        const stored = await adminKeys();
        assert.ok(stored.some((k) => k.id === root.id && k.instance === instanceId && k.keyRing === "default" && !k.extractable));
        assert.ok(stored.some((k) => k.id === std.id && k.imported === true));
    });

    it("sends the key ring header", async () => {
        const kms = kmsFor(owner.tokens, { keyRing: "ring-a" });
        assert.strictEqual(await kms.createKeyRing("ring-a"), true, "as on IBM, a ring is created before keys go in it");
        const key = await kms.createKey({ name: "ringed" });
        assert.strictEqual((await adminKeys()).find((k) => k.id === key.id)?.keyRing, "ring-a");
    });

    it("lists every key across pages", async () => {
        const kms = kmsFor(owner.tokens, { pageSize: 3, keyRing: "ring-list" });
        await kms.createKeyRing("ring-list");
        const made = [];
        for (let i = 0; i < 7; i++) made.push((await kms.createKey({ name: `list-${i}` })).id);
        const listed = await kms.listKeys();
        assert.deepStrictEqual(listed.map((k) => k.id).sort(), made.sort());
    });

    it("deletes a key; deleting again or reading it afterwards reports it gone", async () => {
        const kms = kmsFor(owner.tokens);
        const key = await kms.createKey({ name: "to-delete" });
        assert.strictEqual(await kms.deleteKey(key.id), true);
        assert.ok((await adminKeys()).find((k) => k.id === key.id)?.deleted);
        assert.strictEqual(await kms.deleteKey(key.id, { force: true }), false);
        await assert.rejects(kms.getKey(key.id), (e: unknown) => isNotFound(e));
    });

    it("reports IBM's KMS reason code and message", async () => {
        await assert.rejects(kmsFor(owner.tokens).getKey("00000000-0000-4000-8000-000000000000"), (err: unknown) => {
            assert.ok(err instanceof IbmCloudError);
            assert.strictEqual(err.status, 404);
            assert.strictEqual(err.code, "KEY_NOT_FOUND_ERR");
            assert.match(err.message, /^get KMS key failed: 404 KEY_NOT_FOUND_ERR: .*[Kk]ey.* \[trace .+\]$/);
            return true;
        });
    });

    it("an identity without a policy gets 401, and is not retried unless asked", async () => {
        const app = await appIdentity();
        const kms = kmsFor(tokensFor(app.apiKey));
        await assert.rejects(kms.listKeys(), (err: unknown) => err instanceof IbmCloudError && err.status === 401 && !err.retryable);
        const started = Date.now();
        await assert.rejects(kms.waitUntilAuthorized({ timeoutMs: 300, initialIntervalMs: 50 }), (err: unknown) => {
            assert.ok(err instanceof IbmCloudError);
            assert.strictEqual(err.status, 401);
            assert.match(
                err.message,
                /^wait for KMS access failed: 401 .*still not authorized after 0 s; check that an access policy grants this identity a role on instance/,
            );
            return true;
        });
        assert.ok(Date.now() - started < 2000);
    });

    it("waitUntilAuthorized waits out policy propagation, then the app can create keys", async () => {
        const app = await appIdentity("Writer");
        const kms = kmsFor(tokensFor(app.apiKey));
        await assert.rejects(kms.listKeys(), (e: unknown) => e instanceof IbmCloudError && e.status === 401, "the new policy is not in effect yet");
        const started = Date.now();
        await kms.waitUntilAuthorized({ timeoutMs: 10_000, initialIntervalMs: 100, maxIntervalMs: 200 });
        const waited = Date.now() - started;
        assert.ok(waited < PROPAGATION_MS + 1000, `waited ${waited} ms`);
        const key = await kms.createKey({ name: "app-key-1" });
        assert.ok((await adminKeys()).some((k) => k.id === key.id));
    });
});

describe("kmsClient: wire details", () => {
    it("sends the KMS headers and body envelope, and waitUntilAuthorized stops on other errors", async () => {
        const server = await startLocalServer([
            json(201, {
                metadata: { collectionType: "application/vnd.ibm.kms.key+json", collectionTotal: 1 },
                resources: [{ id: "k1", name: "n", state: 1, extractable: false }],
            }),
            json(500, {
                metadata: { collectionType: "application/vnd.ibm.kms.error+json", collectionTotal: 1 },
                resources: [{ errorMsg: "Internal", reasons: [{ code: "INTERNAL_SERVER_ERR", message: "boom", status: 500 }] }],
            }),
        ]);
        const kms = new KmsClient({ endpoint: server.url, instanceId: "inst-guid", keyRing: "ring-1", tokenSource: async () => "tok.en.value" });
        try {
            await kms.createKey({ name: "n", expirationDate: "2030-01-01T00:00:00Z" });
            const req = server.seen[0];
            assert.strictEqual(req.url, "/api/v2/keys");
            assert.strictEqual(req.headers["authorization"], "Bearer tok.en.value");
            assert.strictEqual(req.headers["bluemix-instance"], "inst-guid");
            assert.strictEqual(req.headers["x-kms-key-ring"], "ring-1");
            assert.strictEqual(req.headers["content-type"], "application/vnd.ibm.kms.key+json");
            assert.ok(req.headers["correlation-id"]);
            assert.deepStrictEqual(JSON.parse(req.body), {
                metadata: { collectionType: "application/vnd.ibm.kms.key+json", collectionTotal: 1 },
                resources: [{ type: "application/vnd.ibm.kms.key+json", name: "n", extractable: false, expirationDate: "2030-01-01T00:00:00Z" }],
            });
            // A 500 is not an authorization delay: waitUntilAuthorized must not sit on it until the timeout.
            const fast = new KmsClient({
                endpoint: server.url,
                instanceId: "inst-guid",
                tokenSource: async () => "t",
                httpClient: new HttpClient({ retry: { maxRetries: 0 } }),
            });
            const started = Date.now();
            await assert.rejects(fast.waitUntilAuthorized({ timeoutMs: 5000 }), (e: unknown) => e instanceof IbmCloudError && e.code === "INTERNAL_SERVER_ERR");
            assert.ok(Date.now() - started < 2000);
            await fast.http.close();
        } finally {
            await kms.http.close();
            await server.stop();
        }
    });
});
