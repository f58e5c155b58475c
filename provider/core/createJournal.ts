// The provider's own journal of creates, for the case the engine's journal misses: when the plugin dies (kill -9 of
// it or of the language host), the engine sees the create fail and drops its pending operation, though the object
// may exist. So before a create is sent, one small file names what it may make (the kind, the recovery nonce, the
// non-secret request); once IBM answers, the id it gave is added and the entry stays: the plugin can still die before
// its answer reaches the engine, and then this entry is the only record of the object. `recover` reads the entries of
// processes that are gone, deletes each object found that no stack of the project tracks (the `up` it runs then
// creates it anew) and removes the entry; an entry whose object a stack tracks is simply removed. Kept bounded:
// an entry with an id goes after a day, any other after a week (`prune`, run by the first create of each plugin
// process and by `recover`). Files live under PULUMI_HOME (`~/.pulumi`), one folder per project directory, mode 0600;
// they hold no secret (API key values, key material and the KMS resources' service-ID keys are left out).
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { engineGone } from "./parentWatch";

export type JournalKind =
    | "ServiceId"
    | "ServiceApiKey"
    | "AccessPolicy"
    | "AuthorizationPolicy"
    | "KmsKey"
    | "KmsKeyRing"
    | "TrustedProfile"
    | "TrustedProfileClaimRule"
    | "TrustedProfileLink"
    | "TrustedProfileIdentity";

/** Where a KMS object lives and who made it: the identity whose API key the create ran with (its IAM id, never the key). */
export interface JournalKms {
    instanceId: string;
    service: string;
    endpoint: string;
    keyRing?: string;
    creator?: string;
}

export interface JournalEntry {
    kind: JournalKind;
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
    /** The checked inputs without secrets (a ServiceApiKey's value, whether derived or the user's, is left out). */
    inputs: Record<string, unknown>;
    /**
     * The id IBM gave, once it answered. The plugin may die after that and before the engine heard the answer (then
     * nothing else records the object), so the entry stays until `recover` finds the id tracked by a stack, or a day
     * has passed.
     */
    made?: string;
    /** KMS keys and key rings: where, and made by whom. */
    kms?: JournalKms;
}

/** How long an entry with `made` is kept when no `recover` settles it. */
export const MADE_KEPT_MS = 24 * 3600_000;
/** How long an entry without (a create whose process died before IBM answered) is kept when no `recover` settles it. */
export const UNANSWERED_KEPT_MS = 7 * 24 * 3600_000;
/** Inputs that are secrets (an API key's value, a KMS resource's service-ID key, key material): never journaled. */
const SECRET_INPUTS = new Set(["__provider", "apikey", "apiKey", "payload"]);

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
export function journalCreate(kind: JournalKind, inputs: Record<string, unknown>, deployerApiKey: string | undefined, kms?: JournalKms): string | undefined {
    if (!process.env.PULUMI_PROJECT || !deployerApiKey) return undefined;
    try {
        const dir = journalDir();
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        if (!prunedHere) {
            prunedHere = true;
            prune(dir);
        }
        const entry: JournalEntry = {
            kind,
            project: process.env.PULUMI_PROJECT ?? "",
            pid: process.pid,
            started: startTicks(process.pid),
            at: new Date().toISOString(),
            deployer: deployerFingerprint(deployerApiKey),
            inputs: Object.fromEntries(Object.entries(inputs).filter(([k]) => !SECRET_INPUTS.has(k))),
            ...(kms ? { kms } : {}),
        };
        const file = path.join(dir, `${Date.now().toString(36)}-${crypto.randomBytes(6).toString("hex")}.json`);
        fs.writeFileSync(file, JSON.stringify(entry), { mode: 0o600 });
        return file;
    } catch {
        return undefined;
    }
}

let prunedHere = false;

/**
 * Records the id a create made, written to a new file renamed into place (a kill mid-write leaves the entry as it
 * was); the entry stays (see `made`). `extra` adds what is known only after IBM answered (a KMS key's creator).
 */
export function journalMade(file: string | undefined, id: string, extra: Partial<Pick<JournalEntry, "kms">> = {}): void {
    if (!file) return;
    try {
        const entry = JSON.parse(fs.readFileSync(file, "utf8")) as JournalEntry;
        const next = { ...entry, made: id, ...(extra.kms ? { kms: { ...entry.kms, ...extra.kms } } : {}) };
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(next), { mode: 0o600 });
        fs.renameSync(tmp, file);
    } catch {
        // without it a recovery looks for the object by its mark or its request, as before IBM answered
    }
}

/**
 * A create, journaled for a crash: the entry is written before `create` is sent, keeps the id `madeBy` names once IBM
 * answered (the plugin may die before that answer reaches the engine), and goes when the create made nothing of its
 * own (`madeBy` gives undefined: an object taken over, not made) or failed in a way the engine learns of. With the
 * engine gone the entry stays whatever the error: nobody else will record what the create made.
 */
export async function journaled<R>(
    kind: JournalKind,
    inputs: object,
    deployerApiKey: string | undefined,
    create: () => Promise<R>,
    madeBy: (result: R) => string | undefined,
    kms?: JournalKms,
): Promise<R> {
    const entry = journalCreate(kind, inputs as Record<string, unknown>, deployerApiKey, kms);
    try {
        const result = await create();
        const made = madeBy(result);
        if (made === undefined) journalDone(entry);
        else journalMade(entry, made);
        await holdAnswerForTest(kind);
        return result;
    } catch (err) {
        if (!engineGone() && createSettled(err)) journalDone(entry);
        throw err;
    }
}

/** Removes an entry: the create failed without making anything (or the engine was told of what it made). */
export function journalDone(file: string | undefined): void {
    if (!file) return;
    try {
        fs.rmSync(file, { force: true });
    } catch {
        // a stale entry only makes `recover` look once more
    }
}

/** The entries of a project directory whose process is gone, each with its file (the folder pruned first). */
export function staleEntries(projectDir: string, env: NodeJS.ProcessEnv = process.env): Array<{ file: string; entry: JournalEntry }> {
    const dir = journalDir(projectDir, env);
    prune(dir);
    let names: string[];
    try {
        names = fs.readdirSync(dir).filter((n) => n.endsWith(".json"));
    } catch {
        return [];
    }
    const out: Array<{ file: string; entry: JournalEntry }> = [];
    for (const n of names.sort()) {
        const file = path.join(dir, n);
        const entry = readEntry(file);
        if (entry && !expired(entry) && !processAlive(entry.pid, entry.started)) out.push({ file, entry });
    }
    return out;
}

/**
 * Removes what no recovery needs any more: entries with an id older than a day, entries of dead processes without one
 * older than a week, unreadable ones (a process killed while writing one, before its create was sent) and the
 * temporary files of interrupted rewrites. Entries of live processes stay whatever their age.
 */
export function prune(dir: string): number {
    let removed = 0;
    let names: string[];
    try {
        names = fs.readdirSync(dir);
    } catch {
        return 0;
    }
    for (const n of names) {
        const file = path.join(dir, n);
        if (n.endsWith(".tmp")) {
            const pid = Number(n.split(".").at(-2));
            if (!processAlive(pid, undefined)) removed += remove(file);
            continue;
        }
        if (!n.endsWith(".json")) continue;
        const entry = readEntry(file);
        if (entry === undefined || (expired(entry) && !processAlive(entry.pid, entry.started))) removed += remove(file);
    }
    return removed;
}

function readEntry(file: string): JournalEntry | undefined {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as JournalEntry;
    } catch {
        remove(file); // unreadable: written by a process killed mid-write, before its create was sent
        return undefined;
    }
}

function expired(entry: JournalEntry): boolean {
    const age = Date.now() - Date.parse(entry.at);
    return !(age <= (entry.made ? MADE_KEPT_MS : UNANSWERED_KEPT_MS)); // an unparsable date counts as old
}

function remove(file: string): number {
    try {
        fs.rmSync(file, { force: true });
        return 1;
    } catch {
        return 0;
    }
}

/**
 * Test-only fault point, between IBM's answer to a create and the provider's answer to the engine: with
 * `PULUMI_IBMCLOUD_IAM_TEST_HOLD_ANSWER=<kind>:<file>` in the plugin's environment, a create of that kind writes
 * `<file>` (its pid) once IBM answered and waits a minute, so an e2e test can kill the plugin exactly there.
 */
export async function holdAnswerForTest(kind: JournalKind): Promise<void> {
    const spec = process.env.PULUMI_IBMCLOUD_IAM_TEST_HOLD_ANSWER;
    if (!spec) return;
    const at = spec.indexOf(":");
    if (spec.slice(0, at) !== kind) return;
    fs.writeFileSync(spec.slice(at + 1), String(process.pid));
    await new Promise((resolve) => setTimeout(resolve, 60_000));
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
