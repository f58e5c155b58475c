// Key rings (/api/v2/key_rings): the `default` ring always exists; others are created before keys go
// in them, and a ring still holding keys (in any state) cannot be deleted.
import { KmsError } from "../core/errors";
import type { Handler } from "../core/server";
import { DEFAULT_RING, envelope, K, KmsRoutes, RING_ID } from "./keys";

export const KEY_RING_TYPE = "application/vnd.ibm.kms.key_ring+json";

const R = {
    badId: () => new KmsError(400, "BAD_BODY_ERR", "A key ring id must be 2 to 100 letters, digits or dashes", "Bad Request: Invalid key ring id"),
    exists: () =>
        new KmsError(
            409,
            "KEY_RING_ALREADY_EXISTS_ERR",
            "A key ring with the specified id already exists",
            "Conflict: Key ring could not be created. Please see `reasons` for more details.",
        ),
    notEmpty: () =>
        new KmsError(
            409,
            "KEY_RING_NOT_EMPTY_ERR",
            "The specified key ring contains at least one key (in any state)",
            "Conflict: Key ring could not be deleted. Please see `reasons` for more details.",
        ),
    keysNotDeleted: () =>
        new KmsError(
            409,
            "KEY_RING_KEYS_NOT_DELETED_ERR",
            "The key ring cannot be deleted because it contains at least one key that is not deleted",
            "Conflict: Key ring could not be deleted. Please see `reasons` for more details.",
        ),
    defaultRing: () =>
        new KmsError(
            400,
            "KEY_RING_DEFAULT_ERR",
            "The default key ring cannot be deleted",
            "Bad Request: Key ring could not be deleted. Please see `reasons` for more details.",
        ),
};

export function keyRingHandlers(r: KmsRoutes) {
    const emu = r.emu;
    const rings = () => (emu.store.data.kmsKeyRings ??= []);

    const list: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        r.authorize(ctx, inst, "keyrings.list");
        // (choice) the default ring is dated by the first key put in it, else by now; created by the instance
        const first = emu.store.data.kmsKeys.find((k) => k.instance === inst.guid && k.keyRing === DEFAULT_RING);
        const resources = [
            { id: DEFAULT_RING, creationDate: first?.creationDate ?? r.time(), createdBy: "IBM" },
            ...rings()
                .filter((x) => x.instance === inst.guid)
                .map((x) => ({ id: x.id, creationDate: x.creationDate, createdBy: x.createdBy })),
        ];
        r.send(ctx, 200, envelope(resources, KEY_RING_TYPE));
    };

    const create: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const id = ctx.params.ring;
        r.authorize(ctx, inst, "keyrings.create");
        if (!RING_ID.test(id)) throw R.badId();
        if (r.ringExists(inst, id)) throw R.exists();
        rings().push({ instance: inst.guid, id, creationDate: r.time(), createdBy: ctx.caller!.iamId });
        emu.store.save();
        r.send(ctx, 201);
    };

    const remove: Handler = (ctx) => {
        const inst = r.instanceOf(ctx);
        const id = ctx.params.ring;
        const force = ctx.query.get("force");
        if (force !== null && force !== "true" && force !== "false") throw K.badParam("force must be true or false");
        r.authorize(ctx, inst, "keyrings.delete", [{ resourceType: "key-ring", resource: id }]);
        if (id === DEFAULT_RING) throw R.defaultRing();
        if (!r.ringExists(inst, id)) throw K.ringNotFound("Key ring could not be deleted");
        const keys = emu.store.data.kmsKeys.filter((k) => k.instance === inst.guid && k.keyRing === id);
        // a key not yet deleted keeps its ring; a ring holding only deleted (state 5) keys goes with force,
        // and they move to the default ring
        if (keys.some((k) => k.state !== 5)) throw R.keysNotDeleted();
        if (keys.length > 0 && force !== "true") throw R.notEmpty();
        for (const k of keys) k.keyRing = DEFAULT_RING;
        emu.store.data.kmsKeyRings = rings().filter((x) => !(x.instance === inst.guid && x.id === id));
        emu.store.save();
        r.send(ctx, 204);
    };

    return { list, create, remove };
}
