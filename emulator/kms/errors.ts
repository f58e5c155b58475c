// The KMS error catalogue the key files share: IBM's reason codes, statuses and messages (IBM's words where
// its error catalogue gives them; emulator/README.md lists the ones chosen).
import { KmsError } from "../core/errors";

export const K = {
    badBody: (message: string) => new KmsError(400, "BAD_BODY_ERR", message, "Bad Request: Invalid body data"),
    badParam: (message: string) => new KmsError(400, "INVALID_QUERY_PARAM_ERR", message, "Bad Request: Invalid query parameter"),
    badHeader: (message: string, name: string) => new KmsError(400, "BAD_HEADERS_ERR", message, "Bad Request: Invalid header", { type: "header", name }),
    notFound: () => new KmsError(404, "KEY_NOT_FOUND_ERR", "Key does not exist", "Not Found: Key could not be found"),
    gone: () => new KmsError(410, "KEY_DELETED_ERR", "The key has been deleted and is no longer available", "Gone: The key was deleted"),
    /** IBM's error catalogue: wrap, unwrap, rotate (and enable, disable, restore) need a root key. */
    rootRequired: (what: string) =>
        new KmsError(
            400,
            "KEY_ROOT_REQ_ERR",
            "Requested action can only be completed with a root key.",
            `Bad Request: ${what}. Please see \`reasons\` for more details.`,
        ),
    ringNotFound: (what: string) =>
        new KmsError(404, "KEY_RING_NOT_FOUND_ERR", "The key ring could not be found.", `Not Found: ${what}. Please see \`reasons\` for more details.`),
    authorizationsNotMet: () =>
        new KmsError(
            409,
            "AUTHORIZATIONS_NOT_MET",
            "Number of authorizations required to delete is not met",
            "Conflict: Key could not be deleted. Please see `reasons` for more details.",
        ),
    /** IBM's catalogue: a disabled key refuses wrap/unwrap/rotate, and purge refuses a key that is not deleted. */
    invalidState: (what: string) =>
        new KmsError(409, "KEY_ACTION_INVALID_STATE_ERR", "Key is not in a valid state", `Conflict: ${what}. Please see \`reasons\` for more details.`),
    tooEarly: (what: string) =>
        new KmsError(
            409,
            "REQ_TOO_EARLY_ERR",
            "The key was updated recently: Please wait and try again",
            `Conflict: ${what}. Please see \`reasons\` for more details.`,
        ),
    protectedResource: () =>
        new KmsError(
            409,
            "PROTECTED_RESOURCE_ERR",
            "Key is protecting one or more cloud resources",
            "Conflict: Key could not be deleted. Please see `reasons` for more details.",
            { type: "query_param", name: "force" },
        ),
    retentionPolicy: () =>
        new KmsError(
            409,
            "PREV_KEY_DEL_ERR",
            "The key cannot be deleted because it's protecting a cloud resource that has a retention policy: Before you delete this key, contact an account owner to remove the retention policy on each resource that is associated with the key",
            "Conflict: Key could not be deleted. Please see `reasons` for more details.",
        ),
    createImportAccess: () =>
        new KmsError(
            409,
            "KEY_CREATE_IMPORT_ACCESS_ERR",
            "KeyCreateImportAccess instance policy does not allow this action",
            "Conflict: Key could not be created. Please see `reasons` for more details.",
        ),
};
