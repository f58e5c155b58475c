// KmsKey through the REAL dynamic-provider plugin against the emulator: keys are created and managed as
// the service ID whose API key is the resource's `apiKey`, rotation refreshes the stored credential,
// and refresh/destroy cope with a key rotated outside Pulumi.
import * as assert from "assert";
import "../support/failFast";
import { Emulator } from "../../emulator/app";
import { IamClient, IamTokenManager, KmsClient } from "../../client";
import { kmsKeyProvider } from "../../provider/kmsKey";
import { PluginCallError, Props, RunningPlugin, startPlugin } from "./harness";

interface AdminKmsKey {
    id: string;
    instance: string;
    keyRing: string;
    createdBy: string;
    deleted: boolean;
    state: number;
    deletedBy?: string;
    extractable: boolean;
}

const NO_ENV_CREDENTIALS = {
    IC_API_KEY: undefined,
    IBMCLOUD_API_KEY: undefined,
    IBMCLOUD_IAM_API_ENDPOINT: undefined,
    IC_REGION: undefined,
    IBMCLOUD_REGION: undefined,
};

async function rejection(p: Promise<unknown>): Promise<Error> {
    try {
        await p;
    } catch (e) {
        return e as Error;
    }
    throw new Error("expected a rejection");
}

describe("plugin/kmsKey: KmsKey through the real plugin, as a service ID", function () {
    this.timeout(60_000);
    let emu: Emulator;
    let url: string;
    let hpcs: string;
    let keyProtect: string;
    let owner: IamClient;
    /** Plugin with the deployer's key in stack config (fallback available). */
    let withDeployer: RunningPlugin;
    /** Plugin with endpoints only: everything runs as the service ID or fails. */
    let serviceOnly: RunningPlugin;
    const kmsRequests: string[] = [];
    const closers: Array<() => Promise<void>> = [];
    const provider = kmsKeyProvider;

    function tokensFor(apiKey: string): IamTokenManager {
        const t = new IamTokenManager({ apiKey, iamEndpoint: url });
        closers.push(() => t.http.close());
        return t;
    }
    async function adminKeys(): Promise<AdminKmsKey[]> {
        return ((await (await fetch(`${url}/__emulator/state`)).json()) as { kmsKeys: AdminKmsKey[] }).kmsKeys;
    }
    async function identity(role?: "Writer" | "Manager" | "Reader", instance = hpcs, service = "hs-crypto") {
        const sid = await owner.createServiceId({ name: `app-${Math.random().toString(16).slice(2, 8)}` });
        const key = await owner.createApiKey({ name: "app-key", iam_id: sid.iam_id });
        if (role) {
            await owner.createPolicy({
                type: "access",
                subjects: [{ attributes: [{ name: "iam_id", value: sid.iam_id }] }],
                roles: [{ role_id: `crn:v1:bluemix:public:iam::::serviceRole:${role}` }],
                resources: [
                    {
                        attributes: [
                            { name: "accountId", value: emu.store.data.accountId, operator: "stringEquals" },
                            { name: "serviceName", value: service, operator: "stringEquals" },
                            { name: "serviceInstance", value: instance, operator: "stringEquals" },
                        ],
                    },
                ],
            });
        }
        return { sid, apiKey: key.apikey!, apiKeyId: key.id };
    }
    async function createKey(plugin: RunningPlugin, news: Props) {
        const checked = await plugin.check(provider, {}, news);
        assert.deepStrictEqual(checked.failures, []);
        return { ...(await plugin.create(provider, checked.inputs)), inputs: checked.inputs };
    }

    before(async () => {
        emu = new Emulator({
            instances: [
                { service: "hs-crypto", region: "us-south" },
                { service: "kms", region: "eu-de" },
            ],
        });
        emu.use(async (ctx, next) => {
            if (ctx.path.startsWith("/api/v2/")) kmsRequests.push(`${ctx.method} ${ctx.path}${ctx.url.search}`);
            await next();
        });
        url = await emu.listen(0, "127.0.0.1");
        hpcs = emu.store.data.instances[0].guid;
        keyProtect = emu.store.data.instances[1].guid;
        owner = new IamClient({ tokenManager: tokensFor(emu.store.data.ownerApiKey) });
        const endpoints = { "ibmcloud:iamEndpoint": url, "ibmcloud:kmsEndpoint": url };
        [withDeployer, serviceOnly] = await Promise.all([
            startPlugin({ config: { ...endpoints, "ibmcloud:apiKey": emu.store.data.ownerApiKey }, secretKeys: ["ibmcloud:apiKey"], env: NO_ENV_CREDENTIALS }),
            startPlugin({ config: endpoints, env: NO_ENV_CREDENTIALS }),
        ]);
    });
    after(async () => {
        await Promise.all([withDeployer?.stop(), serviceOnly?.stop()]);
        await Promise.all(closers.map((c) => c()));
        await emu?.close();
    });

    it("creates root and standard keys as the service ID: KMS records the service ID as creator", async () => {
        const app = await identity("Manager");
        const root = await createKey(serviceOnly, { instanceId: hpcs, name: "app-root", description: "wraps app data keys", apiKey: app.apiKey });
        assert.strictEqual(root.outs.createdBy, app.sid.iam_id);
        assert.deepStrictEqual(
            [root.outs.extractable, root.outs.type, root.outs.state, root.outs.keyRing, root.outs.service, root.outs.endpoint, root.outs.region],
            [false, "root", 1, "default", "hs-crypto", url, "us-south"],
        );
        assert.match(String(root.outs.crn), new RegExp(`:hs-crypto:us-south:a/${emu.store.data.accountId}:${hpcs}:key:${root.id}$`));
        assert.strictEqual(root.outs.apiKey, app.apiKey, "state keeps the service ID's key (secret) for refresh and destroy");

        // On IBM a ring must exist before a key goes into it (the emulator refuses it otherwise too).
        await new KmsClient({ endpoint: url, instanceId: keyProtect, tokenSource: () => owner.tokens.getToken(), httpClient: owner.http }).createKeyRing(
            "app-ring",
        );
        const std = await createKey(serviceOnly, {
            instanceId: keyProtect,
            service: "kms",
            region: "eu-de",
            endpoint: url,
            name: "app-standard",
            type: "standard",
            keyRing: "app-ring",
            apiKey: (await identity("Writer", keyProtect, "kms")).apiKey,
        });
        assert.deepStrictEqual([std.outs.extractable, std.outs.type, std.outs.keyRing], [true, "standard", "app-ring"]);
        assert.match(String(std.outs.crn), /:kms:eu-de:a\//);

        const stored = await adminKeys();
        assert.strictEqual(stored.find((k) => k.id === root.id)?.createdBy, app.sid.iam_id);
        assert.strictEqual(stored.find((k) => k.id === std.id)?.keyRing, "app-ring");
        assert.notStrictEqual(stored.find((k) => k.id === root.id)?.createdBy, (await owner.tokenInfo()).iamId, "not the deployer");
    });

    it("imports key material and records it as imported", async () => {
        const app = await identity("Writer");
        const material = Buffer.alloc(32, 9).toString("base64");
        const imported = await createKey(serviceOnly, { instanceId: hpcs, name: "imported-root", payload: material, apiKey: app.apiKey });
        assert.strictEqual(imported.outs.imported, true);
        assert.strictEqual(imported.outs.payload, material);
    });

    it("refuses a service ID without a policy with an error naming the identity, the instance and the fix", async () => {
        const lonely = await identity();
        const checked = await serviceOnly.check(provider, {}, { instanceId: hpcs, name: "forbidden", apiKey: lonely.apiKey });
        const err = await rejection(serviceOnly.create(provider, checked.inputs));
        assert.ok(err instanceof PluginCallError, err.message);
        assert.match(err.details, /^create KMS key failed: 401/);
        assert.ok(err.details.includes(`${lonely.sid.iam_id} may not create keys (Writer or Manager) on hs-crypto instance ${hpcs}`), err.details);
        assert.match(err.details, /give it an access policy/);
        assert.ok(!err.details.includes(lonely.apiKey));
        assert.ok(!(await adminKeys()).some((k) => k.createdBy === lonely.sid.iam_id));

        // A Reader may look but not create.
        const reader = await identity("Reader");
        const err2 = await rejection(serviceOnly.create(provider, { ...checked.inputs, apiKey: reader.apiKey }));
        assert.match((err2 as PluginCallError).details, /may not create keys/);
    });

    it("reads live state; rotation updates the stored key in place, and destroy then runs with the current key", async () => {
        const app = await identity("Manager");
        const key = await createKey(serviceOnly, { instanceId: hpcs, name: "rotating", apiKey: app.apiKey });

        const read = await serviceOnly.read(provider, key.id, key.outs);
        assert.strictEqual(read.id, key.id);
        assert.deepStrictEqual(read.props, key.outs);
        assert.strictEqual(read.inputs?.name, "rotating");

        // Rotation: a new key for the same service ID, then the old one deleted (what a replaced ServiceApiKey does).
        const newKey = await owner.createApiKey({ name: "app-key-2", iam_id: app.sid.iam_id });
        const news = (await serviceOnly.check(provider, key.inputs, { ...key.inputs, apiKey: newKey.apikey! })).inputs;
        const diff = await serviceOnly.diff(provider, key.id, key.outs, news);
        assert.deepStrictEqual([diff.changes, diff.replaces], ["some", []], "an in-place update, never a new KMS key");
        const updated = await serviceOnly.update(provider, key.id, key.outs, news);
        assert.strictEqual(updated.outs.apiKey, newKey.apikey);
        assert.strictEqual(updated.outs.keyId, key.id);
        await owner.deleteApiKey(app.apiKeyId);

        assert.strictEqual((await serviceOnly.read(provider, key.id, updated.outs)).id, key.id, "refresh works with the current key");
        await serviceOnly.delete(provider, key.id, updated.outs);
        const gone = (await adminKeys()).find((k) => k.id === key.id);
        assert.strictEqual(gone?.deleted, true);
        assert.strictEqual(gone?.deletedBy, app.sid.iam_id, "deleted as the service ID");
    });

    it("does not store a new apiKey that cannot see the key, and says so", async () => {
        const app = await identity("Manager");
        const key = await createKey(serviceOnly, { instanceId: hpcs, name: "guarded", apiKey: app.apiKey });
        const stranger = await identity();
        const err = await rejection(serviceOnly.update(provider, key.id, key.outs, { ...key.inputs, apiKey: stranger.apiKey }));
        assert.match((err as PluginCallError).details, /may not read keys .* the new apiKey was not stored; the previous one is kept in state/);
        await serviceOnly.delete(provider, key.id, key.outs);
    });

    it("after a rotation outside Pulumi, refresh and destroy fall back to the deployer's credentials, or say they cannot", async () => {
        const app = await identity("Manager");
        const key = await createKey(serviceOnly, { instanceId: hpcs, name: "orphaned-credential", apiKey: app.apiKey });
        await owner.deleteApiKey(app.apiKeyId); // state still holds the deleted key
        // A later `pulumi refresh` / `destroy` is a new plugin process: no token cached from before.
        const endpoints = { "ibmcloud:iamEndpoint": url, "ibmcloud:kmsEndpoint": url };
        const [later, laterWithDeployer] = await Promise.all([
            startPlugin({ config: endpoints, env: NO_ENV_CREDENTIALS }),
            startPlugin({ config: { ...endpoints, "ibmcloud:apiKey": emu.store.data.ownerApiKey }, secretKeys: ["ibmcloud:apiKey"], env: NO_ENV_CREDENTIALS }),
        ]);
        try {
            const noFallback = await rejection(later.read(provider, key.id, key.outs));
            assert.match((noFallback as PluginCallError).details, /^get IAM access token failed: 400 \(BXNIM0415E\)/);
            assert.match(
                (noFallback as PluginCallError).details,
                /IAM rejected the service ID's API key stored in state .* no deployer credentials are configured to refresh with instead: set `pulumi config set --secret ibmcloud:apiKey/,
            );
            assert.ok(!(noFallback as PluginCallError).details.includes(app.apiKey));
            const noDelete = await rejection(later.delete(provider, key.id, key.outs));
            assert.match((noDelete as PluginCallError).details, /no deployer credentials are configured to destroy with/);
            assert.strictEqual((await adminKeys()).find((k) => k.id === key.id)?.deleted, false);

            const refreshed = await laterWithDeployer.read(provider, key.id, key.outs);
            assert.strictEqual(refreshed.id, key.id);
            assert.strictEqual(refreshed.props.createdBy, app.sid.iam_id);
            await laterWithDeployer.delete(provider, key.id, key.outs);
            const stored = (await adminKeys()).find((k) => k.id === key.id);
            assert.strictEqual(stored?.deleted, true);
            assert.strictEqual(stored?.deletedBy, (await owner.tokenInfo()).iamId, "deleted with the deployer's credentials");
        } finally {
            await Promise.all([later.stop(), laterWithDeployer.stop()]);
        }
    });

    it("reads a key deleted out of band as gone, and deleting it again succeeds", async () => {
        const app = await identity("Manager");
        const key = await createKey(serviceOnly, { instanceId: hpcs, name: "drifting", apiKey: app.apiKey });
        const kms = new KmsClient({ endpoint: url, instanceId: hpcs, tokenSource: () => owner.tokens.getToken(), httpClient: owner.http });
        assert.strictEqual(await kms.deleteKey(key.id), true);

        assert.deepStrictEqual(await serviceOnly.read(provider, key.id, key.outs), { id: "", props: {} });
        await serviceOnly.delete(provider, key.id, key.outs);
        const unknownKey = "00000000-0000-4000-8000-000000000000";
        assert.strictEqual((await serviceOnly.read(provider, unknownKey, { ...key.outs, keyId: unknownKey })).id, "");
    });

    it("force: changes in place and sends ?force=true on delete", async () => {
        const app = await identity("Manager");
        const key = await createKey(serviceOnly, { instanceId: hpcs, name: "forced", apiKey: app.apiKey });
        const news = (await serviceOnly.check(provider, key.inputs, { ...key.inputs, force: true })).inputs;
        assert.deepStrictEqual((await serviceOnly.diff(provider, key.id, key.outs, news)).replaces, []);
        const updated = await serviceOnly.update(provider, key.id, key.outs, news);
        assert.strictEqual(updated.outs.force, true);

        kmsRequests.length = 0;
        await serviceOnly.delete(provider, key.id, updated.outs);
        assert.deepStrictEqual(kmsRequests, [`DELETE /api/v2/keys/${key.id}?force=true`]);

        const plain = await createKey(serviceOnly, { instanceId: hpcs, name: "unforced", apiKey: app.apiKey });
        kmsRequests.length = 0;
        await serviceOnly.delete(provider, plain.id, plain.outs);
        assert.deepStrictEqual(kmsRequests, [`DELETE /api/v2/keys/${plain.id}`]);
    });

    it("a key other services registered, under dual authorization: destroy names each fix and deletes once both are met", async () => {
        const app = await identity("Manager");
        const approver = await identity("Manager");
        const key = await createKey(serviceOnly, { instanceId: hpcs, name: "registered", apiKey: app.apiKey });
        const crn = "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:cos-1:bucket:ledger";
        const reg = await fetch(`${url}/__emulator/kms/registrations`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ instance: hpcs, key: key.id, resourceCrn: crn }),
        });
        assert.strictEqual(reg.status, 201);
        const kms = (apiKey: string) => {
            const t = tokensFor(apiKey);
            return new KmsClient({ endpoint: url, instanceId: hpcs, httpClient: t.http, tokenSource: () => t.getToken() });
        };
        await kms(app.apiKey).setKeyPolicies(key.id, { dualAuthDelete: { enabled: true } });

        const protectedErr = (await rejection(serviceOnly.delete(provider, key.id, key.outs))) as PluginCallError;
        assert.match(protectedErr.details, /PROTECTED_RESOURCE_ERR/);
        assert.match(protectedErr.details, /protects resources other services registered with it/);
        assert.match(protectedErr.details, /set force: true on the KmsKey and run `pulumi up`/);

        const forced = await serviceOnly.update(
            provider,
            key.id,
            key.outs,
            (await serviceOnly.check(provider, key.inputs, { ...key.inputs, force: true })).inputs,
        );
        const dualErr = (await rejection(serviceOnly.delete(provider, key.id, forced.outs))) as PluginCallError;
        assert.match(dualErr.details, /AUTHORIZATIONS_NOT_MET/);
        assert.match(dualErr.details, /a second identity with Manager on the instance \(not the one destroying\) must authorize the deletion first/);
        assert.ok(
            (await adminKeys()).some((k) => k.id === key.id && k.state === 1),
            "nothing was deleted",
        );

        await kms(approver.apiKey).setKeyForDeletion(key.id);
        await serviceOnly.delete(provider, key.id, forced.outs);
        assert.ok(
            (await adminKeys()).some((k) => k.id === key.id && k.state === 5),
            "deleted with the second identity's authorization and force",
        );
    });

    it("replaces for an immutable change (new name) and both keys can coexist", async () => {
        const app = await identity("Manager");
        const key = await createKey(serviceOnly, { instanceId: hpcs, name: "v1", apiKey: app.apiKey });
        const news = (await serviceOnly.check(provider, key.inputs, { ...key.inputs, name: "v2" })).inputs;
        const diff = await serviceOnly.diff(provider, key.id, key.outs, news);
        assert.deepStrictEqual([diff.replaces, diff.deleteBeforeReplace], [["name"], false]);
        const replacement = await serviceOnly.create(provider, news);
        assert.notStrictEqual(replacement.id, key.id);
        await serviceOnly.delete(provider, key.id, key.outs);
        assert.strictEqual((await serviceOnly.read(provider, replacement.id, replacement.outs)).props.name, "v2");
    });
});
