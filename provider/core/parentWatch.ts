// The dynamic-provider plugin and the program are started by the Pulumi engine (the program through a language host).
// When the engine is killed outright (kill -9 of the CLI), nothing tells them: the plugin serves a gRPC port nobody
// will call again, with creates in flight, for minutes. So, loaded in one of those two processes, this module polls
// for the parent and exits once it is gone: an orphan is reparented, so its parent pid changes.
import * as fs from "fs";

/** The entry points of @pulumi/pulumi that the engine starts: the dynamic-provider plugin, and the program runner. */
const ENGINE_CHILD = /[\\/]@pulumi[\\/]pulumi[\\/]cmd[\\/](dynamic-provider|run)([\\/]index\.js)?$/;
const SHELLS = new Set(["sh", "bash", "dash", "ash", "zsh"]);

/** Parent pid of `pid` from /proc (Linux); undefined elsewhere or once `pid` is gone. */
function parentOf(pid: number): number | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        // the command name may hold spaces and parentheses: fields restart after the last ")"
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
        return undefined;
    }
}

function commandOf(pid: number): string | undefined {
    try {
        return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
        return undefined;
    }
}

let watching = false;
/** Set once the watch runs: whether the engine that started this process is gone (checked on demand too). */
let orphanedNow: () => boolean = () => false;

/**
 * Whether the engine that started this process is gone, checked now (false outside a process the engine started).
 * A create asks before it removes the mark that lets a recovery find its object: with the engine gone, nobody
 * will record the object, so the mark has to stay.
 */
export function engineGone(): boolean {
    return orphanedNow();
}

/**
 * Starts the watch once per process, only in a process the engine started (else it does nothing: the client layer,
 * tests and users' own programs are never touched). A plugin launcher that is a shell without `exec` (Pulumi's own
 * `pulumi-resource-pulumi-nodejs` script) stays alive as the plugin's parent, so then the shell's parent is watched too.
 */
export function exitWithParent(opts: { entry?: string; everyMs?: number; onGone?: () => void } = {}): boolean {
    const entry = opts.entry ?? require.main?.filename ?? "";
    if (watching || !ENGINE_CHILD.test(entry)) return false;
    watching = true;
    const parent = process.ppid;
    const grandparent = SHELLS.has(commandOf(parent) ?? "") ? parentOf(parent) : undefined;
    const gone =
        opts.onGone ??
        (() => {
            process.stderr.write(`pulumi-ibmcloud-iam: the Pulumi engine that started this process (pid ${grandparent ?? parent}) is gone; exiting\n`);
            process.exit(1);
        });
    orphanedNow = () => process.ppid !== parent || (grandparent !== undefined && parentOf(parent) !== grandparent);
    const timer = setInterval(() => {
        if (orphanedNow()) {
            clearInterval(timer);
            gone();
        }
    }, opts.everyMs ?? 1000);
    // never what keeps the process alive
    timer.unref();
    return true;
}
