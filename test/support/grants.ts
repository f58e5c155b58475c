// The access policy most tests need, written once: one identity gets one role on one KMS instance.
import type { PolicyBody } from "../../client";

export interface KmsInstanceGrant {
    accountId: string;
    /** The subject (`iam-ServiceId-…`). */
    iamId: string;
    /** The role's CRN, e.g. `crn:v1:bluemix:public:iam::::serviceRole:Writer`. */
    roleCrn: string;
    service: "kms" | "hs-crypto";
    /** The instance GUID. */
    instance: string;
    /** Write `operator: "stringEquals"` on each resource attribute, as IBM's console does (IAM reads both forms alike). */
    operators?: boolean;
}

/** The body of an access policy granting `roleCrn` on one KMS instance to `iamId`. */
export function kmsInstanceGrant(g: KmsInstanceGrant): PolicyBody {
    const attribute = (name: string, value: string) => (g.operators ? { name, value, operator: "stringEquals" } : { name, value });
    return {
        type: "access",
        subjects: [{ attributes: [{ name: "iam_id", value: g.iamId }] }],
        roles: [{ role_id: g.roleCrn }],
        resources: [{ attributes: [attribute("accountId", g.accountId), attribute("serviceName", g.service), attribute("serviceInstance", g.instance)] }],
    };
}
