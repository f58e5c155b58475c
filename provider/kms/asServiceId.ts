// Acting as the service ID whose API key a KMS resource holds in state, with the deployer's credentials as
// the fallback for refresh and destroy when that key or its access is gone; and what a refusal means.
import { appendErrorNote, isNotFound } from "../../client/errors";
import { KmsClient } from "../../client/kmsClient";
import { IamTokenManager } from "../../client/tokenManager";
import { journaled, JournalKms } from "../core/createJournal";
import { compact } from "../core/props";
import { KmsInstance } from "./endpoint";
import { holderOf, isApiKeyRejected, isKmsUnauthorized } from "./refusals";
import { KmsSession } from "./session";

/** The deployer's token manager (stack config / environment), or undefined when no deployer key is set. */
export function deployerTokensOf(session: { iam(): { tokens: IamTokenManager } }): IamTokenManager | undefined {
    try {
        return session.iam().tokens;
    } catch (err) {
        if ((err as Error)?.name === "InputError") return undefined;
        throw err;
    }
}

/** The deployer's API key when one is configured (a KMS resource may run as its service ID with no deployer at all). */
export function deployerApiKeyOf(session: { deployerApiKey(): string | undefined }): string | undefined {
    try {
        return session.deployerApiKey();
    } catch (err) {
        if ((err as Error)?.name === "InputError") return undefined;
        throw err;
    }
}

/**
 * A KMS key or key ring create, journaled for a crash without the service ID's key or any key material: where the
 * object goes and which identity makes it, so `recover` can find it with the deployer's credentials
 * (docs/crash-recovery.md). The entry keeps IBM's id once KMS answers: the plugin may die before that answer reaches
 * the engine.
 */
export async function journaledKmsCreate<R extends { id: string }>(
    kind: "KmsKey" | "KmsKeyRing",
    session: { deployerApiKey(): string | undefined },
    tokens: IamTokenManager,
    target: KmsInstance,
    inputs: object,
    keyRing: string | undefined,
    create: () => Promise<R>,
): Promise<R> {
    const deployerApiKey = deployerApiKeyOf(session);
    const creator = deployerApiKey
        ? await tokens.getTokenInfo().then(
              (t) => t.iamId || undefined,
              () => undefined,
          )
        : undefined;
    const where = compact({ instanceId: target.instanceId, service: target.service, endpoint: target.endpoint, keyRing, creator }) as JournalKms;
    return journaled(kind, inputs, deployerApiKey, create, (r) => r.id, where);
}

/**
 * The credential a KMS resource creates and updates with: the service ID of `apiKey`, or with none given the
 * deployer (stack config / environment, an API key or a trusted profile's compute-resource token).
 */
export function credentialOf(
    connections: KmsSession,
    deployer: () => IamTokenManager | undefined,
    resource: string,
    apiKey: string | undefined,
): IamTokenManager {
    if (typeof apiKey === "string" && apiKey !== "") return connections.tokensFor(apiKey, resource);
    const tokens = deployer();
    if (!tokens) {
        throw new Error(
            `${resource}: no apiKey given and no deployer credentials configured: pass the service ID's API key as apiKey, ` +
                "or configure the deployer (ibmcloud:apiKey / IC_API_KEY, or a trusted profile: ibmcloud:iamProfileId with a compute-resource token)",
        );
    }
    return tokens;
}

/**
 * Runs `fn` as the service ID of `apiKey` (as stored in state); if IAM rejects that key (rotated or
 * deleted outside Pulumi), or for a destroy KMS refuses it, runs it again with the deployer's
 * credentials when configured. `resource` names the resource type in messages.
 */
export async function asServiceId<T>(
    connections: KmsSession,
    deployer: () => IamTokenManager | undefined,
    resource: string,
    apiKey: string | undefined,
    target: KmsInstance,
    what: "refresh" | "destroy",
    fn: (client: KmsClient) => Promise<T>,
): Promise<T> {
    if (typeof apiKey === "string" && apiKey !== "") {
        try {
            return await fn(connections.client(target, connections.tokensFor(apiKey, resource)));
        } catch (err) {
            const keyRejected = isApiKeyRejected(err);
            if (!keyRejected && !(what === "destroy" && isKmsUnauthorized(err))) throw err;
            const tokens = deployer();
            const why = keyRejected
                ? "IAM rejected the service ID's API key stored in state (rotated or deleted outside Pulumi?)"
                : "KMS refused the service ID stored in state (its access policy removed?)";
            if (!tokens) {
                throw appendErrorNote(
                    err,
                    `${why}, and no deployer credentials are configured to ${what} with instead: ` +
                        "set `pulumi config set --secret ibmcloud:apiKey <key>` (or IC_API_KEY), or run `pulumi up` with the service ID's current API key first",
                );
            }
            try {
                return await fn(connections.client(target, tokens));
            } catch (err2) {
                if (isNotFound(err2)) throw err2;
                throw appendErrorNote(err2, `${why}; the ${what} was retried with the deployer's credentials, which failed too`);
            }
        }
    }
    const tokens = deployer();
    if (!tokens) throw new Error(`${resource}: no apiKey in state and no deployer credentials to ${what} with; set ibmcloud:apiKey or IC_API_KEY`);
    return fn(connections.client(target, tokens));
}

/** A KMS 401/403 or IAM refusal of the `apiKey` given to `resource`, told in terms of the identity and the access it lacks. */
export async function explainKmsRefusal(
    err: unknown,
    resource: string,
    tokens: IamTokenManager,
    target: KmsInstance,
    needs: string,
    extra?: string,
): Promise<Error> {
    const tail = extra ? `; ${extra}` : "";
    if (isApiKeyRejected(err)) {
        return appendErrorNote(err, `IAM rejected the apiKey given to the ${resource}: pass the service ID's current API key${tail}`);
    }
    if (!isKmsUnauthorized(err)) return extra ? appendErrorNote(err, extra) : (err as Error);
    const who = await holderOf(tokens, "the service ID of apiKey");
    return appendErrorNote(
        err,
        `${who} may not ${needs} on ${target.service} instance ${target.instanceId}: give it an access policy ` +
            `(AccessPolicy, or KmsAccess with roles ["Writer"]) on serviceName=${target.service} serviceInstance=${target.instanceId}; ` +
            `a policy created moments ago takes a while to apply (KmsAccess waitForAccess waits for it)${tail}`,
    );
}
