// Public face of the emulator: a local IBM Cloud (IAM token, identity, policies, roles, KMS keys).
import { Emulator, EmulatorOptions } from "./app";
import { KmsInstanceSpec } from "./state";

export type { EmulatorOptions } from "./app";
export type { KmsInstanceSpec } from "./state";

export interface RunningEmulator {
    /** Serves IAM (/identity, /v1, /v2) AND KMS (/api/v2) on one origin. */
    url: string;
    accountId: string;
    /** The seeded account owner's API key (a user key with full account access). */
    apiKey: string;
    instances: Required<KmsInstanceSpec>[];
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
        stop: () => emu.close(),
    };
}
