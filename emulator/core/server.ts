// HTTP plumbing of the emulator: router, middleware chain, bearer auth. The request context lives in request.ts,
// the envelopes in errors.ts, the table of routes in ../routes.ts.
import * as http from "http";
import { IamError, kmsUnauthorized, notFoundFor, renderError } from "./errors";
import { JwtClaims, TokenSigner } from "./jwt";
import { BodyError, Caller, Ctx, Family } from "./request";
import { StateStore } from "./state";

export type Handler = (ctx: Ctx) => void | Promise<void>;
/**
 * Runs around every request (fault injection, rate limit). `next()` runs the route and always ends with a
 * response (an error is rendered in the family's envelope), which the middleware sees if it set `ctx.capture`.
 */
export type Middleware = (ctx: Ctx, next: () => Promise<void>) => Promise<void>;

interface Route {
    method: string;
    segments: string[];
    family: Family;
    auth: boolean;
    handler: Handler;
}

export interface RouteOptions {
    family: Family;
    /** Needs a valid bearer token signed by this emulator. */
    auth: boolean;
}

const MAX_BODY = 1024 * 1024;

export class Router {
    private readonly routes: Route[] = [];
    private readonly middlewares: Middleware[] = [];

    constructor(
        private readonly store: () => StateStore,
        private readonly signer: () => TokenSigner,
        /** False for a token whose subject is gone for good (a deleted trusted profile). */
        private readonly stillValid: (claims: JwtClaims) => boolean = () => true,
    ) {}

    add(method: string, pattern: string, opts: RouteOptions, handler: Handler): void {
        this.routes.push({ method, segments: pattern.split("/").filter(Boolean), family: opts.family, auth: opts.auth, handler });
    }

    use(mw: Middleware): void {
        this.middlewares.push(mw);
    }

    private match(ctx: Ctx): { route?: Route; methodMismatch: boolean } {
        const parts = ctx.path.split("/").filter(Boolean);
        let methodMismatch = false;
        for (const r of this.routes) {
            if (r.segments.length !== parts.length) continue;
            const params: Record<string, string> = {};
            let ok = true;
            for (let i = 0; i < parts.length; i++) {
                const seg = r.segments[i];
                if (seg.startsWith(":")) {
                    const v = safeDecode(parts[i]);
                    if (v === undefined) {
                        ok = false;
                        break;
                    }
                    params[seg.slice(1)] = v;
                } else if (seg !== parts[i]) {
                    ok = false;
                    break;
                }
            }
            if (!ok) continue;
            if (r.method !== ctx.method) {
                methodMismatch = true;
                continue;
            }
            ctx.params = params;
            return { route: r, methodMismatch: false };
        }
        return { methodMismatch };
    }

    /** The family of a path even when no route matches, so a 404 comes in the right envelope. */
    private familyOf(path: string): Family {
        if (path.startsWith("/__emulator")) return "admin";
        if (path.startsWith("/api/")) return "kms";
        if (path.startsWith("/identity") || path.startsWith("/oidc")) return "token";
        return "iam";
    }

    async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const startedAt = Date.now();
        let ctx: Ctx;
        try {
            ctx = new Ctx(req, res);
        } catch {
            res.writeHead(400).end();
            return;
        }
        ctx.family = this.familyOf(ctx.path);
        try {
            ctx.body = await readBody(req);
            const chain = [...this.middlewares];
            const run = async (i: number): Promise<void> => {
                if (i < chain.length) return chain[i](ctx, () => run(i + 1));
                try {
                    await this.dispatch(ctx);
                } catch (err) {
                    renderError(ctx, err, startedAt);
                }
            };
            await run(0);
            if (!ctx.responded) throw new Error("route produced no response");
        } catch (err) {
            renderError(ctx, err, startedAt);
        }
    }

    private async dispatch(ctx: Ctx): Promise<void> {
        const { route, methodMismatch } = this.match(ctx);
        if (!route) {
            if (methodMismatch) throw notFoundFor(ctx.family, 405, ctx);
            throw notFoundFor(ctx.family, 404, ctx);
        }
        ctx.family = route.family;
        if (route.auth) ctx.caller = this.authenticate(ctx);
        ctx.reachedHandler = true;
        await route.handler(ctx);
    }

    private authenticate(ctx: Ctx): Caller {
        const auth = ctx.header("authorization");
        const kms = ctx.family === "kms";
        if (!auth) {
            if (kms) throw kmsUnauthorized();
            throw new IamError(401, "unauthorized", "No authorization header found", "BXNIM0308E");
        }
        const m = /^Bearer\s+(\S+)$/i.exec(auth);
        if (!m) {
            if (kms) throw kmsUnauthorized();
            throw new IamError(401, "unauthorized", "Authorization header is not a Bearer token", "BXNIM0308E");
        }
        const result = this.signer().verify(m[1]);
        if (!result.ok) {
            if (kms) throw kmsUnauthorized();
            if (result.reason === "expired") throw new IamError(401, "unauthorized", "The provided token is expired.", "BXNIM0410E");
            throw new IamError(401, "unauthorized", "The provided token is invalid.", "BXNIM0302E");
        }
        const claims = result.claims;
        if (!this.stillValid(claims)) {
            if (kms) throw kmsUnauthorized();
            throw new IamError(401, "unauthorized", "The provided token is invalid.", "BXNIM0302E");
        }
        const account = claims.account as { bss?: string } | undefined;
        const store = this.store();
        return {
            iamId: String(claims.iam_id),
            accountId: String(account?.bss ?? ""),
            isOwner: claims.iam_id === store.data.owner.iamId,
            claims,
        };
    }
}

function safeDecode(s: string): string | undefined {
    try {
        return decodeURIComponent(s);
    } catch {
        return undefined;
    }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on("data", (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) {
                reject(new BodyError("request body is larger than 1 MiB"));
                req.destroy();
                return;
            }
            chunks.push(c);
        });
        req.on("end", () => resolve(Buffer.concat(chunks)));
        req.on("error", reject);
    });
}
