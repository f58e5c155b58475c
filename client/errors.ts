// One error family for everything that talks to IBM Cloud: `IbmCloudError` for what the cloud (or the
// network on the way to it) said, `InputError` for settings the user must fix. Every message passes
// through `redact`, so an API key or a token can never reach a log, a thrown message or Pulumi state.

const REDACTED = "[REDACTED]";

// Plain constants only (closure-serialized): regexes are rebuilt inside functions.
const JWT_PATTERN = "eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*";
const BEARER_PATTERN = "(Bearer|Basic)\\s+[A-Za-z0-9._~+/=-]+";
// `apikey=…`, `"apikey":"…"`, `refresh_token: …` and similar in echoed bodies or URLs.
const SECRET_FIELD_PATTERN =
    "((?:\"|')?(?:apikey|api_key|apiKey|access_token|refresh_token|iam-apikey|IAM-ApiKey|payload)(?:\"|')?\\s*[:=]\\s*(?:\"|')?)([A-Za-z0-9_.~+/=%-]{20,})";

/**
 * Removes secrets from `text`: every value in `secrets` (API keys, tokens the caller holds), anything
 * shaped like a JWT, `Bearer …`/`Basic …` credentials and the values of fields named like secrets.
 */
export function redact(text: string, secrets: ReadonlyArray<string | undefined | null> = []): string {
    let out = String(text);
    // Longest first so a secret containing another is removed whole.
    const known = secrets.filter((s): s is string => typeof s === "string" && s.length >= 6).sort((a, b) => b.length - a.length);
    for (const secret of known) {
        out = out.split(secret).join(REDACTED);
        // The same value URL-encoded (form bodies, query strings).
        const encoded = encodeURIComponent(secret);
        if (encoded !== secret) out = out.split(encoded).join(REDACTED);
    }
    out = out.replace(new RegExp(JWT_PATTERN, "g"), REDACTED);
    out = out.replace(new RegExp(BEARER_PATTERN, "g"), (_m, scheme: string) => `${scheme} ${REDACTED}`);
    out = out.replace(new RegExp(SECRET_FIELD_PATTERN, "gi"), (_m, prefix: string, value: string) =>
        value === REDACTED ? `${prefix}${value}` : `${prefix}${REDACTED}`,
    );
    return out;
}

/**
 * Inside a dynamic provider these classes run as Pulumi's closure serializer rewrote them: a function
 * calling `Error.call(this, text)`, which sets no message (the plugin would report an empty error).
 */
function keepMessage(err: Error, text: string): void {
    if (err.message !== text) Object.defineProperty(err, "message", { value: text, writable: true, configurable: true, enumerable: false });
}

/** A setting or argument the user must change; names the field and how to fix it. */
export class InputError extends Error {
    /** The setting at fault, e.g. `ibmcloud:apiKey`. */
    readonly field: string;
    /** What to do about it, e.g. `pulumi config set --secret ibmcloud:apiKey <key>`. */
    readonly fix: string;

    constructor(field: string, problem: string, fix: string) {
        const text = redact(`${field}: ${problem}. ${fix}`);
        super(text);
        keepMessage(this, text);
        this.name = "InputError";
        this.field = field;
        this.fix = redact(fix);
    }
}

/** One reason from a KMS error (`resources[].reasons[]`). */
export interface KmsErrorReason {
    code: string;
    message: string;
    status?: number;
    moreInfo?: string;
}

export interface IbmCloudErrorInit {
    /** What was being done, in words: `create service ID`, `get IAM access token`. */
    operation: string;
    /** HTTP status; 0 when no response was received. */
    status: number;
    /** IBM's machine code: snake_case (`entity_locked`), a KMS reason (`KEY_NOT_FOUND_ERR`), or a transport code (`ECONNRESET`). */
    code?: string;
    /** IBM's message code, e.g. `BXNIM0415E`. */
    messageCode?: string;
    /** IBM's own human message. */
    ibmMessage?: string;
    /** IBM's trace / request id / correlation id, for a support case. */
    traceId?: string;
    method?: string;
    /** URL without query string. */
    url?: string;
    /** Worth trying again later (429, 5xx except 501, transport failures). */
    retryable?: boolean;
    /** The request may have been processed although no success was seen: look the object up before creating it again. */
    outcomeUnknown?: boolean;
    /** For a policy conflict: the id of the identical policy that already exists. */
    conflictingPolicyId?: string;
    conflictingPolicyEtag?: string;
    /** `Retry-After` in ms, when the server sent one. */
    retryAfterMs?: number;
    kmsReasons?: KmsErrorReason[];
    /** IBM's `details` / `more_info` text. */
    details?: string;
    moreInfo?: string;
    /** How many attempts were made. */
    attempts?: number;
    /** Extra sentence appended to the message (e.g. the outcome-unknown advice). */
    note?: string;
    cause?: unknown;
    /** Values to scrub from every text field (the caller's API key, tokens it holds). */
    secrets?: ReadonlyArray<string | undefined | null>;
}

/** What IBM Cloud (or the network on the way) answered; the message reads
 * `create service ID failed: 409 entity_locked (BXNIM0511E): <IBM message> [trace 1a2b…]`. */
export class IbmCloudError extends Error {
    readonly operation: string;
    readonly status: number;
    readonly code: string | undefined;
    readonly messageCode: string | undefined;
    /** IBM's message, unchanged except for redaction (`message` is the full formatted line). */
    readonly ibmMessage: string | undefined;
    readonly traceId: string | undefined;
    readonly method: string | undefined;
    readonly url: string | undefined;
    readonly retryable: boolean;
    readonly outcomeUnknown: boolean;
    readonly conflictingPolicyId: string | undefined;
    readonly conflictingPolicyEtag: string | undefined;
    readonly retryAfterMs: number | undefined;
    readonly kmsReasons: KmsErrorReason[];
    readonly details: string | undefined;
    readonly moreInfo: string | undefined;
    readonly attempts: number;
    /** The advice appended to the message, if any. */
    readonly note: string | undefined;

    constructor(init: IbmCloudErrorInit) {
        const s = init.secrets ?? [];
        const clean = (v: string | undefined) => (v === undefined ? undefined : redact(v, s));
        const ibmMessage = clean(init.ibmMessage);
        const parts: string[] = [`${init.operation} failed:`];
        if (init.status) parts.push(String(init.status));
        if (init.code) parts.push(clean(init.code)!);
        if (init.messageCode) parts.push(`(${clean(init.messageCode)})`);
        let message = parts.join(" ");
        if (ibmMessage) message += `: ${ibmMessage}`;
        if (init.conflictingPolicyId) message += ` (existing policy ${init.conflictingPolicyId})`;
        if (init.note) message += `; ${clean(init.note)}`;
        if (init.traceId) message += ` [trace ${clean(init.traceId)}]`;
        const text = redact(message, s);
        super(text);
        keepMessage(this, text);
        this.name = "IbmCloudError";
        this.operation = init.operation;
        this.status = init.status;
        this.code = clean(init.code);
        this.messageCode = clean(init.messageCode);
        this.ibmMessage = ibmMessage;
        this.traceId = clean(init.traceId);
        this.method = init.method;
        this.url = clean(init.url);
        this.retryable = init.retryable ?? false;
        this.outcomeUnknown = init.outcomeUnknown ?? false;
        this.conflictingPolicyId = init.conflictingPolicyId;
        this.conflictingPolicyEtag = init.conflictingPolicyEtag;
        this.retryAfterMs = init.retryAfterMs;
        // Every text of a reason (a KMS `moreInfo` link can carry what the request sent).
        this.kmsReasons = (init.kmsReasons ?? []).map((r) => ({
            ...r,
            code: redact(r.code, s),
            message: redact(r.message, s),
            ...(r.moreInfo !== undefined ? { moreInfo: redact(r.moreInfo, s) } : {}),
        }));
        this.details = clean(init.details);
        this.moreInfo = clean(init.moreInfo);
        this.attempts = init.attempts ?? 1;
        this.note = clean(init.note);
        // A transport error's message can carry a URL with a query; keep only its redacted text.
        if (init.cause !== undefined) {
            const c = init.cause as { message?: unknown; code?: unknown };
            Object.defineProperty(this, "cause", {
                value: { code: typeof c?.code === "string" ? c.code : undefined, message: redact(String(c?.message ?? c), s) },
                enumerable: false,
            });
        }
    }

    override toString(): string {
        return `${this.name}: ${this.message}`;
    }

    /**
     * The same error with context added: every field kept (codes, status, trace id, KMS reasons, the
     * conflicting policy), `changes` applied over them, and a `note` appended to the one it had
     * (or put in its place with `replaceNote`). The one way to add context to an IBM error.
     */
    withContext(changes: Partial<IbmCloudErrorInit>, opts: { replaceNote?: boolean } = {}): IbmCloudError {
        return new IbmCloudError(contextOf(this, changes, opts.replaceNote === true));
    }
}

/** The init of `err` with `changes` applied; notes are chained, not replaced. */
function contextOf(err: IbmCloudError, changes: Partial<IbmCloudErrorInit>, replaceNote = false): IbmCloudErrorInit {
    const note = [replaceNote ? undefined : err.note, changes.note].filter((n) => n !== undefined && n !== "").join("; ");
    const init: IbmCloudErrorInit = {
        operation: err.operation,
        status: err.status,
        code: err.code,
        messageCode: err.messageCode,
        ibmMessage: err.ibmMessage,
        traceId: err.traceId,
        method: err.method,
        url: err.url,
        retryable: err.retryable,
        outcomeUnknown: err.outcomeUnknown,
        conflictingPolicyId: err.conflictingPolicyId,
        conflictingPolicyEtag: err.conflictingPolicyEtag,
        retryAfterMs: err.retryAfterMs,
        kmsReasons: err.kmsReasons,
        details: err.details,
        moreInfo: err.moreInfo,
        attempts: err.attempts,
        cause: (err as { cause?: unknown }).cause,
        ...changes,
    };
    if (note) init.note = note;
    return init;
}

/**
 * `err` with a sentence of advice appended (nothing secret is added): an IbmCloudError keeps every
 * field; any other error becomes a plain Error with the note after its message.
 */
export function appendErrorNote(err: unknown, note: string): Error {
    // By name too: a provider serialized by value carries its own copy of the class.
    if (err instanceof IbmCloudError) return err.withContext({ note });
    if (err instanceof Error && err.name === "IbmCloudError") return new IbmCloudError(contextOf(err as IbmCloudError, { note }));
    return new Error(`${(err as Error)?.message ?? String(err)}; ${note}`);
}

/** IBM refuses a write to a locked entity (a service ID or API key, or a policy whose subject is one) with 409 `entity_locked`. */
export function isEntityLocked(err: unknown): boolean {
    return err instanceof IbmCloudError && err.status === 409 && err.code === "entity_locked";
}

// Characters a key, token or base64 value is made of.
const SECRET_ALPHABET_TAIL = "[A-Za-z0-9._~+/=%-]+$";

/**
 * The first `max` characters of `text`, never ending inside a run of key/token characters: a secret
 * cut in half would no longer match the value redaction looks for, and half of it would be shown.
 */
export function clip(text: string, max: number): string {
    if (text.length <= max) return text;
    const head = text.slice(0, max);
    // The run that reaches the cut continues past it: drop all of it.
    const kept = new RegExp(SECRET_ALPHABET_TAIL).test(text[max]) ? head.replace(new RegExp(SECRET_ALPHABET_TAIL), "") : head;
    return `${kept}…`;
}

/**
 * Defines `obj[key] = value` as a non-enumerable property: util.inspect (console.log) and
 * JSON.stringify of a client then never show the key or tokens it holds.
 */
export function hideField<T extends object>(obj: T, key: string, value: unknown): void {
    Object.defineProperty(obj, key, { value, writable: true, configurable: true, enumerable: false });
}

/** The fields of an IBM error body, whichever of the three envelopes it used. */
export interface ParsedErrorBody {
    code?: string;
    messageCode?: string;
    ibmMessage?: string;
    traceId?: string;
    details?: string;
    moreInfo?: string;
    conflictingPolicyId?: string;
    conflictingPolicyEtag?: string;
    kmsReasons?: KmsErrorReason[];
}

function str(v: unknown): string | undefined {
    if (typeof v === "string" && v.length > 0) return v;
    if (typeof v === "number") return String(v);
    return undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * Reads an IBM error body: the token endpoint's `{errorCode, errorMessage, context.requestId}`, the
 * IAM Identity / Policy `{errors[{code, message_code, message, details}], status_code, trace}` (with
 * policy conflicts' `details.conflicts_with`), or KMS's `{metadata, resources[{errorMsg, reasons[]}]}`.
 * Unknown shapes yield what can be found (`message`, `error`, `description`) or nothing.
 */
export function parseErrorBody(body: unknown): ParsedErrorBody {
    const root = obj(body);
    if (!root) {
        if (typeof body === "string" && body.trim()) return { ibmMessage: clip(body.trim(), 500) };
        return {};
    }
    // Token endpoint.
    if (str(root.errorCode) || str(root.errorMessage)) {
        const ctx = obj(root.context);
        return {
            messageCode: str(root.errorCode),
            ibmMessage: str(root.errorMessage),
            traceId: str(ctx?.requestId) ?? str(ctx?.transactionId),
            details: str(root.errorDetails),
        };
    }
    // IAM Identity / Policy Management.
    if (Array.isArray(root.errors) && root.errors.length > 0) {
        const first = obj(root.errors[0]) ?? {};
        const out: ParsedErrorBody = {
            code: str(first.code),
            messageCode: str(first.message_code),
            ibmMessage: str(first.message),
            moreInfo: str(first.more_info),
            traceId: str(root.trace) ?? str(root.transaction_id) ?? str(root.trace_id),
        };
        const extra = root.errors
            .slice(1)
            .map((e) => str(obj(e)?.message))
            .filter((m): m is string => !!m);
        if (extra.length > 0 && out.ibmMessage) out.ibmMessage += `; ${extra.join("; ")}`;
        const details = first.details;
        if (typeof details === "string") out.details = details;
        const conflict = obj(obj(details)?.conflicts_with);
        if (conflict) {
            const policy = obj(conflict.policy);
            out.conflictingPolicyId = str(policy?.id);
            out.conflictingPolicyEtag = str(conflict.etag);
        }
        return out;
    }
    // KMS.
    if (Array.isArray(root.resources) && obj(root.metadata)) {
        const first = obj(root.resources[0]) ?? {};
        const reasons: KmsErrorReason[] = [];
        if (Array.isArray(first.reasons)) {
            for (const r of first.reasons) {
                const ro = obj(r);
                if (!ro) continue;
                reasons.push({
                    code: str(ro.code) ?? "",
                    message: str(ro.message) ?? "",
                    ...(typeof ro.status === "number" ? { status: ro.status } : {}),
                    ...(str(ro.moreInfo) ? { moreInfo: str(ro.moreInfo) } : {}),
                });
            }
        }
        const errorMsg = str(first.errorMsg);
        const reasonText = reasons
            .map((r) => r.message)
            .filter(Boolean)
            .join("; ");
        return {
            code: reasons[0]?.code || undefined,
            ibmMessage: errorMsg && reasonText && !errorMsg.includes(reasonText) ? `${errorMsg}: ${reasonText}` : (errorMsg ?? (reasonText || undefined)),
            moreInfo: reasons[0]?.moreInfo,
            kmsReasons: reasons,
        };
    }
    // Anything else that carries a message.
    const message = str(root.message) ?? str(root.error_description) ?? str(root.error) ?? str(root.description);
    return {
        ...(message ? { ibmMessage: message } : {}),
        ...(str(root.code) ? { code: str(root.code) } : {}),
        ...(str(root.trace) ? { traceId: str(root.trace) } : {}),
    };
}

/** True for the statuses worth retrying: 429, 500 and 502–599 (501 means "never implemented"). */
export function isRetryableStatus(status: number): boolean {
    return status === 429 || status === 500 || (status >= 502 && status <= 599);
}

/** The error says the object does not exist (404, or KMS's 410 for a deleted key). */
export function isNotFound(err: unknown): boolean {
    return err instanceof IbmCloudError && (err.status === 404 || err.status === 410);
}

/** The error is an optimistic-lock failure: the entity tag given with If-Match is stale (412, or 409 with a tag code). */
export function isEtagMismatch(err: unknown): boolean {
    if (!(err instanceof IbmCloudError)) return false;
    if (err.status === 412) return true;
    return err.status === 409 && /tag|etag|precondition/i.test(err.code ?? "");
}

/** A policy identical to the one being created already exists; `err.conflictingPolicyId` names it. */
export function isPolicyConflict(err: unknown): err is IbmCloudError {
    return err instanceof IbmCloudError && err.status === 409 && (err.code === "policy_conflict_error" || !!err.conflictingPolicyId);
}
