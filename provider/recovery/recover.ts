// `npx pulumi-ibmcloud-iam recover`: after the Pulumi CLI died in the middle of an `up` (kill -9, a crash, a lost
// machine), puts into the stack what the interrupted creates made, so the next `pulumi up` neither duplicates nor
// orphans them. It reads the engine's journal (the checkpoint's pending `creating` operations, with the checked
// inputs the engine wrote before each create), finds each create's object by its mark or by the adopt rules of
// docs/crash-recovery.md, reads it with the provider's own `read`, and `pulumi stack import`s the deployment with
// the objects in it and the pending operations gone. Then it runs `pulumi up`, unless told not to.
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { IamClient } from "../../client/iamClient";
import { serviceIamId } from "../../client/iamWire";
import { providerConfigFromPlugin, ProviderConfigSource, resolveCloudSettings, resolveProfileLogin, settingsFromProviderConfig } from "../../client/config";
import { serviceIdProvider } from "../serviceId";
import { serviceApiKeyProvider } from "../serviceApiKey";
import { accessPolicyProvider } from "../accessPolicy";
import { kmsKeyProvider } from "../kmsKey";
import { deleteMarkerKey, MARKER_KEY_NAME, markOf, recoveryValueOf } from "../core/recoveryMark";
import { keyFileOf, keyFilePath, writeKeyFile } from "../identity/apiKeyFile";
import { deployerFingerprint, JournalEntry, JournalKms, staleEntries } from "../core/createJournal";
import { isNotFound } from "../../client/errors";
import { compact } from "../core/props";
import { KmsSession } from "../kms/session";
import type { KmsInstance } from "../kms/endpoint";
import {
    adoptedResource,
    Deployment,
    describePending,
    kindOf,
    PendingOperation,
    pendingCreates,
    StateResource,
    trackedIds,
    trackedServiceIamIds,
    unwrapSecrets,
    withAdopted,
} from "./journal";
import {
    findMarkless,
    isMarkless,
    lastUpdateEnded,
    MARKLESS_SECRET_OUTPUTS,
    MarklessKind,
    marklessPendingCreates,
    marklessProvider,
    nothingToAdopt,
} from "./adopters";

export interface RecoverOptions {
    /** The project directory (where `pulumi up` runs). */
    cwd: string;
    stack?: string;
    /** Run `pulumi up --yes --skip-preview` after the import (default true). */
    up?: boolean;
    /** The Pulumi CLI (default `pulumi` from PATH). */
    pulumi?: string;
    env?: NodeJS.ProcessEnv;
    log?: (line: string) => void;
}

export type Outcome =
    | { op: string; result: "adopted"; id: string; how: string }
    | { op: string; result: "nothing made" }
    | { op: string; result: "dropped"; why: string }
    | { op: string; result: "unresolved"; why: string };

export interface RecoverReport {
    pendingOps: number;
    outcomes: Outcome[];
    /** Marker keys deleted (left by creates that did not finish). */
    markersDeleted: number;
    /** Objects the provider's own journal names that no stack of the project tracks (a killed plugin's creates): deleted. */
    orphansDeleted: string[];
    /** The checkpoint was unreadable: the file set aside (its empty `.attrs`) or restored (its `.bak`). */
    restoredFromBackup?: string;
    imported: boolean;
    /** `pulumi up`'s exit code when it ran. */
    upExit?: number;
}

const SECRET_OUTPUTS: Record<string, readonly string[]> = { ServiceApiKey: ["apikey"], KmsKey: ["apiKey", "payload"], ...MARKLESS_SECRET_OUTPUTS };

type Provider = pulumi.dynamic.ResourceProvider;

/** Runs the recovery; throws (naming the step) when a Pulumi command fails. Unresolved creates are reported, not guessed. */
export async function recover(opts: RecoverOptions): Promise<RecoverReport> {
    const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
    const cli = new PulumiCli(opts.pulumi ?? "pulumi", opts.cwd, opts.stack, opts.env ?? process.env);
    const report: RecoverReport = { pendingOps: 0, outcomes: [], markersDeleted: 0, orphansDeleted: [], imported: false };

    // A killed CLI can leave the stack locked (backends that lock); nothing to cancel is fine.
    await cli.run(["cancel", "--yes"]).catch(() => "");
    let deployment: Deployment;
    try {
        deployment = JSON.parse(await cli.run(["stack", "export", "--show-secrets"]));
    } catch (err) {
        if (!/failed to load checkpoint/.test(String((err as Error).message))) throw err;
        report.restoredFromBackup = await restoreCheckpointBackup(cli, err as Error);
        log(
            `recover: the checkpoint was unreadable (${/failed to load checkpoint: [^\n]*/.exec((err as Error).message)?.[0]}); repaired: ${report.restoredFromBackup} set aside or restored`,
        );
        deployment = JSON.parse(await cli.run(["stack", "export", "--show-secrets"]));
    }
    const pending = deployment.deployment.pending_operations ?? [];
    report.pendingOps = pending.length;

    const stackConfig = await cli.stackConfig();
    const resources = deployment.deployment.resources ?? [];
    const configFor = (r: StateResource): ProviderConfigSource => {
        const ref = r.provider ?? "";
        const urn = ref.slice(0, ref.lastIndexOf("::"));
        if (/::pulumi:providers:ibmcloud-iam::/.test(urn)) {
            const prov = resources.find((x) => x.urn === urn);
            return providerConfigFromPlugin((unwrapSecrets(prov?.inputs ?? {}) ?? {}) as Record<string, unknown>);
        }
        return { config: stackConfig };
    };

    // The provider's own journal (entries of processes that are gone): a service ID made just before the kill has
    // its marker deleted already, its entry names it.
    const journal = staleEntries(opts.cwd, opts.env ?? process.env);
    const tracked = trackedIds(deployment);
    const serviceIamIds = trackedServiceIamIds(deployment);
    const adopted: StateResource[] = [];
    // What the adopt rules of the markless kinds also look at: every stack of the project, the stack's last update.
    let scope: { projectTracked: Set<string>; lastUpdateEnded?: number } | undefined;
    const marklessScope = async () =>
        (scope ??= { projectTracked: await cli.idsTrackedByProject(), lastUpdateEnded: lastUpdateEnded(await cli.run(["stack", "history", "--json"])) });
    const creates = [...pendingCreates(deployment), ...marklessPendingCreates(deployment)];
    for (const op of pending) {
        if (!creates.some((c) => c.resource.urn === op.resource.urn && c.type === op.type)) {
            const why =
                op.type === "creating"
                    ? (nothingToAdopt(op.resource.type) ?? "not a resource recover can look for (the next `pulumi up` creates it anew)")
                    : op.type === "deleting"
                      ? "the resource stays in the state; deleting it again finds it gone or deletes it"
                      : "run `pulumi refresh` to read its current settings";
            report.outcomes.push({ op: describePending(op), result: "dropped", why });
        }
    }
    for (const op of creates) {
        const config = configFor(op.resource);
        const explicit = settingsFromProviderConfig(config);
        if (resolveProfileLogin(explicit)) {
            report.outcomes.push({
                op: describePending(op),
                result: "unresolved",
                why: "the deployer logs in as a trusted profile: its creates carry no mark; look for the object by hand (docs/crash-recovery.md)",
            });
            continue;
        }
        const settings = resolveCloudSettings(explicit);
        const iam = IamClient.fromSettings(settings);
        const deployerIamId = (await iam.tokenInfo()).iamId;
        const inputs = unwrapSecrets(op.resource.inputs ?? {}) as Record<string, unknown>;
        const provider = isMarkless(op.kind) ? marklessProvider(op.kind) : providerOf(op.kind);
        await provider.configure?.(config as pulumi.dynamic.ConfigureRequest);
        const found: Found = isMarkless(op.kind)
            ? await findMarkless(op.kind, inputs, { deployerIamId, tracked, serviceIamIds, ...(await marklessScope()) })
            : await find(op, inputs, { iam, deployerApiKey: settings.apiKey, deployerIamId, tracked, serviceIamIds, journal });
        if (found.result !== "found") {
            report.outcomes.push({ op: describePending(op), ...found } as Outcome);
            continue;
        }
        const read = await provider.read?.(found.id, found.props);
        if (!read?.id) {
            report.outcomes.push({ op: describePending(op), result: "unresolved", why: `${found.id} was found but is gone on reading it` });
            continue;
        }
        const outs = read.props as Record<string, unknown>;
        adopted.push(adoptedResource(op.resource, read.id, outs, SECRET_OUTPUTS[op.kind] ?? []));
        tracked.add(read.id);
        if (op.kind === "ServiceId") serviceIamIds.add(String(outs.iamId ?? `iam-${read.id}`));
        if (found.afterAdopt) await found.afterAdopt(outs);
        report.outcomes.push({ op: describePending(op), result: "adopted", id: read.id, how: found.how });
    }

    // Marker keys still on tracked service IDs (a create that could not delete its own): they grant what the service ID grants.
    const settled = withAdopted(deployment, adopted);
    report.markersDeleted = await deleteLeftoverMarkers(settled, configFor);

    for (const o of report.outcomes) {
        log(`recover: ${o.op}: ${o.result}${"id" in o ? ` ${o.id} (${o.how})` : ""}${"why" in o ? ` (${o.why})` : ""}`);
    }
    if (report.markersDeleted > 0) log(`recover: deleted ${report.markersDeleted} leftover recovery marker key(s)`);

    if (pending.length > 0) {
        await cli.importDeployment(settled);
        report.imported = true;
        log(`recover: imported the stack with ${adopted.length} adopted resource(s) and no pending operation`);
    } else {
        log("recover: the stack has no pending operation");
    }
    // What a killed plugin's creates made: the engine dropped their record, the provider's journal kept it.
    const entries = journal.filter((e) => fs.existsSync(e.file));
    if (entries.length > 0) {
        try {
            const pluginConfigs = resources
                .filter((r) => r.type === "pulumi:providers:ibmcloud-iam")
                .map((r) => providerConfigFromPlugin((unwrapSecrets(r.inputs ?? {}) ?? {}) as Record<string, unknown>));
            const swept = await sweepJournal(entries, trackedIds(settled), cli, [{ config: stackConfig }, ...pluginConfigs], log);
            report.orphansDeleted = swept.deleted;
            for (const o of swept.unresolved) log(`recover: ${o.op}: unresolved (${"why" in o ? o.why : ""})`);
            report.outcomes.push(...swept.unresolved);
        } catch (err) {
            // Without every stack's state nothing can be called an orphan: the entries stay for the next run.
            log(`recover: the provider's journal was not swept (${(err as Error).message.split("\n")[0]})`);
        }
        for (const id of report.orphansDeleted) log(`recover: deleted ${id}: made by a create whose plugin died, tracked by no stack of the project`);
    }

    const unresolved = report.outcomes.filter((o) => o.result === "unresolved");
    if (unresolved.length > 0) {
        throw new Error(
            `recover: ${unresolved.length} interrupted create(s) could not be settled (listed above); the others are in the stack. ` +
                "Delete the objects named there that the stack does not track (`pulumi stack --show-ids`), then run `pulumi up`",
        );
    }
    if (opts.up !== false) {
        log("recover: running pulumi up");
        report.upExit = await cli.up();
    }
    return report;
}

interface FindContext {
    iam: IamClient;
    deployerApiKey: string;
    deployerIamId: string;
    tracked: Set<string>;
    serviceIamIds: Set<string>;
    journal: Array<{ file: string; entry: JournalEntry }>;
}

type Found =
    | { result: "found"; id: string; props: Record<string, unknown>; how: string; afterAdopt?: (outs: Record<string, unknown>) => Promise<void> }
    | { result: "nothing made" }
    | { result: "unresolved"; why: string };

/** The object a pending create made, by the rules of docs/crash-recovery.md. Reads only (the marker key goes after adoption). */
async function find(op: PendingOperation & { kind: string }, inputs: Record<string, unknown>, c: FindContext): Promise<Found> {
    switch (op.kind) {
        case "ServiceId": {
            const mark = markOf(c.deployerApiKey, "serviceid", inputs);
            if (!mark) return { result: "unresolved", why: "its create carried no mark (locked, or written by an older version)" };
            const key = await c.iam.findApiKeyByValue(mark);
            if (!key || key.name !== MARKER_KEY_NAME) {
                // IBM answered and the marker went, but the engine died before it recorded the service ID: the journal names it.
                const made = c.journal.find((e) => e.entry.kind === "ServiceId" && e.entry.inputs.recoveryNonce === inputs.recoveryNonce)?.entry.made;
                if (made && !c.tracked.has(made))
                    return { result: "found", id: made, props: {}, how: "by the provider's journal (its marker was already deleted)" };
                return { result: "nothing made" };
            }
            const id = key.iam_id.replace(/^iam-/, "");
            return { result: "found", id, props: {}, how: "by its recovery marker key", afterAdopt: async () => void (await deleteMarkerKey(c.iam, mark)) };
        }
        case "ServiceApiKey": {
            const value = typeof inputs.apikey === "string" ? inputs.apikey : recoveryValueOf(c.deployerApiKey, inputs);
            if (!value) return { result: "unresolved", why: "its create carried no mark (written by an older version)" };
            const key = await c.iam.findApiKeyByValue(value);
            if (!key) return { result: "nothing made" };
            if (serviceIamId(key.iam_id) !== serviceIamId(String(inputs.serviceId))) {
                return { result: "unresolved", why: `its value belongs to ${key.id} of ${key.iam_id}, not of ${inputs.serviceId}` };
            }
            const props = {
                apikey: value,
                storeValue: inputs.storeValue,
                rotationTrigger: inputs.rotationTrigger,
                outputFile: inputs.outputFile,
                expiresAt: inputs.expiresAt,
            };
            return {
                result: "found",
                id: key.id,
                props,
                how: "by its value",
                // The create writes the key file after IBM answers: a kill in between leaves none.
                afterAdopt: async (outs) => {
                    const file = inputs.outputFile;
                    if (typeof file === "string" && !fs.existsSync(keyFilePath(file))) {
                        writeKeyFile(file, keyFileOf(outs as unknown as Parameters<typeof keyFileOf>[0], value));
                    }
                },
            };
        }
        case "AccessPolicy": {
            const all = await accessPolicyProvider.identicalPolicies(inputs as never);
            const ours = all.filter(
                (p) => !c.tracked.has(p.id) && p.createdById === c.deployerIamId && p.subject !== undefined && c.serviceIamIds.has(serviceIamId(p.subject)),
            );
            if (ours.length === 0) {
                const others = all.filter((p) => !c.tracked.has(p.id));
                return others.length === 0
                    ? { result: "nothing made" }
                    : { result: "unresolved", why: `identical policies exist that this stack's rule does not adopt: ${others.map((p) => p.id).join(", ")}` };
            }
            if (ours.length > 1) return { result: "unresolved", why: `${ours.length} identical policies fit: ${ours.map((p) => p.id).join(", ")}` };
            return {
                result: "found",
                id: ours[0].id,
                props: inputs,
                how: "an identical grant on a service ID of this stack, made by the deployer, tracked by nothing",
            };
        }
        case "KmsKey": {
            const all = (await kmsKeyProvider.sameKeys(inputs as never)).filter((k) => !c.tracked.has(k.id));
            const ours = all.filter((k) => k.createdBy !== undefined && (c.serviceIamIds.has(k.createdBy) || k.createdBy === c.deployerIamId));
            if (ours.length === 0) {
                return all.length === 0
                    ? { result: "nothing made" }
                    : { result: "unresolved", why: `keys of that name made by others exist: ${all.map((k) => k.id).join(", ")}` };
            }
            if (ours.length > 1) return { result: "unresolved", why: `${ours.length} keys fit: ${ours.map((k) => k.id).join(", ")}` };
            return { result: "found", id: ours[0].id, props: inputs, how: "same name in the instance, made by an identity of this stack, tracked by nothing" };
        }
    }
    return { result: "unresolved", why: "not a resource recover can look for" };
}

/**
 * The journal entries of processes that are gone (a killed plugin's creates, and the finished ones of earlier runs),
 * for this deployer: each one's object — by the id IBM gave when it answered, else by its mark (service ID, API key),
 * the identical grant the deployer made (policy), or name, instance and creating identity (KMS key, key ring) — is
 * deleted when no stack of the project tracks it, so the `up` that follows creates it once; the entry is removed once
 * settled. KMS objects are deleted with the deployer's own credentials (the deployer granted the service ID its
 * access); when KMS refuses, the object is reported unresolved with what to do. An entry of another deployer key is left.
 */
async function sweepJournal(
    entries: Array<{ file: string; entry: JournalEntry }>,
    trackedHere: Set<string>,
    cli: PulumiCli,
    configs: ProviderConfigSource[],
    log: (line: string) => void,
): Promise<{ deleted: string[]; unresolved: Outcome[] }> {
    const deleted: string[] = [];
    const unresolved: Outcome[] = [];
    // The deployers the creates may have run as: the stack config's (dynamic providers) and each provider resource's
    // of our plugin, told apart by the fingerprint each entry carries.
    const deployers = new Map<string, { config: ProviderConfigSource; settings: ReturnType<typeof resolveCloudSettings> }>();
    for (const config of configs) {
        const explicit = settingsFromProviderConfig(config);
        if (resolveProfileLogin(explicit)) continue;
        let settings: ReturnType<typeof resolveCloudSettings>;
        try {
            settings = resolveCloudSettings(explicit);
        } catch {
            continue; // no deployer key in this config
        }
        const fingerprint = deployerFingerprint(settings.apiKey);
        if (!deployers.has(fingerprint)) deployers.set(fingerprint, { config, settings });
    }
    const ours = entries.filter((e) => deployers.has(e.entry.deployer) && (e.entry.project === "" || e.entry.project === cli.project()));
    // Most entries are finished creates this stack recorded: settled without reading every stack of the project.
    const mine = ours.filter((e) => {
        if (e.entry.made === undefined || !trackedHere.has(e.entry.made)) return true;
        fs.rmSync(e.file, { force: true });
        return false;
    });
    if (mine.length === 0) return { deleted, unresolved };
    const tracked = await cli.idsTrackedByProject();
    const sessions = new Map<string, { config: ProviderConfigSource; settings: { apiKey: string }; iam: IamClient; deployerIamId: string; kms: KmsSession }>();
    const sessionOf = async (fingerprint: string) => {
        let got = sessions.get(fingerprint);
        if (!got) {
            const { config, settings } = deployers.get(fingerprint) as NonNullable<ReturnType<typeof deployers.get>>;
            const iam = IamClient.fromSettings(settings);
            const kms = new KmsSession();
            kms.configure(config);
            got = { config, settings, iam, deployerIamId: (await iam.tokenInfo()).iamId, kms };
            sessions.set(fingerprint, got);
        }
        return got;
    };
    for (const { file, entry } of mine) {
        const inputs = entry.inputs;
        const what = `${entry.kind} ${String(inputs.name ?? inputs.keyRingId ?? "")}`.trim();
        try {
            const { config, settings, iam, deployerIamId, kms } = await sessionOf(entry.deployer);
            if (entry.made !== undefined && tracked.has(entry.made)) {
                // the engine recorded it (or `recover` adopted it): nothing to do
            } else if (entry.kind === "ServiceId" && entry.made) {
                // a locked one (made without a mark) is unlocked first: IBM refuses to delete it otherwise
                const live = await iam.getServiceId(entry.made).catch((err) => {
                    if (isNotFound(err)) return undefined;
                    throw err;
                });
                if (live?.locked) await iam.unlockServiceId(entry.made);
                if (live && (await iam.deleteServiceId(entry.made))) deleted.push(entry.made);
            } else if (entry.kind === "ServiceId") {
                const mark = markOf(settings.apiKey, "serviceid", inputs);
                const key = mark ? await iam.findApiKeyByValue(mark) : undefined;
                if (key && key.name === MARKER_KEY_NAME) {
                    const sid = key.iam_id.replace(/^iam-/, "");
                    if (!tracked.has(sid)) {
                        if (await iam.deleteServiceId(sid)) deleted.push(sid);
                    } else if (mark) await deleteMarkerKey(iam, mark);
                }
            } else if (entry.kind === "ServiceApiKey") {
                // by the id IBM gave, else by its value (derived from the journaled nonce; a value the user gave is
                // never journaled, and without IBM's answer such a key is not found)
                const value = entry.made === undefined ? recoveryValueOf(settings.apiKey, inputs) : undefined;
                const key =
                    entry.made !== undefined
                        ? await iam.getApiKey(entry.made).catch((err) => {
                              if (isNotFound(err)) return undefined;
                              throw err;
                          })
                        : value
                          ? await iam.findApiKeyByValue(value)
                          : undefined;
                if (key && !tracked.has(key.id)) {
                    if (key.locked) await iam.unlockApiKey(key.id);
                    if (await iam.deleteApiKey(key.id)) deleted.push(key.id);
                }
            } else if (entry.kind === "AccessPolicy" && entry.made) {
                const live = await iam.getPolicy(entry.made).catch((err) => {
                    if (isNotFound(err)) return undefined;
                    throw err;
                });
                if (live && live.policy.state !== "deleted") {
                    await iam.deletePolicy(entry.made);
                    deleted.push(entry.made);
                }
            } else if (entry.kind === "AccessPolicy") {
                await accessPolicyProvider.configure(config as pulumi.dynamic.ConfigureRequest);
                const orphans = (await accessPolicyProvider.identicalPolicies(inputs as never)).filter(
                    (p) => !tracked.has(p.id) && p.createdById === deployerIamId,
                );
                for (const p of orphans) {
                    await iam.deletePolicy(p.id);
                    deleted.push(p.id);
                }
            } else if (isMarkless(entry.kind) && entry.kind !== "KmsKeyRing") {
                const refusal = await sweepMarkless(entry, entry.kind, config, deployerIamId, tracked, deleted);
                if (refusal) {
                    unresolved.push({ op: `journal ${what}`, result: "unresolved", why: refusal });
                    continue; // the entry stays for the next run
                }
            } else if ((entry.kind === "KmsKey" || entry.kind === "KmsKeyRing") && entry.kms) {
                const refusal = await sweepKms(entry, entry.kms, kms, iam, tracked, deleted);
                if (refusal) {
                    unresolved.push({ op: `journal ${what}`, result: "unresolved", why: refusal });
                    continue; // the entry stays for the next run
                }
            }
            fs.rmSync(file, { force: true });
        } catch (err) {
            log(`recover: could not settle ${what} of the plugin's journal (${(err as Error).message.split("\n")[0]}); kept for the next run`);
        }
    }
    return { deleted, unresolved };
}

/**
 * A trusted profile, claim rule, link, trust or authorization of the journal: the one IBM named, else (the plugin died
 * before IBM answered) the one the adopt rules find with the entry's time as the start of the create (docs/crash-
 * recovery.md). Deleted through its provider when no stack of the project tracks it; returns why not when more than
 * one object fits (undefined when settled).
 */
async function sweepMarkless(
    entry: JournalEntry,
    kind: Exclude<MarklessKind, "KmsKeyRing">,
    config: ProviderConfigSource,
    deployerIamId: string,
    tracked: Set<string>,
    deleted: string[],
): Promise<string | undefined> {
    const provider = marklessProvider(kind);
    await provider.configure?.(config as pulumi.dynamic.ConfigureRequest);
    let id = entry.made;
    if (id === undefined) {
        const found = await findMarkless(kind, entry.inputs, {
            deployerIamId,
            tracked,
            serviceIamIds: new Set(),
            projectTracked: tracked,
            lastUpdateEnded: Date.parse(entry.at),
            journaled: true,
        });
        if (found.result === "unresolved") return found.why;
        if (found.result === "nothing made") return undefined;
        id = found.id;
    }
    if (tracked.has(id)) return undefined;
    // gone already (a profile deleted before its rule's entry came up takes the rule with it)
    const live = await provider.read?.(id, {});
    if (!live?.id) return undefined;
    await provider.delete?.(id, live.props);
    deleted.push(id);
    return undefined;
}

/**
 * A KMS key or key ring of the journal, with the deployer's credentials: the one IBM named, else (the plugin died
 * before IBM answered) the one of the same name made by the journaled identity since the entry was written. Deleted
 * when no stack tracks it; returns why not when KMS refuses the deployer (undefined when settled).
 */
async function sweepKms(
    entry: JournalEntry,
    where: JournalKms,
    kms: KmsSession,
    iam: IamClient,
    tracked: Set<string>,
    deleted: string[],
): Promise<string | undefined> {
    const client = kms.client(
        compact({ instanceId: where.instanceId, service: where.service, endpoint: where.endpoint, keyRing: where.keyRing }) as KmsInstance,
        iam.tokens,
    );
    // a minute of clock skew between this machine and KMS
    const since = Date.parse(entry.at) - 60_000;
    const recent = (created: string | undefined) => created === undefined || !(Date.parse(created) < since);
    const ids: string[] = [];
    try {
        if (entry.kind === "KmsKey") {
            if (entry.made) ids.push(entry.made);
            else if (where.creator) {
                const inputs = entry.inputs;
                for (const k of await client.listKeys()) {
                    if (k.name !== inputs.name || k.state === 5 || k.deleted === true || k.createdBy !== where.creator || !recent(k.creationDate)) continue;
                    if (k.extractable !== (inputs.type === "standard") || (k.description ?? "") !== String(inputs.description ?? "")) continue;
                    ids.push(k.id);
                }
            }
            for (const id of ids.filter((x) => !tracked.has(x))) if (await client.deleteKey(id)) deleted.push(id);
        } else {
            const ringId = entry.made ?? String(entry.inputs.keyRingId ?? "");
            const ring = (await client.listKeyRings()).find((r) => r.id === ringId);
            // without IBM's answer, only a ring the journaled identity made since the entry was written is this create's
            const ours =
                ring !== undefined &&
                (entry.made !== undefined || (where.creator !== undefined && ring.createdBy === where.creator && recent(ring.creationDate)));
            if (ours && !tracked.has(ringId)) {
                ids.push(ringId);
                if (await client.deleteKeyRing(ringId)) deleted.push(ringId);
            }
        }
    } catch (err) {
        const status = (err as { status?: unknown }).status;
        if (status !== 401 && status !== 403 && status !== 409) throw err;
        const what = entry.kind === "KmsKey" ? "key" : "key ring";
        return (
            `KMS refused the deployer's credentials to ${ids.length ? `delete ${what} ${ids.join(", ")}` : `look for the ${what} named ${String(entry.inputs.name ?? entry.inputs.keyRingId)}`} ` +
            `in ${where.service} instance ${where.instanceId} (${(err as Error).message.split("\n")[0]}): it was made by ${where.creator ?? "the resource's service ID"} ` +
            "during a create whose plugin died, and no stack tracks it; delete it with an identity that holds Manager on the instance " +
            "(or give the deployer that access), then run recover again"
        );
    }
    return undefined;
}

function providerOf(kind: string): Provider {
    switch (kind) {
        case "ServiceId":
            return serviceIdProvider as unknown as Provider;
        case "ServiceApiKey":
            return serviceApiKeyProvider as unknown as Provider;
        case "AccessPolicy":
            return accessPolicyProvider as unknown as Provider;
        default:
            return kmsKeyProvider as unknown as Provider;
    }
}

async function deleteLeftoverMarkers(d: Deployment, configFor: (r: StateResource) => ProviderConfigSource): Promise<number> {
    let deleted = 0;
    for (const r of d.deployment.resources ?? []) {
        if (kindOf(r.type) !== "ServiceId" || !r.id) continue;
        const explicit = settingsFromProviderConfig(configFor(r));
        if (resolveProfileLogin(explicit)) continue;
        const iam = IamClient.fromSettings(resolveCloudSettings(explicit));
        for (const k of await iam.listApiKeys({ iamId: serviceIamId(String(r.id)) })) {
            if (k.name !== MARKER_KEY_NAME) continue;
            if (k.locked) await iam.unlockApiKey(k.id);
            if (await iam.deleteApiKey(k.id)) deleted++;
        }
    }
    return deleted;
}

/**
 * A kill while the CLI writes the checkpoint can leave it unreadable. Pulumi's file backend copies the checkpoint to
 * `<stack>.json.bak` before each write (the write itself goes to a temporary file renamed into place), so the backup
 * is the state one step earlier, with that step's create still journaled as pending. It is put in place of the
 * unreadable file, which is kept beside it as `<stack>.json.unreadable-<time>`. Only the file backend has one.
 */
async function restoreCheckpointBackup(cli: PulumiCli, cause: Error): Promise<string> {
    const backend = await cli.backendUrl();
    if (!backend.startsWith("file://")) throw cause;
    const root = path.join(backend.slice("file://".length).replace(/^~(?=\/)/, os.homedir()), ".pulumi", "stacks");
    const stack = cli.stack ?? (await cli.run(["stack", "--show-name"])).trim();
    const project = /^name:\s*["']?([^"'\s#]+)/m.exec(fs.readFileSync(path.join(cli.cwd, "Pulumi.yaml"), "utf8"))?.[1] ?? "";
    const shortName = stack.split("/").pop() ?? stack;
    for (const file of [path.join(root, project, `${shortName}.json`), path.join(root, `${shortName}.json`)]) {
        // The checkpoint is renamed into place whole, but the file of its attributes beside it (`.attrs`) is rewritten
        // in place just before: a kill there leaves it empty, and every read of the stack fails with EOF. Without that
        // file the backend takes default attributes.
        const attrs = `${file}.attrs`;
        if (fs.existsSync(file) && fs.existsSync(attrs) && !parses(attrs)) {
            fs.renameSync(attrs, `${attrs}.unreadable-${Date.now()}`);
            if (parses(file)) return attrs;
        }
        const bak = `${file}.bak`;
        if (!fs.existsSync(bak)) continue;
        if (!parses(bak)) continue; // an unreadable backup is no help
        if (fs.existsSync(file)) fs.renameSync(file, `${file}.unreadable-${Date.now()}`);
        if (fs.existsSync(attrs)) fs.renameSync(attrs, `${attrs}.unreadable-${Date.now()}`);
        fs.copyFileSync(bak, file);
        return bak;
    }
    throw cause;
}

function parses(file: string): boolean {
    try {
        JSON.parse(fs.readFileSync(file, "utf8"));
        return true;
    } catch {
        return false;
    }
}

/** The Pulumi CLI in the project directory, for one stack. */
class PulumiCli {
    constructor(
        readonly bin: string,
        readonly cwd: string,
        readonly stack: string | undefined,
        readonly env: NodeJS.ProcessEnv,
    ) {}

    private args(args: string[]): string[] {
        return [...args, ...(this.stack ? ["--stack", this.stack] : []), "--non-interactive"];
    }

    run(args: string[]): Promise<string> {
        return new Promise((resolve, reject) => {
            childProcess.execFile(this.bin, this.args(args), { cwd: this.cwd, env: this.env, maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
                if (err) reject(new Error(`pulumi ${args.join(" ")} failed: ${stderr.trim() || err.message}`));
                else resolve(stdout);
            });
        });
    }

    /** The project's name, from Pulumi.yaml. */
    project(): string {
        try {
            return /^name:\s*["']?([^"'\s#]+)/m.exec(fs.readFileSync(path.join(this.cwd, "Pulumi.yaml"), "utf8"))?.[1] ?? "";
        } catch {
            return "";
        }
    }

    /** The ids every stack of the project tracks (an object tracked by any of them is never an orphan). */
    async idsTrackedByProject(): Promise<Set<string>> {
        const ids = new Set<string>();
        const stacks = (JSON.parse(await this.runPlain(["stack", "ls", "--json"])) as Array<{ name: string }>).map((st) => st.name);
        // a few exports at a time: each is a CLI start
        const next = async (): Promise<void> => {
            for (let name = stacks.shift(); name !== undefined; name = stacks.shift()) {
                const d = JSON.parse(await this.runPlain(["stack", "export", "--stack", name])) as Deployment;
                for (const id of trackedIds(d)) ids.add(id);
                for (const op of d.deployment.pending_operations ?? []) if (op.resource.id) ids.add(String(op.resource.id));
            }
        };
        await Promise.all([next(), next(), next()]);
        return ids;
    }

    /** A command without this stack's `--stack`. */
    private runPlain(args: string[]): Promise<string> {
        return new Promise((resolve, reject) => {
            childProcess.execFile(
                this.bin,
                [...args, "--non-interactive"],
                { cwd: this.cwd, env: this.env, maxBuffer: 512 * 1024 * 1024 },
                (err, stdout, stderr) => {
                    if (err) reject(new Error(`pulumi ${args.join(" ")} failed: ${stderr.trim() || err.message}`));
                    else resolve(stdout);
                },
            );
        });
    }

    async backendUrl(): Promise<string> {
        if (this.env.PULUMI_BACKEND_URL) return this.env.PULUMI_BACKEND_URL;
        const who = JSON.parse(await this.run(["whoami", "--json"])) as { url?: string };
        return who.url ?? "";
    }

    /** The stack's config, secrets decrypted, as providers' `configure` receives it. */
    async stackConfig(): Promise<Map<string, string>> {
        const raw = JSON.parse(await this.run(["config", "--show-secrets", "--json"])) as Record<string, { value?: unknown; objectValue?: unknown }>;
        const out = new Map<string, string>();
        for (const [k, v] of Object.entries(raw)) {
            const value = v.objectValue !== undefined ? JSON.stringify(v.objectValue) : v.value;
            if (value !== undefined) out.set(k, typeof value === "string" ? value : JSON.stringify(value));
        }
        return out;
    }

    /** `pulumi stack import` of `d` (its secrets in plaintext go through a 0600 file in a private folder, removed after). */
    async importDeployment(d: Deployment): Promise<void> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-ibmcloud-iam-recover-"));
        const file = path.join(dir, "deployment.json");
        try {
            fs.writeFileSync(file, JSON.stringify(d), { mode: 0o600 });
            await this.run(["stack", "import", "--file", file]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }

    up(): Promise<number> {
        return new Promise((resolve) => {
            const child = childProcess.spawn(this.bin, this.args(["up", "--yes", "--skip-preview"]), { cwd: this.cwd, env: this.env, stdio: "inherit" });
            child.on("close", (code) => resolve(code ?? 1));
        });
    }
}
