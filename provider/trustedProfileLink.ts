// TrustedProfileLink: lets one compute resource act as a trusted profile with no API key — a VSI, bare metal
// server or PowerVS instance by its CRN, a Kubernetes service account (IKS_SA, ROKS_SA) by its cluster's CRN,
// namespace and name, a Code Engine component (CE) by its project's CRN, type and name. IBM has no update for a
// link: every change replaces it (the old one first, since IBM refuses a second link to the same resource).
// Terraform: `ibm_iam_trusted_profile_link`, whose id is also `<profile id>/<link id>`.
import type * as pulumi from "@pulumi/pulumi";
import { Resource as DynamicResource } from "@pulumi/pulumi/dynamic";
import { z } from "zod";
import { isNotFound } from "../client/errors";
import { ComputeResourceType, CreateProfileLinkBody, ProfileLink, sameLinkTarget, TrustedProfileClient } from "../client/profileClient";
import { providerForDeployment } from "./dynamicProvider";
import { refuseBadArguments } from "./check/argumentCheck";
import { finishCheck } from "./check/failures";
import { crnField } from "./check/fields";
import { crTypeField, profileIdField, textField } from "./check/profileFields";
import { CheckFailure, schemaOnce, validate } from "./check/validate";
import { differs } from "./core/diff";
import { compact, withoutProvider } from "./core/props";
import { CloudSession } from "./core/session";
import { journaled } from "./core/createJournal";
import { OutputsOf, resourceOptions, resourceProps, resourceShape } from "./core/resourceShape";

const FIELDS = ["profileId", "crType", "crn", "namespace", "serviceAccount", "componentType", "componentName", "linkName", "isCrossAccount"] as const;

// ---------- arguments ----------

export interface TrustedProfileLinkArgs {
    /** The profile (`Profile-…`, e.g. a TrustedProfile's `profileId`). */
    profileId: pulumi.Input<string>;
    /** `VSI`, `BMS`, `PVS`, `IKS_SA`, `ROKS_SA` or `CE`. */
    crType: pulumi.Input<"VSI" | "BMS" | "PVS" | "IKS_SA" | "ROKS_SA" | "CE">;
    /** The compute resource's CRN: the instance (VSI, BMS, PVS), the cluster (IKS_SA, ROKS_SA) or the project (CE). */
    crn: pulumi.Input<string>;
    /** IKS_SA / ROKS_SA only (and required there): the service account's namespace. */
    namespace?: pulumi.Input<string>;
    /** IKS_SA / ROKS_SA only (and required there): the service account's name. */
    serviceAccount?: pulumi.Input<string>;
    /** CE only (and required there): e.g. `application` or `job`. */
    componentType?: pulumi.Input<string>;
    /** CE only (and required there): the component's name. */
    componentName?: pulumi.Input<string>;
    /** The link's own display name (optional). */
    linkName?: pulumi.Input<string>;
    /** Allow a compute resource of another account (default false: the CRN's account must be the profile's). */
    isCrossAccount?: pulumi.Input<boolean>;
}

export interface TrustedProfileLinkOutputs {
    profileId: string;
    /** `ProfileLink-…`. The resource id is `<profileId>/<linkId>`. */
    linkId: string;
    crType: ComputeResourceType;
    crn: string;
    namespace?: string;
    serviceAccount?: string;
    componentType?: string;
    componentName?: string;
    linkName?: string;
    isCrossAccount: boolean;
    /** IBM's entity tag of the link when last read. */
    entityTag: string;
    /** When IAM created the link. */
    createdAt: string;
}

export interface TrustedProfileLinkInputs {
    profileId: string;
    crType: ComputeResourceType;
    crn: string;
    namespace?: string;
    serviceAccount?: string;
    componentType?: string;
    componentName?: string;
    linkName?: string;
    isCrossAccount: boolean;
}

// ---------- validation ----------

function linkSchema() {
    const text = textField;
    return z
        .object({
            profileId: profileIdField(),
            crType: crTypeField(),
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

/** TrustedProfileLink's check, pure: the provider runs it, and the constructor on the arguments known then. */
export function checkTrustedProfileLinkInputs(news: unknown): { inputs: TrustedProfileLinkInputs; failures: CheckFailure[] } {
    const raw = withoutProvider((news ?? {}) as Record<string, unknown>);
    const r = validate(schemaOnce("TrustedProfileLink", linkSchema), raw);
    if (!r.ok) return { inputs: raw as unknown as TrustedProfileLinkInputs, failures: r.failures };
    const v = r.value as TrustedProfileLinkInputs;
    return { inputs: compact({ ...v, isCrossAccount: v.isCrossAccount ?? false }), failures: [] };
}

function outputsOf(profileId: string, l: ProfileLink): TrustedProfileLinkOutputs {
    return compact({
        profileId,
        linkId: l.id,
        crType: l.cr_type as ComputeResourceType,
        crn: l.link.crn,
        namespace: l.link.namespace,
        serviceAccount: l.link.name,
        componentType: l.link.component_type,
        componentName: l.link.component_name,
        linkName: l.name,
        isCrossAccount: l.is_cross_account ?? false,
        entityTag: l.entity_tag,
        createdAt: l.created_at ?? "",
    });
}

function inputsOf(o: TrustedProfileLinkOutputs): TrustedProfileLinkInputs {
    const out: Record<string, unknown> = {};
    for (const f of FIELDS) out[f] = o[f];
    return compact(out) as unknown as TrustedProfileLinkInputs;
}

/** `Profile-…/ProfileLink-…` → its two ids; a bare id is refused with the form to use. */
function splitId(id: string): { profileId: string; linkId: string } {
    const m = /^(Profile-[^/]+)\/([^/]+)$/.exec(id);
    if (!m) throw new Error(`a TrustedProfileLink id is <profile id>/<link id> (e.g. Profile-…/ProfileLink-…), not '${id}'`);
    return { profileId: m[1], linkId: m[2] };
}

function linkBodyOf(inputs: TrustedProfileLinkInputs): CreateProfileLinkBody {
    return compact({
        cr_type: inputs.crType,
        link: compact({
            crn: inputs.crn,
            namespace: inputs.namespace,
            name: inputs.serviceAccount,
            component_type: inputs.componentType,
            component_name: inputs.componentName,
        }),
        name: inputs.linkName,
        is_cross_account: inputs.isCrossAccount || undefined,
    });
}

// ---------- provider ----------

class TrustedProfileLinkProvider implements pulumi.dynamic.ResourceProvider<TrustedProfileLinkInputs, TrustedProfileLinkOutputs> {
    private readonly session = new CloudSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
    }

    private profiles(): TrustedProfileClient {
        return new TrustedProfileClient(this.session.iam());
    }

    async check(_olds: unknown, news: unknown): Promise<pulumi.dynamic.CheckResult<TrustedProfileLinkInputs>> {
        return finishCheck(checkTrustedProfileLinkInputs(news), this.session.credentialFailures());
    }

    async diff(_id: string, olds: Partial<TrustedProfileLinkOutputs>, news: TrustedProfileLinkInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces = FIELDS.filter((f) => differs(olds[f] ?? (f === "isCrossAccount" ? false : undefined), news[f]));
        // IBM refuses a second link to the same compute resource: the old one goes first
        return { changes: replaces.length > 0, replaces: [...replaces], deleteBeforeReplace: true };
    }

    async create(inputs: TrustedProfileLinkInputs): Promise<pulumi.dynamic.CreateResult<TrustedProfileLinkOutputs>> {
        const link = await journaled(
            "TrustedProfileLink",
            inputs,
            this.session.deployerApiKey(),
            () => this.profiles().createLink(inputs.profileId, linkBodyOf(inputs)),
            (l) => `${inputs.profileId}/${l.id}`,
        );
        return { id: `${inputs.profileId}/${link.id}`, outs: outputsOf(inputs.profileId, link) };
    }

    async read(id: string): Promise<pulumi.dynamic.ReadResult<TrustedProfileLinkOutputs>> {
        const { profileId, linkId } = splitId(id);
        let live: ProfileLink;
        try {
            live = await this.profiles().getLink(profileId, linkId);
        } catch (err) {
            // the link, or its whole profile, deleted elsewhere
            if (isNotFound(err)) return { id: "" };
            throw err;
        }
        const outs = outputsOf(profileId, live);
        return { id, props: outs, inputs: inputsOf(outs) as unknown as TrustedProfileLinkOutputs };
    }

    /**
     * For a recovery after a crash: the profile's links to the compute resource a create of `inputs` names (IBM keeps
     * one per target), each with its resource id and when it was made (`recover` applies the adopt rule). Reads only.
     */
    async sameLinks(inputs: TrustedProfileLinkInputs): Promise<Array<{ id: string; createdAt?: string }>> {
        const body = linkBodyOf(inputs);
        const links = await this.profiles().listLinks(inputs.profileId);
        return links
            .filter((l) => sameLinkTarget(l, body) && (l.name ?? "") === (body.name ?? ""))
            .map((l) => ({ id: `${inputs.profileId}/${l.id}`, createdAt: l.created_at }));
    }

    async delete(id: string): Promise<void> {
        const { profileId, linkId } = splitId(id);
        await this.profiles().deleteLink(profileId, linkId);
    }
}

/** The one provider object for TrustedProfileLink. */
export const trustedProfileLinkProvider = new TrustedProfileLinkProvider();

// ---------- resource ----------

const TRUSTED_PROFILE_LINK = resourceShape<TrustedProfileLinkOutputs>("TrustedProfileLink", {
    profileId: true,
    linkId: true,
    crType: true,
    crn: true,
    namespace: true,
    serviceAccount: true,
    componentType: true,
    componentName: true,
    linkName: true,
    isCrossAccount: true,
    entityTag: true,
    createdAt: true,
});

/** A link from an IBM Cloud IAM trusted profile to one compute resource. */
export class TrustedProfileLink extends DynamicResource implements OutputsOf<TrustedProfileLinkOutputs> {
    declare readonly profileId: pulumi.Output<string>;
    declare readonly linkId: pulumi.Output<string>;
    declare readonly crType: pulumi.Output<ComputeResourceType>;
    declare readonly crn: pulumi.Output<string>;
    declare readonly namespace: pulumi.Output<string | undefined>;
    declare readonly serviceAccount: pulumi.Output<string | undefined>;
    declare readonly componentType: pulumi.Output<string | undefined>;
    declare readonly componentName: pulumi.Output<string | undefined>;
    declare readonly linkName: pulumi.Output<string | undefined>;
    declare readonly isCrossAccount: pulumi.Output<boolean>;
    declare readonly entityTag: pulumi.Output<string>;
    declare readonly createdAt: pulumi.Output<string>;

    constructor(name: string, args: TrustedProfileLinkArgs, opts?: pulumi.CustomResourceOptions) {
        refuseBadArguments("TrustedProfileLink", name, args, opts, (inputs) => checkTrustedProfileLinkInputs(inputs).failures);
        super(
            providerForDeployment(trustedProfileLinkProvider),
            name,
            resourceProps(TRUSTED_PROFILE_LINK, args),
            resourceOptions(TRUSTED_PROFILE_LINK, opts),
            "ibmcloud-iam",
            TRUSTED_PROFILE_LINK.type,
        );
    }

    /** Adopts an existing link by `<profile id>/<link id>` (the engine reads it; nothing is created). */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): TrustedProfileLink {
        return new TrustedProfileLink(name, undefined as unknown as TrustedProfileLinkArgs, { ...opts, id });
    }
}
