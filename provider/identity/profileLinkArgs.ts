// A TrustedProfileLink's arguments as check judges them: the provider's check, and KmsAccess before it makes
// its links (the profile's id is not known then). Not public: the resource and the component are.
import { z } from "zod";
import { crnField } from "../check/fields";
import { CheckFailure, schemaOnce, validate } from "../check/validate";

const CR_TYPES = ["VSI", "BMS", "PVS", "IKS_SA", "ROKS_SA", "CE"] as const;

export function linkSchema() {
    const text = (field: string, example: string) =>
        z
            .string({ error: `${field} must be a string such as "${example}"` })
            .trim()
            .min(1, { error: `${field} must not be empty, e.g. "${example}"` });
    return z
        .object({
            profileId: z
                .string({ error: "profileId must be a trusted profile's id such as Profile-1a2b3c4d-…, e.g. profileId: profile.profileId" })
                .regex(/^Profile-[0-9a-fA-F-]{36}$/, { error: "profileId must be a trusted profile's id (Profile-<uuid>), e.g. profileId: profile.profileId" }),
            crType: z.enum(CR_TYPES, { error: `crType must be one of ${CR_TYPES.join(", ")}` }),
            crn: crnField("crn"),
            namespace: text("namespace", "orders").optional(),
            serviceAccount: text("serviceAccount", "orders-api").optional(),
            componentType: text("componentType", "application").optional(),
            componentName: text("componentName", "orders").optional(),
            linkName: text("linkName", "orders-api").optional(),
            isCrossAccount: z.boolean({ error: "isCrossAccount must be true or false" }).optional(),
        })
        .strict()
        .superRefine((v, ctx) => {
            const k8s = v.crType === "IKS_SA" || v.crType === "ROKS_SA";
            for (const f of ["namespace", "serviceAccount"] as const) {
                if (k8s && v[f] === undefined)
                    ctx.addIssue({
                        code: "custom",
                        path: [f],
                        message: `${f} is required for ${v.crType}: the service account's ${f === "namespace" ? "namespace" : "name"}`,
                    });
                if (!k8s && v[f] !== undefined)
                    ctx.addIssue({ code: "custom", path: [f], message: `${f} applies only to IKS_SA and ROKS_SA links; remove it for ${v.crType}` });
            }
            for (const f of ["componentType", "componentName"] as const) {
                if (v.crType === "CE" && v[f] === undefined)
                    ctx.addIssue({ code: "custom", path: [f], message: `${f} is required for CE links (the Code Engine component)` });
                if (v.crType !== "CE" && v[f] !== undefined)
                    ctx.addIssue({ code: "custom", path: [f], message: `${f} applies only to CE links; remove it for ${v.crType}` });
            }
        });
}

/** What is wrong with a link's arguments (plain values), field by field; for components that make links. */
export function trustedProfileLinkFailures(inputs: Record<string, unknown>): CheckFailure[] {
    const r = validate(schemaOnce("TrustedProfileLink", linkSchema), inputs);
    return r.ok ? [] : [...r.failures];
}
