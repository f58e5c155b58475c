// Where the repository is, for scripts, bench and tests alike (they run from build/, one level deeper
// than their sources, and the engine starts plugins in the project root).
import * as fs from "fs";
import * as path from "path";

/** The nearest folder at or above `start` whose package.json is this package's. */
export function findRepoRoot(start: string): string {
    for (let dir = start; ; dir = path.dirname(dir)) {
        const pkg = path.join(dir, "package.json");
        if (fs.existsSync(pkg) && packageName(pkg) === "pulumi-ibmcloud-iam") return dir;
        if (path.dirname(dir) === dir) throw new Error(`no pulumi-ibmcloud-iam package.json above ${start}`);
    }
}

function packageName(file: string): unknown {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")).name;
    } catch {
        return undefined;
    }
}

/** The repository root. */
export const REPO_ROOT: string = findRepoRoot(__dirname);
