// ServiceApiKey: an API key of a service ID: the credential an application uses. Replaces Terraform's
// `ibm_iam_service_api_key`, and adds rotation without a gap (`rotationTrigger` creates the new key
// before the old one is deleted), lock/unlock and disable/enable after creation, If-Match updates that
// never overwrite a change made elsewhere, and an `ibmcloud`-style key file written 0600 from the start.
// The value is a secret output; it never appears in an error or a log.
import type * as pulumi from "@pulumi/pulumi";
import { Resource as DynamicResource } from "@pulumi/pulumi/dynamic";
import { z } from "zod";
import { CloudSession } from "./core/session";
import { IbmCloudError, isNotFound } from "../client/errors";
import { ActionWhenLeaked, ApiKey, newApiKeyValue, serviceIamId, UpdateApiKeyBody } from "../client/iamClient";
import { formatIbmDateTime, parseIbmDateTime } from "./check/dateTime";
import { descriptionField, expiresAtField, nameField } from "./check/fields";
import { CheckFailure, schemaOnce, validate } from "./check/validate";
import { refuseBadArguments } from "./check/argumentCheck";
import { finishCheck } from "./check/failures";
import { differs } from "./core/diff";
import { compact, containsUnknown, withoutProvider } from "./core/props";
import { providerForDeployment } from "./dynamicProvider";
import { deleteLockable, iamEntity, updateLockable } from "./identity/lockableEntity";
import { keyFileOf, keyFilePath, removeKeyFileIfOurs, writeKeyFile } from "./identity/apiKeyFile";
import { OutputsOf, resourceOptions, resourceProps, resourceShape } from "./core/resourceShape";
import { recoveryValueOf, withoutRecoveryNonce, withRecoveryNonce } from "./core/recoveryMark";
import { journaled } from "./core/createJournal";

// ---------- arguments ----------

export interface ServiceApiKeyArgs {
    /**
     * The service ID owning the key: `ServiceId-…` or its IAM ID `iam-ServiceId-…`. Pass the ServiceId resource's `id`
     * (`app.id`): it stays known while a preview plans an update of the service ID, whereas its `serviceId` output is
     * unknown then and the preview would have to show this key as replaced. Changing it replaces the key. Terraform: `iam_service_id`.
     */
    serviceId: pulumi.Input<string>;
    /** Display name (1–1000 characters). Terraform: `name`. Updatable in place. */
    name: pulumi.Input<string>;
    /** Free text (up to 1000 characters); omitting it clears it. Terraform: `description`. */
    description?: pulumi.Input<string>;
    /** When the key stops working: a future date-time such as `2030-01-31T12:00+0000` or `2030-01-31T12:00:00Z` (minute precision). Omitting it clears it. Terraform: `expires_at`. */
    expiresAt?: pulumi.Input<string>;
    /** What IBM does when the key is found leaked: `none`, `disable` or `delete`. Omitted: IBM's default, not managed. Terraform: `action_when_leaked`. */
    actionWhenLeaked?: pulumi.Input<ActionWhenLeaked>;
    /** Allow the key to be used to create CLI sessions (default false). Terraform: `support_sessions`. */
    supportSessions?: pulumi.Input<boolean>;
    /** Locked keys refuse changes and deletion until unlocked (default false); toggled in place. Terraform: `locked` (create only). */
    locked?: pulumi.Input<boolean>;
    /** A disabled key cannot be exchanged for a token (default false); toggled in place. */
    disabled?: pulumi.Input<boolean>;
    /** IBM keeps the value so it can be read again later (default false). Changing it replaces the key. Terraform: `store_value`. */
    storeValue?: pulumi.Input<boolean>;
    /** Bring your own value (at least 32 characters, no whitespace); otherwise the provider generates one like IBM's (44 random characters). Kept secret. Changing it replaces the key. Terraform: `apikey`. */
    apikey?: pulumi.Input<string>;
    /** Any value; changing it rotates the key: the new key is created before the old one is deleted. */
    rotationTrigger?: pulumi.Input<string | number>;
    /**
     * Write the key to this file like `ibmcloud iam service-api-key-create --file` (JSON `{name,
     * description, apikey, createdAt, locked, uuid}`, mode 0600). Removed on delete if it still holds
     * this key. Relative paths are relative to the program directory, `~/` is the home directory. Terraform: `file`.
     */
    outputFile?: pulumi.Input<string>;
}

// ---------- outputs (plain values, as stored in state) ----------

export interface ServiceApiKeyOutputs {
    /** `ApiKey-<uuid>` (also the resource id). */
    apiKeyId: string;
    /** The key value (secret). Absent when adopted with `get` unless IBM stores it (`storeValue`). */
    apikey?: string;
    /** IAM ID of the owning service ID (`iam-ServiceId-…`). */
    iamId: string;
    /** The owning service ID (`ServiceId-…`). */
    serviceId: string;
    /** The API key's CRN (`crn:v1:bluemix:public:iam-identity::a/<account>::apikey:ApiKey-…`). */
    crn: string;
    /** The account the key belongs to. */
    accountId: string;
    /** IBM's entity tag when last read; sent with If-Match on update. */
    entityTag: string;
    /** When IAM created the current key (ISO 8601); a rotation makes a new one. */
    createdAt: string;
    /** When IAM last changed it (ISO 8601). */
    modifiedAt: string;
    name: string;
    description: string;
    expiresAt?: string;
    actionWhenLeaked: string;
    supportSessions: boolean;
    locked: boolean;
    disabled: boolean;
    storeValue: boolean;
    rotationTrigger?: string | number;
    outputFile?: string;
}

/** Checked inputs (defaults applied). */
export interface ServiceApiKeyInputs {
    serviceId: string;
    name: string;
    description: string;
    expiresAt?: string;
    actionWhenLeaked?: ActionWhenLeaked;
    supportSessions: boolean;
    locked: boolean;
    disabled: boolean;
    storeValue: boolean;
    apikey?: string;
    rotationTrigger?: string | number;
    outputFile?: string;
    /** Added by the provider's `check` (never by the user): what finds this create again after a crash. */
    recoveryNonce?: string;
}

// ---------- validation ----------

/** `expiresAt` is judged "in the future" only when it is being set or changed: an unchanged date that
 * has since passed must not block every later `pulumi up`. */
function serviceApiKeySchema(expiresAtUnchanged: boolean) {
    const expiresAt = expiresAtField(!expiresAtUnchanged);
    return z
        .object({
            serviceId: z.string({ error: "serviceId must be a string" }).regex(/^(iam-)?ServiceId-[A-Za-z0-9-]+$/, {
                error: "serviceId must be a service ID such as ServiceId-<uuid> or its IAM ID iam-ServiceId-<uuid>; pass the serviceId (or iamId) output of a ServiceId",
            }),
            name: nameField("API key"),
            description: descriptionField().optional(),
            expiresAt: expiresAt.optional(),
            actionWhenLeaked: z.enum(["none", "disable", "delete"], { error: "actionWhenLeaked must be one of none, disable, delete" }).optional(),
            supportSessions: z.boolean({ error: "supportSessions must be true or false" }).optional(),
            locked: z.boolean({ error: "locked must be true or false" }).optional(),
            disabled: z.boolean({ error: "disabled must be true or false" }).optional(),
            storeValue: z.boolean({ error: "storeValue must be true or false" }).optional(),
            // Messages never echo the value.
            apikey: z
                .string({ error: "apikey must be a string" })
                .min(32, { error: "apikey must be at least 32 characters; give a longer value, or omit apikey to have one generated" })
                .max(128, { error: "apikey must be at most 128 characters" })
                .regex(/^\S+$/, { error: "apikey must not contain whitespace" })
                .optional(),
            rotationTrigger: z.union([z.string(), z.number()], { error: "rotationTrigger must be a string or a number" }).optional(),
            outputFile: z
                .string({ error: "outputFile must be a file path" })
                .min(1, { error: "outputFile must not be empty; give a path such as ./app-apikey.json, or omit it" })
                .refine((v) => !v.includes("\0"), { error: "outputFile must not contain a NUL character" })
                .optional(),
        })
        .strict();
}

// ---------- helpers ----------

function serviceIdOf(iamId: string): string {
    return iamId.startsWith("iam-") ? iamId.slice(4) : iamId;
}

/** Same instant at IBM's minute precision (both absent counts as the same). */
function sameExpiry(a: string | undefined, b: string | undefined): boolean {
    if (a === undefined || b === undefined || a === "" || b === "") return (a ?? "") === (b ?? "");
    const x = parseIbmDateTime(a);
    const y = parseIbmDateTime(b);
    if (x === undefined || y === undefined) return a === b;
    return formatIbmDateTime(x) === formatIbmDateTime(y);
}

/** IBM's wire form of an accepted `expiresAt`. */
function ibmExpiry(v: string): string {
    const ms = parseIbmDateTime(v);
    return ms === undefined ? v : formatIbmDateTime(ms);
}

interface LocalFields {
    apikey?: string;
    /** What the user wrote, kept when IBM holds the same minute (no perpetual diff from formatting). */
    expiresAt?: string;
    storeValue: boolean;
    rotationTrigger?: string | number;
    outputFile?: string;
}

function keyOutputs(k: ApiKey, local: LocalFields): ServiceApiKeyOutputs {
    const liveExpiry = typeof k.expires_at === "string" && k.expires_at !== "" ? k.expires_at : undefined;
    return compact({
        apiKeyId: k.id,
        apikey: k.apikey ?? local.apikey,
        iamId: k.iam_id,
        serviceId: serviceIdOf(k.iam_id),
        crn: k.crn,
        accountId: k.account_id,
        entityTag: k.entity_tag,
        createdAt: k.created_at ?? "",
        modifiedAt: k.modified_at ?? "",
        name: k.name,
        description: k.description ?? "",
        expiresAt: liveExpiry !== undefined && local.expiresAt !== undefined && sameExpiry(local.expiresAt, liveExpiry) ? local.expiresAt : liveExpiry,
        actionWhenLeaked: k.action_when_leaked ?? "none",
        supportSessions: k.support_sessions ?? false,
        locked: k.locked,
        disabled: k.disabled ?? false,
        storeValue: local.storeValue,
        rotationTrigger: local.rotationTrigger,
        outputFile: local.outputFile,
    });
}

/**
 * ServiceApiKey's check, pure: the provider runs it, and the constructor on the arguments known then.
 * `unchangedExpiry`: an expiresAt the stack already had is not judged for being in the future (it may
 * have passed since; the constructor, which cannot know, never judges it).
 */
export function checkServiceApiKeyInputs(news: unknown, unchangedExpiry: boolean): { inputs: ServiceApiKeyInputs; failures: CheckFailure[] } {
    const raw = withoutProvider((withoutRecoveryNonce(news) ?? {}) as Record<string, unknown>);
    const r = validate(
        schemaOnce(`ServiceApiKey:${unchangedExpiry}`, () => serviceApiKeySchema(unchangedExpiry)),
        raw,
    );
    if (!r.ok) return { inputs: raw as unknown as ServiceApiKeyInputs, failures: r.failures };
    const v = r.value as Partial<ServiceApiKeyInputs>;
    return {
        inputs: compact({
            serviceId: v.serviceId as string,
            name: v.name as string,
            description: v.description ?? "",
            expiresAt: v.expiresAt,
            actionWhenLeaked: v.actionWhenLeaked,
            supportSessions: v.supportSessions ?? false,
            locked: v.locked ?? false,
            disabled: v.disabled ?? false,
            storeValue: v.storeValue ?? false,
            apikey: v.apikey,
            rotationTrigger: v.rotationTrigger,
            outputFile: v.outputFile,
        }),
        failures: [],
    };
}

// ---------- provider ----------

class ServiceApiKeyProvider implements pulumi.dynamic.ResourceProvider<ServiceApiKeyInputs, ServiceApiKeyOutputs> {
    private readonly session = new CloudSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
    }

    async check(oldInputs: unknown, news: unknown): Promise<pulumi.dynamic.CheckResult<ServiceApiKeyInputs>> {
        const raw = withoutProvider((news ?? {}) as Record<string, unknown>);
        const unchangedExpiry = typeof raw.expiresAt === "string" && raw.expiresAt === (oldInputs as { expiresAt?: unknown } | undefined)?.expiresAt;
        const checked = checkServiceApiKeyInputs(news, unchangedExpiry);
        if (checked.failures.length === 0) checked.inputs = withRecoveryNonce(checked.inputs);
        return finishCheck(checked, this.session.credentialFailures());
    }

    async diff(_id: string, olds: Partial<ServiceApiKeyOutputs>, news: ServiceApiKeyInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces: string[] = [];
        if (containsUnknown(news.serviceId) || serviceIamId(String(olds.serviceId ?? olds.iamId ?? "")) !== serviceIamId(String(news.serviceId))) {
            replaces.push("serviceId");
        }
        // A bring-your-own value that differs from the key's value; dropping it keeps the key.
        if (news.apikey !== undefined && differs(olds.apikey, news.apikey)) replaces.push("apikey");
        if (differs(olds.storeValue ?? false, news.storeValue ?? false)) replaces.push("storeValue");
        const trigger = (v: unknown) => (v === undefined || v === null ? null : containsUnknown(v) ? v : String(v));
        if (differs(trigger(olds.rotationTrigger), trigger(news.rotationTrigger))) replaces.push("rotationTrigger");

        const updates =
            differs(olds.name, news.name) ||
            differs(olds.description ?? "", news.description ?? "") ||
            containsUnknown(news.expiresAt) ||
            !sameExpiry(olds.expiresAt, news.expiresAt) ||
            (news.actionWhenLeaked !== undefined && differs(olds.actionWhenLeaked, news.actionWhenLeaked)) ||
            differs(olds.supportSessions ?? false, news.supportSessions ?? false) ||
            differs(olds.locked ?? false, news.locked ?? false) ||
            differs(olds.disabled ?? false, news.disabled ?? false) ||
            differs(olds.outputFile ?? null, news.outputFile ?? null);
        return {
            changes: replaces.length > 0 || updates,
            replaces,
            // Two keys can coexist (so rotation has no gap), except when the same bring-your-own value
            // moves to the new key: IBM refuses a value that is in use.
            deleteBeforeReplace: replaces.length > 0 && typeof news.apikey === "string" && news.apikey === olds.apikey,
        };
    }

    async create(inputs: ServiceApiKeyInputs): Promise<pulumi.dynamic.CreateResult<ServiceApiKeyOutputs>> {
        // Journaled without its value (the journal holds no secret): a derived value is found again from the journaled
        // nonce; a value the user gave only by the id IBM answers with.
        return journaled(
            "ServiceApiKey",
            inputs,
            this.session.deployerApiKey(),
            () => this.createKey(inputs).catch((err) => this.explainValueInUse(err, inputs)),
            (r) => r.id,
        );
    }

    /**
     * IBM refuses a value already in use (409) without saying by which key. With a value the user gave, that key may be
     * one an interrupted create of this very resource left: the error names it (never the value) and what to do.
     */
    private async explainValueInUse(err: unknown, inputs: ServiceApiKeyInputs): Promise<never> {
        if (!(err instanceof IbmCloudError) || err.status !== 409 || typeof inputs.apikey !== "string") throw err;
        const holder = await this.session
            .iam()
            .findApiKeyByValue(inputs.apikey)
            .catch(() => undefined);
        if (!holder) throw err;
        throw Object.assign(
            new Error(
                `${err.message}: the value is API key ${holder.id} (named ${JSON.stringify(holder.name)}) of ${holder.iam_id}. ` +
                    "If no stack tracks that key (`pulumi stack --show-ids`), an interrupted create left it: delete it " +
                    `(\`ibmcloud iam service-api-key-delete ${holder.id} ${holder.iam_id.replace(/^iam-/, "")}\`, unlocking it first if it is locked) and run \`pulumi up\` again; ` +
                    "otherwise give this resource a value of its own",
            ),
            { status: err.status },
        );
    }

    private async createKey(inputs: ServiceApiKeyInputs): Promise<pulumi.dynamic.CreateResult<ServiceApiKeyOutputs>> {
        const iam = this.session.iam();
        const key = await iam.createApiKey(
            compact({
                name: inputs.name,
                iam_id: serviceIamId(inputs.serviceId),
                description: inputs.description ? inputs.description : undefined,
                // Chosen here rather than by IBM so a create whose answer is lost is found again by its value: in this
                // process by the value itself, after a crash by the journaled nonce it is derived from.
                apikey: inputs.apikey ?? recoveryValueOf(this.session.deployerApiKey(), inputs) ?? newApiKeyValue(),
                store_value: inputs.storeValue === true ? true : undefined,
                support_sessions: inputs.supportSessions === true,
                action_when_leaked: inputs.actionWhenLeaked,
                expires_at: inputs.expiresAt ? ibmExpiry(inputs.expiresAt) : undefined,
            }),
            { locked: inputs.locked === true, disabled: inputs.disabled === true },
        );
        const outs = keyOutputs(key, {
            apikey: key.apikey ?? inputs.apikey,
            expiresAt: inputs.expiresAt,
            storeValue: inputs.storeValue === true,
            rotationTrigger: inputs.rotationTrigger,
            outputFile: inputs.outputFile,
        });
        if (inputs.outputFile) {
            try {
                writeKeyFile(inputs.outputFile, keyFileOf(outs, outs.apikey ?? ""));
            } catch (err) {
                // A key nobody received is a liability: take it back.
                try {
                    if (key.locked) await iam.unlockApiKey(key.id);
                    await iam.deleteApiKey(key.id);
                } catch {
                    throw Object.assign(
                        new Error(
                            `${(err as Error).message}; the API key ${key.id} was created but could not be deleted again, so it is kept in state: fix outputFile and run \`pulumi up\``,
                        ),
                        { id: key.id, properties: outs, reasons: [(err as Error).message] },
                    );
                }
                throw new Error(`${(err as Error).message}; the API key was deleted again`);
            }
        }
        return { id: key.id, outs };
    }

    async read(id: string, props?: Partial<ServiceApiKeyOutputs>): Promise<pulumi.dynamic.ReadResult<ServiceApiKeyOutputs>> {
        let live: ApiKey;
        const iam = this.session.iam();
        // This plugin may never have seen the value: teach the client to scrub it from any error.
        if (props?.apikey) iam.http.addSecret(props.apikey);
        try {
            live = await iam.getApiKey(id);
        } catch (err) {
            if (isNotFound(err)) return { id: "" };
            throw err;
        }
        if (!live.iam_id.startsWith("iam-ServiceId-") && !live.iam_id.startsWith("ServiceId-")) {
            throw new Error(`API key ${id} belongs to ${live.iam_id}, not to a service ID; ServiceApiKey manages service-ID keys only`);
        }
        const p = props ?? {};
        const outs = keyOutputs(live, {
            // IBM returns the value only with store_value; otherwise state keeps the one from create.
            apikey: live.apikey ?? p.apikey,
            expiresAt: p.expiresAt,
            storeValue: p.storeValue ?? live.apikey !== undefined,
            rotationTrigger: p.rotationTrigger,
            outputFile: p.outputFile,
        });
        const inputs: ServiceApiKeyInputs = compact({
            serviceId: outs.serviceId,
            name: outs.name,
            description: outs.description,
            expiresAt: outs.expiresAt,
            actionWhenLeaked: outs.actionWhenLeaked as ActionWhenLeaked,
            supportSessions: outs.supportSessions,
            locked: outs.locked,
            disabled: outs.disabled,
            storeValue: outs.storeValue,
            rotationTrigger: outs.rotationTrigger,
            outputFile: outs.outputFile,
        });
        return { id: live.id, props: outs, inputs: inputs as unknown as ServiceApiKeyOutputs };
    }

    async update(id: string, olds: ServiceApiKeyOutputs, news: ServiceApiKeyInputs): Promise<pulumi.dynamic.UpdateResult<ServiceApiKeyOutputs>> {
        const iam = this.session.iam();
        if (olds.apikey) iam.http.addSecret(olds.apikey);
        const local: LocalFields = {
            apikey: olds.apikey,
            expiresAt: news.expiresAt,
            storeValue: olds.storeValue === true,
            rotationTrigger: news.rotationTrigger,
            outputFile: news.outputFile,
        };

        // The local file first: it is the step most likely to fail, and repeating it is harmless.
        if ((news.outputFile ?? null) !== (olds.outputFile ?? null)) {
            if (news.outputFile) {
                if (!olds.apikey) {
                    throw new Error(
                        `outputFile: the value of API key ${id} is not known (adopted without storeValue), so it cannot be written; change rotationTrigger to create a new key`,
                    );
                }
                writeKeyFile(
                    news.outputFile,
                    keyFileOf({ apiKeyId: id, name: news.name, description: news.description, createdAt: olds.createdAt, locked: news.locked }, olds.apikey),
                );
            }
            if (olds.outputFile && (!news.outputFile || keyFilePath(olds.outputFile) !== keyFilePath(news.outputFile))) {
                removeKeyFileIfOurs(olds.outputFile, id);
            }
        }

        const body: UpdateApiKeyBody = {};
        if (news.name !== olds.name) body.name = news.name;
        if ((news.description ?? "") !== (olds.description ?? "")) body.description = news.description ?? "";
        // "" clears an expiry.
        if (!sameExpiry(olds.expiresAt, news.expiresAt)) body.expires_at = news.expiresAt ? ibmExpiry(news.expiresAt) : "";
        if (news.actionWhenLeaked !== undefined && news.actionWhenLeaked !== olds.actionWhenLeaked) body.action_when_leaked = news.actionWhenLeaked;
        if ((news.supportSessions ?? false) !== (olds.supportSessions ?? false)) body.support_sessions = news.supportSessions === true;

        const wantDisabled = news.disabled === true;
        const outs = await updateLockable(
            iamEntity(iam, "API key", id),
            olds,
            {
                write: Object.keys(body).length > 0 ? (etag) => iam.updateApiKey(id, etag, body) : undefined,
                toggles: wantDisabled !== (olds.disabled === true) ? [() => (wantDisabled ? iam.disableApiKey(id) : iam.enableApiKey(id))] : [],
                wantLocked: news.locked === true,
            },
            (live) => keyOutputs(live, local),
        );
        return { outs };
    }

    async delete(id: string, props: Partial<ServiceApiKeyOutputs>): Promise<void> {
        const iam = this.session.iam();
        if (props?.apikey) iam.http.addSecret(props.apikey);
        await deleteLockable(iamEntity(iam, "API key", id), props ?? {});
        if (props?.outputFile) removeKeyFileIfOurs(props.outputFile, id);
    }
}

/** The one provider object for ServiceApiKey (serialized by identity; tests drive it through the plugin). */
export const serviceApiKeyProvider = new ServiceApiKeyProvider();

// ---------- resource ----------

/** ServiceApiKey's type name and outputs: the props its constructor hands to Pulumi are derived from them. */
const SERVICE_API_KEY = resourceShape<ServiceApiKeyOutputs>(
    "ServiceApiKey",
    {
        apiKeyId: true,
        apikey: true,
        iamId: true,
        serviceId: true,
        crn: true,
        accountId: true,
        entityTag: true,
        createdAt: true,
        modifiedAt: true,
        name: true,
        description: true,
        expiresAt: true,
        actionWhenLeaked: true,
        supportSessions: true,
        locked: true,
        disabled: true,
        storeValue: true,
        rotationTrigger: true,
        outputFile: true,
    },
    ["apikey"],
);

/** An API key of an IBM Cloud IAM service ID. The value (`apikey`) is a secret output. */
export class ServiceApiKey extends DynamicResource implements OutputsOf<ServiceApiKeyOutputs> {
    /** `ApiKey-<uuid>` (also `id`). */
    declare readonly apiKeyId: pulumi.Output<string>;
    /** The key value: secret. Undefined for a key adopted with `get` whose value IBM does not store. */
    declare readonly apikey: pulumi.Output<string>;
    declare readonly iamId: pulumi.Output<string>;
    declare readonly serviceId: pulumi.Output<string>;
    declare readonly crn: pulumi.Output<string>;
    declare readonly accountId: pulumi.Output<string>;
    declare readonly entityTag: pulumi.Output<string>;
    declare readonly createdAt: pulumi.Output<string>;
    declare readonly modifiedAt: pulumi.Output<string>;
    declare readonly name: pulumi.Output<string>;
    declare readonly description: pulumi.Output<string>;
    declare readonly expiresAt: pulumi.Output<string | undefined>;
    declare readonly actionWhenLeaked: pulumi.Output<string>;
    declare readonly supportSessions: pulumi.Output<boolean>;
    declare readonly locked: pulumi.Output<boolean>;
    declare readonly disabled: pulumi.Output<boolean>;
    declare readonly storeValue: pulumi.Output<boolean>;
    declare readonly rotationTrigger: pulumi.Output<string | number | undefined>;
    declare readonly outputFile: pulumi.Output<string | undefined>;

    constructor(name: string, args: ServiceApiKeyArgs, opts?: pulumi.CustomResourceOptions) {
        refuseBadArguments("ServiceApiKey", name, args, opts, (inputs) => checkServiceApiKeyInputs(inputs, true).failures);
        super(
            providerForDeployment(serviceApiKeyProvider),
            name,
            resourceProps(SERVICE_API_KEY, args),
            resourceOptions(SERVICE_API_KEY, opts),
            "ibmcloud-iam",
            SERVICE_API_KEY.type,
        );
    }

    /** Adopts an existing service-ID API key by its `ApiKey-…` id (the engine reads it; nothing is created). */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): ServiceApiKey {
        return new ServiceApiKey(name, undefined as unknown as ServiceApiKeyArgs, { ...opts, id });
    }
}
