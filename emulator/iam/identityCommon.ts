// What service IDs and API keys share: IAM Identity's error catalogue, entity tags and If-Match, body parsing,
// paging and sorting, and who may write.
import { z } from "zod";
import { may } from "./access";
import type { StoreContext } from "../core/context";
import { IamError } from "../core/errors";
import { Caller, Ctx } from "../core/request";
import { identityTime, randomHex } from "../core/state";

// IAM Identity error catalogue. The BXNIM numbers other than BXNIM0308E are the emulator's choice.
export const identityErrors = {
    invalid: (message: string) => new IamError(400, "invalid_request", message, "BXNIM0509E"),
    forbidden: () => new IamError(403, "insufficent_permissions", "You are not authorized to perform this action.", "BXNIM0513E"),
    notFound: (what: string, id: string) => new IamError(404, "not_found", `${what} with id '${id}' not found.`, "BXNIM0102E"),
    locked: (message: string) => new IamError(409, "entity_locked", message, "BXNIM0526E"),
    conflict: (message: string) => new IamError(409, "conflict", message, "BXNIM0520E"),
    etagMismatch: () =>
        new IamError(412, "entity_tag_mismatch", "The If-Match value does not match the current entity tag; read the entity again and retry.", "BXNIM0512E"),
};
const E = identityErrors;

const MAX_NAME = 1000;
const MAX_DESCRIPTION = 1000;
const MAX_PAGESIZE = 100;
const DEFAULT_PAGESIZE = 20;

// entity tags ---------------------------------------------------------------------

export function entityTag(r: { etagVersion: number; etagHash: string }): string {
    return `${r.etagVersion}-${r.etagHash}`;
}

export function bumpTag(r: { etagVersion: number; etagHash: string; modifiedAt: string }): void {
    r.etagVersion += 1;
    r.etagHash = randomHex(16);
    r.modifiedAt = identityTime();
}

/** Strips quotes and a weak prefix so `"1-abc"`, `W/"1-abc"` and `1-abc` compare equal. */
export function ifMatchValue(ctx: Ctx): string | undefined {
    const v = ctx.header("if-match");
    return v === undefined
        ? undefined
        : v
              .trim()
              .replace(/^W\//, "")
              .replace(/^"(.*)"$/, "$1");
}

export function checkIfMatch(ctx: Ctx, current: string): void {
    const v = ifMatchValue(ctx);
    if (v === undefined || v === "") throw E.invalid("The If-Match header is required: pass the entity_tag of the entity or '*'.");
    if (v !== "*" && v !== current) throw E.etagMismatch();
}

export function boolHeader(ctx: Ctx, name: string): boolean {
    return (ctx.header(name) ?? "").toLowerCase() === "true";
}

// body fields (zod; the first problem becomes IBM's 400 invalid_request) ------------------

/** `null` counts as absent, as IBM's JSON binding treats it. */
const absent = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? undefined);

export const fields = {
    name: (field = "name") =>
        z
            .string({ error: `The field '${field}' is required and must not be empty.` })
            .refine((v) => v.trim() !== "", { error: `The field '${field}' is required and must not be empty.` })
            .refine((v) => v.length <= MAX_NAME, { error: `The field '${field}' must not be longer than ${MAX_NAME} characters.` }),
    text: (field: string, max = MAX_DESCRIPTION) =>
        absent(
            z
                .string({ error: `The field '${field}' must be a string.` })
                .max(max, { error: `The field '${field}' must not be longer than ${max} characters.` }),
        ),
    bool: (field: string) => absent(z.boolean({ error: `The field '${field}' must be a boolean.` })),
    strings: (field: string) => absent(z.array(z.string(), { error: `The field '${field}' must be an array of strings.` })),
    leakAction: () => absent(z.enum(["none", "disable", "delete"], { error: "The field 'action_when_leaked' must be one of none, disable, delete." })),
};

/** Parses the JSON body against `schema`; unknown fields are ignored, as IBM ignores them. */
export function parseBody<S extends z.ZodType>(ctx: Ctx, schema: S): z.output<S> {
    let body: unknown;
    try {
        body = ctx.json();
    } catch (e) {
        throw E.invalid(e instanceof Error ? e.message : "invalid body");
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) throw E.invalid("The request body must be a JSON object.");
    const r = schema.safeParse(body);
    if (!r.success) throw E.invalid(r.error.issues[0]?.message ?? "The request body is invalid.");
    return r.data;
}

/**
 * `expires_at`: IBM documents `yyyy-MM-ddTHH:mm+0000` and also accepts seconds (`…:ss+0000`, what IBM's SDK
 * integration tests send). Stored at IAM Identity's minute precision. A past date is accepted: the key is
 * then expired (see apiKeys.ts). `""` and `null` are returned as they are: on update they clear the expiry.
 */
export const expiresAtField = z
    .string({ error: "The field 'expires_at' must be a string of the form yyyy-MM-ddTHH:mm+0000." })
    .transform((v, c) => {
        if (v === "") return "";
        const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?\+0000$/.exec(v);
        const d = m ? new Date(`${m[1]}${m[2] ?? ":00"}Z`) : undefined;
        if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 16) !== m[1]) {
            c.addIssue({ code: "custom", message: "The field 'expires_at' must have the format yyyy-MM-ddTHH:mm+0000 (seconds optional)." });
            return z.NEVER;
        }
        return `${m[1]}+0000`;
    })
    .nullish();

// paging and sorting ------------------------------------------------------------------

export interface Page<T> {
    items: T[];
    envelope: Record<string, unknown>;
}

/** IBM's identity paging: `pagetoken` is opaque and read back from the `next` URL. */
export function paginate<T>(ctx: Ctx, all: T[], basePath: string): Page<T> {
    const rawSize = ctx.query.get("pagesize");
    const pagesize = rawSize === null ? DEFAULT_PAGESIZE : Number(rawSize);
    if (!Number.isInteger(pagesize) || pagesize < 1 || pagesize > MAX_PAGESIZE) {
        throw E.invalid(`The parameter 'pagesize' must be an integer between 1 and ${MAX_PAGESIZE}.`);
    }
    let offset = 0;
    const token = ctx.query.get("pagetoken");
    if (token) {
        const decoded = /^o:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
        if (!decoded) throw E.invalid("The parameter 'pagetoken' is invalid.");
        offset = Number(decoded[1]);
    }
    const link = (o: number | undefined) => {
        const q = new URLSearchParams(ctx.query);
        q.delete("pagetoken");
        q.set("pagesize", String(pagesize));
        if (o !== undefined) q.set("pagetoken", Buffer.from(`o:${o}`).toString("base64url"));
        return `${ctx.origin}${basePath}?${q.toString()}`;
    };
    const items = all.slice(offset, offset + pagesize);
    const envelope: Record<string, unknown> = { offset, limit: pagesize, first: link(undefined) };
    if (offset > 0) envelope.previous = link(Math.max(0, offset - pagesize));
    if (offset + pagesize < all.length) envelope.next = link(offset + pagesize);
    return { items, envelope };
}

export function sortBy<T>(ctx: Ctx, items: T[], keys: Record<string, (x: T) => string>): T[] {
    const sort = ctx.query.get("sort");
    const order = (ctx.query.get("order") ?? "asc").toLowerCase();
    if (order !== "asc" && order !== "desc") throw E.invalid("The parameter 'order' must be 'asc' or 'desc'.");
    if (!sort) return order === "desc" ? [...items].reverse() : items;
    const key = keys[sort];
    if (!key) throw E.invalid(`The parameter 'sort' must be one of ${Object.keys(keys).join(", ")}.`);
    const sorted = [...items].sort((a, b) => key(a).localeCompare(key(b)));
    return order === "desc" ? sorted.reverse() : sorted;
}

/** `include_history=true` adds an (empty) history: the emulator keeps no audit trail. */
export function withHistory(ctx: Ctx, o: Record<string, unknown>): Record<string, unknown> {
    if (ctx.query.get("include_history") === "true") o.history = [];
    return o;
}

/** The account a list is for: `account_id` (required where IBM requires it) must be the caller's. */
export function listAccount(ctx: Ctx, required: boolean): string {
    const accountId = ctx.query.get("account_id") ?? (required ? null : caller(ctx).accountId);
    if (!accountId) throw E.invalid("The parameter 'account_id' is required.");
    if (accountId !== caller(ctx).accountId) throw E.forbidden();
    return accountId;
}

// access ----------------------------------------------------------------------------------

export function caller(ctx: Ctx): Caller {
    return ctx.caller!;
}

export function requireIdentityAction(emu: StoreContext, ctx: Ctx, action: string, accountId: string): void {
    if (!may(emu.store, caller(ctx), action, { accountId, serviceName: "iam-identity" })) throw E.forbidden();
}
