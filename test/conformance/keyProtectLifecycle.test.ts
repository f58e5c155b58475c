// IBM's Key Protect Node SDK (@ibm-cloud/ibm-key-protect 0.1.2, the version npm serves) driving the key
// lifecycle against the emulator: the key-collection metadata, versions, disable and enable, delete, restore
// and purge with IBM's windows, aliases, registrations, dual-authorization deletion and instance policies.
// Each answer asserted is IBM's documented one (status, envelope, reason code).
import * as assert from "assert";
import { RunningEmulator, startEmulator } from "../../emulator";
import { grant, ROLE, serviceIdWithKey, tokenFor } from "../emulator/helpers";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const KeyProtectV2 = require("@ibm-cloud/ibm-key-protect/ibm-key-protect-api/v2");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { IamAuthenticator } = require("@ibm-cloud/ibm-key-protect/auth");

const KEY_TYPE = "application/vnd.ibm.kms.key+json";
const POLICY_TYPE = "application/vnd.ibm.kms.policy+json";

/** IBM's SDK hands some answers over as a stream (restoreKey asks for `responseType: stream`). */
async function jsonOf(body: unknown): Promise<any> {
    if (typeof body === "string") return JSON.parse(body);
    if (body && typeof (body as AsyncIterable<Buffer>)[Symbol.asyncIterator] === "function") {
        const chunks: Buffer[] = [];
        for await (const c of body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
        return JSON.parse(Buffer.concat(chunks).toString("utf8"));
    }
    return body;
}

async function refused(p: Promise<unknown>, status: number, code: string): Promise<void> {
    try {
        await p;
    } catch (e) {
        const err = e as { status: number; body?: unknown; message: string };
        assert.strictEqual(err.status, status, err.message);
        const body = await jsonOf(err.body);
        assert.strictEqual(body.metadata.collectionType, "application/vnd.ibm.kms.error+json");
        assert.strictEqual(body.resources[0].reasons[0].code, code);
        assert.strictEqual(body.resources[0].reasons[0].status, status);
        return;
    }
    assert.fail(`expected ${status} ${code}`);
}

describe("conformance: IBM's Key Protect SDK drives the key lifecycle", function () {
    this.timeout(30_000);
    let emu: RunningEmulator;
    let kp: any;
    let second: any;
    let bluemixInstance: string;

    const keyBody = (name: string, extra: Record<string, unknown> = {}) => ({
        metadata: { collectionType: KEY_TYPE, collectionTotal: 1 },
        resources: [{ type: KEY_TYPE, name, extractable: false, ...extra }],
    });
    const newKey = async (name: string, extra: Record<string, unknown> = {}) =>
        (await kp.createKey({ bluemixInstance, body: keyBody(name, extra) })).result.resources[0];
    const advance = async (seconds: number) => {
        const r = await fetch(`${emu.url}/__emulator/kms/clock`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ advanceSeconds: seconds }),
        });
        assert.strictEqual(r.status, 200);
    };
    const register = async (key: string, resourceCrn: string, extra: Record<string, unknown> = {}) => {
        const r = await fetch(`${emu.url}/__emulator/kms/registrations`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ instance: bluemixInstance, key, resourceCrn, ...extra }),
        });
        assert.strictEqual(r.status, 201, await r.text());
    };
    const COS = (bucket: string) => `crn:v1:bluemix:public:cloud-object-storage:global:a/acct:cos-1:bucket:${bucket}`;

    before(async () => {
        emu = await startEmulator({ port: 0, instances: [{ service: "kms", region: "us-south" }] });
        bluemixInstance = emu.instances[0].guid;
        kp = new KeyProtectV2({ authenticator: new IamAuthenticator({ apikey: emu.apiKey, url: emu.url }), serviceUrl: emu.url });
        // a second identity with Manager on the instance: the other half of a dual authorization
        const owner = await tokenFor(emu.url, emu.apiKey);
        const sid = await serviceIdWithKey(emu, owner, "second-approver");
        await grant(emu, owner, sid.iamId, [ROLE.manager], { serviceName: "kms", serviceInstance: bluemixInstance });
        second = new KeyProtectV2({ authenticator: new IamAuthenticator({ apikey: sid.apikey, url: emu.url }), serviceUrl: emu.url });
    });
    after(() => emu.stop());

    it("HEAD /api/v2/keys: 200, no body, the count in Key-Total (with GET's filters)", async () => {
        await newKey("counted-1");
        await newKey("counted-2", { extractable: true });
        const all = await kp.getKeyCollectionMetadata({ bluemixInstance });
        assert.strictEqual(all.status, 200);
        const listed = (await kp.getKeys({ bluemixInstance })).result.resources.length;
        assert.strictEqual(all.headers["key-total"], String(listed));
        const roots = await kp.getKeyCollectionMetadata({ bluemixInstance, extractable: false });
        assert.strictEqual(Number(roots.headers["key-total"]), listed - 1);
    });

    it("key versions: newest first with creation dates; a standard key has none to list (KEY_ROOT_REQ_ERR)", async () => {
        const k = await newKey("versioned");
        await kp.rotateKey({ id: k.id, bluemixInstance });
        await kp.rotateKey({ id: k.id, bluemixInstance });
        const v = await kp.getKeyVersions({ id: k.id, bluemixInstance });
        assert.strictEqual(v.status, 200);
        assert.strictEqual(v.result.metadata.collectionTotal, 3);
        const md = (await kp.getKeyMetadata({ id: k.id, bluemixInstance })).result.resources[0];
        assert.strictEqual(v.result.resources[0].id, md.keyVersion.id, "newest first");
        assert.strictEqual(v.result.resources[2].id, k.keyVersion.id, "the first version last");
        for (const r of v.result.resources) assert.match(r.creationDate, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        const page = await kp.getKeyVersions({ id: k.id, bluemixInstance, limit: 1, offset: 1 });
        assert.deepStrictEqual(
            page.result.resources.map((r: { id: string }) => r.id),
            [v.result.resources[1].id],
        );
        const std = await newKey("std-versions", { extractable: true });
        await refused(kp.getKeyVersions({ id: std.id, bluemixInstance }), 400, "KEY_ROOT_REQ_ERR");
    });

    it("disable and enable: a disabled key (state 2) stays readable and refuses wrap and unwrap; enable waits 30 s", async () => {
        const k = await newKey("switchable");
        const w = await kp.wrapKey({ id: k.id, bluemixInstance, keyActionWrapBody: {} });
        assert.strictEqual((await kp.disableKey({ id: k.id, bluemixInstance })).status, 204);
        assert.strictEqual((await kp.getKeyMetadata({ id: k.id, bluemixInstance })).result.resources[0].state, 2);
        await refused(kp.wrapKey({ id: k.id, bluemixInstance, keyActionWrapBody: {} }), 409, "KEY_ACTION_INVALID_STATE_ERR");
        await refused(
            kp.unwrapKey({ id: k.id, bluemixInstance, keyActionUnwrapBody: { ciphertext: w.result.ciphertext } }),
            409,
            "KEY_ACTION_INVALID_STATE_ERR",
        );
        await refused(kp.rotateKey({ id: k.id, bluemixInstance }), 409, "KEY_ACTION_INVALID_STATE_ERR");
        await refused(kp.disableKey({ id: k.id, bluemixInstance }), 409, "KEY_ACTION_INVALID_STATE_ERR");
        await refused(kp.enableKey({ id: k.id, bluemixInstance }), 409, "REQ_TOO_EARLY_ERR");
        await advance(30);
        assert.strictEqual((await kp.enableKey({ id: k.id, bluemixInstance })).status, 204);
        await refused(kp.enableKey({ id: k.id, bluemixInstance }), 409, "KEY_ACTION_INVALID_STATE_ERR");
        const u = await kp.unwrapKey({ id: k.id, bluemixInstance, keyActionUnwrapBody: { ciphertext: w.result.ciphertext } });
        assert.strictEqual(u.result.plaintext, w.result.plaintext);
    });

    it("restore: 201 after 30 s and within 30 days, the key active again with its versions; purge 4 h after the delete", async () => {
        const k = await newKey("restorable");
        await kp.rotateKey({ id: k.id, bluemixInstance });
        const w = await kp.wrapKey({ id: k.id, bluemixInstance, keyActionWrapBody: {} });
        const del = await kp.deleteKey({ id: k.id, bluemixInstance, prefer: "return=representation" });
        const gone = del.result.resources[0];
        assert.strictEqual(gone.state, 5);
        assert.strictEqual(gone.purgeAllowed, false);
        assert.strictEqual(gone.restoreAllowed, true);
        assert.strictEqual(Date.parse(gone.purgeAllowedFrom) - Date.parse(gone.deletionDate), 4 * 3600_000);
        assert.strictEqual(Date.parse(gone.purgeScheduledOn) - Date.parse(gone.deletionDate), 90 * 86400_000);
        await refused(kp.restoreKey({ id: k.id, bluemixInstance }), 409, "REQ_TOO_EARLY_ERR");
        await advance(30);
        const restored = await kp.restoreKey({ id: k.id, bluemixInstance });
        assert.strictEqual(restored.status, 201);
        const back = (await jsonOf(restored.result)).resources[0];
        assert.strictEqual(back.state, 1);
        assert.strictEqual(back.deleted, false);
        const u = await kp.unwrapKey({ id: k.id, bluemixInstance, keyActionUnwrapBody: { ciphertext: w.result.ciphertext } });
        assert.strictEqual(u.result.plaintext, w.result.plaintext, "the restored key unwraps what it wrapped before");
        await refused(kp.restoreKey({ id: k.id, bluemixInstance }), 409, "KEY_ACTION_INVALID_STATE_ERR");

        // purge: only a deleted key, and only 4 hours after its deletion (IBM's KeyPurge role; the owner here)
        const purge = async () => {
            const token = await kp.authenticator.tokenManager.getToken();
            return fetch(`${emu.url}/api/v2/keys/${k.id}/purge`, {
                method: "DELETE",
                headers: { authorization: `Bearer ${token}`, "bluemix-instance": bluemixInstance },
            });
        };
        const notDeleted = await purge();
        assert.strictEqual(notDeleted.status, 409);
        assert.strictEqual(
            ((await notDeleted.json()) as { resources: { reasons: { code: string }[] }[] }).resources[0].reasons[0].code,
            "KEY_ACTION_INVALID_STATE_ERR",
        );
        await kp.deleteKey({ id: k.id, bluemixInstance });
        const early = await purge();
        assert.strictEqual(early.status, 409);
        assert.match(await early.text(), /REQ_TOO_EARLY_ERR/);
        await advance(4 * 3600);
        assert.strictEqual((await purge()).status, 204);
        await refused(kp.getKeyMetadata({ id: k.id, bluemixInstance }), 404, "KEY_NOT_FOUND_ERR");
    });

    it("restore is refused after 30 days (KEY_RESTORE_EXPIRED), and IBM purges a key 90 days after its deletion", async () => {
        const k = await newKey("expiring");
        await kp.deleteKey({ id: k.id, bluemixInstance });
        await advance(31 * 86400);
        const md = (await kp.getKeyMetadata({ id: k.id, bluemixInstance })).result.resources[0];
        assert.strictEqual(md.restoreAllowed, false);
        assert.strictEqual(md.purgeAllowed, true);
        await refused(kp.restoreKey({ id: k.id, bluemixInstance }), 400, "KEY_RESTORE_EXPIRED");
        await advance(60 * 86400);
        await refused(kp.getKeyMetadata({ id: k.id, bluemixInstance }), 404, "KEY_NOT_FOUND_ERR");
    });

    it("aliases: 201, readable by alias wherever an id goes, unique in the instance, five per key, deleted with 204", async () => {
        const k = await newKey("aliased");
        const c = await kp.createKeyAlias({ id: k.id, alias: "payments-root", bluemixInstance });
        assert.strictEqual(c.status, 201);
        assert.strictEqual(c.result.metadata.collectionType, "application/vnd.ibm.kms.key_alias+json");
        assert.strictEqual(c.result.resources[0].keyId, k.id);
        assert.strictEqual(c.result.resources[0].alias, "payments-root");
        assert.ok(c.result.resources[0].creationDate && c.result.resources[0].createdBy);

        const byAlias = await kp.getKey({ id: "payments-root", bluemixInstance });
        assert.strictEqual(byAlias.result.resources[0].id, k.id);
        assert.deepStrictEqual(byAlias.result.resources[0].aliases, ["payments-root"]);
        const w = await kp.wrapKey({ id: "payments-root", bluemixInstance, keyActionWrapBody: {} });
        const u = await kp.unwrapKey({ id: "payments-root", bluemixInstance, keyActionUnwrapBody: { ciphertext: w.result.ciphertext } });
        assert.strictEqual(u.result.plaintext, w.result.plaintext);
        assert.strictEqual((await kp.getPolicy({ id: "payments-root", bluemixInstance })).status, 200);

        const other = await newKey("other");
        await refused(kp.createKeyAlias({ id: other.id, alias: "payments-root", bluemixInstance }), 409, "KEY_ALIAS_NOT_UNIQUE_ERR");
        await refused(kp.createKeyAlias({ id: other.id, alias: "x", bluemixInstance }), 400, "INVALID_PATH_PARAM_ERR");
        await refused(kp.createKeyAlias({ id: other.id, alias: "versions", bluemixInstance }), 400, "INVALID_PATH_PARAM_ERR");
        for (const a of ["a2", "a3", "a4", "a5"]) await kp.createKeyAlias({ id: k.id, alias: a, bluemixInstance });
        await refused(kp.createKeyAlias({ id: k.id, alias: "a6", bluemixInstance }), 400, "KEY_ALIAS_QUOTA_ERR");

        assert.strictEqual((await kp.deleteKeyAlias({ id: k.id, alias: "payments-root", bluemixInstance })).status, 204);
        await refused(kp.getKey({ id: "payments-root", bluemixInstance }), 404, "KEY_NOT_FOUND_ERR");
        assert.strictEqual((await kp.createKeyAlias({ id: other.id, alias: "payments-root", bluemixInstance })).status, 201, "the name is free again");
        // a key deleted by alias
        assert.strictEqual((await kp.deleteKey({ id: "payments-root", bluemixInstance, prefer: "return=representation" })).result.resources[0].id, other.id);
    });

    it("registrations: listed by key and by instance; deleting needs force (PROTECTED_RESOURCE_ERR), never past a retention policy (PREV_KEY_DEL_ERR)", async () => {
        const k = await newKey("protecting-cos");
        await register(k.id, COS("invoices"), { description: "bucket invoices" });
        const byKey = await kp.getRegistrations({ id: k.id, bluemixInstance });
        assert.strictEqual(byKey.status, 200);
        assert.strictEqual(byKey.result.metadata.collectionType, "application/vnd.ibm.kms.registration+json");
        const g = byKey.result.resources[0];
        assert.strictEqual(g.keyId, k.id);
        assert.strictEqual(g.resourceCrn, COS("invoices"));
        assert.strictEqual(g.preventKeyDeletion, false);
        assert.strictEqual(g.keyVersion.id, k.keyVersion.id);
        const all = await kp.getRegistrationsAllKeys({
            bluemixInstance,
            urlEncodedResourceCrnQuery: encodeURIComponent("crn:v1:bluemix:public:cloud-object-storage:*"),
        });
        assert.deepStrictEqual(
            all.result.resources.map((r: { resourceCrn: string }) => r.resourceCrn),
            [COS("invoices")],
        );

        await refused(kp.deleteKey({ id: k.id, bluemixInstance }), 409, "PROTECTED_RESOURCE_ERR");
        const forced = await kp.deleteKey({ id: k.id, bluemixInstance, force: true, prefer: "return=representation" });
        assert.strictEqual(forced.result.resources[0].state, 5);

        const kept = await newKey("retained");
        await register(kept.id, COS("ledger"), { preventKeyDeletion: true });
        await refused(kp.deleteKey({ id: kept.id, bluemixInstance }), 409, "PREV_KEY_DEL_ERR");
        await refused(kp.deleteKey({ id: kept.id, bluemixInstance, force: true }), 409, "PREV_KEY_DEL_ERR");
    });

    it("dual authorization (key policy): a second identity sets the key for deletion; the first deletes within 7 days", async () => {
        const k = await newKey("two-person");
        await kp.putPolicy({
            id: k.id,
            bluemixInstance,
            policy: "dualAuthDelete",
            setKeyPoliciesOneOf: {
                metadata: { collectionType: POLICY_TYPE, collectionTotal: 1 },
                resources: [{ type: POLICY_TYPE, dualAuthDelete: { enabled: true } }],
            },
        });
        await refused(kp.deleteKey({ id: k.id, bluemixInstance }), 409, "AUTHORIZATIONS_NOT_MET");
        // the one who set it cannot also delete it
        assert.strictEqual((await kp.setKeyForDeletion({ id: k.id, bluemixInstance })).status, 204);
        await refused(kp.deleteKey({ id: k.id, bluemixInstance }), 409, "AUTHORIZATIONS_NOT_MET");
        assert.strictEqual((await kp.unsetKeyForDeletion({ id: k.id, bluemixInstance })).status, 204);
        // set by the second identity, expired after 7 days
        await second.setKeyForDeletion({ id: k.id, bluemixInstance });
        await advance(7 * 86400 + 1);
        await refused(kp.deleteKey({ id: k.id, bluemixInstance }), 409, "AUTHORIZATIONS_NOT_MET");
        await second.setKeyForDeletion({ id: k.id, bluemixInstance });
        assert.strictEqual((await kp.deleteKey({ id: k.id, bluemixInstance })).status, 204);

        const plain = await newKey("single-person");
        await refused(kp.setKeyForDeletion({ id: plain.id, bluemixInstance }), 409, "NOT_DUAL_AUTH_ERR");
    });

    it("instance policies: PUT 204 and GET them back; new keys inherit dual authorization and rotation; keyCreateImportAccess is enforced", async () => {
        const put = (resources: unknown[], policy?: string) =>
            kp.putInstancePolicy({
                bluemixInstance,
                policy,
                setInstancePoliciesOneOf: { metadata: { collectionType: POLICY_TYPE, collectionTotal: resources.length }, resources },
            });
        const before = await newKey("before-policies");
        assert.strictEqual(
            (
                await put([
                    { policy_type: "dualAuthDelete", policy_data: { enabled: true } },
                    { policy_type: "rotation", policy_data: { enabled: true, attributes: { interval_month: 3 } } },
                    { policy_type: "metrics", policy_data: { enabled: true } },
                    { policy_type: "allowedNetwork", policy_data: { enabled: true, attributes: { allowed_network: "public-and-private" } } },
                ])
            ).status,
            204,
        );
        const got = await kp.getInstancePolicy({ bluemixInstance });
        assert.strictEqual(got.status, 200);
        assert.deepStrictEqual(got.result.resources.map((p: { policy_type: string }) => p.policy_type).sort(), [
            "allowedNetwork",
            "dualAuthDelete",
            "metrics",
            "rotation",
        ]);
        const rotation = (await kp.getInstancePolicy({ bluemixInstance, policy: "rotation" })).result.resources;
        assert.strictEqual(rotation.length, 1);
        assert.deepStrictEqual(rotation[0].policy_data, { enabled: true, attributes: { interval_month: 3 } });
        assert.ok(rotation[0].createdBy && rotation[0].creationDate && rotation[0].updatedBy && rotation[0].lastUpdated);

        const after = await newKey("after-policies");
        assert.strictEqual(after.dualAuthDelete.enabled, true, "a key created afterwards carries dual authorization");
        assert.strictEqual(before.dualAuthDelete.enabled, false);
        const kpol = (await kp.getPolicy({ id: after.id, bluemixInstance, policy: "rotation" })).result.resources[0];
        assert.strictEqual(kpol.rotation.interval_month, 3);
        await refused(kp.deleteKey({ id: after.id, bluemixInstance }), 409, "AUTHORIZATIONS_NOT_MET");
        await second.setKeyForDeletion({ id: after.id, bluemixInstance });
        assert.strictEqual((await kp.deleteKey({ id: after.id, bluemixInstance })).status, 204);

        await refused(
            put(
                [
                    { policy_type: "metrics", policy_data: { enabled: true } },
                    { policy_type: "dualAuthDelete", policy_data: { enabled: false } },
                ],
                "metrics",
            ),
            400,
            "NUM_COLLECTION_RESOURCE_ERR",
        );
        await refused(put([{ policy_type: "rotation", policy_data: { enabled: true, attributes: { interval_month: 13 } } }]), 400, "BAD_BODY_ERR");

        await put(
            [{ policy_type: "keyCreateImportAccess", policy_data: { enabled: true, attributes: { create_standard_key: false, import_root_key: false } } }],
            "keyCreateImportAccess",
        );
        const access = (await kp.getInstancePolicy({ bluemixInstance, policy: "keyCreateImportAccess" })).result.resources[0].policy_data;
        assert.deepStrictEqual(access.attributes, {
            create_root_key: true,
            create_standard_key: false,
            import_root_key: false,
            import_standard_key: true,
            enforce_token: false,
        });
        await refused(kp.createKey({ bluemixInstance, body: keyBody("std-refused", { extractable: true }) }), 409, "KEY_CREATE_IMPORT_ACCESS_ERR");
        await refused(
            kp.createKey({ bluemixInstance, body: keyBody("import-refused", { payload: Buffer.alloc(32, 7).toString("base64") }) }),
            409,
            "KEY_CREATE_IMPORT_ACCESS_ERR",
        );
        assert.strictEqual((await kp.createKey({ bluemixInstance, body: keyBody("root-allowed") })).status, 201);
        // The instance's dual authorization can always be turned off again (IBM: it then applies to future keys
        // only); a key made while it was on keeps needing two people.
        const whileOn = await newKey("while-dual-auth");
        await put([{ policy_type: "dualAuthDelete", policy_data: { enabled: false } }], "dualAuthDelete");
        const afterOff = await newKey("after-dual-auth-off");
        assert.strictEqual(afterOff.dualAuthDelete.enabled, false, "a key created after it was turned off has single authorization");
        await refused(kp.deleteKey({ id: whileOn.id, bluemixInstance }), 409, "AUTHORIZATIONS_NOT_MET");
        assert.strictEqual((await kp.deleteKey({ id: afterOff.id, bluemixInstance })).status, 204);
        await put([{ policy_type: "keyCreateImportAccess", policy_data: { enabled: false } }], "keyCreateImportAccess");
    });
});
