// IAM token service: API key (and refresh token) → RS256 access token; public signing keys.
import * as crypto from "crypto";
import type { TokenContext } from "../core/context";
import { TokenError } from "../core/errors";
import { ISSUER, JwtClaims } from "../core/jwt";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { ApiKeyRecord, parseIdentityTime } from "../core/state";
import { ASSUME_GRANT, CR_TOKEN_GRANT, profileGrantClaims } from "./profileTokens";

const APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey";
const REFRESH_GRANT = "refresh_token";
const RESPONSE_TYPES = ["cloud_iam", "uaa", "delegated_refresh_token"];
/** The token exchange paths (never counted as writes, rate-limited per API key). */
export const TOKEN_PATHS: ReadonlySet<string> = new Set(["/identity/token", "/oidc/token"]);
const NO_STORE = { "Cache-Control": "no-cache, no-store, must-revalidate", Pragma: "no-cache" };

/** Why a key cannot be exchanged; IBM answers all of these with the same "not found". */
export function keyUsable(key: ApiKeyRecord | undefined, now: Date = new Date()): key is ApiKeyRecord {
    if (!key || key.disabled) return false;
    if (key.expiresAt) {
        const exp = parseIdentityTime(key.expiresAt);
        if (exp && exp.getTime() <= now.getTime()) return false;
    }
    return true;
}

function apiKeyNotFound(): TokenError {
    return new TokenError(400, "BXNIM0415E", "Provided API key could not be found.");
}

function parseForm(ctx: Ctx): URLSearchParams {
    const type = (ctx.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded") {
        throw new TokenError(400, "BXNIM0106E", "Property validation failed: the request must be application/x-www-form-urlencoded.");
    }
    return new URLSearchParams(ctx.body.toString("utf8"));
}

/** `Authorization: Basic base64(bx:bx)`: the CLI's client id that unlocks usable refresh tokens. */
function hasBxClient(ctx: Ctx): boolean {
    const auth = ctx.header("authorization");
    const m = auth ? /^Basic\s+(\S+)$/i.exec(auth) : null;
    return !!m && Buffer.from(m[1], "base64").toString("utf8") === "bx:bx";
}

export function tokenHandlers(emu: TokenContext) {
    const exchange: Handler = (ctx) => issueToken(ctx, emu);
    const signingKeys: Handler = (ctx) => {
        ctx.send(200, { keys: [emu.signer.jwk()] });
    };
    return { exchange, signingKeys };
}

function issueToken(ctx: Ctx, emu: TokenContext): void {
    emu.tokenRequests++;
    const form = parseForm(ctx);
    const grant = form.get("grant_type");
    const responseType = form.get("response_type");
    if (responseType && !responseType.split(/[\s,]+/).every((t) => RESPONSE_TYPES.includes(t))) {
        throw new TokenError(400, "BXNIM0106E", `Property validation failed: response_type '${responseType}' is not supported.`);
    }
    let key: ApiKeyRecord | undefined;
    if (grant === APIKEY_GRANT) {
        const value = form.get("apikey");
        if (!value) throw new TokenError(400, "BXNIM0106E", "Property validation failed: property 'apikey' is missing.");
        key = emu.store.apiKeyByValue(value);
        if (!keyUsable(key)) throw apiKeyNotFound();
    } else if (grant === REFRESH_GRANT) {
        const rt = form.get("refresh_token");
        if (!rt) throw new TokenError(400, "BXNIM0106E", "Property validation failed: property 'refresh_token' is missing.");
        if (!hasBxClient(ctx)) {
            throw new TokenError(400, "BXNIM0106E", "Property validation failed: the refresh_token grant requires client credentials.");
        }
        const payload = emu.signer.verifyOpaque(rt);
        if (!payload || typeof payload.k !== "string" || typeof payload.exp !== "number") {
            throw new TokenError(400, "BXNIM0407E", "Provided refresh token is invalid.");
        }
        if (payload.exp <= Math.floor(Date.now() / 1000)) throw new TokenError(400, "BXNIM0407E", "Provided refresh token is expired.");
        key = emu.store.apiKeyById(payload.k);
        // a refresh token dies with the key it came from
        if (!keyUsable(key)) throw apiKeyNotFound();
    } else if (grant === CR_TOKEN_GRANT || grant === ASSUME_GRANT) {
        sendToken(ctx, emu, profileGrantClaims(emu, form, grant));
        return;
    } else if (!grant) {
        throw new TokenError(400, "BXNIM0106E", "Property validation failed: property 'grant_type' is missing.");
    } else {
        throw new TokenError(400, "BXNIM0106E", `Property validation failed: grant_type '${grant}' is not supported.`);
    }

    const claims = claimsFor(emu, key, grant);
    const accessToken = emu.signer.sign(claims);
    const refreshToken = hasBxClient(ctx)
        ? emu.signer.signOpaque({ k: key.id, exp: claims.iat + emu.refreshTokenLifetimeSeconds, n: crypto.randomBytes(8).toString("hex") })
        : "not_supported";
    const body: Record<string, unknown> = {
        access_token: accessToken,
        refresh_token: refreshToken,
        token_type: "Bearer",
        expires_in: emu.tokenLifetimeSeconds,
        expiration: claims.exp,
        scope: "ibm openid",
    };
    if (key.iamId === emu.store.data.owner.iamId) body.ims_user_id = emu.store.data.owner.imsUserId;
    ctx.send(200, body, NO_STORE);
}

/** A token answer without a refresh token: profile tokens are never refreshed, only requested again. */
export function sendToken(ctx: Ctx, emu: TokenContext, claims: JwtClaims): void {
    ctx.send(
        200,
        {
            access_token: emu.signer.sign(claims),
            refresh_token: "not_supported",
            token_type: "Bearer",
            expires_in: claims.exp - claims.iat,
            expiration: claims.exp,
            scope: "ibm openid",
        },
        NO_STORE,
    );
}

function claimsFor(emu: TokenContext, key: ApiKeyRecord, grant: string): JwtClaims {
    const iat = Math.floor(Date.now() / 1000);
    const common = {
        jti: crypto.randomUUID(),
        iat,
        exp: iat + emu.tokenLifetimeSeconds,
        iss: ISSUER,
        grant_type: grant,
        scope: "ibm openid",
        client_id: "default",
        acr: 1,
        amr: ["pwd"],
    };
    const { owner, accountId } = emu.store.data;
    if (key.iamId === owner.iamId) {
        // user tokens follow IBMid tokens: person claims instead of sub_type, ims ids in `account`
        const name = `${owner.givenName} ${owner.familyName}`;
        return {
            iam_id: owner.iamId,
            id: owner.iamId,
            realmid: "IBMid",
            ...pick(common, "jti"),
            identifier: owner.identifier,
            given_name: owner.givenName,
            family_name: owner.familyName,
            name,
            email: owner.email,
            sub: owner.email,
            authn: { sub: owner.email, iam_id: owner.iamId, name, given_name: owner.givenName, family_name: owner.familyName, email: owner.email },
            account: { valid: true, bss: accountId, ims_user_id: String(owner.imsUserId), frozen: true, ims: String(owner.imsUserId + 1) },
            ...common,
        };
    }
    const sid = emu.store.serviceIdByIamId(key.iamId);
    const serviceId = sid?.id ?? key.iamId.replace(/^iam-/, "");
    return {
        iam_id: `iam-${serviceId}`,
        id: `iam-${serviceId}`,
        realmid: "iam",
        ...pick(common, "jti"),
        identifier: serviceId,
        sub: serviceId,
        sub_type: "ServiceId",
        name: sid?.name ?? serviceId,
        account: { valid: true, bss: key.accountId, frozen: true },
        ...common,
    };
}

function pick<T extends object, K extends keyof T>(o: T, k: K): Pick<T, K> {
    return { [k]: o[k] } as Pick<T, K>;
}
