// How `check` judges inputs with zod: issues become Pulumi check failures that name the field and the fix,
// values still unknown during preview are never judged, and each schema is built once per process.
import { z } from "zod";
import { containsUnknown, UNKNOWN } from "../core/props";

export interface CheckFailure {
    property: string;
    reason: string;
}

/**
 * The check schema `name`, built once per process. A check used to build its schema on every call,
 * and zod's construction and JIT were half of what the plugin allocated per resource (bench/README.md:
 * 87 -> 20 MB per 300 creates). Kept on globalThis: a zod schema can be neither at module scope nor on
 * the provider object, which the closure serializer would copy by value (CONTRIBUTING.md); the
 * serialized code reaches globalThis by name only. `build` must not close over the moment it runs (a
 * schema judging "in the future" reads the clock when it validates).
 */
export function schemaOnce<T>(name: string, build: () => T): T {
    const g = globalThis as unknown as Record<symbol, Map<string, unknown> | undefined>;
    const key = Symbol.for("pulumi-ibmcloud-iam.checkSchemas");
    let cache = g[key];
    if (!cache) {
        cache = new Map<string, unknown>();
        g[key] = cache;
    }
    let schema = cache.get(name) as T | undefined;
    if (schema === undefined) {
        schema = build();
        cache.set(name, schema);
    }
    return schema;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): { unknown: boolean; missing: boolean } {
    let cur: unknown = root;
    for (const key of path) {
        if (cur === UNKNOWN) return { unknown: true, missing: false };
        if (cur === null || typeof cur !== "object") return { unknown: false, missing: false };
        cur = Object.hasOwn(cur, key) ? (cur as Record<PropertyKey, unknown>)[key as string] : undefined;
    }
    return { unknown: containsUnknown(cur), missing: cur === undefined };
}

function propertyPath(path: ReadonlyArray<PropertyKey>): string {
    let out = "";
    for (const key of path) {
        out += typeof key === "number" ? `[${key}]` : out ? `.${String(key)}` : String(key);
    }
    return out;
}

/**
 * Validates `inputs` with `schema`; issues about values still unknown are dropped (they are checked
 * again when known). Unrecognized keys become one failure each, naming the key and, when it looks
 * like a misspelling (`expires_at`, `apikey`, `nmae`), the argument that was probably meant.
 */
export function validate<T extends z.ZodType>(
    schema: T,
    inputs: Record<string, unknown>,
): { ok: true; value: z.infer<T> } | { ok: false; failures: CheckFailure[] } {
    const result = schema.safeParse(inputs);
    if (result.success) return { ok: true, value: result.data };
    const failures: CheckFailure[] = [];
    for (const issue of result.error.issues) {
        if (issue.code === "unrecognized_keys") {
            const known = knownKeysAt(schema, issue.path);
            for (const key of issue.keys) {
                failures.push({ property: propertyPath([...issue.path, key]), reason: unknownKeyReason(key, known) });
            }
            continue;
        }
        const at = valueAt(inputs, issue.path);
        if (at.unknown) continue;
        const property = propertyPath(issue.path) || "(inputs)";
        // A required argument left out: say so, then what it takes.
        const reason = at.missing && issue.code === "invalid_type" && issue.path.length > 0 ? `${property} is required: ${issue.message}` : issue.message;
        failures.push({ property, reason });
    }
    // Every issue concerned an unknown value: nothing to report yet.
    if (failures.length === 0) return { ok: true, value: inputs as z.infer<T> };
    return { ok: false, failures };
}

/** The argument names an object schema accepts at `path` (optional/default/nullable wrappers looked through). */
function knownKeysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] {
    let cur: unknown = schema;
    const unwrap = (s: unknown): unknown => {
        for (let i = 0; i < 10; i++) {
            const def = (s as { _zod?: { def?: { innerType?: unknown; in?: unknown } } })?._zod?.def;
            const inner = def?.innerType ?? def?.in;
            if (!inner) break;
            s = inner;
        }
        return s;
    };
    for (const key of path) {
        const shape = (unwrap(cur) as { shape?: Record<string, unknown> })?.shape;
        if (!shape || typeof key !== "string" || !(key in shape)) return [];
        cur = shape[key];
    }
    const shape = (unwrap(cur) as { shape?: Record<string, unknown> })?.shape;
    return shape ? Object.keys(shape) : [];
}

function foldName(name: string): string {
    return name.toLowerCase().replace(/[_\-\s]/g, "");
}

/** Edit distance (insert, delete, substitute, swap of neighbours), stopping early past `max`. */
function editDistance(a: string, b: string, max: number): number {
    if (Math.abs(a.length - b.length) > max) return max + 1;
    const d: number[][] = [];
    for (let i = 0; i <= a.length; i++) d.push([i]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
            d[i][j] = v;
        }
    }
    return d[a.length][b.length];
}

/** The one known name `given` is most likely a misspelling of (Terraform's snake_case, case, a typo), if any. */
export function closestName(given: string, known: ReadonlyArray<string>): string | undefined {
    const folded = foldName(given);
    const same = known.filter((k) => foldName(k) === folded);
    if (same.length === 1) return same[0];
    if (folded.length < 4) return undefined;
    let best: string | undefined;
    let bestDistance = 3;
    let tie = false;
    for (const k of known) {
        const dist = editDistance(folded, foldName(k), 2);
        if (dist < bestDistance) {
            best = k;
            bestDistance = dist;
            tie = false;
        } else if (dist === bestDistance) {
            tie = true;
        }
    }
    return best !== undefined && !tie ? best : undefined;
}

function unknownKeyReason(key: string, known: ReadonlyArray<string>): string {
    const meant = closestName(key, known);
    if (meant !== undefined) return `unknown argument "${key}"; did you mean "${meant}"?`;
    const list = known.length > 0 ? ` (arguments: ${known.join(", ")})` : "";
    return `unknown argument "${key}"; remove it or check its spelling${list}`;
}
