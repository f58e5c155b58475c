// Instance policies (PUT/GET /api/v2/instance/policies): dual authorization delete, rotation, metrics, who may
// create or import which keys (keyCreateImportAccess) and the allowed network. Key creation consults them:
// keys created afterwards inherit dual authorization and rotation, and keyCreateImportAccess is enforced.
import { KmsError } from "../core/errors";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { KmsInstancePolicyRecord, StateStore } from "../core/state";
import { INSTANCE_POLICY_TYPES as TYPES, InstancePolicyType as PolicyType, policyOf } from "./instancePolicyRules";
import { POLICY_TYPE } from "./keyPolicies";
import { K, KmsRoutes } from "./keys";
const ACCESS_FIELDS = ["create_root_key", "create_standard_key", "import_root_key", "import_standard_key", "enforce_token"] as const;

const P = {
    numCollection: () =>
        new KmsError(
            400,
            "NUM_COLLECTION_RESOURCE_ERR",
            "Only a single instance policy can be created per query parameter: Please pass single resource object",
            "Bad Request: Instance policy could not be created. Please see `reasons` for more details.",
        ),
    totalMismatch: () =>
        new KmsError(
            400,
            "COLLECTION_TOTAL_MISMATCH_ERR",
            "Collection total does not match number of resources",
            "Bad Request: Instance policy could not be created. Please see `reasons` for more details.",
        ),
    queryMismatch: () =>
        new KmsError(
            400,
            "BODY_QUERY_PARAM_MISMATCH_ERR",
            "Data in body does not match data required by query parameter",
            "Bad Request: Instance policy could not be created. Please see `reasons` for more details.",
        ),
};

function policies(store: StateStore): KmsInstancePolicyRecord[] {
    if (!store.data.kmsInstancePolicies) store.data.kmsInstancePolicies = [];
    return store.data.kmsInstancePolicies;
}

function policyParam(ctx: Ctx): PolicyType | undefined {
    const p = ctx.query.get("policy");
    if (p === null) return undefined;
    if (!(TYPES as readonly string[]).includes(p)) throw K.badParam(`policy must be one of ${TYPES.join(", ")}`);
    return p as PolicyType;
}

function checkData(type: PolicyType, raw: unknown, i: number): KmsInstancePolicyRecord["policyData"] {
    const at = `resources[${i}].policy_data`;
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw K.badBody(`${at} must be an object {enabled, attributes?}`);
    const d = raw as Record<string, unknown>;
    if (typeof d.enabled !== "boolean") throw K.badBody(`${at}.enabled must be a boolean`);
    const attrs = d.attributes;
    if (attrs !== undefined && (!attrs || typeof attrs !== "object" || Array.isArray(attrs))) throw K.badBody(`${at}.attributes must be an object`);
    const a = (attrs ?? {}) as Record<string, unknown>;
    const known = (names: readonly string[]) => {
        const extra = Object.keys(a).filter((n) => !names.includes(n));
        if (extra.length) throw K.badBody(`${at}.attributes: unknown attribute "${extra[0]}" for a ${type} policy`);
    };
    switch (type) {
        case "dualAuthDelete":
        case "metrics":
            known([]);
            return { enabled: d.enabled };
        case "rotation": {
            known(["interval_month"]);
            const m = a.interval_month;
            if (d.enabled && (!Number.isInteger(m) || (m as number) < 1 || (m as number) > 12)) {
                throw K.badBody(`${at}.attributes.interval_month must be a whole number of months from 1 to 12`);
            }
            return { enabled: d.enabled, ...(m !== undefined ? { attributes: { interval_month: m } } : {}) };
        }
        case "allowedNetwork": {
            known(["allowed_network"]);
            if (a.allowed_network !== "public-and-private" && a.allowed_network !== "private-only") {
                throw K.badBody(`${at}.attributes.allowed_network must be public-and-private or private-only`);
            }
            return { enabled: d.enabled, attributes: { allowed_network: a.allowed_network } };
        }
        case "keyCreateImportAccess": {
            known(ACCESS_FIELDS);
            const out: Record<string, boolean> = {};
            for (const f of ACCESS_FIELDS) {
                if (a[f] !== undefined && typeof a[f] !== "boolean") throw K.badBody(`${at}.attributes.${f} must be a boolean`);
                // IBM's defaults: everything allowed, import tokens not enforced
                out[f] = (a[f] as boolean | undefined) ?? f !== "enforce_token";
            }
            return { enabled: d.enabled, attributes: out };
        }
    }
}

export function instancePolicyHandlers(r: KmsRoutes) {
    const emu = r.emu;

    const list: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        r.authorize(ctx, inst, "instancepolicies.read");
        const only = policyParam(ctx);
        const resources = policies(emu.store)
            .filter((p) => p.instance === inst.guid && (!only || p.policyType === only))
            .map((p) => ({
                policy_type: p.policyType,
                policy_data: p.policyData,
                createdBy: p.createdBy,
                creationDate: p.creationDate,
                updatedBy: p.updatedBy,
                lastUpdated: p.lastUpdated,
            }));
        r.send(ctx, 200, { metadata: { collectionType: POLICY_TYPE, collectionTotal: resources.length }, resources });
    };

    const replace: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        r.authorize(ctx, inst, "instancepolicies.write");
        const only = policyParam(ctx);
        const b = ctx.json<Record<string, unknown>>();
        const md = b?.metadata as Record<string, unknown> | undefined;
        if (!md || md.collectionType !== POLICY_TYPE || typeof md.collectionTotal !== "number") {
            throw K.badBody(`metadata must be {collectionType: ${POLICY_TYPE}, collectionTotal: <number of policies>}`);
        }
        if (!Array.isArray(b.resources) || b.resources.length < 1) throw K.badBody("resources must hold at least one policy");
        if (md.collectionTotal !== b.resources.length) throw P.totalMismatch();
        if (only && b.resources.length !== 1) throw P.numCollection();
        const wanted = new Map<PolicyType, KmsInstancePolicyRecord["policyData"]>();
        for (const [i, raw] of (b.resources as unknown[]).entries()) {
            const res = raw as Record<string, unknown>;
            if (!res || typeof res !== "object") throw K.badBody(`resources[${i}] must be an object {policy_type, policy_data}`);
            const type = res.policy_type;
            if (!(TYPES as readonly unknown[]).includes(type)) throw K.badBody(`resources[${i}].policy_type must be one of ${TYPES.join(", ")}`);
            if (only && type !== only) throw P.queryMismatch();
            if (wanted.has(type as PolicyType)) throw P.numCollection();
            wanted.set(type as PolicyType, checkData(type as PolicyType, res.policy_data, i));
        }
        const now = r.time();
        const by = ctx.caller!.iamId;
        for (const [type, data] of wanted) {
            const old = policyOf(emu.store, inst, type);
            if (old) Object.assign(old, { policyData: data, updatedBy: by, lastUpdated: now });
            else
                policies(emu.store).push({
                    instance: inst.guid,
                    policyType: type,
                    policyData: data,
                    createdBy: by,
                    creationDate: now,
                    updatedBy: by,
                    lastUpdated: now,
                });
        }
        emu.store.save();
        r.send(ctx, 204);
    };

    return { list, replace };
}
