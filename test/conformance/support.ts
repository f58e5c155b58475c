// The conformance layer's fixture: an emulator on a free loopback port and IBM's own clients pointed at it.
import * as assert from "assert";
import { IamAuthenticator } from "ibm-cloud-sdk-core";
import IamIdentityV1 = require("@ibm-cloud/platform-services/iam-identity/v1");
import IamPolicyManagementV1 = require("@ibm-cloud/platform-services/iam-policy-management/v1");
import { RunningEmulator, startEmulator } from "../../emulator";

export { IamIdentityV1, IamPolicyManagementV1 };

export interface IbmClients {
    emu: RunningEmulator;
    /** The owner's authenticator: IBM's token manager exchanging the owner's API key at the emulator. */
    authenticator: IamAuthenticator;
    identity: IamIdentityV1;
    policies: IamPolicyManagementV1;
}

/** Starts the emulator (port 0 on 127.0.0.1) and builds IBM's clients the way IBM documents. */
export async function startWithIbmClients(): Promise<IbmClients> {
    const emu = await startEmulator({ port: 0, host: "127.0.0.1" });
    const authenticator = new IamAuthenticator({ apikey: emu.apiKey, url: emu.url });
    return {
        emu,
        authenticator,
        identity: new IamIdentityV1({ authenticator, serviceUrl: emu.url }),
        policies: new IamPolicyManagementV1({ authenticator, serviceUrl: emu.url }),
    };
}

/** Clients that authenticate with another API key (a service ID's). */
export function clientsFor(emu: RunningEmulator, apikey: string): { identity: IamIdentityV1; policies: IamPolicyManagementV1 } {
    const authenticator = new IamAuthenticator({ apikey, url: emu.url });
    return { identity: new IamIdentityV1({ authenticator, serviceUrl: emu.url }), policies: new IamPolicyManagementV1({ authenticator, serviceUrl: emu.url }) };
}

export interface IbmFailure {
    status: number;
    /** The response body as IBM's SDK hands it over (`err.body` is the raw JSON text). */
    body: { errors: { code: string; message: string; message_code?: string; more_info?: string; details?: unknown }[]; status_code: number; trace: string };
    headers: Record<string, string>;
}

/** Awaits a call IBM's SDK must reject, and returns what it saw. */
export async function rejected(p: Promise<unknown>, status: number): Promise<IbmFailure> {
    try {
        await p;
    } catch (e) {
        const err = e as { status?: number; body?: string; headers?: Record<string, string>; message?: string };
        assert.strictEqual(err.status, status, `expected HTTP ${status}, got ${err.status}: ${err.body ?? err.message}`);
        return { status: err.status!, body: JSON.parse(err.body ?? "{}"), headers: err.headers ?? {} };
    }
    throw new assert.AssertionError({ message: `expected the call to fail with HTTP ${status}, it succeeded` });
}

/** IBM's identity paging: the next page token sits in the `next` URL. */
export function pageToken(next: string | undefined): string | undefined {
    return next ? (new URL(next).searchParams.get("pagetoken") ?? undefined) : undefined;
}

export const ETAG = /^\d+-[0-9a-f]{32}$/;
export const IDENTITY_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}\+0000$/;
export const POLICY_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const IDENTITY_DOCS = "https://cloud.ibm.com/apidocs/iam-identity-token-api";
export const POLICY_DOCS = "https://cloud.ibm.com/apidocs/iam-policy-management";
