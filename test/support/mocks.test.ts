import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { nextUnhandledRejection } from "./failFast";
import { outputDetails, outputValue, setupMocks } from "./mocks";
import { serializeProvider } from "../plugin/harness";
import { zodSchemaAtModuleScope } from "../plugin/fixtures/zodSchemaAtModuleScope";

const echo: pulumi.dynamic.ResourceProvider = {
    async create(inputs: { name: string }) {
        return { id: `echo-${inputs.name}`, outs: inputs };
    },
};

class Echo extends pulumi.dynamic.Resource {
    declare readonly name: pulumi.Output<string>;
    declare readonly size: pulumi.Output<number>;
    constructor(name: string, args: { name: pulumi.Input<string>; size?: pulumi.Input<number> }, opts?: pulumi.CustomResourceOptions) {
        super(echo, name, { ...args, size: args.size ?? undefined }, opts, "ibmcloud-iam", "Echo");
    }
}

/** A dynamic resource with no declared outputs. */
class Plain extends pulumi.dynamic.Resource {}

function runMocha(spec: string, env: Record<string, string>): Promise<{ code: number; output: string; ms: number }> {
    const mocha = require.resolve("mocha/bin/mocha.js");
    const started = Date.now();
    return new Promise((resolve) => {
        execFile(process.execPath, [mocha, "--timeout", "3000", spec], { env: { ...process.env, ...env }, timeout: 30_000 }, (e, stdout, stderr) =>
            resolve({ code: e ? Number((e as { code?: number }).code ?? -1) : 0, output: stdout + stderr, ms: Date.now() - started }),
        );
    });
}

describe("support/mocks: setMocks-based resource-shape tests", function () {
    it("records a dynamic resource's type token, inputs and the __provider text the plugin harness would send", async function () {
        const mocks = await setupMocks();
        const r = new Echo("e1", { name: "first", size: 3 });
        assert.equal(await outputValue(r.urn), "urn:pulumi:test::pulumi-ibmcloud-iam::pulumi-nodejs:dynamic/ibmcloud-iam:Echo::e1");
        assert.equal(await outputValue(r.id), "e1-id");
        assert.equal(await outputValue(r.size), 3);

        const reg = mocks.byName("e1");
        assert.equal(reg.type, "pulumi-nodejs:dynamic/ibmcloud-iam:Echo");
        assert.equal(reg.custom, true);
        const { __provider, ...inputs } = reg.inputs;
        assert.deepEqual(inputs, { name: "first", size: 3 });
        assert.equal(typeof __provider, "string");
        // The harness serializes exactly what `new dynamic.Resource` puts into state.
        assert.equal(reg.providerText, (await serializeProvider(echo)).text);
        assert.deepEqual(
            mocks.ofType("pulumi-nodejs:dynamic/ibmcloud-iam:Echo").map((x) => x.name),
            ["e1"],
        );
        assert.throws(() => mocks.byName("nope"), /expected one resource named nope, found 0/);
    });

    it("shows secrecy and preview unknowns of outputs", async function () {
        await setupMocks({ preview: true, newResource: (a) => ({ state: { name: a.inputs.name } }) });
        const r = new Echo("e2", { name: pulumi.secret("hidden") });
        assert.deepEqual(await outputDetails(r.name), { value: "hidden", isKnown: true, isSecret: true });
        // Not in the mock's state during a preview: unknown, as in `pulumi preview`.
        assert.deepEqual(await outputDetails(r.size), { value: undefined, isKnown: false, isSecret: false });
        await assert.rejects(outputValue(r.size), /unknown/);
    });

    it("surfaces a provider that cannot be serialized as the unhandled rejection Pulumi raises, and outputValue fails instead of hanging", async function () {
        const mocks = await setupMocks();
        const rejection = nextUnhandledRejection(10_000);
        const bad = new Plain(zodSchemaAtModuleScope, "bad", {}, {}, "ibmcloud-iam", "Bad");
        const reason = await rejection;
        assert.ok(reason instanceof Error);
        // 3.249+ may repeat the property prefix once; the serializer's own words follow either way.
        assert.match(
            reason.message,
            /^error serializing property "__provider": (error serializing property "__provider": )?Error serializing '\(\) => provider'/,
        );
        assert.match(reason.message, /variable 'inputsSchema'/);
        assert.equal(mocks.resources.length, 0, "never reached the monitor");

        const bad2 = new Plain(zodSchemaAtModuleScope, "bad2", {}, {}, "ibmcloud-iam", "Bad");
        const started = Date.now();
        // Older SDKs leave the output pending (the unhandled rejection ends the wait); newer ones reject it
        // with the same error. Either way it fails at once, naming the serialization error.
        await assert.rejects(outputValue(bad2.urn), /^(Error: )?(.*unhandled rejection happened while waiting: )?error serializing property "__provider"/);
        assert.ok(Date.now() - started < 5_000);
        void bad;
    });

    it("failFast turns the swallowed rejection into an immediate test failure in a real mocha run", async function () {
        const spec = path.join(__dirname, "fixtures", "unserializableUnderMocks.js");
        const [withHelper, without] = await Promise.all([runMocha(spec, { FAIL_FAST: "1" }), runMocha(spec, { FAIL_FAST: "0" })]);

        assert.equal(withHelper.code, 1, withHelper.output);
        assert.match(withHelper.output, /Uncaught Error: error serializing property "__provider"/);
        assert.doesNotMatch(withHelper.output, /Timeout of/);

        // Without it mocha drops the rejection and the test only dies at its timeout, saying nothing useful.
        assert.equal(without.code, 1, without.output);
        assert.match(without.output, /Timeout of 3000ms exceeded/);
        assert.doesNotMatch(without.output, /variable 'inputsSchema'/);
    });
});
