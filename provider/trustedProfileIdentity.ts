// TrustedProfileIdentity: one identity trusted to assume a trusted profile (IBM's `assume` grant) — a service ID,
// a user (optionally only from some accounts) or a service instance by its CRN. One resource per identity, not a
// list argument of TrustedProfile: IBM adds and removes identities one at a time without touching the others,
// so the stack that owns the deployer's service ID can trust it with a profile another stack owns, and deleting
// the resource withdraws only its own trust. IBM has no update for one identity: every change replaces it (the
// old entry first, since the same identity cannot be trusted twice). Terraform: `ibm_iam_trusted_profile_identity`,
// whose id is also `<profile id>|<type>|<identifier>`.
import type * as pulumi from "@pulumi/pulumi";
import { Resource as DynamicResource } from "@pulumi/pulumi/dynamic";
import { z } from "zod";
import { isNotFound } from "../client/errors";
import { ProfileIdentity, ProfileIdentityBody, ProfileIdentityType, TrustedProfileClient } from "../client/profileClient";
import { providerForDeployment } from "./dynamicProvider";
import { refuseBadArguments } from "./check/argumentCheck";
import { finishCheck } from "./check/failures";
import { crnField, descriptionField } from "./check/fields";
import { profileIdField } from "./check/profileFields";
import { CheckFailure, schemaOnce, validate } from "./check/validate";
import { differs, sameSet } from "./core/diff";
import { compact, withoutProvider } from "./core/props";
import { CloudSession } from "./core/session";
import { journaled } from "./core/createJournal";
import { OutputsOf, resourceOptions, resourceProps, resourceShape } from "./core/resourceShape";

const IDENTITY_TYPES = ["serviceid", "user", "crn"] as const;

// ---------- arguments ----------

export interface TrustedProfileIdentityArgs {
    /** The profile (`Profile-…`, e.g. a TrustedProfile's `profileId`). */
    profileId: pulumi.Input<string>;
    /** `serviceid`, `user` or `crn`. Terraform: `identity_type` (and `type`, the same). */
    identityType: pulumi.Input<ProfileIdentityType>;
    /** A service ID's id (`ServiceId-…`, e.g. a ServiceId's `serviceId`), a user's IAM id (`IBMid-…`) or a CRN. */
    identifier: pulumi.Input<string>;
    /** `user` only: the accounts (32-hex ids) from which the user may assume the profile. */
    accounts?: pulumi.Input<pulumi.Input<string>[]>;
    /** Free text (up to 1000 characters). Left out for a service ID, IBM shows the service ID's own description. */
    description?: pulumi.Input<string>;
}

export interface TrustedProfileIdentityOutputs {
    profileId: string;
    identityType: ProfileIdentityType;
    identifier: string;
    /** The identity's IAM id as IBM resolved it (`iam-ServiceId-…`, `IBMid-…`, `crn-…`). */
    iamId: string;
    accounts?: string[];
    description?: string;
}

export interface TrustedProfileIdentityInputs {
    profileId: string;
    identityType: ProfileIdentityType;
    identifier: string;
    accounts?: string[];
    description?: string;
}

// ---------- validation ----------

function identitySchema() {
    return z
        .object({
            profileId: profileIdField(),
            identityType: z.enum(IDENTITY_TYPES, { error: `identityType must be one of ${IDENTITY_TYPES.join(", ")}` }),
            identifier: z.string({ error: "identifier must be a string: a ServiceId-… id, a user's IBMid-… or a CRN" }),
            accounts: z
                .array(z.string().regex(/^[0-9a-f]{32}$/, { error: "each account must be an account id (32 lowercase hex characters)" }), {
                    error: "accounts must be a list of account ids (32 hex characters each)",
                })
                .min(1, { error: "accounts must name at least one account, or be left out" })
                .optional(),
            description: descriptionField().optional(),
        })
        .strict()
        .superRefine((v, ctx) => {
            const at = (message: string, path = "identifier") => ctx.addIssue({ code: "custom", path: [path], message });
            if (v.identityType === "serviceid" && !/^ServiceId-[0-9a-fA-F-]{36}$/.test(v.identifier))
                at("identifier of a serviceid identity must be the service ID's id (ServiceId-<uuid>), e.g. identifier: serviceId.serviceId");
            if (v.identityType === "user" && !/^(IBMid|iam)-\S+$/.test(v.identifier))
                at("identifier of a user identity must be the user's IAM id (IBMid-…), not an e-mail address or a name");
            if (v.identityType === "crn" && !crnField("identifier").safeParse(v.identifier).success)
                at("identifier of a crn identity must be a CRN such as crn:v1:bluemix:public:<service>:<region>:a/<account>:<instance>::");
            if (v.identityType !== "user" && v.accounts !== undefined)
                at(`accounts applies only to user identities; remove it for ${v.identityType}`, "accounts");
        });
}

/** TrustedProfileIdentity's check, pure: the provider runs it, and the constructor on the arguments known then. */
export function checkTrustedProfileIdentityInputs(news: unknown): { inputs: TrustedProfileIdentityInputs; failures: CheckFailure[] } {
    const raw = withoutProvider((news ?? {}) as Record<string, unknown>);
    const r = validate(schemaOnce("TrustedProfileIdentity", identitySchema), raw);
    if (!r.ok) return { inputs: raw as unknown as TrustedProfileIdentityInputs, failures: r.failures };
    return { inputs: compact({ ...(r.value as TrustedProfileIdentityInputs) }), failures: [] };
}

function outputsOf(profileId: string, i: ProfileIdentity): TrustedProfileIdentityOutputs {
    return compact({
        profileId,
        identityType: i.type as ProfileIdentityType,
        identifier: i.identifier,
        iamId: i.iam_id ?? "",
        accounts: i.accounts ? [...i.accounts] : undefined,
        description: i.description,
    });
}

/** `Profile-…|serviceid|ServiceId-…` → its parts (the identifier may hold `|`-free CRN colons and slashes). */
function splitId(id: string): { profileId: string; identityType: ProfileIdentityType; identifier: string } {
    const m = /^(Profile-[^|]+)\|(serviceid|user|crn)\|(.+)$/.exec(id);
    if (!m)
        throw new Error(`a TrustedProfileIdentity id is <profile id>|<serviceid|user|crn>|<identifier> (e.g. Profile-…|serviceid|ServiceId-…), not '${id}'`);
    return { profileId: m[1], identityType: m[2] as ProfileIdentityType, identifier: m[3] };
}

// ---------- provider ----------

class TrustedProfileIdentityProvider implements pulumi.dynamic.ResourceProvider<TrustedProfileIdentityInputs, TrustedProfileIdentityOutputs> {
    private readonly session = new CloudSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
    }

    private profiles(): TrustedProfileClient {
        return new TrustedProfileClient(this.session.iam());
    }

    async check(_olds: unknown, news: unknown): Promise<pulumi.dynamic.CheckResult<TrustedProfileIdentityInputs>> {
        return finishCheck(checkTrustedProfileIdentityInputs(news), this.session.credentialFailures());
    }

    async diff(_id: string, olds: Partial<TrustedProfileIdentityOutputs>, news: TrustedProfileIdentityInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces: string[] = (["profileId", "identityType", "identifier"] as const).filter((f) => differs(olds[f], news[f]));
        if (olds.accounts !== undefined || news.accounts !== undefined) {
            if (!sameSet(olds.accounts, news.accounts)) replaces.push("accounts");
        }
        // left out: IBM's own (a service ID's description) is no change
        if (news.description !== undefined && differs(olds.description ?? "", news.description)) replaces.push("description");
        // the same identity cannot be trusted twice: the old entry goes first
        return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
    }

    async create(inputs: TrustedProfileIdentityInputs): Promise<pulumi.dynamic.CreateResult<TrustedProfileIdentityOutputs>> {
        const profiles = this.profiles();
        const id = `${inputs.profileId}|${inputs.identityType}|${inputs.identifier}`;
        // IBM's add overwrites an entry already there; deleting this resource would then withdraw a trust it did not make
        if (await profiles.findIdentity(inputs.profileId, inputs.identityType, inputs.identifier)) {
            throw new Error(
                `trusted profile ${inputs.profileId} already trusts the ${inputs.identityType} identity ${inputs.identifier} (added outside this stack, or by another resource); ` +
                    `adopt it with TrustedProfileIdentity.get(name, "${id}") or remove that trust first`,
            );
        }
        const body: ProfileIdentityBody = compact({
            identifier: inputs.identifier,
            type: inputs.identityType,
            accounts: inputs.accounts,
            description: inputs.description,
        });
        const added = await journaled(
            "TrustedProfileIdentity",
            inputs,
            this.session.deployerApiKey(),
            () => profiles.addIdentity(inputs.profileId, body),
            () => id,
        );
        return { id, outs: outputsOf(inputs.profileId, added) };
    }

    async read(id: string): Promise<pulumi.dynamic.ReadResult<TrustedProfileIdentityOutputs>> {
        const { profileId, identityType, identifier } = splitId(id);
        // the identity no longer trusted, or the whole profile deleted elsewhere
        const live = await this.profiles().findIdentity(profileId, identityType, identifier);
        if (!live) return { id: "" };
        const outs = outputsOf(profileId, live);
        const inputs = compact({ profileId, identityType, identifier, accounts: outs.accounts, description: outs.description });
        return { id, props: outs, inputs: inputs as unknown as TrustedProfileIdentityOutputs };
    }

    async delete(id: string): Promise<void> {
        const { profileId, identityType, identifier } = splitId(id);
        try {
            await this.profiles().removeIdentity(profileId, identityType, identifier);
        } catch (err) {
            if (!isNotFound(err)) throw err;
        }
    }
}

/** The one provider object for TrustedProfileIdentity. */
export const trustedProfileIdentityProvider = new TrustedProfileIdentityProvider();

// ---------- resource ----------

const TRUSTED_PROFILE_IDENTITY = resourceShape<TrustedProfileIdentityOutputs>("TrustedProfileIdentity", {
    profileId: true,
    identityType: true,
    identifier: true,
    iamId: true,
    accounts: true,
    description: true,
});

/** One identity trusted to assume an IBM Cloud IAM trusted profile. */
export class TrustedProfileIdentity extends DynamicResource implements OutputsOf<TrustedProfileIdentityOutputs> {
    declare readonly profileId: pulumi.Output<string>;
    declare readonly identityType: pulumi.Output<ProfileIdentityType>;
    declare readonly identifier: pulumi.Output<string>;
    declare readonly iamId: pulumi.Output<string>;
    declare readonly accounts: pulumi.Output<string[] | undefined>;
    declare readonly description: pulumi.Output<string | undefined>;

    constructor(name: string, args: TrustedProfileIdentityArgs, opts?: pulumi.CustomResourceOptions) {
        refuseBadArguments("TrustedProfileIdentity", name, args, opts, (inputs) => checkTrustedProfileIdentityInputs(inputs).failures);
        super(
            providerForDeployment(trustedProfileIdentityProvider),
            name,
            resourceProps(TRUSTED_PROFILE_IDENTITY, args),
            resourceOptions(TRUSTED_PROFILE_IDENTITY, opts),
            "ibmcloud-iam",
            TRUSTED_PROFILE_IDENTITY.type,
        );
    }

    /** Adopts an identity the profile already trusts by `<profile id>|<type>|<identifier>` (the engine reads it; nothing is created). */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): TrustedProfileIdentity {
        return new TrustedProfileIdentity(name, undefined as unknown as TrustedProfileIdentityArgs, { ...opts, id });
    }
}
