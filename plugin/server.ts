// The provider plugin's gRPC server, on the generated stubs shipped in @pulumi/pulumi. It is ours rather than
// `@pulumi/pulumi/provider`'s `main()` because that server drops the provider configuration: its Configure ignores
// the request and CheckConfig/DiffConfig answer UNIMPLEMENTED, so neither stack config nor the arguments of an
// explicit provider (one per account) would ever reach the resources. Modelled on the SDK's dynamic-provider
// server: resource references arrive as ids and previews are planned by the engine. Secrets are accepted, because
// the engine lets only such a provider construct components (KmsAccess, plugin/component.ts): they are unwrapped
// for the providers, and every answer keeps the secret bit of each property the request had secret, as the
// engine itself does for providers that refuse secrets.
//
// One plugin process serves one provider configuration: the engine starts a process per provider (the default
// one and each explicit one), so the per-resource provider objects, each with its CloudSession, are configured
// once per process.
//
// Start-up is paid by every operation, so the plugin starts on gRPC and Pulumi's protos alone: a resource's module
// is loaded on the first request for its type (plugin/resources.ts), the functions on the first Invoke, and the
// KmsAccess component, with @pulumi/pulumi's index, on the first Construct. The resource modules use only the SDK's
// dynamic, output and resource modules, not its index (which loads its closure serializer, TypeScript included).
import { createRequire } from "module";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as statusproto from "@pulumi/pulumi/proto/status_pb";
import type * as GrpcModule from "@grpc/grpc-js";
import type * as StructModule from "google-protobuf/google/protobuf/struct_pb";
import type * as EmptyModule from "google-protobuf/google/protobuf/empty_pb";
import type * as AnyModule from "google-protobuf/google/protobuf/any_pb";
import {
    checkPluginConfig,
    IBM_PROVIDER_CONFIG_KEYS,
    PLUGIN_CONFIG_KEYS,
    ProviderConfigSource,
    providerConfigFromPlugin,
    resolveCloudEndpoints,
    settingsFromProviderConfig,
} from "../client/config";
import { redact } from "../client/errors";
import { containsUnknown } from "../provider/core/props";
import { RECOVERY_NONCE } from "../provider/core/recoveryMark";
import { PACKAGE, ServedResource, servedFor } from "./resources";
import type { ServedFunction } from "./functions";
import type { ConstructOptions } from "./component";

// grpc-js and google-protobuf as @pulumi/pulumi resolves them (its dependencies): the generated stubs and
// Struct must be the very instances the SDK loads.
const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc: typeof GrpcModule = pulumiRequire("@grpc/grpc-js");
const structproto: typeof StructModule = pulumiRequire("google-protobuf/google/protobuf/struct_pb");
const emptyproto: typeof EmptyModule = pulumiRequire("google-protobuf/google/protobuf/empty_pb");
const anyproto: typeof AnyModule = pulumiRequire("google-protobuf/google/protobuf/any_pb");

/** Pulumi's wire signature of special values; `{[SIG]: SECRET_SIG, value}` is a secret. */
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

type Props = Record<string, unknown>;
type Callback<T> = (err: GrpcModule.ServiceError | Error | null, value?: T | null, trailer?: GrpcModule.Metadata) => void;
interface Call<T> {
    request: T;
}

/** `v` with every secret envelope replaced by its value (the engine may send some even to a provider that refuses secrets). */
export function unwrapSecrets(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v !== null && typeof v === "object") {
        const o = v as Props;
        if (o[SIG] === SECRET_SIG) return unwrapSecrets(o.value);
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

/** `props` with the named top-level properties wrapped as secrets (those present). */
export function markSecret(props: Props, names: readonly string[]): Props {
    const out: Props = { ...props };
    for (const n of names) {
        if (out[n] !== undefined && out[n] !== null) out[n] = { [SIG]: SECRET_SIG, value: out[n] };
    }
    return out;
}

function isSecretValue(v: unknown): boolean {
    return v !== null && typeof v === "object" && !Array.isArray(v) && (v as Props)[SIG] === SECRET_SIG;
}

function isPlainObject(v: unknown): v is Props {
    return v !== null && typeof v === "object" && !Array.isArray(v) && (v as Props)[SIG] === undefined;
}

/**
 * `outs` with the secret bit of every property of the same name in `ins` (the request, secrets wrapped), recursing
 * into objects. The engine does this itself for a provider that refuses secrets; this one accepts them (the engine
 * lets only such a provider construct components), so it keeps what the program marked secret the same way.
 */
export function annotateSecrets(outs: Props, ins: unknown): Props {
    if (!isPlainObject(ins)) return outs;
    const result: Props = { ...outs };
    for (const [k, inValue] of Object.entries(ins)) {
        if (!(k in result)) continue;
        const outValue = result[k];
        if (isSecretValue(inValue)) {
            if (!isSecretValue(outValue) && outValue !== undefined) result[k] = { [SIG]: SECRET_SIG, value: outValue };
        } else if (isPlainObject(inValue) && isPlainObject(outValue)) {
            result[k] = annotateSecrets(outValue, inValue);
        }
    }
    return result;
}

/** The request's properties as sent, secret envelopes kept. */
function rawStruct(s: StructModule.Struct | undefined): Props {
    return s ? (s.toJavaScript() as Props) : {};
}

function containsSecret(v: unknown): boolean {
    if (isSecretValue(v)) return true;
    if (Array.isArray(v)) return v.some(containsSecret);
    if (v !== null && typeof v === "object") return Object.values(v).some(containsSecret);
    return false;
}

function fromStruct(s: StructModule.Struct | undefined): Props {
    return s ? (unwrapSecrets(s.toJavaScript()) as Props) : {};
}

/** Drops undefined values, which Struct.fromJavaScript refuses. */
function toStruct(o: Props): StructModule.Struct {
    return structproto.Struct.fromJavaScript(JSON.parse(JSON.stringify(o ?? {})));
}

/**
 * The resources' messages name the settings as the dynamic resources read them (`ibmcloud:apiKey`, then `@pulumi/ibm`'s
 * `ibm:ibmcloudApiKey`). Served by the plugin, the same setting is the plugin's `ibmcloud-iam:apiKey` (or an explicit
 * provider's `apiKey`), and no `ibm:*` key is read: a message must name the key of the front door in use.
 */
function inPluginTerms(text: string): string {
    let out = text;
    for (const ibmKey of Object.values(IBM_PROVIDER_CONFIG_KEYS)) out = out.split(`, then ${ibmKey}`).join("");
    for (const [name, stackKey] of Object.entries(PLUGIN_CONFIG_KEYS)) {
        out = out.replace(new RegExp(`${stackKey.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![A-Za-z0-9])`, "g"), `${PACKAGE}:${name}`);
    }
    return out;
}

function failureList(failures: ReadonlyArray<{ property: string; reason: string }> | undefined): provproto.CheckFailure[] {
    return (failures ?? []).map((f) => {
        const failure = new provproto.CheckFailure();
        failure.setProperty(f.property);
        failure.setReason(inPluginTerms(f.reason));
        return failure;
    });
}

/**
 * An error as gRPC carries it; a create or update that made something before failing (the error carries `id`) is
 * reported as ErrorResourceInitFailed so the engine keeps the object in state, exactly as the dynamic provider does.
 */
function grpcError(e: unknown, secretOutputs: readonly string[] = []): GrpcModule.ServiceError {
    const err = e as Error & { id?: string; properties?: Props; reasons?: string[] };
    const message = inPluginTerms(redact(err?.message ?? String(e)));
    const metadata = new grpc.Metadata();
    if (err && typeof err.id === "string" && err.id !== "") {
        const status = new statusproto.Status();
        status.setCode(grpc.status.UNKNOWN);
        status.setMessage(message);
        const detail = new provproto.ErrorResourceInitFailed();
        detail.setId(err.id);
        detail.setProperties(toStruct(markSecret(err.properties ?? {}, secretOutputs)));
        detail.setReasonsList((err.reasons ?? []).map((r) => inPluginTerms(redact(r))));
        const any = new anyproto.Any();
        any.pack(detail.serializeBinary(), "pulumirpc.ErrorResourceInitFailed");
        status.addDetails(any);
        metadata.add("grpc-status-details-bin", Buffer.from(status.serializeBinary()));
    }
    return Object.assign(new Error(message), { code: grpc.status.UNKNOWN, details: message, metadata }) as GrpcModule.ServiceError;
}

/** Runs `body` and answers the call with its result or its error. */
function answer<T>(callback: Callback<T>, body: () => Promise<T>, secretOutputs?: () => readonly string[]): void {
    body().then(
        (v) => callback(null, v),
        (e) => {
            const err = grpcError(e, secretOutputs?.() ?? []);
            callback(err, null, err.metadata);
        },
    );
}

/** The id the provider knows an object by: an import id (kept as the resource's id by the engine) mapped back. */
function objectId(r: ServedResource, id: string): string {
    return r.fromImportId?.(id)?.id ?? id;
}

export interface PluginOptions {
    version: string;
    /** The Pulumi schema, as GetSchema returns it. */
    schema: string;
    /** The engine's address (the plugin's last argument), which Construct reports the component's children to. */
    engineAddress?: string;
}

/** The ResourceProvider service implementation: dispatch by type token to the providers in plugin/resources.ts. */
export function providerService(opts: PluginOptions): GrpcModule.UntypedServiceImplementation {
    let configured = false;
    let config: ProviderConfigSource = providerConfigFromPlugin({});
    const endpoints = () => resolveCloudEndpoints(settingsFromProviderConfig(config));
    // The configuration each loaded provider was last given: a provider loaded after Configure gets it on its first call.
    const configuredWith = new Map<ServedResource, ProviderConfigSource>();
    const configureAll = (values: Props) => {
        config = providerConfigFromPlugin(values);
        for (const r of configuredWith.keys()) {
            r.provider.configure?.(config as any);
            configuredWith.set(r, config);
        }
        configured = true;
    };
    const ensureConfigured = () => {
        // An engine always configures first; without it (a bare client), settings come from the environment.
        if (!configured) configureAll({});
    };
    /** What serves the resource named by `urn`, configured: its module loaded on the first request for its type. */
    const servedConfigured = (urn: string): ServedResource => {
        ensureConfigured();
        const r = servedFor(urn);
        if (configuredWith.get(r) !== config) {
            r.provider.configure?.(config as any);
            configuredWith.set(r, config);
        }
        return r;
    };
    let functions: ReadonlyMap<string, ServedFunction> | undefined;
    const functionsServed = () => (functions ??= (require("./functions") as typeof import("./functions")).FUNCTIONS);
    let construct: ((call: Call<provproto.ConstructRequest>, callback: Callback<provproto.ConstructResponse>) => void) | undefined;
    const constructOptions: ConstructOptions = {
        engineAddress: () => opts.engineAddress,
        settings: () => settingsFromProviderConfig(config),
        errorText: (message) => inPluginTerms(redact(message)),
    };

    return {
        getPluginInfo(_call: Call<unknown>, callback: Callback<plugproto.PluginInfo>) {
            const info = new plugproto.PluginInfo();
            info.setVersion(opts.version);
            callback(null, info);
        },

        getSchema(call: Call<provproto.GetSchemaRequest>, callback: Callback<provproto.GetSchemaResponse>) {
            if (call.request.getVersion() !== 0) {
                callback(new Error(`unsupported schema version ${call.request.getVersion()}`));
                return;
            }
            const resp = new provproto.GetSchemaResponse();
            resp.setSchema(opts.schema);
            callback(null, resp);
        },

        checkConfig(call: Call<provproto.CheckRequest>, callback: Callback<provproto.CheckResponse>) {
            answer(callback, async () => {
                const news = fromStruct(call.request.getNews());
                const resp = new provproto.CheckResponse();
                // The inputs go back as they came (secret envelopes included): the engine stores them as the provider's state.
                resp.setInputs(call.request.getNews() ?? toStruct({}));
                resp.setFailuresList(failureList(checkPluginConfig(news, containsUnknown)));
                return resp;
            });
        },

        diffConfig(call: Call<provproto.DiffRequest>, callback: Callback<provproto.DiffResponse>) {
            answer(callback, async () => {
                const olds = fromStruct(call.request.getOldInputs() ?? call.request.getOlds());
                const news = fromStruct(call.request.getNews());
                const changed = Object.keys(PLUGIN_CONFIG_KEYS).filter(
                    (k) => containsUnknown(news[k]) || JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null),
                );
                const resp = new provproto.DiffResponse();
                // New credentials or endpoints re-point the provider; nothing it manages is replaced for that.
                resp.setChanges(changed.length > 0 ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE);
                resp.setDiffsList(changed);
                return resp;
            });
        },

        configure(call: Call<provproto.ConfigureRequest>, callback: Callback<provproto.ConfigureResponse>) {
            answer(callback, async () => {
                const req = call.request;
                let values: Props;
                const args = req.getArgs();
                if (args) {
                    values = fromStruct(args);
                } else {
                    // Older engines: `ibmcloud-iam:config:apiKey` → apiKey.
                    values = {};
                    for (const [k, v] of req.getVariablesMap().entries()) {
                        const m = /^[^:]+:(?:config:)?(.+)$/.exec(k);
                        if (m && k.startsWith(`${PACKAGE}:`)) {
                            let parsed: unknown = v;
                            try {
                                parsed = JSON.parse(v);
                            } catch {
                                // a plain string setting
                            }
                            values[m[1]] = typeof parsed === "string" || typeof parsed === "number" ? parsed : v;
                        }
                    }
                }
                const failures = checkPluginConfig(values, containsUnknown);
                if (failures.length > 0) throw new Error(`${PACKAGE} provider configuration: ${failures.map((f) => f.reason).join("; ")}`);
                configureAll(values);
                const resp = new provproto.ConfigureResponse();
                // Secrets arrive wrapped and are unwrapped for the providers; the answers keep their secret bits
                // (annotateSecrets). The engine lets only a provider accepting secrets construct components.
                resp.setAcceptsecrets(true);
                resp.setAcceptresources(false);
                resp.setAcceptoutputs(false);
                resp.setSupportspreview(false);
                return resp;
            });
        },

        check(call: Call<provproto.CheckRequest>, callback: Callback<provproto.CheckResponse>) {
            answer(callback, async () => {
                const req = call.request;
                const r = servedConfigured(req.getUrn());
                const result = await r.provider.check!(fromStruct(req.getOlds()), fromStruct(req.getNews()));
                const resp = new provproto.CheckResponse();
                resp.setInputs(toStruct(annotateSecrets(markSecret((result.inputs ?? {}) as Props, r.secretOutputs), rawStruct(req.getNews()))));
                resp.setFailuresList(failureList(result.failures));
                return resp;
            });
        },

        diff(call: Call<provproto.DiffRequest>, callback: Callback<provproto.DiffResponse>) {
            answer(callback, async () => {
                const req = call.request;
                const r = servedConfigured(req.getUrn());
                const result = await r.provider.diff!(objectId(r, req.getId()), fromStruct(req.getOlds()), fromStruct(req.getNews()));
                const resp = new provproto.DiffResponse();
                const D = provproto.DiffResponse.DiffChanges;
                resp.setChanges(result.changes === true ? D.DIFF_SOME : result.changes === false ? D.DIFF_NONE : D.DIFF_UNKNOWN);
                resp.setReplacesList(result.replaces ?? []);
                resp.setStablesList(result.stables ?? []);
                resp.setDeletebeforereplace(result.deleteBeforeReplace === true);
                return resp;
            });
        },

        create(call: Call<provproto.CreateRequest>, callback: Callback<provproto.CreateResponse>) {
            let served: ServedResource | undefined;
            answer(
                callback,
                async () => {
                    const req = call.request;
                    served = servedConfigured(req.getUrn());
                    const result = await served.provider.create!(fromStruct(req.getProperties()));
                    const resp = new provproto.CreateResponse();
                    resp.setId(result.id);
                    resp.setProperties(
                        toStruct(annotateSecrets(markSecret((result.outs ?? {}) as Props, served.secretOutputs), rawStruct(req.getProperties()))),
                    );
                    return resp;
                },
                () => served?.secretOutputs ?? [],
            );
        },

        read(call: Call<provproto.ReadRequest>, callback: Callback<provproto.ReadResponse>) {
            answer(callback, async () => {
                const req = call.request;
                const r = servedConfigured(req.getUrn());
                const stored = fromStruct(req.getProperties());
                const imported = r.fromImportId?.(req.getId());
                // An import (no state yet) starts from what the import id says; later reads from the state.
                const props = Object.keys(stored).length > 0 ? stored : (imported?.props ?? {});
                const result = await r.provider.read!(imported?.id ?? req.getId(), Object.keys(props).length > 0 ? props : undefined);
                const resp = new provproto.ReadResponse();
                // An imported object keeps the id it was imported by (the engine keeps that id in state).
                resp.setId(result.id ? (imported ? req.getId() : result.id) : "");
                if (result.id) {
                    resp.setProperties(toStruct(annotateSecrets(markSecret((result.props ?? {}) as Props, r.secretOutputs), rawStruct(req.getProperties()))));
                    // What `pulumi import` needs: the inputs that reproduce the object, so the next preview shows no change.
                    // A refresh also sends the stored inputs: their recovery nonce, which no object holds, is kept, so
                    // a refresh shows only the object's drift.
                    if (result.inputs) {
                        const nonce = fromStruct(req.getInputs())[RECOVERY_NONCE];
                        const inputs = typeof nonce === "string" ? { ...(result.inputs as Props), [RECOVERY_NONCE]: nonce } : (result.inputs as Props);
                        resp.setInputs(toStruct(annotateSecrets(markSecret(inputs, r.secretOutputs), rawStruct(req.getInputs()))));
                    }
                }
                return resp;
            });
        },

        update(call: Call<provproto.UpdateRequest>, callback: Callback<provproto.UpdateResponse>) {
            let served: ServedResource | undefined;
            answer(
                callback,
                async () => {
                    const req = call.request;
                    served = servedConfigured(req.getUrn());
                    const result = await served.provider.update!(objectId(served, req.getId()), fromStruct(req.getOlds()), fromStruct(req.getNews()));
                    const resp = new provproto.UpdateResponse();
                    resp.setProperties(toStruct(annotateSecrets(markSecret((result?.outs ?? {}) as Props, served.secretOutputs), rawStruct(req.getNews()))));
                    return resp;
                },
                () => served?.secretOutputs ?? [],
            );
        },

        delete(call: Call<provproto.DeleteRequest>, callback: Callback<EmptyModule.Empty>) {
            answer(callback, async () => {
                const req = call.request;
                const r = servedConfigured(req.getUrn());
                await r.provider.delete?.(objectId(r, req.getId()), fromStruct(req.getProperties()));
                return new emptyproto.Empty();
            });
        },

        invoke(call: Call<provproto.InvokeRequest>, callback: Callback<provproto.InvokeResponse>) {
            answer(callback, async () => {
                ensureConfigured();
                const req = call.request;
                const fn = functionsServed().get(req.getTok());
                if (!fn) throw new Error(`${PACKAGE}: unknown function ${req.getTok()}; this provider serves ${[...functionsServed().keys()].join(", ")}`);
                const result = await fn.invoke(fromStruct(req.getArgs()), endpoints);
                const resp = new provproto.InvokeResponse();
                if (result.failures?.length) {
                    resp.setFailuresList(failureList(result.failures));
                } else {
                    const outputs = markSecret(result.outputs ?? {}, fn.secretOutputs);
                    // What the engine does for a provider that refuses secrets: results of secret arguments are secret.
                    resp.setReturn(
                        toStruct(
                            containsSecret(rawStruct(req.getArgs()))
                                ? markSecret(
                                      outputs,
                                      Object.keys(outputs).filter((k) => !isSecretValue(outputs[k])),
                                  )
                                : outputs,
                        ),
                    );
                }
                return resp;
            });
        },

        construct(call: Call<provproto.ConstructRequest>, callback: Callback<provproto.ConstructResponse>) {
            construct ??= (require("./component") as typeof import("./component")).constructMethod(constructOptions);
            construct(call, callback);
        },

        cancel(_call: Call<unknown>, callback: Callback<EmptyModule.Empty>) {
            callback(null, new emptyproto.Empty());
        },
    };
}

/**
 * Serves the plugin on a loopback port and prints the port on stdout (the engine reads it from there). Resolves
 * with the server and the port.
 */
export async function serve(opts: PluginOptions): Promise<{ server: GrpcModule.Server; port: number }> {
    const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
    server.addService(provrpc.ResourceProviderService as unknown as GrpcModule.ServiceDefinition, providerService(opts));
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    return { server, port };
}
