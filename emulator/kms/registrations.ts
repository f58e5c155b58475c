// Registrations: another IBM service (Cloud Object Storage, a database) records that a resource of its own is
// protected by a key. Listed by key (GET /api/v2/keys/{id}/registrations) and by instance
// (GET /api/v2/keys/registrations); no IBM service runs here, so they are made through the admin API
// (../admin/kms.ts). A registered key is deleted only with `force`, never while one carries a retention policy.
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { KmsKeyRecord, KmsRegistrationRecord } from "../core/state";
import { envelope, K, KmsRoutes } from "./keys";

export const REGISTRATION_TYPE = "application/vnd.ibm.kms.registration+json";

export function renderRegistration(r: KmsRoutes, k: KmsKeyRecord, g: KmsRegistrationRecord): Record<string, unknown> {
    const version = r.crypto.versionsOf(k).find((v) => v.id === g.keyVersion);
    const o: Record<string, unknown> = {
        keyId: k.id,
        resourceCrn: g.resourceCrn,
        createdBy: g.createdBy,
        creationDate: g.creationDate,
        updatedBy: g.updatedBy,
        lastUpdated: g.lastUpdated,
        preventKeyDeletion: g.preventKeyDeletion,
        keyVersion: { id: g.keyVersion, creationDate: version?.creationDate ?? k.creationDate },
    };
    if (g.description !== undefined) o.description = g.description;
    return o;
}

/** `urlEncodedResourceCRNQuery`: a CRN in which `*` stands for any run of characters. */
function crnFilter(ctx: Ctx): (crn: string) => boolean {
    const raw = ctx.query.get("urlEncodedResourceCRNQuery");
    if (raw === null) return () => true;
    let q: string;
    try {
        q = decodeURIComponent(raw);
    } catch {
        throw K.badParam("urlEncodedResourceCRNQuery must be a URL-encoded CRN");
    }
    if (!q.startsWith("crn:")) throw K.badParam("urlEncodedResourceCRNQuery must be a CRN (crn:v1:...), * matching any characters");
    const re = new RegExp(
        `^${q
            .split("*")
            .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
            .join(".*")}$`,
    );
    return (crn) => re.test(crn);
}

function page(ctx: Ctx, all: Record<string, unknown>[]): Record<string, unknown> {
    const int = (name: string, dflt: number, max: number) => {
        const raw = ctx.query.get(name);
        if (raw === null) return dflt;
        if (!/^\d+$/.test(raw) || Number(raw) > max) throw K.badParam(`${name} must be an integer between 0 and ${max}`);
        return Number(raw);
    };
    const limit = int("limit", 200, 5000);
    const offset = int("offset", 0, Number.MAX_SAFE_INTEGER);
    const totalCount = ctx.query.get("totalCount");
    if (totalCount !== null && totalCount !== "true" && totalCount !== "false") throw K.badParam("totalCount must be true or false");
    const body = envelope(all.slice(offset, offset + limit), REGISTRATION_TYPE) as { metadata: Record<string, unknown> };
    if (totalCount === "true") body.metadata.totalCount = all.length;
    return body;
}

function preventFilter(ctx: Ctx): (g: KmsRegistrationRecord) => boolean {
    const raw = ctx.query.get("preventKeyDeletion");
    if (raw === null) return () => true;
    if (raw !== "true" && raw !== "false") throw K.badParam("preventKeyDeletion must be true or false");
    return (g) => g.preventKeyDeletion === (raw === "true");
}

export function registrationHandlers(r: KmsRoutes) {
    const emu = r.emu;

    const listAll: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const keys = emu.store.data.kmsKeys.filter((k) => k.instance === inst.guid);
        r.authorizeInPart(ctx, inst, "registrations.list", keys.map(KmsRoutes.scopesOf));
        const crn = crnFilter(ctx);
        const prevent = preventFilter(ctx);
        const whole = r.may(ctx, inst, "registrations.list");
        const all = keys
            .filter((k) => whole || r.may(ctx, inst, "registrations.list", KmsRoutes.scopesOf(k)))
            .flatMap((k) => (k.registrations ?? []).filter((g) => crn(g.resourceCrn) && prevent(g)).map((g) => renderRegistration(r, k, g)));
        r.send(ctx, 200, page(ctx, all));
    };

    const listForKey: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const k = r.authorizedKey(ctx, inst, "registrations.list", true);
        const crn = crnFilter(ctx);
        const prevent = preventFilter(ctx);
        const all = (k.registrations ?? []).filter((g) => crn(g.resourceCrn) && prevent(g)).map((g) => renderRegistration(r, k, g));
        r.send(ctx, 200, page(ctx, all));
    };

    return { listAll, listForKey };
}
