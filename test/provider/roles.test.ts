import * as assert from "assert";
import { knownRoles, resolveRole, canResolveOffline, isRoleCrn } from "../../provider/policy/roles";

describe("role resolution", () => {
    it("resolves generic, platform and service-specific names to IBM's CRNs", () => {
        assert.deepStrictEqual(resolveRole("Writer", "hs-crypto"), { ok: true, crn: "crn:v1:bluemix:public:iam::::serviceRole:Writer" });
        assert.deepStrictEqual(resolveRole("Viewer", "kms"), { ok: true, crn: "crn:v1:bluemix:public:iam::::role:Viewer" });
        assert.deepStrictEqual(resolveRole("KeyPurge", "kms"), { ok: true, crn: "crn:v1:bluemix:public:kms::::serviceRole:KeyPurge" });
        assert.deepStrictEqual(resolveRole("Key Custodian - Creator", "hs-crypto"), {
            ok: true,
            crn: "crn:v1:bluemix:public:hs-crypto::::serviceRole:KeyCustodianCreator",
        });
    });

    it("folds case, spaces and dashes", () => {
        for (const name of ["key purge", "Key-Purge", "KEYPURGE", " KeyPurge "]) {
            assert.deepStrictEqual(resolveRole(name, "hs-crypto"), { ok: true, crn: "crn:v1:bluemix:public:hs-crypto::::serviceRole:KeyPurge" });
        }
    });

    it("rejects an unknown name with the list of valid roles for that service", () => {
        const r = resolveRole("Writter", "hs-crypto");
        assert.strictEqual(r.ok, false);
        if (!r.ok) {
            assert.match(r.reason, /unknown role "Writter" for hs-crypto/);
            for (const valid of ["Reader", "Writer", "Manager", "ReaderPlus", "KeyPurge", "Vault Administrator"]) assert.ok(r.reason.includes(valid), valid);
        }
    });

    it("rejects a service-specific role of another service", () => {
        assert.strictEqual(resolveRole("VaultAdministrator", "kms").ok, false);
        const r = resolveRole("crn:v1:bluemix:public:kms::::serviceRole:KeyPurge", "hs-crypto");
        assert.strictEqual(r.ok, false);
    });

    it("accepts a valid CRN and passes through CRNs of services it does not know", () => {
        assert.deepStrictEqual(resolveRole("crn:v1:bluemix:public:hs-crypto::::serviceRole:KeyPurge", "hs-crypto"), {
            ok: true,
            crn: "crn:v1:bluemix:public:hs-crypto::::serviceRole:KeyPurge",
        });
        assert.deepStrictEqual(resolveRole("crn:v1:bluemix:public:cloud-object-storage::::serviceRole:ObjectWriter", "cloud-object-storage"), {
            ok: true,
            crn: "crn:v1:bluemix:public:cloud-object-storage::::serviceRole:ObjectWriter",
        });
        assert.strictEqual(resolveRole("crn:v1:bluemix:public:iam::::serviceRole:Writter", "kms").ok, false);
        assert.strictEqual(resolveRole("crn:nonsense", "kms").ok, false);
    });

    it("accepts a custom role CRN, which carries its account in the scope segment", () => {
        const custom = "crn:v1:ibmcloud:public:iam-access-management::a/0bae863b1df44b9e99f58734da909ab9::customRole:KeyRotator";
        assert.ok(isRoleCrn(custom));
        assert.deepStrictEqual(resolveRole(custom, "kms"), { ok: true, crn: custom });
        assert.ok(!isRoleCrn("crn:v1:bluemix:public:iam::b/xyz::role:Viewer"), "only an a/<account> scope is a role scope");
    });

    it("knows which services resolve offline", () => {
        assert.ok(canResolveOffline("hs-crypto") && canResolveOffline("kms") && canResolveOffline(undefined));
        assert.ok(!canResolveOffline("cloud-object-storage"));
        assert.ok(isRoleCrn("crn:v1:bluemix:public:iam::::role:Administrator"));
        assert.strictEqual(knownRoles("hs-crypto").length, 4 + 3 + 7);
    });

    it("a service named after an Object member is just an unknown service (check used to throw on __proto__)", () => {
        for (const svc of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
            assert.strictEqual(knownRoles(svc).length, 4 + 3, svc);
            assert.ok(!resolveRole("KeyPurge", svc).ok, svc);
        }
    });
});
