// Zod fields shared by the trusted-profile resources (links, claim rules, trusted identities).
import { z } from "zod";

/** The compute resource types IBM links and claim rules name. */
export const CR_TYPES = ["VSI", "BMS", "PVS", "IKS_SA", "ROKS_SA", "CE"] as const;

/** A trusted profile's id, as a TrustedProfile's `profileId` output gives it. */
export function profileIdField() {
    return z
        .string({ error: "profileId must be a trusted profile's id such as Profile-1a2b3c4d-…, e.g. profileId: profile.profileId" })
        .regex(/^Profile-[0-9a-fA-F-]{36}$/, { error: "profileId must be a trusted profile's id (Profile-<uuid>), e.g. profileId: profile.profileId" });
}

export function crTypeField() {
    return z.enum(CR_TYPES, { error: `crType must be one of ${CR_TYPES.join(", ")}` });
}

/** A non-empty string; the messages suggest `example`. */
export function textField(field: string, example: string) {
    return z
        .string({ error: `${field} must be a string such as "${example}"` })
        .trim()
        .min(1, { error: `${field} must not be empty, e.g. "${example}"` });
}
