// TrustedProfile: an IBM Cloud IAM trusted profile, the identity a compute resource (a VSI, a Kubernetes service
// account, a Code Engine app…) or a trusted identity assumes with no API key. Its iamId (`iam-Profile-…`) is a
// policy subject like a service ID's. Links to compute resources are TrustedProfileLink resources. Terraform:
// `ibm_iam_trusted_profile`; updates here send the entity tag held in state, so a change made elsewhere is
// reported, not overwritten.
import type * as pulumi from "@pulumi/pulumi";
import { Resource as DynamicResource } from "@pulumi/pulumi/dynamic";
import { z } from "zod";
import { isNotFound } from "../client/errors";
import { TrustedProfileClient, TrustedProfileEntity as TrustedProfileWire, UpdateTrustedProfileBody } from "../client/profileClient";
import { providerForDeployment } from "./dynamicProvider";
import { descriptionField, nameField } from "./check/fields";
import { refuseBadArguments } from "./check/argumentCheck";
import { finishCheck } from "./check/failures";
import { CheckFailure, schemaOnce, validate } from "./check/validate";
import { differs } from "./core/diff";
import { compact, withoutProvider } from "./core/props";
import { CloudSession } from "./core/session";
import { entityTagFromState, explainIdentityWriteError } from "./identity/lockableEntity";
import { journaled } from "./core/createJournal";
import { OutputsOf, resourceOptions, resourceProps, resourceShape } from "./core/resourceShape";

// ---------- arguments ----------

export interface TrustedProfileArgs {
    /** Name, unique in the account (1–1000 characters). Terraform: `name`. Updatable in place. */
    name: pulumi.Input<string>;
    /** Free text (up to 1000 characters); omitting it clears it. Updatable in place. */
    description?: pulumi.Input<string>;
}

// ---------- outputs (plain values, as stored in state) ----------

export interface TrustedProfileOutputs {
    /** `Profile-<uuid>` (also the resource id). */
    profileId: string;
    /** `iam-Profile-<uuid>`: the subject of access policies. */
    iamId: string;
    /** The profile's CRN (`crn:v1:bluemix:public:iam-identity::a/<account>::profile:Profile-<uuid>`). */
    crn: string;
    /** The account the profile belongs to. */
    accountId: string;
    /** IBM's entity tag when last read; sent with If-Match on update. */
    entityTag: string;
    /** When IAM created the profile (IBM's date-time format). */
    createdAt: string;
    /** When IAM last changed the profile. */
    modifiedAt: string;
    name: string;
    description: string;
}

export interface TrustedProfileInputs {
    name: string;
    description: string;
}

// ---------- validation ----------

function trustedProfileSchema() {
    return z.object({ name: nameField("trusted profile"), description: descriptionField().optional() }).strict();
}

/** TrustedProfile's check, pure: the provider runs it, and the constructor on the arguments known then. */
export function checkTrustedProfileInputs(news: unknown): { inputs: TrustedProfileInputs; failures: CheckFailure[] } {
    const raw = withoutProvider((news ?? {}) as Record<string, unknown>);
    const r = validate(schemaOnce("TrustedProfile", trustedProfileSchema), raw);
    if (!r.ok) return { inputs: raw as unknown as TrustedProfileInputs, failures: r.failures };
    const v = r.value as Partial<TrustedProfileInputs>;
    return { inputs: { name: v.name as string, description: v.description ?? "" }, failures: [] };
}

function outputsOf(p: TrustedProfileWire): TrustedProfileOutputs {
    return compact({
        profileId: p.id,
        iamId: p.iam_id,
        crn: p.crn,
        accountId: p.account_id,
        entityTag: p.entity_tag,
        createdAt: p.created_at ?? "",
        modifiedAt: p.modified_at ?? "",
        name: p.name,
        description: p.description ?? "",
    });
}

// ---------- provider ----------

class TrustedProfileProvider implements pulumi.dynamic.ResourceProvider<TrustedProfileInputs, TrustedProfileOutputs> {
    private readonly session = new CloudSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
    }

    private profiles(): TrustedProfileClient {
        return new TrustedProfileClient(this.session.iam());
    }

    async check(_olds: unknown, news: unknown): Promise<pulumi.dynamic.CheckResult<TrustedProfileInputs>> {
        return finishCheck(checkTrustedProfileInputs(news), this.session.credentialFailures());
    }

    async diff(_id: string, olds: Partial<TrustedProfileOutputs>, news: TrustedProfileInputs): Promise<pulumi.dynamic.DiffResult> {
        const changes = differs(olds.name, news.name) || differs(olds.description ?? "", news.description ?? "");
        return { changes, replaces: [], deleteBeforeReplace: false };
    }

    async create(inputs: TrustedProfileInputs): Promise<pulumi.dynamic.CreateResult<TrustedProfileOutputs>> {
        const created = await journaled(
            "TrustedProfile",
            inputs,
            this.session.deployerApiKey(),
            () => this.profiles().createProfile(compact({ name: inputs.name, description: inputs.description || undefined })),
            (p) => p.id,
        );
        return { id: created.id, outs: outputsOf(created) };
    }

    async read(id: string): Promise<pulumi.dynamic.ReadResult<TrustedProfileOutputs>> {
        let live: TrustedProfileWire;
        try {
            live = await this.profiles().getProfile(id);
        } catch (err) {
            if (isNotFound(err)) return { id: "" };
            throw err;
        }
        const outs = outputsOf(live);
        return { id: live.id, props: outs, inputs: { name: outs.name, description: outs.description } as unknown as TrustedProfileOutputs };
    }

    async update(id: string, olds: TrustedProfileOutputs, news: TrustedProfileInputs): Promise<pulumi.dynamic.UpdateResult<TrustedProfileOutputs>> {
        const body: UpdateTrustedProfileBody = {};
        if (news.name !== olds.name) body.name = news.name;
        if ((news.description ?? "") !== (olds.description ?? "")) body.description = news.description ?? "";
        if (Object.keys(body).length === 0) return { outs: olds };
        const etag = entityTagFromState("trusted profile", id, olds);
        try {
            return { outs: outputsOf(await this.profiles().updateProfile(id, etag, body)) };
        } catch (err) {
            throw explainIdentityWriteError("trusted profile", id, err);
        }
    }

    /**
     * For a recovery after a crash: the profiles a create of `inputs` would have made (the name is unique in the
     * account; same description), with when each was made and whether it is untouched as a create leaves it (never
     * modified; no claim rule, link, trusted identity or access policy): `recover` applies the adopt rule. Reads only.
     */
    async sameProfiles(inputs: TrustedProfileInputs): Promise<Array<{ id: string; createdAt?: string; untouched: boolean }>> {
        const profiles = this.profiles();
        const iam = this.session.iam();
        const same = (await profiles.listProfiles({ name: inputs.name })).filter(
            (p) => p.name === inputs.name && (p.description ?? "") === (inputs.description ?? ""),
        );
        const out: Array<{ id: string; createdAt?: string; untouched: boolean }> = [];
        for (const p of same) {
            const untouched =
                p.modified_at === p.created_at &&
                (await profiles.listClaimRules(p.id)).length === 0 &&
                (await profiles.listLinks(p.id)).length === 0 &&
                (await profiles.listIdentities(p.id)).identities.length === 0 &&
                (await iam.listPolicies({ iamId: p.iam_id })).length === 0;
            out.push({ id: p.id, createdAt: p.created_at, untouched });
        }
        return out;
    }

    async delete(id: string): Promise<void> {
        // already gone is success; its links, claim rules and trusted identities go with it
        await this.profiles().deleteProfile(id);
    }
}

/** The one provider object for TrustedProfile. */
export const trustedProfileProvider = new TrustedProfileProvider();

// ---------- resource ----------

const TRUSTED_PROFILE = resourceShape<TrustedProfileOutputs>("TrustedProfile", {
    profileId: true,
    iamId: true,
    crn: true,
    accountId: true,
    entityTag: true,
    createdAt: true,
    modifiedAt: true,
    name: true,
    description: true,
});

/** An IBM Cloud IAM trusted profile. */
export class TrustedProfile extends DynamicResource implements OutputsOf<TrustedProfileOutputs> {
    /** `Profile-<uuid>` (also `id`). */
    declare readonly profileId: pulumi.Output<string>;
    /** `iam-Profile-<uuid>`: use it as a policy subject (AccessPolicy `iamId`). */
    declare readonly iamId: pulumi.Output<string>;
    declare readonly crn: pulumi.Output<string>;
    declare readonly accountId: pulumi.Output<string>;
    declare readonly entityTag: pulumi.Output<string>;
    declare readonly createdAt: pulumi.Output<string>;
    declare readonly modifiedAt: pulumi.Output<string>;
    declare readonly name: pulumi.Output<string>;
    declare readonly description: pulumi.Output<string>;

    constructor(name: string, args: TrustedProfileArgs, opts?: pulumi.CustomResourceOptions) {
        refuseBadArguments("TrustedProfile", name, args, opts, (inputs) => checkTrustedProfileInputs(inputs).failures);
        super(
            providerForDeployment(trustedProfileProvider),
            name,
            resourceProps(TRUSTED_PROFILE, args),
            resourceOptions(TRUSTED_PROFILE, opts),
            "ibmcloud-iam",
            TRUSTED_PROFILE.type,
        );
    }

    /** Adopts an existing trusted profile by its `Profile-…` id (the engine reads it; nothing is created). */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): TrustedProfile {
        return new TrustedProfile(name, undefined as unknown as TrustedProfileArgs, { ...opts, id });
    }
}
