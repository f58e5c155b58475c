// A KMS key (HPCS `hs-crypto` or Key Protect `kms`) created and managed AS a service ID: every call
// authenticates with the service ID's API key given as the secret input `apiKey`, so the key's
// `createdBy` is the application's identity and the key can only be managed while that identity holds
// an access policy on the instance. The deployer's credentials (stack config via configure()) are
// only a fallback for refresh and destroy when the stored key was rotated or deleted outside Pulumi.
import type * as pulumi from "@pulumi/pulumi";
import { Resource as DynamicResource } from "@pulumi/pulumi/dynamic";
import { z } from "zod";
import { KmsService } from "../client/config";
import { appendErrorNote, isNotFound } from "../client/errors";
import { KmsClient, KmsKeyPolicies, KmsKeyResource } from "../client/kmsClient";
import { IamTokenManager } from "../client/tokenManager";
import { CloudSession } from "./core/session";
import { asServiceId, credentialOf, deployerTokensOf, explainKmsRefusal, journaledKmsCreate } from "./kms/asServiceId";
import { KmsInstance } from "./kms/endpoint";
import {
    checkKmsResource,
    DEFAULT_KMS_SERVICE,
    keyRingIdField,
    kmsApiKeyField,
    kmsServiceField,
    KmsInstanceFieldArgs,
    kmsInstanceShape,
    instanceInputsOf,
} from "./kms/instance";
import { KmsSession } from "./kms/session";
import { dateTimeField, descriptionField } from "./check/fields";
import { schemaOnce } from "./check/validate";
import { compact, UNKNOWN } from "./core/props";
import { providerForDeployment } from "./dynamicProvider";
import { refuseBadArguments } from "./check/argumentCheck";
import { finishCheck } from "./check/failures";
import { aliasChanges, diffKmsKey, policiesToSet, rotatesOnUpdate } from "./kms/keyDiff";
import { OutputsOf, resourceOptions, resourceProps, resourceShape } from "./core/resourceShape";
import type { KmsKeyInputs, KmsKeyOutputs } from "./kms/keyState";

// The state shapes live beside the key's diff rules that read them; they are part of this module's API.
export type { KmsKeyInputs, KmsKeyOutputs } from "./kms/keyState";

// ---------- arguments ----------

export interface KmsKeyArgs extends KmsInstanceFieldArgs {
    /** Key name, 2–90 characters. KMS cannot rename keys: changing it replaces the key. */
    name: pulumi.Input<string>;
    /** Up to 240 characters. KMS cannot change it: changing it replaces the key. */
    description?: pulumi.Input<string>;
    /**
     * Key ring (`x-kms-key-ring`), default `default`. The ring must exist (IBM refuses a key in a ring
     * that does not): pass a `KmsKeyRing`'s `keyRingId`. Changing it replaces the key.
     */
    keyRing?: pulumi.Input<string>;
    /** RFC 3339 date-time after which the key expires (in the future when created). Changing it replaces the key. */
    expirationDate?: pulumi.Input<string>;
    /** `root` (default: not extractable, wraps other keys) or `standard` (extractable). Changing it replaces the key. */
    type?: pulumi.Input<"root" | "standard">;
    /**
     * Base64 key material to import instead of generating it (root: 16, 24 or 32 bytes; standard: up to
     * 7500 bytes). Kept secret. Changing it replaces the key.
     */
    payload?: pulumi.Input<string>;
    /**
     * Delete the key even when other services registered resources with it (`?force=true`; their data becomes
     * unreadable). Changes in place. It authorizes nothing: under dual authorization a second identity must still
     * call `setKeyForDeletion` before the destroy, and a retention policy blocks the delete even so.
     */
    force?: pulumi.Input<boolean>;
    /**
     * The key's rotation policy (root keys; Terraform `ibm_kms_key_policies` `rotation`): `enabled`
     * (default true) and `intervalMonth` 1–12. Set in place (needs Manager). Leaving it out later leaves
     * the policy as KMS holds it (KMS has no call to remove a key policy; set `enabled: false`).
     */
    rotation?: pulumi.Input<{ enabled?: pulumi.Input<boolean>; intervalMonth: pulumi.Input<number> }>;
    /**
     * Dual authorization delete (`ibm_kms_key_policies` `dual_auth_delete`): with it on, deleting the key
     * needs a second identity's `setKeyForDeletion` first. Set in place (needs Manager); left out = as KMS holds it.
     */
    dualAuthDelete?: pulumi.Input<{ enabled: pulumi.Input<boolean> }>;
    /**
     * Any value; a new value ROTATES the root key in place (the rotate action: a new key version, older
     * ciphertext still unwraps; needs Writer). Not used at create; removing it rotates nothing.
     * Not for imported keys (their rotation needs new material) nor standard keys.
     */
    rotationTrigger?: pulumi.Input<string | number>;
    /**
     * Other names of the key (up to 5, unique in the instance; 2–90 letters, digits, `-` or `_`, not a UUID),
     * usable wherever KMS takes a key id. Added and removed in place (needs Manager); an alias another key of
     * the instance holds is refused before anything is created. Left out: the aliases stay as KMS holds them.
     */
    aliases?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * `false` disables the root key in place (it stays, readable, but wraps and unwraps nothing: a way to find
     * what still uses a key before deleting it); `true` enables it again (IBM refuses that within 30 seconds
     * of a disable). Needs Manager. Left out: as KMS holds it.
     */
    enabled?: pulumi.Input<boolean>;
    /**
     * The SERVICE ID's API key (e.g. `ServiceApiKey.apikey` or `KmsAccess.apiKey`): the key is created,
     * read and deleted as that service ID. Always stored as a secret. A new value (rotation) is an
     * in-place update that only checks the new key can see the KMS key and stores it, so later refresh
     * and destroy use the current credential.
     *
     * Left out: the key is created and managed with the deployer's credentials (`ibmcloud:apiKey`, or the
     * trusted profile the deployer logs in as), e.g. for an application that runs on a trusted profile and holds no key.
     *
     * Replacing name, description, keyRing, expirationDate, type, payload, instanceId or service DELETES
     * the old key, and with it access to all data it wraps: consider `protect: true` on root keys.
     */
    apiKey?: pulumi.Input<string>;
}

// ---------- validation ----------

/** IBM's limit of aliases per key. */
const MAX_KEY_ALIASES = 5;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Words of KMS's own paths, which it does not take as aliases.
const RESERVED_ALIASES = new Set([
    "allowed_ip_port",
    "aliases",
    "instance",
    "keys",
    "metadata",
    "policies",
    "registrations",
    "rings",
    "versions",
    "wrap",
    "unwrap",
    "rewrap",
    "rotate",
    "restore",
    "import_token",
    "key_rings",
]);

function aliasField() {
    return z
        .string({ error: 'each alias must be a string such as "orders-root"' })
        .regex(/^[A-Za-z0-9_-]{2,90}$/, { error: 'an alias is 2 to 90 letters, digits, "-" or "_", e.g. "orders-root"' })
        .refine((v) => !UUID_PATTERN.test(v), { error: "an alias must not look like a key id (a UUID): KMS would read it as one" })
        .refine((v) => !RESERVED_ALIASES.has(v.toLowerCase()), { error: "this alias is a word of KMS's own paths: pick another" });
}

const BASE64_PATTERN = "^[A-Za-z0-9+/]+={0,2}$";

function kmsKeySchema(expirationMustBeFuture: boolean) {
    return z
        .object({
            ...kmsInstanceShape(),
            service: kmsServiceField().default(DEFAULT_KMS_SERVICE),
            // IBM's Key Protect docs ("Creating standard keys"): a key name is 2 to 90 characters, need not be unique.
            name: z
                .string({ error: "name must be a string" })
                .trim()
                .min(2, { error: 'name must be 2 to 90 characters; give the key a name such as "app-root-key"' })
                .max(90, { error: "name must be at most 90 characters (a KMS limit)" }),
            description: descriptionField(240).optional(),
            keyRing: keyRingIdField("keyRing", "default").optional(),
            // RFC 3339 as Key Protect documents expirationDate (and IBM's Terraform provider parses it with Go's time.RFC3339).
            expirationDate: dateTimeField("expirationDate", "rfc3339", expirationMustBeFuture).optional(),
            type: z.enum(["root", "standard"], { error: "type must be root (not extractable, the default) or standard (extractable)" }).default("root"),
            payload: z
                .string({ error: "payload must be base64 key material" })
                .refine((v) => new RegExp(BASE64_PATTERN).test(v) && v.length % 4 === 0, { error: "payload must be base64 (standard alphabet, padded)" })
                .optional(),
            force: z.boolean({ error: "force must be true or false" }).default(false),
            apiKey: kmsApiKeyField().optional(),
            rotation: z
                .object(
                    {
                        enabled: z.boolean({ error: "rotation.enabled must be true or false" }).default(true),
                        intervalMonth: z
                            .number({ error: "rotation.intervalMonth is required: a whole number of months from 1 to 12, e.g. { intervalMonth: 3 }" })
                            .int({ error: "rotation.intervalMonth must be a whole number of months (1 to 12)" })
                            .min(1, { error: "rotation.intervalMonth must be 1 to 12 months (a KMS limit)" })
                            .max(12, { error: "rotation.intervalMonth must be 1 to 12 months (a KMS limit)" }),
                    },
                    { error: "rotation must be an object such as { enabled: true, intervalMonth: 3 }" },
                )
                .strict()
                .optional(),
            dualAuthDelete: z
                .object(
                    { enabled: z.boolean({ error: "dualAuthDelete.enabled must be true or false" }) },
                    { error: "dualAuthDelete must be an object such as { enabled: true }" },
                )
                .strict()
                .optional(),
            rotationTrigger: z
                .union([z.string(), z.number()], { error: "rotationTrigger must be a string or a number (a new value rotates the key)" })
                .optional(),
            aliases: z
                .array(aliasField(), { error: 'aliases must be a list of names such as ["orders-root"]' })
                .max(MAX_KEY_ALIASES, { error: `a key has at most ${MAX_KEY_ALIASES} aliases (a KMS limit)` })
                // Values not known yet (preview) are judged when known.
                .refine(
                    (v) => {
                        const known = v.filter((a) => a !== UNKNOWN);
                        return new Set(known).size === known.length;
                    },
                    { error: "aliases must not repeat a name" },
                )
                .optional(),
            enabled: z.boolean({ error: "enabled must be true or false (false disables the key)" }).optional(),
        })
        .strict()
        .superRefine((v, ctx) => {
            if (v.type === "standard" && v.rotation !== undefined) {
                ctx.addIssue({ code: "custom", path: ["rotation"], message: "only root keys rotate: remove rotation, or make the key type root" });
            }
            if (v.type === "standard" && v.enabled === false) {
                ctx.addIssue({
                    code: "custom",
                    path: ["enabled"],
                    message: "only root keys can be disabled: remove enabled, or make the key type root",
                });
            }
            if (v.type === "standard" && v.rotationTrigger !== undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["rotationTrigger"],
                    message: "only root keys rotate: remove rotationTrigger, or make the key type root",
                });
            }
            if (v.rotationTrigger !== undefined && v.payload !== undefined && v.payload !== UNKNOWN && v.type === "root") {
                ctx.addIssue({
                    code: "custom",
                    path: ["rotationTrigger"],
                    message: "an imported root key rotates only with new material, which replaces it here: remove rotationTrigger and change payload instead",
                });
            }
            // A payload that is not base64 already has its failure: its "size" would mean nothing.
            if (v.payload === undefined || v.payload === UNKNOWN || !new RegExp(BASE64_PATTERN).test(v.payload) || v.payload.length % 4 !== 0) return;
            const bytes = Buffer.from(v.payload, "base64").length;
            if (v.type === "root" && ![16, 24, 32].includes(bytes)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["payload"],
                    message: `an imported root key must be 16, 24 or 32 bytes (128/192/256 bits); this payload has ${bytes}`,
                });
            }
            if (v.type === "standard" && (bytes < 1 || bytes > 7500)) {
                ctx.addIssue({ code: "custom", path: ["payload"], message: `a standard key payload must be 1 to 7500 bytes; this one has ${bytes}` });
            }
        });
}

// ---------- provider ----------

export class KmsKeyProvider implements pulumi.dynamic.ResourceProvider {
    // The deployer's client (a fallback for refresh and destroy); endpoints and the service ID's tokens.
    private readonly session = new CloudSession();
    private readonly connections = new KmsSession();

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.session.configure(req);
        this.connections.configure(req);
    }

    async check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
        // A new date (or a new key) must lie in the future; an unchanged one that has since passed must not fail every run.
        const judgeFuture = !olds || Object.keys(olds).length === 0 || olds.expirationDate !== news.expirationDate;
        return finishCheck(
            checkKmsResource(
                news,
                schemaOnce(`KmsKey:${judgeFuture}`, () => kmsKeySchema(judgeFuture)),
            ),
        );
    }

    async diff(_id: string, olds: KmsKeyOutputs, news: KmsKeyInputs): Promise<pulumi.dynamic.DiffResult> {
        const d = diffKmsKey(olds, news);
        return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: false };
    }

    async create(inputs: KmsKeyInputs): Promise<pulumi.dynamic.CreateResult<KmsKeyOutputs>> {
        const target = this.targetFor(inputs);
        const tokens = this.credentialOf(inputs.apiKey);
        return journaledKmsCreate("KmsKey", this.session, tokens, target, inputs, inputs.keyRing, () => this.createKey(inputs, target, tokens));
    }

    private async createKey(inputs: KmsKeyInputs, target: KmsInstance, tokens: IamTokenManager): Promise<pulumi.dynamic.CreateResult<KmsKeyOutputs>> {
        const client = this.connections.client(target, tokens);
        if (inputs.aliases !== undefined && inputs.aliases.length > 0) await this.refuseTakenAliases(client, inputs.aliases, tokens, target);
        let key: KmsKeyResource;
        try {
            key = await client.createKey(
                compact({
                    name: inputs.name,
                    description: inputs.description,
                    extractable: inputs.type === "standard",
                    expirationDate: inputs.expirationDate,
                    payload: inputs.payload,
                }),
            );
        } catch (err) {
            let e = await this.explain(err, tokens, target, "create keys (Writer or Manager)");
            if ((err as { code?: unknown }).code === "KEY_RING_NOT_FOUND_ERR") {
                e = appendErrorNote(
                    e,
                    `key ring "${inputs.keyRing}" does not exist in the instance: create it first with a KmsKeyRing and pass its keyRingId as keyRing`,
                );
            }
            throw e;
        }
        const outs = outputsOf(key, inputs, target, this.regionUsed(inputs), {}, true);
        const policies = policiesToSet({}, inputs);
        if (!policies) {
            // Policies the key took from the instance's (dual authorization, rotation): recorded now, or the
            // first refresh would report them as a change. Refresh reads them anyway, so a failure here is no error.
            Object.assign(outs, policyOutputs(await client.getKeyPolicies(key.id).catch(() => ({}))));
        }
        if (policies) {
            try {
                Object.assign(outs, policyOutputs(await client.setKeyPolicies(key.id, policies)));
            } catch (err) {
                // The key exists: record it without the policies, so the next `pulumi up` sets them (diff sees them missing).
                const e = await this.explain(
                    err,
                    tokens,
                    target,
                    "set key policies (Manager)",
                    `the key ${key.id} was created and is kept in state; run \`pulumi up\` again to set its policies`,
                );
                throw Object.assign(new Error(e.message), { id: key.id, properties: outs, reasons: [e.message] });
            }
        }
        if ((inputs.aliases ?? []).length > 0 || inputs.enabled === false) {
            try {
                for (const alias of inputs.aliases ?? []) await client.createKeyAlias(key.id, alias);
                if (inputs.enabled === false) await client.disableKey(key.id);
            } catch (err) {
                // The key exists: record what KMS holds, so the next `pulumi up` adds what is missing.
                Object.assign(outs, lifecycleOutputs(await client.getKeyMetadata(key.id).catch(() => key)));
                const e = await this.explain(
                    err,
                    tokens,
                    target,
                    "add aliases and disable keys (Manager)",
                    `the key ${key.id} was created and is kept in state; run \`pulumi up\` again to finish its aliases and state`,
                );
                throw Object.assign(new Error(e.message), { id: key.id, properties: outs, reasons: [e.message] });
            }
            const now = await client.getKeyMetadata(key.id);
            Object.assign(outs, lifecycleOutputs(now), { state: now.state });
        }
        return { id: key.id, outs };
    }

    /** Refuses, before anything is created, an alias that already names a key of the instance (aliases are unique in it). */
    private async refuseTakenAliases(client: KmsClient, aliases: readonly string[], tokens: IamTokenManager, target: KmsInstance): Promise<void> {
        for (const alias of aliases) {
            let holder: KmsKeyResource;
            try {
                holder = await client.getKeyMetadata(alias);
            } catch (err) {
                if (isNotFound(err)) continue;
                throw await this.explain(err, tokens, target, "read keys (Reader or more)", "nothing was created");
            }
            throw new Error(
                `alias "${alias}" already names key ${holder.id} in ${target.service} instance ${target.instanceId} (aliases are unique in an instance; ` +
                    `a deleted key keeps its aliases until it is purged): pick another alias, or remove it from that key first ` +
                    `(KmsClient.deleteKeyAlias("${holder.id}", "${alias}")); nothing was created`,
            );
        }
    }

    async read(id: string, props: Partial<KmsKeyOutputs> & { region?: string }): Promise<pulumi.dynamic.ReadResult> {
        const p = props ?? {};
        const inputs = inputsOf(p);
        const target = this.targetFromState(p);
        let key: KmsKeyResource;
        try {
            key = await this.asServiceId(p.apiKey, target, "refresh", (client) => client.getKeyMetadata(id));
        } catch (err) {
            if (isNotFound(err)) return { id: "" };
            throw err;
        }
        if (key.state === 5 || key.deleted === true) return { id: "" };
        // State written before key versions and policies were recorded stays as it was (refresh finds
        // no change); such a key gains them at its next update.
        const recordsVersions = Object.hasOwn(p, "keyVersion");
        let policies: KmsKeyPolicies = {};
        if (recordsVersions) policies = await this.asServiceId(p.apiKey, target, "refresh", (client) => client.getKeyPolicies(id));
        const outs = outputsOf(key, inputs, target, p.region ?? this.regionUsed(inputs), recordsVersions ? policies : undefined, Object.hasOwn(p, "enabled"));
        // Material imported by the program stays what state had (KMS never returns a root key's payload).
        if (p.payload !== undefined) outs.payload = p.payload;
        return { id, props: outs, inputs: inputsOf(outs) };
    }

    async update(id: string, olds: KmsKeyOutputs, news: KmsKeyInputs): Promise<pulumi.dynamic.UpdateResult<KmsKeyOutputs>> {
        // Only credential, force and endpoint change in place. The new credential must work before it
        // replaces the stored one, or a later destroy would be left with a key that cannot.
        // Neither endpoint nor region given: keep the endpoint derived at create.
        const target = this.connections.targetForUpdate(news, olds.endpoint, news.keyRing);
        const tokens = this.credentialOf(news.apiKey);
        let key: KmsKeyResource;
        try {
            key = await this.connections.client(target, tokens).getKeyMetadata(id);
        } catch (err) {
            if (isNotFound(err)) {
                throw new Error(
                    `KMS key ${id} no longer exists in instance ${target.instanceId} (deleted outside Pulumi); run \`pulumi refresh\` so Pulumi forgets it and creates a new one`,
                );
            }
            throw await this.explain(err, tokens, target, "read keys (Reader or more)", "the new apiKey was not stored; the previous one is kept in state");
        }
        if (key.state === 5 || key.deleted === true) {
            throw new Error(`KMS key ${id} was deleted outside Pulumi; run \`pulumi refresh\` so Pulumi forgets it and creates a new one`);
        }
        const client = this.connections.client(target, tokens);
        const region = news.region ?? (news.endpoint === undefined ? olds.region : undefined) ?? this.regionUsed(news);
        // Policies first (setting them again is harmless), the rotation last (a replay would rotate twice).
        let policies: KmsKeyPolicies;
        try {
            policies = await client.getKeyPolicies(id);
            const toSet = policiesToSet(policies, news);
            if (toSet) policies = { ...policies, ...(await client.setKeyPolicies(id, toSet)) };
        } catch (err) {
            throw await this.explain(
                err,
                tokens,
                target,
                "read and set key policies (Manager)",
                "the new apiKey was not stored; the previous one is kept in state",
            );
        }
        // Enabled before a rotation (a disabled key does not rotate), disabled after it; aliases removed before
        // they are added (a key holds at most five).
        const aliases = aliasChanges(aliasesOf(key), news.aliases);
        const lifecycleChanges = aliases.add.length + aliases.remove.length > 0 || (news.enabled !== undefined && news.enabled !== (key.state !== 2));
        let rotated = false;
        try {
            if (news.enabled === true && key.state === 2) await client.enableKey(id);
            for (const alias of aliases.remove) await client.deleteKeyAlias(id, alias);
            for (const alias of aliases.add) await client.createKeyAlias(id, alias);
            if (rotatesOnUpdate(olds, news)) {
                key = await client.rotate(id);
                rotated = true;
            }
            if (news.enabled === false && key.state !== 2) await client.disableKey(id);
        } catch (err) {
            // What KMS holds now (with the previous trigger unless rotated), so the next `pulumi up` finishes the rest.
            const now = await client.getKeyMetadata(id).catch(() => key);
            const outs = outputsOf(now, rotated ? news : { ...news, rotationTrigger: olds.rotationTrigger }, target, region, policies, true);
            if (news.payload !== undefined) outs.payload = news.payload;
            const rotating = !rotated && rotatesOnUpdate(olds, news) && !lifecycleChanges;
            let e = await this.explain(
                err,
                tokens,
                target,
                rotating ? "rotate keys (Writer or Manager)" : "rotate, enable or disable keys and change their aliases (Manager)",
                rotating ? "the key was not rotated; run `pulumi up` again to rotate it" : "the change was not finished; run `pulumi up` again to finish it",
            );
            const code = (err as { code?: unknown }).code;
            if (code === "REQ_TOO_EARLY_ERR")
                e = appendErrorNote(e, "IBM enables a key no sooner than 30 seconds after it was disabled: wait, then run `pulumi up` again");
            if (code === "KEY_ALIAS_NOT_UNIQUE_ERR")
                e = appendErrorNote(e, "an alias is unique in the instance: another key holds one of these; pick another alias");
            throw Object.assign(new Error(e.message), { id, properties: outs, reasons: [e.message] });
        }
        // The state and aliases KMS holds after the changes (a rotation's answer already has them otherwise).
        if (lifecycleChanges) key = await client.getKeyMetadata(id);
        const outs = outputsOf(key, news, target, region, policies, true);
        if (news.payload !== undefined) outs.payload = news.payload;
        return { outs };
    }

    async delete(id: string, props: KmsKeyOutputs): Promise<void> {
        const target = this.targetFromState(props);
        try {
            await this.asServiceId(props.apiKey, target, "destroy", (client) => client.deleteKey(id, { force: props.force === true }));
        } catch (err) {
            if (isNotFound(err)) return;
            const note = deleteRefusalNote(id, err, props.force === true);
            if (note) throw appendErrorNote(err, note);
            throw err;
        }
    }

    /**
     * For a recovery after a crash: the live keys of the instance a create of `inputs` would have made (same name,
     * type and description), with who made each (`recover` applies the adopt rule: docs/crash-recovery.md). Reads only.
     */
    async sameKeys(inputs: KmsKeyInputs): Promise<Array<{ id: string; createdBy?: string }>> {
        const client = this.connections.client(this.targetFor(inputs), this.credentialOf(inputs.apiKey));
        return (await client.listKeys())
            .filter(
                (k) =>
                    k.name === inputs.name &&
                    k.extractable === (inputs.type === "standard") &&
                    (k.description ?? "") === (inputs.description ?? "") &&
                    k.state !== 5 &&
                    k.deleted !== true,
            )
            .map((k) => ({ id: k.id, createdBy: k.createdBy }));
    }

    // ---------- credentials ----------

    /** The service ID of `apiKey`, or with none the deployer (the key is then created and managed as the deployer). */
    private credentialOf(apiKey: string | undefined): IamTokenManager {
        return credentialOf(this.connections, () => this.deployerTokens(), "KmsKey", apiKey);
    }

    private deployerTokens(): IamTokenManager | undefined {
        return deployerTokensOf(this.session);
    }

    private asServiceId<T>(apiKey: string | undefined, target: KmsInstance, what: "refresh" | "destroy", fn: (client: KmsClient) => Promise<T>): Promise<T> {
        return asServiceId(this.connections, () => this.deployerTokens(), "KmsKey", apiKey, target, what, fn);
    }

    private explain(err: unknown, tokens: IamTokenManager, target: KmsInstance, needs: string, extra?: string): Promise<Error> {
        return explainKmsRefusal(err, "KmsKey", tokens, target, needs, extra);
    }

    // ---------- endpoints ----------

    private targetFor(inputs: Partial<KmsKeyInputs>): KmsInstance {
        return this.connections.targetOf(inputs, inputs.keyRing);
    }

    private targetFromState(p: Partial<KmsKeyOutputs>): KmsInstance {
        return this.connections.targetFromState(p, p.keyRing);
    }

    private regionUsed(inputs: Partial<KmsKeyInputs>): string | undefined {
        return this.connections.regionUsed(inputs);
    }
}

/** The aliases KMS lists for a key. */
function aliasesOf(key: KmsKeyResource): string[] {
    return Array.isArray(key.aliases) ? key.aliases.filter((a): a is string => typeof a === "string") : [];
}

/** The aliases and enabled state as outputs. */
function lifecycleOutputs(key: KmsKeyResource): Pick<KmsKeyOutputs, "aliases" | "enabled"> {
    return { aliases: aliasesOf(key), enabled: key.state !== 2 };
}

/** The key policies as outputs (absent ones left out). */
function policyOutputs(p: KmsKeyPolicies): Pick<KmsKeyOutputs, "rotation" | "dualAuthDelete"> {
    return compact({
        rotation: p.rotation ? { enabled: p.rotation.enabled, intervalMonth: p.rotation.intervalMonth } : undefined,
        dualAuthDelete: p.dualAuthDelete ? { enabled: p.dualAuthDelete.enabled } : undefined,
    });
}

/**
 * Outputs from the KMS answer and the inputs (nothing undefined). `policies` undefined: state of an
 * earlier version, whose outputs had no key version, rotation or policies (kept that way on refresh).
 */
function outputsOf(
    key: KmsKeyResource,
    inputs: Partial<KmsKeyInputs>,
    target: KmsInstance,
    region: string | undefined,
    policies: KmsKeyPolicies | undefined,
    lifecycle: boolean,
): KmsKeyOutputs {
    const ring = typeof key.keyRingID === "string" && key.keyRingID !== "" ? key.keyRingID : (target.keyRing ?? "default");
    return compact({
        keyId: key.id,
        crn: key.crn ?? "",
        state: key.state,
        name: key.name,
        description: key.description,
        keyRing: ring,
        extractable: key.extractable,
        type: key.extractable ? "standard" : "root",
        imported: key.imported ?? inputs.payload !== undefined,
        expirationDate: key.expirationDate,
        creationDate: key.creationDate ?? "",
        createdBy: key.createdBy ?? "",
        instanceId: target.instanceId,
        service: target.service,
        region,
        endpoint: target.endpoint,
        force: inputs.force ?? false,
        apiKey: inputs.apiKey,
        payload: inputs.payload,
        instanceCrn: inputs.instanceCrn,
        ...(policies === undefined
            ? {}
            : {
                  ...policyOutputs(policies),
                  rotationTrigger: inputs.rotationTrigger,
                  keyVersion: typeof key.keyVersion?.id === "string" ? key.keyVersion.id : "",
                  lastRotateDate: typeof key.lastRotateDate === "string" ? key.lastRotateDate : undefined,
              }),
        ...(lifecycle ? lifecycleOutputs(key) : {}),
    }) as KmsKeyOutputs;
}

/** The inputs a stored state corresponds to (for read's `inputs` and for a static get()). */
function inputsOf(p: Partial<KmsKeyOutputs>): Partial<KmsKeyInputs> {
    return compact({
        ...instanceInputsOf(p),
        name: p.name,
        description: p.description,
        keyRing: p.keyRing,
        expirationDate: p.expirationDate,
        type: p.type ?? (p.extractable ? "standard" : p.extractable === false ? "root" : undefined),
        payload: p.payload,
        force: p.force ?? false,
        apiKey: p.apiKey,
        rotation: p.rotation,
        dualAuthDelete: p.dualAuthDelete,
        rotationTrigger: p.rotationTrigger,
        aliases: p.aliases,
        enabled: p.enabled,
    }) as Partial<KmsKeyInputs>;
}

export const kmsKeyProvider = new KmsKeyProvider();

// ---------- resource ----------

/** KmsKey's type name and outputs: the props its constructor hands to Pulumi are derived from them. */
const KMS_KEY = resourceShape<KmsKeyOutputs>(
    "KmsKey",
    {
        keyId: true,
        crn: true,
        state: true,
        name: true,
        description: true,
        keyRing: true,
        extractable: true,
        type: true,
        imported: true,
        expirationDate: true,
        creationDate: true,
        createdBy: true,
        instanceId: true,
        service: true,
        region: true,
        endpoint: true,
        force: true,
        apiKey: true,
        payload: true,
        instanceCrn: true,
        rotation: true,
        dualAuthDelete: true,
        rotationTrigger: true,
        keyVersion: true,
        lastRotateDate: true,
        aliases: true,
        enabled: true,
    },
    ["apiKey", "payload"],
);

/** Identifies an existing key for `KmsKey.get`. */
export interface KmsKeyLookup extends KmsInstanceFieldArgs {
    keyRing?: pulumi.Input<string>;
    /** The service ID's API key the key is managed with. */
    apiKey: pulumi.Input<string>;
    force?: pulumi.Input<boolean>;
}

/**
 * A root or standard key in an HPCS or Key Protect instance, created and managed as a service ID
 * (`apiKey`). `createdBy` shows the service ID's IAM id. Deleting a root key (a destroy, or a replacement)
 * makes the data it wraps unreadable once IBM's restore window ends: give root keys `protect: true`, or
 * `retainOnDelete: true` while data is still wrapped by a key Pulumi would delete (docs/kms-key-lifecycle.md).
 *
 * ```ts
 * const key = new KmsKey("app-root", { instanceCrn, name: "app-root", keyRing: ring.keyRingId, rotation: { intervalMonth: 3 }, apiKey: access.apiKey });
 * // or { instanceId, service: "kms", region: "us-south", … }; HPCS: service "hs-crypto" (the default when neither service nor a CRN is given)
 * ```
 */
export class KmsKey extends DynamicResource implements OutputsOf<KmsKeyOutputs> {
    declare readonly keyId: pulumi.Output<string>;
    declare readonly crn: pulumi.Output<string>;
    declare readonly state: pulumi.Output<number>;
    declare readonly name: pulumi.Output<string>;
    declare readonly description: pulumi.Output<string | undefined>;
    declare readonly keyRing: pulumi.Output<string>;
    declare readonly extractable: pulumi.Output<boolean>;
    declare readonly type: pulumi.Output<"root" | "standard">;
    declare readonly imported: pulumi.Output<boolean>;
    declare readonly expirationDate: pulumi.Output<string | undefined>;
    declare readonly creationDate: pulumi.Output<string>;
    declare readonly createdBy: pulumi.Output<string>;
    declare readonly instanceId: pulumi.Output<string>;
    declare readonly service: pulumi.Output<KmsService>;
    declare readonly region: pulumi.Output<string | undefined>;
    declare readonly endpoint: pulumi.Output<string>;
    declare readonly force: pulumi.Output<boolean>;
    /** Secret. */
    declare readonly apiKey: pulumi.Output<string>;
    /** Secret; only for imported keys. */
    declare readonly payload: pulumi.Output<string | undefined>;
    declare readonly instanceCrn: pulumi.Output<string | undefined>;
    declare readonly rotation: pulumi.Output<{ enabled: boolean; intervalMonth: number } | undefined>;
    declare readonly dualAuthDelete: pulumi.Output<{ enabled: boolean } | undefined>;
    declare readonly rotationTrigger: pulumi.Output<string | number | undefined>;
    /** The current key version (a new one after each rotation). */
    declare readonly keyVersion: pulumi.Output<string | undefined>;
    declare readonly lastRotateDate: pulumi.Output<string | undefined>;
    /** The key's aliases as KMS holds them. */
    declare readonly aliases: pulumi.Output<string[] | undefined>;
    /** false while the key is disabled. */
    declare readonly enabled: pulumi.Output<boolean | undefined>;

    constructor(name: string, args: KmsKeyArgs, opts?: pulumi.CustomResourceOptions) {
        // expirationDate is not judged for being in the future here: an unchanged one may have passed since (check knows).
        refuseBadArguments(
            "KmsKey",
            name,
            args,
            opts,
            (inputs) =>
                checkKmsResource(
                    inputs,
                    schemaOnce("KmsKey:false", () => kmsKeySchema(false)),
                ).failures,
        );
        super(providerForDeployment(kmsKeyProvider), name, resourceProps(KMS_KEY, args), resourceOptions(KMS_KEY, opts), "ibmcloud-iam", KMS_KEY.type);
    }

    /** Adopts an existing key by its id (the engine reads it; nothing is created). */
    static get(name: string, id: pulumi.Input<pulumi.ID>, lookup: KmsKeyLookup, opts?: pulumi.CustomResourceOptions): KmsKey {
        return new KmsKey(name, lookup as unknown as KmsKeyArgs, { ...opts, id });
    }
}

/**
 * What to do when IBM refuses to delete a key, by IBM's reason: never a silent force. Registrations (other
 * services protecting data with the key) yield only to `force`; a retention policy not even to that; dual
 * authorization needs another identity's `setKeyForDeletion` first.
 */
function deleteRefusalNote(id: string, err: unknown, force: boolean): string | undefined {
    const e = err as { status?: unknown; code?: unknown };
    if (e.status !== 409) return undefined;
    switch (e.code) {
        case "PROTECTED_RESOURCE_ERR":
            return `key ${id} protects resources other services registered with it (list them: KmsClient.listRegistrations("${id}")): delete or re-key those resources first, or set force: true on the KmsKey and run \`pulumi up\` before destroying (their data then becomes unreadable)`;
        case "PREV_KEY_DEL_ERR":
            return `key ${id} protects a resource under a retention policy: not even force deletes it; an account owner must remove the retention policy on that resource first`;
        case "AUTHORIZATIONS_NOT_MET":
            return `key ${id} has dual authorization: a second identity with Manager on the instance (not the one destroying) must authorize the deletion first, e.g. KmsClient.setKeyForDeletion("${id}") or \`ibmcloud kp key schedule-delete ${id}\`; the authorization lasts 7 days, then destroy again`;
        default:
            return force
                ? undefined
                : `the key may still protect resources: set force: true on the KmsKey and run \`pulumi up\` before destroying, or remove what it protects`;
    }
}
