// IAM Identity v1 service IDs (create with an optional inline API key, list, get, update, delete with its keys,
// lock).
import * as crypto from "crypto";
import { z } from "zod";
import { checkApiKeyInput, createApiKey, inlineApiKey, purgeLongExpiredKeys, renderApiKey } from "./apiKeys";
import type { StoreContext } from "../core/context";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { identityTime, randomHex, ServiceIdRecord } from "../core/state";
import {
    boolHeader,
    bumpTag,
    caller,
    checkIfMatch,
    entityTag,
    fields,
    identityErrors as E,
    listAccount,
    paginate,
    parseBody,
    requireIdentityAction,
    sortBy,
    withHistory,
} from "./identityCommon";

export function renderServiceId(s: ServiceIdRecord): Record<string, unknown> {
    const o: Record<string, unknown> = {
        id: s.id,
        iam_id: s.iamId,
        entity_tag: entityTag(s),
        crn: `crn:v1:bluemix:public:iam-identity::a/${s.accountId}::serviceid:${s.id}`,
        locked: s.locked,
        created_at: s.createdAt,
        modified_at: s.modifiedAt,
        account_id: s.accountId,
        name: s.name,
    };
    if (s.description !== undefined) o.description = s.description;
    o.unique_instance_crns = [...s.uniqueInstanceCrns];
    return o;
}

const createBody = z.object({
    account_id: z.string({ error: "The field 'account_id' is required." }).min(1, { error: "The field 'account_id' is required." }),
    name: fields.name(),
    description: fields.text("description"),
    unique_instance_crns: fields.strings("unique_instance_crns"),
    apikey: inlineApiKey.nullish(),
});

const updateBody = z.object({
    name: fields.name().optional(),
    description: fields.text("description"),
    unique_instance_crns: fields.strings("unique_instance_crns"),
});

export function serviceIdHandlers(emu: StoreContext) {
    const serviceIdOr404 = (ctx: Ctx, id: string): ServiceIdRecord => {
        const s = emu.store.serviceIdById(id);
        // another account's entity is indistinguishable from a missing one
        if (!s || s.accountId !== caller(ctx).accountId) throw E.notFound("Service ID", id);
        return s;
    };

    const create: Handler = (ctx) => {
        const b = parseBody(ctx, createBody);
        if (b.account_id !== caller(ctx).accountId) throw E.forbidden();
        requireIdentityAction(emu, ctx, "iam-identity.serviceid.create", b.account_id);
        if (b.apikey) checkApiKeyInput(emu, b.apikey, true);
        const id = `ServiceId-${crypto.randomUUID()}`;
        const now = identityTime();
        const record: ServiceIdRecord = {
            id,
            iamId: `iam-${id}`,
            accountId: b.account_id,
            name: b.name,
            uniqueInstanceCrns: b.unique_instance_crns ?? [],
            locked: boolHeader(ctx, "entity-lock"),
            createdAt: now,
            modifiedAt: now,
            createdBy: caller(ctx).iamId,
            etagVersion: 1,
            etagHash: randomHex(16),
        };
        if (b.description !== undefined) record.description = b.description;
        emu.store.data.serviceIds.push(record);
        const out = renderServiceId(record);
        if (b.apikey) {
            // Entity-Lock on this call locks the service ID, not its inline key
            const { record: key, value } = createApiKey(emu, caller(ctx).iamId, record, b.apikey, { locked: false, disabled: false });
            out.apikey = renderApiKey(key, value);
        }
        emu.store.save();
        ctx.send(201, out);
    };

    const list: Handler = (ctx) => {
        const accountId = listAccount(ctx, true);
        const name = ctx.query.get("name");
        let all = emu.store.data.serviceIds.filter((s) => s.accountId === accountId && (name === null || s.name === name));
        all = sortBy(ctx, all, {
            name: (s) => s.name,
            description: (s) => s.description ?? "",
            created_at: (s) => s.createdAt,
            modified_at: (s) => s.modifiedAt,
        });
        const page = paginate(ctx, all, "/v1/serviceids/");
        ctx.send(200, { ...page.envelope, serviceids: page.items.map((s) => withHistory(ctx, renderServiceId(s))) });
    };

    const get: Handler = (ctx) => {
        ctx.send(200, withHistory(ctx, renderServiceId(serviceIdOr404(ctx, ctx.params.id))));
    };

    const update: Handler = (ctx) => {
        const s = serviceIdOr404(ctx, ctx.params.id);
        requireIdentityAction(emu, ctx, "iam-identity.serviceid.update", s.accountId);
        if (s.locked) throw E.locked(`Service ID '${s.id}' is locked and cannot be updated.`);
        checkIfMatch(ctx, entityTag(s));
        const b = parseBody(ctx, updateBody);
        if (b.name !== undefined) s.name = b.name;
        if (b.description === "") delete s.description;
        else if (b.description !== undefined) s.description = b.description;
        if (b.unique_instance_crns !== undefined) s.uniqueInstanceCrns = b.unique_instance_crns;
        bumpTag(s);
        emu.store.save();
        ctx.send(200, renderServiceId(s));
    };

    const remove: Handler = (ctx) => {
        const s = serviceIdOr404(ctx, ctx.params.id);
        requireIdentityAction(emu, ctx, "iam-identity.serviceid.delete", s.accountId);
        if (s.locked) throw E.locked(`Service ID '${s.id}' is locked and cannot be deleted.`);
        purgeLongExpiredKeys(emu.store);
        const keys = emu.store.data.apiKeys.filter((k) => k.iamId === s.iamId);
        // the cascade must succeed as a whole: a locked key keeps the service ID alive
        const lockedKey = keys.find((k) => k.locked);
        if (lockedKey) throw E.locked(`Service ID '${s.id}' has the locked API key '${lockedKey.id}'; unlock it before deleting the service ID.`);
        emu.store.data.apiKeys = emu.store.data.apiKeys.filter((k) => k.iamId !== s.iamId);
        emu.store.data.serviceIds = emu.store.data.serviceIds.filter((x) => x.id !== s.id);
        const now = new Date().toISOString();
        for (const p of emu.store.data.policies) {
            const subjectIds = p.body.subjects.flatMap((sub) => sub.attributes.filter((a) => a.name === "iam_id").map((a) => a.value));
            if (p.state === "active" && subjectIds.includes(s.iamId)) {
                p.state = "deleted";
                p.lastModifiedAt = now;
            }
        }
        emu.store.save();
        ctx.send(204);
    };

    const setServiceIdLock = (locked: boolean) => (ctx: Ctx) => {
        const s = serviceIdOr404(ctx, ctx.params.id);
        requireIdentityAction(emu, ctx, "iam-identity.serviceid.update", s.accountId);
        s.locked = locked;
        emu.store.save();
        ctx.send(204);
    };
    const lock = setServiceIdLock(true);
    const unlock = setServiceIdLock(false);

    return { create, list, get, update, remove, lock, unlock };
}
