// Shared fixtures of the emulator contract tests: raw HTTP calls, tokens, grants.
import * as assert from "assert";
import { RunningEmulator } from "../../emulator";

export interface Reply {
    status: number;
    headers: Headers;
    body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    text: string;
}

export interface CallOptions {
    token?: string;
    body?: unknown;
    headers?: Record<string, string>;
}

export const APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey";

export async function call(base: string, method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
        body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
        headers["Content-Type"] ??= "application/json";
    }
    const res = await fetch(base + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
        parsed = text ? JSON.parse(text) : undefined;
    } catch {
        parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Fails with the body in the message (bodies never hold the owner key: the emulator never returns it). */
export function expectStatus(r: Reply, status: number): void {
    assert.strictEqual(r.status, status, `expected HTTP ${status}, got ${r.status}: ${r.text.slice(0, 500)}`);
}

export async function tokenRequest(base: string, form: Record<string, string>, headers: Record<string, string> = {}, path = "/identity/token"): Promise<Reply> {
    return call(base, "POST", path, {
        body: new URLSearchParams(form).toString(),
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    });
}

export async function tokenFor(base: string, apikey: string): Promise<string> {
    const r = await tokenRequest(base, { grant_type: APIKEY_GRANT, apikey });
    expectStatus(r, 200);
    return r.body.access_token as string;
}

export function decodeJwt(token: string): { header: any; claims: any } {
    const [h, c] = token.split(".");
    return { header: JSON.parse(Buffer.from(h, "base64url").toString()), claims: JSON.parse(Buffer.from(c, "base64url").toString()) };
}

export interface ServiceIdWithKey {
    id: string;
    iamId: string;
    apikey: string;
    apikeyId: string;
}

/** A service ID with one API key, created by the owner through the IBM API. */
export async function serviceIdWithKey(emu: RunningEmulator, ownerToken: string, name: string): Promise<ServiceIdWithKey> {
    const r = await call(emu.url, "POST", "/v1/serviceids/", {
        token: ownerToken,
        body: { account_id: emu.accountId, name, apikey: { name: `${name}-key` } },
    });
    expectStatus(r, 201);
    return { id: r.body.id, iamId: r.body.iam_id, apikey: r.body.apikey.apikey, apikeyId: r.body.apikey.id };
}

export interface PolicyRequest {
    type: string;
    description?: string;
    subjects: { attributes: { name: string; value: string }[] }[];
    roles: { role_id: string }[];
    resources: { attributes: { name: string; value: string; operator?: string }[] }[];
}

export function policyBody(accountId: string, iamId: string, roles: string[], resource: Record<string, string>): PolicyRequest {
    return {
        type: "access",
        subjects: [{ attributes: [{ name: "iam_id", value: iamId }] }],
        roles: roles.map((role_id) => ({ role_id })),
        resources: [
            {
                attributes: [
                    { name: "accountId", value: accountId, operator: "stringEquals" },
                    ...Object.entries(resource).map(([name, value]) => ({ name, value, operator: "stringEquals" })),
                ],
            },
        ],
    };
}

export async function grant(emu: RunningEmulator, ownerToken: string, iamId: string, roles: string[], resource: Record<string, string>): Promise<Reply> {
    const r = await call(emu.url, "POST", "/v1/policies", { token: ownerToken, body: policyBody(emu.accountId, iamId, roles, resource) });
    expectStatus(r, 201);
    return r;
}

export const ROLE = {
    viewer: "crn:v1:bluemix:public:iam::::role:Viewer",
    editor: "crn:v1:bluemix:public:iam::::role:Editor",
    administrator: "crn:v1:bluemix:public:iam::::role:Administrator",
    reader: "crn:v1:bluemix:public:iam::::serviceRole:Reader",
    writer: "crn:v1:bluemix:public:iam::::serviceRole:Writer",
    manager: "crn:v1:bluemix:public:iam::::serviceRole:Manager",
    hpcsReaderPlus: "crn:v1:bluemix:public:hs-crypto::::serviceRole:ReaderPlus",
    hpcsKeyPurge: "crn:v1:bluemix:public:hs-crypto::::serviceRole:KeyPurge",
    kmsReaderPlus: "crn:v1:bluemix:public:kms::::serviceRole:ReaderPlus",
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Moves the emulator's KMS clock forward (`POST /__emulator/kms/clock`), past IBM's documented waits. */
export async function advanceKmsClock(base: string, seconds: number): Promise<void> {
    const r = await fetch(`${base}/__emulator/kms/clock`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ advanceSeconds: seconds }),
    });
    assert.strictEqual(r.status, 200, await r.text());
}
