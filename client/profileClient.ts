// IAM Identity v1 trusted profiles, their links to compute resources, claim rules and trusted identities: the
// client, on IamClient's one authenticated call path. Wire objects keep IBM's snake_case names. Creates survive a
// lost answer like the service ID's (createRecovery.ts): a profile by its name (unique in an account), a link by
// its fields, a claim rule by its fields and creation time, a trusted identity by its type and identifier.
import { z } from "zod";
import { createdSince, createWithRecovery } from "./createRecovery";
import { IbmCloudError, isEtagMismatch, isNotFound } from "./errors";
import { HttpResponse } from "./http";
import { IamClient, queryParamOf } from "./iamClient";

export interface TrustedProfileEntity {
    id: string;
    iam_id: string;
    entity_tag: string;
    crn: string;
    name: string;
    account_id: string;
    description?: string;
    email?: string;
    created_at?: string;
    modified_at?: string;
    [extra: string]: unknown;
}

export interface CreateTrustedProfileBody {
    /** Defaults to the account of the caller's token. */
    account_id?: string;
    name: string;
    description?: string;
    email?: string;
}

export interface UpdateTrustedProfileBody {
    name?: string;
    /** `""` clears it. */
    description?: string;
    /** `""` clears it. */
    email?: string;
}

export type ComputeResourceType = "VSI" | "BMS" | "PVS" | "IKS_SA" | "ROKS_SA" | "CE";

export interface ProfileLinkTarget {
    crn: string;
    namespace?: string;
    name?: string;
    component_type?: string;
    component_name?: string;
}

export interface ProfileLink {
    id: string;
    entity_tag: string;
    cr_type: string;
    link: ProfileLinkTarget;
    name?: string;
    is_cross_account?: boolean;
    created_at?: string;
    modified_at?: string;
    [extra: string]: unknown;
}

export interface CreateProfileLinkBody {
    cr_type: ComputeResourceType;
    link: ProfileLinkTarget;
    name?: string;
    is_cross_account?: boolean;
}

export type ClaimRuleType = "Profile-CR" | "Profile-SAML";

/** A condition on one claim; `value` is JSON text (`"\"orders\""`, `"[\"a\",\"b\"]"` for IN), as IBM keeps it. */
export interface ClaimRuleCondition {
    claim: string;
    operator: string;
    value: string;
}

export interface ClaimRule {
    id: string;
    entity_tag: string;
    type: string;
    name?: string;
    cr_type?: string;
    realm_name?: string;
    expiration?: number;
    conditions: ClaimRuleCondition[];
    created_at?: string;
    modified_at?: string;
    [extra: string]: unknown;
}

/** The body of a claim rule's create, and of its update (a full replacement). */
export interface ClaimRuleBody {
    type: ClaimRuleType;
    conditions: ClaimRuleCondition[];
    name?: string;
    cr_type?: ComputeResourceType;
    realm_name?: string;
    expiration?: number;
}

export type ProfileIdentityType = "user" | "serviceid" | "crn";

/** An identity trusted to assume the profile. */
export interface ProfileIdentity {
    iam_id?: string;
    identifier: string;
    type: string;
    accounts?: string[];
    description?: string;
    [extra: string]: unknown;
}

export interface ProfileIdentityBody {
    identifier: string;
    type: ProfileIdentityType;
    accounts?: string[];
    description?: string;
}

export function trustedProfileSchema() {
    return z.looseObject({
        id: z.string().min(1),
        iam_id: z.string().min(1),
        entity_tag: z.string().min(1),
        crn: z.string(),
        name: z.string(),
        account_id: z.string(),
        description: z.string().optional(),
        email: z.string().optional(),
    });
}

export function profileLinkSchema() {
    return z.looseObject({
        id: z.string().min(1),
        entity_tag: z.string().min(1),
        cr_type: z.string(),
        link: z.looseObject({
            crn: z.string(),
            namespace: z.string().optional(),
            name: z.string().optional(),
            component_type: z.string().optional(),
            component_name: z.string().optional(),
        }),
        name: z.string().optional(),
        is_cross_account: z.boolean().optional(),
    });
}

export function claimRuleSchema() {
    return z.looseObject({
        id: z.string().min(1),
        entity_tag: z.string().min(1),
        type: z.string(),
        name: z.string().optional(),
        cr_type: z.string().optional(),
        realm_name: z.string().optional(),
        expiration: z.number().optional(),
        conditions: z.array(z.looseObject({ claim: z.string(), operator: z.string(), value: z.string() })),
    });
}

export function profileIdentitySchema() {
    return z.looseObject({
        iam_id: z.string().optional(),
        identifier: z.string().min(1),
        type: z.string(),
        accounts: z.array(z.string()).optional(),
        description: z.string().optional(),
    });
}

function parse<S extends z.ZodType>(res: HttpResponse<unknown>, schema: S, operation: string, value: unknown = res.body): z.infer<S> {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    const why = r.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
        .join("; ");
    throw unexpected(res, operation, why);
}

function unexpected(res: HttpResponse<unknown>, operation: string, why: string): IbmCloudError {
    return new IbmCloudError({
        operation,
        status: res.status,
        code: "unexpected_response",
        ibmMessage: `IBM Cloud answered with an unexpected body: ${why}`,
        traceId: res.headers["transaction-id"] ?? res.correlationId,
    });
}

function enc(id: string): string {
    if (typeof id !== "string" || id === "") throw new Error("an id is required");
    return encodeURIComponent(id);
}

const MAX_PAGES = 1000;

/** Trusted profiles and their links, through an IamClient (its token, HTTP client and 401 handling). */
export class TrustedProfileClient {
    constructor(readonly iam: IamClient) {}

    async createProfile(body: CreateTrustedProfileBody): Promise<TrustedProfileEntity> {
        const account_id = body.account_id ?? (await this.iam.accountId());
        const operation = "create trusted profile";
        return createWithRecovery<TrustedProfileEntity>({
            operation,
            send: async () => {
                const res = await this.iam.call(operation, "POST", "/v1/profiles", { json: { ...body, account_id } });
                return parse(res, trustedProfileSchema(), operation) as TrustedProfileEntity;
            },
            // names are unique in an account: what a lost attempt made carries our name
            lookup: async (since) => (await this.listProfiles({ accountId: account_id, name: body.name })).filter((p) => createdSince(p.created_at, since)),
            idOf: (p) => p.id,
        });
    }

    /** Every profile of the account (all pages), optionally only the one named exactly `name`. */
    async listProfiles(filter: { accountId?: string; name?: string } = {}): Promise<TrustedProfileEntity[]> {
        const operation = "list trusted profiles";
        const account_id = filter.accountId ?? (await this.iam.accountId());
        const out: TrustedProfileEntity[] = [];
        let pagetoken: string | undefined;
        for (let page = 0; page < MAX_PAGES; page++) {
            const res = await this.iam.call<Record<string, unknown>>(operation, "GET", "/v1/profiles", {
                query: { account_id, name: filter.name, pagesize: 100, pagetoken },
            });
            const items = res.body?.profiles;
            if (!Array.isArray(items)) throw unexpected(res, operation, "the response has no profiles list");
            for (const item of items) out.push(parse(res, trustedProfileSchema(), operation, item) as TrustedProfileEntity);
            const next = queryParamOf(res.body?.next, "pagetoken");
            if (!next || next === pagetoken || items.length === 0) break;
            pagetoken = next;
        }
        return filter.name === undefined ? out : out.filter((p) => p.name === filter.name);
    }

    async getProfile(id: string): Promise<TrustedProfileEntity> {
        const operation = "get trusted profile";
        return parse(await this.iam.call(operation, "GET", `/v1/profiles/${enc(id)}`), trustedProfileSchema(), operation) as TrustedProfileEntity;
    }

    /** Updates with `If-Match: etag`; a stale tag fails with 412 (or 409). A replay that finds its own write applied succeeds. */
    async updateProfile(id: string, etag: string, body: UpdateTrustedProfileBody): Promise<TrustedProfileEntity> {
        const operation = "update trusted profile";
        try {
            const res = await this.iam.call(operation, "PUT", `/v1/profiles/${enc(id)}`, { json: body, headers: { "If-Match": etag } });
            return parse(res, trustedProfileSchema(), operation) as TrustedProfileEntity;
        } catch (err) {
            if (!(err instanceof IbmCloudError) || !err.outcomeUnknown || !isEtagMismatch(err)) throw err;
            const live = await this.getProfile(id);
            const holds = Object.entries(body).every(([k, v]) => (live[k] ?? "") === v);
            if (holds) return live;
            throw err;
        }
    }

    /** Deletes the profile; false when it was already gone. */
    async deleteProfile(id: string): Promise<boolean> {
        return this.deleteIdempotent("delete trusted profile", `/v1/profiles/${enc(id)}`);
    }

    async createLink(profileId: string, body: CreateProfileLinkBody): Promise<ProfileLink> {
        const operation = "link trusted profile";
        return createWithRecovery<ProfileLink>({
            operation,
            send: async () => {
                const res = await this.iam.call(operation, "POST", `/v1/profiles/${enc(profileId)}/links`, { json: body });
                return parse(res, profileLinkSchema(), operation) as ProfileLink;
            },
            // a compute resource links to a profile once: the lost attempt's link has our fields
            lookup: async () => (await this.listLinks(profileId)).filter((l) => sameLinkTarget(l, body)),
            idOf: (l) => l.id,
        });
    }

    async listLinks(profileId: string): Promise<ProfileLink[]> {
        const operation = "list trusted profile links";
        const res = await this.iam.call<Record<string, unknown>>(operation, "GET", `/v1/profiles/${enc(profileId)}/links`);
        const items = res.body?.links ?? [];
        if (!Array.isArray(items)) throw unexpected(res, operation, "the response has no links list");
        return items.map((item) => parse(res, profileLinkSchema(), operation, item) as ProfileLink);
    }

    async getLink(profileId: string, linkId: string): Promise<ProfileLink> {
        const operation = "get trusted profile link";
        const res = await this.iam.call(operation, "GET", `/v1/profiles/${enc(profileId)}/links/${enc(linkId)}`);
        return parse(res, profileLinkSchema(), operation) as ProfileLink;
    }

    /** Deletes the link; false when it (or its profile) was already gone. */
    async deleteLink(profileId: string, linkId: string): Promise<boolean> {
        return this.deleteIdempotent("unlink trusted profile", `/v1/profiles/${enc(profileId)}/links/${enc(linkId)}`);
    }

    async createClaimRule(profileId: string, body: ClaimRuleBody): Promise<ClaimRule> {
        const operation = "create trusted profile claim rule";
        return createWithRecovery<ClaimRule>({
            operation,
            send: async () => {
                const res = await this.iam.call(operation, "POST", `/v1/profiles/${enc(profileId)}/rules`, { json: body });
                return parse(res, claimRuleSchema(), operation) as ClaimRule;
            },
            // rules have no unique name: a lost attempt's rule has our fields and was made since our first try
            lookup: async (since) => (await this.listClaimRules(profileId)).filter((r) => sameClaimRule(r, body) && createdSince(r.created_at, since)),
            leftover: `a claim rule of trusted profile ${profileId}${body.name ? ` named "${body.name}"` : ""}`,
            idOf: (r) => r.id,
        });
    }

    async listClaimRules(profileId: string): Promise<ClaimRule[]> {
        const operation = "list trusted profile claim rules";
        const res = await this.iam.call<Record<string, unknown>>(operation, "GET", `/v1/profiles/${enc(profileId)}/rules`);
        const items = res.body?.rules ?? [];
        if (!Array.isArray(items)) throw unexpected(res, operation, "the response has no rules list");
        return items.map((item) => parse(res, claimRuleSchema(), operation, item) as ClaimRule);
    }

    async getClaimRule(profileId: string, ruleId: string): Promise<ClaimRule> {
        const operation = "get trusted profile claim rule";
        const res = await this.iam.call(operation, "GET", `/v1/profiles/${enc(profileId)}/rules/${enc(ruleId)}`);
        return parse(res, claimRuleSchema(), operation) as ClaimRule;
    }

    /** Replaces the rule with `body`, with `If-Match: etag`; a replay that finds its own write applied succeeds. */
    async updateClaimRule(profileId: string, ruleId: string, etag: string, body: ClaimRuleBody): Promise<ClaimRule> {
        const operation = "update trusted profile claim rule";
        try {
            const res = await this.iam.call(operation, "PUT", `/v1/profiles/${enc(profileId)}/rules/${enc(ruleId)}`, {
                json: body,
                headers: { "If-Match": etag },
            });
            return parse(res, claimRuleSchema(), operation) as ClaimRule;
        } catch (err) {
            if (!(err instanceof IbmCloudError) || !err.outcomeUnknown || !isEtagMismatch(err)) throw err;
            const live = await this.getClaimRule(profileId, ruleId);
            if (sameClaimRule(live, body)) return live;
            throw err;
        }
    }

    /** Deletes the rule; false when it (or its profile) was already gone. */
    async deleteClaimRule(profileId: string, ruleId: string): Promise<boolean> {
        return this.deleteIdempotent("delete trusted profile claim rule", `/v1/profiles/${enc(profileId)}/rules/${enc(ruleId)}`);
    }

    /** Trusts one more identity to assume the profile (the others stay as they are). */
    async addIdentity(profileId: string, body: ProfileIdentityBody): Promise<ProfileIdentity> {
        const operation = "trust identity with trusted profile";
        return createWithRecovery<ProfileIdentity>({
            operation,
            send: async () => {
                const res = await this.iam.call(operation, "POST", `/v1/profiles/${enc(profileId)}/identities/${enc(body.type)}`, { json: body });
                return parse(res, profileIdentitySchema(), operation) as ProfileIdentity;
            },
            // an identity is trusted once: the lost attempt's entry has our type and identifier
            lookup: async () => {
                const found = await this.findIdentity(profileId, body.type, body.identifier);
                return found ? [found] : [];
            },
            leftover: `the ${body.type} identity ${body.identifier} among those trusted by ${profileId}`,
            idOf: (i) => `${i.type}/${i.identifier}`,
        });
    }

    /** The identities trusted to assume the profile, with the list's entity tag. */
    async listIdentities(profileId: string): Promise<{ entityTag: string; identities: ProfileIdentity[] }> {
        const operation = "list trusted profile identities";
        const res = await this.iam.call<Record<string, unknown>>(operation, "GET", `/v1/profiles/${enc(profileId)}/identities`);
        const items = res.body?.identities ?? [];
        if (!Array.isArray(items)) throw unexpected(res, operation, "the response has no identities list");
        const entityTag = typeof res.body?.entity_tag === "string" ? res.body.entity_tag : "";
        return { entityTag, identities: items.map((item) => parse(res, profileIdentitySchema(), operation, item) as ProfileIdentity) };
    }

    async getIdentity(profileId: string, type: ProfileIdentityType, identifier: string): Promise<ProfileIdentity> {
        const operation = "get trusted profile identity";
        const res = await this.iam.call(operation, "GET", `/v1/profiles/${enc(profileId)}/identities/${enc(type)}/${enc(identifier)}`);
        return parse(res, profileIdentitySchema(), operation) as ProfileIdentity;
    }

    /** The trusted identity, or undefined when the profile does not trust it. */
    async findIdentity(profileId: string, type: ProfileIdentityType, identifier: string): Promise<ProfileIdentity | undefined> {
        try {
            return await this.getIdentity(profileId, type, identifier);
        } catch (err) {
            if (isNotFound(err)) return undefined;
            throw err;
        }
    }

    /** Stops trusting the identity; false when it (or the profile) was already gone. */
    async removeIdentity(profileId: string, type: ProfileIdentityType, identifier: string): Promise<boolean> {
        return this.deleteIdempotent("untrust trusted profile identity", `/v1/profiles/${enc(profileId)}/identities/${enc(type)}/${enc(identifier)}`);
    }

    private async deleteIdempotent(operation: string, path: string): Promise<boolean> {
        try {
            await this.iam.call(operation, "DELETE", path);
            return true;
        } catch (err) {
            if (isNotFound(err)) return false;
            throw err;
        }
    }
}

/** The link names the same compute resource as the body. */
export function sameLinkTarget(l: ProfileLink, body: CreateProfileLinkBody): boolean {
    const a = l.link;
    const b = body.link;
    return (
        l.cr_type === body.cr_type &&
        a.crn === b.crn &&
        (a.namespace ?? "") === (b.namespace ?? "") &&
        (a.name ?? "") === (b.name ?? "") &&
        (a.component_type ?? "") === (b.component_type ?? "") &&
        (a.component_name ?? "") === (b.component_name ?? "")
    );
}

/** The rule says what the body says (type, name, compute resource type or realm, conditions in order; expiration when the body sets it). */
export function sameClaimRule(r: ClaimRule, body: ClaimRuleBody): boolean {
    const conds = (cs: ClaimRuleCondition[]) => JSON.stringify(cs.map((c) => [c.claim, c.operator, c.value]));
    return (
        r.type === body.type &&
        (r.name ?? "") === (body.name ?? "") &&
        (r.cr_type ?? "") === (body.cr_type ?? "") &&
        (r.realm_name ?? "") === (body.realm_name ?? "") &&
        (body.expiration === undefined || r.expiration === body.expiration) &&
        conds(r.conditions) === conds(body.conditions)
    );
}
