// The setup most plugin tests share: a fresh emulator, the real dynamic-provider plugin configured as
// the deployer against it (the owner's key as secret `ibmcloud:apiKey`), and an IamClient with the
// owner's key for the out-of-band changes a colleague would make with the CLI.
import { startEmulator, RunningEmulator, EmulatorOptions } from "../../emulator";
import { IamClient, IamTokenManager } from "../../client";
import { RunningPlugin, startPlugin, StartPluginOptions } from "./harness";

export interface PluginOnEmulator {
    emu: RunningEmulator;
    plugin: RunningPlugin;
    owner: IamClient;
    /** Stops the plugin, closes the owner's client and stops the emulator. */
    stop(): Promise<void>;
}

export async function startPluginOnEmulator(
    opts: {
        emulator?: EmulatorOptions;
        /** Stack config besides the deployer's key and IAM endpoint (e.g. `ibmcloud:timeout`). */
        config?: Record<string, string>;
        env?: StartPluginOptions["env"];
    } = {},
): Promise<PluginOnEmulator> {
    const emu = await startEmulator({ port: 0, ...opts.emulator });
    const owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: emu.apiKey, iamEndpoint: emu.url }) });
    let plugin: RunningPlugin;
    try {
        plugin = await startPlugin({
            config: { "ibmcloud:apiKey": emu.apiKey, "ibmcloud:iamEndpoint": emu.url, ...opts.config },
            secretKeys: ["ibmcloud:apiKey"],
            ...(opts.env ? { env: opts.env } : {}),
        });
    } catch (err) {
        await owner.http.close();
        await emu.stop();
        throw err;
    }
    return {
        emu,
        plugin,
        owner,
        stop: async () => {
            await plugin.stop();
            await owner.http.close();
            await emu.stop();
        },
    };
}
