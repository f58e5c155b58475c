// The provider plugin through the real engine, from a YAML program (the YAML language host is built from Go
// modules by scripts/ensure-pulumi-yaml.sh): a service ID, its API key and an access policy on a Key Protect
// instance, a key ring and a key made as that service ID once KMS lets it in, an authorization policy, and the
// token function through `fn::invoke`. preview → up → refresh with no change → an update → no-change preview →
// import of each resource type made outside Pulumi → destroy, with the state searched for plaintext secrets.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import { IamClient, IamTokenManager, KmsClient } from "../../client";
import { createSandbox, EngineSandbox, EngineStack, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";
import { ensureYamlHost, pluginYamlHeader } from "./support/pluginYaml";

/** The YAML program; `extra` adds resources (the imports). */
function program(extra = ""): string {
    return `${pluginYamlHeader("plugin-yaml")}config:
  instanceId:
    type: string
  description:
    type: string
resources:
  app:
    type: ibmcloud-iam:index:ServiceId
    properties:
      name: orders-app
      description: \${description}
  appKey:
    type: ibmcloud-iam:index:ServiceApiKey
    properties:
      serviceId: \${app.id}
      name: orders-app-key
  appPolicy:
    type: ibmcloud-iam:index:AccessPolicy
    properties:
      serviceId: \${app.id}
      roles: [Manager]
      resource:
        serviceName: kms
        serviceInstance: \${instanceId}
  ready:
    type: ibmcloud-iam:index:KmsAccessReady
    properties:
      instanceId: \${instanceId}
      service: kms
      apiKey: \${appKey.apikey}
      policyId: \${appPolicy.policyId}
  ring:
    type: ibmcloud-iam:index:KmsKeyRing
    properties:
      instanceId: \${instanceId}
      service: kms
      keyRingId: orders-keys
      force: true
      apiKey: \${appKey.apikey}
    options:
      dependsOn:
        - \${ready}
  rootKey:
    type: ibmcloud-iam:index:KmsKey
    properties:
      instanceId: \${instanceId}
      service: kms
      name: orders-root
      keyRing: \${ring.keyRingId}
      apiKey: \${appKey.apikey}
  cosToKms:
    type: ibmcloud-iam:index:AuthorizationPolicy
    properties:
      sourceServiceName: cloud-object-storage
      targetServiceName: kms
      targetServiceInstance: \${instanceId}
${extra}
variables:
  token:
    fn::invoke:
      function: ibmcloud-iam:index:getAccessToken
      arguments:
        apiKey: \${appKey.apikey}
outputs:
  serviceId: \${app.id}
  apiKey: \${appKey.apikey}
  keyId: \${rootKey.keyId}
  keyRing: \${ring.keyRingId}
  tokenIamId: \${token.iamId}
  tokenExpiration: \${token.expiration}
  accessToken: \${token.accessToken}
`;
}

describe("provider plugin through the engine: a YAML program", function () {
    this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let stack: EngineStack;
    let workDir: string;
    let guid: string;
    const timings: string[] = [];

    async function timed<T>(label: string, op: () => Promise<T>): Promise<T> {
        const start = Date.now();
        const r = await op();
        timings.push(`${label}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
        return r;
    }

    before(async () => {
        ensureYamlHost();
        sandbox = await createSandbox();
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }] });
        guid = emu.instances[0].guid;
        workDir = path.join(sandbox.dir, "work", "plugin-yaml");
        fs.mkdirSync(workDir, { recursive: true });
        fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), program());
        stack = await sandbox.projectStack("dev", workDir, {
            config: {
                "ibmcloud-iam:apiKey": { value: emu.apiKey, secret: true },
                "ibmcloud-iam:iamEndpoint": { value: emu.url },
                "ibmcloud-iam:kmsEndpoint": { value: emu.url },
                instanceId: { value: guid },
                description: { value: "first" },
            },
        });
    });
    after(async () => {
        if (process.env.E2E_TIMINGS) console.log(timings.join("\n"));
        await sandbox?.cleanup();
        await emu?.stop();
    });

    it("preview, up, refresh with no change, an update, no-change preview; secrets only as ciphertext in state", async () => {
        const preview = await timed("preview", () => stack.preview());
        assert.equal(preview.result.changeSummary.create, 8, preview.output); // 7 resources + the stack

        const up = await timed("up", () => stack.up());
        assert.equal(up.result.summary.resourceChanges?.create, 8, up.output);
        const outs = await stack.outputs();
        assert.match(String(outs.serviceId.value), /^ServiceId-/);
        assert.ok(outs.apiKey.secret, "the API key output must be secret");
        assert.ok(outs.accessToken.secret, "the token must be secret");
        assert.equal(typeof outs.tokenExpiration.value, "number");
        const iam = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        const sid = await iam.getServiceId(String(outs.serviceId.value));
        assert.equal(outs.tokenIamId.value, sid.iam_id);
        const kms = new KmsClient({ endpoint: emu.url, instanceId: guid, tokenSource: () => iam.tokens.getToken(), httpClient: iam.http });
        const key = await kms.getKey(String(outs.keyId.value));
        assert.equal(key.createdBy, sid.iam_id, "the key is made as the service ID");

        const refresh = await timed("refresh", () => stack.refresh({ expectNoChanges: true }));
        assert.deepStrictEqual(Object.keys(refresh.result.summary.resourceChanges ?? {}), ["same"], refresh.output);

        await stack.setConfig("description", "second");
        const update = await timed("up (update)", () => stack.up());
        assert.equal(update.result.summary.resourceChanges?.update, 1, update.output);
        assert.equal((await iam.getServiceId(sid.id)).description, "second");
        await timed("preview --expect-no-changes", () => stack.preview({ expectNoChanges: true }));

        const state = await stack.exportStateText();
        for (const s of [emu.apiKey, String(outs.apiKey.value), String(outs.accessToken.value)]) {
            assert.ok(!state.includes(s), "a secret in plaintext in the state");
        }
        for (const text of [stack.log])
            for (const s of [emu.apiKey, String(outs.apiKey.value)]) assert.ok(!text.includes(s), "a secret in the engine's output");
        await iam.http.close();
    });

    it("destroy removes everything", async () => {
        const destroy = await timed("destroy", () => stack.destroy());
        assert.equal(destroy.result.summary.resourceChanges?.delete, 8, destroy.output);
        const state = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { serviceIds: unknown[]; kmsKeys: Array<{ state: number }> };
        assert.equal(state.serviceIds.length, 0);
    });
});

describe("provider plugin through the engine: the KmsAccess component constructed by the plugin for a YAML program", function () {
    this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    const timings: string[] = [];

    async function timed<T>(label: string, op: () => Promise<T>): Promise<T> {
        const start = Date.now();
        const r = await op();
        timings.push(`${label}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
        return r;
    }

    before(async () => {
        ensureYamlHost();
        sandbox = await createSandbox();
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }] });
    });
    after(async () => {
        if (process.env.E2E_TIMINGS) console.log(timings.join("\n"));
        await sandbox?.cleanup();
        await emu?.stop();
    });

    it("up makes the identity as the plugin's own resources under the component, a key ring and a key as that identity; refresh no change; destroy", async () => {
        const guid = emu.instances[0].guid;
        const workDir = path.join(sandbox.dir, "work", "plugin-construct");
        fs.mkdirSync(workDir, { recursive: true });
        fs.writeFileSync(
            path.join(workDir, "Pulumi.yaml"),
            `${pluginYamlHeader("plugin-construct")}config:
  instanceId:
    type: string
resources:
  access:
    type: ibmcloud-iam:index:KmsAccess
    properties:
      instance:
        instanceId: \${instanceId}
        service: kms
      roles: [Manager]
      serviceIdName: orders-app
  ring:
    type: ibmcloud-iam:index:KmsKeyRing
    properties:
      instanceId: \${access.instanceId}
      service: \${access.service}
      endpoint: \${access.kmsEndpoint}
      keyRingId: orders-keys
      force: true
      apiKey: \${access.apiKey}
  rootKey:
    type: ibmcloud-iam:index:KmsKey
    properties:
      instanceId: \${access.instanceId}
      service: \${access.service}
      endpoint: \${access.kmsEndpoint}
      name: orders-root
      keyRing: \${ring.keyRingId}
      apiKey: \${access.apiKey}
outputs:
  serviceId: \${access.serviceId}
  iamId: \${access.iamId}
  apiKey: \${access.apiKey}
  policyId: \${access.policyId}
  kmsEndpoint: \${access.kmsEndpoint}
  keyId: \${rootKey.keyId}
  keyRing: \${ring.keyRingId}
`,
        );
        const stack = await sandbox.projectStack("dev", workDir, {
            config: {
                "ibmcloud-iam:apiKey": { value: emu.apiKey, secret: true },
                "ibmcloud-iam:iamEndpoint": { value: emu.url },
                "ibmcloud-iam:kmsEndpoint": { value: emu.url },
                instanceId: { value: guid },
            },
        });

        const preview = await timed("preview", () => stack.preview());
        // The stack, the component, its four children (known only once the plugin constructs it), the ring and the key.
        assert.equal(preview.result.changeSummary.create, 8, preview.output);
        const up = await timed("up", () => stack.up());
        assert.equal(up.result.summary.resourceChanges?.create, 8, up.output);

        const state = JSON.parse(await stack.exportStateText()) as { deployment: { resources: Array<{ type: string; urn: string; parent?: string }> } };
        const component = state.deployment.resources.find((r) => r.type === "ibmcloud-iam:index:KmsAccess");
        assert.ok(component, "the component is in the state");
        const children = state.deployment.resources
            .filter((r) => r.parent === component.urn)
            .map((r) => r.type)
            .sort();
        assert.deepStrictEqual(children, [
            "ibmcloud-iam:index:AccessPolicy",
            "ibmcloud-iam:index:KmsAccessReady",
            "ibmcloud-iam:index:ServiceApiKey",
            "ibmcloud-iam:index:ServiceId",
        ]);
        assert.ok(!state.deployment.resources.some((r) => r.type.startsWith("pulumi-nodejs:dynamic")), "no dynamic resource in a YAML stack");

        const outs = await stack.outputs();
        assert.match(String(outs.serviceId.value), /^ServiceId-/);
        assert.equal(outs.kmsEndpoint.value, emu.url);
        assert.ok(outs.apiKey.secret, "the component's API key output must be secret");
        const iam = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        const sid = await iam.getServiceId(String(outs.serviceId.value));
        assert.equal(outs.iamId.value, sid.iam_id);
        const kms = new KmsClient({ endpoint: emu.url, instanceId: guid, tokenSource: () => iam.tokens.getToken(), httpClient: iam.http });
        const key = await kms.getKey(String(outs.keyId.value));
        assert.equal(key.createdBy, sid.iam_id, "the key is made as the component's service ID");

        const text = await stack.exportStateText();
        for (const secret of [emu.apiKey, String(outs.apiKey.value)]) {
            assert.ok(!text.includes(secret), "a secret in plaintext in the state");
            assert.ok(!stack.log.includes(secret), "a secret in the engine's output");
        }

        const refresh = await timed("refresh", () => stack.refresh({ expectNoChanges: true }));
        assert.deepStrictEqual(Object.keys(refresh.result.summary.resourceChanges ?? {}), ["same"], refresh.output);
        await timed("preview --expect-no-changes", () => stack.preview({ expectNoChanges: true }));

        const destroy = await timed("destroy", () => stack.destroy());
        assert.equal(destroy.result.summary.resourceChanges?.delete, 8, destroy.output);
        const after = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { serviceIds: unknown[] };
        assert.equal(after.serviceIds.length, 0);
        await iam.http.close();
        if (process.env.E2E_TIMINGS)
            timings.push(`outputs: ${JSON.stringify({ ...Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value])) })}`);
    });

    it("a bad argument fails the preview at Construct, naming the argument and the fix, before anything is made", async () => {
        const workDir = path.join(sandbox.dir, "work", "plugin-construct-bad");
        fs.mkdirSync(workDir, { recursive: true });
        fs.writeFileSync(
            path.join(workDir, "Pulumi.yaml"),
            `${pluginYamlHeader("plugin-construct-bad")}resources:
  access:
    type: ibmcloud-iam:index:KmsAccess
    properties:
      instance:
        instanceId: 0f3c8e4e-6a3b-4e8e-9c5d-1b2a3c4d5e6f
        service: kms
      roles: [Wrter]
`,
        );
        const stack = await sandbox.projectStack("dev", workDir, {
            config: { "ibmcloud-iam:apiKey": { value: emu.apiKey, secret: true }, "ibmcloud-iam:iamEndpoint": { value: emu.url } },
        });
        const err = await stack.preview().then(
            () => undefined,
            (e: unknown) => e as Error & { output?: string },
        );
        assert.ok(err, "the preview must fail");
        const text = `${err.message}\n${err.output ?? ""}`;
        timings.push(
            `bad argument: ${text
                .split("\n")
                .find((l) => l.includes("roles[0]"))
                ?.trim()}`,
        );
        assert.match(text, /roles\[0\]/, text);
        assert.match(text, /Writer/, "the valid role names, so the fix is plain");
        assert.ok(!text.includes(emu.apiKey));
        const state = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as { serviceIds: unknown[] };
        assert.equal(state.serviceIds.length, 0, "nothing made");
    });
});

describe("provider plugin through the engine: two accounts through two explicit providers in one YAML stack", function () {
    this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    const emus: RunningEmulator[] = [];

    before(async () => {
        ensureYamlHost();
        sandbox = await createSandbox();
    });
    after(async () => {
        await sandbox?.cleanup();
        for (const e of emus) await e.stop();
    });

    it("each provider creates in its own account; destroy removes both", async () => {
        const a = await startEmulator({ port: 0 });
        const b = await startEmulator({ port: 0 });
        emus.push(a, b);
        const workDir = path.join(sandbox.dir, "work", "plugin-accounts");
        fs.mkdirSync(workDir, { recursive: true });
        const provider = (acct: string) => `  ${acct}:
    type: pulumi:providers:ibmcloud-iam
    properties:
      apiKey: \${${acct}ApiKey}
      iamEndpoint: \${${acct}Endpoint}
`;
        const app = (acct: string) => `  app_${acct}:
    type: ibmcloud-iam:index:ServiceId
    properties:
      name: orders-app
    options:
      provider: \${${acct}}
`;
        fs.writeFileSync(
            path.join(workDir, "Pulumi.yaml"),
            `${pluginYamlHeader("plugin-accounts")}config:
  prodApiKey:
    type: string
    secret: true
  prodEndpoint:
    type: string
  sharedApiKey:
    type: string
    secret: true
  sharedEndpoint:
    type: string
resources:
${provider("prod")}${provider("shared")}${app("prod")}${app("shared")}outputs:
  prodAccount: \${app_prod.accountId}
  sharedAccount: \${app_shared.accountId}
`,
        );
        const stack = await sandbox.projectStack("dev", workDir, {
            config: {
                prodApiKey: { value: a.apiKey, secret: true },
                prodEndpoint: { value: a.url },
                sharedApiKey: { value: b.apiKey, secret: true },
                sharedEndpoint: { value: b.url },
            },
        });
        const up = await stack.up();
        assert.equal(up.result.summary.resourceChanges?.create, 5, up.output); // 2 providers, 2 service IDs, the stack
        const outs = await stack.outputs();
        assert.equal(outs.prodAccount.value, a.accountId);
        assert.equal(outs.sharedAccount.value, b.accountId);
        const state = await stack.exportStateText();
        for (const k of [a.apiKey, b.apiKey]) assert.ok(!state.includes(k), "a provider's API key in plaintext in the state");
        await stack.refresh({ expectNoChanges: true });
        const destroy = await stack.destroy();
        assert.equal(destroy.result.summary.resourceChanges?.delete, 5, destroy.output);
        for (const e of [a, b]) {
            const st = (await (await fetch(`${e.url}/__emulator/state`)).json()) as { serviceIds: unknown[] };
            assert.equal(st.serviceIds.length, 0);
        }
    });
});

describe("provider plugin through the engine: pulumi import of each IAM resource type, then a preview with no change", function () {
    this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;

    before(async () => {
        ensureYamlHost();
        sandbox = await createSandbox();
        emu = await startEmulator({ port: 0 });
    });
    after(async () => {
        await sandbox?.cleanup();
        await emu?.stop();
    });

    it("imports what the CLI made, writes the program for it, and the next preview shows no change", async () => {
        const iam = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        const sid = await iam.createServiceId({ name: "made-elsewhere", description: "by the CLI" });
        const key = await iam.createApiKey({ name: "made-elsewhere-key", iam_id: sid.iam_id, description: "" });
        const policy = await iam.createPolicy({
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
        const auth = await iam.createPolicy({
            type: "authorization",
            subjects: [
                {
                    attributes: [
                        { name: "accountId", value: emu.accountId },
                        { name: "serviceName", value: "cloud-object-storage" },
                    ],
                },
            ],
            roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Reader" }],
            resources: [
                {
                    attributes: [
                        { name: "accountId", value: emu.accountId },
                        { name: "serviceName", value: "kms" },
                    ],
                },
            ],
        });
        await iam.http.close();

        const workDir = path.join(sandbox.dir, "work", "plugin-import");
        fs.mkdirSync(workDir, { recursive: true });
        const header = `${pluginYamlHeader("plugin-import")}`;
        fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), header);
        const stack = await sandbox.projectStack("dev", workDir, {
            config: { "ibmcloud-iam:apiKey": { value: emu.apiKey, secret: true }, "ibmcloud-iam:iamEndpoint": { value: emu.url } },
        });
        const imports = [
            { type: "ibmcloud-iam:index:ServiceId", name: "app", id: sid.id },
            { type: "ibmcloud-iam:index:ServiceApiKey", name: "appKey", id: key.id },
            { type: "ibmcloud-iam:index:AccessPolicy", name: "appPolicy", id: policy.policy.id },
            { type: "ibmcloud-iam:index:AuthorizationPolicy", name: "cosToKms", id: auth.policy.id },
        ];
        fs.writeFileSync(path.join(workDir, "import.json"), JSON.stringify({ resources: imports }));
        const start = Date.now();
        const out = await sandbox.pulumi(["import", "--file", "import.json", "--out", "imported.yaml", "--yes", "--protect=false", "--stack", "dev"], workDir);
        const importSeconds = (Date.now() - start) / 1000;
        assert.match(out, /4 imported|imported 4|\+ 4 to import|4 to import/i, out);
        const generated = fs.readFileSync(path.join(workDir, "imported.yaml"), "utf8");
        fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), `${header}${generated}`);
        const preview = await stack.preview({ expectNoChanges: true });
        assert.deepStrictEqual(Object.keys(preview.result.changeSummary), ["same"], preview.output);
        if (process.env.E2E_TIMINGS) console.log(`import of 4: ${importSeconds.toFixed(1)} s\n${out}\n${generated}\n${preview.output}`);
        await stack.destroy();
    });
});
