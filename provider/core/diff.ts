// Comparisons every resource's `diff` makes between stored outputs and new inputs; a value still unknown
// during preview always counts as a change.
import { isDeepStrictEqual } from "util";
import { containsUnknown } from "./props";

/** True when `news` (possibly unknown during preview) differs from `olds`. */
export function differs(olds: unknown, news: unknown): boolean {
    if (containsUnknown(news)) return true;
    return !isDeepStrictEqual(olds, news);
}

/** True when two lists hold the same strings in any order (never while `b` is unknown). */
export function sameSet(a: ReadonlyArray<string> | undefined, b: ReadonlyArray<string> | undefined): boolean {
    if (containsUnknown(b)) return false;
    const x = [...(a ?? [])].sort();
    const y = [...(b ?? [])].sort();
    return x.length === y.length && x.every((v, i) => v === y[i]);
}
