// Zod field builders shared by the resources' check schemas: each message says what is wrong and how to fix it.
import { z } from "zod";
import { readDateTime } from "./dateTime";

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

// IAM identity names and descriptions: 1–1000 characters. IBM's API docs and SDKs state no limit;
// 1000 is the emulator's choice (emulator/README.md) and what our Args document.
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

/** A CRN: `crn:v1:<cname>:<ctype>:<service>:<region>:<scope>:<instance>:<type>:<resource>`. */
export function crnField(what: string) {
    return z
        .string({ error: `${what} must be a CRN string` })
        .regex(/^crn:v1:[a-z0-9-]+:(public|private|dedicated|local):[a-z0-9-]+:[a-z0-9-]*:[^:]*:[^:]*:[^:]*:[^:]*$/, {
            error: `${what} must be a CRN such as crn:v1:bluemix:public:hs-crypto:us-south:a/<account>:<instance guid>::`,
        });
}
