// Drives dynamic providers through the REAL dynamic-provider plugin shipped in @pulumi/pulumi, over
// gRPC, with `__provider` serialized by the same function and arguments Pulumi uses, of the same
// object our resources hand to `dynamic.Resource` (provider/dynamicProvider.ts: a thin by-name provider
// when the package resolves from the plugin's cwd, else the provider by value). This is the only test
// layer that catches closure-serialization failures (setMocks never runs the provider).
//
//   let plugin: RunningPlugin;
//   before(async () => { plugin = await startPlugin({ config: { "ibmcloud:apiKey": emu.apiKey }, secretKeys: ["ibmcloud:apiKey"] }); });
//   after(() => plugin?.stop());
//   it("creates", async () => {
//     const provider = serviceIdProvider;                  // the exported object: sent as the resource sends it
//     const { inputs, failures } = await plugin.check(provider, {}, { name: "app" });
//     const { id, outs } = await plugin.create(provider, inputs);
//     await plugin.delete(provider, id, outs);
//   });
//
// Where a provider that cannot be serialized fails: here, in this process, when the wrapper
// serializes it (the promise rejects with Pulumi's "Error serializing '() => provider' ... captured
// variable 'x' ... could not be serialized because ..."; no gRPC call is made). Providers that
// serialize but copied an npm package by value fail inside the plugin at their first call
// (PluginCallError). Through `new dynamic.Resource` the first kind surfaces as an unhandled
// rejection instead: see test/support/failFast.ts.
//
// What the 3.248 plugin does, read from node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js:
// - argv[2] (the engine address) is only checked to be present; it is never dialed. `pulumi.log`
//   inside the plugin goes to the engine named by PULUMI_NODEJS_ENGINE (unset: console).
// - Configure reads ONLY `args` (the Struct); `variables` are ignored. A request without `args`
//   throws inside an async handler, so the callback never runs and the call hangs to its deadline.
//   Each arg is unwrapped if it is a secret envelope, and becomes `req.config` of every
//   provider's `configure()` (called once per distinct `__provider` text per process).
// - `req.config.get("key")` without a namespace looks up `<project>:key`, and inside the plugin the
//   project is PULUMI_NODEJS_PROJECT or the literal "project": always use namespaced keys.
// - Check/Diff/Read/Delete failures reach the caller as gRPC UNKNOWN with the thrown message (the
//   stack goes to the plugin's stderr); Create/Update failures too, and an error carrying `id`
//   comes back as pulumirpc.ErrorResourceInitFailed in the `grpc-status-details-bin` trailer.
import { ChildProcess, spawn } from "child_process";
import { createRequire } from "module";
import type * as SerializeClosureModule from "@pulumi/pulumi/runtime/closure/serializeClosure";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as statusproto from "@pulumi/pulumi/proto/status_pb";
import type * as GrpcModule from "@grpc/grpc-js";
import type * as StructModule from "google-protobuf/google/protobuf/struct_pb";
import type { ResourceProvider } from "@pulumi/pulumi/dynamic";
import { providerForDeployment } from "../../provider/dynamicProvider";
import { secretInput } from "../support/pulumiWire";
import { REPO_ROOT } from "../../scripts/lib/repoRoot";
import { killProcessGroup } from "../../scripts/lib/process";

// Load grpc-js and google-protobuf exactly as @pulumi/pulumi resolves them (they are its
// dependencies, not ours): credentials and Struct must be the instances the proto classes use.
const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi/package.json"));
/** @grpc/grpc-js as the plugin and the proto classes load it (for raw calls on `client`). */
export const grpc: typeof GrpcModule = pulumiRequire("@grpc/grpc-js");
const structproto: typeof StructModule = pulumiRequire("google-protobuf/google/protobuf/struct_pb");

/** The engine's "unknown" sentinel: how a preview value that depends on other resources arrives. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** The input key carrying the serialized provider. */
export const PROVIDER_KEY = "__provider";

export type Props = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Serialization: the same function, arguments and per-object cache as @pulumi/pulumi/dynamic.

export interface SerializedProvider {
    text: string;
    /** true when the provider captured a secret Output: the engine then stores `__provider` secret. */
    containsSecrets: boolean;
}

// Pulumi caches per provider object (WeakMap keyed by identity) and keeps a failed result too.
const providerCache = new WeakMap<object, Promise<SerializedProvider>>();

/**
 * Serializes what a resource of ours hands to `new dynamic.Resource` for `provider`, as Pulumi does
 * (`serializeFunction(() => sent, {allowSecrets: true})`): the resources pass
 * `providerForDeployment(provider)` (provider/dynamicProvider.ts), which is a thin by-name provider
 * when the package resolves from the program's directory, else `provider` itself (by value). `cwd`
 * is that directory: the plugin's (the engine starts both there). Providers that are not exported by
 * a module of provider/ (test fixtures) are always sent by value, as a resource built on them would.
 */
export function serializeProvider(provider: object, cwd: string = REPO_ROOT): Promise<SerializedProvider> {
    return serializeExactly(providerForDeployment(provider as ResourceProvider, cwd));
}

/** Serializes exactly this object (no by-name substitution). */
export function serializeExactly(provider: object): Promise<SerializedProvider> {
    let cached = providerCache.get(provider);
    if (!cached) {
        // Loaded on demand as dynamic/index.js does: it pulls in TypeScript and takes ~0.5 s.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const sc: typeof SerializeClosureModule = require("@pulumi/pulumi/runtime/closure/serializeClosure");
        cached = sc
            .serializeFunction(() => provider, { allowSecrets: true })
            .then((sf) => ({
                text: sf.text,
                containsSecrets: sf.containsSecrets,
            }));
        cached.catch(() => undefined); // the caller sees the rejection; the cache must not raise an unhandled one
        providerCache.set(provider, cached);
    }
    return cached;
}

// ---------------------------------------------------------------------------------------------
// Errors

export interface PartialState {
    /** id of the object the provider created before failing */
    id: string;
    properties: Props;
    reasons: string[];
}

/** A failed gRPC call to the plugin, with the plugin's own message. */
export class PluginCallError extends Error {
    constructor(
        readonly method: string,
        /** gRPC status code (2 = UNKNOWN for anything a provider throws, 4 = DEADLINE_EXCEEDED) */
        readonly code: number,
        /** the message as the plugin sent it (the provider's `error.message`) */
        readonly details: string,
        /** what the plugin wrote to stderr during the call (it logs the stack for check/diff/read/delete);
         * best effort: the pipe may lag the gRPC answer by a few ms, `plugin.stderr()` has it all */
        readonly stderr: string,
        /** create/update errors that carried an `id`: the partially created resource the engine would record */
        readonly partial?: PartialState,
    ) {
        super(`${method}: ${details}`);
        this.name = "PluginCallError";
    }
}

// ---------------------------------------------------------------------------------------------
// Struct conversion: drop what the Node SDK drops before the engine ever sees it.

/** Mirrors runtime/rpc.serializeProperty: object keys with undefined (or function) values are
 * omitted, undefined array elements become null. */
function toWireValue(v: unknown): unknown {
    if (v === undefined || typeof v === "function") return undefined;
    if (Array.isArray(v)) return v.map((e) => (e === undefined || typeof e === "function" ? null : toWireValue(e)));
    if (v !== null && typeof v === "object") {
        const out: Props = {};
        for (const [k, e] of Object.entries(v as Props)) {
            const w = toWireValue(e);
            if (w !== undefined) out[k] = w;
        }
        return out;
    }
    return v;
}

function toStruct(props: Props): StructModule.Struct {
    return structproto.Struct.fromJavaScript(toWireValue(props) as Record<string, StructModule.JavaScriptValue>);
}

function fromStruct(s: StructModule.Struct | undefined): Props {
    return s ? (s.toJavaScript() as Props) : {};
}

function withoutProvider(props: Props): Props {
    const { [PROVIDER_KEY]: _ignored, ...rest } = props;
    return rest;
}

// ---------------------------------------------------------------------------------------------
// Plugin process

export interface StartPluginOptions {
    /**
     * cwd of the plugin, which the engine also gives the program: `require("x")` in a provider resolves
     * from here, and our providers are sent by name (thin) when the package resolves from here, by
     * value otherwise (see serializeProvider). Default: the repo root (by name, via self-reference).
     */
    cwd?: string;
    /** Stack config as the engine holds it: full "namespace:key" → string value. */
    config?: Record<string, string>;
    /** Keys of `config` that are secret: the engine sends them wrapped as secrets in `args`. */
    secretKeys?: string[];
    /** Extra environment for the plugin (it inherits this process's environment otherwise). */
    env?: Record<string, string | undefined>;
    /** argv[2] of the plugin. It is only checked to be present; default "127.0.0.1:1". */
    engineAddress?: string;
    /** Per-call gRPC deadline (ms): a hung plugin surfaces as DEADLINE_EXCEEDED. Default 20 000. */
    callTimeoutMs?: number;
    /** How long to wait for the port line (ms). Default 20 000. */
    startTimeoutMs?: number;
}

export interface CheckResult {
    /** checked inputs, without `__provider` */
    inputs: Props;
    failures: { property: string; reason: string }[];
}
export interface DiffResult {
    /** what the engine sees: "unknown" means the provider left `changes` undefined (or has no diff) and
     * the engine compares inputs itself, `__provider` included */
    changes: "some" | "none" | "unknown";
    replaces: string[];
    deleteBeforeReplace: boolean;
}
export interface CreateResult {
    id: string;
    /** outputs, without `__provider` */
    outs: Props;
}
export interface ReadResult {
    /** empty string: the resource is gone */
    id: string;
    props: Props;
    /** only when the provider returned `inputs` */
    inputs?: Props;
}
export interface UpdateResult {
    outs: Props;
}

export interface RunningPlugin {
    readonly pid: number;
    readonly port: number;
    /** Configure's answer (the 3.248 plugin always says false: methods see plaintext). */
    readonly acceptSecrets: boolean;
    readonly client: provrpc.ResourceProviderClient;
    /** everything the plugin wrote to stdout after its port line, and to stderr */
    readonly stdout: () => string;
    readonly stderr: () => string;

    /** `olds` = previous inputs ({} on create), `news` = new inputs. */
    check(provider: object, olds: Props, news: Props): Promise<CheckResult>;
    /** `olds` = previous outputs, `news` = checked inputs. */
    diff(provider: object, id: string, olds: Props, news: Props): Promise<DiffResult>;
    create(provider: object, inputs: Props): Promise<CreateResult>;
    /** `props` = state outputs, `inputs` = state inputs (what refresh sends). */
    read(provider: object, id: string, props: Props, inputs?: Props): Promise<ReadResult>;
    /** `olds` = previous outputs, `news` = checked inputs. */
    update(provider: object, id: string, olds: Props, news: Props): Promise<UpdateResult>;
    /** `props` = state outputs. */
    delete(provider: object, id: string, props: Props): Promise<void>;
    /** Kills the plugin's whole process group and closes the client. Idempotent. */
    stop(): Promise<void>;
}

// Every plugin still running, so that nothing outlives the test process.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
    if (exitHookInstalled) return;
    exitHookInstalled = true;
    process.on("exit", () => {
        for (const child of live) killProcessGroup(child.pid, "SIGKILL");
    });
    // Node's default SIGINT/SIGTERM handling skips "exit" listeners: kill the plugins, then let the
    // default action happen if nobody else handles the signal.
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.once(sig, () => {
            for (const child of live) killProcessGroup(child.pid, "SIGKILL");
            if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
        });
    }
}

export { REPO_ROOT };

/** Path of the plugin entry point the `pulumi-resource-pulumi-nodejs` script runs. */
export const PLUGIN_ENTRY = require.resolve("@pulumi/pulumi/cmd/dynamic-provider");

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
    return new Promise((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        child.once("exit", () => {
            clearTimeout(t);
            resolve(true);
        });
    });
}

export async function startPlugin(opts: StartPluginOptions = {}): Promise<RunningPlugin> {
    installExitHook();
    const callTimeoutMs = opts.callTimeoutMs ?? 20_000;
    const cwd = opts.cwd ?? REPO_ROOT;
    const child = spawn(process.execPath, [PLUGIN_ENTRY, opts.engineAddress ?? "127.0.0.1:1"], {
        cwd,
        env: { ...process.env, ...opts.env },
        detached: true, // own process group: stop() kills whatever the provider spawned too
        stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid === undefined) {
        const err = await new Promise<Error>((resolve) => child.once("error", resolve));
        throw new Error(`could not spawn the dynamic-provider plugin: ${err.message}`);
    }
    live.add(child);
    child.once("exit", () => live.delete(child));
    // A forgotten stop() must not keep mocha alive; the exit hook kills the plugin then.
    child.unref();

    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (d: string) => (err += d));
    (child.stdout as unknown as { unref(): void }).unref();
    (child.stderr as unknown as { unref(): void }).unref();

    let port: number;
    try {
        port = await new Promise<number>((resolve, reject) => {
            const timer = setTimeout(
                () => reject(new Error(`plugin printed no port within ${opts.startTimeoutMs ?? 20_000} ms; stderr: ${err}`)),
                opts.startTimeoutMs ?? 20_000,
            );
            const onData = (d: string) => {
                out += d;
                const nl = out.indexOf("\n");
                if (nl < 0) return;
                const line = out.slice(0, nl).trim();
                out = out.slice(nl + 1);
                child.stdout!.off("data", onData);
                child.stdout!.on("data", (more: string) => (out += more));
                clearTimeout(timer);
                const p = Number(line);
                if (!Number.isInteger(p) || p <= 0) reject(new Error(`plugin's first stdout line is not a port: ${JSON.stringify(line)}`));
                else resolve(p);
            };
            child.stdout!.on("data", onData);
            child.once("exit", (code, signal) => {
                clearTimeout(timer);
                reject(new Error(`plugin exited before printing its port (code ${code}, signal ${signal}); stderr: ${err}`));
            });
        });
    } catch (e) {
        killProcessGroup(child.pid, "SIGKILL");
        await waitForExit(child, 5_000);
        throw e;
    }

    const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

    let stopped = false;
    async function stop(): Promise<void> {
        if (stopped) return;
        stopped = true;
        client.close();
        killProcessGroup(child.pid, "SIGTERM");
        if (!(await waitForExit(child, 3_000))) {
            killProcessGroup(child.pid, "SIGKILL");
            await waitForExit(child, 5_000);
        }
        killProcessGroup(child.pid, "SIGKILL"); // anything the provider spawned into the group
        live.delete(child);
    }

    /** Runs one unary call with a deadline and turns gRPC errors into PluginCallError. */
    function call<Req, Res>(
        method: string,
        fn: (req: Req, md: GrpcModule.Metadata, o: Partial<GrpcModule.CallOptions>, cb: (e: GrpcModule.ServiceError | null, r: Res) => void) => unknown,
        req: Req,
    ): Promise<Res> {
        if (stopped) return Promise.reject(new Error(`${method}: plugin already stopped`));
        const errMark = err.length;
        return new Promise<Res>((resolve, reject) => {
            fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + callTimeoutMs }, (e, res) => {
                if (!e) return resolve(res);
                reject(new PluginCallError(method, e.code, e.details, err.slice(errMark), decodePartial(e.metadata)));
            });
        });
    }

    // Configure exactly as the engine does for the default `pulumi-nodejs` provider: the whole stack
    // config with namespaces kept (Target.GetPackageConfig), as `args` (secrets wrapped, since the
    // engine marshals with KeepSecrets) and as legacy `variables` ("<pkg>:config:<key>", plaintext).
    const secretKeys = new Set(opts.secretKeys ?? []);
    const args: Props = {};
    const creq = new provproto.ConfigureRequest();
    for (const [k, v] of Object.entries(opts.config ?? {})) {
        args[k] = secretKeys.has(k) ? secretInput(v) : v;
        creq.getVariablesMap().set(`pulumi-nodejs:config:${k}`, v);
    }
    creq.setArgs(toStruct(args)); // never omitted: without args the plugin never answers
    creq.setAcceptsecrets(true);
    creq.setAcceptresources(true);
    creq.setSendsOldInputs(true);
    creq.setSendsOldInputsToDelete(true);
    creq.setUrn("urn:pulumi:test::pulumi-ibmcloud-iam::pulumi:providers:pulumi-nodejs::default");
    creq.setName("default");
    creq.setType("pulumi:providers:pulumi-nodejs");
    let acceptSecrets: boolean;
    try {
        const cres = await call<provproto.ConfigureRequest, provproto.ConfigureResponse>("configure", client.configure, creq);
        acceptSecrets = cres.getAcceptsecrets();
    } catch (e) {
        await stop();
        throw e;
    }

    const urn = "urn:pulumi:test::pulumi-ibmcloud-iam::pulumi-nodejs:dynamic:Resource::harness";
    function stamp<R extends { setUrn(u: string): R; setName(n: string): R; setType(t: string): R }>(r: R): R {
        return r.setUrn(urn).setName("harness").setType("pulumi-nodejs:dynamic:Resource");
    }

    /** Adds the serialized provider unless the caller passed state that already carries one
     * (e.g. state written by older provider code: delete and refresh run that code). */
    async function withProvider(provider: object, props: Props): Promise<Props> {
        if (PROVIDER_KEY in props) return props;
        return { ...props, [PROVIDER_KEY]: (await serializeProvider(provider, cwd)).text };
    }

    return {
        pid: child.pid,
        port,
        acceptSecrets,
        client,
        stdout: () => out,
        stderr: () => err,

        async check(provider, olds, news) {
            const req = stamp(new provproto.CheckRequest());
            // On create the engine sends empty olds; otherwise the old inputs, which carry a __provider.
            req.setOlds(toStruct(Object.keys(olds).length === 0 ? olds : await withProvider(provider, olds)));
            req.setNews(toStruct(await withProvider(provider, news)));
            req.setRandomseed(Buffer.alloc(32));
            const res = await call<provproto.CheckRequest, provproto.CheckResponse>("check", client.check, req);
            return {
                inputs: withoutProvider(fromStruct(res.getInputs())),
                failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
            };
        },

        async diff(provider, id, olds, news) {
            const req = stamp(new provproto.DiffRequest());
            req.setId(id);
            req.setOlds(toStruct(await withProvider(provider, olds)));
            req.setNews(toStruct(await withProvider(provider, news)));
            const res = await call<provproto.DiffRequest, provproto.DiffResponse>("diff", client.diff, req);
            const C = provproto.DiffResponse.DiffChanges;
            const changes = res.getChanges() === C.DIFF_SOME ? "some" : res.getChanges() === C.DIFF_NONE ? "none" : "unknown";
            return { changes, replaces: res.getReplacesList(), deleteBeforeReplace: res.getDeletebeforereplace() };
        },

        async create(provider, inputs) {
            const req = stamp(new provproto.CreateRequest());
            req.setProperties(toStruct(await withProvider(provider, inputs)));
            req.setTimeout(0);
            req.setPreview(false); // the plugin does not support preview: the engine never calls Create then
            const res = await call<provproto.CreateRequest, provproto.CreateResponse>("create", client.create, req);
            return { id: res.getId(), outs: withoutProvider(fromStruct(res.getProperties())) };
        },

        async read(provider, id, props, inputs) {
            const req = stamp(new provproto.ReadRequest());
            req.setId(id);
            req.setProperties(toStruct(await withProvider(provider, props)));
            if (inputs) req.setInputs(toStruct(await withProvider(provider, inputs)));
            const res = await call<provproto.ReadRequest, provproto.ReadResponse>("read", client.read, req);
            const result: ReadResult = { id: res.getId(), props: withoutProvider(fromStruct(res.getProperties())) };
            if (res.hasInputs()) result.inputs = withoutProvider(fromStruct(res.getInputs()));
            return result;
        },

        async update(provider, id, olds, news) {
            const req = stamp(new provproto.UpdateRequest());
            req.setId(id);
            req.setOlds(toStruct(await withProvider(provider, olds)));
            req.setNews(toStruct(await withProvider(provider, news)));
            req.setTimeout(0);
            req.setPreview(false);
            const res = await call<provproto.UpdateRequest, provproto.UpdateResponse>("update", client.update, req);
            return { outs: withoutProvider(fromStruct(res.getProperties())) };
        },

        async delete(provider, id, props) {
            const req = stamp(new provproto.DeleteRequest());
            req.setId(id);
            req.setProperties(toStruct(await withProvider(provider, props)));
            req.setTimeout(0);
            await call<provproto.DeleteRequest, unknown>("delete", client.delete, req);
        },

        stop,
    };
}

/** Reads the ErrorResourceInitFailed the plugin packs into `grpc-status-details-bin` when a create
 * or update error carries an `id` (a partially created resource). */
function decodePartial(md: GrpcModule.Metadata | undefined): PartialState | undefined {
    const bin = md?.get("grpc-status-details-bin")[0];
    if (!bin || typeof bin === "string") return undefined;
    const status = statusproto.Status.deserializeBinary(bin);
    for (const any of status.getDetailsList()) {
        const detail = any.unpack(provproto.ErrorResourceInitFailed.deserializeBinary, "pulumirpc.ErrorResourceInitFailed");
        if (detail) {
            return {
                id: detail.getId(),
                properties: withoutProvider(fromStruct(detail.getProperties())),
                reasons: detail.getReasonsList(),
            };
        }
    }
    return undefined;
}
