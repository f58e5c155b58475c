// Opt-in: `import "../support/failFast";` (or import its helpers) in a test file.
//
// Why: Pulumi reports a failed closure serialization (and other errors inside resource
// registration) as an unhandled promise rejection, while the resource's outputs simply never
// resolve. Mocha 11 traps unhandled rejections from user code and re-emits them on `process`; when
// nothing else listens, Node drops them, so the test waits for an output that never comes and
// fails minutes later with a timeout that says nothing. Importing this module makes such a
// rejection fail the running test at once, with the real error:
// - if something is awaiting through `raceUnhandledRejections` (e.g. `outputValue` in ./mocks),
//   that await rejects with the error;
// - otherwise the rejection is rethrown as an uncaught exception, which mocha charges to the
//   test or hook that is running.

type Waiter = (reason: unknown) => void;

interface FailFastState {
    waiters: Set<Waiter>;
    seenPromises: WeakSet<Promise<unknown>>;
    /** error objects already surfaced */
    reported: WeakSet<object>;
}

// One handler per process even if this file is loaded twice (e.g. from dist and via a symlink).
const KEY = Symbol.for("pulumi-ibmcloud-iam.test.failFast");
const g = globalThis as unknown as Record<symbol, FailFastState | undefined>;

function asError(reason: unknown): Error {
    return reason instanceof Error ? reason : new Error(`unhandled rejection: ${String(reason)}`);
}

function install(): FailFastState {
    const existing = g[KEY];
    if (existing) return existing;
    const state: FailFastState = { waiters: new Set(), seenPromises: new WeakSet(), reported: new WeakSet() };
    g[KEY] = state;
    process.on("unhandledRejection", (reason: unknown, promise: Promise<unknown>) => {
        // Mocha re-emits the same rejection after its own handler: handle it once.
        if (state.seenPromises.has(promise)) return;
        state.seenPromises.add(promise);
        const isObject = reason !== null && (typeof reason === "object" || typeof reason === "function");
        if (state.waiters.size > 0) {
            for (const w of [...state.waiters]) w(reason);
            if (isObject) state.reported.add(reason as object);
            return;
        }
        // Pulumi rejects several promises with one error object when a registration fails (and
        // again for each resource sharing a cached failed provider): throw each error once.
        if (isObject) {
            if (state.reported.has(reason as object)) return;
            state.reported.add(reason as object);
        }
        process.nextTick(() => {
            throw asError(reason);
        });
    });
    return state;
}

const state = install();

/** Resolves or rejects like `p`, but rejects at once if any unhandled rejection happens meanwhile,
 * and after `timeoutMs` with a message naming `what`. */
export function raceUnhandledRejections<T>(p: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        const done = () => {
            clearTimeout(timer);
            state.waiters.delete(waiter);
        };
        const waiter: Waiter = (reason) => {
            done();
            const e = asError(reason);
            reject(new Error(`${what}: an unhandled rejection happened while waiting: ${e.message}`, { cause: e }));
        };
        const timer = setTimeout(() => {
            done();
            reject(new Error(`${what}: still pending after ${timeoutMs} ms`));
        }, timeoutMs);
        state.waiters.add(waiter);
        p.then(
            (v) => {
                done();
                resolve(v);
            },
            (e: unknown) => {
                done();
                reject(e);
            },
        );
    });
}

/** For tests that expect one: resolves with the reason of the next unhandled rejection (which
 * then fails nothing), rejects after `timeoutMs`. */
export function nextUnhandledRejection(timeoutMs = 10_000): Promise<unknown> {
    return new Promise((resolve, reject) => {
        const waiter: Waiter = (reason) => {
            clearTimeout(timer);
            state.waiters.delete(waiter);
            resolve(reason);
        };
        const timer = setTimeout(() => {
            state.waiters.delete(waiter);
            reject(new Error(`no unhandled rejection within ${timeoutMs} ms`));
        }, timeoutMs);
        state.waiters.add(waiter);
    });
}
