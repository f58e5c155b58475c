// The emulator as one object: state, signing key, runtime options and the HTTP server. Handlers see only the
// narrow context of core/context.ts (the admin routes a little more); the routes are the table in routes.ts.
import * as http from "http";
import { AddressInfo } from "net";
import type { AdminContext } from "./admin/handlers";
import { checkFaultRule, checkRateLimit, checkSeed, FaultConfigError, FaultInjector, FaultRule, RateLimit } from "./chaos/faults";
import { Binding, isLoopbackHost, requestGuard } from "./core/guard";
import { TokenSigner } from "./core/jwt";
import { Middleware, Router } from "./core/server";
import { InstanceRecord, KmsInstanceSpec, StateStore } from "./core/state";
import { stillValid } from "./iam/profileTokens";
import { routeTable } from "./routes";

export interface EmulatorOptions {
    port?: number; // 0 = free port (default 0)
    host?: string; // default 127.0.0.1
    /**
     * Needed to bind `host` to an address other machines can reach: the admin routes need no token (anyone who
     * reaches them can reset the account, inject faults, mint service tokens) and the owner key is printed.
     */
    allowRemote?: boolean;
    tokenLifetimeSeconds?: number; // default 3600
    stateFile?: string; // JSON file: loaded at start if present, written after every change
    accountId?: string; // default: generated 32 hex
    ownerApiKey?: string; // default: generated 44-char value
    instances?: KmsInstanceSpec[]; // default: one hs-crypto instance in us-south
    policyPropagationDelayMs?: number; // a new policy only takes effect after this long (default 0)
    /** Lifetime of refresh tokens (issued only to the `bx:bx` client); default 30 days. */
    refreshTokenLifetimeSeconds?: number;
    /** Fault rules applied to IBM paths from the start (see chaos/faults.ts); more can be added at run time. */
    faults?: FaultRule[];
    /** Seed of the PRNG behind rule probabilities (default: random, shown by GET /__emulator/faults). */
    faultSeed?: number;
    /** Token bucket per caller; excess requests get 429 with Retry-After (default: no limit). */
    rateLimit?: RateLimit;
}

export class Emulator implements AdminContext {
    readonly store: StateStore;
    readonly signer: TokenSigner;
    readonly router: Router;
    readonly tokenLifetimeSeconds: number;
    readonly refreshTokenLifetimeSeconds: number;
    readonly policyPropagationDelayMs: number;
    /** Instances as first seeded, restored by `POST /__emulator/reset`. */
    readonly seedInstances: InstanceRecord[];
    readonly faults: FaultInjector;
    tokenRequests = 0;
    /** Address and port once listening: the guard answers only to `Host` names that reach them. */
    bound?: Binding;
    private server?: http.Server;

    constructor(opts: EmulatorOptions) {
        checkOptions(opts);
        this.store = StateStore.open(opts);
        this.signer = new TokenSigner(this.store.data.signingKey.kid, this.store.data.signingKey.privateKeyPem);
        this.tokenLifetimeSeconds = opts.tokenLifetimeSeconds ?? 3600;
        this.refreshTokenLifetimeSeconds = opts.refreshTokenLifetimeSeconds ?? 30 * 24 * 3600;
        this.policyPropagationDelayMs = opts.policyPropagationDelayMs ?? 0;
        this.seedInstances = this.store.data.instances.map((i) => ({ ...i }));
        this.router = new Router(
            () => this.store,
            () => this.signer,
            (claims) => stillValid(this, claims),
        );
        // first: a request from a browser page or to a rebound DNS name is refused before anything counts it
        this.use(requestGuard(() => this.bound));
        // then faults: a request turned away by a fault or the rate limit never reaches later ones
        this.faults = new FaultInjector(opts, () => this.signer);
        this.use(this.faults.middleware);
        for (const [method, path, opts, handler] of routeTable(this)) this.router.add(method, path, opts, handler);
    }

    /** Plugs a per-request middleware in front of every route (fault injection goes here). */
    use(mw: Middleware): void {
        this.router.use(mw);
    }

    listen(port: number, host: string): Promise<string> {
        const server = http.createServer((req, res) => {
            this.router.handle(req, res).catch(() => res.destroy());
        });
        // keep-alive sockets of finished tests must not hold stop() open
        server.keepAliveTimeout = 5000;
        this.server = server;
        return new Promise((resolve, reject) => {
            server.once("error", reject);
            server.listen(port, host, () => {
                server.off("error", reject);
                const addr = server.address() as AddressInfo;
                this.bound = { address: addr.address, port: addr.port };
                const shownHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
                resolve(`http://${shownHost}:${addr.port}`);
            });
        });
    }

    close(): Promise<void> {
        const server = this.server;
        if (!server) return Promise.resolve();
        this.server = undefined;
        this.faults.dropHeld();
        return new Promise((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        });
    }
}

/** Misconfiguration fails at start with the option named, not later as a puzzling 400. */
function checkOptions(o: EmulatorOptions): void {
    const fail = (m: string) => {
        throw new Error(`startEmulator: ${m}`);
    };
    if (o.host !== undefined && !isLoopbackHost(o.host) && o.allowRemote !== true) {
        fail(
            `host ${o.host} is not a loopback address: other machines could then reach the admin routes (no token: reset the account, inject faults, mint service tokens, read the state) and use the owner API key it prints; keep the default 127.0.0.1, or pass allowRemote: true (CLI: --allow-remote) to accept that`,
        );
    }
    if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) fail("port must be an integer 0..65535");
    if (o.tokenLifetimeSeconds !== undefined && (!Number.isInteger(o.tokenLifetimeSeconds) || o.tokenLifetimeSeconds < 1)) {
        fail("tokenLifetimeSeconds must be a whole number of seconds, at least 1");
    }
    if (o.refreshTokenLifetimeSeconds !== undefined && (!Number.isInteger(o.refreshTokenLifetimeSeconds) || o.refreshTokenLifetimeSeconds < 1)) {
        fail("refreshTokenLifetimeSeconds must be a whole number of seconds, at least 1");
    }
    if (o.policyPropagationDelayMs !== undefined && !(o.policyPropagationDelayMs >= 0)) fail("policyPropagationDelayMs must be >= 0");
    if (o.accountId !== undefined && !/^[0-9a-f]{32}$/.test(o.accountId)) fail("accountId must be 32 lowercase hex characters");
    if (o.ownerApiKey !== undefined && (o.ownerApiKey.length < 32 || /\s/.test(o.ownerApiKey))) {
        fail("ownerApiKey must have at least 32 characters and no whitespace");
    }
    for (const i of o.instances ?? []) {
        if (i.service !== "hs-crypto" && i.service !== "kms") fail(`instance service must be hs-crypto or kms, not ${String(i.service)}`);
    }
    try {
        if (o.faults !== undefined) {
            if (!Array.isArray(o.faults)) fail("faults must be an array of fault rules");
            o.faults.forEach((r, i) => {
                checkFaultRule(r, `faults[${i}]`);
            });
        }
        if (o.faultSeed !== undefined) checkSeed(o.faultSeed, "faultSeed");
        if (o.rateLimit !== undefined) checkRateLimit(o.rateLimit, "rateLimit");
    } catch (e) {
        if (e instanceof FaultConfigError) fail(e.message);
        throw e;
    }
}
