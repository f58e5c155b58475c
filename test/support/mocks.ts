// setMocks-based resource-shape tests: what a program registers (types, names, inputs, and for
// dynamic resources the serialized `__provider`), without an engine or a plugin.
//
// What mocks cannot show (docs/dynamic-providers.md, "Secrets"): check, diff
// and the provider's methods never run, and `additionalSecretOutputs` is not applied. Use
// test/plugin/harness for the provider itself.
//
//   const mocks = await setupMocks();
//   const key = new ServiceApiKey("k", { ... });
//   expect(await outputValue(key.name)).to.equal("...");
//   const reg = mocks.byName("k");          // reg.inputs, reg.providerText (the serialized closure)
import * as pulumi from "@pulumi/pulumi";
import { raceUnhandledRejections } from "./failFast";

export interface RegisteredResource {
    type: string;
    name: string;
    /** inputs as the monitor received them (Outputs resolved; `__provider` included for dynamic resources) */
    inputs: Record<string, any>;
    custom: boolean;
    provider?: string;
    /** for dynamic resources: the serialized provider text (`inputs.__provider`) */
    providerText?: string;
    /** id and state the mock answered with */
    id: string;
    state: Record<string, any>;
}

export interface RecordingMocks extends pulumi.runtime.Mocks {
    /** every registration, in order */
    readonly resources: RegisteredResource[];
    /** every invoke */
    readonly calls: pulumi.runtime.MockCallArgs[];
    /** the one resource registered with this name (throws when there is none or several) */
    byName(name: string): RegisteredResource;
    /** resources with exactly this type token, e.g. "pulumi-nodejs:dynamic/ibmcloud-iam:ServiceId" */
    ofType(type: string): RegisteredResource[];
}

export interface MockOptions {
    project?: string; // default "pulumi-ibmcloud-iam"
    stack?: string; // default "test"
    /** true: run as `pulumi preview` (unknown outputs stay unknown) */
    preview?: boolean;
    organization?: string;
    /** Answer a registration; whatever is not returned defaults to id `<name>-id` and state = inputs. */
    newResource?: (args: pulumi.runtime.MockResourceArgs) => Partial<pulumi.runtime.MockResourceResult> | undefined;
    /** Answer an invoke; default `{}`. */
    call?: (args: pulumi.runtime.MockCallArgs) => Record<string, any>;
}

/** Installs recording mocks (process-wide; call it before constructing resources). */
export async function setupMocks(opts: MockOptions = {}): Promise<RecordingMocks> {
    const resources: RegisteredResource[] = [];
    const calls: pulumi.runtime.MockCallArgs[] = [];
    const mocks: RecordingMocks = {
        resources,
        calls,
        newResource(args) {
            const answer = opts.newResource?.(args) ?? {};
            const id = answer.id ?? `${args.name}-id`;
            const state = answer.state ?? { ...args.inputs };
            const reg: RegisteredResource = {
                type: args.type,
                name: args.name,
                inputs: args.inputs,
                custom: args.custom ?? false,
                id,
                state,
            };
            if (args.provider) reg.provider = args.provider;
            if (typeof args.inputs?.__provider === "string") reg.providerText = args.inputs.__provider;
            resources.push(reg);
            return { id, state };
        },
        call(args) {
            calls.push(args);
            return opts.call?.(args) ?? {};
        },
        byName(name) {
            const found = resources.filter((r) => r.name === name);
            if (found.length !== 1) {
                throw new Error(`expected one resource named ${name}, found ${found.length}: [${resources.map((r) => r.name).join(", ")}]`);
            }
            return found[0];
        },
        ofType(type) {
            return resources.filter((r) => r.type === type);
        },
    };
    await pulumi.runtime.setMocks(mocks, opts.project ?? "pulumi-ibmcloud-iam", opts.stack ?? "test", opts.preview ?? false, opts.organization);
    return mocks;
}

// Internal members of Output (stable for years; used by Pulumi's own tests).
interface OutputInternals<T> {
    promise(withUnknowns?: boolean): Promise<T>;
    isKnown: Promise<boolean>;
    isSecret: Promise<boolean>;
}

export interface OutputDetails<T> {
    /** undefined when unknown */
    value: T | undefined;
    isKnown: boolean;
    isSecret: boolean;
}

/** Value, knownness and secrecy of an Output. Never hangs: a registration failure (reported by
 * Pulumi as an unhandled rejection, e.g. a provider that cannot be serialized) or `timeoutMs`
 * rejects it with the cause. */
export async function outputDetails<T>(o: pulumi.Input<T>, timeoutMs = 10_000): Promise<OutputDetails<T>> {
    const out = pulumi.output(o) as unknown as OutputInternals<T>;
    const all = Promise.all([out.promise(false), out.isKnown, out.isSecret]).then(([value, isKnown, isSecret]) => ({
        value: isKnown ? value : undefined,
        isKnown,
        isSecret,
    }));
    return raceUnhandledRejections(all, "waiting for an Output", timeoutMs);
}

/** The value of an Output (or any Input); rejects if it is unknown (preview) or never resolves. */
export async function outputValue<T>(o: pulumi.Input<T>, timeoutMs = 10_000): Promise<T> {
    const d = await outputDetails(o, timeoutMs);
    if (!d.isKnown) throw new Error("the Output is unknown (running as preview?)");
    return d.value as T;
}
