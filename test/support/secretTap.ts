// A recording proxy in front of the emulator, for the secrets-hygiene sweeps.
//
// - It forwards every request to the emulator and RECORDS every secret that crosses the wire in
//   either direction: API key values (token form `apikey`, `IAM-ApiKey` header, `apikey` fields of
//   request and response bodies), access and refresh tokens (token responses, `Authorization:
//   Bearer` headers) and KMS key material (`payload`). The tests then search everything the code
//   under test printed or threw for those values, so they also find tokens nobody chose by hand.
// - It can answer in the emulator's place, by rule, with what a hostile or careless server does:
//   an error ECHOING every credential the request carried (in the message, details, trace, headers
//   or a plain-text page), a reset connection, a hung request, or the emulator's real answer with a
//   truncated JSON body. The emulator's own fault injection covers the ordinary faults;
//   the echo is what only a proxy can do, and is the strongest test of redaction.
import * as crypto from "crypto";
import * as http from "http";
import { AddressInfo } from "net";
import * as util from "util";

export type TapAction =
    /** Answer `status` in the route family's own error envelope, echoing the request's credentials everywhere. */
    | { kind: "echo"; status: number; retryAfter?: string }
    /** Answer `status` with a text/plain page that dumps the request (headers and body), as a broken gateway might. */
    | {
          kind: "echo-text";
          status: number;
          retryAfter?: string /** characters of filler before the dump (to push a secret across a truncation point) */;
          pad?: number;
      }
    /** Destroy the connection before the emulator sees the request. */
    | { kind: "reset" }
    /** Let the emulator act (a write commits), then destroy the connection instead of answering. */
    | { kind: "reset-after" }
    /** Never answer. */
    | { kind: "hang" }
    /** Let the emulator act, then send its status with the first half of its JSON body. */
    | { kind: "malformed" };

export interface TapRule {
    /** HTTP method, default any. */
    method?: string;
    /** Matched against the path without query: a RegExp, or a string the path must equal. Default any. */
    path?: string | RegExp;
    /** Fire at most this many times (default unlimited). */
    count?: number;
    action: TapAction;
}

export interface SecretTap {
    /** Use as IAM and KMS endpoint. */
    readonly url: string;
    /** Every secret value seen so far (API keys, tokens, key material), longest first. */
    values(): string[];
    /** Replaces the rules (first matching rule with count left wins). */
    setRules(rules: TapRule[]): void;
    /** How many times rules fired, by kind. */
    readonly fired: { [kind: string]: number };
    /** Requests seen. */
    readonly requests: number;
    /** Records a value the tests know to be secret (e.g. one made up for a bring-your-own key). */
    addSecret(value: string): void;
    stop(): Promise<void>;
}

const SECRET_FIELDS = new Set(["apikey", "access_token", "refresh_token", "payload", "delegated_refresh_token"]);

/** Secret-named fields anywhere in a parsed JSON value. */
function secretFieldsOf(v: unknown, out: string[]): void {
    if (Array.isArray(v)) {
        for (const e of v) secretFieldsOf(e, out);
        return;
    }
    if (v === null || typeof v !== "object") return;
    for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
        if (SECRET_FIELDS.has(k) && typeof e === "string" && e.length >= 8) out.push(e);
        else secretFieldsOf(e, out);
    }
}

function familyOf(path: string): "token" | "kms" | "iam" {
    if (path.startsWith("/identity") || path.startsWith("/oidc")) return "token";
    if (path.startsWith("/api/")) return "kms";
    return "iam";
}

function matches(rule: TapRule, method: string, path: string): boolean {
    if (rule.method && rule.method !== "*" && rule.method.toUpperCase() !== method) return false;
    if (rule.path === undefined) return true;
    return typeof rule.path === "string" ? rule.path === path : rule.path.test(path);
}

/** What a careless server would echo: the request line, every header, the raw and the decoded body. */
function dumpOf(method: string, url: string, headers: http.IncomingHttpHeaders, body: string): string {
    const lines = [`${method} ${url}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${Array.isArray(v) ? v.join(", ") : v}`);
    lines.push("", body);
    if ((headers["content-type"] ?? "").includes("x-www-form-urlencoded")) {
        for (const [k, v] of new URLSearchParams(body)) lines.push(`${k} = ${v}`);
    }
    return lines.join("\n");
}

/** The credentials alone, each in plain words (no field name a redactor could key on). */
function credentialsOf(headers: http.IncomingHttpHeaders, body: string): string[] {
    const out: string[] = [];
    const auth = headers.authorization;
    if (typeof auth === "string") out.push(auth, auth.replace(/^Bearer\s+/i, ""));
    const k = headers["iam-apikey"];
    if (typeof k === "string") out.push(k);
    if ((headers["content-type"] ?? "").includes("x-www-form-urlencoded")) {
        const form = new URLSearchParams(body);
        for (const name of ["apikey", "refresh_token"]) {
            const v = form.get(name);
            if (v) out.push(v);
        }
    } else {
        try {
            secretFieldsOf(JSON.parse(body), out);
        } catch {
            /* not JSON */
        }
    }
    return out;
}

function echoBody(family: "token" | "kms" | "iam", status: number, creds: string[], dump: string): unknown {
    const said = creds.length > 0 ? creds.join(" ") : "(no credentials)";
    const message = `Request rejected for credential ${said}; the request was: ${dump}`;
    if (family === "token") {
        return {
            errorCode: "BXNIM0415E",
            errorMessage: `Provided API key could not be found: ${said}`,
            errorDetails: message,
            context: { requestId: `req-${creds[0] ?? "none"}`, url: dump, userAgent: said },
        };
    }
    if (family === "kms") {
        return {
            metadata: { collectionType: "application/vnd.ibm.kms.error+json", collectionTotal: 1 },
            resources: [
                {
                    errorMsg: `Unauthorized: ${said}`,
                    reasons: [
                        {
                            code: "UNAUTHORIZED_ERR",
                            message,
                            status,
                            moreInfo: `https://example.invalid/?token=${encodeURIComponent(creds[0] ?? "")}`,
                            target: { type: "header", name: said },
                        },
                    ],
                },
            ],
        };
    }
    return {
        errors: [
            { code: "echo_error", message_code: "BXNIM9999E", message, details: said, more_info: `https://example.invalid/${encodeURIComponent(said)}` },
            { code: "second", message: `also: ${said}` },
        ],
        status_code: status,
        trace: `trace-${creds[0] ?? "none"}`,
    };
}

/** Starts the tap in front of `target` (the emulator's URL). */
export async function startSecretTap(target: string): Promise<SecretTap> {
    const targetUrl = new URL(target);
    const seen = new Set<string>();
    let rules: Array<TapRule & { left: number }> = [];
    const fired: { [kind: string]: number } = {};
    let requests = 0;
    const record = (values: string[]) => {
        for (const v of values) if (v.length >= 8) seen.add(v);
    };

    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            requests++;
            const body = Buffer.concat(chunks).toString("utf8");
            const method = (req.method ?? "GET").toUpperCase();
            const pathOnly = (req.url ?? "/").split("?")[0].replace(/\/+$/, "") || "/";
            const creds = credentialsOf(req.headers, body);
            record(creds.filter((c) => !/^Bearer\s/i.test(c)));

            const rule = pathOnly.startsWith("/__emulator") ? undefined : rules.find((r) => r.left > 0 && matches(r, method, pathOnly));
            if (rule) {
                rule.left--;
                fired[rule.action.kind] = (fired[rule.action.kind] ?? 0) + 1;
            }
            const action = rule?.action;
            if (action?.kind === "reset") {
                req.socket.destroy();
                return;
            }
            if (action?.kind === "hang") return;
            if (action?.kind === "echo" || action?.kind === "echo-text") {
                const dump = dumpOf(method, req.url ?? "/", req.headers, body);
                const headers: http.OutgoingHttpHeaders = {
                    // The trace a client falls back to when the body has none.
                    "transaction-id": `t-${creds[creds.length - 1] ?? "none"}`,
                    "www-authenticate": `Bearer error="invalid_token", error_description="${creds.join(" ")}"`,
                };
                if (action.retryAfter !== undefined) headers["retry-after"] = action.retryAfter;
                if (action.kind === "echo") {
                    headers["content-type"] = "application/json";
                    res.writeHead(action.status, headers);
                    res.end(JSON.stringify(echoBody(familyOf(pathOnly), action.status, creds, dump)));
                } else {
                    headers["content-type"] = "text/plain";
                    res.writeHead(action.status, headers);
                    res.end(`${"x".repeat(action.pad ?? 0)}${creds.join(" ")}\n${dump}`);
                }
                return;
            }

            // Forward to the emulator.
            const fwd = http.request(
                {
                    host: targetUrl.hostname,
                    port: targetUrl.port,
                    method,
                    path: req.url,
                    headers: { ...req.headers, host: targetUrl.host },
                },
                (up) => {
                    const out: Buffer[] = [];
                    up.on("data", (c: Buffer) => out.push(c));
                    up.on("end", () => {
                        const text = Buffer.concat(out).toString("utf8");
                        try {
                            const found: string[] = [];
                            secretFieldsOf(JSON.parse(text), found);
                            record(found.filter((v) => v !== "not_supported"));
                        } catch {
                            /* not JSON */
                        }
                        if (action?.kind === "reset-after") {
                            req.socket.destroy();
                            return;
                        }
                        const headers = { ...up.headers };
                        delete headers["content-length"];
                        delete headers["transfer-encoding"];
                        const sent = action?.kind === "malformed" ? text.slice(0, Math.max(1, Math.floor(text.length / 2))) : text;
                        if (action?.kind === "malformed") headers["content-type"] = "application/json";
                        res.writeHead(up.statusCode ?? 502, { ...headers, "content-length": String(Buffer.byteLength(sent)) });
                        res.end(sent);
                    });
                },
            );
            fwd.on("error", () => req.socket.destroy());
            fwd.end(body);
        });
    });
    server.keepAliveTimeout = 2000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
        url: `http://127.0.0.1:${port}`,
        values: () => [...seen].sort((a, b) => b.length - a.length),
        setRules(r) {
            rules = r.map((x) => ({ ...x, left: x.count ?? Number.POSITIVE_INFINITY }));
        },
        fired,
        get requests() {
            return requests;
        },
        addSecret: (v) => record([v]),
        stop() {
            server.closeAllConnections();
            return new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

// ---------------------------------------------------------------------------------------------
// Searching output for secrets

/**
 * A made-up 44-character API key that says what it is: `label` then characters derived from it, so
 * no two keys share a recognizable piece (the search also looks for a key's first and last 16).
 */
export function distinctive(label: string): string {
    return `${label}${crypto.createHash("sha256").update(label).digest("base64url")}`.slice(0, 44);
}

/** Every form in which a secret could show: whole, URL-encoded, base64, and recognizable pieces
 * (a JWT's header+payload prefix, its payload and signature; an API key's halves). */
export function needlesFor(secret: string): string[] {
    const out = new Set<string>([secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64")]);
    const parts = secret.split(".");
    if (parts.length === 3 && secret.startsWith("eyJ")) {
        out.add(`${parts[0]}.${parts[1].slice(0, 16)}`);
        out.add(parts[1]);
        out.add(parts[2]);
    } else if (secret.length >= 32) {
        out.add(secret.slice(0, 16));
        out.add(secret.slice(-16));
    }
    // A piece must be recognizable: long enough, and not a run of a few repeated characters.
    return [...out].filter((n) => n.length >= 12 && new Set(n).size >= 6);
}

/** A JWT (header.payload…) of any issuer: no output may hold one. */
const ANY_JWT = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}/;

export interface Leak {
    /** Where the text came from. */
    source: string;
    /** Which secret (shortened) and in what form. */
    needle: string;
    /** The text around it. */
    context: string;
}

/** Searches `text` for every form of every secret, and for anything JWT-shaped. */
export function findLeaks(source: string, text: string, secrets: Iterable<string>): Leak[] {
    const leaks: Leak[] = [];
    for (const secret of secrets) {
        for (const needle of needlesFor(secret)) {
            const i = text.indexOf(needle);
            if (i >= 0) {
                // The report itself must not print the secret: it is masked in the context shown.
                const context = text
                    .slice(Math.max(0, i - 80), i + needle.length + 40)
                    .split(needle)
                    .join("<SECRET>");
                leaks.push({
                    source,
                    needle: `${needle === secret ? "whole" : "piece"} of a ${secret.length}-char secret starting ${secret.slice(0, 4)}…`,
                    context,
                });
                break;
            }
        }
    }
    const jwt = ANY_JWT.exec(text);
    if (jwt) leaks.push({ source, needle: "a JWT", context: `${text.slice(Math.max(0, jwt.index - 80), jwt.index)}<JWT>` });
    return leaks;
}

/** A readable list for an assertion message: one entry per error path, with the renderings that leaked. */
export function describeLeaks(leaks: Leak[], max = 40): string {
    const byPath = new Map<string, Leak[]>();
    for (const l of leaks) {
        const path = l.source.replace(/ \[.*$/, "");
        byPath.set(path, [...(byPath.get(path) ?? []), l]);
    }
    const lines = [...byPath].slice(0, max).map(([path, ls]) => {
        const where = [...new Set(ls.map((l) => /\[(.*)\]$/.exec(l.source)?.[1] ?? "text"))].join(", ");
        return `- ${path} (${where}): ${ls[0].needle}\n    …${ls[0].context.replace(/\s+/g, " ")}…`;
    });
    if (byPath.size > max) lines.push(`… and ${byPath.size - max} more error paths`);
    return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Collecting everything an error path shows

/** Every way an error gets shown: String(), message, stack, util.inspect (plain and showHidden),
 * JSON.stringify (enumerable and all own properties), and the same for its cause chain. */
export function renderError(err: unknown, depth = 0): string[] {
    const out: string[] = [String(err)];
    if (err === null || (typeof err !== "object" && typeof err !== "function")) return out;
    const e = err as Record<string, unknown>;
    out.push(String(e.message), String(e.stack));
    out.push(util.inspect(err, { depth: 20 }), util.inspect(err, { depth: 20, showHidden: true }));
    try {
        out.push(JSON.stringify(err));
    } catch {
        /* circular */
    }
    const all: Record<string, unknown> = {};
    for (const k of Object.getOwnPropertyNames(err)) all[k] = e[k];
    try {
        out.push(JSON.stringify(all));
    } catch {
        /* circular */
    }
    if (e.cause !== undefined && depth < 5) out.push(...renderError(e.cause, depth + 1));
    return out;
}

/** Collects the text of every error path exercised, and what was written to stdout/stderr meanwhile. */
export class Sweep {
    readonly texts: Array<{ source: string; text: string }> = [];
    /** Error paths driven to their failure. */
    readonly paths: string[] = [];

    add(source: string, text: string): void {
        if (text) this.texts.push({ source, text });
    }

    addError(source: string, err: unknown, render: (err: unknown) => string[] = renderError): void {
        render(err).forEach((t, i) => {
            this.add(`${source} [rendering ${i}]`, t);
        });
    }

    /** Runs `fn` with stdout/stderr writes and process warnings captured; it must fail. Returns the error. */
    async fails(label: string, fn: () => Promise<unknown> | unknown, render: (err: unknown) => string[] = renderError): Promise<Error & Record<string, any>> {
        const captured = captureOutput();
        let result: { ok: true } | { ok: false; err: unknown };
        try {
            await fn();
            result = { ok: true };
        } catch (err) {
            result = { ok: false, err };
        } finally {
            // Warnings are emitted on the next tick.
            await new Promise((r) => setImmediate(r));
            this.add(`${label} [console]`, captured.stop());
        }
        if (result.ok) throw new Error(`${label}: expected a failure, but it succeeded`);
        this.paths.push(label);
        this.addError(label, result.err, render);
        return result.err as Error & Record<string, any>;
    }

    /**
     * Runs an error path that may end either way (a create whose answer was lost may be recovered by
     * looking the object up): the error, if any, and the output are collected, and the path counts.
     */
    async attempt(label: string, fn: () => Promise<unknown> | unknown): Promise<unknown> {
        const captured = captureOutput();
        let error: unknown;
        try {
            await fn();
        } catch (err) {
            error = err ?? new Error("rejected without a reason");
        } finally {
            await new Promise((r) => setImmediate(r));
            this.add(`${label} [console]`, captured.stop());
        }
        this.paths.push(label);
        if (error !== undefined) this.addError(label, error);
        return error;
    }

    /** Runs `fn` with output captured; it may succeed (e.g. a call that reports through a hook). */
    async runs<T>(label: string, fn: () => Promise<T> | T): Promise<T> {
        const captured = captureOutput();
        try {
            return await fn();
        } finally {
            await new Promise((r) => setImmediate(r));
            this.add(`${label} [console]`, captured.stop());
        }
    }

    /** Leaks in the texts collected from index `from` on. */
    leaks(secrets: Iterable<string>, from = 0): Leak[] {
        const list = [...secrets];
        return this.texts.slice(from).flatMap((t) => findLeaks(t.source, t.text, list));
    }
}

/** Captures process.stdout/stderr writes (console.* included) and process warnings until stop(). */
export function captureOutput(): { stop(): string } {
    let text = "";
    const out = process.stdout.write;
    const err = process.stderr.write;
    const grab = (chunk: unknown, ...rest: unknown[]) => {
        text += typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
        const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
        cb?.();
        return true;
    };
    process.stdout.write = grab as typeof process.stdout.write;
    process.stderr.write = grab as typeof process.stderr.write;
    const onWarning = (w: Error) => (text += `warning: ${w.name}: ${w.message}\n`);
    process.on("warning", onWarning);
    return {
        stop() {
            process.stdout.write = out;
            process.stderr.write = err;
            process.off("warning", onWarning);
            return text;
        },
    };
}
