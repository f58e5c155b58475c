// Tokens for trusted profiles. A compute resource (a VSI, a Kubernetes service account, a Code Engine component…)
// proves who it is with a token its platform hands it; no such platform runs here, so the emulator mints those
// tokens itself (`POST /__emulator/compute-resource-token`, and the VSI metadata service's identity token), signs
// them with its own key under an issuer of their own, and the token endpoint's cr-token grant trades one for the
// profile's IAM token when a link or a Profile-CR claim rule of that profile matches the resource. The assume
// grant trades an IAM token of an identity the profile trusts.
import * as crypto from "crypto";
import type { EmulatorContext } from "../core/context";
import { AdminError, IamError, TokenError } from "../core/errors";
import { ISSUER, JwtClaims } from "../core/jwt";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { ClaimRuleCondition, ComputeResourceType, ProfileRecord } from "../core/state";
import { CR_TYPES, crnAccount, KUBERNETES_CR_TYPES, profileCrn } from "./profiles";

/** What the profile grants and the compute-resource routes use: state, signer and the token lifetime. */
export type ProfileTokenContext = Pick<EmulatorContext, "store" | "signer" | "tokenLifetimeSeconds">;

export const CR_TOKEN_GRANT = "urn:ibm:params:oauth:grant-type:cr-token";
export const ASSUME_GRANT = "urn:ibm:params:oauth:grant-type:assume";
/** Issuer of compute-resource tokens: not an IAM issuer, so one is never accepted as a bearer token. */
export const CR_ISSUER = "https://compute-resource.emulator.invalid";
/** The VSI metadata service's versions and their paths (below `/metadata/:crn/`). */
export const METADATA_VERSIONS: Readonly<Record<string, { token: string; iamToken: string }>> = {
    "2022-03-01": { token: "instance_identity/v1/token", iamToken: "instance_identity/v1/iam_token" },
    "2025-08-26": { token: "identity/v1/token", iamToken: "identity/v1/iam_tokens" },
};

/** What a compute resource is, as its token says. */
export interface ComputeResource {
    crType: ComputeResourceType;
    crn: string;
    namespace?: string;
    name?: string;
    componentType?: string;
    componentName?: string;
}

function problem(m: string): never {
    throw new AdminError(400, m);
}

/** Checks an admin body (or a metadata path's CRN) describing a compute resource; names the field and the fix. */
export function checkComputeResource(b: Record<string, unknown>): ComputeResource {
    const allowed = ["crType", "crn", "namespace", "name", "componentType", "componentName", "expiresIn"];
    for (const k of Object.keys(b)) if (!allowed.includes(k)) problem(`${k} is not a field of this body (fields: ${allowed.join(", ")})`);
    if (typeof b.crType !== "string" || !(CR_TYPES as readonly string[]).includes(b.crType)) problem(`crType must be one of ${CR_TYPES.join(", ")}`);
    const crType = b.crType as ComputeResourceType;
    if (typeof b.crn !== "string" || !crnAccount(b.crn))
        problem('crn must be the compute resource\'s CRN, "crn:v1:bluemix:public:<service>:<region>:a/<account>:<instance>::"');
    const k8s = KUBERNETES_CR_TYPES.includes(crType);
    const str = (f: string) => b[f] === undefined || (typeof b[f] === "string" && (b[f] as string).length > 0);
    for (const f of ["namespace", "name", "componentType", "componentName"]) if (!str(f)) problem(`${f} must be a non-empty string`);
    if (k8s && (b.namespace === undefined || b.name === undefined)) problem(`${crType} needs namespace and name (the service account's)`);
    if (!k8s && (b.namespace !== undefined || b.name !== undefined)) problem(`namespace and name apply only to IKS_SA and ROKS_SA, not to ${crType}`);
    if (crType === "CE" && (b.componentType === undefined || b.componentName === undefined)) problem("CE needs componentType and componentName");
    if (crType !== "CE" && (b.componentType !== undefined || b.componentName !== undefined))
        problem(`componentType and componentName apply only to CE, not to ${crType}`);
    const cr: ComputeResource = { crType, crn: b.crn as string };
    if (b.namespace !== undefined) cr.namespace = b.namespace as string;
    if (b.name !== undefined) cr.name = b.name as string;
    if (b.componentType !== undefined) cr.componentType = b.componentType as string;
    if (b.componentName !== undefined) cr.componentName = b.componentName as string;
    return cr;
}

/** A compute-resource token: what a platform would hand the resource, signed by the emulator. */
export function mintComputeResourceToken(
    emu: ProfileTokenContext,
    cr: ComputeResource,
    lifetimeSeconds = emu.tokenLifetimeSeconds,
): { token: string; iat: number; exp: number } {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + lifetimeSeconds;
    const sub = cr.namespace !== undefined ? `system:serviceaccount:${cr.namespace}:${cr.name}` : cr.crn;
    const claims: JwtClaims = { iss: CR_ISSUER, sub, jti: crypto.randomUUID(), iat, exp, cr_type: cr.crType, crn: cr.crn, account_id: crnAccount(cr.crn) };
    if (cr.namespace !== undefined) claims.namespace = cr.namespace;
    if (cr.name !== undefined) claims.name = cr.name;
    if (cr.componentType !== undefined) claims.component_type = cr.componentType;
    if (cr.componentName !== undefined) claims.component_name = cr.componentName;
    return { token: emu.signer.sign(claims), iat, exp };
}

function computeResourceOf(emu: ProfileTokenContext, token: string): { cr: ComputeResource; claims: JwtClaims } | undefined {
    const v = emu.signer.verify(token, undefined, CR_ISSUER);
    if (!v.ok || v.claims.iss !== CR_ISSUER || typeof v.claims.crn !== "string" || typeof v.claims.cr_type !== "string") return undefined;
    const c = v.claims;
    const cr: ComputeResource = { crType: c.cr_type as ComputeResourceType, crn: c.crn as string };
    if (typeof c.namespace === "string") cr.namespace = c.namespace;
    if (typeof c.name === "string") cr.name = c.name;
    if (typeof c.component_type === "string") cr.componentType = c.component_type;
    if (typeof c.component_name === "string") cr.componentName = c.component_name;
    return { cr, claims: c };
}

function conditionHolds(c: ClaimRuleCondition, claims: Record<string, string | undefined>): boolean {
    const actual = claims[c.claim];
    if (actual === undefined) return false; // a claim the resource does not have never satisfies a rule
    let expected: unknown;
    try {
        expected = JSON.parse(c.value);
    } catch {
        return false;
    }
    switch (c.operator) {
        case "EQUALS":
            return actual === expected;
        case "NOT_EQUALS":
            return actual !== expected;
        case "EQUALS_IGNORE_CASE":
            return typeof expected === "string" && actual.toLowerCase() === expected.toLowerCase();
        case "NOT_EQUALS_IGNORE_CASE":
            return typeof expected === "string" && actual.toLowerCase() !== expected.toLowerCase();
        case "CONTAINS":
            return typeof expected === "string" && actual.includes(expected);
        case "IN":
            return Array.isArray(expected) && expected.includes(actual);
        default:
            return false;
    }
}

/** Why the compute resource may act as the profile (a link, a claim rule), or undefined when it may not. */
export function trustOf(p: ProfileRecord, cr: ComputeResource): string | undefined {
    const link = p.links.find(
        (l) =>
            l.crType === cr.crType &&
            l.crn === cr.crn &&
            l.namespace === cr.namespace &&
            l.name === cr.name &&
            l.componentType === cr.componentType &&
            l.componentName === cr.componentName &&
            (l.isCrossAccount || crnAccount(cr.crn) === p.accountId),
    );
    if (link) return `link ${link.id}`;
    if (crnAccount(cr.crn) !== p.accountId) return undefined;
    const claims: Record<string, string | undefined> = {
        crn: cr.crn,
        namespace: cr.namespace,
        name: cr.name,
        component_type: cr.componentType,
        component_name: cr.componentName,
        account_id: crnAccount(cr.crn),
    };
    const rule = p.rules.find((r) => r.type === "Profile-CR" && r.crType === cr.crType && r.conditions.every((c) => conditionHolds(c, claims)));
    return rule ? `claim rule ${rule.id}` : undefined;
}

function missing(field: string): TokenError {
    return new TokenError(400, "BXNIM0106E", `Property validation failed: property '${field}' is missing.`);
}

function profileNotFound(what: string): TokenError {
    // (choice) like an unknown API key: 400 on the token endpoint
    return new TokenError(400, "BXNIM0441E", `Trusted profile ${what} could not be found.`);
}

/** The profile named by a token request: CRN, then id, then name (in `account`, else the resource's own account). */
function profileFrom(emu: ProfileTokenContext, form: URLSearchParams, defaultAccount: string | undefined, nameNeedsAccount: boolean): ProfileRecord {
    const profiles = emu.store.profiles();
    const crn = form.get("profile_crn");
    const id = form.get("profile_id");
    const name = form.get("profile_name");
    let p: ProfileRecord | undefined;
    if (crn) {
        p = profiles.find((x) => profileCrn(x) === crn);
        if (!p) throw profileNotFound(`'${crn}'`);
    } else if (id) {
        p = profiles.find((x) => x.id === id);
        if (!p) throw profileNotFound(`'${id}'`);
    }
    if (name) {
        const account = form.get("account") ?? (nameNeedsAccount ? null : defaultAccount);
        if (!account) throw missing("account");
        const byName = profiles.find((x) => x.accountId === account && x.name === name);
        if (!byName) throw profileNotFound(`named '${name}'`);
        // both given: they must name the same profile
        if (p && p !== byName)
            throw new TokenError(400, "BXNIM0106E", `Property validation failed: profile_name '${name}' does not name the profile '${p.id}'.`);
        p = byName;
    }
    if (!p) throw missing(nameNeedsAccount ? "profile_crn', 'profile_id' or 'profile_name" : "profile_id' or 'profile_name");
    return p;
}

function profileClaims(emu: ProfileTokenContext, p: ProfileRecord, grant: string, authn: Record<string, unknown>): JwtClaims {
    const iat = Math.floor(Date.now() / 1000);
    return {
        iam_id: p.iamId,
        id: p.iamId,
        realmid: "iam",
        jti: crypto.randomUUID(),
        identifier: p.id,
        sub: p.id,
        sub_type: "Profile",
        name: p.name,
        authn,
        account: { valid: true, bss: p.accountId, frozen: true },
        iat,
        exp: iat + emu.tokenLifetimeSeconds,
        iss: ISSUER,
        grant_type: grant,
        scope: "ibm openid",
        client_id: "default",
        acr: 1,
        amr: ["pwd"],
    };
}

/** The claims of a profile token for a compute resource, or the refusal IBM's token endpoint would give. */
export function crTokenClaims(emu: ProfileTokenContext, cr: ComputeResource, p: ProfileRecord, grant = CR_TOKEN_GRANT): JwtClaims {
    const why = trustOf(p, cr);
    if (!why) {
        // (choice) 403: the caller proved who it is, but the profile does not trust it
        throw new TokenError(
            403,
            "BXNIM0442E",
            `The compute resource ${describe(cr)} is not linked to the trusted profile '${p.id}' and matches none of its claim rules.`,
        );
    }
    const authn: Record<string, unknown> = {
        sub: cr.namespace !== undefined ? `system:serviceaccount:${cr.namespace}:${cr.name}` : cr.crn,
        cr_type: cr.crType,
        crn: cr.crn,
    };
    return profileClaims(emu, p, grant, authn);
}

function describe(cr: ComputeResource): string {
    if (cr.namespace !== undefined) return `${cr.crType} ${cr.namespace}/${cr.name} of ${cr.crn}`;
    if (cr.componentType !== undefined) return `CE ${cr.componentType} ${cr.componentName} of ${cr.crn}`;
    return `${cr.crType} ${cr.crn}`;
}

/** Claims for the cr-token and assume grants of `POST /identity/token`. */
export function profileGrantClaims(emu: ProfileTokenContext, form: URLSearchParams, grant: string): JwtClaims {
    if (grant === CR_TOKEN_GRANT) {
        const token = form.get("cr_token");
        if (!token) throw missing("cr_token");
        // IBM's SDK sends the file as read, newline included
        const r = computeResourceOf(emu, token.trim());
        if (!r) throw new TokenError(400, "BXNIM0440E", "Provided compute resource token is invalid or expired.");
        const p = profileFrom(emu, form, crnAccount(r.cr.crn), false);
        return crTokenClaims(emu, r.cr, p);
    }
    const accessToken = form.get("access_token");
    if (!accessToken) throw missing("access_token");
    const v = emu.signer.verify(accessToken);
    if (!v.ok) throw new TokenError(400, "BXNIM0302E", v.reason === "expired" ? "Provided access token is expired." : "Provided access token is invalid.");
    const c = v.claims;
    const callerIamId = String(c.iam_id);
    const callerAccount = String((c.account as { bss?: string } | undefined)?.bss ?? "");
    if (!stillValid(emu, c)) throw new TokenError(400, "BXNIM0302E", "Provided access token is invalid.");
    const p = profileFrom(emu, form, undefined, true);
    // only identities the profile lists may assume it: a user from the accounts its entry names (default: the
    // profile's), a service ID or a service instance from the profile's own account
    const trusted = p.identities.find(
        (i) => i.iamId === callerIamId && (i.type === "user" && i.accounts?.length ? i.accounts.includes(callerAccount) : callerAccount === p.accountId),
    );
    if (!trusted) {
        throw new TokenError(403, "BXNIM0443E", `The identity '${callerIamId}' is not trusted to assume the trusted profile '${p.id}'.`);
    }
    return profileClaims(emu, p, grant, { iam_id: callerIamId, sub: String(c.sub ?? callerIamId) });
}

/** A profile token dies with its profile (and a recreated profile of the same name is another profile). */
export function stillValid(emu: ProfileTokenContext, claims: JwtClaims): boolean {
    if (claims.sub_type !== "Profile") return true;
    const p = emu.store.profileById(String(claims.sub));
    return !!p && p.iamId === claims.iam_id;
}

// admin: mint a compute resource's token -------------------------------------------------------

function jsonObject(ctx: Ctx): Record<string, unknown> {
    let b: unknown;
    try {
        b = JSON.parse(ctx.body.toString("utf8") || "{}");
    } catch {
        throw new AdminError(400, "body must be JSON");
    }
    if (!b || typeof b !== "object" || Array.isArray(b)) throw new AdminError(400, "body must be a JSON object");
    return b as Record<string, unknown>;
}

export function computeResourceHandlers(emu: ProfileTokenContext) {
    // an admin route: never faulted nor rate-limited (the fault middleware lets every /__emulator/ path through)
    const mintToken: Handler = (ctx) => {
        const b = jsonObject(ctx);
        const cr = checkComputeResource(b);
        let lifetime = emu.tokenLifetimeSeconds;
        if (b.expiresIn !== undefined) {
            if (typeof b.expiresIn !== "number" || !Number.isInteger(b.expiresIn) || b.expiresIn < 1)
                problem("expiresIn must be a whole number of seconds, at least 1");
            lifetime = b.expiresIn as number;
        }
        const { token } = mintComputeResourceToken(emu, cr, lifetime);
        ctx.send(200, { token });
    };

    // The VSI metadata service (identity token, then a profile's IAM token) of the instance whose CRN is the
    // first segment: point VpcInstanceAuthenticator's `url` at `<emulator>/metadata/<url-encoded instance CRN>`.
    const metadataToken =
        (version: string): Handler =>
        (ctx) => {
            const cr = metadataInstance(ctx, version);
            const b = optionalJson(ctx);
            const expiresIn = b.expires_in ?? 300;
            if (typeof expiresIn !== "number" || !Number.isInteger(expiresIn) || expiresIn < 5 || expiresIn > 3600) {
                throw vpcError(400, "bad_field", "expires_in must be a whole number of seconds between 5 and 3600.");
            }
            const { token, iat, exp } = mintComputeResourceToken(emu, cr, expiresIn);
            ctx.send(200, {
                access_token: token,
                created_at: new Date(iat * 1000).toISOString(),
                expires_at: new Date(exp * 1000).toISOString(),
                expires_in: expiresIn,
            });
        };

    const metadataIamToken =
        (version: string): Handler =>
        (ctx) => {
            const cr = metadataInstance(ctx, version);
            const m = /^Bearer\s+(\S+)$/i.exec(ctx.header("authorization") ?? "");
            const identity = m ? computeResourceOf(emu, m[1]) : undefined;
            if (!identity || identity.cr.crn !== cr.crn) {
                throw vpcError(401, "not_authorized", "The instance identity token is missing, invalid, expired or not this instance's.");
            }
            const b = optionalJson(ctx);
            const tp = b.trusted_profile as Record<string, unknown> | undefined;
            if (tp !== undefined && (typeof tp !== "object" || tp === null || Array.isArray(tp))) {
                throw vpcError(400, "bad_field", "trusted_profile must be an object with id, crn or name.");
            }
            const profiles = emu.store.profiles();
            let p: ProfileRecord | undefined;
            if (tp && (tp.id !== undefined || tp.crn !== undefined || tp.name !== undefined)) {
                p = profiles.find(
                    (x) =>
                        (tp.id === undefined || x.id === tp.id) &&
                        (tp.crn === undefined || profileCrn(x) === tp.crn) &&
                        (tp.name === undefined || (x.name === tp.name && x.accountId === crnAccount(cr.crn))),
                );
                if (!p) throw vpcError(404, "trusted_profile_not_found", `Trusted profile ${JSON.stringify(tp)} could not be found.`);
            } else {
                // (choice) no instance-creation default profile is modelled: the one profile linked to the instance, if exactly one
                const linked = profiles.filter((x) => x.links.some((l) => l.crType === cr.crType && l.crn === cr.crn));
                if (linked.length !== 1) {
                    throw vpcError(400, "trusted_profile_required", `The instance has ${linked.length} linked trusted profiles; name one in trusted_profile.`);
                }
                p = linked[0];
            }
            let claims: JwtClaims;
            try {
                claims = crTokenClaims(emu, cr, p);
            } catch (e) {
                if (e instanceof TokenError) throw vpcError(e.status, "not_authorized", e.message);
                throw e;
            }
            ctx.send(200, {
                access_token: emu.signer.sign(claims),
                created_at: new Date(claims.iat * 1000).toISOString(),
                expires_at: new Date(claims.exp * 1000).toISOString(),
                expires_in: claims.exp - claims.iat,
            });
        };

    return { mintToken, metadataToken, metadataIamToken };
}

/** VPC's error envelope shares IAM's shape (`errors[{code, message, more_info}]`, `trace`). */
function vpcError(status: number, code: string, message: string): IamError {
    return new IamError(status, code, message);
}

function optionalJson(ctx: Ctx): Record<string, unknown> {
    if (ctx.body.length === 0) return {};
    let b: unknown;
    try {
        b = JSON.parse(ctx.body.toString("utf8"));
    } catch {
        throw vpcError(400, "bad_request", "The request body is not valid JSON.");
    }
    if (!b || typeof b !== "object" || Array.isArray(b)) throw vpcError(400, "bad_request", "The request body must be a JSON object.");
    return b as Record<string, unknown>;
}

/** The instance a metadata request is for, after the checks the metadata service makes on every request. */
function metadataInstance(ctx: Ctx, version: string): ComputeResource {
    if ((ctx.header("metadata-flavor") ?? "").toLowerCase() !== "ibm") {
        throw vpcError(400, "missing_metadata_flavor", "The Metadata-Flavor: ibm header is required.");
    }
    if (ctx.query.get("version") !== version) throw vpcError(400, "bad_version", `This path needs ?version=${version}.`);
    const crn = ctx.params.crn;
    const parts = crn.split(":");
    if (!crnAccount(crn) || parts[4] !== "is" || (parts[8] !== "instance" && parts[8] !== "bare-metal-server")) {
        throw vpcError(404, "not_found", "The metadata path needs a VSI's CRN (crn:v1:bluemix:public:is:<zone>:a/<account>::instance:<id>), URL-encoded.");
    }
    return { crType: parts[8] === "instance" ? "VSI" : "BMS", crn };
}
