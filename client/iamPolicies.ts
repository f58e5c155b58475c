// IAM Policy Management: access and authorization policies, and the roles a service offers. One half of the IAM
// client (IamClient delegates here; its methods carry the documentation). Calls go through IamCalls.
import { collectPages, pathSegment } from "./authenticatedCall";
import { createdSince, createWithRecovery } from "./createRecovery";
import { isPolicyConflict } from "./errors";
import { HttpResponse, QueryValue } from "./http";
import { IamCalls, requireEtag } from "./iamCall";
import { ListPoliciesFilter, Policy, PolicyBody, policySchema, PolicyWithEtag, queryParamOf, Role, RoleList, roleSchema, sameGrant } from "./iamWire";

export class IamPolicies {
    constructor(private readonly base: IamCalls) {}

    async createPolicy(body: PolicyBody): Promise<PolicyWithEtag> {
        const operation = `create ${body.type} policy`;
        let lostAttemptSince: number | undefined;
        try {
            return await createWithRecovery<PolicyWithEtag>({
                operation,
                leftover: `an ${body.type} policy with this one's subject, resource and roles`,
                send: async () => this.withEtag(await this.base.call(operation, "POST", "/v1/policies", { json: body }), operation),
                lookup: async (since) => {
                    lostAttemptSince ??= since;
                    const found = await this.findIdenticalPolicy(body, since);
                    return found ? [found] : [];
                },
                idOf: (p) => p.policy.id,
            });
        } catch (err) {
            if (lostAttemptSince === undefined || !isPolicyConflict(err)) throw err;
            const ours = await this.findIdenticalPolicy(body, lostAttemptSince);
            if (!ours || (err.conflictingPolicyId !== undefined && err.conflictingPolicyId !== ours.policy.id)) throw err;
            return ours;
        }
    }

    async findIdenticalPolicy(body: PolicyBody, since?: number): Promise<PolicyWithEtag | undefined> {
        const match = (await this.listIdenticalPolicies(body, since))[0];
        return match ? this.getPolicy(match.id) : undefined;
    }

    /** Every active policy granting exactly what `body` grants (created at or after `since`, when given). */
    async listIdenticalPolicies(body: PolicyBody, since?: number): Promise<Policy[]> {
        const subject = body.subjects[0]?.attributes ?? [];
        const iamId = subject.find((a) => a.name === "iam_id")?.value;
        const accountId = String(body.resources[0]?.attributes.find((a) => a.name === "accountId")?.value ?? (await this.base.accountId()));
        const candidates = await this.listPolicies({ accountId, type: body.type, ...(iamId !== undefined ? { iamId: String(iamId) } : {}) });
        return candidates.filter((p) => (p.state ?? "active") === "active" && sameGrant(p, body) && (since === undefined || createdSince(p.created_at, since)));
    }

    async listPolicies(filter: ListPoliciesFilter = {}): Promise<Policy[]> {
        const account_id = filter.accountId ?? (await this.base.accountId());
        const query: { [k: string]: QueryValue } = {
            account_id,
            iam_id: filter.iamId,
            type: filter.type,
            service_type: filter.serviceType,
            service_name: filter.serviceName,
            state: filter.state,
            sort: filter.sort,
        };
        const schema = this.base.responses.schema("policySchema", policySchema);
        return collectPages(undefined as string | undefined, async (start) => {
            const res = await this.base.call<Record<string, unknown>>("list access policies", "GET", "/v1/policies", {
                query: { ...query, limit: Math.min(this.base.pageSize, 100), start },
            });
            const body = res.body ?? {};
            const raw = Array.isArray(body.policies) ? body.policies : [];
            const items = raw.map((item, i) => this.base.responses.check(schema, item, "list access policies", `policies[${i}]`) as Policy);
            const next = body.next as { href?: unknown; start?: unknown } | string | undefined;
            const nextStart =
                typeof next === "string" ? queryParamOf(next, "start") : typeof next?.start === "string" ? next.start : queryParamOf(next?.href, "start");
            return { items, next: nextStart || undefined };
        });
    }

    async getPolicy(id: string): Promise<PolicyWithEtag> {
        const res = await this.base.call("get access policy", "GET", `/v1/policies/${pathSegment(id)}`);
        return this.withEtag(res, "get access policy");
    }

    async replacePolicy(id: string, etag: string, body: PolicyBody): Promise<PolicyWithEtag> {
        requireEtag(etag, "replace access policy");
        return this.base.replayedWrite(
            body,
            () => this.getPolicy(id),
            async () => {
                const res = await this.base.call("replace access policy", "PUT", `/v1/policies/${pathSegment(id)}`, {
                    json: body,
                    headers: { "If-Match": etag },
                });
                return this.withEtag(res, "replace access policy");
            },
            (p) => p.policy,
        );
    }

    async deletePolicy(id: string): Promise<boolean> {
        return this.base.deleteIdempotent("delete access policy", `/v1/policies/${pathSegment(id)}`);
    }

    async listRoles(args: { serviceName: string; accountId?: string }): Promise<RoleList> {
        const account_id = args.accountId ?? (await this.base.accountId());
        const res = await this.base.call<Record<string, unknown>>("list roles", "GET", "/v2/roles", { query: { service_name: args.serviceName, account_id } });
        const schema = this.base.responses.schema("roleSchema", roleSchema);
        const read = (key: keyof RoleList): Role[] => {
            const arr = res.body?.[key];
            return Array.isArray(arr) ? arr.map((r, i) => this.base.responses.check(schema, r, "list roles", `${key}[${i}]`) as Role) : [];
        };
        return { custom_roles: read("custom_roles"), service_roles: read("service_roles"), system_roles: read("system_roles") };
    }

    private withEtag(res: HttpResponse<unknown>, operation: string): PolicyWithEtag {
        const policy = this.base.responses.parse(res, this.base.responses.schema("policySchema", policySchema), operation) as Policy;
        return { policy, etag: res.headers["etag"] ?? "" };
    }
}
