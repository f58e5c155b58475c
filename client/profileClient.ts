// IAM Identity v1 trusted profiles and their links to compute resources: the client, on IamClient's one
// authenticated call path. Wire objects keep IBM's snake_case names. Creates survive a lost answer like the
// service ID's (createRecovery.ts): a profile by its name (unique in an account), a link by its fields.
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
