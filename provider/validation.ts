// Input validation shared by the dynamic resources' `check`: zod issues become Pulumi check failures
// that name the field and the fix, and values still unknown during preview are never judged.
import { z } from "zod";

/** What the engine sends for a value that depends on a resource not created yet (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface CheckFailure {
    property: string;
    reason: string;
}

/** True when `value`, or anything inside it, is still unknown. */
export function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
    return false;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): { unknown: boolean } {
    let cur: unknown = root;
    for (const key of path) {
        if (cur === UNKNOWN) return { unknown: true };
        if (cur === null || typeof cur !== "object") return { unknown: false };
        cur = (cur as Record<PropertyKey, unknown>)[key as string];
    }
    return { unknown: containsUnknown(cur) };
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
 * again when known). Unrecognized keys become one failure each, naming the key.
 */
export function validate<T extends z.ZodType>(schema: T, inputs: Record<string, unknown>):
    { ok: true; value: z.infer<T> } | { ok: false; failures: CheckFailure[] } {
    const result = schema.safeParse(inputs);
    if (result.success) return { ok: true, value: result.data };
    const failures: CheckFailure[] = [];
    for (const issue of result.error.issues) {
        if (issue.code === "unrecognized_keys") {
            for (const key of issue.keys) {
                failures.push({ property: propertyPath([...issue.path, key]), reason: `unknown argument "${key}"; remove it or check its spelling` });
            }
            continue;
        }
        if (valueAt(inputs, issue.path).unknown) continue;
        failures.push({ property: propertyPath(issue.path) || "(inputs)", reason: issue.message });
    }
    // Every issue concerned an unknown value: nothing to report yet.
    if (failures.length === 0) return { ok: true, value: inputs as z.infer<T> };
    return { ok: false, failures };
}

/** Drops keys whose value is `undefined`: Pulumi outputs and inputs must not contain it. */
export function compact<T extends Record<string, unknown>>(obj: T): T {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
    return out as T;
}

// Field builders: each message says what is wrong and how to fix it.

export function nameField(what: string, max = 1000) {
    return z.string({ error: `${what} name must be a string` })
        .trim()
        .min(1, { error: `${what} name must not be empty; give it a name such as "my-app"` })
        .max(max, { error: `${what} name must be at most ${max} characters` });
}

export function descriptionField(max = 1000) {
    return z.string({ error: "description must be a string" })
        .max(max, { error: `description must be at most ${max} characters` });
}

/** `expiresAt`: accepts an ISO-8601 date-time in the future; IBM wants `yyyy-MM-ddTHH:mm+0000`. */
export function expiresAtField() {
    return z.string({ error: "expiresAt must be a date-time string such as 2030-01-31T12:00+0000" })
        .refine((v) => parseIbmDateTime(v) !== undefined, {
            error: "expiresAt must be a date-time such as 2030-01-31T12:00+0000 or 2030-01-31T12:00:00Z",
        })
        // Only a readable date is judged "in the future" (an unreadable one already has its failure).
        .refine((v) => { const ms = parseIbmDateTime(v); return ms === undefined || ms > Date.now(); }, { error: "expiresAt must be in the future" });
}

/** Parses IBM's `2030-01-31T12:00+0000` and ordinary ISO-8601; returns epoch milliseconds. */
export function parseIbmDateTime(value: string): number | undefined {
    const ibm = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(?::(\d{2}))?([+-])(\d{2}):?(\d{2})$/.exec(value);
    const iso = ibm ? `${ibm[1]}:${ibm[2] ?? "00"}${ibm[3]}${ibm[4]}:${ibm[5]}` : value;
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(iso)) return undefined;
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? undefined : ms;
}

/** Formats epoch milliseconds the way IBM's identity API expects: `2030-01-31T12:00+0000`. */
export function formatIbmDateTime(ms: number): string {
    return new Date(ms).toISOString().slice(0, 16) + "+0000";
}

/** A CRN: `crn:v1:<cname>:<ctype>:<service>:<region>:<scope>:<instance>:<type>:<resource>`. */
export function crnField(what: string) {
    return z.string({ error: `${what} must be a CRN string` })
        .regex(/^crn:v1:[a-z0-9-]+:(public|private|dedicated|local):[a-z0-9-]+:[a-z0-9-]*:[^:]*:[^:]*:[^:]*:[^:]*$/, {
            error: `${what} must be a CRN such as crn:v1:bluemix:public:hs-crypto:us-south:a/<account>:<instance guid>::`,
        });
}
