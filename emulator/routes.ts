// Every route the emulator serves, in one table: method, path, family (which IBM service it plays: decides the
// error envelope and whether a bearer token is needed) and handler. The router tries rows in order and the first
// match wins, which matters only where a literal segment and a parameter meet: `/v1/apikeys/details` comes
// before `/v1/apikeys/:id`. Handlers are built here from the narrow context each concern needs (core/context.ts).
import { adminHandlers, type AdminContext, faultConfigHandlers } from "./admin/handlers";
import { kmsAdminHandlers } from "./admin/kms";
import { serviceTokenHandler } from "./admin/serviceToken";
import type { Handler, RouteOptions } from "./core/server";
import { apiKeyHandlers } from "./iam/apiKeys";
import { policyHandlers } from "./iam/policies";
import { computeResourceHandlers, METADATA_VERSIONS } from "./iam/profileTokens";
import { profileHandlers } from "./iam/profiles";
import { profileTrustHandlers } from "./iam/profileTrust";
import { serviceIdHandlers } from "./iam/serviceIds";
import { tokenHandlers } from "./iam/token";
import { aliasHandlers } from "./kms/aliases";
import { instancePolicyHandlers } from "./kms/instancePolicies";
import { keyActionHandlers } from "./kms/keyActions";
import { keyPolicyHandlers } from "./kms/keyPolicies";
import { keyRingHandlers } from "./kms/keyRings";
import { keyHandlers, KmsRoutes } from "./kms/keys";
import { keyLifecycleHandlers } from "./kms/lifecycle";
import { registrationHandlers } from "./kms/registrations";

export type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
export type RouteRow = readonly [Method, string, RouteOptions, Handler];

/** `/__emulator/**`: the emulator's own API, no token, never faulted or rate-limited. */
const ADMIN: RouteOptions = { family: "admin", auth: false };
/** IAM's token service: the token error envelope, no bearer token. */
const TOKEN: RouteOptions = { family: "token", auth: false };
/** IAM Identity and Policy Management: IAM's common envelope, a bearer token from this emulator. */
const IAM: RouteOptions = { family: "iam", auth: true };
/** The VSI metadata service: its own identity token instead of an IAM bearer token. */
const METADATA: RouteOptions = { family: "iam", auth: false };
/** Key Protect / HPCS: the KMS envelope, a bearer token from this emulator, `Bluemix-Instance` names the instance. */
const KMS: RouteOptions = { family: "kms", auth: true };

export function routeTable(emu: AdminContext): RouteRow[] {
    const admin = adminHandlers(emu);
    const chaos = faultConfigHandlers(emu.faults);
    const token = tokenHandlers(emu);
    const serviceIds = serviceIdHandlers(emu);
    const apiKeys = apiKeyHandlers(emu);
    const policies = policyHandlers(emu);
    const profiles = profileHandlers(emu);
    const trust = profileTrustHandlers(emu);
    const computeResources = computeResourceHandlers(emu);
    const kms = new KmsRoutes(emu);
    const keys = keyHandlers(kms);
    const keyActions = keyActionHandlers(kms);
    const keyRings = keyRingHandlers(kms);
    const keyPolicies = keyPolicyHandlers(kms);
    const lifecycle = keyLifecycleHandlers(kms);
    const aliases = aliasHandlers(kms);
    const registrations = registrationHandlers(kms);
    const instancePolicies = instancePolicyHandlers(kms);
    const kmsAdmin = kmsAdminHandlers(kms);

    return [
        // admin: inspect, declare instances, reset (admin/handlers.ts)
        ["GET", "/__emulator/state", ADMIN, admin.state],
        ["POST", "/__emulator/instances", ADMIN, admin.addInstance],
        ["POST", "/__emulator/reset", ADMIN, admin.reset],
        // admin: faults, rate limit, counters (admin/handlers.ts, applied by chaos/faults.ts)
        ["GET", "/__emulator/faults", ADMIN, chaos.listFaults],
        ["POST", "/__emulator/faults", ADMIN, chaos.addFaults],
        ["DELETE", "/__emulator/faults", ADMIN, chaos.clearFaults],
        ["DELETE", "/__emulator/faults/:id", ADMIN, chaos.removeFault],
        ["PUT", "/__emulator/rate-limit", ADMIN, chaos.setRateLimit],
        ["DELETE", "/__emulator/rate-limit", ADMIN, chaos.removeRateLimit],
        ["GET", "/__emulator/stats", ADMIN, chaos.stats],
        ["POST", "/__emulator/stats/reset", ADMIN, chaos.resetStats],
        // admin: act as a source service such as Cloud Object Storage (admin/serviceToken.ts)
        ["POST", "/__emulator/service-token", ADMIN, serviceTokenHandler(emu)],
        // admin: the token a platform hands a compute resource (iam/profileTokens.ts)
        ["POST", "/__emulator/compute-resource-token", ADMIN, computeResources.mintToken],
        // admin: another IBM service registering its use of a key; KMS's clock moved forward (admin/kms.ts)
        ["POST", "/__emulator/kms/registrations", ADMIN, kmsAdmin.register],
        ["DELETE", "/__emulator/kms/registrations", ADMIN, kmsAdmin.unregister],
        ["GET", "/__emulator/kms/clock", ADMIN, kmsAdmin.clock],
        ["POST", "/__emulator/kms/clock", ADMIN, kmsAdmin.advanceClock],

        // IAM token service (iam/token.ts)
        ["POST", "/identity/token", TOKEN, token.exchange],
        ["POST", "/oidc/token", TOKEN, token.exchange],
        ["GET", "/identity/keys", TOKEN, token.signingKeys],

        // IAM Identity: service IDs (iam/serviceIds.ts)
        ["POST", "/v1/serviceids", IAM, serviceIds.create],
        ["GET", "/v1/serviceids", IAM, serviceIds.list],
        ["GET", "/v1/serviceids/:id", IAM, serviceIds.get],
        ["PUT", "/v1/serviceids/:id", IAM, serviceIds.update],
        ["DELETE", "/v1/serviceids/:id", IAM, serviceIds.remove],
        ["POST", "/v1/serviceids/:id/lock", IAM, serviceIds.lock],
        ["DELETE", "/v1/serviceids/:id/lock", IAM, serviceIds.unlock],

        // IAM Identity: trusted profiles (iam/profiles.ts), their claim rules, links and identities (iam/profileTrust.ts)
        ["POST", "/v1/profiles", IAM, profiles.create],
        ["GET", "/v1/profiles", IAM, profiles.list],
        ["GET", "/v1/profiles/:id", IAM, profiles.get],
        ["PUT", "/v1/profiles/:id", IAM, profiles.update],
        ["DELETE", "/v1/profiles/:id", IAM, profiles.remove],
        ["POST", "/v1/profiles/:id/rules", IAM, trust.createRule],
        ["GET", "/v1/profiles/:id/rules", IAM, trust.listRules],
        ["GET", "/v1/profiles/:id/rules/:ruleId", IAM, trust.getRule],
        ["PUT", "/v1/profiles/:id/rules/:ruleId", IAM, trust.updateRule],
        ["DELETE", "/v1/profiles/:id/rules/:ruleId", IAM, trust.removeRule],
        ["POST", "/v1/profiles/:id/links", IAM, trust.createLink],
        ["GET", "/v1/profiles/:id/links", IAM, trust.listLinks],
        ["DELETE", "/v1/profiles/:id/links", IAM, trust.removeLinksMatching],
        ["GET", "/v1/profiles/:id/links/:linkId", IAM, trust.getLink],
        ["DELETE", "/v1/profiles/:id/links/:linkId", IAM, trust.removeLink],
        ["GET", "/v1/profiles/:id/identities", IAM, trust.getIdentities],
        ["PUT", "/v1/profiles/:id/identities", IAM, trust.setIdentities],
        ["POST", "/v1/profiles/:id/identities/:type", IAM, trust.addIdentity],
        ["GET", "/v1/profiles/:id/identities/:type/:identifier", IAM, trust.getIdentity],
        ["DELETE", "/v1/profiles/:id/identities/:type/:identifier", IAM, trust.removeIdentity],

        // IAM Identity: API keys (iam/apiKeys.ts)
        ["POST", "/v1/apikeys", IAM, apiKeys.create],
        ["GET", "/v1/apikeys", IAM, apiKeys.list],
        ["GET", "/v1/apikeys/details", IAM, apiKeys.details], // before /v1/apikeys/:id: "details" is not an id
        ["GET", "/v1/apikeys/:id", IAM, apiKeys.get],
        ["PUT", "/v1/apikeys/:id", IAM, apiKeys.update],
        ["DELETE", "/v1/apikeys/:id", IAM, apiKeys.remove],
        ["POST", "/v1/apikeys/:id/lock", IAM, apiKeys.lock],
        ["DELETE", "/v1/apikeys/:id/lock", IAM, apiKeys.unlock],
        ["POST", "/v1/apikeys/:id/disable", IAM, apiKeys.disable],
        ["DELETE", "/v1/apikeys/:id/disable", IAM, apiKeys.enable],

        // The VSI metadata service of the instance whose (URL-encoded) CRN follows /metadata/ (iam/profileTokens.ts):
        // no token, IAM's envelope, which VPC's shares
        ...Object.entries(METADATA_VERSIONS).flatMap(([version, paths]): RouteRow[] => [
            ["PUT", `/metadata/:crn/${paths.token}`, METADATA, computeResources.metadataToken(version)],
            ["POST", `/metadata/:crn/${paths.iamToken}`, METADATA, computeResources.metadataIamToken(version)],
        ]),

        // IAM Policy Management: policies and roles (iam/policies.ts)
        ["POST", "/v1/policies", IAM, policies.create],
        ["GET", "/v1/policies", IAM, policies.list],
        ["GET", "/v1/policies/:id", IAM, policies.get],
        ["PUT", "/v1/policies/:id", IAM, policies.replace],
        ["DELETE", "/v1/policies/:id", IAM, policies.remove],
        ["PATCH", "/v1/policies/:id", IAM, policies.setState],
        ["GET", "/v2/roles", IAM, policies.listRoles],

        // KMS keys (kms/keys.ts)
        ["POST", "/api/v2/keys", KMS, keys.create],
        ["GET", "/api/v2/keys", KMS, keys.list],
        ["HEAD", "/api/v2/keys", KMS, keys.count],
        // KMS registrations (kms/registrations.ts): before /api/v2/keys/:id, "registrations" is not an id
        ["GET", "/api/v2/keys/registrations", KMS, registrations.listAll],
        ["GET", "/api/v2/keys/:id/registrations", KMS, registrations.listForKey],
        ["GET", "/api/v2/keys/:id", KMS, keys.get],
        ["GET", "/api/v2/keys/:id/metadata", KMS, keys.metadata],
        ["DELETE", "/api/v2/keys/:id", KMS, keys.remove],
        ["DELETE", "/api/v2/keys/:id/purge", KMS, keys.purge],

        // KMS key actions (kms/keyActions.ts)
        ["POST", "/api/v2/keys/:id/actions/wrap", KMS, keyActions.wrap],
        ["POST", "/api/v2/keys/:id/actions/unwrap", KMS, keyActions.unwrap],
        ["POST", "/api/v2/keys/:id/actions/rewrap", KMS, keyActions.rewrap],
        ["POST", "/api/v2/keys/:id/actions/rotate", KMS, keyActions.rotate],
        ["POST", "/api/v2/keys/:id/actions/setKeyForDeletion", KMS, keyActions.setKeyForDeletion],
        ["POST", "/api/v2/keys/:id/actions/unsetKeyForDeletion", KMS, keyActions.unsetKeyForDeletion],

        // KMS key lifecycle (kms/lifecycle.ts) and aliases (kms/aliases.ts)
        ["GET", "/api/v2/keys/:id/versions", KMS, lifecycle.versions],
        ["POST", "/api/v2/keys/:id/actions/disable", KMS, lifecycle.disable],
        ["POST", "/api/v2/keys/:id/actions/enable", KMS, lifecycle.enable],
        ["POST", "/api/v2/keys/:id/actions/sync", KMS, lifecycle.sync],
        ["POST", "/api/v2/keys/:id/restore", KMS, lifecycle.restore],
        ["POST", "/api/v2/keys/:id/aliases/:alias", KMS, aliases.create],
        ["DELETE", "/api/v2/keys/:id/aliases/:alias", KMS, aliases.remove],

        // KMS key rings (kms/keyRings.ts)
        ["GET", "/api/v2/key_rings", KMS, keyRings.list],
        ["POST", "/api/v2/key_rings/:ring", KMS, keyRings.create],
        ["DELETE", "/api/v2/key_rings/:ring", KMS, keyRings.remove],

        // KMS key policies (kms/keyPolicies.ts)
        ["GET", "/api/v2/keys/:id/policies", KMS, keyPolicies.list],
        ["PUT", "/api/v2/keys/:id/policies", KMS, keyPolicies.replace],

        // KMS instance policies (kms/instancePolicies.ts)
        ["GET", "/api/v2/instance/policies", KMS, instancePolicies.list],
        ["PUT", "/api/v2/instance/policies", KMS, instancePolicies.replace],
    ];
}
