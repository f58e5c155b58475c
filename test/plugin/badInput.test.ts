// Bad input, through the REAL dynamic-provider plugin against the emulator: every row of
// test/support/badInputs.ts for every resource is refused by `check` — which is what makes
// `pulumi preview` fail — with a failure naming the argument and saying what is wrong, while the
// emulator sees no request at all (so certainly no write): these rules are judged offline, except the
// roles of a service the offline catalog does not know, which check reads from IAM (rows marked `reads`).
import { strict as assert } from "assert";
import "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import { PROVIDER_OF } from "../support/resources";
import { serviceIdProvider } from "../../provider";
import { BAD_INPUTS, BASES, BadInputTarget, KNOWN_ARGUMENTS, rootArgument } from "../support/badInputs";
import { RunningPlugin, startPlugin } from "./harness";

interface Stats {
    requests: number;
    writes: number;
}

const PROVIDERS: Record<Exclude<BadInputTarget, "KmsAccess">, object> = PROVIDER_OF;

const ROWS = BAD_INPUTS.filter((r) => r.target !== "KmsAccess");

describe("plugin: bad input is refused at check, naming the argument, before any request to IBM", function () {
    this.timeout(30_000);
    let emu: RunningEmulator;
    let plugin: RunningPlugin;
    /** Every secret value the rows carry: searched for in the plugin's output at the end. */
    const secrets = new Set<string>();

    async function stats(): Promise<Stats> {
        const s = (await (await fetch(`${emu.url}/__emulator/stats`)).json()) as Stats;
        return { requests: s.requests, writes: s.writes };
    }
    /** The emulator's objects (service IDs, keys, policies, KMS keys), to show nothing changed. */
    async function stateText(): Promise<string> {
        const s = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as Record<string, unknown>;
        return JSON.stringify([s.serviceIds, s.apiKeys, s.policies, s.kmsKeys]);
    }

    before(async function () {
        emu = await startEmulator({ port: 0 });
        plugin = await startPlugin({
            config: { "ibmcloud:apiKey": emu.apiKey, "ibmcloud:iamEndpoint": emu.url, "ibmcloud:kmsEndpoint": emu.url },
            secretKeys: ["ibmcloud:apiKey"],
        });
    });
    after(async function () {
        await plugin?.stop();
        await emu?.stop();
    });

    it(`has at least 50 rows over every resource (${ROWS.length}), plus the component's (${BAD_INPUTS.length - ROWS.length}) in test/components`, function () {
        assert.ok(BAD_INPUTS.length >= 50, `${BAD_INPUTS.length} rows`);
        for (const target of Object.keys(PROVIDERS)) assert.ok(ROWS.filter((r) => r.target === target).length >= 5, `rows for ${target}`);
    });

    it("every base passes check, so each row fails for the one change it makes", async function () {
        for (const target of Object.keys(PROVIDERS) as Array<keyof typeof PROVIDERS>) {
            const checked = await plugin.check(PROVIDERS[target], {}, BASES[target]);
            assert.deepStrictEqual(checked.failures, [], `${target} base`);
        }
    });

    for (const row of ROWS) {
        it(`${row.target}: ${row.what} → ${row.field}`, async function () {
            for (const s of row.secrets) secrets.add(s);
            const before = await stats();
            const stateBefore = await stateText();

            const checked = await plugin.check(PROVIDERS[row.target as keyof typeof PROVIDERS], {}, row.inputs);

            const shown = checked.failures.map((f) => `${f.property}: ${f.reason}`).join("\n    ");
            assert.ok(checked.failures.length > 0, "check refuses it");
            const named = checked.failures.filter((f) => f.property === row.field);
            assert.ok(named.length > 0, `a failure names ${row.field}; got:\n    ${shown}`);
            assert.ok(
                named.some((f) => row.reason.test(f.reason)),
                `the failure for ${row.field} says ${row.reason}; got:\n    ${shown}`,
            );
            for (const f of checked.failures) {
                const root = rootArgument(f.property);
                assert.ok(KNOWN_ARGUMENTS[row.target].includes(root) || root in row.inputs, `"${f.property}" names an argument of ${row.target}`);
                assert.ok(f.reason.length >= 15 && f.reason.trim() === f.reason, `a reason, not a code: "${f.reason}"`);
                for (const s of row.secrets) assert.ok(!f.reason.includes(s) && !f.property.includes(s), `the failure for ${f.property} echoes a secret`);
            }

            if (row.maxFailures !== undefined) assert.ok(checked.failures.length <= row.maxFailures, `at most ${row.maxFailures} failures:\n    ${shown}`);
            // nothing huge comes back: neither in a reason nor in the inputs the engine prints beside it
            for (const f of checked.failures) assert.ok(f.reason.length <= 1000 && f.property.length <= 120, `a short failure (${f.reason.length} characters)`);
            const { __provider: _p, ...echoed } = checked.inputs as Record<string, unknown>;
            assert.ok(JSON.stringify(echoed).length < 16 * 1024, `the inputs returned with the failure are short (${JSON.stringify(echoed).length})`);

            const after = await stats();
            if (row.reads) assert.strictEqual(after.writes, before.writes, "check wrote nothing (it may read the roles IAM lists)");
            else assert.deepStrictEqual(after, before, "check sent no request to IBM (no token, no read, no write)");
            assert.strictEqual(await stateText(), stateBefore, "the emulator holds the same objects");
        });
    }

    it("the counters the rows rely on do see a request and a write (a valid ServiceId check, create and delete)", async function () {
        const before = await stats();
        const checked = await plugin.check(serviceIdProvider, {}, { name: "bad-input-control" });
        assert.deepStrictEqual(checked.failures, []);
        assert.deepStrictEqual(await stats(), before, "a valid check makes no request either");
        const created = await plugin.create(serviceIdProvider, checked.inputs);
        const mid = await stats();
        // the create's writes: the service ID (with its recovery marker key inline) and the marker's deletion
        assert.ok(mid.requests > before.requests && mid.writes === before.writes + 2, `create: ${JSON.stringify(before)} → ${JSON.stringify(mid)}`);
        await plugin.delete(serviceIdProvider, created.id, created.outs);
        assert.strictEqual((await stats()).writes, before.writes + 3);
    });

    it("no secret value of any row appears in the plugin's output", function () {
        assert.ok(secrets.size >= 5, "the rows carried secrets");
        const output = plugin.stdout() + plugin.stderr();
        for (const s of secrets) assert.ok(!output.includes(s), "a secret in the plugin's output");
    });
});
