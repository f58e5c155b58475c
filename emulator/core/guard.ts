// Who may drive the emulator: only its user. A web page open on the same machine can send requests to a loopback
// port (a cross-site form or `fetch` with a simple content type, or a DNS name rebound to 127.0.0.1); the admin
// routes need no token, so they must tell those requests apart from the user's own curl, tests and SDKs.
import * as net from "net";
import * as os from "os";
import { header } from "./request";
import { Middleware } from "./server";
import { AdminError } from "./errors";

/** Where the server listens, known once `listen` has bound. */
export interface Binding {
    address: string;
    port: number;
}

/** True for 127.0.0.0/8, ::1 and the name `localhost`: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
    const h = host.replace(/^\[|\]$/g, "").toLowerCase();
    if (h === "localhost" || h === "::1" || h === "::ffff:127.0.0.1") return true;
    return net.isIPv4(h) && h.startsWith("127.");
}

/** `Host` split into name and port (a bracketed IPv6 literal keeps no brackets); undefined when malformed. */
function splitHost(value: string): { name: string; port?: number } | undefined {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value.trim());
    if (!m) return undefined;
    return { name: m[1].replace(/^\[|\]$/g, "").toLowerCase(), port: m[2] === undefined ? undefined : Number(m[2]) };
}

/**
 * The names a client may put in `Host`. Bound to loopback: loopback names and addresses only, so a DNS name an
 * attacker rebinds to 127.0.0.1 is refused. Bound elsewhere (allowRemote): IP literals, `localhost` and this
 * machine's host name, still no other DNS name.
 */
export function hostAllowed(value: string | undefined, bound: Binding): boolean {
    // HTTP/1.0 without Host: no browser sends that
    if (value === undefined) return true;
    const h = splitHost(value);
    if (!h) return false;
    if ((h.port ?? 80) !== bound.port) return false;
    if (isLoopbackHost(bound.address)) return isLoopbackHost(h.name);
    return net.isIP(h.name) !== 0 || h.name === "localhost" || h.name === os.hostname().toLowerCase();
}

const JSON_TYPE = /^application\/([\w.+-]+\+)?json$/i;

/**
 * First middleware. Every path: a `Host` the emulator does not answer to gets 421. Admin paths (`/__emulator/…`):
 * a browser's cross-site marks (`Origin` other than the emulator's own, `Sec-Fetch-Site` other than same-origin or
 * none) get 403, and a body that is not JSON (the content types a page may send without a CORS preflight) gets 415.
 */
export function requestGuard(binding: () => Binding | undefined): Middleware {
    return async (ctx, next) => {
        const bound = binding();
        const host = header(ctx.req, "host");
        if (bound && !hostAllowed(host, bound)) {
            throw new AdminError(
                421,
                `Host ${JSON.stringify(host)} is not a name this emulator answers to: use the URL it printed (http://${showHost(bound)}) or another loopback name such as localhost`,
            );
        }
        if (ctx.family === "admin") {
            const origin = header(ctx.req, "origin");
            if (origin !== undefined && origin !== `http://${host}`) {
                throw new AdminError(
                    403,
                    `admin routes refuse cross-origin requests (Origin ${JSON.stringify(origin)}): call them from curl, a test or a script`,
                );
            }
            const site = header(ctx.req, "sec-fetch-site");
            if (site !== undefined && site !== "same-origin" && site !== "none") {
                throw new AdminError(403, `admin routes refuse requests a browser marks Sec-Fetch-Site: ${site}`);
            }
            if (ctx.method !== "GET" && ctx.method !== "DELETE" && ctx.method !== "HEAD") {
                const type = header(ctx.req, "content-type");
                const media = type?.split(";")[0].trim();
                if ((type !== undefined || ctx.body.length > 0) && !(media && JSON_TYPE.test(media))) {
                    throw new AdminError(415, `admin routes take JSON: send Content-Type: application/json (got ${JSON.stringify(type ?? "none")})`);
                }
            }
        }
        await next();
    };
}

function showHost(b: Binding): string {
    const a = net.isIPv6(b.address) ? `[${b.address}]` : b.address;
    return `${a}:${b.port}`;
}
