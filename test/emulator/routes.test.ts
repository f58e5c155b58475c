// The route table (emulator/routes.ts) is the one list of what the emulator serves: each row must be
// reachable (no earlier row takes its path), say the family its path prefix implies (so a 404 beside it
// comes in the same envelope), and ask for a token exactly where IBM does.
import * as assert from "assert";
import { Emulator } from "../../emulator/app";
import { routeTable, RouteRow } from "../../emulator/routes";

/** The path a request for `pattern` would use: each `:param` filled with a value no literal segment has. */
function concrete(pattern: string): string {
    return pattern.replace(/:[A-Za-z]+/g, "p-0");
}

/** Whether the router would match `path` with `row`'s pattern (segment by segment, `:x` takes any one). */
function matches(row: RouteRow, path: string): boolean {
    const want = row[1].split("/").filter(Boolean);
    const got = path.split("/").filter(Boolean);
    return want.length === got.length && want.every((s, i) => s.startsWith(":") || s === got[i]);
}

/** The family the router gives a path that no route matches (core/server.ts familyOf). */
function familyOfPrefix(path: string): string {
    if (path.startsWith("/__emulator")) return "admin";
    if (path.startsWith("/api/")) return "kms";
    if (path.startsWith("/identity") || path.startsWith("/oidc")) return "token";
    return "iam";
}

describe("emulator: the route table", () => {
    const rows = routeTable(new Emulator({}));

    it("lists every route once, 97 in all (57, the KMS lifecycle's 16, trusted profiles' 24)", () => {
        const keys = rows.map(([method, path]) => `${method} ${path}`);
        assert.deepStrictEqual(
            keys.filter((k, i) => keys.indexOf(k) !== i),
            [],
        );
        assert.strictEqual(rows.length, 97);
    });

    it("shadows no row: the first row matching each row's own path is that row", () => {
        rows.forEach((row, i) => {
            const first = rows.findIndex((r) => r[0] === row[0] && matches(r, concrete(row[1])));
            assert.strictEqual(first, i, `${row[0]} ${row[1]} is taken by ${rows[first][0]} ${rows[first][1]} listed before it`);
        });
    });

    it("gives each row the family of its path prefix, and a token requirement only to IAM and KMS", () => {
        for (const [method, path, opts] of rows) {
            assert.strictEqual(opts.family, familyOfPrefix(path), `${method} ${path}`);
            // the VSI metadata service (IAM's envelope) takes its own instance identity token, never an IAM one
            const metadata = path.startsWith("/metadata/");
            assert.strictEqual(opts.auth, !metadata && (opts.family === "iam" || opts.family === "kms"), `${method} ${path}`);
        }
    });
});
