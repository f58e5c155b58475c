// Source-service tokens: IBM services such as Cloud Object Storage reach a KMS instance with their own
// service-to-service tokens, under `authorization` policies. No such service runs here, so a test or
// a demo asks the emulator to act as one: POST /__emulator/service-token mints a token for a source
// service (and instance) that the KMS routes judge by authorization policies only (../iam/access.ts).
import * as crypto from "crypto";
import type { EmulatorContext } from "../core/context";
import { AdminError } from "../core/errors";
import { ISSUER } from "../core/jwt";
import type { Handler } from "../core/server";

const NAME = /^[a-z][a-z0-9-]{1,63}$/;

export function serviceTokenHandler(emu: Pick<EmulatorContext, "store" | "signer" | "tokenLifetimeSeconds">): Handler {
    const mint: Handler = (ctx) => {
        let b: Record<string, unknown>;
        try {
            b = JSON.parse(ctx.body.toString("utf8") || "{}");
        } catch {
            throw new AdminError(400, "body must be JSON");
        }
        if (!b || typeof b !== "object" || Array.isArray(b)) throw new AdminError(400, "body must be a JSON object");
        for (const k of Object.keys(b)) {
            if (!["serviceName", "serviceInstance", "resourceGroupId"].includes(k))
                throw new AdminError(400, `${k} is not a field of this body (fields: serviceName, serviceInstance, resourceGroupId)`);
        }
        if (typeof b.serviceName !== "string" || !NAME.test(b.serviceName))
            throw new AdminError(400, 'serviceName must be a service name such as "cloud-object-storage"');
        for (const f of ["serviceInstance", "resourceGroupId"] as const) {
            if (b[f] !== undefined && (typeof b[f] !== "string" || !/^[\w-]{1,128}$/.test(b[f] as string)))
                throw new AdminError(400, `${f} must be an id (letters, digits, - and _)`);
        }
        const accountId = emu.store.data.accountId;
        const instance = (b.serviceInstance as string | undefined) ?? "";
        const crn = `crn:v1:bluemix:public:${b.serviceName}:global:a/${accountId}:${instance}::`;
        const iat = Math.floor(Date.now() / 1000);
        const exp = iat + emu.tokenLifetimeSeconds;
        const token = emu.signer.sign({
            iam_id: `crn-${crn}`,
            id: `crn-${crn}`,
            realmid: "crn",
            jti: crypto.randomUUID(),
            identifier: crn,
            sub: crn,
            sub_type: "CRN",
            account: { valid: true, bss: accountId },
            source_service: {
                serviceName: b.serviceName,
                ...(b.serviceInstance !== undefined ? { serviceInstance: b.serviceInstance } : {}),
                ...(b.resourceGroupId !== undefined ? { resourceGroupId: b.resourceGroupId } : {}),
            },
            iat,
            exp,
            iss: ISSUER,
            grant_type: "urn:ibm:params:oauth:grant-type:cr-token",
            scope: "ibm openid",
            client_id: "default",
        });
        ctx.send(200, { access_token: token, token_type: "Bearer", expires_in: emu.tokenLifetimeSeconds, expiration: exp, crn });
    };
    return mint;
}
