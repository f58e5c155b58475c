// Every process a state-fixture run starts (the CLI, its language host and plugins, the emulator) inherits a
// marker in its environment, so the run can end all of them at the end, even those that left their process
// group, by scanning /proc for the marker.
import { setTimeout as sleep } from "timers/promises";
import { pidsWithEnv } from "../lib/process";

export const MARKER_ENV = "PULUMI_IBMCLOUD_IAM_STATE_FIXTURE_RUN";

/** Pids of live processes (not this one) whose environment holds `MARKER_ENV=<value>`. */
export function markedProcesses(value: string): number[] {
    return pidsWithEnv(MARKER_ENV, value);
}

/** Sends `sig` to one process; one that is already gone is fine. */
export function signalProcess(pid: number, sig: NodeJS.Signals): void {
    try {
        process.kill(pid, sig);
    } catch {
        // gone
    }
}

/** SIGTERM to every process carrying the marker, SIGKILL to those still there after `graceMs`. */
export async function endMarkedProcesses(value: string, graceMs = 5000): Promise<void> {
    for (const pid of markedProcesses(value)) signalProcess(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && markedProcesses(value).length > 0) await sleep(100);
    for (const pid of markedProcesses(value)) signalProcess(pid, "SIGKILL");
}
