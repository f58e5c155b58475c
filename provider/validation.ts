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

/**
 * Zod field for a policy's roles: a list of role names, ids or CRNs, at least one. `example` is the
 * role the messages suggest; `defaultsToReader` says the argument may be left out (Reader).
 */
export function rolesField(example: "Reader" | "Writer", defaultsToReader: boolean) {
    return z
        .array(
            z
                .string({ error: `each role must be a string such as "${example}"` })
                .trim()
                .min(1, { error: 'a role must not be empty; give a name such as "Reader"' }),
            { error: `roles must be a list of role names, ids or CRNs such as ["${example}"]` },
        )
        .min(1, { error: `roles must name at least one role, e.g. ["Reader"]${defaultsToReader ? ", or be left out (default Reader)" : ""}` });
}

/** True when `news` (possibly unknown during preview) differs from `olds`. */
export function differs(olds: unknown, news: unknown): boolean {
    if (containsUnknown(news)) return true;
    return JSON.stringify(olds) !== JSON.stringify(news);
}

/** True when two lists hold the same strings in any order (never while `b` is unknown). */
export function sameSet(a: ReadonlyArray<string> | undefined, b: ReadonlyArray<string> | undefined): boolean {
    if (containsUnknown(b)) return false;
    const x = [...(a ?? [])].sort();
    const y = [...(b ?? [])].sort();
    return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** A resource's inputs without the serialized provider the engine adds to them. */
export function withoutProvider<T extends Record<string, unknown>>(props: T): Omit<T, "__provider"> {
    const { __provider: _ignored, ...rest } = props;
    return rest;
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

/** Drops keys whose value is `undefined`: Pulumi outputs and inputs must not contain it. */
export function compact<T extends Record<string, unknown>>(obj: T): T {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
    return out as T;
}

// Field builders: each message says what is wrong and how to fix it.

// IAM identity names and descriptions: 1–1000 characters. IBM's API docs and SDKs state no limit;
// 1000 is what the emulator enforces (see ../../shared/reference/ibm-cloud-api.md, "name longer than
// 1000 chars → 400") and what our Args document.
export function nameField(what: string, max = 1000) {
    return z
        .string({ error: `${what} name must be a string` })
        .trim()
        .min(1, { error: `${what} name must not be empty; give it a name such as "my-app"` })
        .max(max, { error: `${what} name must be at most ${max} characters` })
        .superRefine((v, ctx) => {
            const bad = unstorableCharacter(v, false);
            if (bad) ctx.addIssue({ code: "custom", message: `${what} name contains ${bad}; a name is one line of printable text` });
        });
    // Otherwise no rule on the characters of a name: IBM states none, and a name can always be changed.
}

export function descriptionField(max = 1000) {
    return z
        .string({ error: "description must be a string" })
        .max(max, { error: `description must be at most ${max} characters` })
        .superRefine((v, ctx) => {
            const bad = unstorableCharacter(v, true);
            if (bad) ctx.addIssue({ code: "custom", message: `description contains ${bad}; remove it (tabs and line breaks are fine)` });
        });
}

/**
 * The first character of `text` that would not come back from IBM as sent, described with its
 * position: a control character (NUL and the rest of C0, DEL, C1; IBM's IAM documents no character
 * rules, and its consoles, CLI tables and audit records cannot show them), or half of a UTF-16
 * surrogate pair (no UTF-8 form: a server stores U+FFFD instead, and every run would show a change).
 * `allowLineBreaks` lets tabs and line breaks through (descriptions). Undefined when all is well.
 */
export function unstorableCharacter(text: string, allowLineBreaks: boolean): string | undefined {
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
            const next = text.charCodeAt(i + 1);
            if (next >= 0xdc00 && next <= 0xdfff) {
                i++;
                continue;
            }
        }
        const hex = `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
        if (c >= 0xd800 && c <= 0xdfff) return `half of a surrogate pair (${hex}) at character ${i + 1}, which has no UTF-8 form`;
        const lineBreak = c === 0x09 || c === 0x0a || c === 0x0d;
        if ((c < 0x20 && !(allowLineBreaks && lineBreak)) || (c >= 0x7f && c <= 0x9f)) {
            return `the control character ${hex}${c === 0 ? " (NUL)" : ""} at character ${i + 1}`;
        }
    }
    return undefined;
}

/**
 * `expiresAt` of an API key: a date-time with a time zone, in the future unless `mustBeFuture` is
 * false (an unchanged date that has since passed). IBM's identity API wants `yyyy-MM-ddTHH:mm+0000`
 * (platform-services SDK, CreateApiKeyParams.expiresAt); any ISO-8601 date-time with an offset is
 * accepted here and converted.
 */
export function expiresAtField(mustBeFuture = true) {
    return dateTimeField("expiresAt", "ibm", mustBeFuture);
}

/**
 * A date-time argument named `field`. `ibm`: IBM's identity format or ISO-8601 (seconds optional);
 * `rfc3339`: RFC 3339 as KMS reads `expirationDate` (seconds and a `Z` or `±hh:mm` offset required).
 * A local time without a zone is refused (it would mean a different instant on every machine), and so
 * is a date the calendar does not have (JavaScript's Date.parse reads 2030-02-30 as March 2).
 */
export function dateTimeField(field: string, format: "ibm" | "rfc3339", mustBeFuture: boolean) {
    const example = format === "ibm" ? "2030-01-31T12:00+0000" : "2030-01-31T12:00:00Z";
    const kind = format === "ibm" ? "a date-time" : "an RFC 3339 date-time";
    return z.string({ error: `${field} must be ${kind} string such as ${example}` }).superRefine((v, ctx) => {
        const r = readDateTime(v, format);
        if ("problem" in r) {
            const message =
                r.problem === "unreadable"
                    ? format === "ibm"
                        ? `${field} must be a date-time such as 2030-01-31T12:00+0000 or 2030-01-31T12:00:00Z`
                        : `${field} must be ${kind} such as ${example}`
                    : r.problem === "no-zone"
                      ? `${field} has no time zone: add Z (UTC) or an offset, e.g. ${example}`
                      : `${field} is not a real date-time (${r.problem}); give one such as ${example}`;
            ctx.addIssue({ code: "custom", message });
            return;
        }
        if (mustBeFuture && r.ms <= Date.now()) ctx.addIssue({ code: "custom", message: `${field} must be in the future` });
    });
}

/**
 * Reads a date-time: `yyyy-MM-ddTHH:mm[:ss[.fff]]` then `Z` or an offset `±hh[:]mm`. With `rfc3339`
 * the seconds and the offset's colon are required. Returns epoch milliseconds or what is wrong:
 * "unreadable", "no-zone" or a description of the impossible part ("2030-02-30 does not exist").
 */
export function readDateTime(value: string, format: "ibm" | "rfc3339" = "ibm"): { ms: number } | { problem: string } {
    const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$/.exec(value);
    if (!m) return { problem: "unreadable" };
    const [, y, mo, d, h, mi, sec, frac, zone] = m;
    if (format === "rfc3339" && (sec === undefined || (zone !== undefined && /^[+-]\d{4}$/.test(zone)))) return { problem: "unreadable" };
    if (zone === undefined) return { problem: "no-zone" };
    const year = Number(y),
        month = Number(mo),
        day = Number(d),
        hour = Number(h),
        minute = Number(mi),
        second = Number(sec ?? "0");
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const daysInMonth = month >= 1 && month <= 12 ? [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] : 0;
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return { problem: `${y}-${mo}-${d} does not exist` };
    if (hour > 23 || minute > 59 || second > 59) return { problem: `${h}:${mi}${sec !== undefined ? `:${sec}` : ""} is not a time of day` };
    let offsetMinutes = 0;
    if (!/^[Zz]$/.test(zone)) {
        const oh = Number(zone.slice(1, 3));
        const om = Number(zone.slice(-2));
        if (oh > 23 || om > 59) return { problem: `${zone} is not a time zone offset` };
        offsetMinutes = (zone[0] === "-" ? -1 : 1) * (oh * 60 + om);
    }
    // Not Date.UTC(year, …): it reads years 0–99 as 1900–1999.
    const at = new Date(0);
    at.setUTCFullYear(year, month - 1, day);
    at.setUTCHours(hour, minute, second, frac ? Math.floor(Number(`0${frac}`) * 1000) : 0);
    return { ms: at.getTime() - offsetMinutes * 60_000 };
}

/** Parses IBM's `2030-01-31T12:00+0000` and ordinary ISO-8601 with a zone; returns epoch milliseconds. */
export function parseIbmDateTime(value: string): number | undefined {
    const r = readDateTime(value, "ibm");
    return "ms" in r ? r.ms : undefined;
}

/** Formats epoch milliseconds the way IBM's identity API expects: `2030-01-31T12:00+0000`. */
export function formatIbmDateTime(ms: number): string {
    return new Date(ms).toISOString().slice(0, 16) + "+0000";
}

/** A CRN: `crn:v1:<cname>:<ctype>:<service>:<region>:<scope>:<instance>:<type>:<resource>`. */
export function crnField(what: string) {
    return z
        .string({ error: `${what} must be a CRN string` })
        .regex(/^crn:v1:[a-z0-9-]+:(public|private|dedicated|local):[a-z0-9-]+:[a-z0-9-]*:[^:]*:[^:]*:[^:]*:[^:]*$/, {
            error: `${what} must be a CRN such as crn:v1:bluemix:public:hs-crypto:us-south:a/<account>:<instance guid>::`,
        });
}
