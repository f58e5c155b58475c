// Bad input at the user's own line: every row of test/support/badInputs.ts for the resources
// makes the resource's constructor throw — with the provider's own check rules, not a copy — naming
// the argument and what is wrong, before anything is registered. The exceptions are the rows only
// the provider's check can judge (`checkOnly`: roles only IAM knows, a date that may have passed since
// the stack's last run); test/plugin/badInput.test.ts takes every row through check.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import "../support/failFast";
import {
    AccessPolicy,
    AuthorizationPolicy,
    KmsAccessReady,
    KmsKey,
    KmsKeyRing,
    ServiceApiKey,
    ServiceId,
    TrustedProfile,
    TrustedProfileClaimRule,
    TrustedProfileIdentity,
    TrustedProfileLink,
} from "../../provider";
import { BAD_INPUTS, BASES, BadInputTarget, INSTANCE } from "../support/badInputs";
import { outputValue, RecordingMocks, setupMocks } from "../support/mocks";

type ResourceTarget = Exclude<BadInputTarget, "KmsAccess">;
const CONSTRUCTORS: Record<ResourceTarget, new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource> = {
    ServiceId,
    ServiceApiKey,
    AccessPolicy,
    AuthorizationPolicy,
    KmsKey,
    KmsKeyRing,
    KmsAccessReady,
    TrustedProfile,
    TrustedProfileLink,
    TrustedProfileClaimRule,
    TrustedProfileIdentity,
};

function escapeRegExp(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const ROWS = BAD_INPUTS.filter((r) => r.target in CONSTRUCTORS);

describe("provider: bad arguments known when the program runs throw at construction, naming the argument", function () {
    this.timeout(20_000);
    let mocks: RecordingMocks;
    beforeEach(async () => {
        pulumi.runtime.setAllConfig({});
        mocks = await setupMocks();
    });

    it("each base constructs (so each row fails for its own change)", async function () {
        for (const [target, Ctor] of Object.entries(CONSTRUCTORS)) {
            const r = new Ctor(`base-${target}`, BASES[target as ResourceTarget] as never);
            await outputValue(r.urn);
        }
        assert.strictEqual(mocks.resources.length, Object.keys(CONSTRUCTORS).length);
    });

    it("all but a few rows are judged at construction", function () {
        const checkOnly = ROWS.filter((r) => r.checkOnly);
        assert.ok(checkOnly.length <= 5, checkOnly.map((r) => r.what).join(", "));
    });

    for (const row of ROWS) {
        const Ctor = CONSTRUCTORS[row.target as ResourceTarget];
        if (row.checkOnly) {
            it(`${row.target}: ${row.what} → left to check (${row.checkOnly})`, async function () {
                const r = new Ctor("bad", row.inputs as never);
                await outputValue(r.urn);
            });
            continue;
        }
        it(`${row.target}: ${row.what} → ${row.field}`, async function () {
            let thrown: unknown;
            try {
                new Ctor("bad", row.inputs as never);
            } catch (err) {
                thrown = err;
            }
            assert.ok(thrown instanceof Error, "the constructor throws");
            const message = thrown.message;
            assert.ok(message.startsWith(`${row.target} bad: invalid arguments: `), message.slice(0, 300));
            const at = new RegExp(`(?:invalid arguments: |; )${escapeRegExp(row.field)}: `).exec(message);
            assert.ok(at, `the error names ${row.field}: ${message.slice(0, 500)}`);
            assert.match(message.slice(at.index + at[0].length), row.reason);
            assert.ok(message.length < 4000, `a short error (${message.length} characters)`);
            for (const s of row.secrets) assert.ok(!message.includes(s), "no secret in the error");
            await new Promise((r) => setTimeout(r, 20));
            assert.deepStrictEqual(
                mocks.resources.map((r) => r.name),
                [],
                "nothing registered",
            );
        });
    }

    it("values still unknown (Outputs) are left to check; known mistakes beside them are still caught", async function () {
        const ring = new KmsKeyRing("later", {
            instanceId: pulumi.output(INSTANCE),
            keyRingId: pulumi.output("orders_keys!"),
            apiKey: pulumi.secret("k".repeat(40)),
        });
        await outputValue(ring.urn);
        assert.throws(
            () => new KmsKeyRing("mixed", { instanceId: pulumi.output(INSTANCE), keyRingId: "orders_keys!", apiKey: pulumi.secret("k".repeat(40)) }),
            /^Error: KmsKeyRing mixed: invalid arguments: keyRingId: .*2 to 100 letters, digits or dashes/,
        );
    });

    it("an adopted resource (get) is not judged: it has no arguments", async function () {
        const got = ServiceId.get("adopted", "ServiceId-5c3f5d1e-2f4a-4b6c-8d7e-9f0a1b2c3d4e");
        await outputValue(got.urn);
    });
});
