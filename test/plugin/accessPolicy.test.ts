// AccessPolicy through the REAL dynamic-provider plugin (serialized as Pulumi does) against the
// emulator: what IAM ends up holding, what state says, and what the user reads when something is wrong.
// Out-of-band changes are made through the IBM API with the owner's key, as a colleague with the CLI would.
import { strict as assert } from "assert";
import "../support/failFast";
import { RunningEmulator } from "../../emulator";
import { IamClient, Policy, PolicyBody, ServiceIdEntity } from "../../client/iamClient";
import { TrustedProfileClient } from "../../client/profileClient";
import { accessPolicyProvider } from "../../provider/accessPolicy";
import { PluginCallError, Props, RunningPlugin } from "./harness";
import { PluginOnEmulator, startPluginOnEmulator } from "./onEmulator";

interface Deployed {
    id: string;
    inputs: Props;
    outs: Props;
}

const ROLE = {
    reader: "crn:v1:bluemix:public:iam::::serviceRole:Reader",
    writer: "crn:v1:bluemix:public:iam::::serviceRole:Writer",
    manager: "crn:v1:bluemix:public:iam::::serviceRole:Manager",
    viewer: "crn:v1:bluemix:public:iam::::role:Viewer",
    custodian: "crn:v1:bluemix:public:hs-crypto::::serviceRole:KeyCustodianCreator",
    idCreator: "crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator",
};

describe("plugin: AccessPolicy through the real dynamic-provider plugin", function () {
    this.timeout(30_000);
    let emu: RunningEmulator;
    let plugin: RunningPlugin;
    let world: PluginOnEmulator;
    let owner: IamClient;
    let instance: string;
    const p = accessPolicyProvider;

    /** A fresh service ID to be the subject, made directly with IAM (the ServiceId resource is tested elsewhere). */
    async function subject(name: string): Promise<ServiceIdEntity> {
        return owner.createServiceId({ name });
    }

    function attrs(policy: Policy): Record<string, string> {
        return Object.fromEntries(policy.resources[0].attributes.map((a) => [a.name, String(a.value)]));
    }

    async function livePolicy(id: string): Promise<{ policy: Policy; etag: string }> {
        return owner.getPolicy(id);
    }

    async function activePoliciesOf(iamId: string): Promise<Policy[]> {
        return owner.listPolicies({ iamId });
    }

    /** `pulumi up` of a new resource: check, then create. */
    async function create(news: Props): Promise<Deployed> {
        const checked = await plugin.check(p, {}, news);
        assert.deepStrictEqual(checked.failures, []);
        const created = await plugin.create(p, checked.inputs);
        return { id: created.id, inputs: checked.inputs, outs: created.outs };
    }

    /** `pulumi up` of an existing resource whose diff must be an in-place update. */
    async function up(d: Deployed, news: Props): Promise<Deployed> {
        const checked = await plugin.check(p, d.inputs, news);
        assert.deepStrictEqual(checked.failures, []);
        assert.deepStrictEqual(await plugin.diff(p, d.id, d.outs, checked.inputs), { changes: "some", replaces: [], deleteBeforeReplace: false });
        const updated = await plugin.update(p, d.id, d.outs, checked.inputs);
        return { id: d.id, inputs: checked.inputs, outs: updated.outs };
    }

    async function unchanged(d: Deployed, news: Props): Promise<void> {
        const checked = await plugin.check(p, d.inputs, news);
        assert.deepStrictEqual(checked.failures, []);
        assert.deepStrictEqual(
            await plugin.diff(p, d.id, d.outs, checked.inputs),
            { changes: "none", replaces: [], deleteBeforeReplace: false },
            JSON.stringify(news),
        );
    }

    /** `pulumi refresh`: state becomes what read returned. */
    async function refresh(d: Deployed): Promise<Deployed | undefined> {
        const r = await plugin.read(p, d.id, d.outs, d.inputs);
        if (r.id === "") return undefined;
        assert.ok(r.inputs, "read returns inputs");
        return { id: r.id, inputs: r.inputs, outs: r.props };
    }

    async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<PluginCallError> {
        let caught: unknown;
        await promise.then(
            () => assert.fail(`expected a failure matching ${pattern}`),
            (e: unknown) => (caught = e),
        );
        assert.ok(caught instanceof PluginCallError, String(caught));
        assert.match(caught.details, pattern);
        assert.ok(!caught.message.includes(emu.apiKey), "no key value in an error");
        return caught;
    }

    function hpcs(serviceId: string, over: Props = {}): Props {
        return { serviceId, roles: ["Writer"], resource: { serviceName: "hs-crypto", serviceInstance: instance }, ...over };
    }

    before(async function () {
        world = await startPluginOnEmulator();
        ({ emu, plugin, owner } = world);
        instance = emu.instances[0].guid;
    });
    after(async function () {
        await world?.stop();
    });

    it("create → read → diff → update roles in place (same id, new ETag) → delete, as IAM holds it", async function () {
        const sid = await subject("orders-app");
        const d = await create(
            hpcs(sid.id, {
                roles: ["Writer", "Key Custodian - Creator"],
                resource: { serviceName: "hs-crypto", serviceInstance: instance, region: "us-south", tags: { env: "test" } },
                description: "orders app keys",
            }),
        );
        assert.deepStrictEqual(d.inputs.roleCrns, [ROLE.writer, ROLE.custodian], "check resolved the names: preview shows the CRNs");

        const { policy, etag } = await livePolicy(d.id);
        assert.deepStrictEqual(policy.subjects, [{ attributes: [{ name: "iam_id", value: sid.iam_id }] }]);
        assert.deepStrictEqual(policy.roles.map((r) => r.role_id).sort(), [ROLE.custodian, ROLE.writer].sort());
        assert.deepStrictEqual(
            attrs(policy),
            { accountId: emu.accountId, serviceName: "hs-crypto", serviceInstance: instance, region: "us-south" },
            "the account comes from the deployer's token",
        );
        assert.deepStrictEqual(policy.resources[0].tags, [{ name: "env", value: "test", operator: "stringEquals" }]);
        assert.equal(policy.description, "orders app keys");

        assert.deepStrictEqual(
            { ...d.outs, createdAt: "", lastModifiedAt: "" },
            {
                policyId: d.id,
                etag,
                href: `${emu.url}/v1/policies/${d.id}`,
                state: "active",
                roleCrns: [ROLE.writer, ROLE.custodian],
                subjectIamId: sid.iam_id,
                accountId: emu.accountId,
                createdAt: "",
                lastModifiedAt: "",
                serviceId: sid.id,
                roles: ["Writer", "Key Custodian - Creator"],
                resource: { serviceName: "hs-crypto", serviceInstance: instance, region: "us-south", tags: { env: "test" } },
                description: "orders app keys",
            },
        );
        assert.match(String(d.outs.createdAt), /^\d{4}-\d{2}-\d{2}T/);

        // refresh with nothing changed: same state, and the program's inputs are what read says
        const read = await plugin.read(p, d.id, d.outs, d.inputs);
        assert.equal(read.id, d.id);
        assert.deepStrictEqual(read.props, d.outs);
        const { roleCrns: _derived, ...given } = d.inputs;
        assert.deepStrictEqual(read.inputs, given);

        // the same roles written another way are no change
        await unchanged(
            d,
            hpcs(sid.id, {
                roles: [ROLE.custodian, "writer"],
                resource: { region: "us-south", serviceInstance: instance, serviceName: "hs-crypto", tags: { env: "test" } },
                description: "orders app keys",
            }),
        );

        const u = await up(
            d,
            hpcs(sid.id, { roles: ["Manager", "Key Custodian - Creator"], resource: { serviceName: "hs-crypto", serviceInstance: instance } }),
        );
        assert.equal(u.outs.policyId, d.id, "same policy");
        const after = await livePolicy(d.id);
        assert.notEqual(after.etag, etag, "the ETag moved");
        assert.equal(u.outs.etag, after.etag, "state holds IAM's current ETag");
        assert.deepStrictEqual(after.policy.roles.map((r) => r.role_id).sort(), [ROLE.custodian, ROLE.manager].sort());
        assert.deepStrictEqual(attrs(after.policy), { accountId: emu.accountId, serviceName: "hs-crypto", serviceInstance: instance });
        assert.equal(after.policy.resources[0].tags, undefined, "the dropped tag is gone");
        assert.equal(after.policy.description, undefined, "the dropped description is gone");

        await plugin.delete(p, d.id, u.outs);
        await assert.rejects(livePolicy(d.id), /404 policy_not_found/);
        await plugin.delete(p, d.id, u.outs); // already gone = success
        assert.equal((await plugin.read(p, d.id, u.outs)).id, "");
    });

    it("a new subject replaces the policy (create the new one, then delete the old); the same subject as iamId changes nothing", async function () {
        const [first, second] = [await subject("first-app"), await subject("second-app")];
        const d = await create(hpcs(first.id));
        await unchanged(d, hpcs("", { serviceId: undefined, iamId: first.iam_id }));

        const checked = await plugin.check(p, d.inputs, hpcs(second.id));
        assert.deepStrictEqual(await plugin.diff(p, d.id, d.outs, checked.inputs), { changes: "some", replaces: ["serviceId"], deleteBeforeReplace: false });
        const replacement = await plugin.create(p, checked.inputs);
        await plugin.delete(p, d.id, d.outs);

        assert.notEqual(replacement.id, d.id);
        assert.equal((await livePolicy(replacement.id)).policy.subjects[0].attributes[0].value, second.iam_id);
        assert.deepStrictEqual(await activePoliciesOf(first.iam_id), [], "the old subject lost its grant");
        await plugin.delete(p, replacement.id, replacement.outs);
    });

    it("a trusted profile as the subject (profileId): IAM holds its iam-Profile-… id, refresh keeps the program's form, a new profile replaces the policy", async function () {
        const profiles = new TrustedProfileClient(owner);
        const [first, second] = [await profiles.createProfile({ name: "orders-runtime" }), await profiles.createProfile({ name: "billing-runtime" })];
        const d = await create(hpcs("", { serviceId: undefined, profileId: first.id, roles: ["Reader"] }));
        assert.equal(d.outs.subjectIamId, first.iam_id);
        assert.equal(first.iam_id, `iam-${first.id}`, "the profile's IAM id is its id after iam-");
        assert.equal((await livePolicy(d.id)).policy.subjects[0].attributes[0].value, first.iam_id);
        const refreshed = await refresh(d);
        assert.equal(refreshed?.inputs.profileId, first.id);
        await unchanged(d, hpcs("", { serviceId: undefined, profileId: first.iam_id, roles: ["Reader"] }));
        await unchanged(d, hpcs("", { serviceId: undefined, iamId: first.iam_id, roles: ["Reader"] }));

        const checked = await plugin.check(p, d.inputs, hpcs("", { serviceId: undefined, profileId: second.id, roles: ["Reader"] }));
        assert.deepStrictEqual(await plugin.diff(p, d.id, d.outs, checked.inputs), { changes: "some", replaces: ["profileId"], deleteBeforeReplace: false });
        await plugin.delete(p, d.id, d.outs);
        assert.deepStrictEqual(await activePoliciesOf(first.iam_id), []);
        const bad = await plugin.check(p, {}, hpcs("", { serviceId: undefined, profileId: "orders-runtime" }));
        assert.equal(bad.failures[0]?.property, "profileId");
        assert.match(bad.failures[0].reason, /must be a trusted profile such as Profile-/);
    });

    it("an identical existing policy: the error names it and both ways out, nothing is created; adoptExisting takes it over and destroy deletes it", async function () {
        const sid = await subject("adopter");
        const existing = await owner.createPolicy({
            type: "access",
            description: "made by hand",
            subjects: [{ attributes: [{ name: "iam_id", value: sid.iam_id }] }],
            roles: [{ role_id: ROLE.writer }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: emu.accountId, operator: "stringEquals" },
                        { name: "serviceName", value: "hs-crypto", operator: "stringEquals" },
                        { name: "serviceInstance", value: instance, operator: "stringEquals" },
                    ],
                },
            ],
        });
        const id = existing.policy.id;

        const checked = await plugin.check(p, {}, hpcs(sid.id, { description: "managed by Pulumi" }));
        const err = await rejects(
            plugin.create(p, checked.inputs),
            new RegExp(`409 policy_conflict_error.*an identical access policy .*already exists: ${id}`),
        );
        assert.match(err.details, /adoptExisting: true/);
        assert.match(err.details, new RegExp(`AccessPolicy\\.get\\("<name>", "${id}"\\)`));
        assert.equal((await activePoliciesOf(sid.iam_id)).length, 1, "no second policy");

        const adopted = await create(hpcs(sid.id, { description: "managed by Pulumi", adoptExisting: true }));
        assert.equal(adopted.id, id, "the existing policy is this resource's now");
        const live = await livePolicy(id);
        assert.equal(live.policy.description, "managed by Pulumi", "its description follows the program");
        assert.equal(adopted.outs.etag, live.etag);
        assert.equal(adopted.outs.adoptExisting, true);
        assert.equal((await activePoliciesOf(sid.iam_id)).length, 1);

        await plugin.delete(p, adopted.id, adopted.outs);
        assert.deepStrictEqual(await activePoliciesOf(sid.iam_id), [], "destroy deleted the adopted policy");
    });

    it("drift: roles changed elsewhere show in refresh and `pulumi up` puts the program's back; a stale ETag asks for a refresh", async function () {
        const sid = await subject("drifter");
        const d = await create(hpcs(sid.id, { roles: ["Writer"], description: "v1" }));

        // A colleague swaps Writer for Reader and rewrites the description.
        const now = await livePolicy(d.id);
        const changed: PolicyBody = { ...now.policy, description: "changed by hand", roles: [{ role_id: ROLE.reader }] };
        await owner.replacePolicy(d.id, now.etag, {
            type: changed.type,
            description: changed.description,
            subjects: changed.subjects,
            roles: changed.roles,
            resources: changed.resources,
        });

        // Without a refresh, Pulumi refuses to overwrite what it has not seen.
        await rejects(
            plugin.update(p, d.id, d.outs, { ...d.inputs, roles: ["Manager"], roleCrns: [ROLE.manager] }),
            new RegExp(`412 precondition_failed.*access policy ${d.id} was changed outside Pulumi .*run \`pulumi refresh\``),
        );
        assert.deepStrictEqual(
            (await livePolicy(d.id)).policy.roles.map((r) => r.role_id),
            [ROLE.reader],
            "nothing overwritten",
        );

        const refreshed = await refresh(d);
        assert.ok(refreshed);
        assert.deepStrictEqual([refreshed.outs.roles, refreshed.outs.roleCrns, refreshed.outs.description], [["Reader"], [ROLE.reader], "changed by hand"]);
        assert.deepStrictEqual(refreshed.inputs.roles, ["Reader"], "refresh shows the drift by role name");
        assert.equal(refreshed.outs.etag, (await livePolicy(d.id)).etag, "and takes in the current ETag");

        const repaired = await up(refreshed, hpcs(sid.id, { roles: ["Writer"], description: "v1" }));
        const live = await livePolicy(d.id);
        assert.deepStrictEqual(
            live.policy.roles.map((r) => r.role_id),
            [ROLE.writer],
        );
        assert.equal(live.policy.description, "v1");
        assert.equal(repaired.outs.etag, live.etag);
        await plugin.delete(p, d.id, repaired.outs);
    });

    it("drift: deleted elsewhere reads as gone, destroy succeeds, an update says to refresh", async function () {
        const sid = await subject("vanishing");
        const d = await create(hpcs(sid.id));
        assert.equal(await owner.deletePolicy(d.id), true);

        assert.equal((await plugin.read(p, d.id, d.outs)).id, "", "refresh forgets it");
        await plugin.delete(p, d.id, d.outs);
        await rejects(
            plugin.update(p, d.id, d.outs, { ...d.inputs, roles: ["Reader"], roleCrns: [ROLE.reader] }),
            new RegExp(`access policy ${d.id} no longer exists .*run \`pulumi refresh\``),
        );
    });

    it("deleting the subject service ID leaves the policy `deleted`: it reads as gone and destroy still succeeds", async function () {
        const sid = await subject("short-lived");
        const d = await create(hpcs(sid.id, { roles: ["Reader"] }));
        await owner.deleteServiceId(sid.id);
        assert.equal((await livePolicy(d.id)).policy.state, "deleted", "IAM keeps it in state deleted");

        assert.equal((await plugin.read(p, d.id, d.outs)).id, "");
        await plugin.delete(p, d.id, d.outs);
        assert.equal((await livePolicy(d.id)).policy.state, "deleted");
    });

    it("roles of a service the offline catalog does not know resolve through IAM's /v2/roles at check (a read) and again at create; an unknown one lists what IAM offers", async function () {
        const sid = await subject("id-admin");
        const news = { serviceId: sid.id, roles: ["Service ID creator", "Viewer"], resource: { serviceName: "iam-identity" } };
        const d = await create(news);
        assert.deepStrictEqual(d.inputs.roleCrns, [ROLE.idCreator, ROLE.viewer], "resolved at check with IAM's list");
        assert.deepStrictEqual(d.outs.roleCrns, [ROLE.idCreator, ROLE.viewer]);
        assert.deepStrictEqual((await livePolicy(d.id)).policy.roles.map((r) => r.role_id).sort(), [ROLE.idCreator, ROLE.viewer].sort());

        // the names recorded in state need no IAM call to diff; read keeps the program's spelling
        await unchanged(d, { ...news, roles: ["viewer", "ServiceIdCreator"] });
        assert.deepStrictEqual((await plugin.read(p, d.id, d.outs)).props.roles, ["Service ID creator", "Viewer"]);

        // IAM's list for iam-identity has no generic Writer: the preview fails, naming what IAM offers
        const checked = await plugin.check(p, {}, { ...news, roles: ["Writer"], description: "typo" });
        assert.strictEqual(checked.failures.length, 1);
        assert.strictEqual(checked.failures[0].property, "roles[0]");
        assert.match(checked.failures[0].reason, /^unknown role "Writer" for iam-identity; valid roles: /);
        for (const offered of ["Viewer", "Administrator", "Service ID creator", "User API key creator"])
            assert.ok(checked.failures[0].reason.includes(offered), offered);
        // and create, handed such inputs anyway, resolves again and refuses them before writing
        const err = await rejects(
            plugin.create(p, { ...news, roles: ["Writer"], description: "typo" }),
            /^roles\[0\]: unknown role "Writer" for service iam-identity; IAM lists these roles for it: /,
        );
        assert.ok(err.details.includes("Service ID creator"));
        assert.equal((await activePoliciesOf(sid.iam_id)).length, 1, "nothing created");
        await plugin.delete(p, d.id, d.outs);
    });

    it("adopts an existing policy from its id alone (AccessPolicy.get / the id option)", async function () {
        const sid = await subject("legacy");
        const made = await owner.createPolicy({
            type: "access",
            description: "legacy grant",
            subjects: [{ attributes: [{ name: "iam_id", value: sid.iam_id }] }],
            roles: [{ role_id: ROLE.reader }, { role_id: "crn:v1:bluemix:public:kms::::serviceRole:ReaderPlus" }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: emu.accountId, operator: "stringEquals" },
                        { name: "serviceName", value: "kms", operator: "stringEquals" },
                        { name: "keyRing", value: "payments", operator: "stringEquals" },
                    ],
                },
            ],
        });
        const read = await plugin.read(p, made.policy.id, {});
        assert.equal(read.id, made.policy.id);
        assert.deepStrictEqual(read.inputs, {
            serviceId: sid.id,
            roles: ["Reader", "ReaderPlus"],
            resource: { serviceName: "kms", attributes: { keyRing: "payments" } },
            description: "legacy grant",
        });
        assert.deepStrictEqual(
            [read.props.subjectIamId, read.props.etag, read.props.roleCrns],
            [sid.iam_id, made.etag, [ROLE.reader, "crn:v1:bluemix:public:kms::::serviceRole:ReaderPlus"]],
        );
        await owner.deletePolicy(made.policy.id);
    });

    it("check failures reach the user through the plugin with the valid roles listed", async function () {
        const r = await plugin.check(
            p,
            {},
            { serviceId: "ServiceId-x", iamId: "IBMid-1", roles: ["Writter"], resource: { serviceName: "kms", serviceInstance: instance } },
        );
        assert.deepStrictEqual(
            r.failures.map((f) => f.property),
            ["serviceId", "roles[0]"],
        );
        assert.match(r.failures[0].reason, /not both serviceId and iamId/);
        assert.match(
            r.failures[1].reason,
            /unknown role "Writter" for kms; valid roles: Viewer, Operator, Editor, Administrator, Reader, Writer, Manager, ReaderPlus, KeyPurge$/,
        );
    });
});
