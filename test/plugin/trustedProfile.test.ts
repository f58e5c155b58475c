// TrustedProfile and TrustedProfileLink through the REAL dynamic-provider plugin against the emulator: what IBM
// ends up holding, drift with entity tags, links replaced (never updated), and a linked compute resource getting
// the profile's token once the plugin made the link.
import { strict as assert } from "assert";
import "../support/failFast";
import { RunningEmulator } from "../../emulator";
import { trustedProfileLinkProvider, trustedProfileProvider } from "../../provider";
import { computeResourceTokenProvider, IamClient, TrustedProfileClient } from "../../client";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningPlugin } from "./harness";
import { PluginOnEmulator, startPluginOnEmulator } from "./onEmulator";
import { deploy, rejectsWith } from "./steps";

const STALE = /^update: trusted profile Profile-[0-9a-f-]+ was changed outside Pulumi since it was last read; run `pulumi refresh`, then `pulumi up`/;

describe("plugin: TrustedProfile and TrustedProfileLink through the real dynamic-provider plugin", function () {
    this.timeout(30_000);
    let emu: RunningEmulator;
    let plugin: RunningPlugin;
    let world: PluginOnEmulator;
    let owner: IamClient;
    let profiles: TrustedProfileClient;
    const cluster = () => `crn:v1:bluemix:public:containers-kubernetes:us-south:a/${emu.accountId}:c1::`;

    before(async function () {
        world = await startPluginOnEmulator();
        ({ emu, plugin, owner } = world);
        profiles = new TrustedProfileClient(owner);
    });
    after(async function () {
        await world?.stop();
    });

    it("TrustedProfile: create → read → diff → update in place (new entity tag) → delete, as IBM holds it", async function () {
        const p = trustedProfileProvider;
        const d = await deploy(plugin, p, { name: "orders-runtime", description: "what the orders pods run as" });
        assert.match(d.id, /^Profile-[0-9a-f-]{36}$/);
        assert.deepStrictEqual(
            { ...d.outs, entityTag: "", createdAt: "", modifiedAt: "" },
            {
                profileId: d.id,
                iamId: `iam-${d.id}`,
                crn: `crn:v1:bluemix:public:iam-identity::a/${emu.accountId}::profile:${d.id}`,
                accountId: emu.accountId,
                entityTag: "",
                createdAt: "",
                modifiedAt: "",
                name: "orders-runtime",
                description: "what the orders pods run as",
            },
        );
        const read = await plugin.read(p, d.id, d.outs);
        assert.deepStrictEqual(read.props, d.outs);
        assert.deepStrictEqual(read.inputs, d.inputs, "read returns inputs, so a refresh causes no diff");
        assert.deepStrictEqual(await plugin.diff(p, d.id, d.outs, d.inputs), { changes: "none", replaces: [], deleteBeforeReplace: false });

        const checked = await plugin.check(p, d.inputs, { name: "orders-runtime-v2" });
        assert.deepStrictEqual(await plugin.diff(p, d.id, d.outs, checked.inputs), { changes: "some", replaces: [], deleteBeforeReplace: false });
        const u = await plugin.update(p, d.id, d.outs, checked.inputs);
        const live = await profiles.getProfile(d.id);
        assert.deepStrictEqual([live.name, live.description], ["orders-runtime-v2", undefined], "dropping description clears it");
        assert.strictEqual(u.outs.entityTag, live.entity_tag, "state holds IBM's current entity tag");

        await plugin.delete(p, d.id, u.outs);
        await assert.rejects(profiles.getProfile(d.id), /404/);
        await plugin.delete(p, d.id, u.outs); // already gone = success
    });

    it("TrustedProfile: a change made elsewhere is not overwritten; refresh shows it; deleted elsewhere reads as gone", async function () {
        const p = trustedProfileProvider;
        const d = await deploy(plugin, p, { name: "billing-runtime", description: "v1" });
        await profiles.updateProfile(d.id, String(d.outs.entityTag), { description: "changed by a colleague" });
        await rejectsWith(plugin.update(p, d.id, d.outs, { ...d.inputs, name: "billing-runtime-2" }), STALE, emu.apiKey);
        assert.strictEqual((await profiles.getProfile(d.id)).name, "billing-runtime", "nothing overwritten");

        const read = await plugin.read(p, d.id, d.outs);
        assert.strictEqual(read.inputs?.description, "changed by a colleague");
        const fixed = await plugin.update(p, d.id, read.props, d.inputs);
        assert.strictEqual((await profiles.getProfile(d.id)).description, "v1");

        await profiles.deleteProfile(d.id);
        assert.strictEqual((await plugin.read(p, d.id, fixed.outs)).id, "", "read says the resource is gone");
        await plugin.delete(p, d.id, fixed.outs);
    });

    it("TrustedProfileLink: a service account linked by the plugin gets the profile's token; any change replaces the link, the old one first", async function () {
        const profile = await deploy(plugin, trustedProfileProvider, { name: "linked-runtime" });
        const l = trustedProfileLinkProvider;
        const d = await deploy(plugin, l, { profileId: profile.id, crType: "IKS_SA", crn: cluster(), namespace: "orders", serviceAccount: "api" });
        assert.match(d.id, new RegExp(`^${profile.id}/ProfileLink-[0-9a-f-]{36}$`));
        assert.deepStrictEqual(
            { ...d.outs, entityTag: "", createdAt: "", linkId: "" },
            {
                profileId: profile.id,
                linkId: "",
                crType: "IKS_SA",
                crn: cluster(),
                namespace: "orders",
                serviceAccount: "api",
                isCrossAccount: false,
                entityTag: "",
                createdAt: "",
            },
        );
        const read = await plugin.read(l, d.id, d.outs);
        assert.deepStrictEqual(read.props, d.outs);
        assert.deepStrictEqual(read.inputs, d.inputs);

        // the compute resource acts as the profile
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "link-plugin-"));
        try {
            const res = await fetch(`${emu.url}/__emulator/compute-resource-token`, {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ crType: "IKS_SA", crn: cluster(), namespace: "orders", name: "api" }),
            });
            fs.writeFileSync(path.join(dir, "token"), ((await res.json()) as { token: string }).token);
            const tokens = computeResourceTokenProvider({ profileId: profile.id, crTokenFilename: path.join(dir, "token"), iamEndpoint: emu.url });
            assert.strictEqual((await tokens.getTokenInfo()).iamId, profile.outs.iamId);
            await tokens.close();
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }

        const moved = await plugin.check(l, d.inputs, { ...d.inputs, serviceAccount: "worker" });
        assert.deepStrictEqual(await plugin.diff(l, d.id, d.outs, moved.inputs), { changes: "some", replaces: ["serviceAccount"], deleteBeforeReplace: true });

        await profiles.deleteLink(profile.id, String(d.outs.linkId));
        assert.strictEqual((await plugin.read(l, d.id, d.outs)).id, "", "deleted elsewhere reads as gone");
        await plugin.delete(l, d.id, d.outs);
        await plugin.delete(trustedProfileProvider, profile.id, profile.outs);
        assert.strictEqual((await plugin.read(l, d.id, d.outs)).id, "", "a link whose profile is gone reads as gone too");
    });

    it("TrustedProfileLink: IBM's refusal of another account's resource comes back naming is_cross_account", async function () {
        const profile = await deploy(plugin, trustedProfileProvider, { name: "cross-runtime" });
        const foreign = "crn:v1:bluemix:public:is:us-south-1:a/0123456789abcdef0123456789abcdef::instance:i-9";
        await rejectsWith(deploy(plugin, trustedProfileLinkProvider, { profileId: profile.id, crType: "VSI", crn: foreign }), /is_cross_account/, emu.apiKey);
        const d = await deploy(plugin, trustedProfileLinkProvider, { profileId: profile.id, crType: "VSI", crn: foreign, isCrossAccount: true });
        assert.strictEqual(d.outs.isCrossAccount, true);
        await plugin.delete(trustedProfileProvider, profile.id, profile.outs);
    });
});
