// Concurrency through the real engine: after `pulumi up`, a colleague changes an object with
// the CLI; the next `pulumi up` WITHOUT a refresh fails with a message naming the object, saying it
// was changed outside Pulumi since it was last read and to run `pulumi refresh` — and the colleague's
// change is still there. Then `pulumi refresh` + `pulumi up` converge (a preview afterwards has nothing
// to do). Once for each resource that updates with If-Match: ServiceId, ServiceApiKey, AccessPolicy.
// (test/plugin/concurrency.test.ts drives the same through the plugin alone, with more variants.)
// The program is test/e2e/programs/concurrency.ts, run by the engine in its own process.
import * as assert from "assert";
import { startEmulator, RunningEmulator } from "../../emulator";
import { IamClient, IamTokenManager } from "../../client";
import { createSandbox, EngineError, EngineSandbox, EngineStack, ENGINE_OP_TIMEOUT_MS, ENSURE_PULUMI_TIMEOUT_MS } from "./support/engine";

describe("e2e: a change made outside Pulumi is refused by up without refresh, never overwritten; refresh + up converge", function () {
    this.timeout(2 * ENGINE_OP_TIMEOUT_MS);
    let sandbox: EngineSandbox;
    let emu: RunningEmulator;
    let owner: IamClient;
    let stack: EngineStack;
    let description = "round 0";
    let ids: { serviceId: string; apiKeyId: string; policyId: string };

    before(async function () {
        this.timeout(ENSURE_PULUMI_TIMEOUT_MS);
        emu = await startEmulator({ port: 0 });
        owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
        sandbox = await createSandbox({ env: { IC_API_KEY: "", IBMCLOUD_API_KEY: "" } });
        stack = await sandbox.programStack(
            "concurrency",
            { module: "concurrency", export: "identity" },
            {
                projectName: "concurrency",
                params: { description, instanceId: emu.instances[0].guid },
                config: { "ibmcloud:apiKey": { value: emu.apiKey, secret: true }, "ibmcloud:iamEndpoint": { value: emu.url } },
            },
        );
        const { result, output } = await stack.up();
        assert.strictEqual(result.summary.result, "succeeded", output);
        ids = {
            serviceId: String(result.outputs.serviceId.value),
            apiKeyId: String(result.outputs.apiKeyId.value),
            policyId: String(result.outputs.policyId.value),
        };
    });
    after(async function () {
        this.timeout(ENGINE_OP_TIMEOUT_MS);
        try {
            if (stack) {
                const { result, output } = await stack.destroy();
                assert.strictEqual(result.summary.result, "succeeded", output);
            }
        } finally {
            await sandbox?.cleanup();
            await owner?.http.close();
            await emu?.stop();
        }
    });

    interface Case {
        what: string;
        id: () => string;
        /** The colleague's change (fresh read, then a write with the current tag). */
        colleague: () => Promise<void>;
        /** What IBM holds that the colleague's change is about, and the full object with its tag. */
        live: () => Promise<{ theirs: boolean; program: boolean; all: unknown }>;
    }

    const cases: Case[] = [
        {
            what: "service ID",
            id: () => ids.serviceId,
            colleague: async () => {
                const s = await owner.getServiceId(ids.serviceId);
                await owner.updateServiceId(ids.serviceId, s.entity_tag, { name: "renamed-by-a-colleague" });
            },
            live: async () => {
                const s = await owner.getServiceId(ids.serviceId);
                return { theirs: s.name === "renamed-by-a-colleague", program: s.name === "concurrency-app" && s.description === description, all: s };
            },
        },
        {
            what: "API key",
            id: () => ids.apiKeyId,
            colleague: async () => {
                const k = await owner.getApiKey(ids.apiKeyId);
                await owner.updateApiKey(ids.apiKeyId, k.entity_tag, { name: "renamed-by-a-colleague", action_when_leaked: "delete" });
            },
            live: async () => {
                const k = await owner.getApiKey(ids.apiKeyId);
                return {
                    theirs: k.name === "renamed-by-a-colleague" && k.action_when_leaked === "delete",
                    program: k.name === "app-key" && k.description === description,
                    all: k,
                };
            },
        },
        {
            what: "access policy",
            id: () => ids.policyId,
            colleague: async () => {
                const { policy, etag } = await owner.getPolicy(ids.policyId);
                await owner.replacePolicy(ids.policyId, etag, {
                    type: policy.type,
                    subjects: policy.subjects,
                    resources: policy.resources,
                    description: policy.description,
                    roles: [{ role_id: "crn:v1:bluemix:public:iam::::serviceRole:Writer" }],
                });
            },
            live: async () => {
                const { policy, etag } = await owner.getPolicy(ids.policyId);
                const roles = policy.roles.map((r) => r.role_id);
                return {
                    theirs: roles.length === 1 && roles[0].endsWith(":Writer"),
                    program: roles.length === 1 && roles[0].endsWith(":Reader") && policy.description === description,
                    all: { policy, etag },
                };
            },
        },
    ];

    cases.forEach((c, round) => {
        it(`${c.what}: up without refresh fails naming it and pulumi refresh, leaves the colleague's change; refresh + up converge`, async function () {
            await c.colleague();
            const before = await c.live();
            assert.ok(before.theirs);

            description = `round ${round + 1}`; // the program edits every resource's description
            await stack.setParams({ description });
            let failure: EngineError | undefined;
            try {
                await stack.up();
            } catch (err) {
                if (!(err instanceof EngineError)) throw err;
                failure = err;
            }
            assert.ok(failure, "up without refresh failed");
            const id = c.id();
            assert.match(failure.output, new RegExp(`${c.what} ${id} was changed outside Pulumi since (Pulumi )?(it was )?last read`), failure.output);
            assert.match(failure.output, /run `pulumi refresh`/);
            const after = await c.live();
            assert.ok(after.theirs && !after.program, "the colleague's change is still there");
            assert.deepStrictEqual(after.all, before.all, "IBM holds exactly what the colleague left (same entity tag)");

            const refresh = await stack.refresh();
            assert.strictEqual(refresh.result.summary.result, "succeeded", refresh.output);
            assert.ok((refresh.result.summary.resourceChanges?.update ?? 0) >= 1, `refresh took in the change:\n${refresh.output}`);
            const { result, output } = await stack.up();
            assert.strictEqual(result.summary.result, "succeeded", output);
            assert.ok((await c.live()).program, "up applied the program with the current tag");
            const preview = await stack.preview();
            assert.deepStrictEqual(
                Object.keys(preview.result.changeSummary).filter((k) => k !== "same"),
                [],
                `converged:\n${preview.output}`,
            );
        });
    });
});
