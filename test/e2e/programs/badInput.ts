// The program of test/e2e/badInput.test.ts: the resource of one row of test/support/badInputs.ts,
// declared with the row's (bad) inputs as a user program would. Parameter: row (`<target>: <what>`).
import { KmsAccess } from "../../../components";
import { AccessPolicy, KmsKey, ServiceApiKey, ServiceId } from "../../../provider";
import { BAD_INPUTS } from "../../support/badInputs";
import { params } from "./params";

export async function badRow(): Promise<Record<string, unknown>> {
    const label = params().require("row");
    const row = BAD_INPUTS.find((r) => `${r.target}: ${r.what}` === label);
    if (!row) throw new Error(`no bad-input row "${label}"`);
    const args = row.inputs as never;
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
        case "KmsAccess":
            new KmsAccess("orders", args);
            break;
        default:
            throw new Error(`no program for ${row.target}`);
    }
    return {};
}
