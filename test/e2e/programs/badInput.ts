// The program of test/e2e/badInput.test.ts: the resource of one row of test/support/badInputs.ts,
// declared with the row's (bad) inputs as a user program would. Parameters: row (`<target>: <what>`);
// late (optional, true): every argument handed over as an Output, as values computed from other
// resources are, so the constructor cannot judge them and the provider's check (preview) does.
import * as pulumi from "@pulumi/pulumi";
import { KmsAccess } from "../../../components";
import {
    AccessPolicy,
    AuthorizationPolicy,
    KmsAccessReady,
    KmsKey,
    KmsKeyRing,
    ServiceApiKey,
    ServiceId,
    TrustedProfile,
    TrustedProfileClaimRule,
    TrustedProfileIdentity,
    TrustedProfileLink,
} from "../../../provider";
import { BAD_INPUTS } from "../../support/badInputs";
import { params } from "./params";

export async function badRow(): Promise<Record<string, unknown>> {
    const label = params().require("row");
    const row = BAD_INPUTS.find((r) => `${r.target}: ${r.what}` === label);
    if (!row) throw new Error(`no bad-input row "${label}"`);
    const late = params().getBoolean("late") === true;
    const args = (late ? Object.fromEntries(Object.entries(row.inputs).map(([k, v]) => [k, pulumi.output(v)])) : row.inputs) as never;
    switch (row.target) {
        case "ServiceId":
            new ServiceId("bad", args);
            break;
        case "ServiceApiKey":
            new ServiceApiKey("bad", args);
            break;
        case "AccessPolicy":
            new AccessPolicy("bad", args);
            break;
        case "KmsKey":
            new KmsKey("bad", args);
            break;
        case "KmsKeyRing":
            new KmsKeyRing("bad", args);
            break;
        case "KmsAccessReady":
            new KmsAccessReady("bad", args);
            break;
        case "AuthorizationPolicy":
            new AuthorizationPolicy("bad", args);
            break;
        case "KmsAccess":
            new KmsAccess("orders", args);
            break;
        case "TrustedProfile":
            new TrustedProfile("bad", args);
            break;
        case "TrustedProfileLink":
            new TrustedProfileLink("bad", args);
            break;
        case "TrustedProfileClaimRule":
            new TrustedProfileClaimRule("bad", args);
            break;
        case "TrustedProfileIdentity":
            new TrustedProfileIdentity("bad", args);
            break;
        default:
            throw new Error(`no program for ${row.target}`);
    }
    return {};
}
