// Key aliases (POST/DELETE /api/v2/keys/{id}/aliases/{alias}): other names of a key, unique in the instance,
// at most five per key; every route that takes a key id takes an alias too (KmsRoutes.findKey).
import { KmsError } from "../core/errors";
import type { Handler } from "../core/server";
import { KmsRoutes, UUID } from "./keys";

export const ALIAS_TYPE = "application/vnd.ibm.kms.key_alias+json";
const MAX_PER_KEY = 5;
const MAX_PER_INSTANCE = 1000;
const ALIAS = /^[A-Za-z0-9_-]{2,90}$/;
// words of the API's own paths, which IBM does not take as aliases
const RESERVED = new Set([
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

const A = {
    badAlias: () =>
        new KmsError(
            400,
            "INVALID_PATH_PARAM_ERR",
            "The alias must be 2 to 90 letters, digits, dashes or underscores, not a UUID and not a word of the API's paths",
            "Bad Request: Key alias could not be created. Please see `reasons` for more details.",
            { type: "path_param", name: "alias" },
        ),
    notUnique: () =>
        new KmsError(
            409,
            "KEY_ALIAS_NOT_UNIQUE_ERR",
            "The alias is already used by another key in this instance",
            "Conflict: Key alias could not be created. Please see `reasons` for more details.",
        ),
    quota: (what: string) =>
        new KmsError(
            400,
            "KEY_ALIAS_QUOTA_ERR",
            `Key aliases quota reached: ${what}`,
            "Bad Request: Key alias could not be created. Please see `reasons` for more details.",
        ),
    notFound: () =>
        new KmsError(
            404,
            "KEY_ALIAS_NOT_FOUND_ERR",
            "The key has no such alias",
            "Not Found: Key alias could not be deleted. Please see `reasons` for more details.",
        ),
};

export function aliasHandlers(r: KmsRoutes) {
    const emu = r.emu;

    const create: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const k = r.authorizedKey(ctx, inst, "secrets.createalias");
        const alias = ctx.params.alias;
        if (!ALIAS.test(alias) || UUID.test(alias) || RESERVED.has(alias.toLowerCase())) throw A.badAlias();
        const render = (a: { alias: string; creationDate: string; createdBy: string }) => ({
            metadata: { collectionType: ALIAS_TYPE, collectionTotal: 1 },
            resources: [{ keyId: k.id, alias: a.alias, creationDate: a.creationDate, createdBy: a.createdBy }],
        });
        const own = k.aliases?.find((a) => a.alias === alias);
        // (choice) the same alias again on the same key is a success that changes nothing, so a retry is safe
        if (own) {
            r.send(ctx, 200, render(own));
            return;
        }
        const inInstance = emu.store.data.kmsKeys.filter((x) => x.instance === inst.guid);
        if (inInstance.some((x) => x.aliases?.some((a) => a.alias === alias))) throw A.notUnique();
        if ((k.aliases?.length ?? 0) >= MAX_PER_KEY) throw A.quota(`a key has at most ${MAX_PER_KEY} aliases`);
        if (inInstance.reduce((n, x) => n + (x.aliases?.length ?? 0), 0) >= MAX_PER_INSTANCE)
            throw A.quota(`an instance has at most ${MAX_PER_INSTANCE} aliases`);
        const a = { alias, creationDate: r.time(), createdBy: ctx.caller!.iamId };
        k.aliases = [...(k.aliases ?? []), a];
        emu.store.save();
        r.send(ctx, 201, render(a));
    };

    const remove: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const k = r.authorizedKey(ctx, inst, "secrets.deletealias");
        if (!k.aliases?.some((a) => a.alias === ctx.params.alias)) throw A.notFound();
        k.aliases = k.aliases.filter((a) => a.alias !== ctx.params.alias);
        emu.store.save();
        r.send(ctx, 204);
    };

    return { create, remove };
}
