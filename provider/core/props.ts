// What passes between the engine and a provider, whatever the resource: the placeholder the engine sends for
// a value not known yet (preview), the serialized provider it adds to inputs, and no `undefined` anywhere.

/** What the engine sends for a value that depends on a resource not created yet (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when `value`, or anything inside it, is still unknown. */
export function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
    return false;
}

/** A resource's inputs without the serialized provider the engine adds to them. */
export function withoutProvider<T extends Record<string, unknown>>(props: T): Omit<T, "__provider"> {
    const { __provider: _ignored, ...rest } = props;
    return rest;
}

/** Drops keys whose value is `undefined`: Pulumi outputs and inputs must not contain it. */
export function compact<T extends Record<string, unknown>>(obj: T): T {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
    return out as T;
}
