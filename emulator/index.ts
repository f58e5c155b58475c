// Public face of the emulator: a local IBM Cloud (IAM token, identity, policies, roles, KMS keys).
import { Emulator, EmulatorOptions } from "./app";
import { checkFaultRule, checkRateLimit, EmulatorStats, FaultConfigError, FaultRule, RateLimit } from "./chaos/faults";
import { KmsInstanceSpec } from "./core/state";

export type { EmulatorOptions } from "./app";
export type { EmulatorStats, FaultKind, FaultRule, RateLimit } from "./chaos/faults";
export type { KmsInstanceSpec } from "./core/state";

export interface RunningEmulator {
    /** Serves IAM (/identity, /v1, /v2) AND KMS (/api/v2) on one origin. */
    url: string;
    accountId: string;
    /** The seeded account owner's API key (a user key with full account access). */
    apiKey: string;
    instances: Required<KmsInstanceSpec>[];
    /** Appends fault rules (checked first: a bad one throws naming `rules[i].<field>` and none is added); returns their ids. */
    addFaults(rules: FaultRule[]): string[];
    /** Removes every fault rule (the PRNG keeps its sequence). */
    clearFaults(): void;
    /** Sets (null: removes) the per-caller rate limit; every caller starts with a full bucket. */
    setRateLimit(rl: RateLimit | null): void;
    /** Counters since start or the last `POST /__emulator/stats/reset`. */
    stats(): EmulatorStats;
    /** Stops listening and closes every connection, including responses held by a "slow" fault. */
    stop(): Promise<void>;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
    const emu = new Emulator(opts);
    const url = await emu.listen(opts.port ?? 0, opts.host ?? "127.0.0.1");
    const d = emu.store.data;
    return {
        url,
        accountId: d.accountId,
        apiKey: d.ownerApiKey,
        // a snapshot: instances declared later are visible through GET /__emulator/state
        instances: d.instances.map((i) => ({ ...i })),
        addFaults: (rules) => {
            const checked = named("addFaults", () => {
                if (!Array.isArray(rules)) throw new FaultConfigError("rules must be an array of fault rules");
                return rules.map((r, i) => checkFaultRule(r, `rules[${i}]`));
            });
            return emu.faults.add(checked);
        },
        clearFaults: () => emu.faults.clear(),
        setRateLimit: (rl) => emu.faults.setRateLimit(rl === null ? null : named("setRateLimit", () => checkRateLimit(rl, ""))),
        stats: () => emu.faults.stats(),
        stop: () => emu.close(),
    };
}

function named<T>(fn: string, check: () => T): T {
    try {
        return check();
    } catch (e) {
        if (e instanceof FaultConfigError) throw new Error(`${fn}: ${e.message}`);
        throw e;
    }
}
