// The provider plugin `pulumi-resource-ibmcloud-iam` over gRPC, started through its launcher, against the
// emulator: the same providers as the dynamic resources, reached by type token, configured by the provider's own
// config (an explicit provider per account), secrets marked, `read` giving the inputs `pulumi import` needs, the
// bad-input table and the token function.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import "../../support/failFast";
import { startEmulator, RunningEmulator } from "../../../emulator";
import { IamClient, IamTokenManager, KmsClient } from "../../../client";
import { BAD_INPUTS, KNOWN_ARGUMENTS, rootArgument } from "../../support/badInputs";
import { REPO_ROOT } from "../harness";
import { DIFF_NONE, DIFF_SOME, isSecret, plain, Props, secret, ServedPlugin, startServed } from "./served";

describe("provider plugin: served resources on the emulator", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    let plugin: ServedPlugin;
    let owner: IamClient;
    /** Every secret value a test handled: none may appear in the plugin's output. */
    const secrets = new Set<string>();

    async function made(type: string, news: Props) {
        const checked = await plugin.check(type, {}, news);
        assert.deepStrictEqual(checked.failures, []);
        const created = await plugin.create(type, checked.inputs);
        return { ...created, inputs: checked.inputs };
    }

    /** What `pulumi import` does: read with the id only, then check the inputs read and diff them against the state read. */
    async function importedShowsNoChange(type: string, id: string) {
        const read = await plugin.read(type, id);
        assert.equal(read.id, id);
        assert.ok(read.inputs, `${type}: read returned no inputs, so pulumi import would refuse it`);
        const checked = await plugin.check(type, {}, plain(read.inputs) as Props);
        assert.deepStrictEqual(checked.failures, [], `${type}: the inputs read do not pass check`);
        const diff = await plugin.diff(type, id, read.props, checked.inputs);
        assert.equal(diff.changes, DIFF_NONE, `${type}: an import would be followed by a change`);
        return read;
    }

    before(async () => {
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }] });
        secrets.add(emu.apiKey);
        owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        // Nothing in the environment: the credentials come only from the provider's configuration.
        plugin = await startServed();
        await plugin.configure({ apiKey: emu.apiKey, iamEndpoint: emu.url, kmsEndpoint: emu.url });
    });
    after(async () => {
        await plugin?.stop();
        const out = plugin?.output() ?? "";
        for (const s of secrets) assert.ok(!out.includes(s), "a secret appeared in the plugin's output");
        await owner?.http.close();
        await emu?.stop();
    });

    it("serves the schema written by plugin/schema-gen, with the package version", async () => {
        const served = JSON.parse(await plugin.schema());
        const file = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "plugin", "schema.json"), "utf8"));
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
        assert.deepStrictEqual(served, { ...file, version: pkg.version });
    });

    it("ServiceId, ServiceApiKey, AccessPolicy: create, update in place, read, delete; the key's value is a secret output", async () => {
        const sid = await made("ServiceId", { name: "plugin-app", description: "first" });
        assert.match(sid.id, /^ServiceId-/);
        assert.equal((await owner.getServiceId(sid.id)).name, "plugin-app");

        const key = await made("ServiceApiKey", { serviceId: sid.id, name: "plugin-key" });
        assert.ok(isSecret(key.outs.apikey), "apikey must come back as a secret");
        const value = plain(key.outs.apikey) as string;
        secrets.add(value);
        assert.ok(!isSecret(key.outs.name));

        const pol = await made("AccessPolicy", { serviceId: sid.id, roles: ["Reader"], resource: { serviceName: "kms" } });
        assert.ok(pol.id);

        const news = (await plugin.check("ServiceId", sid.inputs, { name: "plugin-app", description: "second" })).inputs;
        const diff = await plugin.diff("ServiceId", sid.id, sid.outs, news);
        assert.equal(diff.changes, DIFF_SOME);
        assert.deepStrictEqual(diff.replaces, []);
        const outs = await plugin.update("ServiceId", sid.id, sid.outs, news);
        assert.equal(outs.description, "second");
        assert.equal((await owner.getServiceId(sid.id)).description, "second");

        // A refresh sends the stored inputs too: their recovery nonce, which no object holds, stays, so a refresh
        // lists only what changed in IBM Cloud (here the description), never the nonce.
        await owner.updateServiceId(sid.id, String(outs.entityTag), { description: "changed by hand" });
        const drifted = await plugin.read("ServiceId", sid.id, outs, news);
        assert.equal(typeof news.recoveryNonce, "string");
        assert.deepStrictEqual(
            Object.keys({ ...news, ...drifted.inputs }).filter((k) => JSON.stringify(drifted.inputs?.[k]) !== JSON.stringify(news[k])),
            ["description"],
        );
        assert.equal((await plugin.read("ServiceId", sid.id, outs)).inputs?.recoveryNonce, undefined, "an import (no stored inputs) gets none");

        // A refresh keeps the value from state and marks it secret again.
        const refreshed = await plugin.read("ServiceApiKey", key.id, key.outs);
        assert.ok(isSecret(refreshed.props.apikey));
        assert.equal(plain(refreshed.props.apikey), value);

        await plugin.delete("AccessPolicy", pol.id, pol.outs);
        await plugin.delete("ServiceApiKey", key.id, key.outs);
        await plugin.delete("ServiceId", sid.id, outs);
        assert.equal((await plugin.read("ServiceId", sid.id, outs)).id, "");
    });

    it("an input the program marked secret stays secret in the answers of check, create, read and update (the plugin accepts secrets)", async () => {
        const checked = await plugin.check("ServiceId", {}, { name: "plugin-secret-app", description: secret("kept from the logs") });
        assert.deepStrictEqual(checked.failures, []);
        assert.ok(isSecret(checked.inputs.description), "check dropped the secret bit of description");
        assert.ok(!isSecret(checked.inputs.name));
        const made = await plugin.create("ServiceId", checked.inputs);
        assert.ok(isSecret(made.outs.description), "create dropped the secret bit of description");
        assert.equal(plain(made.outs.description), "kept from the logs");
        assert.ok(isSecret((await plugin.read("ServiceId", made.id, made.outs)).props.description), "read dropped the secret bit");
        const news = (await plugin.check("ServiceId", checked.inputs, { name: "plugin-secret-app", description: secret("still kept") })).inputs;
        const outs = await plugin.update("ServiceId", made.id, made.outs, news);
        assert.ok(isSecret(outs.description), "update dropped the secret bit of description");
        assert.equal((await owner.getServiceId(made.id)).description, "still kept");
        await plugin.delete("ServiceId", made.id, outs);
    });

    it("import: each IAM resource made outside Pulumi reads back with inputs that check and diff as no change", async () => {
        const sid = await owner.createServiceId({ name: "made-elsewhere", description: "by the CLI" });
        const key = await owner.createApiKey({ name: "made-elsewhere-key", iam_id: sid.iam_id });
        secrets.add(key.apikey!);
        const pol = await owner.createPolicy({
            type: "access",
            subjects: [{ attributes: [{ name: "iam_id", value: sid.iam_id }] }],
            roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Writer" }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: emu.accountId },
                        { name: "serviceName", value: "kms" },
                    ],
                },
            ],
        });
        await importedShowsNoChange("ServiceId", sid.id);
        const readKey = await importedShowsNoChange("ServiceApiKey", key.id);
        assert.equal(readKey.props.apikey, undefined, "IBM does not return a key's value unless it stores it");
        const readPol = await importedShowsNoChange("AccessPolicy", pol.policy.id);
        assert.deepStrictEqual(plain(readPol.inputs?.roles), ["Writer"]);

        const auth = await made("AuthorizationPolicy", { sourceServiceName: "cloud-object-storage", targetServiceName: "kms" });
        await importedShowsNoChange("AuthorizationPolicy", auth.id);
        await plugin.delete("AuthorizationPolicy", auth.id, auth.outs);
    });

    it("import of KMS objects by CRN: the key and the key ring read back (as the deployer) with their inputs; adding the service ID's apiKey is an update, never a replacement", async () => {
        const guid = emu.instances[0].guid;
        const kms = new KmsClient({ endpoint: emu.url, instanceId: guid, tokenSource: () => owner.tokens.getToken(), httpClient: owner.http });
        await kms.createKeyRing("imported-ring");
        const inRing = new KmsClient({
            endpoint: emu.url,
            instanceId: guid,
            keyRing: "imported-ring",
            tokenSource: () => owner.tokens.getToken(),
            httpClient: owner.http,
        });
        const key = await inRing.createKey({ name: "imported-root" });
        const sid = await owner.createServiceId({ name: "kms-app" });
        const apiKey = (await owner.createApiKey({ name: "kms-app-key", iam_id: sid.iam_id })).apikey!;
        secrets.add(apiKey);
        const instanceCrn = `crn:v1:bluemix:public:kms:us-south:a/${emu.accountId}:${guid}`;
        for (const [type, id] of [
            ["KmsKey", `${instanceCrn}:key:${key.id}`],
            ["KmsKeyRing", `${instanceCrn}:key-ring:imported-ring`],
        ]) {
            const read = await plugin.read(type, id);
            assert.equal(read.id, id, `${type}: the import id is kept`);
            assert.ok(read.inputs, `${type}: no inputs`);
            const checked = await plugin.check(type, {}, { ...(plain(read.inputs) as Props), apiKey });
            assert.deepStrictEqual(checked.failures, [], type);
            const diff = await plugin.diff(type, id, read.props, checked.inputs);
            assert.deepStrictEqual(diff.replaces, [], `${type}: an import must never be followed by a replacement`);
            // A refresh of the imported object (state now given) still finds it by the import id.
            const again = await plugin.read(type, id, read.props);
            assert.equal(again.id, id);
        }
        const readKey = await plugin.read("KmsKey", `${instanceCrn}:key:${key.id}`);
        assert.equal(readKey.props.name, "imported-root");
        assert.equal(readKey.props.keyRing, "imported-ring");
    });

    it("every row of the bad-input table is refused at check, naming the argument, secrets kept out", async () => {
        const rows = BAD_INPUTS.filter((r) => r.target !== "KmsAccess");
        assert.ok(rows.length > 50, `only ${rows.length} rows`);
        for (const row of rows) {
            for (const s of row.secrets) secrets.add(s);
            const { failures } = await plugin.check(row.target, {}, row.inputs);
            const what = `${row.target}: ${row.what}`;
            assert.ok(failures.length > 0, `${what}: accepted`);
            const f = failures.find((x) => x.property === row.field || x.property.startsWith(`${row.field}.`) || x.property.startsWith(`${row.field}[`));
            assert.ok(f, `${what}: no failure names ${row.field}: ${JSON.stringify(failures.map((x) => x.property))}`);
            assert.match(f.reason, row.reason, what);
            for (const x of failures) {
                const known = [...KNOWN_ARGUMENTS[row.target], ...Object.keys(row.inputs)];
                assert.ok(known.includes(rootArgument(x.property)), `${what}: failure names ${x.property}`);
                for (const s of row.secrets) assert.ok(!x.reason.includes(s), `${what}: a secret in the reason`);
            }
        }
    });

    it("getAccessToken (invoke): a secret token of the key's identity, with its expiry", async () => {
        const sid = await owner.createServiceId({ name: "token-app" });
        const key = (await owner.createApiKey({ name: "token-key", iam_id: sid.iam_id })).apikey!;
        secrets.add(key);
        const res = await plugin.invoke("ibmcloud-iam:index:getAccessToken", { apiKey: key });
        assert.deepStrictEqual(res.failures, []);
        assert.ok(isSecret(res.outputs.accessToken), "the token must be a secret");
        secrets.add(plain(res.outputs.accessToken) as string);
        assert.equal(res.outputs.iamId, sid.iam_id);
        assert.ok((res.outputs.expiration as number) > Date.now() / 1000);
        const bad = await plugin.invoke("ibmcloud-iam:index:getAccessToken", { apiKey: "" });
        assert.equal(bad.failures[0]?.property, "apiKey");
    });
});

describe("provider plugin: configuration", function () {
    this.timeout(60_000);
    const started: ServedPlugin[] = [];
    const emus: RunningEmulator[] = [];
    after(async () => {
        for (const p of started) await p.stop();
        for (const e of emus) await e.stop();
    });

    it("CheckConfig names a bad setting and the fix; DiffConfig names what changed", async () => {
        const p = await startServed();
        started.push(p);
        const failures = await p.checkConfig({ iamEndpoint: "http://iam.example.com", region: "Mars", visibility: "everywhere", colour: "blue" });
        const by = Object.fromEntries(failures.map((f) => [f.property, f.reason]));
        assert.match(by.iamEndpoint, /must use https/);
        assert.match(by.region, /not an IBM Cloud region/);
        assert.match(by.visibility, /public, private, public-and-private/);
        assert.match(by.colour, /not a setting of this provider/);
        assert.deepStrictEqual(await p.checkConfig({ iamEndpoint: "https://iam.cloud.ibm.com", apiKey: "x" }), []);
        const d = await p.diffConfig({ apiKey: "a", region: "us-south" }, { apiKey: "b", region: "us-south" });
        assert.equal(d.changes, DIFF_SOME);
        assert.deepStrictEqual(d.diffs, ["apiKey"]);
        assert.equal((await p.diffConfig({ region: "us-south" }, { region: "us-south" })).changes, DIFF_NONE);
    });

    it("IBM's environment variables are the fallback; an unconfigured key is an error naming the setting", async () => {
        const emu = await startEmulator({ port: 0 });
        emus.push(emu);
        const bare = await startServed();
        started.push(bare);
        await bare.configure({ iamEndpoint: emu.url });
        await assert.rejects(bare.create("ServiceId", { name: "x", description: "", uniqueInstanceCrns: [], locked: false }), (err: Error) => {
            assert.match(err.message, /no IBM Cloud API key is configured/);
            // the plugin's own key, not the dynamic resources' ibmcloud:apiKey nor @pulumi/ibm's key, which it does not read
            assert.match(err.message, /looked for stack config ibmcloud-iam:apiKey, then IC_API_KEY and IBMCLOUD_API_KEY/);
            assert.match(err.message, /pulumi config set --secret ibmcloud-iam:apiKey /);
            assert.doesNotMatch(err.message, /ibmcloud:apiKey|ibm:ibmcloudApiKey/);
            return true;
        });
        const fromEnv = await startServed({ IC_API_KEY: emu.apiKey, IBMCLOUD_IAM_API_ENDPOINT: emu.url });
        started.push(fromEnv);
        await fromEnv.configure({});
        const sid = await fromEnv.create("ServiceId", { name: "from-env", description: "", uniqueInstanceCrns: [], locked: false });
        assert.equal(sid.outs.accountId, emu.accountId);
    });

    it("two accounts: two providers, each configured with its own account, create in their own account", async () => {
        const a = await startEmulator({ port: 0 });
        const b = await startEmulator({ port: 0 });
        emus.push(a, b);
        assert.notEqual(a.accountId, b.accountId);
        const pa = await startServed();
        const pb = await startServed();
        started.push(pa, pb);
        await pa.configure({ apiKey: a.apiKey, iamEndpoint: a.url });
        await pb.configure({ apiKey: b.apiKey, iamEndpoint: b.url });
        const inputs = { name: "same-name", description: "", uniqueInstanceCrns: [], locked: false };
        const sa = await pa.create("ServiceId", inputs);
        const sb = await pb.create("ServiceId", inputs);
        assert.equal(sa.outs.accountId, a.accountId);
        assert.equal(sb.outs.accountId, b.accountId);
        assert.equal((await pa.read("ServiceId", sb.id)).id, "", "account A's provider must not see account B's service ID");
    });
});

describe("provider plugin: a create whose answer is lost adopts what IBM made, as through the dynamic door", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    let plugin: ServedPlugin;
    before(async () => {
        emu = await startEmulator({ port: 0 });
        plugin = await startServed();
        // A short request timeout (the plugin's own `timeout` setting) so a held answer counts as lost quickly.
        await plugin.configure({ apiKey: emu.apiKey, iamEndpoint: emu.url, timeout: "1" });
    });
    after(async () => {
        await plugin?.stop();
        await emu?.stop();
    });

    for (const kind of ["reset-after", "slow"] as const) {
        it(`${kind}: ServiceId and ServiceApiKey each end with one object, the one returned`, async () => {
            const name = `lost-${kind}`;
            emu.addFaults([{ kind, ...(kind === "slow" ? { delayMs: 2500 } : {}), method: "POST", path: "/v1/serviceids", count: 1 }]);
            const sid = await plugin.create("ServiceId", (await plugin.check("ServiceId", {}, { name })).inputs);
            const st = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as {
                serviceIds: Array<{ id: string; name: string }>;
                apiKeys: Array<{ id: string; iam_id: string }>;
            };
            assert.deepStrictEqual(
                st.serviceIds.filter((s) => s.name === name).map((s) => s.id),
                [sid.id],
            );
            emu.addFaults([{ kind, ...(kind === "slow" ? { delayMs: 2500 } : {}), method: "POST", path: "/v1/apikeys", count: 1 }]);
            const key = await plugin.create("ServiceApiKey", (await plugin.check("ServiceApiKey", {}, { name: `${name}-key`, serviceId: sid.id })).inputs);
            const keys = ((await (await fetch(`${emu.url}/__emulator/state`)).json()) as { apiKeys: Array<{ id: string; iam_id: string }> }).apiKeys;
            assert.deepStrictEqual(
                keys.filter((k) => k.iam_id === sid.outs.iamId).map((k) => k.id),
                [key.id],
            );
            assert.ok(isSecret(key.outs.apikey));
        });
    }
});
