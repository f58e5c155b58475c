// Key actions (POST /api/v2/keys/{id}/actions/{action}): wrap, unwrap, rewrap and rotate with real
// AES-256-GCM (keyMaterial.ts), and the two halves of a dual-authorization delete.
import * as crypto from "crypto";
import { KmsError } from "../core/errors";
import { Ctx } from "../core/request";
import type { Handler } from "../core/server";
import { KmsKeyRecord } from "../core/state";
import { envelope, K, KmsRoutes, prefersRepresentation, renderKey } from "./keys";

const MAX_PLAINTEXT_BYTES = 7500;
const MAX_AAD_ITEMS = 126;
const MAX_AAD_LENGTH = 255;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const A = {
    ciphertext: (what: string) =>
        new KmsError(
            422,
            "UNPROCESSABLE_CIPHERTEXT_ERR",
            "The provided ciphertext is invalid or corrupted",
            `Unprocessable Entity: ${what}. Please see \`reasons\` for more details.`,
        ),
    /** What Key Protect answers when the AAD given is not the wrap's (missing, partial, reordered or other). */
    aadMismatch: (what: string) =>
        new KmsError(
            400,
            "INVALID_FIELD_ERR",
            "The field `ciphertext` must be: the original base64 encoded ciphertext from the wrap operation",
            `Bad Request: ${what}: Please see \`reasons\` for more details (INVALID_FIELD_ERR)`,
            { type: "field", name: "ciphertext" },
        ),
    payloadRequired: () =>
        new KmsError(
            400,
            "KEY_PAYLOAD_REQ_ERR",
            "Imported keys require a payload to rotate",
            "Bad Request: Key could not be rotated. Please see `reasons` for more details.",
        ),
    notDualAuth: () =>
        new KmsError(
            409,
            "NOT_DUAL_AUTH_ERR",
            "The key is not dual auth enabled and cannot be set for deletion",
            "Conflict: Key could not be set for deletion. Please see `reasons` for more details.",
        ),
};

/** The action's body; Key Protect's SDK sends none for a rotate or a wrap that generates the data key. */
function bodyOf(ctx: Ctx): Record<string, unknown> {
    if (ctx.body.length === 0) return {};
    const b = ctx.json<unknown>();
    if (!b || typeof b !== "object" || Array.isArray(b)) throw K.badBody("the body must be a JSON object");
    return b as Record<string, unknown>;
}

function base64Field(b: Record<string, unknown>, name: string, required: boolean): Buffer | undefined {
    const v = b[name];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || v === "" || !BASE64.test(v) || v.length % 4 !== 0) throw K.badBody(`${name} must be a non-empty base64 string`);
    return Buffer.from(v, "base64");
}

function aadOf(b: Record<string, unknown>): string[] {
    if (b.aad === undefined) return [];
    if (!Array.isArray(b.aad) || b.aad.length > MAX_AAD_ITEMS || !b.aad.every((s) => typeof s === "string" && s.length <= MAX_AAD_LENGTH)) {
        throw K.badBody(`aad must be an array of at most ${MAX_AAD_ITEMS} strings of at most ${MAX_AAD_LENGTH} characters`);
    }
    return b.aad as string[];
}

export function keyActionHandlers(r: KmsRoutes) {
    const emu = r.emu;
    const rootKey = (ctx: Ctx, action: string, what: string): KmsKeyRecord => {
        const inst = r.instanceOf(ctx);
        const k = r.authorizedKey(ctx, inst, action);
        if (k.extractable) throw K.rootRequired(what);
        // a disabled (suspended) key keeps its metadata readable and does no cryptography
        if (k.state !== 1) throw K.invalidState(what);
        return k;
    };
    /**
     * The data key in the body's ciphertext. A ciphertext of this key that fails to authenticate is taken as
     * unwrapped with other AAD (400 INVALID_FIELD_ERR, as Key Protect answers); one that is not this key's at all 422.
     */
    const opened = (k: KmsKeyRecord, b: Record<string, unknown>, aad: string[], what: string) => {
        const u = r.crypto.unwrap(k, b.ciphertext as string, aad);
        if (u) return u;
        if (r.crypto.versionNamed(k, b.ciphertext as string)) throw A.aadMismatch(what);
        throw A.ciphertext(what);
    };

    const wrap: Handler = (ctx) => {
        const k = rootKey(ctx, "secrets.wrap", "Key could not be wrapped");
        const b = bodyOf(ctx);
        const given = base64Field(b, "plaintext", false);
        if (given && given.length > MAX_PLAINTEXT_BYTES) throw K.badBody(`plaintext must be at most ${MAX_PLAINTEXT_BYTES} bytes`);
        // no plaintext: Key Protect generates a 256-bit data key and returns it with its wrapped form
        const plaintext = given ?? crypto.randomBytes(32);
        const w = r.crypto.wrap(k, plaintext, aadOf(b));
        const out: Record<string, unknown> = { ciphertext: w.ciphertext, keyVersion: { id: w.version.id } };
        if (!given) out.plaintext = plaintext.toString("base64");
        r.send(ctx, 200, out);
    };

    const unwrap: Handler = (ctx) => {
        const k = rootKey(ctx, "secrets.unwrap", "Key could not be unwrapped");
        const b = bodyOf(ctx);
        base64Field(b, "ciphertext", true);
        const aad = aadOf(b);
        const u = opened(k, b, aad, "Unwrap with key could not be performed");
        const out: Record<string, unknown> = { plaintext: u.plaintext.toString("base64"), keyVersion: { id: u.version.id } };
        const versions = r.crypto.versionsOf(k);
        const newest = versions[versions.length - 1];
        // wrapped by an older version: IBM also returns it wrapped by the newest, for the caller to keep
        if (u.version.id !== newest.id) {
            out.ciphertext = r.crypto.wrap(k, u.plaintext, aad).ciphertext;
            out.rewrappedKeyVersion = { id: newest.id };
        }
        r.send(ctx, 200, out);
    };

    const rewrap: Handler = (ctx) => {
        const k = rootKey(ctx, "secrets.rewrap", "Key could not be rewrapped");
        const b = bodyOf(ctx);
        base64Field(b, "ciphertext", true);
        const aad = aadOf(b);
        const u = opened(k, b, aad, "Rewrap with key could not be performed");
        const w = r.crypto.wrap(k, u.plaintext, aad);
        // IBM: keyVersion is the version that wrapped the ciphertext given, rewrappedKeyVersion the newest
        r.send(ctx, 200, { ciphertext: w.ciphertext, keyVersion: { id: u.version.id }, rewrappedKeyVersion: { id: w.version.id } });
    };

    const rotate: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const k = rootKey(ctx, "secrets.rotate", "Key could not be rotated");
        const b = bodyOf(ctx);
        const payload = base64Field(b, "payload", false);
        if (k.imported && !payload) throw A.payloadRequired();
        if (!k.imported && payload) throw K.badBody("a generated root key is rotated without a payload");
        if (payload && ![16, 24, 32].includes(payload.length)) throw K.badBody("an imported root key must be 128, 192 or 256 bits");
        const now = r.time();
        const v = r.crypto.newVersion(k.id, now, payload);
        r.crypto.versionsOf(k).push(v);
        k.keyVersion = { id: v.id, creationDate: now };
        k.lastRotateDate = now;
        k.lastUpdateDate = now;
        emu.store.save();
        if (prefersRepresentation(ctx)) r.send(ctx, 200, envelope([renderKey(emu, inst, k, false)]));
        else r.send(ctx, 204);
    };

    const setKeyForDeletion: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const k = r.authorizedKey(ctx, inst, "secrets.setkeyfordeletion");
        if (k.state !== 1) throw K.invalidState("Key could not be set for deletion");
        if (!k.policies?.dualAuthDelete?.enabled) throw A.notDualAuth();
        k.deletionAuthorization = { by: ctx.caller!.iamId, at: r.nowMs() };
        emu.store.save();
        r.send(ctx, 204);
    };

    const unsetKeyForDeletion: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const k = r.authorizedKey(ctx, inst, "secrets.unsetkeyfordeletion");
        if (k.state !== 1) throw K.invalidState("Key could not be unset for deletion");
        if (!k.policies?.dualAuthDelete?.enabled) throw A.notDualAuth();
        delete k.deletionAuthorization;
        emu.store.save();
        r.send(ctx, 204);
    };

    return { wrap, unwrap, rewrap, rotate, setKeyForDeletion, unsetKeyForDeletion };
}
