// Child-process entry of the bench's emulator (see spawnEmulator in support.ts): starts the emulator
// with the options in argv[2], reports where it listens, and stops on "stop" or when the parent goes.
import { startEmulator } from "../emulator";

async function main(): Promise<void> {
    const emu = await startEmulator(JSON.parse(process.argv[2] ?? "{}"));
    const stop = async () => {
        await emu.stop();
        process.exit(0);
    };
    process.on("message", (m) => {
        if (m === "stop") void stop();
    });
    process.on("disconnect", () => void stop());
    process.send!({ url: emu.url, accountId: emu.accountId, apiKey: emu.apiKey, instances: emu.instances });
}

main().catch((err) => {
    console.error("bench emulator failed to start:", err);
    process.exit(1);
});
