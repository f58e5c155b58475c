// The plugin's component: `KmsAccess`, served through Construct so that a program in any language (YAML, Python,
// Go, .NET) gets the very component TypeScript programs use (components/kmsAccess.ts), with one difference: its
// children are this plugin's own resource types (`ibmcloud-iam:index:ServiceId`, …), not dynamic resources, which
// a component constructed outside the program's own Node process cannot use (their provider is resolved from the
// program's folder).
//
// Construct is ours, like the rest of the server, and follows @pulumi/pulumi's provider server (provider/server.js):
// point the SDK's runtime at the engine's monitor, deserialize the inputs into Outputs (secrets and dependencies
// kept), run the component, serialize its outputs with their dependencies, and answer once every registration it
// started is done. The SDK's own server class is not exported; the pieces it uses are, and those are used here.
import { createRequire } from "module";
import * as pulumi from "@pulumi/pulumi";
import type * as GrpcModule from "@grpc/grpc-js";
import type * as StructModule from "google-protobuf/google/protobuf/struct_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import { ExplicitCloudSettings } from "../client/config";
import { redact } from "../client/errors";
import { KmsAccess, KmsAccessArgs, KmsAccessChildClasses } from "../components/kmsAccess";
import { PACKAGE } from "./resources";
import schema = require("./schema.json");

// Parts of the SDK the provider server is made of; marked internal, so not in its type declarations.
interface SdkRuntime {
    settings: {
        resetOptions(project: string, stack: string, parallel: number, engineAddr: string, monitorAddr: string, preview: boolean, organization: string): void;
        awaitFeatureSupport?: () => Promise<void>;
        waitForRPCs(): Promise<void>;
    };
    config: { setAllConfig(c: Record<string, string>, secretKeys?: string[]): void };
    state: { withLocalStorage<T>(fn: () => Promise<T>): Promise<T> };
    rpc: { serializeResourceProperties(label: string, props: Record<string, unknown>): Promise<[Record<string, unknown>, Map<string, Set<pulumi.Resource>>]> };
    server: { deserializeInputs(inputs: StructModule.Struct | undefined, deps: unknown): Promise<Record<string, unknown>> };
}

let sdk: SdkRuntime | undefined;
function sdkRuntime(): SdkRuntime {
    sdk ??= {
        settings: require("@pulumi/pulumi/runtime/settings"),
        config: require("@pulumi/pulumi/runtime/config"),
        state: require("@pulumi/pulumi/runtime/state"),
        rpc: require("@pulumi/pulumi/runtime/rpc"),
        server: require("@pulumi/pulumi/provider/server"),
    };
    return sdk;
}

/** The component served, by type token. */
export const COMPONENT_TOKEN = `${PACKAGE}:index:KmsAccess`;

type ResourceSchema = { properties: Record<string, unknown>; inputProperties?: Record<string, unknown> };
const resourcesSchema = schema.resources as unknown as Record<string, ResourceSchema>;

/**
 * A resource of this plugin's type `token` registered from inside the plugin: its properties are its arguments,
 * and every output the schema lists is an Output of the instance, as on the dynamic resource of the same name.
 */
function servedChildClass(name: string): new (n: string, args: object, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource {
    const token = `${PACKAGE}:index:${name}`;
    const outputs = Object.keys(resourcesSchema[token]?.properties ?? {});
    if (outputs.length === 0) throw new Error(`${PACKAGE}: ${token} is not in the plugin's schema`);
    return class extends pulumi.CustomResource {
        constructor(n: string, args: object, opts?: pulumi.CustomResourceOptions) {
            const props: Record<string, unknown> = Object.fromEntries(outputs.map((o) => [o, undefined]));
            super(token, n, { ...props, ...args }, opts);
        }
    };
}

/**
 * The component as the plugin constructs it. Its children are the plugin's resource types, whose instances carry
 * the same outputs as the dynamic classes they stand in for (both come from the resource's Outputs interface),
 * hence the casts.
 */
function servedKmsAccessClass(settings: () => ExplicitCloudSettings) {
    const children = {
        ServiceId: servedChildClass("ServiceId"),
        ServiceApiKey: servedChildClass("ServiceApiKey"),
        AccessPolicy: servedChildClass("AccessPolicy"),
        KmsAccessReady: servedChildClass("KmsAccessReady"),
    } as unknown as KmsAccessChildClasses;
    return class ServedKmsAccess extends KmsAccess {
        protected override childClasses(): KmsAccessChildClasses {
            return children;
        }
        protected override cloudSettings(): ExplicitCloudSettings {
            // The provider's configuration, never its key: the component's children get the key they use from IAM.
            const { apiKey: _, ...rest } = settings();
            return rest;
        }
    };
}

/** An Output's value, known or not (`promise()` is the SDK's own accessor, internal to its type declarations). */
function outputValue(o: pulumi.Output<string>): Promise<string> {
    return (o as unknown as { promise(): Promise<string> }).promise();
}

type Callback<T> = (err: GrpcModule.ServiceError | Error | null, value?: T | null) => void;

// Construct calls waiting for their component: an error nobody awaits (an Output's apply that throws) fails them
// instead of ending the plugin, as @pulumi/pulumi's provider server does.
const inFlight = new Set<(err: Error) => void>();
let handlersInstalled = false;
function installUncaughtHandlers(): void {
    if (handlersInstalled) return;
    handlersInstalled = true;
    const fail = (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        if (inFlight.size === 0) {
            process.stderr.write(`${PACKAGE}: ${redact(err.stack ?? err.message)}\n`);
            process.exit(1);
        }
        for (const f of [...inFlight]) f(err);
    };
    process.on("uncaughtException", fail);
    process.on("unhandledRejection", fail);
}

export interface ConstructOptions {
    /** The engine's address (the plugin's last command-line argument); Construct cannot work without it. */
    engineAddress: () => string | undefined;
    /** The provider's configuration as Configure gave it. */
    settings: () => ExplicitCloudSettings;
    /** An error message as the plugin reports it: redacted, naming the plugin's own settings. */
    errorText: (message: string) => string;
}

/** The Construct method of the ResourceProvider service. */
export function constructMethod(opts: ConstructOptions) {
    const Served = servedKmsAccessClass(opts.settings);
    return (call: { request: provproto.ConstructRequest }, callback: Callback<provproto.ConstructResponse>) => {
        installUncaughtHandlers();
        const { settings, config, state, rpc, server } = sdkRuntime();
        let answered = false;
        const reply = (err: Error | null, resp?: provproto.ConstructResponse) => {
            if (answered) return;
            answered = true;
            inFlight.delete(onUncaught);
            const text = err ? opts.errorText(err.message) : "";
            callback(err ? Object.assign(new Error(text), { code: 2, details: text }) : null, resp);
        };
        const onUncaught = (err: Error) => reply(err);
        inFlight.add(onUncaught);
        state
            .withLocalStorage(async () => {
                const req = call.request;
                const type = req.getType();
                if (type !== COMPONENT_TOKEN) throw new Error(`${PACKAGE}: unknown component ${type}; this provider constructs ${COMPONENT_TOKEN}`);
                const engine = opts.engineAddress();
                if (!engine) throw new Error(`${PACKAGE}: the engine's address was not given to the plugin; it cannot construct ${type}`);
                settings.resetOptions(
                    req.getProject(),
                    req.getStack(),
                    req.getParallel(),
                    engine,
                    req.getMonitorendpoint(),
                    req.getDryrun(),
                    req.getOrganization(),
                );
                await settings.awaitFeatureSupport?.();
                config.setAllConfig(Object.fromEntries(req.getConfigMap().entries()), req.getConfigsecretkeysList());

                const inputs = await server.deserializeInputs(req.getInputs(), req.getInputdependenciesMap());
                const providers: Record<string, pulumi.ProviderResource> = {};
                for (const [pkg, ref] of req.getProvidersMap().entries()) providers[pkg] = new pulumi.DependencyProviderResource(ref);
                const resourceOpts: pulumi.ComponentResourceOptions = {
                    dependsOn: req.getDependenciesList().map((urn) => new pulumi.DependencyResource(urn)),
                    providers,
                    parent: req.getParent() ? new pulumi.DependencyResource(req.getParent()) : undefined,
                    protect: req.getProtect(),
                    aliases: req
                        .getAliasesList()
                        .filter((a) => a.hasUrn())
                        .map((a) => a.getUrn()),
                    ignoreChanges: req.getIgnorechangesList(),
                    retainOnDelete: req.getRetainondelete(),
                };

                const component = new Served(req.getName(), inputs as unknown as KmsAccessArgs, resourceOpts);
                // The outputs the schema declares, read off the component (the schema takes them from its fields).
                const outputs: Record<string, unknown> = {};
                for (const name of Object.keys(resourcesSchema[COMPONENT_TOKEN].properties)) {
                    try {
                        outputs[name] = (component as unknown as Record<string, unknown>)[name];
                    } catch {
                        // A getter of an output the component's mode does not have: the output stays unset.
                    }
                }

                const resp = new provproto.ConstructResponse();
                resp.setUrn(await outputValue(component.urn));
                const [serialized, dependencies] = await rpc.serializeResourceProperties(`construct(${type}, ${req.getName()})`, outputs);
                const depsMap = resp.getStatedependenciesMap();
                for (const [key, resources] of dependencies) {
                    const deps = new provproto.ConstructResponse.PropertyDependencies();
                    deps.setUrnsList(await Promise.all([...resources].map((r) => outputValue(r.urn))));
                    depsMap.set(key, deps);
                }
                // Struct as @pulumi/pulumi resolves it: the instance its generated stubs use.
                const structproto: typeof StructModule = createRequire(require.resolve("@pulumi/pulumi/package.json"))(
                    "google-protobuf/google/protobuf/struct_pb",
                );
                resp.setState(structproto.Struct.fromJavaScript(serialized as never));
                await settings.waitForRPCs();
                return resp;
            })
            .then(
                (resp) => reply(null, resp),
                (e) => reply(e instanceof Error ? e : new Error(String(e))),
            );
    };
}
