// Drives the provider plugin `pulumi-resource-ibmcloud-iam` over gRPC as the engine does: started through its
// launcher script (plugin/bin), configured with the provider's own config (`apiKey`, `iamEndpoint`, … as the
// arguments of a provider), resources named by type token in their URNs. Values go and come back as the engine
// sends and sees them (the plugin accepts secrets): secrets wrapped, so tests can tell a secret output from a plain one.
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import type * as GrpcModule from "@grpc/grpc-js";
import type * as StructModule from "google-protobuf/google/protobuf/struct_pb";
import type * as EmptyModule from "google-protobuf/google/protobuf/empty_pb";
import { grpc, REPO_ROOT } from "../harness";
import { createRequire } from "module";
import { SECRET_SIG, SIG_KEY as SIG } from "../../support/pulumiWire";

const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const structproto: typeof StructModule = pulumiRequire("google-protobuf/google/protobuf/struct_pb");
const emptyproto: typeof EmptyModule = pulumiRequire("google-protobuf/google/protobuf/empty_pb");

export const LAUNCHER = path.join(REPO_ROOT, "plugin", "bin", "pulumi-resource-ibmcloud-iam");
export { SECRET_SIG, SIG };
export type Props = Record<string, unknown>;

export function secret(value: unknown): Props {
    return { [SIG]: SECRET_SIG, value };
}
export function isSecret(v: unknown): boolean {
    return v !== null && typeof v === "object" && (v as Props)[SIG] === SECRET_SIG;
}
/** `v` without secret envelopes. */
export function plain(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(plain);
    if (v !== null && typeof v === "object") {
        if (isSecret(v)) return plain((v as Props).value);
        return Object.fromEntries(Object.entries(v as Props).map(([k, x]) => [k, plain(x)]));
    }
    return v;
}

function toStruct(o: Props): StructModule.Struct {
    return structproto.Struct.fromJavaScript(JSON.parse(JSON.stringify(o)) as Record<string, StructModule.JavaScriptValue>);
}

export class ServedCallError extends Error {
    constructor(
        readonly method: string,
        readonly details: string,
    ) {
        super(`${method}: ${details}`);
    }
}

export interface ServedPlugin {
    /** Everything the plugin wrote to stdout (after the port) and stderr. */
    output(): string;
    urn(type: string, name?: string): string;
    configure(config: Props): Promise<void>;
    checkConfig(news: Props): Promise<Array<{ property: string; reason: string }>>;
    diffConfig(olds: Props, news: Props): Promise<{ changes: number; diffs: string[] }>;
    schema(): Promise<string>;
    check(type: string, olds: Props, news: Props): Promise<{ inputs: Props; failures: Array<{ property: string; reason: string }> }>;
    diff(type: string, id: string, olds: Props, news: Props): Promise<{ changes: number; replaces: string[] }>;
    create(type: string, inputs: Props): Promise<{ id: string; outs: Props }>;
    /** `props` = state outputs; `inputs` = state inputs, which a refresh sends too (an import sends neither). */
    read(type: string, id: string, props?: Props, inputs?: Props): Promise<{ id: string; props: Props; inputs: Props | undefined }>;
    update(type: string, id: string, olds: Props, news: Props): Promise<Props>;
    delete(type: string, id: string, props: Props): Promise<void>;
    invoke(token: string, args: Props): Promise<{ outputs: Props; failures: Array<{ property: string; reason: string }> }>;
    stop(): Promise<void>;
}

export const DIFF_NONE = provproto.DiffResponse.DiffChanges.DIFF_NONE;
export const DIFF_SOME = provproto.DiffResponse.DiffChanges.DIFF_SOME;

/** Starts the plugin through its launcher; `env` replaces IBM's variables of this process (none are inherited). */
export async function startServed(env: Record<string, string> = {}): Promise<ServedPlugin> {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(IC_|IBMCLOUD_)/.test(k)));
    const child: ChildProcess = spawn(LAUNCHER, ["127.0.0.1:1"], {
        cwd: REPO_ROOT,
        env: { ...base, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, ...env },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (d: string) => (out += d));
    const port = await new Promise<number>((resolve, reject) => {
        let first = "";
        const timer = setTimeout(() => reject(new Error(`no port within 20 s: ${out}`)), 20_000);
        const onData = (d: string) => {
            first += d;
            const nl = first.indexOf("\n");
            if (nl < 0) return;
            clearTimeout(timer);
            child.stdout!.off("data", onData);
            out += first.slice(nl + 1);
            child.stdout!.on("data", (more: string) => (out += more));
            resolve(Number(first.slice(0, nl)));
        };
        child.stdout!.on("data", onData);
        child.once("exit", (code) => reject(new Error(`plugin exited (${code}) before its port: ${out}`)));
    });
    const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

    function call<Req, Res>(method: string, req: Req): Promise<Res> {
        return new Promise<Res>((resolve, reject) => {
            const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method];
            fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + 60_000 }, (e: GrpcModule.ServiceError | null, res: Res) =>
                e ? reject(new ServedCallError(method, e.details)) : resolve(res),
            );
        });
    }
    const urn = (type: string, name = "res") => `urn:pulumi:test::proj::ibmcloud-iam:index:${type}::${name}`;
    const failures = (l: provproto.CheckFailure[]) => l.map((f) => ({ property: f.getProperty(), reason: f.getReason() }));

    return {
        output: () => out,
        urn,
        async configure(config) {
            const req = new provproto.ConfigureRequest();
            req.setArgs(toStruct(config));
            await call("configure", req);
        },
        async checkConfig(news) {
            const req = new provproto.CheckRequest();
            req.setUrn("urn:pulumi:test::proj::pulumi:providers:ibmcloud-iam::acct").setOlds(toStruct({})).setNews(toStruct(news));
            return failures((await call<provproto.CheckRequest, provproto.CheckResponse>("checkConfig", req)).getFailuresList());
        },
        async diffConfig(olds, news) {
            const req = new provproto.DiffRequest();
            req.setUrn("urn:pulumi:test::proj::pulumi:providers:ibmcloud-iam::acct")
                .setOlds(toStruct(olds))
                .setOldInputs(toStruct(olds))
                .setNews(toStruct(news));
            const res = await call<provproto.DiffRequest, provproto.DiffResponse>("diffConfig", req);
            return { changes: res.getChanges(), diffs: res.getDiffsList() };
        },
        async schema() {
            const req = new provproto.GetSchemaRequest();
            return (await call<provproto.GetSchemaRequest, provproto.GetSchemaResponse>("getSchema", req)).getSchema();
        },
        async check(type, olds, news) {
            const req = new provproto.CheckRequest();
            req.setUrn(urn(type)).setOlds(toStruct(olds)).setNews(toStruct(news));
            const res = await call<provproto.CheckRequest, provproto.CheckResponse>("check", req);
            return { inputs: (res.getInputs()?.toJavaScript() ?? {}) as Props, failures: failures(res.getFailuresList()) };
        },
        async diff(type, id, olds, news) {
            const req = new provproto.DiffRequest();
            req.setUrn(urn(type)).setId(id).setOlds(toStruct(olds)).setNews(toStruct(news));
            const res = await call<provproto.DiffRequest, provproto.DiffResponse>("diff", req);
            return { changes: res.getChanges(), replaces: res.getReplacesList() };
        },
        async create(type, inputs) {
            const req = new provproto.CreateRequest();
            req.setUrn(urn(type)).setProperties(toStruct(inputs));
            const res = await call<provproto.CreateRequest, provproto.CreateResponse>("create", req);
            return { id: res.getId(), outs: (res.getProperties()?.toJavaScript() ?? {}) as Props };
        },
        async read(type, id, props = {}, inputs) {
            const req = new provproto.ReadRequest();
            req.setUrn(urn(type)).setId(id).setProperties(toStruct(props));
            if (inputs) req.setInputs(toStruct(inputs));
            const res = await call<provproto.ReadRequest, provproto.ReadResponse>("read", req);
            return {
                id: res.getId(),
                props: (res.getProperties()?.toJavaScript() ?? {}) as Props,
                inputs: res.getInputs()?.toJavaScript() as Props | undefined,
            };
        },
        async update(type, id, olds, news) {
            const req = new provproto.UpdateRequest();
            req.setUrn(urn(type)).setId(id).setOlds(toStruct(olds)).setNews(toStruct(news));
            const res = await call<provproto.UpdateRequest, provproto.UpdateResponse>("update", req);
            return (res.getProperties()?.toJavaScript() ?? {}) as Props;
        },
        async delete(type, id, props) {
            const req = new provproto.DeleteRequest();
            req.setUrn(urn(type)).setId(id).setProperties(toStruct(props));
            await call<provproto.DeleteRequest, EmptyModule.Empty>("delete", req);
        },
        async invoke(token, args) {
            const req = new provproto.InvokeRequest();
            req.setTok(token).setArgs(toStruct(args));
            const res = await call<provproto.InvokeRequest, provproto.InvokeResponse>("invoke", req);
            return { outputs: (res.getReturn()?.toJavaScript() ?? {}) as Props, failures: failures(res.getFailuresList()) };
        },
        async stop() {
            client.close();
            if (child.exitCode === null && child.pid !== undefined) {
                const gone = new Promise((r) => child.once("exit", r));
                try {
                    process.kill(-child.pid, "SIGTERM");
                } catch {
                    // already gone
                }
                await gone;
            }
            void emptyproto;
        },
    };
}
