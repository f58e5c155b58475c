// Key policies (GET/PUT /api/v2/keys/{id}/policies): a rotation interval in months (1-12) and dual
// authorization delete, in Key Protect's policy envelope.
import * as crypto from "crypto";
import { KmsError } from "../core/errors";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { InstanceRecord, KmsKeyPolicyRecord, KmsKeyRecord } from "../core/state";
import { envelope, K, KmsRoutes } from "./keys";

export const POLICY_TYPE = "application/vnd.ibm.kms.policy+json";
type PolicyName = "rotation" | "dualAuthDelete";
const NAMES: readonly PolicyName[] = ["rotation", "dualAuthDelete"];

const P = {
    totalMismatch: () =>
        new KmsError(
            400,
            "COLLECTION_TOTAL_MISMATCH_ERR",
            "Collection total does not match number of resources",
            "Bad Request: Key policy could not be set. Please see `reasons` for more details.",
        ),
    queryMismatch: () =>
        new KmsError(
            400,
            "BODY_QUERY_PARAM_MISMATCH_ERR",
            "Data in body does not match data required by query parameter",
            "Bad Request: Key policy could not be set. Please see `reasons` for more details.",
        ),
};

function policyParam(ctx: Ctx): PolicyName | undefined {
    const p = ctx.query.get("policy");
    if (p === null) return undefined;
    if (!(NAMES as readonly string[]).includes(p)) throw K.badParam("policy must be rotation or dualAuthDelete");
    return p as PolicyName;
}

function render(r: KmsRoutes, inst: InstanceRecord, k: KmsKeyRecord, name: PolicyName): Record<string, unknown> | undefined {
    const p = k.policies?.[name];
    if (!p) return undefined;
    const crn = `crn:v1:bluemix:public:${inst.service}:${inst.region}:a/${r.emu.store.data.accountId}:${inst.guid}:key:${k.id}`;
    const data =
        name === "rotation"
            ? { rotation: { enabled: k.policies!.rotation!.enabled, interval_month: k.policies!.rotation!.intervalMonth } }
            : { dualAuthDelete: { enabled: k.policies!.dualAuthDelete!.enabled } };
    return {
        id: p.id,
        crn,
        ...data,
        createdBy: p.createdBy,
        creationDate: p.creationDate,
        updatedBy: p.updatedBy,
        lastUpdateDate: p.lastUpdateDate,
        type: POLICY_TYPE,
    };
}

interface Wanted {
    rotation?: { enabled: boolean; intervalMonth: number };
    dualAuthDelete?: { enabled: boolean };
}

function parsePut(ctx: Ctx, only: PolicyName | undefined): Wanted {
    const b = ctx.json<Record<string, unknown>>();
    const md = b?.metadata as Record<string, unknown> | undefined;
    if (!md || md.collectionType !== POLICY_TYPE || typeof md.collectionTotal !== "number") {
        throw K.badBody(`metadata must be {collectionType: ${POLICY_TYPE}, collectionTotal: <number of policies>}`);
    }
    if (!Array.isArray(b.resources) || b.resources.length < 1 || b.resources.length > 2) throw K.badBody("resources must hold one or two policies");
    if (md.collectionTotal !== b.resources.length) throw P.totalMismatch();
    const out: Wanted = {};
    for (const [i, raw] of (b.resources as unknown[]).entries()) {
        const res = raw as Record<string, unknown>;
        if (!res || typeof res !== "object") throw K.badBody(`resources[${i}] must be an object`);
        if (res.type !== POLICY_TYPE) throw K.badBody(`resources[${i}].type must be ${POLICY_TYPE}`);
        const extra = Object.keys(res).filter((f) => f !== "type" && f !== "rotation" && f !== "dualAuthDelete");
        if (extra.length) throw K.badBody(`resources[${i}]: unknown field "${extra[0]}"`);
        if ((res.rotation === undefined) === (res.dualAuthDelete === undefined)) throw K.badBody(`resources[${i}] must hold either rotation or dualAuthDelete`);
        if (res.rotation !== undefined) {
            if (out.rotation) throw K.badBody("only one rotation policy can be set");
            const rot = res.rotation as Record<string, unknown>;
            const enabled = rot?.enabled === undefined ? true : rot.enabled;
            if (typeof enabled !== "boolean") throw K.badBody("rotation.enabled must be a boolean");
            const m = rot?.interval_month;
            if (!Number.isInteger(m) || (m as number) < 1 || (m as number) > 12)
                throw K.badBody("rotation.interval_month must be a whole number of months from 1 to 12");
            out.rotation = { enabled, intervalMonth: m as number };
        } else {
            if (out.dualAuthDelete) throw K.badBody("only one dualAuthDelete policy can be set");
            const enabled = (res.dualAuthDelete as Record<string, unknown>)?.enabled;
            if (typeof enabled !== "boolean") throw K.badBody("dualAuthDelete.enabled must be a boolean");
            out.dualAuthDelete = { enabled };
        }
    }
    if (only && (Object.keys(out).length !== 1 || !(only in out))) throw P.queryMismatch();
    return out;
}

export function keyPolicyHandlers(r: KmsRoutes) {
    const emu = r.emu;

    const list: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const only = policyParam(ctx);
        const k = r.authorizedKey(ctx, inst, "secrets.readpolicies");
        const names = only ? [only] : NAMES;
        const resources = names.map((n) => render(r, inst, k, n)).filter((x): x is Record<string, unknown> => x !== undefined);
        r.send(ctx, 200, envelope(resources, POLICY_TYPE));
    };

    const replace: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const only = policyParam(ctx);
        const k = r.authorizedKey(ctx, inst, "secrets.setpolicies");
        const wanted = parsePut(ctx, only);
        // (choice) a standard key is never rotated, so it takes no rotation policy
        if (wanted.rotation && k.extractable) throw K.rootRequired("Key policy could not be set");
        const now = r.time();
        const stamp = (old: KmsKeyPolicyRecord | undefined): KmsKeyPolicyRecord => ({
            id: old?.id ?? crypto.randomUUID(),
            creationDate: old?.creationDate ?? now,
            createdBy: old?.createdBy ?? ctx.caller!.iamId,
            lastUpdateDate: now,
            updatedBy: ctx.caller!.iamId,
        });
        k.policies ??= {};
        const policies = k.policies;
        if (wanted.rotation) policies.rotation = { ...stamp(policies.rotation), ...wanted.rotation };
        if (wanted.dualAuthDelete) {
            policies.dualAuthDelete = { ...stamp(policies.dualAuthDelete), ...wanted.dualAuthDelete };
            if (!wanted.dualAuthDelete.enabled) delete k.deletionAuthorization;
        }
        k.lastUpdateDate = now;
        emu.store.save();
        const set = NAMES.filter((n) => wanted[n] !== undefined).map((n) => render(r, inst, k, n)!);
        r.send(ctx, 200, envelope(set, POLICY_TYPE));
    };

    return { list, replace };
}
