// Between AccessPolicy's arguments and Policy Management v1: the request body for the arguments, role
// names resolved to CRNs (offline, else through `GET /v2/roles`), and a live policy read back in the
// shape of the arguments (so refresh shows drift in the program's own terms).
import { InputError } from "../../client/errors";
import { IamClient, Policy, PolicyAttribute, PolicyBody, PolicyWithEtag, RoleList } from "../../client/iamClient";
import type { AccessPolicyInputs, AccessPolicyOutputs, AccessPolicyResource } from "./accessState";
import { NAMED_ATTRIBUTES, offlineCatalog, subjectIamIdOf } from "./accessCheck";
import { canResolveOffline, describeRoles, knownRoles, resolveRole, RoleInfo } from "./roles";

/** A `stringEquals` attribute. */
export function attribute(name: string, value: string): PolicyAttribute {
    return { name, value, operator: "stringEquals" };
}

/** The Policy Management v1 body for these inputs. */
export function policyBody(inputs: AccessPolicyInputs, roleCrns: string[], accountId: string): PolicyBody {
    const r = inputs.resource ?? {};
    const attributes: PolicyAttribute[] = [attribute("accountId", accountId)];
    for (const name of NAMED_ATTRIBUTES) {
        const v = r[name];
        if (typeof v === "string") attributes.push(attribute(name, v));
    }
    for (const [name, value] of Object.entries(r.attributes ?? {})) attributes.push(attribute(name, value));
    const tags = Object.entries(r.tags ?? {}).map(([name, value]) => attribute(name, value));
    const body: PolicyBody = {
        type: "access",
        subjects: [{ attributes: [{ name: "iam_id", value: subjectIamIdOf(inputs) as string }] }],
        roles: roleCrns.map((role_id) => ({ role_id })),
        resources: [tags.length > 0 ? { attributes, tags } : { attributes }],
    };
    if (typeof inputs.description === "string" && inputs.description !== "") body.description = inputs.description;
    return body;
}

/** The roles IAM lists for a service, as catalog entries `resolveRole` understands. */
export function catalogFromIam(list: RoleList): RoleInfo[] {
    const info =
        (kind: "platform" | "service") =>
        (r: { crn: string; display_name: string }): RoleInfo => ({
            id: r.crn.slice(r.crn.lastIndexOf(":") + 1),
            displayName: r.display_name,
            kind,
            crn: r.crn,
        });
    return [...list.system_roles.map(info("platform")), ...list.service_roles.map(info("service")), ...list.custom_roles.map(info("service"))];
}

/** Every role as a CRN: offline where the catalog knows the service, else through `GET /v2/roles` (one call). */
export async function resolveRoles(iam: IamClient, inputs: AccessPolicyInputs, accountId: string): Promise<string[]> {
    const roles = inputs.roles ?? [];
    const svc = inputs.resource?.serviceName;
    let catalog = offlineCatalog(svc, inputs.resource?.serviceType);
    let source = "valid roles";
    if (!canResolveOffline(svc) && roles.some((role) => !role.trim().startsWith("crn:"))) {
        catalog = catalogFromIam(await iam.listRoles({ serviceName: svc as string, accountId }));
        source = "IAM lists these roles for it";
    }
    const crns: string[] = [];
    roles.forEach((role, i) => {
        const r = resolveRole(role, svc, catalog);
        if (!r.ok) {
            throw new InputError(
                `roles[${i}]`,
                `unknown role "${role}" for service ${svc ?? "(none)"}; ${source}: ${describeRoles(catalog)}`,
                "Give a display name, id or CRN from that list",
            );
        }
        if (crns.includes(r.crn)) {
            throw new InputError(`roles[${i}]`, `"${role}" grants a role already listed (${r.crn})`, "List each role once");
        }
        crns.push(r.crn);
    });
    return crns;
}

function stringAttr(list: PolicyAttribute[] | undefined, name: string): string | undefined {
    const a = (list ?? []).find((x) => x.name === name);
    return a === undefined ? undefined : String(a.value);
}

/** The live policy's resource in the shape of the `resource` argument (accountId left out: it is an output). */
export function resourceFromLive(policy: Policy): AccessPolicyResource {
    const live = policy.resources?.[0] ?? { attributes: [] };
    const out: Record<string, unknown> = {};
    const extra: { [name: string]: string } = {};
    for (const a of live.attributes ?? []) {
        if (a.name === "accountId") continue;
        if ((NAMED_ATTRIBUTES as ReadonlyArray<string>).includes(a.name)) out[a.name] = String(a.value);
        else extra[a.name] = String(a.value);
    }
    if (Object.keys(extra).length > 0) out.attributes = extra;
    const tags: { [name: string]: string } = {};
    for (const t of live.tags ?? []) tags[t.name] = String(t.value);
    if (Object.keys(tags).length > 0) out.tags = tags;
    return out as AccessPolicyResource;
}

/**
 * The live roles as `roles` + `roleCrns`: a CRN already in state keeps the spelling the program used
 * (no spurious diff), others take IAM's display name, so a refresh shows drift by name and the next
 * `pulumi up` puts the program's roles back.
 */
export function rolesFromLive(policy: Policy, props: Partial<AccessPolicyOutputs>): { roles: string[]; roleCrns: string[] } {
    const oldRoles = Array.isArray(props.roles) ? props.roles : [];
    const oldCrns = Array.isArray(props.roleCrns) ? props.roleCrns : [];
    const svc = stringAttr(policy.resources?.[0]?.attributes, "serviceName");
    const catalog = knownRoles(svc);
    const roles: string[] = [];
    const roleCrns: string[] = [];
    for (const r of policy.roles ?? []) {
        const crn = r.role_id;
        const i = oldRoles.length === oldCrns.length ? oldCrns.indexOf(crn) : -1;
        const name =
            i >= 0
                ? oldRoles[i]
                : typeof r.display_name === "string" && r.display_name !== ""
                  ? r.display_name
                  : (catalog.find((c) => c.crn === crn)?.displayName ?? crn);
        roles.push(name);
        roleCrns.push(crn);
    }
    return { roles, roleCrns };
}

/** The subject argument for a live subject: the form the program used when it still names it. */
export function subjectInputs(liveIamId: string, props: Partial<AccessPolicyOutputs>): { serviceId?: string; iamId?: string } {
    if (typeof props.iamId === "string") return { iamId: liveIamId };
    if (typeof props.serviceId === "string" && subjectIamIdOf({ serviceId: props.serviceId }) === liveIamId) return { serviceId: props.serviceId };
    return liveIamId.startsWith("iam-ServiceId-") ? { serviceId: liveIamId.slice("iam-".length) } : { iamId: liveIamId };
}

export function liveOutputs(
    got: PolicyWithEtag,
): Pick<AccessPolicyOutputs, "policyId" | "etag" | "href" | "state" | "subjectIamId" | "accountId" | "createdAt" | "lastModifiedAt"> {
    const p = got.policy;
    return {
        policyId: p.id,
        etag: got.etag,
        href: p.href ?? "",
        state: p.state ?? "active",
        subjectIamId: stringAttr(p.subjects?.[0]?.attributes, "iam_id") ?? "",
        accountId: stringAttr(p.resources?.[0]?.attributes, "accountId") ?? "",
        createdAt: p.created_at ?? "",
        lastModifiedAt: p.last_modified_at ?? "",
    };
}
