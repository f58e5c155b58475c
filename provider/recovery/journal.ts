// Reading and editing a stack's deployment (`pulumi stack export --show-secrets`) for `recover`: which creates the
// engine journaled and never finished, and the deployment with the objects they made put in as resources. Pure:
// no I/O, so the rules are unit-tested without an engine.

import * as pulumi from "@pulumi/pulumi";

/** Pulumi's marker of a secret value in an exported deployment (`{[SECRET_SIG]: SECRET_VALUE, plaintext}`), from Pulumi's own exports. */
export const SECRET_SIG: string = pulumi.runtime.specialSigKey;
export const SECRET_VALUE: string = pulumi.runtime.specialSecretSig;

export interface StateResource {
    urn: string;
    custom?: boolean;
    type: string;
    id?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    parent?: string;
    provider?: string;
    dependencies?: string[];
    [k: string]: unknown;
}

export interface PendingOperation {
    resource: StateResource;
    type: string;
}

export interface Deployment {
    version: number;
    deployment: {
        manifest?: unknown;
        secrets_providers?: unknown;
        resources?: StateResource[];
        pending_operations?: PendingOperation[];
        [k: string]: unknown;
    };
}

/** The resource kinds `recover` finds; the others' pending creates made nothing it can look for. */
export type Kind = "ServiceId" | "ServiceApiKey" | "AccessPolicy" | "KmsKey";
const KINDS: ReadonlySet<string> = new Set<Kind>(["ServiceId", "ServiceApiKey", "AccessPolicy", "KmsKey"]);

/** The resource name of one of our type tokens (dynamic `pulumi-nodejs:dynamic/ibmcloud-iam:X` or plugin `ibmcloud-iam:index:X`). */
export function ourTypeName(type: string): string | undefined {
    const m = /^(?:pulumi-nodejs:dynamic\/ibmcloud-iam|ibmcloud-iam:index):(\w+)$/.exec(type);
    return m?.[1];
}

export function kindOf(type: string): Kind | undefined {
    const name = ourTypeName(type);
    return name !== undefined && KINDS.has(name) ? (name as Kind) : undefined;
}

/** The pending creates of our types, service IDs first, then API keys, then policies and KMS keys (what "tracked" means for the later grows with the earlier). */
export function pendingCreates(d: Deployment): Array<PendingOperation & { kind: Kind }> {
    const order: Kind[] = ["ServiceId", "ServiceApiKey", "AccessPolicy", "KmsKey"];
    const ops = (d.deployment.pending_operations ?? [])
        .filter((op) => op.type === "creating")
        .map((op) => ({ ...op, kind: kindOf(op.resource.type) }))
        .filter((op): op is PendingOperation & { kind: Kind } => op.kind !== undefined);
    return ops.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
}

/** Plain values of a `--show-secrets` export: every secret envelope replaced by its value. */
export function unwrapSecrets(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v !== null && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[SECRET_SIG] === SECRET_VALUE) {
            if ("plaintext" in o && typeof o.plaintext === "string") return unwrapSecrets(JSON.parse(o.plaintext));
            return unwrapSecrets(o.value);
        }
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

/** A secret envelope `pulumi stack import` encrypts with the stack's secrets provider. */
export function secretEnvelope(value: unknown): Record<string, unknown> {
    return { [SECRET_SIG]: SECRET_VALUE, plaintext: JSON.stringify(value) };
}

/** The ids of the state's custom resources. */
export function trackedIds(d: Deployment): Set<string> {
    return new Set((d.deployment.resources ?? []).filter((r) => r.custom !== false && r.id).map((r) => String(r.id)));
}

/** The IAM ids (`iam-ServiceId-…`) of the service IDs the state tracks. */
export function trackedServiceIamIds(d: Deployment): Set<string> {
    const out = new Set<string>();
    for (const r of d.deployment.resources ?? []) {
        if (kindOf(r.type) !== "ServiceId" || !r.id) continue;
        const iamId = unwrapSecrets(r.outputs?.iamId);
        out.add(typeof iamId === "string" && iamId !== "" ? iamId : `iam-${r.id}`);
    }
    return out;
}

/**
 * The resource a pending create becomes once its object is found: the journaled entry (URN, type, inputs, parent,
 * provider, dependencies) with the object's id and the outputs the provider's `read` gave, plus what the engine adds
 * to a dynamic resource's outputs (`__provider`); the outputs named in `secretOutputs` as secrets.
 */
export function adoptedResource(pending: StateResource, id: string, outputs: Record<string, unknown>, secretOutputs: ReadonlyArray<string>): StateResource {
    const outs: Record<string, unknown> = { ...outputs };
    const provider = pending.inputs?.__provider;
    if (provider !== undefined) outs.__provider = provider;
    for (const k of secretOutputs) if (outs[k] !== undefined) outs[k] = secretEnvelope(outs[k]);
    const now = new Date().toISOString();
    const r: StateResource = { ...pending, id, outputs: outs };
    if (!("created" in r)) r.created = now;
    if (!("modified" in r)) r.modified = now;
    return r;
}

/**
 * The deployment with the adopted resources appended (in the order given, each after the state's resources, which
 * hold everything a pending create depends on: the engine sends a create only once its dependencies are recorded)
 * and every pending operation removed.
 */
export function withAdopted(d: Deployment, adopted: ReadonlyArray<StateResource>): Deployment {
    const resources = [...(d.deployment.resources ?? [])];
    const urns = new Set(resources.map((r) => r.urn));
    for (const r of adopted) {
        if (urns.has(r.urn)) continue;
        resources.push(r);
        urns.add(r.urn);
    }
    return { ...d, deployment: { ...d.deployment, resources, pending_operations: [] } };
}

/** One line per pending operation, for the report (`creating ServiceId sid-00`). */
export function describePending(op: PendingOperation): string {
    const name = op.resource.urn.split("::").pop() ?? op.resource.urn;
    return `${op.type} ${ourTypeName(op.resource.type) ?? op.resource.type} ${name}`;
}
