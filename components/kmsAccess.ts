// KmsAccess: an application's own identity on one Key Protect / HPCS instance — a service ID, its API
// key and an access policy on the instance — plus what the application and other stacks need to use
// it: the key (secret), IAM tokens minted with it, and a gate that waits until KMS accepts it. With
// `trustedProfile`, the identity is a trusted profile linked to the application's compute resources
// instead: no key exists, and nothing secret is stored or exported.
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import { z } from "zod";
import { accessTokenProvider, AccessTokenProvider } from "../client/accessToken";
import { AccessPolicy } from "../provider/accessPolicy";
import { checkAccessPolicy } from "../provider/policy/accessCheck";
import { CONFIG_KEYS, ExplicitCloudSettings, IBM_PROVIDER_CONFIG_KEYS, KmsService, settingsFromProviderConfig } from "../client/config";
import { DEFAULT_ACCESS_TIMEOUT_SECONDS, KmsAccessReady } from "../provider/kmsAccessReady";
import { KmsKey, KmsKeyArgs } from "../provider/kmsKey";
import { KmsKeyRing, KmsKeyRingArgs } from "../provider/kmsKeyRing";
import { kmsEndpointOf } from "../provider/kms/endpoint";
import { applyInstanceCrn, DEFAULT_KMS_SERVICE, kmsInstanceShape } from "../provider/kms/instance";
import { ServiceApiKey } from "../provider/serviceApiKey";
import { ServiceId } from "../provider/serviceId";
import { TrustedProfile } from "../provider/trustedProfile";
import { checkTrustedProfileLinkInputs, TrustedProfileLink } from "../provider/trustedProfileLink";
import { descriptionField, expiresAtField, nameField, rolesField } from "../provider/check/fields";
import { CheckFailure, validate } from "../provider/check/validate";
import { compact } from "../provider/core/props";
import { plainView } from "../provider/check/argumentCheck";
import { tidyFailures } from "../provider/check/failures";

/**
 * The KMS instance the identity gets access to: by its CRN (`crn`, which gives service, region and
 * GUID), or by `instanceId` with `service` — `"kms"` for Key Protect, the first path since HPCS takes
 * no new instances; `"hs-crypto"` for Hyper Protect Crypto Services (still the default when `service`
 * is left out, so stacks written before keep their keys).
 */
export interface KmsInstanceArgs {
    /** Instance GUID (the last-but-two segment of its CRN); or give `crn`. */
    instanceId?: pulumi.Input<string>;
    /** The instance CRN, e.g. `crn:v1:bluemix:public:kms:us-south:a/<account>:<guid>::`: instanceId, service and region are taken from it. */
    crn?: pulumi.Input<string>;
    /** `kms` (Key Protect) or `hs-crypto` (Hyper Protect Crypto Services, the default when neither this nor `crn` is given). */
    service?: pulumi.Input<"hs-crypto" | "kms">;
    /** Region of the instance; default `ibmcloud:region`, `IC_REGION`, us-south. Builds the KMS endpoint. */
    region?: pulumi.Input<string>;
    /** KMS base URL; wins over `region` (default: `ibmcloud:kmsEndpoint`, the env overrides, else derived). */
    endpoint?: pulumi.Input<string>;
}

/** A compute resource that may act as the component's trusted profile (as `TrustedProfileLink` takes it). */
export interface KmsAccessProfileLinkArgs {
    /** `VSI`, `BMS`, `PVS`, `IKS_SA`, `ROKS_SA` or `CE`. */
    crType: pulumi.Input<"VSI" | "BMS" | "PVS" | "IKS_SA" | "ROKS_SA" | "CE">;
    /** The compute resource's CRN: the instance (VSI, BMS, PVS), the cluster (IKS_SA, ROKS_SA) or the project (CE). */
    crn: pulumi.Input<string>;
    /** IKS_SA / ROKS_SA: the service account's namespace. */
    namespace?: pulumi.Input<string>;
    /** IKS_SA / ROKS_SA: the service account's name. */
    serviceAccount?: pulumi.Input<string>;
    /** CE: e.g. `application` or `job`. */
    componentType?: pulumi.Input<string>;
    /** CE: the component's name. */
    componentName?: pulumi.Input<string>;
    /** The link's own display name (optional). */
    linkName?: pulumi.Input<string>;
}

/** The trusted profile the application runs as, instead of a service ID with an API key. */
export interface KmsAccessTrustedProfileArgs {
    /** The profile's name, unique in the account; default: the component's name. */
    name?: pulumi.Input<string>;
    /** The compute resources that may act as the profile (at least one); each becomes a `TrustedProfileLink`. */
    links: KmsAccessProfileLinkArgs[];
}

export interface KmsAccessArgs {
    /** The instance to grant access to. */
    instance: KmsInstanceArgs;
    /**
     * Secretless: the identity is a trusted profile linked to these compute resources, not a service ID with an
     * API key. No key exists and nothing secret is stored or exported; the application gets its tokens from the
     * platform (`computeResourceTokenProvider` in `pulumi-ibmcloud-iam/client`). Not with serviceIdName,
     * rotationTrigger, expiresAt, storeValue or outputFile (they describe the key).
     */
    trustedProfile?: KmsAccessTrustedProfileArgs;
    /**
     * Service roles on the instance (display names, ids or CRNs). Default `["Reader"]`: list keys, read
     * metadata, wrap and unwrap. Creating keys (`createKey`) needs `Writer`; deleting them as the service
     * ID needs `Manager` (with `Writer` only, destroy falls back to the deployer's credentials).
     */
    roles?: pulumi.Input<pulumi.Input<string>[]>;
    /** Name of the service ID; default: the component's name. */
    serviceIdName?: pulumi.Input<string>;
    /** Description of the service ID (and its API key). */
    description?: pulumi.Input<string>;
    /** Any value; changing it rotates the API key (the new key is created before the old one is deleted). */
    rotationTrigger?: pulumi.Input<string | number>;
    /** When the API key stops working, e.g. `2030-01-31T12:00+0000`. */
    expiresAt?: pulumi.Input<string>;
    /** IBM keeps the key's value so it can be read again later (default false). */
    storeValue?: pulumi.Input<boolean>;
    /** Also write the key to this file (JSON like `ibmcloud iam service-api-key-create --file`, mode 0600). */
    outputFile?: pulumi.Input<string>;
    /**
     * Wait until the KMS instance actually accepts the new credentials (IBM Cloud applies a new policy
     * with a delay, answering 401 meanwhile). `apiKey`, the token methods and keys from `createKey`
     * resolve only after that. Default `{ timeoutSeconds: 60 }`; `{ timeoutSeconds: 0 }` disables it.
     * On timeout `pulumi up` fails with an error naming the identity and the instance.
     *
     * With `trustedProfile`, the deployer can only wait while it can act as the profile: give `crTokenFile`, the
     * token file of a compute resource linked to the profile (a deployer running in the linked cluster, or a token
     * the emulator minted), and the gate trades it for the profile's token until KMS accepts it. Without
     * `crTokenFile` there is no gate: KMS's acceptance is not verified at deploy time, and the application should
     * retry a 401 for the first minutes.
     */
    waitForAccess?: { timeoutSeconds?: number; crTokenFile?: string };
}

/** A token as it may be placed in stack outputs: secret, and with its expiry. */
export interface AccessTokenInfoOutput {
    accessToken: string;
    /** Epoch seconds after which the token is no longer valid (about an hour after minting). */
    expiration: number;
}

/** Arguments of `KmsAccess.createKey`: a `KmsKey` whose instance, endpoint and credential come from the component. */
export type KmsAccessKeyArgs = Omit<KmsKeyArgs, "instanceId" | "instanceCrn" | "service" | "region" | "endpoint" | "apiKey">;

/** Arguments of `KmsAccess.createKeyRing`: a `KmsKeyRing` whose instance, endpoint and credential come from the component. */
export type KmsAccessKeyRingArgs = Omit<KmsKeyRingArgs, "instanceId" | "instanceCrn" | "service" | "region" | "endpoint" | "apiKey">;

/** What `KmsAccess` makes its children with (see `childClasses`). */
export interface KmsAccessChildClasses {
    ServiceId: typeof ServiceId;
    ServiceApiKey: typeof ServiceApiKey;
    AccessPolicy: typeof AccessPolicy;
    KmsAccessReady: typeof KmsAccessReady;
    TrustedProfile: typeof TrustedProfile;
    TrustedProfileLink: typeof TrustedProfileLink;
}

const DYNAMIC_CHILDREN: KmsAccessChildClasses = { ServiceId, ServiceApiKey, AccessPolicy, KmsAccessReady, TrustedProfile, TrustedProfileLink };

/**
 * Gives an application its own IAM identity on one HPCS / Key Protect instance: a `ServiceId`, a
 * `ServiceApiKey` and an `AccessPolicy` (roles on `serviceName` = the service, `serviceInstance` = the
 * instance), plus a `KmsAccessReady` gate that waits for the policy to take effect.
 *
 * ```ts
 * // Key Protect by its CRN (or { instanceId, service: "kms", region }); HPCS: { instanceId, service: "hs-crypto", region }.
 * const access = new KmsAccess("app", { instance: { crn: "crn:v1:bluemix:public:kms:us-south:a/<account>:<guid>::" }, roles: ["Manager"] });
 * const rootKey = access.createKey("app-root", { name: "app-root" });   // created AS the service ID
 * export const apiKey = access.apiKey;                                    // secret; another stack can read it
 * export const token = access.getAccessTokenInfo();                       // secret { accessToken, expiration }
 * ```
 *
 * With `trustedProfile`, a `TrustedProfile`, its `TrustedProfileLink`s and an `AccessPolicy` naming the profile
 * instead: no key, nothing secret in state or outputs; the application gets its tokens from its compute resource.
 *
 * ```ts
 * const access = new KmsAccess("orders", {
 *     instance: { crn },
 *     roles: ["Writer"],
 *     trustedProfile: { links: [{ crType: "IKS_SA", crn: clusterCrn, namespace: "orders", serviceAccount: "api" }] },
 * });
 * export const profileId = access.profileId; // in the pod: computeResourceTokenProvider({ profileId })
 * ```
 */
export class KmsAccess extends pulumi.ComponentResource {
    /** `iam-ServiceId-<uuid>` (or with `trustedProfile`, `iam-Profile-<uuid>`): the `iam_id` of the identity's tokens, and KMS's `createdBy`. */
    readonly iamId: pulumi.Output<string>;
    /** With `trustedProfile`: `Profile-<uuid>`, what the application's token provider names (`profileId`); else undefined. */
    readonly profileId: pulumi.Output<string | undefined>;
    /** With `trustedProfile`: the profile's name (`profileName` of the token provider); else undefined. */
    readonly profileName: pulumi.Output<string | undefined>;
    /** With `trustedProfile`: the profile's CRN; else undefined. */
    readonly profileCrn: pulumi.Output<string | undefined>;
    /** The access policy's id. */
    readonly policyId: pulumi.Output<string>;
    /** The KMS instance's GUID (from `instance.instanceId` or its CRN). */
    readonly instanceId: pulumi.Output<string>;
    /** `kms` (Key Protect) or `hs-crypto` (HPCS), from `instance.service` or its CRN. */
    readonly service: pulumi.Output<KmsService>;
    /** KMS base URL of the instance. */
    readonly kmsEndpoint: pulumi.Output<string>;

    /** With `trustedProfile`: the profile; else undefined. */
    readonly profileResource: TrustedProfile | undefined;
    /** With `trustedProfile`: one link per `trustedProfile.links` entry, in that order; else empty. */
    readonly linkResources: TrustedProfileLink[];
    /** The access policy resource granting `roles` on the instance. */
    readonly policy: AccessPolicy;
    /** The propagation gate; undefined when `waitForAccess.timeoutSeconds` is 0. */
    readonly accessReady: KmsAccessReady | undefined;

    private readonly explicitSettings: ExplicitCloudSettings;
    private readonly componentName: string;
    // API-key mode only: the service ID, its key and their outputs (the getters below say so in trusted-profile mode).
    private readonly keyed: { serviceIdResource: ServiceId; apiKeyResource: ServiceApiKey; apiKey: pulumi.Output<string> } | undefined;
    // Token providers per key (by its hash: the key itself must never be a property name that
    // console.log of the component would show), made on first use (a rotation within one program run gets its own).
    private tokenProviders: { [keyHash: string]: AccessTokenProvider } | undefined;

    constructor(name: string, args: KmsAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        // Argument errors before anything is registered: the same rules the children's check would apply
        // later (and a few only the component knows), so nothing is half-created.
        checkKmsAccessArgs(name, args);
        const timeoutSeconds = args.waitForAccess?.timeoutSeconds ?? DEFAULT_ACCESS_TIMEOUT_SECONDS;
        super("ibmcloud-iam:index:KmsAccess", name, {}, opts);
        this.explicitSettings = this.cloudSettings();
        this.componentName = name;
        const { ServiceId, ServiceApiKey, AccessPolicy, KmsAccessReady, TrustedProfile, TrustedProfileLink } = this.childClasses();
        const child = { parent: this };

        const instance = pulumi
            .all([args.instance.crn, args.instance.instanceId, args.instance.service, args.instance.region])
            .apply(([crn, instanceId, service, region]) => {
                const r = applyInstanceCrn(compact({ crn, instanceId, service, region }), "crn", "instance.");
                if (r.failures.length > 0) throw new Error(`KmsAccess ${name}: ${r.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
                return r.fields as { instanceId: string; service?: KmsService; region?: string };
            });
        this.instanceId = instance.apply((i) => i.instanceId);
        this.service = instance.apply((i) => i.service ?? DEFAULT_KMS_SERVICE);
        const explicit = this.explicitSettings;
        this.kmsEndpoint = pulumi
            .all([instance, args.instance.endpoint])
            .apply(([i, endpoint]) =>
                kmsEndpointOf(
                    explicit,
                    { instanceId: i.instanceId, service: i.service ?? DEFAULT_KMS_SERVICE, region: i.region, endpoint },
                    "instance.endpoint",
                ),
            );

        const description = args.description ?? pulumi.interpolate`Access of ${name} to ${this.service} instance ${this.instanceId}`;
        const roles = args.roles ?? ["Reader"];
        if (args.trustedProfile !== undefined) {
            // Secretless: a profile, its links and the policy; the gate only when the deployer can act as the profile.
            const tp = args.trustedProfile;
            const profile = new TrustedProfile(`${name}-profile`, { name: tp.name ?? name, description }, child);
            this.profileResource = profile;
            this.linkResources = tp.links.map(
                (l, i) =>
                    new TrustedProfileLink(
                        `${name}-link-${i}`,
                        {
                            profileId: profile.id,
                            crType: l.crType,
                            crn: l.crn,
                            namespace: l.namespace,
                            serviceAccount: l.serviceAccount,
                            componentType: l.componentType,
                            componentName: l.componentName,
                            linkName: l.linkName,
                        },
                        child,
                    ),
            );
            this.policy = new AccessPolicy(
                `${name}-policy`,
                {
                    profileId: profile.id,
                    roles,
                    resource: { serviceName: this.service, serviceInstance: this.instanceId },
                    description: pulumi.interpolate`KMS access of ${name}`,
                },
                child,
            );
            const crTokenFile = args.waitForAccess?.crTokenFile;
            this.accessReady =
                timeoutSeconds > 0 && crTokenFile !== undefined
                    ? new KmsAccessReady(
                          `${name}-ready`,
                          {
                              instanceId: this.instanceId,
                              service: this.service,
                              endpoint: this.kmsEndpoint,
                              profileId: profile.profileId,
                              crTokenFile,
                              policyId: this.policy.policyId,
                              policyEtag: this.policy.etag,
                              timeoutSeconds,
                          },
                          // The links too: the token is traded only once the compute resource is linked.
                          { parent: this, dependsOn: [this.policy, ...this.linkResources] },
                      )
                    : undefined;
            this.keyed = undefined;
            this.iamId = profile.iamId;
            this.profileId = profile.profileId;
            this.profileName = profile.name;
            this.profileCrn = profile.crn;
        } else {
            const serviceIdResource = new ServiceId(`${name}-serviceid`, { name: args.serviceIdName ?? name, description }, child);
            // The resource id (= ServiceId-…) stays known while the service ID is being updated, its outputs
            // do not: passing the id keeps a preview of a rename from announcing a key and policy replacement.
            const apiKeyResource = new ServiceApiKey(
                `${name}-apikey`,
                {
                    serviceId: serviceIdResource.id,
                    name: pulumi.interpolate`${args.serviceIdName ?? name}${API_KEY_NAME_SUFFIX}`,
                    description,
                    rotationTrigger: args.rotationTrigger,
                    expiresAt: args.expiresAt,
                    storeValue: args.storeValue,
                    outputFile: args.outputFile,
                },
                child,
            );
            this.policy = new AccessPolicy(
                `${name}-policy`,
                {
                    serviceId: serviceIdResource.id,
                    roles,
                    resource: { serviceName: this.service, serviceInstance: this.instanceId },
                    description: pulumi.interpolate`KMS access of ${name}`,
                },
                child,
            );

            const rawKey = pulumi.secret(apiKeyResource.apikey);
            let apiKey: pulumi.Output<string>;
            if (timeoutSeconds > 0) {
                this.accessReady = new KmsAccessReady(
                    `${name}-ready`,
                    {
                        instanceId: this.instanceId,
                        service: this.service,
                        endpoint: this.kmsEndpoint,
                        apiKey: rawKey,
                        policyId: this.policy.policyId,
                        policyEtag: this.policy.etag,
                        timeoutSeconds,
                    },
                    { parent: this, dependsOn: [this.policy, apiKeyResource] },
                );
                // Anything using the key (in this stack or, through its output, in another) waits for the gate.
                apiKey = pulumi.secret(pulumi.all([rawKey, this.accessReady.readyAt]).apply(([key]) => key));
            } else {
                this.accessReady = undefined;
                apiKey = rawKey;
            }
            this.keyed = { serviceIdResource, apiKeyResource, apiKey };
            this.profileResource = undefined;
            this.linkResources = [];
            this.iamId = serviceIdResource.iamId;
            this.profileId = pulumi.output(undefined);
            this.profileName = pulumi.output(undefined);
            this.profileCrn = pulumi.output(undefined);
        }
        this.policyId = this.policy.policyId;

        this.registerOutputs(
            this.keyed
                ? {
                      serviceId: this.serviceId,
                      iamId: this.iamId,
                      apiKeyId: this.apiKeyId,
                      apiKey: this.apiKey,
                      policyId: this.policyId,
                      instanceId: this.instanceId,
                      kmsEndpoint: this.kmsEndpoint,
                  }
                : {
                      iamId: this.iamId,
                      profileId: this.profileId,
                      profileName: this.profileName,
                      profileCrn: this.profileCrn,
                      policyId: this.policyId,
                      instanceId: this.instanceId,
                      kmsEndpoint: this.kmsEndpoint,
                  },
        );
    }

    /** `ServiceId-<uuid>`. API-key mode only (a component with `trustedProfile` has no service ID: this throws). */
    get serviceId(): pulumi.Output<string> {
        return this.keyedOnly("serviceId").serviceIdResource.serviceId;
    }

    /** `ApiKey-<uuid>`. API-key mode only. */
    get apiKeyId(): pulumi.Output<string> {
        return this.keyedOnly("apiKeyId").apiKeyResource.apiKeyId;
    }

    /** The service ID's API key (secret). Resolves once KMS accepts it (when `waitForAccess` is on). API-key mode only. */
    get apiKey(): pulumi.Output<string> {
        return this.keyedOnly("apiKey").apiKey;
    }

    /** The service ID resource, for `dependsOn` and for reading its other outputs. API-key mode only. */
    get serviceIdResource(): ServiceId {
        return this.keyedOnly("serviceIdResource").serviceIdResource;
    }

    /** The API key resource (its `rotationTrigger`, `locked`, `expiresAt`…). API-key mode only. */
    get apiKeyResource(): ServiceApiKey {
        return this.keyedOnly("apiKeyResource").apiKeyResource;
    }

    /** The service ID's parts, or a clear error for a component made with `trustedProfile`. */
    private keyedOnly(what: string): NonNullable<KmsAccess["keyed"]> {
        if (this.keyed) return this.keyed;
        throw new Error(
            `KmsAccess ${this.componentName}: ${what} does not exist: this component was made with trustedProfile (no service ID, no API key). ` +
                "Use profileId / profileName / iamId; the application gets its tokens with computeResourceTokenProvider({ profileId }) from pulumi-ibmcloud-iam/client.",
        );
    }

    /**
     * A valid IAM access token of the service ID (secret), minted with `apiKey` through the token
     * manager: cached and refreshed, so several uses in one program share one token. It is valid about
     * an hour; prefer `getAccessTokenInfo()` when it leaves the program (it carries the expiration).
     */
    getAccessToken(): pulumi.Output<string> {
        this.keyedOnly("getAccessToken()");
        return pulumi.secret(this.apiKey.apply((key) => this.tokensFor(key).getAccessToken()));
    }

    /** `{ accessToken, expiration }` (secret): a token fit for stack outputs, with its expiry in epoch seconds. */
    getAccessTokenInfo(): pulumi.Output<AccessTokenInfoOutput> {
        this.keyedOnly("getAccessTokenInfo()");
        return pulumi.secret(
            this.apiKey.apply(async (key) => {
                const info = await this.tokensFor(key).getTokenInfo();
                return { accessToken: info.accessToken, expiration: info.expiration };
            }),
        );
    }

    /** `{ Authorization: "Bearer …", "bluemix-instance": instanceId }` (secret) for the KMS keys API. */
    authHeaders(): pulumi.Output<{ Authorization: string; "bluemix-instance": string }> {
        this.keyedOnly("authHeaders()");
        return pulumi.secret(pulumi.all([this.apiKey, this.instanceId]).apply(([key, instanceId]) => this.tokensFor(key).authHeaders(instanceId)));
    }

    /**
     * A `KmsKey` in this instance created and managed AS this service ID (it needs `roles` with `Writer`
     * or `Manager`), after the access gate. Its parent is this component unless `opts.parent` says otherwise.
     * With `trustedProfile`, the key is created and managed AS THE DEPLOYER (a trusted profile's token comes
     * only from its compute resource, which the deployer is not), after the policy (and the gate, if any).
     */
    createKey(name: string, args: KmsAccessKeyArgs, opts?: pulumi.CustomResourceOptions): KmsKey {
        return new KmsKey(name, { ...args, ...this.instanceInputs() }, this.afterGate(opts));
    }

    /**
     * A `KmsKeyRing` in this instance created and managed AS this service ID (it needs `roles` with
     * `Manager`), after the access gate; with `trustedProfile`, as the deployer. Put keys in it with `createKey(…, { keyRing: ring.keyRingId })`.
     */
    createKeyRing(name: string, args: KmsAccessKeyRingArgs, opts?: pulumi.CustomResourceOptions): KmsKeyRing {
        return new KmsKeyRing(name, { ...args, ...this.instanceInputs() }, this.afterGate(opts));
    }

    private instanceInputs() {
        const where = { instanceId: this.instanceId, service: this.service, endpoint: this.kmsEndpoint };
        return this.keyed ? { ...where, apiKey: this.keyed.apiKey } : where;
    }

    /** Options of a child that uses the key: parent this component, depending on the access gate. */
    private afterGate(opts?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
        const gate: pulumi.Resource = this.accessReady ?? this.policy;
        const given = opts?.dependsOn;
        const dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> =
            given === undefined ? [gate] : pulumi.output(given).apply((d) => [...(Array.isArray(d) ? d : [d]), gate]);
        return { parent: this, ...opts, dependsOn };
    }

    /**
     * The classes the children are made with: the dynamic resources. The provider plugin, which constructs this
     * component for programs in other languages, makes them as its own resource types instead (same inputs, same
     * outputs, served by the same providers).
     */
    protected childClasses(): KmsAccessChildClasses {
        return DYNAMIC_CHILDREN;
    }

    /** Endpoints, visibility and region (never the key): `ibmcloud:*` stack config here; the provider plugin's own configuration there. */
    protected cloudSettings(): ExplicitCloudSettings {
        return stackCloudSettings();
    }

    private tokensFor(apiKey: string): AccessTokenProvider {
        if (!this.tokenProviders) this.tokenProviders = {};
        const keyHash = crypto.createHash("sha256").update(apiKey).digest("hex");
        let t = this.tokenProviders[keyHash];
        if (!t) {
            t = accessTokenProvider({ apiKey, iamEndpoint: this.explicitSettings.iamEndpoint, visibility: this.explicitSettings.visibility });
            this.tokenProviders[keyHash] = t;
        }
        return t;
    }
}

// ---------- argument validation ----------

const API_KEY_NAME_SUFFIX = "-apikey";
/** Stands in for the profile a link will name, which does not exist at construction: only the link's own fields are judged. */
const UNCHECKED_PROFILE_ID = "Profile-00000000-0000-0000-0000-000000000000";
/** The API key is named `<serviceIdName>-apikey`, and API key names are at most 1000 characters too. */
const MAX_SERVICE_ID_NAME = 1000 - API_KEY_NAME_SUFFIX.length;

function kmsAccessArgsSchema() {
    const timeoutMessage = "waitForAccess.timeoutSeconds must be a number of seconds ≥ 0 (0 disables the wait)";
    return z
        .object({
            instance: z
                .object(kmsInstanceShape("instance.endpoint", "crn"), {
                    error: 'instance is required: { crn: "<instance CRN>" } or { instanceId: "<instance guid>", service: "kms" | "hs-crypto", region? | endpoint? }',
                })
                .strict(),
            roles: rolesField("Writer", true).optional(),
            trustedProfile: z
                .object(
                    {
                        name: nameField("trusted profile").optional(),
                        links: z
                            .array(z.record(z.string(), z.unknown()), {
                                error: 'trustedProfile.links must be a list of compute resources such as [{ crType: "IKS_SA", crn: "<cluster CRN>", namespace: "orders", serviceAccount: "api" }]',
                            })
                            .min(1, { error: "trustedProfile.links needs at least one compute resource: a profile nothing can act as gives no access" }),
                    },
                    { error: "trustedProfile must be an object such as { links: [{ crType, crn, … }] }" },
                )
                .strict()
                .optional(),
            serviceIdName: nameField("service ID", MAX_SERVICE_ID_NAME).optional(),
            description: descriptionField().optional(),
            rotationTrigger: z.union([z.string(), z.number()], { error: "rotationTrigger must be a string or a number" }).optional(),
            expiresAt: expiresAtField().optional(),
            storeValue: z.boolean({ error: "storeValue must be true or false" }).optional(),
            outputFile: z
                .string({ error: "outputFile must be a file path" })
                .min(1, { error: "outputFile must not be empty; give a path such as ./app-apikey.json, or omit it" })
                .refine((v) => !v.includes("\0"), { error: "outputFile must not contain a NUL character" })
                .optional(),
            waitForAccess: z
                .object(
                    {
                        timeoutSeconds: z
                            .number({ error: timeoutMessage })
                            .min(0, { error: timeoutMessage })
                            .max(3600, { error: "waitForAccess.timeoutSeconds must be at most 3600 (an hour); 0 disables the wait" })
                            .optional(),
                        crTokenFile: z
                            .string({ error: "waitForAccess.crTokenFile must be a file path" })
                            .min(1, { error: "waitForAccess.crTokenFile must not be empty; give a compute-resource token file, or omit it" })
                            .optional(),
                    },
                    { error: "waitForAccess must be an object such as { timeoutSeconds: 60 }" },
                )
                .strict()
                .optional(),
        })
        .strict();
}

/**
 * The failures of KmsAccess arguments known at construction, each naming the argument (`instance.instanceId`,
 * `roles[1]`, …): types, names, the instance, role names for the instance's service, expiresAt, the wait.
 * Pure; exported for tests.
 */
export function kmsAccessArgsFailures(name: string, args: unknown): CheckFailure[] {
    if (args === null || typeof args !== "object" || Array.isArray(args) || pulumi.Output.isInstance(args)) {
        return [{ property: "(args)", reason: 'arguments must be an object such as { instance: { instanceId: "<instance guid>" } }' }];
    }
    const view = plainView(args) as Record<string, unknown>;
    const profileMode = view.trustedProfile !== undefined && view.trustedProfile !== null;
    if (profileMode) {
        // What describes an API key has no meaning for a profile: refused, not silently ignored.
        const keyOnly = (["serviceIdName", "rotationTrigger", "expiresAt", "storeValue", "outputFile"] as const).filter((f) => view[f] !== undefined);
        if (keyOnly.length > 0) {
            return keyOnly.map((f) => ({
                property: f,
                reason: `${f} describes the service ID's API key, and with trustedProfile there is none; remove ${f} (or trustedProfile, for a service ID with a key)`,
            }));
        }
        const tp = view.trustedProfile as Record<string, unknown>;
        if (typeof tp === "object" && !Array.isArray(tp) && tp.name === undefined) view.trustedProfile = { ...tp, name };
    } else {
        // The service ID takes the component's name unless serviceIdName says otherwise: the same limits apply.
        if (view.serviceIdName === undefined) view.serviceIdName = name;
        const wait = view.waitForAccess as Record<string, unknown> | undefined;
        if (wait && typeof wait === "object" && wait.crTokenFile !== undefined) {
            return [
                {
                    property: "waitForAccess.crTokenFile",
                    reason: "crTokenFile is how the deployer acts as a trusted profile, and without trustedProfile the identity is a service ID whose API key the wait uses; remove it",
                },
            ];
        }
    }
    const crnFailures: CheckFailure[] = [];
    if (view.instance !== null && typeof view.instance === "object" && !Array.isArray(view.instance)) {
        const fromCrn = applyInstanceCrn(view.instance as Record<string, unknown>, "crn", "instance.");
        crnFailures.push(...fromCrn.failures);
        if (fromCrn.failures.length === 0) view.instance = fromCrn.fields;
    }
    if (crnFailures.length > 0) return crnFailures;
    const r = validate(kmsAccessArgsSchema(), view);
    const failures = r.ok ? [] : [...r.failures];
    // Each link as TrustedProfileLink judges it, before any child exists (the profile's id is not known yet).
    const links = profileMode ? (view.trustedProfile as { links?: unknown }).links : undefined;
    if (Array.isArray(links)) {
        links.forEach((l, i) => {
            if (l === null || typeof l !== "object" || Array.isArray(l)) return;
            const { profileId: _p, ...link } = l as Record<string, unknown>;
            for (const f of checkTrustedProfileLinkInputs({ ...link, profileId: UNCHECKED_PROFILE_ID }).failures) {
                failures.push({ property: `trustedProfile.links[${i}].${f.property}`, reason: f.reason });
            }
        });
    }
    // Role names resolve offline for both KMS services: a typo fails here, with the valid list.
    const instance = view.instance as { service?: unknown } | undefined;
    const service = instance && typeof instance === "object" ? (instance.service ?? DEFAULT_KMS_SERVICE) : DEFAULT_KMS_SERVICE;
    if (Array.isArray(view.roles) && (service === "hs-crypto" || service === "kms")) {
        const roleCheck = checkAccessPolicy({ serviceId: "ServiceId-component", roles: view.roles, resource: { serviceName: service } });
        for (const f of roleCheck.failures) if (f.property.startsWith("roles[") && !failures.some((g) => g.property === f.property)) failures.push(f);
    }
    return tidyFailures(failures);
}

/** Throws one error naming every bad argument (nothing is registered before this passes). */
function checkKmsAccessArgs(name: string, args: unknown): void {
    const failures = kmsAccessArgsFailures(name, args);
    if (failures.length === 0) return;
    throw new Error(`KmsAccess ${name}: invalid arguments: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
}

/** `ibmcloud:*` stack config (endpoints, visibility, region; never the key) as config.ts reads it for providers. */
function stackCloudSettings(): ExplicitCloudSettings {
    const settings = settingsFromProviderConfig({
        config: {
            get(key: string): string | undefined {
                if (key === CONFIG_KEYS.apiKey || key === IBM_PROVIDER_CONFIG_KEYS.apiKey) return undefined;
                const [ns, name] = key.split(":");
                return new pulumi.Config(ns).get(name);
            },
        },
    });
    return settings;
}
