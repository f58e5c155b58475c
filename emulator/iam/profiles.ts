// IAM Identity v1 trusted profiles: create, list (paging, name and filter), get, update with If-Match, delete.
// Their claim rules, links and trusted identities are in profileTrust.ts; the grants that turn a profile into
// tokens in profileTokens.ts.
import * as crypto from "crypto";
import { z } from "zod";
import type { StoreContext } from "../core/context";
import {
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
import { IamError } from "../core/errors";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { ComputeResourceType, identityTime, ProfileRecord, randomHex, StateData } from "../core/state";

export const CR_TYPES: readonly ComputeResourceType[] = ["VSI", "BMS", "PVS", "IKS_SA", "ROKS_SA", "CE"];
export const KUBERNETES_CR_TYPES: readonly ComputeResourceType[] = ["IKS_SA", "ROKS_SA"];

export function profileCrn(p: ProfileRecord): string {
    return `crn:v1:bluemix:public:iam-identity::a/${p.accountId}::profile:${p.id}`;
}

export function renderProfile(p: ProfileRecord): Record<string, unknown> {
    const o: Record<string, unknown> = {
        id: p.id,
        entity_tag: entityTag(p),
        crn: profileCrn(p),
        name: p.name,
    };
    if (p.description !== undefined) o.description = p.description;
    if (p.email !== undefined) o.email = p.email;
    o.created_at = p.createdAt;
    o.modified_at = p.modifiedAt;
    o.iam_id = p.iamId;
    o.account_id = p.accountId;
    return o;
}

// bodies -------------------------------------------------------------------------------

const accountField = z.string({ error: "The field 'account_id' is required." }).min(1, { error: "The field 'account_id' is required." });

const createBody = z.object({
    name: fields.name(),
    account_id: accountField,
    description: fields.text("description"),
    email: fields.text("email"),
});

const updateBody = z.object({
    name: fields.name().optional(),
    description: fields.text("description"),
    email: fields.text("email"),
});

export function crnAccount(crn: string): string | undefined {
    const parts = crn.split(":");
    if (parts.length < 8 || parts[0] !== "crn") return undefined;
    const scope = parts[6];
    return scope.startsWith("a/") ? scope.slice(2) : undefined;
}

export function newTag(): { etagVersion: number; etagHash: string } {
    return { etagVersion: 1, etagHash: randomHex(16) };
}

/** `filter` as the SDK documents it is a query language the emulator does not model; name equality is what tests use. */
function parseFilter(filter: string | null): ((p: ProfileRecord) => boolean) | undefined {
    if (filter === null || filter === "") return undefined;
    const m = /^\s*name\s+(eq|co|sw)\s+"([^"]*)"\s*$/i.exec(filter);
    if (!m) throw E.invalid(`The parameter 'filter' supports name eq|co|sw "<text>" here, not '${filter}'.`);
    const [, op, text] = m;
    const o = op.toLowerCase();
    return (p) => (o === "eq" ? p.name === text : o === "co" ? p.name.includes(text) : p.name.startsWith(text));
}

/** Marks a deleted profile's policies `deleted`, as IBM does for a deleted service ID's. */
function retirePolicies(d: StateData, iamId: string): void {
    const now = new Date().toISOString();
    for (const p of d.policies) {
        const subjectIds = p.body.subjects.flatMap((sub) => sub.attributes.filter((a) => a.name === "iam_id").map((a) => a.value));
        if (p.state === "active" && subjectIds.includes(iamId)) {
            p.state = "deleted";
            p.lastModifiedAt = now;
        }
    }
}

/** A profile of the caller's account, else IBM's 404 (another account's is indistinguishable from a missing one). */
export function profileOr404(emu: StoreContext, ctx: Ctx, id: string): ProfileRecord {
    const p = emu.store.profileById(id);
    if (!p || !id.startsWith("Profile-") || p.accountId !== caller(ctx).accountId) throw E.notFound("Trusted profile", id);
    return p;
}

export function profileHandlers(emu: StoreContext) {
    const write = (ctx: Ctx, p: ProfileRecord, action = "iam-identity.profile.update") => requireIdentityAction(emu, ctx, action, p.accountId);

    const create: Handler = (ctx) => {
        const b = parseBody(ctx, createBody);
        if (!/^[0-9a-f]{32}$/.test(b.account_id)) throw E.invalid(`The field 'account_id' must be an account id (32 hex characters), not '${b.account_id}'.`);
        if (b.account_id !== caller(ctx).accountId) throw E.forbidden();
        requireIdentityAction(emu, ctx, "iam-identity.profile.create", b.account_id);
        if (emu.store.profiles().some((p) => p.accountId === b.account_id && p.name === b.name)) {
            // IBM checks trusted profile names for uniqueness within the account
            throw new IamError(409, "conflict", `A trusted profile with the name '${b.name}' already exists in the account.`, "BXNIM0520E");
        }
        const id = `Profile-${crypto.randomUUID()}`;
        const now = identityTime();
        const p: ProfileRecord = {
            id,
            iamId: `iam-${id}`,
            accountId: b.account_id,
            name: b.name,
            createdAt: now,
            modifiedAt: now,
            createdBy: caller(ctx).iamId,
            ...newTag(),
            rules: [],
            links: [],
            identities: [],
            identitiesEtag: { ...newTag(), modifiedAt: now },
        };
        if (b.description !== undefined && b.description !== "") p.description = b.description;
        if (b.email !== undefined && b.email !== "") p.email = b.email;
        emu.store.profiles().push(p);
        emu.store.save();
        ctx.send(201, renderProfile(p));
    };

    const list: Handler = (ctx) => {
        const accountId = listAccount(ctx, true);
        const name = ctx.query.get("name");
        const filter = parseFilter(ctx.query.get("filter"));
        let all = emu.store.profiles().filter((p) => p.accountId === accountId && (name === null || p.name === name) && (!filter || filter(p)));
        all = sortBy(ctx, all, {
            name: (p) => p.name,
            description: (p) => p.description ?? "",
            created_at: (p) => p.createdAt,
            modified_at: (p) => p.modifiedAt,
        });
        const page = paginate(ctx, all, "/v1/profiles");
        ctx.send(200, { ...page.envelope, profiles: page.items.map((p) => withHistory(ctx, renderProfile(p))) });
    };

    const get: Handler = (ctx) => {
        ctx.send(200, withHistory(ctx, renderProfile(profileOr404(emu, ctx, ctx.params.id))));
    };

    const update: Handler = (ctx) => {
        const p = profileOr404(emu, ctx, ctx.params.id);
        write(ctx, p);
        checkIfMatch(ctx, entityTag(p));
        const b = parseBody(ctx, updateBody);
        if (b.name !== undefined && b.name !== p.name && emu.store.profiles().some((o) => o.accountId === p.accountId && o.name === b.name)) {
            throw new IamError(409, "conflict", `A trusted profile with the name '${b.name}' already exists in the account.`, "BXNIM0520E");
        }
        if (b.name !== undefined) p.name = b.name;
        if (b.description === "") delete p.description;
        else if (b.description !== undefined) p.description = b.description;
        if (b.email === "") delete p.email;
        else if (b.email !== undefined) p.email = b.email;
        bumpTag(p);
        emu.store.save();
        ctx.send(200, renderProfile(p));
    };

    const remove: Handler = (ctx) => {
        const p = profileOr404(emu, ctx, ctx.params.id);
        write(ctx, p, "iam-identity.profile.delete");
        emu.store.data.profiles = emu.store.profiles().filter((x) => x.id !== p.id);
        retirePolicies(emu.store.data, p.iamId);
        emu.store.save();
        ctx.send(204);
    };

    return { create, list, get, update, remove };
}
