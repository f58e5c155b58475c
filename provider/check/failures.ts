// What keeps a refusal readable: many failures of one kind become one line, and no failure (nor the
// inputs the engine quotes back beside it) carries more than a short prefix of a huge value. Used by
// every provider's `check` and by the constructors (./argumentCheck).
import { CheckFailure } from "./validate";

/** At most this many failures of one kind are listed; the rest are counted in one more. */
export const MAX_FAILURES_OF_A_KIND = 3;
/** A quoted value longer than this is cut in a reason. */
const MAX_QUOTED = 60;
/** No reason is longer than this. */
const MAX_REASON = 1000;
/** A string input longer than this is cut in the inputs returned with failures (the engine prints them). */
const MAX_ECHOED_INPUT = 200;

/** `"abc…" (1048576 characters)` for a long value; short ones unchanged. */
export function shortValue(text: string, max = MAX_QUOTED): string {
    if (text.length <= max) return text;
    return `${text.slice(0, Math.max(8, max - 20))}…(${text.length} characters)`;
}

/** A failure's kind: the property without indexes and the reason without quoted values or indexes. */
function kindOf(f: CheckFailure): string {
    const property = f.property.replace(/\[\d+\]/g, "[]").replace(/\.[^.[]+$/, ".*");
    return `${property}\n${f.reason.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[\d+\]/g, "[]")}`;
}

/**
 * The failures as a user should read them: quoted values and reasons cut to a short prefix, and past
 * `MAX_FAILURES_OF_A_KIND` failures of one kind (500 unknown roles) one more that counts the rest and
 * names where they are. Order kept.
 */
export function tidyFailures(failures: ReadonlyArray<CheckFailure>): CheckFailure[] {
    const short = failures.map((f) => ({
        property: shortValue(f.property, 120),
        reason: shortValue(
            f.reason.replace(/"((?:[^"\\]|\\.)*)"/g, (_m, inner: string) => `"${shortValue(inner)}"`),
            MAX_REASON,
        ),
    }));
    const groups = new Map<string, CheckFailure[]>();
    for (const f of short) {
        const k = kindOf(f);
        const list = groups.get(k);
        if (list) list.push(f);
        else groups.set(k, [f]);
    }
    const out: CheckFailure[] = [];
    const summarized = new Set<string>();
    for (const f of short) {
        const k = kindOf(f);
        const group = groups.get(k)!;
        const at = group.indexOf(f);
        if (at < MAX_FAILURES_OF_A_KIND) {
            out.push(f);
            continue;
        }
        if (summarized.has(k)) continue;
        summarized.add(k);
        const rest = group.slice(MAX_FAILURES_OF_A_KIND);
        const where =
            rest.length <= 6
                ? rest.map((r) => r.property).join(", ")
                : `${rest
                      .slice(0, 3)
                      .map((r) => r.property)
                      .join(", ")} … ${rest[rest.length - 1].property}`;
        out.push({
            property: rest[0].property,
            reason: `and ${rest.length} more with the same problem as ${group[0].property || "the first"} (${where})`,
        });
    }
    return out;
}

/**
 * What a provider's `check` returns: the pure check's result with `extra` failures (the deployer's
 * credentials, roles only IAM knows), tidied, and the inputs cut short when anything failed.
 */
export function finishCheck<T>(
    result: { inputs: T; failures: CheckFailure[] },
    extra: ReadonlyArray<CheckFailure> = [],
): { inputs: T; failures: CheckFailure[] } {
    const failures = [...result.failures, ...extra];
    if (failures.length === 0) return { inputs: result.inputs, failures: [] };
    return { inputs: inputsForFailure(result.inputs as unknown as Record<string, unknown>) as unknown as T, failures: tidyFailures(failures) };
}

/**
 * The inputs to hand back with failures: long strings cut (the engine quotes a failing property's
 * value beside the reason; a 1 MB description would be printed whole). `__provider` is left alone.
 */
export function inputsForFailure<T extends Record<string, unknown>>(inputs: T): T {
    const cut = (v: unknown, depth: number): unknown => {
        if (typeof v === "string") return shortValue(v, MAX_ECHOED_INPUT);
        if (depth > 6) return v;
        if (Array.isArray(v))
            return v.length > 20 ? [...v.slice(0, 20).map((e) => cut(e, depth + 1)), `…(${v.length - 20} more)`] : v.map((e) => cut(e, depth + 1));
        if (v !== null && typeof v === "object") {
            const out: Record<string, unknown> = {};
            for (const [k, e] of Object.entries(v)) out[k] = cut(e, depth + 1);
            return out;
        }
        return v;
    };
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(inputs)) out[k] = k === "__provider" ? v : cut(v, 0);
    return out as T;
}
