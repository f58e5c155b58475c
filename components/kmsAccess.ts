// KmsAccess: an application's own identity on one Key Protect / HPCS instance — a service ID, its API
// key and an access policy on the instance — plus what the application and other stacks need to use
// it: the key (secret), IAM tokens minted with it, and a gate that waits until KMS accepts it.
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

export interface KmsAccessArgs {
    /** The instance to grant access to. */
    instance: KmsInstanceArgs;
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
     */
    waitForAccess?: { timeoutSeconds?: number };
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
}

const DYNAMIC_CHILDREN: KmsAccessChildClasses = { ServiceId, ServiceApiKey, AccessPolicy, KmsAccessReady };

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
 */
export class KmsAccess extends pulumi.ComponentResource {
    /** `ServiceId-<uuid>`. */
    readonly serviceId: pulumi.Output<string>;
    /** `iam-ServiceId-<uuid>`: the `iam_id` of tokens minted with `apiKey`, and KMS's `createdBy`. */
    readonly iamId: pulumi.Output<string>;
    /** `ApiKey-<uuid>`. */
    readonly apiKeyId: pulumi.Output<string>;
    /** The service ID's API key (secret). Resolves once KMS accepts it (when `waitForAccess` is on). */
    readonly apiKey: pulumi.Output<string>;
    /** The access policy's id. */
    readonly policyId: pulumi.Output<string>;
    /** The KMS instance's GUID (from `instance.instanceId` or its CRN). */
    readonly instanceId: pulumi.Output<string>;
    /** `kms` (Key Protect) or `hs-crypto` (HPCS), from `instance.service` or its CRN. */
    readonly service: pulumi.Output<KmsService>;
    /** KMS base URL of the instance. */
    readonly kmsEndpoint: pulumi.Output<string>;

    /** The children, for `dependsOn` and for reading their other outputs. */
    readonly serviceIdResource: ServiceId;
    /** The API key resource (its `rotationTrigger`, `locked`, `expiresAt`…). */
    readonly apiKeyResource: ServiceApiKey;
    /** The access policy resource granting `roles` on the instance. */
    readonly policy: AccessPolicy;
    /** The propagation gate; undefined when `waitForAccess.timeoutSeconds` is 0. */
    readonly accessReady: KmsAccessReady | undefined;

    private readonly explicitSettings: ExplicitCloudSettings;
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
        const { ServiceId, ServiceApiKey, AccessPolicy, KmsAccessReady } = this.childClasses();
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
        this.serviceIdResource = new ServiceId(`${name}-serviceid`, { name: args.serviceIdName ?? name, description }, child);
        // The resource id (= ServiceId-…) stays known while the service ID is being updated, its outputs
        // do not: passing the id keeps a preview of a rename from announcing a key and policy replacement.
        this.apiKeyResource = new ServiceApiKey(
            `${name}-apikey`,
            {
                serviceId: this.serviceIdResource.id,
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
                serviceId: this.serviceIdResource.id,
                roles: args.roles ?? ["Reader"],
                resource: { serviceName: this.service, serviceInstance: this.instanceId },
                description: pulumi.interpolate`KMS access of ${name}`,
            },
            child,
        );

        const rawKey = pulumi.secret(this.apiKeyResource.apikey);
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
                { parent: this, dependsOn: [this.policy, this.apiKeyResource] },
            );
            // Anything using the key (in this stack or, through its output, in another) waits for the gate.
            this.apiKey = pulumi.secret(pulumi.all([rawKey, this.accessReady.readyAt]).apply(([key]) => key));
        } else {
            this.accessReady = undefined;
            this.apiKey = rawKey;
        }
        this.serviceId = this.serviceIdResource.serviceId;
        this.iamId = this.serviceIdResource.iamId;
        this.apiKeyId = this.apiKeyResource.apiKeyId;
        this.policyId = this.policy.policyId;

        this.registerOutputs({
            serviceId: this.serviceId,
            iamId: this.iamId,
            apiKeyId: this.apiKeyId,
            apiKey: this.apiKey,
            policyId: this.policyId,
            instanceId: this.instanceId,
            kmsEndpoint: this.kmsEndpoint,
        });
    }

    /**
     * A valid IAM access token of the service ID (secret), minted with `apiKey` through the token
     * manager: cached and refreshed, so several uses in one program share one token. It is valid about
     * an hour; prefer `getAccessTokenInfo()` when it leaves the program (it carries the expiration).
     */
    getAccessToken(): pulumi.Output<string> {
        return pulumi.secret(this.apiKey.apply((key) => this.tokensFor(key).getAccessToken()));
    }

    /** `{ accessToken, expiration }` (secret): a token fit for stack outputs, with its expiry in epoch seconds. */
    getAccessTokenInfo(): pulumi.Output<AccessTokenInfoOutput> {
        return pulumi.secret(
            this.apiKey.apply(async (key) => {
                const info = await this.tokensFor(key).getTokenInfo();
                return { accessToken: info.accessToken, expiration: info.expiration };
            }),
        );
    }

    /** `{ Authorization: "Bearer …", "bluemix-instance": instanceId }` (secret) for the KMS keys API. */
    authHeaders(): pulumi.Output<{ Authorization: string; "bluemix-instance": string }> {
        return pulumi.secret(pulumi.all([this.apiKey, this.instanceId]).apply(([key, instanceId]) => this.tokensFor(key).authHeaders(instanceId)));
    }

    /**
     * A `KmsKey` in this instance created and managed AS this service ID (it needs `roles` with `Writer`
     * or `Manager`), after the access gate. Its parent is this component unless `opts.parent` says otherwise.
     */
    createKey(name: string, args: KmsAccessKeyArgs, opts?: pulumi.CustomResourceOptions): KmsKey {
        return new KmsKey(name, { ...args, ...this.instanceInputs() }, this.afterGate(opts));
    }

    /**
     * A `KmsKeyRing` in this instance created and managed AS this service ID (it needs `roles` with
     * `Manager`), after the access gate. Put keys in it with `createKey(…, { keyRing: ring.keyRingId })`.
     */
    createKeyRing(name: string, args: KmsAccessKeyRingArgs, opts?: pulumi.CustomResourceOptions): KmsKeyRing {
        return new KmsKeyRing(name, { ...args, ...this.instanceInputs() }, this.afterGate(opts));
    }

    private instanceInputs() {
        return { instanceId: this.instanceId, service: this.service, endpoint: this.kmsEndpoint, apiKey: this.apiKey };
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
            serviceIdName: nameField("service ID", MAX_SERVICE_ID_NAME),
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
    // The service ID takes the component's name unless serviceIdName says otherwise: the same limits apply.
    if (view.serviceIdName === undefined) view.serviceIdName = name;
    const crnFailures: CheckFailure[] = [];
    if (view.instance !== null && typeof view.instance === "object" && !Array.isArray(view.instance)) {
        const fromCrn = applyInstanceCrn(view.instance as Record<string, unknown>, "crn", "instance.");
        crnFailures.push(...fromCrn.failures);
        if (fromCrn.failures.length === 0) view.instance = fromCrn.fields;
    }
    if (crnFailures.length > 0) return crnFailures;
    const r = validate(kmsAccessArgsSchema(), view);
    const failures = r.ok ? [] : [...r.failures];
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
