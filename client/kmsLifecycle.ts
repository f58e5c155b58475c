// The key lifecycle on the KMS wire, beside KmsClient (which exposes each as a method): key versions,
// disable/enable, restore, purge, aliases, registrations, dual-authorization deletion and instance policies.
// Kept apart from kmsClient.ts so the envelope-encryption client stays readable.
import type { HttpResponse } from "./http";
import { IbmCloudError } from "./errors";
import { KMS_POLICY_TYPE } from "./kmsWire";

/** One version of a root key (`GET /api/v2/keys/{id}/versions`), newest first. */
export interface KmsKeyVersion {
    id: string;
    creationDate?: string;
}

export interface KmsRegistration {
    keyId: string;
    /** The CRN of the resource (a bucket, a database) another service protects with the key. */
    resourceCrn: string;
    description?: string;
    /** A retention policy: IBM refuses to delete the key, even with force. */
    preventKeyDeletion: boolean;
    /** The key version the resource uses. */
    keyVersion?: string;
    createdBy?: string;
    creationDate?: string;
    lastUpdated?: string;
}

export interface KmsKeyAlias {
    keyId: string;
    alias: string;
    creationDate?: string;
    createdBy?: string;
}

/** Instance policies (`/api/v2/instance/policies`), each present only when set. */
export interface KmsInstancePolicySettings {
    dualAuthDelete?: { enabled: boolean };
    rotation?: { enabled: boolean; intervalMonth?: number };
    metrics?: { enabled: boolean };
    keyCreateImportAccess?: {
        enabled: boolean;
        createRootKey?: boolean;
        createStandardKey?: boolean;
        importRootKey?: boolean;
        importStandardKey?: boolean;
        enforceToken?: boolean;
    };
    allowedNetwork?: { enabled: boolean; allowedNetwork: "public-and-private" | "private-only" };
}

const ACCESS: [keyof NonNullable<KmsInstancePolicySettings["keyCreateImportAccess"]>, string][] = [
    ["createRootKey", "create_root_key"],
    ["createStandardKey", "create_standard_key"],
    ["importRootKey", "import_root_key"],
    ["importStandardKey", "import_standard_key"],
    ["enforceToken", "enforce_token"],
];

function unexpected(res: HttpResponse<unknown>, operation: string, why: string): IbmCloudError {
    return new IbmCloudError({
        operation,
        status: res.status,
        code: "unexpected_response",
        ibmMessage: `KMS answered with an unexpected body: ${why}`,
        traceId: res.headers["correlation-id"] ?? res.correlationId,
    });
}

function resourcesOf(res: HttpResponse<unknown>, operation: string): Record<string, unknown>[] {
    const body = res.body as { resources?: unknown } | null;
    if (!body || typeof body !== "object") throw unexpected(res, operation, "not a KMS collection");
    const r = body.resources ?? [];
    if (!Array.isArray(r) || r.some((x) => !x || typeof x !== "object")) throw unexpected(res, operation, "resources: expected an array of objects");
    return r as Record<string, unknown>[];
}

export function parseVersions(res: HttpResponse<unknown>, operation: string): KmsKeyVersion[] {
    return resourcesOf(res, operation).map((r, i) => {
        if (typeof r.id !== "string") throw unexpected(res, operation, `resources[${i}].id: expected a string`);
        return { id: r.id, ...(typeof r.creationDate === "string" ? { creationDate: r.creationDate } : {}) };
    });
}

export function parseRegistrations(res: HttpResponse<unknown>, operation: string): KmsRegistration[] {
    return resourcesOf(res, operation).map((r, i) => {
        if (typeof r.keyId !== "string" || typeof r.resourceCrn !== "string")
            throw unexpected(res, operation, `resources[${i}]: keyId and resourceCrn expected`);
        const g: KmsRegistration = { keyId: r.keyId, resourceCrn: r.resourceCrn, preventKeyDeletion: r.preventKeyDeletion === true };
        if (typeof r.description === "string") g.description = r.description;
        const v = r.keyVersion as { id?: unknown } | undefined;
        if (typeof v?.id === "string") g.keyVersion = v.id;
        for (const f of ["createdBy", "creationDate", "lastUpdated"] as const) if (typeof r[f] === "string") g[f] = r[f] as string;
        return g;
    });
}

export function parseAlias(res: HttpResponse<unknown>, operation: string): KmsKeyAlias {
    const r = resourcesOf(res, operation)[0];
    if (!r || typeof r.keyId !== "string" || typeof r.alias !== "string") throw unexpected(res, operation, "resources[0]: keyId and alias expected");
    const a: KmsKeyAlias = { keyId: r.keyId, alias: r.alias };
    if (typeof r.creationDate === "string") a.creationDate = r.creationDate;
    if (typeof r.createdBy === "string") a.createdBy = r.createdBy;
    return a;
}

export function parseInstancePolicies(res: HttpResponse<unknown>, operation: string): KmsInstancePolicySettings {
    const out: KmsInstancePolicySettings = {};
    for (const r of resourcesOf(res, operation)) {
        const data = (r.policy_data ?? {}) as { enabled?: unknown; attributes?: Record<string, unknown> };
        const enabled = data.enabled === true;
        const a = data.attributes ?? {};
        switch (r.policy_type) {
            case "dualAuthDelete":
            case "metrics":
                out[r.policy_type] = { enabled };
                break;
            case "rotation":
                out.rotation = { enabled, ...(typeof a.interval_month === "number" ? { intervalMonth: a.interval_month } : {}) };
                break;
            case "allowedNetwork":
                out.allowedNetwork = { enabled, allowedNetwork: a.allowed_network === "private-only" ? "private-only" : "public-and-private" };
                break;
            case "keyCreateImportAccess": {
                const p: NonNullable<KmsInstancePolicySettings["keyCreateImportAccess"]> = { enabled };
                for (const [ours, ibm] of ACCESS) if (typeof a[ibm] === "boolean") p[ours] = a[ibm] as boolean;
                out.keyCreateImportAccess = p;
                break;
            }
        }
    }
    return out;
}

/** The PUT body for the policies given (IBM's `policy_type` / `policy_data` form). */
export function instancePoliciesBody(p: KmsInstancePolicySettings): { metadata: { collectionType: string; collectionTotal: number }; resources: unknown[] } {
    const resources: unknown[] = [];
    if (p.dualAuthDelete) resources.push({ policy_type: "dualAuthDelete", policy_data: { enabled: p.dualAuthDelete.enabled } });
    if (p.metrics) resources.push({ policy_type: "metrics", policy_data: { enabled: p.metrics.enabled } });
    if (p.rotation) {
        const attributes = p.rotation.intervalMonth !== undefined ? { attributes: { interval_month: p.rotation.intervalMonth } } : {};
        resources.push({ policy_type: "rotation", policy_data: { enabled: p.rotation.enabled, ...attributes } });
    }
    if (p.allowedNetwork) {
        resources.push({
            policy_type: "allowedNetwork",
            policy_data: { enabled: p.allowedNetwork.enabled, attributes: { allowed_network: p.allowedNetwork.allowedNetwork } },
        });
    }
    if (p.keyCreateImportAccess) {
        const attributes: Record<string, boolean> = {};
        for (const [ours, ibm] of ACCESS) {
            const v = p.keyCreateImportAccess[ours];
            if (typeof v === "boolean") attributes[ibm] = v;
        }
        resources.push({ policy_type: "keyCreateImportAccess", policy_data: { enabled: p.keyCreateImportAccess.enabled, attributes } });
    }
    if (resources.length === 0)
        throw new Error("setInstancePolicies: give at least one of dualAuthDelete, rotation, metrics, keyCreateImportAccess, allowedNetwork");
    return { metadata: { collectionType: KMS_POLICY_TYPE, collectionTotal: resources.length }, resources };
}
