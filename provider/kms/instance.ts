// The KMS instance every KMS resource (KmsKey, KmsKeyRing, KmsAccessReady) and the KmsAccess component
// names: its fields and their validation (by GUID, or by CRN from which service, region and GUID are
// taken), the arguments and state they make, and how a stored instance differs from new inputs. Where its
// calls go is endpoint.ts; reaching it as an identity is session.ts and asServiceId.ts.
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { KmsService, validateEndpoint } from "../../client/config";
import { CheckFailure, validate } from "../check/validate";
import { compact, UNKNOWN } from "../core/props";

/** `hs-crypto` until HPCS's end of marketing made Key Protect the first path; kept so state and stacks written before read the same. */
export const DEFAULT_KMS_SERVICE: KmsService = "hs-crypto";

const GUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

// ---------- fields ----------

/** Zod field for a KMS instance GUID. */
export function kmsInstanceIdField(crnName = "instanceCrn") {
    return z
        .string({ error: `instanceId must be the instance GUID (a string); or give the instance by its CRN as ${crnName}` })
        .trim()
        .regex(new RegExp(GUID_PATTERN), {
            error: "instanceId must be the instance GUID such as 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b (the last-but-two segment of the instance CRN); to give the instance by its CRN, use instanceCrn",
        });
}

/** Zod field for an instance CRN (its form is judged by `applyInstanceCrn`, which also fills the fields it implies). */
export function kmsInstanceCrnField(field: string) {
    return z.string({ error: `${field} must be the instance CRN (a string) such as crn:v1:bluemix:public:kms:us-south:a/<account>:<instance guid>::` });
}

/** Zod field for the KMS service name. */
export function kmsServiceField() {
    return z.enum(["hs-crypto", "kms"], { error: "service must be hs-crypto (Hyper Protect Crypto Services) or kms (Key Protect)" });
}

/** Zod field for a KMS endpoint override (https, or http on loopback for the emulator). */
export function kmsEndpointField(field: string) {
    return z.string({ error: `${field} must be a URL string` }).superRefine((v, ctx) => {
        try {
            validateEndpoint(field, v);
        } catch (e) {
            ctx.addIssue({ code: "custom", message: (e as Error).message });
        }
    });
}

/** Zod field for a region id. */
export function kmsRegionField() {
    return z
        .string({ error: "region must be a string" })
        .regex(/^[a-z]{2,}(-[a-z0-9]+)+$/, { error: "region must be an IBM Cloud region id such as us-south, eu-de or jp-tok" });
}

/** Zod field for the service ID's API key a KMS resource acts with (KmsKey, KmsKeyRing, KmsAccessReady). */
export function kmsApiKeyField() {
    return z
        .string({ error: "apiKey must be the service ID's API key (a string), e.g. serviceApiKey.apikey" })
        .min(1, { error: "apiKey must not be empty; pass the service ID's API key, e.g. serviceApiKey.apikey or kmsAccess.apiKey" });
}

/** Zod field for a key ring id as KMS accepts it: 2 to 100 letters, digits or dashes. */
export function keyRingIdField(field: "keyRing" | "keyRingId", example: string) {
    return z
        .string({ error: `${field} must be a string such as "${example}"` })
        .regex(/^[a-zA-Z0-9-]{2,100}$/, { error: `${field} must be 2 to 100 letters, digits or dashes, e.g. "${example}"` });
}

/**
 * The instance fields every KMS resource takes, as a zod shape (`prefix` names the object they sit in,
 * for messages: `instance.` in KmsAccess). The CRN is `instanceCrn` on resources (their `crn` output is
 * the key's own) and `crn` inside KmsAccess's `instance`. Run `applyInstanceCrn` first: it fills
 * instanceId, service and region from the CRN, so instanceId is present whenever a CRN was given.
 */
export function kmsInstanceShape(endpointField = "endpoint", crnKey: "instanceCrn" | "crn" = "instanceCrn") {
    const crnName = endpointField.endsWith(".endpoint") ? `${endpointField.slice(0, -".endpoint".length)}.${crnKey}` : crnKey;
    return {
        instanceId: kmsInstanceIdField(crnName),
        [crnKey]: kmsInstanceCrnField(crnName).optional(),
        service: kmsServiceField().optional(),
        region: kmsRegionField().optional(),
        endpoint: kmsEndpointField(endpointField).optional(),
    } as {
        instanceId: ReturnType<typeof kmsInstanceIdField>;
        instanceCrn: z.ZodOptional<ReturnType<typeof kmsInstanceCrnField>>;
        service: z.ZodOptional<ReturnType<typeof kmsServiceField>>;
        region: z.ZodOptional<ReturnType<typeof kmsRegionField>>;
        endpoint: z.ZodOptional<ReturnType<typeof kmsEndpointField>>;
    };
}

// ---------- instances by CRN ----------

/** What an instance CRN says. */
export interface KmsInstanceCrn {
    service: KmsService;
    region: string;
    accountId: string;
    instanceId: string;
}

const CRN_EXAMPLE = "crn:v1:bluemix:public:kms:us-south:a/<account>:<instance guid>::";

/**
 * Reads an instance CRN `crn:v1:<cname>:<ctype>:<kms|hs-crypto>:<region>:a/<account>:<guid>::`
 * (IBM's CRN format: ten colon-separated segments; an instance has empty resource type and resource).
 */
export function parseKmsInstanceCrn(crn: string): { ok: true; value: KmsInstanceCrn } | { ok: false; reason: string } {
    const bad = (why: string) => ({
        ok: false as const,
        reason: `${why}; an instance CRN looks like ${CRN_EXAMPLE} (the instance's CRN in the resource list, or \`ibmcloud resource service-instance <name> --output json\`)`,
    });
    const parts = crn.trim().split(":");
    if (parts[0] !== "crn" || parts[1] !== "v1") return bad("not a CRN: it must start with crn:v1:");
    if (parts.length !== 10) return bad(`a CRN has 10 colon-separated segments, this one has ${parts.length}`);
    const [, , cname, ctype, service, region, scope, guid, resourceType, resource] = parts;
    if (!/^[a-z0-9-]+$/.test(cname) || !/^[a-z0-9-]+$/.test(ctype)) return bad("the CRN's cloud name and type (e.g. bluemix:public) are malformed");
    if (service !== "kms" && service !== "hs-crypto") {
        return bad(`the CRN is of service "${service}", not of a KMS instance (kms = Key Protect, hs-crypto = Hyper Protect Crypto Services)`);
    }
    if (!/^[a-z]{2,}(-[a-z0-9]+)+$/.test(region)) return bad(`the CRN's location "${region}" is not a region id such as us-south`);
    const account = /^a\/([0-9a-fA-F]{32})$/.exec(scope);
    if (!account) return bad("the CRN's scope must be the account as a/<32 hex characters>");
    if (!new RegExp(GUID_PATTERN).test(guid)) return bad("the CRN's instance segment is not an instance GUID");
    if (resourceType !== "" || resource !== "") {
        return bad(
            `this is the CRN of a ${resourceType || "resource"} inside the instance, not of the instance: drop ":${resourceType}:${resource}" and end it with "::"`,
        );
    }
    return { ok: true, value: { service, region, accountId: account[1], instanceId: guid.toLowerCase() } };
}

/**
 * Fills `instanceId`, `service` and `region` from the CRN in `fields[crnKey]` (when given and known),
 * refusing a malformed CRN and any given field it contradicts. `prefix` (`instance.`) names the fields
 * in failures. While the CRN is a preview unknown, the fields it would give are unknown too.
 */
export function applyInstanceCrn(
    fields: Record<string, unknown>,
    crnKey: "instanceCrn" | "crn" = "instanceCrn",
    prefix = "",
): { fields: Record<string, unknown>; failures: CheckFailure[] } {
    const crn = fields[crnKey];
    if (crn === undefined || crn === null) return { fields, failures: [] };
    if (crn === UNKNOWN) {
        const out = { ...fields };
        for (const k of ["instanceId", "service", "region"]) if (out[k] === undefined) out[k] = UNKNOWN;
        return { fields: out, failures: [] };
    }
    if (typeof crn !== "string") return { fields, failures: [] }; // the zod field names the wrong type
    const parsed = parseKmsInstanceCrn(crn);
    if (!parsed.ok) return { fields, failures: [{ property: `${prefix}${crnKey}`, reason: `${prefix}${crnKey} is not a KMS instance CRN: ${parsed.reason}` }] };
    const c = parsed.value;
    const failures: CheckFailure[] = [];
    const contradicts = (field: string, given: unknown, fromCrn: string, same: (a: string, b: string) => boolean = (a, b) => a === b) => {
        if (typeof given !== "string" || given === UNKNOWN || same(given, fromCrn)) return;
        failures.push({
            property: `${prefix}${field}`,
            reason: `${prefix}${field} "${given}" contradicts ${prefix}${crnKey}, which says ${field} ${fromCrn}: remove ${prefix}${field} (the CRN gives it) or fix one of them`,
        });
    };
    contradicts("instanceId", fields.instanceId, c.instanceId, (a, b) => a.toLowerCase() === b);
    contradicts("service", fields.service, c.service);
    contradicts("region", fields.region, c.region);
    if (failures.length > 0) return { fields, failures };
    return {
        fields: {
            ...fields,
            instanceId: typeof fields.instanceId === "string" ? fields.instanceId : c.instanceId,
            service: c.service,
            region: c.region,
            [crnKey]: crn.trim(),
        },
        failures: [],
    };
}

// ---------- arguments ----------

/** The instance arguments of every KMS resource (KmsKey, KmsKeyRing, KmsAccessReady). */
export interface KmsInstanceFieldArgs {
    /** GUID of the Key Protect or HPCS instance (the last-but-two segment of its CRN); or give `instanceCrn`. Changing it replaces the resource. */
    instanceId?: pulumi.Input<string>;
    /**
     * The instance by its CRN (`crn:v1:bluemix:public:kms:us-south:a/<account>:<guid>::`): instanceId, service
     * and region are taken from it (given as well, they must agree with it).
     */
    instanceCrn?: pulumi.Input<string>;
    /** `hs-crypto` (Hyper Protect Crypto Services, the default kept for state written before) or `kms` (Key Protect). Changing it replaces the resource. */
    service?: pulumi.Input<"hs-crypto" | "kms">;
    /** Region of the instance, e.g. `us-south`; defaults to `ibmcloud:region` / `IC_REGION` / us-south. Used to build the endpoint. */
    region?: pulumi.Input<string>;
    /** KMS base URL; wins over `region` (and over `ibmcloud:kmsEndpoint`). Changing region or endpoint only re-points the resource, it is never replaced. */
    endpoint?: pulumi.Input<string>;
}

/** The instance fields as state holds them (outputs of every KMS resource). */
export interface KmsInstanceFields {
    instanceId?: string;
    instanceCrn?: string;
    service?: KmsService;
    region?: string;
    endpoint?: string;
}

/** The instance inputs a stored state corresponds to (read's `inputs`, a static get()): region if recorded, else the endpoint. */
export function instanceInputsOf(p: KmsInstanceFields): KmsInstanceFields {
    const out: KmsInstanceFields = compact({ instanceId: p.instanceId, service: p.service ?? DEFAULT_KMS_SERVICE, instanceCrn: p.instanceCrn });
    if (p.region !== undefined) out.region = p.region;
    else if (p.endpoint !== undefined) out.endpoint = p.endpoint;
    return out;
}

/**
 * How a resource's stored instance differs from new inputs: `replaces` for another instance or service
 * (KMS objects cannot move), `updates` for a new endpoint or region (the same object, re-pointed).
 */
export function diffKmsInstance(olds: KmsInstanceFields, news: KmsInstanceFields): { replaces: string[]; updates: string[] } {
    const replaces: string[] = [];
    const updates: string[] = [];
    const newId = typeof news.instanceId === "string" && news.instanceId !== UNKNOWN ? news.instanceId.toLowerCase() : news.instanceId;
    if (newId === UNKNOWN || (olds.instanceId ?? "").toLowerCase() !== newId) replaces.push("instanceId");
    const newService: string = news.service ?? DEFAULT_KMS_SERVICE;
    if (newService === UNKNOWN || (olds.service ?? DEFAULT_KMS_SERVICE) !== newService) replaces.push("service");
    if (news.endpoint !== undefined && (news.endpoint === UNKNOWN || normalizeEndpoint(news.endpoint) !== olds.endpoint)) updates.push("endpoint");
    else if (news.endpoint === undefined && news.region !== undefined && news.region !== olds.region) updates.push("region");
    return { replaces, updates };
}

/** An endpoint as it is stored (validated and normalised); an invalid one unchanged, for diff to compare. */
export function normalizeEndpoint(v: string): string {
    try {
        return validateEndpoint("endpoint", v);
    } catch {
        return v;
    }
}

/**
 * `check` of a KMS resource: the instance CRN applied (its failures first, alone), then `schema`;
 * the checked inputs keep the engine's `__provider` and take zod's defaults.
 */
export function checkKmsResource(news: Record<string, unknown>, schema: z.ZodType): { inputs: Record<string, unknown>; failures: CheckFailure[] } {
    const { __provider: _p, ...inputs } = news;
    const fromCrn = applyInstanceCrn(inputs);
    if (fromCrn.failures.length > 0) return { inputs: news, failures: fromCrn.failures };
    const r = validate(schema, fromCrn.fields);
    if (!r.ok) return { inputs: news, failures: r.failures };
    return { inputs: { ...news, ...compact(r.value as Record<string, unknown>) }, failures: [] };
}
