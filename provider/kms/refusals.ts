// How IAM and KMS refusals are told apart (from the error's operation and status), and who was refused.
import { IamTokenManager } from "../../client/tokenManager";

/** IAM refused to exchange the API key for a token (deleted, disabled, expired or unknown key). */
export function isApiKeyRejected(err: unknown): boolean {
    const e = err as { name?: unknown; operation?: unknown; status?: unknown } | undefined;
    return !!e && e.name === "IbmCloudError" && e.operation === "get IAM access token" && (e.status === 400 || e.status === 401);
}

/** KMS refused the caller (no policy on the instance, or one that has not applied yet). */
export function isKmsUnauthorized(err: unknown): boolean {
    const e = err as { name?: unknown; operation?: unknown; status?: unknown } | undefined;
    return !!e && e.name === "IbmCloudError" && e.operation !== "get IAM access token" && (e.status === 401 || e.status === 403);
}

/** Who holds `tokens`, for messages: the token's `iam_id`, else `fallback`. */
export async function holderOf(tokens: IamTokenManager, fallback: string): Promise<string> {
    try {
        return (await tokens.getTokenInfo()).iamId || fallback;
    } catch {
        return fallback;
    }
}
