import * as fs from "fs";

/** true while `pid` is a running process; a zombie (exited, not yet reaped by its parent) counts
 * as gone, since it holds no resources and only waits for init. */
export function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
        throw e;
    }
    try {
        // /proc/<pid>/stat: "pid (comm) S ..." — the state follows the last ")".
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
        return false; // vanished between the two checks
    }
}

/** Polls until `pid` is gone; false after `ms`. */
export async function waitUntilGone(pid: number, ms = 5_000): Promise<boolean> {
    const end = Date.now() + ms;
    while (isAlive(pid)) {
        if (Date.now() > end) return false;
        await new Promise((r) => setTimeout(r, 25));
    }
    return true;
}
