// createWithRecovery as pure logic: what it does with each answer a lookup can give. The same logic
// against the emulator's injected faults is in createRecovery.emulator.test.ts.
import * as assert from "assert";
import { IbmCloudError } from "../../client";
import {
    createWithRecovery,
    createdSince,
    CREATE_CLOCK_SKEW_MS,
    LOOKUP_RETRY_PAUSE_MS,
    MAX_CREATE_RESENDS,
    MAX_LOOKUP_RETRIES,
} from "../../client/createRecovery";

const lost = () =>
    new IbmCloudError({ operation: "create service ID", status: 0, code: "ECONNRESET", outcomeUnknown: true, ibmMessage: "the connection failed" });
const refused = () => new IbmCloudError({ operation: "create service ID", status: 400, code: "invalid_body", ibmMessage: "name is required" });
const listUnavailable = () =>
    new IbmCloudError({ operation: "list service IDs", status: 503, code: "service_unavailable", ibmMessage: "try again later", retryable: true });
const listForbidden = () => new IbmCloudError({ operation: "list service IDs", status: 403, code: "forbidden", ibmMessage: "not allowed to list" });

interface Thing {
    id: string;
}

describe("createWithRecovery", () => {
    it("returns the first answer when there is one, without looking anything up", async () => {
        let lookups = 0;
        const got = await createWithRecovery<Thing>({
            operation: "create service ID",
            send: async () => ({ id: "a" }),
            lookup: async () => {
                lookups++;
                return [];
            },
            idOf: (t) => t.id,
        });
        assert.deepStrictEqual(got, { id: "a" });
        assert.strictEqual(lookups, 0);
    });

    it("adopts the one object a lost attempt made, and does not send again", async () => {
        let sends = 0;
        const events: string[] = [];
        const got = await createWithRecovery<Thing>({
            operation: "create service ID",
            send: async () => {
                sends++;
                throw lost();
            },
            lookup: async () => [{ id: "made-by-lost-attempt" }],
            idOf: (t) => t.id,
            onRecovered: (e) => events.push(`${e.outcome}:${e.id ?? ""}`),
        });
        assert.deepStrictEqual(got, { id: "made-by-lost-attempt" });
        assert.strictEqual(sends, 1);
        assert.deepStrictEqual(events, ["adopted:made-by-lost-attempt"]);
    });

    it("sends again when the lost attempt made nothing", async () => {
        let sends = 0;
        const got = await createWithRecovery<Thing>({
            operation: "create service ID",
            send: async () => {
                if (++sends < 3) throw lost();
                return { id: "third" };
            },
            lookup: async () => [],
            idOf: (t) => t.id,
        });
        assert.deepStrictEqual(got, { id: "third" });
        assert.strictEqual(sends, 3);
    });

    it(`gives up after ${1 + MAX_CREATE_RESENDS} sends that made nothing, saying nothing was created`, async () => {
        let sends = 0;
        await assert.rejects(
            createWithRecovery<Thing>({
                operation: "create service ID",
                send: async () => {
                    sends++;
                    throw lost();
                },
                lookup: async () => [],
                idOf: (t) => t.id,
            }),
            (err: unknown) => {
                assert.ok(err instanceof IbmCloudError);
                assert.match(err.message, /nothing was created; gave up after 3 create attempts/);
                return true;
            },
        );
        assert.strictEqual(sends, 1 + MAX_CREATE_RESENDS);
    });

    it("refuses to guess between several matches and names them all", async () => {
        await assert.rejects(
            createWithRecovery<Thing>({
                operation: "create service ID",
                send: async () => {
                    throw lost();
                },
                lookup: async () => [{ id: "x1" }, { id: "x2" }],
                idOf: (t) => t.id,
            }),
            (err: unknown) => {
                assert.ok(err instanceof IbmCloudError);
                assert.strictEqual(err.outcomeUnknown, true);
                assert.match(err.message, /2 matching objects .*\(x1, x2\).*cannot tell which one/);
                assert.match(err.message, /adopt that one with the resource's `get`/);
                return true;
            },
        );
    });

    it("a failed lookup keeps the create's error and says to check before running up again", async () => {
        await assert.rejects(
            createWithRecovery<Thing>({
                operation: "create service ID",
                send: async () => {
                    throw lost();
                },
                lookup: async () => {
                    throw new Error("list service IDs failed: 503");
                },
                idOf: (t) => t.id,
            }),
            (err: unknown) => {
                assert.ok(err instanceof IbmCloudError);
                assert.strictEqual(err.code, "ECONNRESET");
                assert.match(err.message, /looking for what it may have created failed too \(list service IDs failed: 503\)/);
                return true;
            },
        );
    });

    it("a lookup that fails retryably is tried again after a pause, and what it then finds is adopted", async () => {
        const sleeps: number[] = [];
        let lookups = 0;
        let sends = 0;
        const got = await createWithRecovery<Thing>({
            operation: "create service ID",
            send: async () => {
                sends++;
                throw lost();
            },
            lookup: async () => {
                lookups++;
                if (lookups <= MAX_LOOKUP_RETRIES) throw listUnavailable();
                return [{ id: "made-by-the-lost-attempt" }];
            },
            idOf: (t) => t.id,
            sleep: async (ms) => {
                sleeps.push(ms);
            },
        });
        assert.deepStrictEqual(got, { id: "made-by-the-lost-attempt" });
        assert.strictEqual(sends, 1, "adopted, not sent again");
        assert.strictEqual(lookups, 1 + MAX_LOOKUP_RETRIES);
        assert.deepStrictEqual(
            sleeps,
            Array.from({ length: MAX_LOOKUP_RETRIES }, (_, i) => LOOKUP_RETRY_PAUSE_MS * (i + 1)),
        );
    });

    it(`gives up after ${1 + MAX_LOOKUP_RETRIES} lookups that failed retryably, saying how many`, async () => {
        let lookups = 0;
        await assert.rejects(
            createWithRecovery<Thing>({
                operation: "create service ID",
                send: async () => {
                    throw lost();
                },
                lookup: async () => {
                    lookups++;
                    throw listUnavailable();
                },
                leftover: 'a service ID named "orders"',
                idOf: (t) => t.id,
                sleep: async () => {},
            }),
            (err: unknown) => {
                assert.ok(err instanceof IbmCloudError);
                assert.strictEqual(err.code, "ECONNRESET", "the create's own error");
                assert.ok(err.outcomeUnknown);
                assert.match(err.message, new RegExp(`looking for what it may have created failed too, ${1 + MAX_LOOKUP_RETRIES} times \\(`));
                // advice a user can follow: what to look for, from when, how to tell it is untracked, then what to run
                assert.match(err.message, /once IBM Cloud answers again, look for a service ID named "orders" created at \d{4}-\d\d-\d\dT[\d:.]+Z or later/);
                assert.match(
                    err.message,
                    /that this stack does not track \(`pulumi stack --show-ids` lists the ids it does\), delete it if there is one, and then run `pulumi up` again/,
                );
                assert.doesNotMatch(err.message, /import it/, "dynamic resources cannot be imported");
                return true;
            },
        );
        assert.strictEqual(lookups, 1 + MAX_LOOKUP_RETRIES);
    });

    it("a lookup refused (403) is not tried again: it will not pass", async () => {
        let lookups = 0;
        let slept = 0;
        await assert.rejects(
            createWithRecovery<Thing>({
                operation: "create service ID",
                send: async () => {
                    throw lost();
                },
                lookup: async () => {
                    lookups++;
                    throw listForbidden();
                },
                idOf: (t) => t.id,
                sleep: async () => {
                    slept++;
                },
            }),
            (err: unknown) => {
                assert.ok(err instanceof IbmCloudError);
                assert.match(err.message, /looking for what it may have created failed too \(/);
                return true;
            },
        );
        assert.deepStrictEqual([lookups, slept], [1, 0]);
    });

    it("passes any other error through untouched, without a lookup", async () => {
        let lookups = 0;
        const refusal = refused();
        await assert.rejects(
            createWithRecovery<Thing>({
                operation: "create service ID",
                send: async () => {
                    throw refusal;
                },
                lookup: async () => {
                    lookups++;
                    return [];
                },
                idOf: (t) => t.id,
            }),
            (err: unknown) => err === refusal,
        );
        assert.strictEqual(lookups, 0);
    });

    it("looks only at objects made since the first attempt, allowing for clock skew", async () => {
        let since = 0;
        await createWithRecovery<Thing>({
            operation: "create service ID",
            send: async () => {
                throw lost();
            },
            lookup: async (s) => {
                since = s;
                return [{ id: "y" }];
            },
            idOf: (t) => t.id,
            now: () => 1_000_000_000,
        });
        assert.strictEqual(since, 1_000_000_000 - CREATE_CLOCK_SKEW_MS);
        assert.strictEqual(createdSince("2026-11-27T10:00+0000", Date.parse("2026-11-27T09:59:00Z")), true);
        assert.strictEqual(createdSince("2026-11-27T10:00+0000", Date.parse("2026-11-27T10:01:00Z")), false);
        assert.strictEqual(createdSince(undefined, Date.now()), true, "an undated object cannot be ruled out");
    });
});
