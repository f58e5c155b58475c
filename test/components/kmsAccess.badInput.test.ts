// Bad input to the KmsAccess component: every KmsAccess row of test/support/badInputs.ts
// makes the constructor throw, naming the argument and what is wrong, before anything is registered
// (no component, no child: nothing half-created). Values still unknown (Outputs) are left to the
// children's check, which judges them once known.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import "../support/failFast";
import { KmsAccess, kmsAccessArgsFailures } from "../../components/kmsAccess";
import { outputValue, RecordingMocks, setupMocks } from "../support/mocks";
import { badInputsFor, BASES, INSTANCE, KNOWN_ARGUMENTS, rootArgument } from "../support/badInputs";

const ROWS = badInputsFor("KmsAccess");

function escapeRegExp(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("components/kmsAccess: bad arguments throw at construction, before anything is registered", function () {
    this.timeout(20_000);
    let mocks: RecordingMocks;
    beforeEach(async () => {
        pulumi.runtime.setAllConfig({});
        mocks = await setupMocks();
    });

    it(`has a row for each kind of mistake (${ROWS.length} rows)`, function () {
        assert.ok(ROWS.length >= 15);
    });

    it("the base arguments construct the component and its four children (so each row fails for its own change)", async function () {
        const access = new KmsAccess("orders", BASES.KmsAccess as never);
        await Promise.all([access, access.serviceIdResource, access.apiKeyResource, access.policy, access.accessReady!].map((r) => outputValue(r.urn)));
        assert.deepStrictEqual(mocks.resources.map((r) => r.name).sort(), ["orders", "orders-apikey", "orders-policy", "orders-ready", "orders-serviceid"]);
        assert.deepStrictEqual(kmsAccessArgsFailures("orders", BASES.KmsAccess), []);
    });

    for (const row of ROWS) {
        it(`${row.what} → ${row.field}`, async function () {
            let thrown: unknown;
            try {
                new KmsAccess("orders", row.inputs as never);
            } catch (err) {
                thrown = err;
            }
            assert.ok(thrown instanceof Error, "the constructor throws");
            const message = thrown.message;
            assert.ok(message.startsWith("KmsAccess orders: invalid arguments: "), message);
            const at = new RegExp(`(?:invalid arguments: |; )${escapeRegExp(row.field)}: `).exec(message);
            assert.ok(at, `the error names ${row.field}: ${message}`);
            assert.match(message.slice(at.index + at[0].length), row.reason);
            for (const s of row.secrets) assert.ok(!message.includes(s), "no secret in the error");
            assert.ok(message.length < 4000, `a short error (${message.length} characters)`);

            // the same failures, structured: each names an argument of KmsAccess
            const failures = kmsAccessArgsFailures("orders", row.inputs);
            assert.ok(failures.some((f) => f.property === row.field && row.reason.test(f.reason)));
            if (row.maxFailures !== undefined) assert.ok(failures.length <= row.maxFailures, `${failures.length} failures`);
            for (const f of failures)
                assert.ok(KNOWN_ARGUMENTS.KmsAccess.includes(rootArgument(f.property)) || rootArgument(f.property) in row.inputs, f.property);

            // give a registration the time to reach the mock monitor, had there been one
            await new Promise((r) => setTimeout(r, 20));
            assert.deepStrictEqual(
                mocks.resources.map((r) => r.name),
                [],
                "nothing registered: not the component, not a child",
            );
        });
    }

    it("every mistake at once: one error listing each argument", function () {
        const failures = kmsAccessArgsFailures("orders", {
            instance: { instanceId: "my-hpcs", service: "vault" },
            roles: ["Wrtier"],
            serviceIdName: "",
            waitForAccess: { timeoutSeconds: -5 },
            colour: "blue",
        });
        assert.deepStrictEqual(failures.map((f) => f.property).sort(), [
            "colour",
            "instance.instanceId",
            "instance.service",
            "serviceIdName",
            "waitForAccess.timeoutSeconds",
        ]);
        // roles of an unknown service are not judged (the service is already wrong)
        assert.throws(() => new KmsAccess("orders", null as never), /KmsAccess orders: invalid arguments: \(args\): arguments must be an object/);
    });

    it("the component's name stands in for serviceIdName and must fit the same limits", function () {
        const failures = kmsAccessArgsFailures("x".repeat(994), { instance: { instanceId: INSTANCE } });
        assert.deepStrictEqual(
            failures.map((f) => f.property),
            ["serviceIdName"],
        );
        assert.match(failures[0].reason, /at most 993 characters/);
    });

    it("values still unknown (Outputs) are not judged here: the children's check judges them once known", async function () {
        // a bad value inside an Output cannot be seen at construction
        const access = new KmsAccess("later", {
            instance: { instanceId: pulumi.output(INSTANCE), service: pulumi.output("kms" as const) },
            roles: [pulumi.output("Writer")],
            serviceIdName: pulumi.output("later-app"),
            expiresAt: pulumi.output("2099-01-01T00:00+0000"),
        });
        await outputValue(access.policyId);
        assert.ok(mocks.resources.some((r) => r.name === "later-policy"));
        // known mistakes next to unknown values are still caught
        assert.throws(
            () => new KmsAccess("mixed", { instance: { instanceId: pulumi.output(INSTANCE) }, roles: ["Wrtier", pulumi.output("Reader")] }),
            /roles\[0\]: unknown role "Wrtier"/,
        );
    });
});
