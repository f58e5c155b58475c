// The key file a ServiceApiKey may write (`outputFile`), in the format of `ibmcloud iam
// service-api-key-create --file`: written 0600 from the first byte, removed on delete only while it
// still holds that key.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** What `ibmcloud iam service-api-key-create --file` writes. */
export interface KeyFile {
    name: string;
    description: string;
    apikey: string;
    createdAt: string;
    locked: boolean;
    uuid: string;
}

export function keyFileOf(o: { apiKeyId: string; name: string; description?: string; createdAt?: string; locked?: boolean }, value: string): KeyFile {
    return { name: o.name, description: o.description ?? "", apikey: value, createdAt: o.createdAt ?? "", locked: o.locked === true, uuid: o.apiKeyId };
}

/** The absolute path of `outputFile`: `~/…` is the home directory (as Terraform's `file`), relative is the program directory. */
export function keyFilePath(file: string): string {
    if (file === "~" || file.startsWith("~/")) return path.join(os.homedir(), file.slice(1));
    return path.resolve(file);
}

/** Writes `content` to `file` with mode 0600 from the first byte: a fresh temporary file opened `wx`
 * with mode 0600 beside the target, then renamed over it (atomic; never 0644 then chmod). */
export function writeKeyFile(file: string, content: KeyFile): void {
    const target = keyFilePath(file);
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${crypto.randomBytes(8).toString("hex")}.tmp`);
    let fd: number | undefined;
    try {
        fd = fs.openSync(tmp, "wx", 0o600);
        fs.writeFileSync(fd, JSON.stringify(content, null, "\t") + "\n");
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        fd = undefined;
        fs.renameSync(tmp, target);
    } catch (err) {
        if (fd !== undefined) {
            try {
                fs.closeSync(fd);
            } catch {
                /* already closed */
            }
        }
        try {
            fs.unlinkSync(tmp);
        } catch {
            /* never created */
        }
        const code = (err as { code?: unknown })?.code;
        throw new Error(`outputFile: could not write ${file} (${typeof code === "string" ? code : "error"}); check that its directory exists and is writable`);
    }
}

/** Removes `file` if it still holds the key `apiKeyId` (another key, or a file edited since, stays). */
export function removeKeyFileIfOurs(file: string, apiKeyId: string): void {
    const target = keyFilePath(file);
    let held: { uuid?: unknown } | undefined;
    try {
        held = JSON.parse(fs.readFileSync(target, "utf8")) as { uuid?: unknown };
    } catch {
        return; // gone, unreadable or not ours to judge
    }
    if (held?.uuid !== apiKeyId) return;
    try {
        fs.unlinkSync(target);
    } catch (err) {
        if ((err as { code?: unknown })?.code !== "ENOENT")
            throw new Error(`outputFile: could not remove ${file} (${String((err as { code?: unknown })?.code)})`);
    }
}
