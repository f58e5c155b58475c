// What a trusted profile trusts: its claim rules (Profile-CR on a compute resource's claims, Profile-SAML on a
// federated user's), its links to compute resources (VSI, BMS, PVS, IKS_SA, ROKS_SA, CE) and the identities
// allowed to assume it (`/v1/profiles/{id}/identities`).
import * as crypto from "crypto";
import { z } from "zod";
import type { StoreContext } from "../core/context";
import { IamError } from "../core/errors";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { ClaimRuleRecord, ComputeResourceType, identityTime, ProfileIdentityRecord, ProfileLinkRecord, ProfileRecord } from "../core/state";
import { bumpTag, checkIfMatch, entityTag, fields, identityErrors as E, parseBody, requireIdentityAction } from "./identityCommon";
import { CR_TYPES, crnAccount, KUBERNETES_CR_TYPES, newTag, profileOr404 as profileOfCaller } from "./profiles";

const OPERATORS = ["EQUALS", "NOT_EQUALS", "EQUALS_IGNORE_CASE", "NOT_EQUALS_IGNORE_CASE", "CONTAINS", "IN"];
/** IBM's documented limit of claim rules per profile. */
const MAX_RULES = 20;
/** (choice) links per profile: IBM documents no number; large enough never to matter in tests. */
const MAX_LINKS = 100;
const DEFAULT_SAML_EXPIRATION = 43200;

function renderRule(r: ClaimRuleRecord): Record<string, unknown> {
    const o: Record<string, unknown> = { id: r.id, entity_tag: entityTag(r), created_at: r.createdAt, modified_at: r.modifiedAt };
    if (r.name !== undefined) o.name = r.name;
    o.type = r.type;
    if (r.realmName !== undefined) o.realm_name = r.realmName;
    o.expiration = r.expiration;
    if (r.crType !== undefined) o.cr_type = r.crType;
    o.conditions = r.conditions.map((c) => ({ ...c }));
    return o;
}

function renderLink(l: ProfileLinkRecord): Record<string, unknown> {
    const link: Record<string, unknown> = { crn: l.crn };
    if (l.namespace !== undefined) link.namespace = l.namespace;
    if (l.name !== undefined) link.name = l.name;
    if (l.componentType !== undefined) link.component_type = l.componentType;
    if (l.componentName !== undefined) link.component_name = l.componentName;
    const o: Record<string, unknown> = { id: l.id, entity_tag: entityTag(l), created_at: l.createdAt, modified_at: l.modifiedAt };
    if (l.linkName !== undefined) o.name = l.linkName;
    o.cr_type = l.crType;
    o.is_cross_account = l.isCrossAccount;
    o.link = link;
    return o;
}

function renderIdentity(i: ProfileIdentityRecord): Record<string, unknown> {
    const o: Record<string, unknown> = { iam_id: i.iamId, identifier: i.identifier, type: i.type };
    if (i.accounts !== undefined) o.accounts = [...i.accounts];
    if (i.description !== undefined) o.description = i.description;
    return o;
}

function renderIdentities(p: ProfileRecord): Record<string, unknown> {
    return { entity_tag: entityTag(p.identitiesEtag), identities: p.identities.map(renderIdentity) };
}

const crTypeField = z.enum(CR_TYPES as [ComputeResourceType, ...ComputeResourceType[]], {
    error: `The field 'cr_type' must be one of ${CR_TYPES.join(", ")}.`,
});

const conditionField = z.object({
    claim: z.string({ error: "Every condition needs a 'claim' (a string)." }).min(1, { error: "Every condition needs a 'claim' (a string)." }),
    operator: z.enum(OPERATORS as [string, ...string[]], { error: `A condition's 'operator' must be one of ${OPERATORS.join(", ")}.` }),
    value: z.string({ error: 'A condition\'s \'value\' must be a string holding a JSON value, such as "\\"default\\"".' }),
});

const ruleBody = z.object({
    type: z.enum(["Profile-CR", "Profile-SAML"], { error: "The field 'type' must be 'Profile-CR' or 'Profile-SAML'." }),
    name: fields.text("name"),
    conditions: z
        .array(conditionField, { error: "The field 'conditions' is required: an array of {claim, operator, value}." })
        .min(1, { error: "The field 'conditions' must hold at least one condition." }),
    realm_name: fields.text("realm_name"),
    cr_type: crTypeField.nullish(),
    expiration: z
        .number({ error: "The field 'expiration' must be a number of seconds." })
        .int({ error: "The field 'expiration' must be a whole number of seconds." })
        .min(900, { error: "The field 'expiration' must be between 900 and 43200 seconds." })
        .max(43200, { error: "The field 'expiration' must be between 900 and 43200 seconds." })
        .nullish(),
});

const linkBody = z.object({
    cr_type: crTypeField,
    link: z.object(
        {
            crn: z.string({ error: "The field 'link.crn' is required." }).min(1, { error: "The field 'link.crn' is required." }),
            namespace: fields.text("link.namespace"),
            name: fields.text("link.name"),
            component_type: fields.text("link.component_type"),
            component_name: fields.text("link.component_name"),
        },
        { error: "The field 'link' is required: an object with the compute resource's crn (and its other link fields)." },
    ),
    name: fields.text("name"),
    is_cross_account: fields.bool("is_cross_account"),
});

const IDENTITY_TYPES = ["user", "serviceid", "crn"] as const;
const identityBody = z.object({
    identifier: z.string({ error: "The field 'identifier' is required." }).min(1, { error: "The field 'identifier' is required." }),
    type: z.enum(IDENTITY_TYPES, { error: "The field 'type' must be one of user, serviceid, crn." }),
    accounts: fields.strings("accounts"),
    description: fields.text("description"),
});

const identitiesBody = z.object({
    identities: z.array(identityBody, { error: "The field 'identities' must be an array of {identifier, type, accounts?, description?}." }).nullish(),
});

/** The account a CRN belongs to (`…:a/<account>:…`), if it names one. */
function checkCrn(crn: string, field: string): void {
    if (!/^crn:v1:[^:]*:[^:]*:[^:]+:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*$/.test(crn)) {
        throw E.invalid(`The field '${field}' must be a CRN (crn:v1:<cname>:<ctype>:<service>:<location>:a/<account>:<instance>:<type>:<resource>).`);
    }
}

/** Which `link` fields a compute resource type needs, and which it must not have. */
function checkLinkFields(crType: ComputeResourceType, link: z.output<typeof linkBody>["link"]): void {
    checkCrn(link.crn, "link.crn");
    const k8s = KUBERNETES_CR_TYPES.includes(crType);
    if (k8s && (!link.namespace || !link.name)) {
        throw E.invalid(`A ${crType} link needs 'link.namespace' and 'link.name' (the service account) besides the cluster's 'link.crn'.`);
    }
    if (!k8s && (link.namespace !== undefined || link.name !== undefined)) {
        throw E.invalid(`'link.namespace' and 'link.name' apply only to IKS_SA and ROKS_SA links, not to ${crType}.`);
    }
    if (crType === "CE" && (!link.component_type || !link.component_name)) {
        throw E.invalid("A CE link needs 'link.component_type' and 'link.component_name' besides the project's 'link.crn'.");
    }
    if (crType !== "CE" && (link.component_type !== undefined || link.component_name !== undefined)) {
        throw E.invalid(`'link.component_type' and 'link.component_name' apply only to CE links, not to ${crType}.`);
    }
}

function checkConditionValues(conditions: { claim: string; operator: string; value: string }[]): void {
    for (const c of conditions) {
        let v: unknown;
        try {
            v = JSON.parse(c.value);
        } catch {
            throw E.invalid(`The value of the condition on '${c.claim}' must be JSON, e.g. "\\"${c.value}\\"" for the string ${c.value}.`);
        }
        if (c.operator === "IN" && !(Array.isArray(v) && v.every((x) => typeof x === "string"))) {
            throw E.invalid(`The IN condition on '${c.claim}' needs a JSON array of strings as its value, e.g. "[\\"a\\",\\"b\\"]".`);
        }
        if (c.operator !== "IN" && typeof v !== "string") {
            throw E.invalid(`The ${c.operator} condition on '${c.claim}' needs a JSON string as its value, e.g. "\\"default\\"".`);
        }
    }
}

function ruleFrom(b: z.output<typeof ruleBody>): Omit<ClaimRuleRecord, "id" | "createdAt" | "modifiedAt" | "etagVersion" | "etagHash"> {
    checkConditionValues(b.conditions);
    if (b.type === "Profile-CR") {
        if (!b.cr_type) throw E.invalid(`A Profile-CR claim rule needs 'cr_type' (${CR_TYPES.join(", ")}).`);
        if (b.realm_name !== undefined) throw E.invalid("'realm_name' applies only to Profile-SAML claim rules.");
    } else {
        if (!b.realm_name) throw E.invalid("A Profile-SAML claim rule needs 'realm_name' (the identity provider's URL).");
        if (b.cr_type) throw E.invalid("'cr_type' applies only to Profile-CR claim rules.");
    }
    const r: Omit<ClaimRuleRecord, "id" | "createdAt" | "modifiedAt" | "etagVersion" | "etagHash"> = {
        type: b.type,
        expiration: b.expiration ?? DEFAULT_SAML_EXPIRATION,
        conditions: b.conditions.map((c) => ({ claim: c.claim, operator: c.operator, value: c.value })),
    };
    if (b.name !== undefined) r.name = b.name;
    if (b.cr_type) r.crType = b.cr_type;
    if (b.realm_name !== undefined) r.realmName = b.realm_name;
    return r;
}

/** The IAM id an identity entry stands for, checked against what exists in the emulated account. */
function identityRecord(emu: StoreContext, b: z.output<typeof identityBody>): ProfileIdentityRecord {
    let iamId: string;
    if (b.type === "serviceid") {
        if (!/^ServiceId-/.test(b.identifier))
            throw E.invalid(`A serviceid identity's 'identifier' is the service ID's id (ServiceId-<uuid>), not '${b.identifier}'.`);
        if (!emu.store.serviceIdById(b.identifier)) throw E.invalid(`The service ID '${b.identifier}' does not exist.`);
        iamId = `iam-${b.identifier}`;
    } else if (b.type === "user") {
        if (!/^IBMid-|^iam-/.test(b.identifier)) throw E.invalid(`A user identity's 'identifier' is the user's IAM id (IBMid-…), not '${b.identifier}'.`);
        iamId = b.identifier;
        if (b.accounts) for (const a of b.accounts) if (!/^[0-9a-f]{32}$/.test(a)) throw E.invalid(`'accounts' holds account ids (32 hex), not '${a}'.`);
    } else {
        checkCrn(b.identifier, "identifier");
        iamId = `crn-${b.identifier}`;
    }
    if (b.type !== "user" && b.accounts !== undefined) throw E.invalid("'accounts' applies only to identities of type user.");
    const r: ProfileIdentityRecord = { iamId, identifier: b.identifier, type: b.type };
    if (b.accounts !== undefined) r.accounts = [...b.accounts];
    if (b.description !== undefined) r.description = b.description;
    else if (b.type === "serviceid") {
        // IBM: without a description, a serviceid identity shows the service ID's own
        const sid = emu.store.serviceIdById(b.identifier);
        if (sid?.description !== undefined) r.description = sid.description;
    }
    return r;
}

export function profileTrustHandlers(emu: StoreContext) {
    const write = (ctx: Ctx, p: ProfileRecord, action = "iam-identity.profile.update") => requireIdentityAction(emu, ctx, action, p.accountId);
    const profileOr404 = (ctx: Ctx, id: string) => profileOfCaller(emu, ctx, id);

    // claim rules ------------------------------------------------------------------------

    const ruleOr404 = (p: ProfileRecord, id: string): ClaimRuleRecord => {
        const r = p.rules.find((x) => x.id === id);
        if (!r) throw E.notFound("Claim rule", id);
        return r;
    };

    const createRule: Handler = (ctx) => {
        const p = profileOr404(ctx, ctx.params.id);
        write(ctx, p);
        const rule = ruleFrom(parseBody(ctx, ruleBody));
        if (p.rules.length >= MAX_RULES) throw E.invalid(`A trusted profile has at most ${MAX_RULES} claim rules; delete one before adding another.`);
        const now = identityTime();
        const r: ClaimRuleRecord = { id: `ClaimRule-${crypto.randomUUID()}`, ...rule, createdAt: now, modifiedAt: now, ...newTag() };
        p.rules.push(r);
        emu.store.save();
        ctx.send(201, renderRule(r));
    };

    const listRules: Handler = (ctx) => {
        ctx.send(200, { rules: profileOr404(ctx, ctx.params.id).rules.map(renderRule) });
    };

    const getRule: Handler = (ctx) => {
        ctx.send(200, renderRule(ruleOr404(profileOr404(ctx, ctx.params.id), ctx.params.ruleId)));
    };

    const updateRule: Handler = (ctx) => {
        const p = profileOr404(ctx, ctx.params.id);
        const r = ruleOr404(p, ctx.params.ruleId);
        write(ctx, p);
        checkIfMatch(ctx, entityTag(r));
        const next = ruleFrom(parseBody(ctx, ruleBody));
        // a full replacement: what the new body leaves out is gone
        delete r.name;
        delete r.crType;
        delete r.realmName;
        Object.assign(r, next);
        bumpTag(r);
        emu.store.save();
        ctx.send(200, renderRule(r));
    };

    const removeRule: Handler = (ctx) => {
        const p = profileOr404(ctx, ctx.params.id);
        const r = ruleOr404(p, ctx.params.ruleId);
        write(ctx, p);
        p.rules = p.rules.filter((x) => x !== r);
        emu.store.save();
        ctx.send(204);
    };

    // links ----------------------------------------------------------------------------------

    const createLink: Handler = (ctx) => {
        const p = profileOr404(ctx, ctx.params.id);
        write(ctx, p, "iam-identity.profile.linkToResource");
        const b = parseBody(ctx, linkBody);
        checkLinkFields(b.cr_type, b.link);
        const cross = b.is_cross_account ?? false;
        if (!cross && crnAccount(b.link.crn) !== p.accountId) {
            throw E.invalid(`The compute resource '${b.link.crn}' is not in the profile's account ${p.accountId}; set is_cross_account to link it anyway.`);
        }
        const same = p.links.find(
            (l) =>
                l.crType === b.cr_type &&
                l.crn === b.link.crn &&
                l.namespace === b.link.namespace &&
                l.name === b.link.name &&
                l.componentType === b.link.component_type &&
                l.componentName === b.link.component_name,
        );
        if (same) throw new IamError(409, "conflict", `The profile is already linked to this compute resource (link '${same.id}').`, "BXNIM0520E");
        if (p.links.length >= MAX_LINKS) throw E.invalid(`A trusted profile has at most ${MAX_LINKS} links here; delete one before adding another.`);
        const now = identityTime();
        const l: ProfileLinkRecord = {
            id: `ProfileLink-${crypto.randomUUID()}`,
            crType: b.cr_type,
            crn: b.link.crn,
            isCrossAccount: cross,
            createdAt: now,
            modifiedAt: now,
            ...newTag(),
        };
        if (b.link.namespace !== undefined) l.namespace = b.link.namespace;
        if (b.link.name !== undefined) l.name = b.link.name;
        if (b.link.component_type !== undefined) l.componentType = b.link.component_type;
        if (b.link.component_name !== undefined) l.componentName = b.link.component_name;
        if (b.name !== undefined) l.linkName = b.name;
        p.links.push(l);
        emu.store.save();
        ctx.send(201, renderLink(l));
    };

    const listLinks: Handler = (ctx) => {
        ctx.send(200, { links: profileOr404(ctx, ctx.params.id).links.map(renderLink) });
    };

    const removeLinksMatching: Handler = (ctx) => {
        const p = profileOr404(ctx, ctx.params.id);
        write(ctx, p, "iam-identity.profile.linkToResource");
        const q = ctx.query;
        const type = q.get("type");
        if (!type) throw E.invalid(`The parameter 'type' is required (${CR_TYPES.join(", ")}).`);
        const match = (l: ProfileLinkRecord) =>
            l.crType === type &&
            (q.get("crn") === null || l.crn === q.get("crn")) &&
            (q.get("namespace") === null || l.namespace === q.get("namespace")) &&
            (q.get("name") === null || l.name === q.get("name")) &&
            (q.get("component_type") === null || l.componentType === q.get("component_type")) &&
            (q.get("component_name") === null || l.componentName === q.get("component_name"));
        // (choice) nothing matching is a 404, as deleting one link that is not there
        if (!p.links.some(match)) throw E.notFound("Link of type", type);
        p.links = p.links.filter((l) => !match(l));
        emu.store.save();
        ctx.send(204);
    };

    const getLink: Handler = (ctx) => {
        const l = profileOr404(ctx, ctx.params.id).links.find((x) => x.id === ctx.params.linkId);
        if (!l) throw E.notFound("Link", ctx.params.linkId);
        ctx.send(200, renderLink(l));
    };

    const removeLink: Handler = (ctx) => {
        const p = profileOr404(ctx, ctx.params.id);
        const l = p.links.find((x) => x.id === ctx.params.linkId);
        if (!l) throw E.notFound("Link", ctx.params.linkId);
        write(ctx, p, "iam-identity.profile.linkToResource");
        p.links = p.links.filter((x) => x !== l);
        emu.store.save();
        ctx.send(204);
    };

    // identities trusted to assume the profile --------------------------------------------------

    const touchIdentities = (p: ProfileRecord) => bumpTag(p.identitiesEtag);

    const getIdentities: Handler = (ctx) => {
        ctx.send(200, renderIdentities(profileOr404(ctx, ctx.params.id)));
    };

    const setIdentities: Handler = (ctx) => {
        const p = profileOr404(ctx, ctx.params.id);
        write(ctx, p);
        checkIfMatch(ctx, entityTag(p.identitiesEtag));
        const b = parseBody(ctx, identitiesBody);
        const list = (b.identities ?? []).map((i) => identityRecord(emu, i));
        const seen = new Set<string>();
        for (const i of list) {
            const k = `${i.type}/${i.identifier}`;
            if (seen.has(k)) throw E.invalid(`The identity ${k} is listed twice.`);
            seen.add(k);
        }
        p.identities = list;
        touchIdentities(p);
        emu.store.save();
        ctx.send(200, renderIdentities(p));
    };

    const addIdentity: Handler = (ctx) => {
        const p = profileOr404(ctx, ctx.params.id);
        write(ctx, p);
        const b = parseBody(ctx, identityBody);
        if (b.type !== ctx.params.type) throw E.invalid(`The body's type '${b.type}' differs from the path's identity type '${ctx.params.type}'.`);
        const rec = identityRecord(emu, b);
        // adding an identity already there replaces its entry (accounts, description)
        p.identities = p.identities.filter((i) => !(i.type === rec.type && i.identifier === rec.identifier));
        p.identities.push(rec);
        touchIdentities(p);
        emu.store.save();
        ctx.send(200, renderIdentity(rec));
    };

    const identityOr404 = (p: ProfileRecord, type: string, identifier: string): ProfileIdentityRecord => {
        if (!(IDENTITY_TYPES as readonly string[]).includes(type)) throw E.invalid(`The identity type must be one of user, serviceid, crn, not '${type}'.`);
        const i = p.identities.find((x) => x.type === type && x.identifier === identifier);
        if (!i) throw E.notFound(`Identity of type ${type}`, identifier);
        return i;
    };

    const getIdentity: Handler = (ctx) => {
        const p = profileOr404(ctx, ctx.params.id);
        ctx.send(200, renderIdentity(identityOr404(p, ctx.params.type, ctx.params.identifier)));
    };

    const removeIdentity: Handler = (ctx) => {
        const p = profileOr404(ctx, ctx.params.id);
        const i = identityOr404(p, ctx.params.type, ctx.params.identifier);
        write(ctx, p);
        p.identities = p.identities.filter((x) => x !== i);
        touchIdentities(p);
        emu.store.save();
        ctx.send(204);
    };

    return {
        createRule,
        listRules,
        getRule,
        updateRule,
        removeRule,
        createLink,
        listLinks,
        removeLinksMatching,
        getLink,
        removeLink,
        getIdentities,
        setIdentities,
        addIdentity,
        getIdentity,
        removeIdentity,
    };
}
