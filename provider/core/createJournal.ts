// The provider's own journal of creates in flight, for the case the engine's journal misses: when the plugin dies
// (kill -9 of it or of the language host), the engine sees the create fail and drops its pending operation, though
// the object may exist. So before a create is sent, one small file names what it may make (the kind, the recovery
// nonce, the non-secret request); it is removed once the engine will learn the outcome (the create returned, or
// failed without making anything). `recover` reads what is left, and deletes each object found whose kind and mark
// match and which no stack of the project tracks: the `up` it runs then creates it anew. Files live under
// PULUMI_HOME (`~/.pulumi`), one folder per project directory, mode 0600; they hold no secret.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface JournalEntry {
    kind: "ServiceId" | "ServiceApiKey" | "AccessPolicy";
    /** The Pulumi project (the plugin's `PULUMI_PROJECT`). */
    project: string;
    /** The process that sent the create; while it lives, the create may still be answered. */
    pid: number;
    /** Its start time in clock ticks since boot (Linux), so a pid reused by another process does not count as it. */
    started?: number;
    /** When it was written (ISO 8601). */
    at: string;
    /** Which deployer key made the marks (a hash of an HMAC of it): `recover` with other credentials leaves the entry alone. */
    deployer: string;
    /** The checked inputs without secrets (a ServiceApiKey's own value is never journaled: its create is not). */
    inputs: Record<string, unknown>;
    /**
     * A service ID's id once IBM answered: its marker key is deleted then, but the engine may die before it records
     * the service ID, so the entry stays (with this id) until `recover` finds the id tracked, or a day has passed.
     */
    made?: string;
}

/** How long an entry with `made` is kept when no `recover` settles it. */
const MADE_KEPT_MS = 24 * 3600_000;

/** The `deployer` of an entry: tells deployer keys apart without holding anything that leads back to one. */
export function deployerFingerprint(deployerApiKey: string): string {
    return crypto.createHash("sha256").update(crypto.createHmac("sha256", deployerApiKey).update("journal").digest()).digest("hex").slice(0, 16);
}

/** The journal folder of a project directory (the plugin's working directory is the project's). */
export function journalDir(projectDir: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
    const home = env.PULUMI_HOME && env.PULUMI_HOME !== "" ? env.PULUMI_HOME : path.join(os.homedir(), ".pulumi");
    let real = projectDir;
    try {
        real = fs.realpathSync(projectDir);
    } catch {
        // a folder that does not exist has no journal anyway
    }
    return path.join(home, "ibmcloud-iam", "journal", crypto.createHash("sha256").update(real).digest("hex").slice(0, 24));
}

/**
 * Writes the entry before a create is sent; returns its file. Only in a process the engine started (it names the
 * project): a program or test driving a provider directly has no `recover` to read it. Undefined when not written
 * (the create goes on: the journal is a help for a crash, never a reason to fail).
 */
export function journalCreate(kind: JournalEntry["kind"], inputs: Record<string, unknown>, deployerApiKey: string | undefined): string | undefined {
    if (!process.env.PULUMI_PROJECT || !deployerApiKey) return undefined;
    try {
        const dir = journalDir();
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const entry: JournalEntry = {
            kind,
            project: process.env.PULUMI_PROJECT ?? "",
            pid: process.pid,
            started: startTicks(process.pid),
            at: new Date().toISOString(),
            deployer: deployerFingerprint(deployerApiKey),
            inputs: Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== "__provider" && k !== "apikey")),
        };
        const file = path.join(dir, `${Date.now().toString(36)}-${crypto.randomBytes(6).toString("hex")}.json`);
        fs.writeFileSync(file, JSON.stringify(entry), { mode: 0o600 });
        return file;
    } catch {
        return undefined;
    }
}

/** Records the id a create made; the entry stays (see `made`). */
export function journalMade(file: string | undefined, id: string): void {
    if (!file) return;
    try {
        const entry = JSON.parse(fs.readFileSync(file, "utf8")) as JournalEntry;
        fs.writeFileSync(file, JSON.stringify({ ...entry, made: id }), { mode: 0o600 });
    } catch {
        // without it a recovery finds the service ID by its marker, while that lives
    }
}

/** Removes an entry once the engine will learn the create's outcome. */
export function journalDone(file: string | undefined): void {
    if (!file) return;
    try {
        fs.rmSync(file, { force: true });
    } catch {
        // a stale entry only makes `recover` look once more
    }
}

/** The entries of a project directory whose process is gone, each with its file. */
export function staleEntries(projectDir: string, env: NodeJS.ProcessEnv = process.env): Array<{ file: string; entry: JournalEntry }> {
    const dir = journalDir(projectDir, env);
    let names: string[];
    try {
        names = fs.readdirSync(dir).filter((n) => n.endsWith(".json"));
    } catch {
        return [];
    }
    const out: Array<{ file: string; entry: JournalEntry }> = [];
    for (const n of names.sort()) {
        const file = path.join(dir, n);
        try {
            const entry = JSON.parse(fs.readFileSync(file, "utf8")) as JournalEntry;
            if (entry.made && Date.now() - Date.parse(entry.at) > MADE_KEPT_MS) fs.rmSync(file, { force: true });
            else if (!processAlive(entry.pid, entry.started)) out.push({ file, entry });
        } catch {
            // unreadable: written by a process killed mid-write, before its create was sent
            fs.rmSync(file, { force: true });
        }
    }
    return out;
}

function processAlive(pid: number, started: number | undefined): boolean {
    if (!Number.isInteger(pid) || pid <= 0) return false;
    try {
        process.kill(pid, 0);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
    }
    const now = startTicks(pid);
    return started === undefined || now === undefined || now === started;
}

/** Field 22 of /proc/<pid>/stat: when the process started (undefined off Linux). */
function startTicks(pid: number): number | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const n = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
        return Number.isFinite(n) ? n : undefined;
    } catch {
        return undefined;
    }
}

/** Whether an error of a create leaves no object behind that the engine does not learn of: the journal entry can go. */
export function createSettled(err: unknown): boolean {
    const e = err as { id?: unknown; outcomeUnknown?: unknown; status?: unknown };
    if (e && typeof e.id === "string" && e.id !== "") return true; // recorded by the engine with its id
    if (e && e.outcomeUnknown === true) return false;
    return typeof e?.status === "number" && e.status >= 400 && e.status < 500;
}
