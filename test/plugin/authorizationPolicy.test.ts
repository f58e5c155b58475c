// AuthorizationPolicy (service-to-service) through the REAL dynamic-provider plugin against
// the emulator: create → KMS honours it for the source service (a token minted by the emulator's
// /__emulator/service-token, after the propagation delay) → read → roles updated in place → drift →
// adopt-on-409 → scoped to one key → delete revokes.
import * as assert from "assert";
import "../support/failFast";
import { IamClient, KmsClient } from "../../client";
import { authorizationPolicyProvider } from "../../provider/authorizationPolicy";
import { rejection } from "../support/rejection";
import { Props, RunningPlugin } from "./harness";
import { PluginOnEmulator, startPluginOnEmulator } from "./onEmulator";
import { deploy } from "./steps";

const COS_INSTANCE = "5b6a7c8d-1e2f-4a3b-9c4d-5e6f7a8b9c0d";
const PROPAGATION_MS = 300;

describe("plugin/authorizationPolicy: service-to-service authorization through the real plugin", function () {
    this.timeout(60_000);
    let world: PluginOnEmulator;
    let plugin: RunningPlugin;
    let owner: IamClient;
    let guid: string;
    let ownerKms: KmsClient;
    let rootKey: string;
    let otherKey: string;
    const provider = authorizationPolicyProvider;

    /** KMS as the source service (Cloud Object Storage, one instance) sees it: a client on the emulator's service token. */
    async function asCos(): Promise<KmsClient> {
        const res = await fetch(`${world.emu.url}/__emulator/service-token`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ serviceName: "cloud-object-storage", serviceInstance: COS_INSTANCE }),
        });
        const token = ((await res.json()) as { access_token: string }).access_token;
        return new KmsClient({ endpoint: world.emu.url, instanceId: guid, tokenSource: async () => token, httpClient: owner.http });
    }
    before(async function () {
        world = await startPluginOnEmulator({ emulator: { instances: [{ service: "kms", region: "us-south" }], policyPropagationDelayMs: PROPAGATION_MS } });
        ({ plugin, owner } = world);
        guid = world.emu.instances[0].guid;
        ownerKms = new KmsClient({ endpoint: world.emu.url, instanceId: guid, tokenSource: () => owner.tokens.getToken(), httpClient: owner.http });
        rootKey = (await ownerKms.createKey({ name: "cos-root" })).id;
        otherKey = (await ownerKms.createKey({ name: "other-root" })).id;
    });
    after(async () => world?.stop());

    const program = (extra: Props = {}) => ({
        sourceServiceName: "cloud-object-storage",
        sourceServiceInstance: COS_INSTANCE,
        targetServiceName: "kms",
        targetServiceInstance: guid,
        ...extra,
    });

    it("creates an authorization KMS honours for the source service after propagation; roles update in place; delete revokes", async () => {
        const cos = await asCos();
        await assert.rejects(cos.wrap(rootKey, Buffer.alloc(32, 1)), /401/, "no authorization yet");
        // Measured from before the create: a loaded machine only makes the time longer, never shorter, so the lower
        // bound below cannot fail for slowness; the immediate refusal is checked only while the delay is surely running.
        const started = Date.now();
        const p = await deploy(plugin, provider, program({ description: "COS encrypts buckets with our root key" }));
        if (Date.now() - started < PROPAGATION_MS / 2) {
            await assert.rejects(cos.wrap(rootKey, Buffer.alloc(32, 1)), /401/, "not honoured before the propagation delay");
        }
        assert.deepStrictEqual([p.outs.roles, p.outs.roleCrns, p.outs.state], [["Reader"], ["crn:v1:bluemix:public:iam::::serviceRole:Reader"], "active"]);
        const live = (await owner.getPolicy(p.id)).policy;
        assert.strictEqual(live.type, "authorization");
        assert.deepStrictEqual(
            live.subjects[0].attributes.map((a) => `${a.name}=${a.value}`),
            [`accountId=${world.emu.accountId}`, "serviceName=cloud-object-storage", `serviceInstance=${COS_INSTANCE}`],
        );

        // A bounded wait, as an application or test does it: IBM offers no source-service token to probe with, the emulator does.
        await cos.waitUntilAuthorized({ timeoutMs: 10_000, initialIntervalMs: 50 });
        assert.ok(Date.now() - started >= PROPAGATION_MS - 50, "honoured only after the propagation delay");
        const ct = await cos.wrap(rootKey, Buffer.alloc(32, 2));
        assert.deepStrictEqual(await cos.unwrap(rootKey, ct), Buffer.alloc(32, 2), "Reader wraps and unwraps");

        const read = await plugin.read(provider, p.id, p.outs);
        assert.deepStrictEqual(read.props, p.outs, "refresh finds what create recorded");

        const news = (await plugin.check(provider, p.inputs, { ...p.inputs, roles: ["Reader", "ReaderPlus"] })).inputs;
        const diff = await plugin.diff(provider, p.id, p.outs, news);
        assert.deepStrictEqual([diff.changes, diff.replaces], ["some", []], "roles change in place");
        const up = await plugin.update(provider, p.id, p.outs, news);
        assert.strictEqual(up.outs.policyId, p.id);
        assert.notStrictEqual(up.outs.etag, p.outs.etag);

        // Drift: a colleague puts Reader back alone; refresh shows it, by name.
        const current = await owner.getPolicy(p.id);
        await owner.replacePolicy(p.id, current.etag, { ...current.policy, roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Reader" }] } as never);
        const drift = await plugin.read(provider, p.id, up.outs);
        assert.deepStrictEqual(drift.props.roles, ["Reader"]);
        assert.strictEqual((await plugin.diff(provider, p.id, drift.props, news)).changes, "some");
        // The stale ETag is refused with the fix.
        const stale = await rejection(plugin.update(provider, p.id, up.outs, { ...news, description: "x" }));
        assert.match(stale.details, /authorization policy .* was changed outside Pulumi .* run `pulumi refresh`/);

        await plugin.delete(provider, p.id, drift.props);
        await assert.rejects(cos.wrap(rootKey, Buffer.alloc(32, 1)), /401/, "revoked at once");
        assert.strictEqual((await plugin.read(provider, p.id, drift.props)).id, "", "gone = empty id");
        await plugin.delete(provider, p.id, drift.props); // already gone: fine
    });

    it("an identical authorization: refused naming it, or adopted with adoptExisting", async () => {
        const first = await deploy(plugin, provider, program());
        const refused = await rejection(deploy(plugin, provider, program()));
        assert.match(
            refused.details,
            new RegExp(`identical authorization policy \\(same source, target and roles\\) already exists: ${first.id}.*adoptExisting: true`),
        );
        const adopted = await deploy(plugin, provider, program({ adoptExisting: true, description: "adopted" }));
        assert.strictEqual(adopted.id, first.id);
        assert.strictEqual((await owner.getPolicy(first.id)).policy.description, "adopted");
        await plugin.delete(provider, adopted.id, adopted.outs);
    });

    it("scoped to one key: the source service may use that key and no other", async () => {
        const p = await deploy(plugin, provider, program({ targetResourceType: "key", targetResource: rootKey }));
        const cos = await asCos();
        await cos.waitUntilAuthorized({ timeoutMs: 10_000, initialIntervalMs: 50 }).catch(() => undefined); // listing needs an instance-wide grant
        const deadline = Date.now() + 10_000;
        let ct: Buffer | undefined;
        while (!ct && Date.now() < deadline) {
            ct = await cos.wrap(rootKey, Buffer.alloc(32, 3)).catch(() => undefined);
            if (!ct) await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(ct, "the scoped key wraps once propagated");
        await assert.rejects(cos.wrap(otherKey, Buffer.alloc(32, 3)), /401/, "another key of the instance does not");
        const read = await plugin.read(provider, p.id, p.outs);
        assert.deepStrictEqual([read.props.targetResourceType, read.props.targetResource], ["key", rootKey]);
        await plugin.delete(provider, p.id, p.outs);
    });
});
