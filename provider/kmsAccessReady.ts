// A gate, not a cloud object: its create (and update, when the credential, policy or endpoint changes)
// waits, bounded, until a KMS instance actually accepts an API key, or a trusted profile's token traded
// from a compute-resource token file (a deployer running on a compute resource linked to the profile). IBM applies a new access policy
// with a delay during which KMS answers 401; resources that use the key depend on this gate so they
// never run into that window. Delete does nothing.
import type * as pulumi from "@pulumi/pulumi";
import { Resource as DynamicResource } from "@pulumi/pulumi/dynamic";
import { z } from "zod";
import * as crypto from "crypto";
import { KmsService } from "../client/config";
import { appendErrorNote, IbmCloudError } from "../client/errors";
import {
    checkKmsResource,
    DEFAULT_KMS_SERVICE,
    kmsApiKeyField,
    KmsInstanceFieldArgs,
    kmsServiceField,
    kmsInstanceShape,
    normalizeEndpoint,
} from "./kms/instance";
import { holderOf, isApiKeyRejected, isKmsUnauthorized } from "./kms/refusals";
import { KmsSession } from "./kms/session";
import { deployerTokensOf } from "./kms/asServiceId";
import { KmsInstance } from "./kms/endpoint";
import { CloudSession } from "./core/session";
import { schemaOnce } from "./check/validate";
import { compact, containsUnknown, UNKNOWN } from "./core/props";
import { providerForDeployment } from "./dynamicProvider";
import { refuseBadArguments } from "./check/argumentCheck";
import { finishCheck } from "./check/failures";
import { OutputsOf, resourceOptions, resourceProps, resourceShape } from "./core/resourceShape";

// ---------- arguments ----------

export interface KmsAccessReadyArgs extends KmsInstanceFieldArgs {
    /** The API key whose access is awaited (stored secret). Exactly one of apiKey / profileId. */
    apiKey?: pulumi.Input<string>;
    /**
     * A trusted profile (`Profile-…`) whose access is awaited, with `crTokenFile`: the token of a compute resource the
     * profile trusts, traded for the profile's IAM token (IBM's cr-token grant) at every probe. Exactly one of apiKey / profileId.
     */
    profileId?: pulumi.Input<string>;
    /** The compute-resource token file the profile's tokens are traded from (only with profileId; read again for every token). */
    crTokenFile?: pulumi.Input<string>;
    /** The access policy granting it (a new id waits again). */
    policyId?: pulumi.Input<string>;
    /** The policy's ETag: it changes when the policy's roles or resource change in place, which also takes a while to apply. */
    policyEtag?: pulumi.Input<string>;
    /** Give up after this many seconds (default 60; fractions allowed). */
    timeoutSeconds?: pulumi.Input<number>;
}

export interface KmsAccessReadyOutputs {
    instanceId: string;
    instanceCrn?: string;
    service: KmsService;
    endpoint: string;
    /** Secret (absent for a trusted profile). */
    apiKey?: string;
    /** The trusted profile awaited (absent for an API key). */
    profileId?: string;
    /** The compute-resource token file it was awaited with (a path; the token itself is never stored). */
    crTokenFile?: string;
    policyId?: string;
    policyEtag?: string;
    timeoutSeconds: number;
    /** The identity that was let in (`iam-ServiceId-…`, `iam-Profile-…`). */
    iamId: string;
    /** When KMS first accepted the key (ISO 8601). */
    readyAt: string;
    /** How long the wait took, in milliseconds. */
    waitedMs: number;
}

interface KmsAccessReadyInputs {
    instanceId: string;
    instanceCrn?: string;
    service: KmsService;
    region?: string;
    endpoint?: string;
    apiKey?: string;
    profileId?: string;
    crTokenFile?: string;
    policyId?: string;
    policyEtag?: string;
    timeoutSeconds: number;
}

export const DEFAULT_ACCESS_TIMEOUT_SECONDS = 60;

// ---------- validation ----------

function kmsAccessReadySchema() {
    return z
        .object({
            ...kmsInstanceShape(),
            service: kmsServiceField().default(DEFAULT_KMS_SERVICE),
            apiKey: kmsApiKeyField().optional(),
            profileId: z
                .string({ error: "profileId must be a string" })
                .regex(/^Profile-[A-Za-z0-9-]+$/, { error: "profileId must be a trusted profile's id such as Profile-1a2b…, e.g. profile.id" })
                .optional(),
            crTokenFile: z
                .string({ error: "crTokenFile must be a file path" })
                .min(1, { error: "crTokenFile must not be empty; give the compute-resource token file, e.g. /var/run/secrets/tokens/sa-token" })
                .optional(),
            policyId: z
                .string({ error: "policyId must be a string" })
                .min(1, { error: "policyId must not be empty; pass the policy's id (e.g. policy.policyId) or leave it out" })
                .optional(),
            policyEtag: z
                .string({ error: "policyEtag must be a string" })
                .min(1, { error: "policyEtag must not be empty; pass the policy's etag (e.g. policy.etag) or leave it out" })
                .optional(),
            timeoutSeconds: z
                .number({ error: "timeoutSeconds must be a number of seconds" })
                .positive({ error: "timeoutSeconds must be more than 0 (to skip the wait, do not create the gate: waitForAccess.timeoutSeconds 0)" })
                .max(3600, { error: "timeoutSeconds must be at most 3600" })
                .default(DEFAULT_ACCESS_TIMEOUT_SECONDS),
        })
        .strict()
        .superRefine((v, ctx) => {
            // Whose access is awaited: one identity, and a profile only with the token it is traded from.
            const hasKey = v.apiKey !== undefined;
            const hasProfile = v.profileId !== undefined;
            if (hasKey === hasProfile) {
                ctx.addIssue({
                    code: "custom",
                    path: ["apiKey"],
                    message: hasKey
                        ? "give apiKey or profileId, not both: the gate waits for one identity"
                        : "apiKey is required (the service ID's API key), or profileId with crTokenFile for a trusted profile",
                });
            } else if (hasProfile && v.crTokenFile === undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["crTokenFile"],
                    message: "crTokenFile is required with profileId: the token file of a compute resource linked to the profile, traded for its IAM token",
                });
            } else if (hasKey && v.crTokenFile !== undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["crTokenFile"],
                    message: "crTokenFile goes with profileId only; remove it (the API key is the credential)",
                });
            }
        });
}

/** Changes that make the gate wait again (nothing is ever replaced: there is no cloud object). */
function diffKmsAccessReady(olds: Partial<KmsAccessReadyOutputs>, news: Partial<KmsAccessReadyInputs>): string[] {
    const changed: string[] = [];
    const differs = (a: unknown, b: unknown) => b === UNKNOWN || a !== b;
    if (differs(olds.apiKey, news.apiKey)) changed.push("apiKey");
    if (differs(olds.profileId, news.profileId)) changed.push("profileId");
    if (differs(olds.crTokenFile, news.crTokenFile)) changed.push("crTokenFile");
    if (differs(olds.policyId, news.policyId)) changed.push("policyId");
    if (differs(olds.policyEtag, news.policyEtag)) changed.push("policyEtag");
    if (differs((olds.instanceId ?? "").toLowerCase(), typeof news.instanceId === "string" ? news.instanceId.toLowerCase() : news.instanceId))
        changed.push("instanceId");
    if (differs(olds.service ?? DEFAULT_KMS_SERVICE, news.service ?? DEFAULT_KMS_SERVICE)) changed.push("service");
    if (news.endpoint !== undefined && differs(olds.endpoint, news.endpoint === UNKNOWN ? UNKNOWN : normalizeEndpoint(news.endpoint))) changed.push("endpoint");
    if (differs(olds.timeoutSeconds ?? DEFAULT_ACCESS_TIMEOUT_SECONDS, news.timeoutSeconds ?? DEFAULT_ACCESS_TIMEOUT_SECONDS)) changed.push("timeoutSeconds");
    return changed;
}

// ---------- provider ----------

export class KmsAccessReadyProvider implements pulumi.dynamic.ResourceProvider {
    private readonly connections = new KmsSession();
    /** The deployer's credentials, for the one probe that tells a missing instance from a policy still applying. */
    private readonly session = new CloudSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.connections.configure(req);
        this.session.configure(req);
    }

    async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
        const checked = finishCheck(checkKmsResource(news, schemaOnce("KmsAccessReady", kmsAccessReadySchema)));
        if (checked.failures.length > 0) return checked;
        // The preview of a new identity (its key not made yet): ask the instance once, as the deployer,
        // so a CRN of an instance that does not exist fails before anything is created.
        const inputs = checked.inputs as unknown as KmsAccessReadyInputs;
        const known = (v: unknown) => v === undefined || (typeof v === "string" && !containsUnknown(v));
        if (
            !this.session.isConfigured ||
            (inputs.apiKey !== UNKNOWN && inputs.profileId !== UNKNOWN) ||
            !known(inputs.instanceId) ||
            !known(inputs.service) ||
            !known(inputs.endpoint) ||
            !known(inputs.region)
        )
            return checked;
        try {
            await this.deployerCanReach(this.connections.target(inputs), inputs);
        } catch (err) {
            return { inputs: checked.inputs, failures: [{ property: inputs.instanceCrn ? "instanceCrn" : "instanceId", reason: (err as Error).message }] };
        }
        return checked;
    }

    async diff(_id: string, olds: KmsAccessReadyOutputs, news: KmsAccessReadyInputs): Promise<pulumi.dynamic.DiffResult> {
        // timeoutSeconds alone changes nothing in the cloud, but re-checking access is cheap and harmless.
        return { changes: diffKmsAccessReady(olds, news).length > 0, replaces: [], deleteBeforeReplace: false };
    }

    async create(inputs: KmsAccessReadyInputs): Promise<pulumi.dynamic.CreateResult<KmsAccessReadyOutputs>> {
        const outs = await this.waitFor(inputs);
        return { id: crypto.randomUUID(), outs };
    }

    async read(id: string, props: KmsAccessReadyOutputs): Promise<pulumi.dynamic.ReadResult> {
        // Nothing lives in the cloud; refresh keeps what state holds.
        const { readyAt: _r, waitedMs: _w, iamId: _i, ...inputs } = props ?? ({} as KmsAccessReadyOutputs);
        return { id, props, inputs };
    }

    async update(_id: string, _olds: KmsAccessReadyOutputs, news: KmsAccessReadyInputs): Promise<pulumi.dynamic.UpdateResult<KmsAccessReadyOutputs>> {
        return { outs: await this.waitFor(news) };
    }

    async delete(): Promise<void> {
        // A gate has nothing to delete.
    }

    /**
     * One request as the deployer before waiting on the service ID: an instance that does not exist (or
     * that the deployer cannot use, or an endpoint that does not answer) is reported within seconds,
     * not after the whole propagation wait blamed on the policy. Skipped without deployer credentials,
     * and when the deployer's answer says nothing about the instance (IBM busy, a 5xx).
     */
    private async deployerCanReach(target: KmsInstance, inputs: KmsAccessReadyInputs): Promise<void> {
        const deployer = deployerTokensOf(this.session);
        if (!deployer) return;
        try {
            await this.connections.client(target, deployer).checkAccess();
        } catch (err) {
            if (isApiKeyRejected(err)) throw appendErrorNote(err, "IAM rejected the deployer's API key (ibmcloud:apiKey, IC_API_KEY or IBMCLOUD_API_KEY)");
            if (isKmsUnauthorized(err)) throw appendErrorNote(err, unreachableInstanceNote(target, inputs));
            const e = err as { name?: unknown; status?: unknown; code?: unknown };
            if (e?.name !== "IbmCloudError") throw err;
            // No connection at all: the service ID cannot do better; the error names the URL and the setting it came from.
            if (e.status === 0 && typeof e.code === "string" && NO_CONNECTION_CODES.includes(e.code)) throw err;
            if (e.status === 404 || e.status === 400) throw appendErrorNote(err, unreachableInstanceNote(target, inputs));
        }
    }

    private async waitFor(inputs: KmsAccessReadyInputs): Promise<KmsAccessReadyOutputs> {
        const target = this.connections.target(inputs);
        const { service, endpoint } = target;
        const profile = typeof inputs.profileId === "string" && inputs.profileId !== "";
        const tokens = profile
            ? this.connections.profileTokensFor(inputs.profileId as string, inputs.crTokenFile as string)
            : this.connections.tokensFor(inputs.apiKey as string, "KmsAccessReady");
        const client = this.connections.client(target, tokens);
        const timeoutSeconds = inputs.timeoutSeconds ?? DEFAULT_ACCESS_TIMEOUT_SECONDS;
        const started = Date.now();
        await this.deployerCanReach(target, inputs);
        if (profile) {
            // IAM's refusal to trade the token is not a policy still applying: reported now, not after the whole wait.
            try {
                await tokens.getTokenInfo();
            } catch (err) {
                throw appendErrorNote(
                    err,
                    `IAM would not trade the compute-resource token in ${inputs.crTokenFile} for trusted profile ${inputs.profileId}'s token, so KMS access cannot be checked: ` +
                        "the token must be one of a compute resource linked to the profile (see its links), readable and not expired",
                );
            }
        }
        try {
            await client.waitUntilAuthorized({ timeoutMs: Math.round(timeoutSeconds * 1000), initialIntervalMs: 250, maxIntervalMs: 5_000 });
        } catch (err) {
            if (isApiKeyRejected(err)) throw appendErrorNote(err, "IAM rejected the service ID's API key, so KMS access cannot be checked");
            if (err instanceof Error && err.name === "IbmCloudError" && ((err as IbmCloudError).status === 401 || (err as IbmCloudError).status === 403)) {
                const who = await holderOf(tokens, profile ? `trusted profile ${inputs.profileId}` : "the service ID");
                throw new Error(
                    `Timed out after ${timeoutSeconds} s waiting for ${service} instance ${inputs.instanceId} to accept ${who}: KMS still answers ` +
                        `${(err as IbmCloudError).status} ${(err as IbmCloudError).code ?? ""}`.trimEnd() +
                        ". IBM Cloud can take a few minutes to apply a new access policy: " +
                        "raise waitForAccess.timeoutSeconds and run `pulumi up` again, and check that the policy " +
                        `${inputs.policyId ? `${inputs.policyId} ` : ""}grants a role on serviceName=${service} serviceInstance=${inputs.instanceId}.` +
                        ((err as IbmCloudError).traceId ? ` [trace ${(err as IbmCloudError).traceId}]` : ""),
                );
            }
            throw err;
        }
        const waitedMs = Date.now() - started;
        const info = await tokens.getTokenInfo();
        return compact({
            instanceId: inputs.instanceId,
            instanceCrn: inputs.instanceCrn,
            service,
            endpoint,
            apiKey: inputs.apiKey,
            profileId: inputs.profileId,
            crTokenFile: inputs.crTokenFile,
            policyId: inputs.policyId,
            policyEtag: inputs.policyEtag,
            timeoutSeconds,
            iamId: info.iamId,
            readyAt: new Date().toISOString(),
            waitedMs,
        }) as KmsAccessReadyOutputs;
    }
}

export const kmsAccessReadyProvider = new KmsAccessReadyProvider();

const NO_CONNECTION_CODES: ReadonlyArray<string> = Object.freeze(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/** The note for an instance that refuses the deployer as well as the new service ID. */
function unreachableInstanceNote(target: KmsInstance, inputs: { instanceId: string; instanceCrn?: string }): string {
    const which = inputs.instanceCrn ? `instanceCrn ${inputs.instanceCrn}` : `instanceId ${inputs.instanceId}, service ${target.service}`;
    return (
        `the deployer's own credentials (ibmcloud:apiKey) are refused by ${target.service} instance ${inputs.instanceId} at ${target.endpoint} too, ` +
        `so this is not a policy still taking effect: the instance does not exist there (check ${which}, its region, and the KMS endpoint` +
        `${target.origin ? `, which is ${target.origin.from}` : ""}) or the deployer has no service role on it (give it Reader there)`
    );
}

// ---------- resource ----------

/** KmsAccessReady's type name and outputs: the props its constructor hands to Pulumi are derived from them. */
const KMS_ACCESS_READY = resourceShape<KmsAccessReadyOutputs>(
    "KmsAccessReady",
    {
        instanceId: true,
        instanceCrn: true,
        service: true,
        endpoint: true,
        apiKey: true,
        profileId: true,
        crTokenFile: true,
        policyId: true,
        policyEtag: true,
        timeoutSeconds: true,
        iamId: true,
        readyAt: true,
        waitedMs: true,
    },
    ["apiKey"],
);

/**
 * Waits (at create, and when the key, policy or endpoint changes) until the KMS instance accepts
 * `apiKey` (or trusted profile `profileId`'s token from `crTokenFile`); fails with a timeout error naming
 * the identity and the instance. Used by `KmsAccess`.
 */
export class KmsAccessReady extends DynamicResource implements OutputsOf<KmsAccessReadyOutputs> {
    declare readonly instanceId: pulumi.Output<string>;
    declare readonly instanceCrn: pulumi.Output<string | undefined>;
    declare readonly service: pulumi.Output<KmsService>;
    declare readonly endpoint: pulumi.Output<string>;
    declare readonly apiKey: pulumi.Output<string | undefined>;
    declare readonly profileId: pulumi.Output<string | undefined>;
    declare readonly crTokenFile: pulumi.Output<string | undefined>;
    declare readonly policyId: pulumi.Output<string | undefined>;
    declare readonly policyEtag: pulumi.Output<string | undefined>;
    declare readonly timeoutSeconds: pulumi.Output<number>;
    declare readonly iamId: pulumi.Output<string>;
    declare readonly readyAt: pulumi.Output<string>;
    declare readonly waitedMs: pulumi.Output<number>;

    constructor(name: string, args: KmsAccessReadyArgs, opts?: pulumi.CustomResourceOptions) {
        refuseBadArguments(
            "KmsAccessReady",
            name,
            args,
            opts,
            (inputs) => checkKmsResource(inputs, schemaOnce("KmsAccessReady", kmsAccessReadySchema)).failures,
        );
        super(
            providerForDeployment(kmsAccessReadyProvider),
            name,
            resourceProps(KMS_ACCESS_READY, args),
            resourceOptions(KMS_ACCESS_READY, opts),
            "ibmcloud-iam",
            KMS_ACCESS_READY.type,
        );
    }
}
