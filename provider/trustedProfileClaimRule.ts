// TrustedProfileClaimRule: lets whatever presents matching claims act as a trusted profile, without a link per
// resource — a `Profile-CR` rule on a compute resource's claims (e.g. every service account of one namespace of
// any cluster), a `Profile-SAML` rule on a federated user's SAML attributes from one identity provider (realm).
// IBM updates a rule in place (a full replacement, with the entity tag held in state as If-Match, so a change
// made elsewhere is reported, not overwritten); a rule moves to another profile or type only by replacement.
// Terraform: `ibm_iam_trusted_profile_claim_rule`, whose id is also `<profile id>/<rule id>`.
import type * as pulumi from "@pulumi/pulumi";
import { Resource as DynamicResource } from "@pulumi/pulumi/dynamic";
import { z } from "zod";
import { isNotFound } from "../client/errors";
import { ClaimRule, ClaimRuleBody, ClaimRuleType, ComputeResourceType, sameClaimRule, TrustedProfileClient } from "../client/profileClient";
import { providerForDeployment } from "./dynamicProvider";
import { refuseBadArguments } from "./check/argumentCheck";
import { finishCheck } from "./check/failures";
import { nameField } from "./check/fields";
import { crTypeField, profileIdField, textField } from "./check/profileFields";
import { CheckFailure, schemaOnce, validate } from "./check/validate";
import { differs } from "./core/diff";
import { compact, withoutProvider } from "./core/props";
import { CloudSession } from "./core/session";
import { entityTagFromState, explainIdentityWriteError } from "./identity/lockableEntity";
import { journaled } from "./core/createJournal";
import { OutputsOf, resourceOptions, resourceProps, resourceShape } from "./core/resourceShape";

const OPERATORS: readonly [ClaimOperator, ...ClaimOperator[]] = ["EQUALS", "NOT_EQUALS", "EQUALS_IGNORE_CASE", "NOT_EQUALS_IGNORE_CASE", "CONTAINS", "IN"];
/** IBM's bounds on the session of a token a claim rule grants, in seconds. */
const MIN_EXPIRATION = 900;
const MAX_EXPIRATION = 43200;

// ---------- arguments ----------

export type ClaimOperator = "EQUALS" | "NOT_EQUALS" | "EQUALS_IGNORE_CASE" | "NOT_EQUALS_IGNORE_CASE" | "CONTAINS" | "IN";

export interface TrustedProfileClaimRuleConditionArgs {
    /** The claim, e.g. `namespace` or `name` for a Kubernetes service account, `crn` for a VSI, a SAML attribute's name. */
    claim: pulumi.Input<string>;
    /** `EQUALS`, `NOT_EQUALS`, `EQUALS_IGNORE_CASE`, `NOT_EQUALS_IGNORE_CASE`, `CONTAINS` or `IN`. */
    operator: pulumi.Input<ClaimOperator>;
    /**
     * The value itself: a string, or for `IN` a list of strings. (IBM keeps it as JSON text, `"\"orders\""`;
     * the encoding is made here, so write `"orders"`, not Terraform's `"\"orders\""`.)
     */
    value: pulumi.Input<string | pulumi.Input<string>[]>;
}

export interface TrustedProfileClaimRuleArgs {
    /** The profile (`Profile-…`, e.g. a TrustedProfile's `profileId`). Changing it replaces the rule. */
    profileId: pulumi.Input<string>;
    /** `Profile-CR` (a compute resource's claims) or `Profile-SAML` (a federated user's). Changing it replaces the rule. */
    type: pulumi.Input<ClaimRuleType>;
    /** Profile-CR only (and required there): the compute resource type the rule applies to. */
    crType?: pulumi.Input<ComputeResourceType>;
    /** Profile-SAML only (and required there): the identity provider's realm, e.g. `https://sso.example.com/saml`. */
    realmName?: pulumi.Input<string>;
    /** At least one; all must hold. */
    conditions: pulumi.Input<pulumi.Input<TrustedProfileClaimRuleConditionArgs>[]>;
    /** Session length in seconds of what the rule grants (900–43200). Omitted: IBM's default when created, then left as it is. */
    expiration?: pulumi.Input<number>;
    /** The rule's display name. */
    name?: pulumi.Input<string>;
}

/** A condition as state holds it: the value decoded from IBM's JSON text. */
export interface TrustedProfileClaimRuleCondition {
    claim: string;
    operator: string;
    value: string | string[];
}

export interface TrustedProfileClaimRuleOutputs {
    profileId: string;
    /** `ClaimRule-…`. The resource id is `<profileId>/<ruleId>`. */
    ruleId: string;
    type: ClaimRuleType;
    crType?: ComputeResourceType;
    realmName?: string;
    conditions: TrustedProfileClaimRuleCondition[];
    /** Session length in seconds (IBM's default when not given). */
    expiration?: number;
    name?: string;
    /** IBM's entity tag of the rule when last read; sent with If-Match on update. */
    entityTag: string;
    /** When IAM created the rule. */
    createdAt: string;
    /** When IAM last changed the rule. */
    modifiedAt: string;
}

export interface TrustedProfileClaimRuleInputs {
    profileId: string;
    type: ClaimRuleType;
    crType?: ComputeResourceType;
    realmName?: string;
    conditions: TrustedProfileClaimRuleCondition[];
    expiration?: number;
    name?: string;
}

// ---------- validation ----------

function conditionSchema() {
    return z
        .object(
            {
                claim: textField("claim", "namespace"),
                operator: z.enum(OPERATORS, { error: `operator must be one of ${OPERATORS.join(", ")}` }),
                value: z.union([z.string(), z.array(z.string({ error: "each value of an IN condition must be a string" }))], {
                    error: 'value must be a string such as "orders" (or, for IN, a list of strings such as ["orders", "billing"])',
                }),
            },
            { error: 'each condition must be an object such as { claim: "namespace", operator: "EQUALS", value: "orders" }' },
        )
        .strict()
        .superRefine((c, ctx) => {
            if (c.operator === "IN") {
                if (!Array.isArray(c.value))
                    ctx.addIssue({ code: "custom", path: ["value"], message: `the IN operator takes a list of strings, e.g. value: ["${c.value}"]` });
                else if (c.value.length === 0)
                    ctx.addIssue({ code: "custom", path: ["value"], message: "the IN operator needs at least one value in its list" });
                return;
            }
            if (Array.isArray(c.value)) {
                ctx.addIssue({ code: "custom", path: ["value"], message: `a list of values needs the IN operator; ${c.operator} takes one string` });
                return;
            }
            // Terraform's users write IBM's JSON text; here it would be encoded twice and never match
            if (c.value.length >= 2 && c.value.startsWith('"') && c.value.endsWith('"'))
                ctx.addIssue({
                    code: "custom",
                    path: ["value"],
                    message: `value is the claim's value itself: write ${c.value} without its quotes (the JSON encoding IBM keeps is made for you)`,
                });
        });
}

function claimRuleSchema() {
    return z
        .object({
            profileId: profileIdField(),
            type: z.enum(["Profile-CR", "Profile-SAML"], {
                error: "type must be Profile-CR (a compute resource's claims) or Profile-SAML (a federated user's)",
            }),
            crType: crTypeField().optional(),
            realmName: textField("realmName", "https://sso.example.com/saml").optional(),
            conditions: z
                .array(conditionSchema(), { error: 'conditions must be a list such as [{ claim: "namespace", operator: "EQUALS", value: "orders" }]' })
                .min(1, { error: 'conditions must hold at least one condition, e.g. { claim: "namespace", operator: "EQUALS", value: "orders" }' }),
            expiration: z
                .number({ error: `expiration must be a number of seconds (${MIN_EXPIRATION}–${MAX_EXPIRATION})` })
                .int({ error: "expiration must be a whole number of seconds" })
                .min(MIN_EXPIRATION, { error: `expiration must be at least ${MIN_EXPIRATION} seconds (15 minutes)` })
                .max(MAX_EXPIRATION, { error: `expiration must be at most ${MAX_EXPIRATION} seconds (12 hours)` })
                .optional(),
            name: nameField("claim rule").optional(),
        })
        .strict()
        .superRefine((v, ctx) => {
            if (v.type === "Profile-CR") {
                if (v.crType === undefined)
                    ctx.addIssue({
                        code: "custom",
                        path: ["crType"],
                        message: "crType is required for a Profile-CR rule: the compute resource type, e.g. IKS_SA",
                    });
                if (v.realmName !== undefined)
                    ctx.addIssue({ code: "custom", path: ["realmName"], message: "realmName applies only to Profile-SAML rules; remove it for Profile-CR" });
            } else if (v.type === "Profile-SAML") {
                if (v.realmName === undefined)
                    ctx.addIssue({
                        code: "custom",
                        path: ["realmName"],
                        message: "realmName is required for a Profile-SAML rule: the identity provider's realm, e.g. https://sso.example.com/saml",
                    });
                if (v.crType !== undefined)
                    ctx.addIssue({ code: "custom", path: ["crType"], message: "crType applies only to Profile-CR rules; remove it for Profile-SAML" });
            }
        });
}

/** TrustedProfileClaimRule's check, pure: the provider runs it, and the constructor on the arguments known then. */
export function checkTrustedProfileClaimRuleInputs(news: unknown): { inputs: TrustedProfileClaimRuleInputs; failures: CheckFailure[] } {
    const raw = withoutProvider((news ?? {}) as Record<string, unknown>);
    const r = validate(schemaOnce("TrustedProfileClaimRule", claimRuleSchema), raw);
    if (!r.ok) return { inputs: raw as unknown as TrustedProfileClaimRuleInputs, failures: r.failures };
    return { inputs: compact({ ...(r.value as TrustedProfileClaimRuleInputs) }), failures: [] };
}

/** IBM's JSON text for a value. */
function encodeValue(value: string | string[]): string {
    return JSON.stringify(value);
}

/** The value IBM's JSON text holds; text that is not a string or a list of strings (a rule made elsewhere) as it is. */
function decodeValue(text: string): string | string[] {
    try {
        const v: unknown = JSON.parse(text);
        if (typeof v === "string" || (Array.isArray(v) && v.every((e) => typeof e === "string"))) return v as string | string[];
    } catch {
        // not JSON: kept as it is
    }
    return text;
}

function bodyOf(inputs: TrustedProfileClaimRuleInputs, expiration = inputs.expiration): ClaimRuleBody {
    return compact({
        type: inputs.type,
        cr_type: inputs.crType,
        realm_name: inputs.realmName,
        conditions: inputs.conditions.map((c) => ({ claim: c.claim, operator: c.operator, value: encodeValue(c.value) })),
        expiration,
        name: inputs.name,
    });
}

function outputsOf(profileId: string, r: ClaimRule): TrustedProfileClaimRuleOutputs {
    return compact({
        profileId,
        ruleId: r.id,
        type: r.type as ClaimRuleType,
        crType: r.cr_type as ComputeResourceType | undefined,
        realmName: r.realm_name,
        conditions: r.conditions.map((c) => ({ claim: c.claim, operator: c.operator, value: decodeValue(c.value) })),
        expiration: r.expiration,
        name: r.name,
        entityTag: r.entity_tag,
        createdAt: r.created_at ?? "",
        modifiedAt: r.modified_at ?? "",
    });
}

function inputsOf(o: TrustedProfileClaimRuleOutputs): TrustedProfileClaimRuleInputs {
    return compact({
        profileId: o.profileId,
        type: o.type,
        crType: o.crType,
        realmName: o.realmName,
        conditions: o.conditions,
        expiration: o.expiration,
        name: o.name,
    });
}

/** `Profile-…/ClaimRule-…` → its two ids; another form is refused with the form to use. */
function splitId(id: string): { profileId: string; ruleId: string } {
    const m = /^(Profile-[^/]+)\/([^/]+)$/.exec(id);
    if (!m) throw new Error(`a TrustedProfileClaimRule id is <profile id>/<rule id> (e.g. Profile-…/ClaimRule-…), not '${id}'`);
    return { profileId: m[1], ruleId: m[2] };
}

// ---------- provider ----------

class TrustedProfileClaimRuleProvider implements pulumi.dynamic.ResourceProvider<TrustedProfileClaimRuleInputs, TrustedProfileClaimRuleOutputs> {
    private readonly session = new CloudSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
    }

    private profiles(): TrustedProfileClient {
        return new TrustedProfileClient(this.session.iam());
    }

    async check(_olds: unknown, news: unknown): Promise<pulumi.dynamic.CheckResult<TrustedProfileClaimRuleInputs>> {
        return finishCheck(checkTrustedProfileClaimRuleInputs(news), this.session.credentialFailures());
    }

    async diff(_id: string, olds: Partial<TrustedProfileClaimRuleOutputs>, news: TrustedProfileClaimRuleInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces = (["profileId", "type"] as const).filter((f) => differs(olds[f], news[f]));
        const changes =
            replaces.length > 0 ||
            differs(olds.crType, news.crType) ||
            differs(olds.realmName, news.realmName) ||
            differs(olds.name, news.name) ||
            differs(olds.conditions, news.conditions) ||
            // left out: whatever IBM set stays
            (news.expiration !== undefined && differs(olds.expiration, news.expiration));
        return { changes, replaces: [...replaces], deleteBeforeReplace: false };
    }

    async create(inputs: TrustedProfileClaimRuleInputs): Promise<pulumi.dynamic.CreateResult<TrustedProfileClaimRuleOutputs>> {
        const rule = await journaled(
            "TrustedProfileClaimRule",
            inputs,
            this.session.deployerApiKey(),
            () => this.profiles().createClaimRule(inputs.profileId, bodyOf(inputs)),
            (r) => `${inputs.profileId}/${r.id}`,
        );
        return { id: `${inputs.profileId}/${rule.id}`, outs: outputsOf(inputs.profileId, rule) };
    }

    async read(id: string): Promise<pulumi.dynamic.ReadResult<TrustedProfileClaimRuleOutputs>> {
        const { profileId, ruleId } = splitId(id);
        let live: ClaimRule;
        try {
            live = await this.profiles().getClaimRule(profileId, ruleId);
        } catch (err) {
            // the rule, or its whole profile, deleted elsewhere
            if (isNotFound(err)) return { id: "" };
            throw err;
        }
        const outs = outputsOf(profileId, live);
        return { id, props: outs, inputs: inputsOf(outs) as unknown as TrustedProfileClaimRuleOutputs };
    }

    async update(
        id: string,
        olds: TrustedProfileClaimRuleOutputs,
        news: TrustedProfileClaimRuleInputs,
    ): Promise<pulumi.dynamic.UpdateResult<TrustedProfileClaimRuleOutputs>> {
        const { profileId, ruleId } = splitId(id);
        const etag = entityTagFromState("trusted profile claim rule", id, olds);
        // IBM replaces the whole rule: an expiration left out keeps the one it has
        const body = bodyOf(news, news.expiration ?? olds.expiration);
        try {
            return { outs: outputsOf(profileId, await this.profiles().updateClaimRule(profileId, ruleId, etag, body)) };
        } catch (err) {
            throw explainIdentityWriteError("trusted profile claim rule", id, err);
        }
    }

    /**
     * For a recovery after a crash: the profile's rules a create of `inputs` would have made (the same fields), each
     * with its resource id and when it was made (`recover` applies the adopt rule). Reads only.
     */
    async sameRules(inputs: TrustedProfileClaimRuleInputs): Promise<Array<{ id: string; createdAt?: string }>> {
        const rules = await this.profiles().listClaimRules(inputs.profileId);
        return rules.filter((r) => sameClaimRule(r, bodyOf(inputs))).map((r) => ({ id: `${inputs.profileId}/${r.id}`, createdAt: r.created_at }));
    }

    async delete(id: string): Promise<void> {
        const { profileId, ruleId } = splitId(id);
        // already gone (or its profile) is success
        await this.profiles().deleteClaimRule(profileId, ruleId);
    }
}

/** The one provider object for TrustedProfileClaimRule. */
export const trustedProfileClaimRuleProvider = new TrustedProfileClaimRuleProvider();

// ---------- resource ----------

const TRUSTED_PROFILE_CLAIM_RULE = resourceShape<TrustedProfileClaimRuleOutputs>("TrustedProfileClaimRule", {
    profileId: true,
    ruleId: true,
    type: true,
    crType: true,
    realmName: true,
    conditions: true,
    expiration: true,
    name: true,
    entityTag: true,
    createdAt: true,
    modifiedAt: true,
});

/** A claim rule of an IBM Cloud IAM trusted profile: who presents matching claims may act as the profile. */
export class TrustedProfileClaimRule extends DynamicResource implements OutputsOf<TrustedProfileClaimRuleOutputs> {
    declare readonly profileId: pulumi.Output<string>;
    declare readonly ruleId: pulumi.Output<string>;
    declare readonly type: pulumi.Output<ClaimRuleType>;
    declare readonly crType: pulumi.Output<ComputeResourceType | undefined>;
    declare readonly realmName: pulumi.Output<string | undefined>;
    declare readonly conditions: pulumi.Output<TrustedProfileClaimRuleCondition[]>;
    declare readonly expiration: pulumi.Output<number | undefined>;
    declare readonly name: pulumi.Output<string | undefined>;
    declare readonly entityTag: pulumi.Output<string>;
    declare readonly createdAt: pulumi.Output<string>;
    declare readonly modifiedAt: pulumi.Output<string>;

    constructor(name: string, args: TrustedProfileClaimRuleArgs, opts?: pulumi.CustomResourceOptions) {
        refuseBadArguments("TrustedProfileClaimRule", name, args, opts, (inputs) => checkTrustedProfileClaimRuleInputs(inputs).failures);
        super(
            providerForDeployment(trustedProfileClaimRuleProvider),
            name,
            resourceProps(TRUSTED_PROFILE_CLAIM_RULE, args),
            resourceOptions(TRUSTED_PROFILE_CLAIM_RULE, opts),
            "ibmcloud-iam",
            TRUSTED_PROFILE_CLAIM_RULE.type,
        );
    }

    /** Adopts an existing claim rule by `<profile id>/<rule id>` (the engine reads it; nothing is created). */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): TrustedProfileClaimRule {
        return new TrustedProfileClaimRule(name, undefined as unknown as TrustedProfileClaimRuleArgs, { ...opts, id });
    }
}
