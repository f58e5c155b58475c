// The wire of IAM Identity (service IDs, API keys) and Policy Management v1: the request and response
// types, the response schemas the client validates with, and the pure rules about them.
//
// Naming: objects that travel on the wire keep IBM's snake_case field names exactly (`iam_id`,
// `entity_tag`, `unique_instance_crns`), so they can be compared with IBM's docs and with what the
// emulator stores.
import { z } from "zod";

export interface ServiceIdEntity {
    id: string;
    iam_id: string;
    entity_tag: string;
    crn: string;
    locked: boolean;
    created_at?: string;
    modified_at?: string;
    account_id: string;
    name: string;
    /** Absent when unset. */
    description?: string;
    unique_instance_crns?: string[];
    /** Only in a create response that also created a key. */
    apikey?: ApiKey;
    [extra: string]: unknown;
}

export interface CreateServiceIdBody {
    /** Defaults to the account of the caller's token. */
    account_id?: string;
    name: string;
    description?: string;
    unique_instance_crns?: string[];
    apikey?: CreateApiKeyBody;
}

export interface UpdateServiceIdBody {
    name?: string;
    /** `""` clears it. */
    description?: string;
    /** `[]` clears it. */
    unique_instance_crns?: string[];
}

export type ActionWhenLeaked = "none" | "disable" | "delete";

export interface ApiKey {
    id: string;
    entity_tag: string;
    crn: string;
    locked: boolean;
    disabled?: boolean;
    created_at?: string;
    created_by?: string;
    modified_at?: string;
    support_sessions?: boolean;
    action_when_leaked?: string;
    name: string;
    description?: string;
    iam_id: string;
    account_id: string;
    /** The value: only from create, or get/update of a service-ID key created with `store_value`. */
    apikey?: string;
    leaked?: boolean;
    expires_at?: string;
    [extra: string]: unknown;
}

export interface CreateApiKeyBody {
    name: string;
    /** Accepts `iam-ServiceId-…` and `ServiceId-…`. Not used inside a service-ID create body. */
    iam_id?: string;
    description?: string;
    account_id?: string;
    /** Bring your own value (≥ 32 characters, unique). */
    apikey?: string;
    store_value?: boolean;
    support_sessions?: boolean;
    action_when_leaked?: ActionWhenLeaked;
    /** `yyyy-MM-ddTHH:mm+0000`. */
    expires_at?: string;
}

export interface UpdateApiKeyBody {
    name?: string;
    description?: string;
    support_sessions?: boolean;
    action_when_leaked?: ActionWhenLeaked;
    expires_at?: string;
}

export interface PolicyAttribute {
    name: string;
    value: string | boolean;
    operator?: string;
}

export interface PolicyBody {
    type: string;
    description?: string;
    subjects: Array<{ attributes: PolicyAttribute[] }>;
    roles: Array<{ role_id: string; display_name?: string; description?: string }>;
    resources: Array<{ attributes: PolicyAttribute[]; tags?: PolicyAttribute[] }>;
}

export interface Policy extends PolicyBody {
    id: string;
    href?: string;
    created_at?: string;
    created_by_id?: string;
    last_modified_at?: string;
    last_modified_by_id?: string;
    /** `active` or `deleted`. */
    state?: string;
    [extra: string]: unknown;
}

export interface PolicyWithEtag {
    policy: Policy;
    /** The ETag header; pass it to `replacePolicy`. */
    etag: string;
}

export interface ListPoliciesFilter {
    /** Defaults to the token's account. */
    accountId?: string;
    iamId?: string;
    type?: string;
    serviceType?: string;
    serviceName?: string;
    /** `active` (IBM's default), `deleted`. */
    state?: string;
    sort?: string;
}

export interface Role {
    display_name: string;
    description?: string;
    crn: string;
    actions?: string[];
    [extra: string]: unknown;
}

export interface RoleList {
    custom_roles: Role[];
    service_roles: Role[];
    system_roles: Role[];
}

// ---------- response validation (schemas built inside functions: never at module scope) ----------

export function serviceIdSchema() {
    return z.looseObject({
        id: z.string().min(1),
        iam_id: z.string().min(1),
        entity_tag: z.string().min(1),
        crn: z.string(),
        locked: z.boolean(),
        account_id: z.string(),
        name: z.string(),
        description: z.string().optional(),
        unique_instance_crns: z.array(z.string()).optional(),
    });
}

export function apiKeySchema() {
    return z.looseObject({
        id: z.string().min(1),
        entity_tag: z.string().min(1),
        crn: z.string(),
        locked: z.boolean(),
        disabled: z.boolean().optional(),
        name: z.string(),
        iam_id: z.string().min(1),
        account_id: z.string(),
        apikey: z.string().optional(),
    });
}

export function policySchema() {
    const attr = z.looseObject({ name: z.string(), value: z.union([z.string(), z.boolean()]), operator: z.string().optional() });
    return z.looseObject({
        id: z.string().min(1),
        type: z.string(),
        subjects: z.array(z.looseObject({ attributes: z.array(attr) })),
        roles: z.array(z.looseObject({ role_id: z.string() })),
        resources: z.array(z.looseObject({ attributes: z.array(attr) })),
        state: z.string().optional(),
    });
}

export function roleSchema() {
    return z.looseObject({ display_name: z.string(), crn: z.string(), description: z.string().optional(), actions: z.array(z.string()).optional() });
}

/** `ServiceId-x` or `iam-ServiceId-x` → `iam-ServiceId-x` (what the API keys API takes). */
export function serviceIamId(serviceId: string): string {
    return serviceId.startsWith("iam-") ? serviceId : `iam-${serviceId}`;
}

/** Reads one query parameter of a `next` link (absolute URL, relative path or bare token). */
export function queryParamOf(link: unknown, name: string): string | undefined {
    if (typeof link !== "string" || link === "") return undefined;
    try {
        const v = new URL(link, "http://placeholder.invalid").searchParams.get(name);
        return v ?? undefined;
    } catch {
        return undefined;
    }
}

/** Policy and request bodies describe the same grant (subject, roles, resource, tags; order ignored). */
export function sameGrant(policy: PolicyBody, body: PolicyBody): boolean {
    const attrs = (l: PolicyAttribute[] = []) => l.map((a) => `${a.name}\u0000${a.operator ?? "stringEquals"}\u0000${String(a.value)}`).sort();
    const key = (p: PolicyBody) =>
        JSON.stringify({
            type: p.type,
            subjects: (p.subjects ?? []).map((s) => attrs(s.attributes)),
            roles: (p.roles ?? []).map((r) => r.role_id).sort(),
            resources: (p.resources ?? []).map((r) => ({ a: attrs(r.attributes), t: attrs(r.tags) })),
        });
    return key(policy) === key(body);
}

/** @deprecated Renamed `ServiceIdEntity` (the resource class `ServiceId` is the Pulumi resource). */
export type ServiceId = ServiceIdEntity;
