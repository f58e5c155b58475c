// RS256 JSON Web Tokens with node:crypto: the emulator is the only issuer it trusts.
import * as crypto from "crypto";

export interface JwtHeader {
    kid: string;
    alg: "RS256";
}

export type JwtClaims = Record<string, unknown> & { iat: number; exp: number; iss: string };

export type VerifyResult = { ok: true; claims: JwtClaims; header: JwtHeader } | { ok: false; reason: "malformed" | "signature" | "expired" | "issuer" };

/** Issuer and verifier share one clock here, so no leeway: a short-lived token expires on time in tests. */
const SKEW_SECONDS = 0;

export const ISSUER = "https://iam.cloud.ibm.com/identity";

function b64url(input: Buffer | string): string {
    return Buffer.from(input).toString("base64url");
}

export class TokenSigner {
    readonly kid: string;
    private readonly privateKey: crypto.KeyObject;
    private readonly publicKey: crypto.KeyObject;

    constructor(kid: string, privateKeyPem: string) {
        this.kid = kid;
        this.privateKey = crypto.createPrivateKey(privateKeyPem);
        this.publicKey = crypto.createPublicKey(this.privateKey);
    }

    sign(claims: JwtClaims): string {
        const header: JwtHeader = { kid: this.kid, alg: "RS256" };
        const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
        const sig = crypto.sign("RSA-SHA256", Buffer.from(input), this.privateKey);
        return `${input}.${b64url(sig)}`;
    }

    /** `issuerPrefix`: IAM tokens by default; compute-resource tokens (profileTokens.ts) have their own issuer. */
    verify(token: string, nowSeconds: number = Math.floor(Date.now() / 1000), issuerPrefix = "https://iam"): VerifyResult {
        const parts = token.split(".");
        if (parts.length !== 3) return { ok: false, reason: "malformed" };
        let header: JwtHeader;
        let claims: JwtClaims;
        try {
            header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
            claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
        } catch {
            return { ok: false, reason: "malformed" };
        }
        if (header.alg !== "RS256" || header.kid !== this.kid) return { ok: false, reason: "signature" };
        const valid = crypto.verify("RSA-SHA256", Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2], "base64url"));
        if (!valid) return { ok: false, reason: "signature" };
        if (typeof claims.iss !== "string" || !claims.iss.startsWith(issuerPrefix)) return { ok: false, reason: "issuer" };
        if (typeof claims.exp !== "number" || claims.exp + SKEW_SECONDS <= nowSeconds) return { ok: false, reason: "expired" };
        return { ok: true, claims, header };
    }

    /** Opaque, signed refresh token: survives a restart because the key is persisted. */
    signOpaque(payload: Record<string, unknown>): string {
        const body = b64url(JSON.stringify(payload));
        const sig = crypto.sign("RSA-SHA256", Buffer.from(body), this.privateKey);
        return `${body}.${b64url(sig)}`;
    }

    verifyOpaque(token: string): Record<string, unknown> | undefined {
        const parts = token.split(".");
        if (parts.length !== 2) return undefined;
        try {
            const ok = crypto.verify("RSA-SHA256", Buffer.from(parts[0]), this.publicKey, Buffer.from(parts[1], "base64url"));
            return ok ? JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8")) : undefined;
        } catch {
            return undefined;
        }
    }

    /** The public key as IBM publishes it at /identity/keys (no `use`). */
    jwk(): { kty: string; kid: string; alg: string; n: string; e: string } {
        const jwk = this.publicKey.export({ format: "jwk" }) as { kty: string; n: string; e: string };
        return { kty: jwk.kty, kid: this.kid, alg: "RS256", n: jwk.n, e: jwk.e };
    }
}
