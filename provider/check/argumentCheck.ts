// The same check, twice: when the program constructs a resource (arguments known then are judged at
// the user's own line, before anything is registered) and in the provider's `check` (everything, once
// known). This module is the constructor's side; what keeps a refusal short is in ./checkFailures
// (apart, so a provider serialized by value does not carry the constructor's code).
import { Output } from "@pulumi/pulumi/output";
import { tidyFailures } from "./failures";
import { UNKNOWN } from "../core/props";
import { CheckFailure } from "./validate";

/** Outputs and promises are judged later by the provider's check: at construction they stand for "unknown". */
export function plainView(v: unknown, depth = 0): unknown {
    if (Output.isInstance(v) || (v !== null && typeof v === "object" && typeof (v as { then?: unknown }).then === "function")) return UNKNOWN;
    if (depth > 8) return v;
    if (Array.isArray(v)) return v.map((e) => plainView(e, depth + 1));
    if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
        const out: Record<string, unknown> = {};
        for (const [k, e] of Object.entries(v)) if (e !== undefined) out[k] = plainView(e, depth + 1);
        return out;
    }
    return v;
}

/**
 * Judges a resource's arguments at construction with the provider's own check (`failuresOf`), and
 * throws one error naming every bad argument known now: the stack trace then points at the program's
 * line, and nothing is registered (no half-made stack, no RPCs left in flight to fail noisily when the
 * engine stops). Values still unknown (Outputs) are left to the provider's check. An adopted resource
 * (`opts.id`, a static `get`) has no arguments to judge.
 */
export function refuseBadArguments(
    type: string,
    name: string,
    args: unknown,
    opts: { id?: unknown } | undefined,
    failuresOf: (inputs: Record<string, unknown>) => CheckFailure[],
): void {
    if (opts?.id !== undefined || args === undefined) return;
    if (args === null || typeof args !== "object" || Array.isArray(args) || Output.isInstance(args)) {
        throw new Error(`${type} ${name}: invalid arguments: (args): arguments must be an object`);
    }
    const failures = tidyFailures(failuresOf(plainView(args) as Record<string, unknown>));
    if (failures.length === 0) return;
    throw new Error(`${type} ${name}: invalid arguments: ${failures.map((f) => (f.property ? `${f.property}: ${f.reason}` : f.reason)).join("; ")}`);
}
