// The provider resolves role names offline from its own catalogue (provider/roles.ts); the emulator
// answers `GET /v2/roles` and judges policies from its catalogue (emulator/iam/roles.ts). Both restate
// IBM's roles for kms and hs-crypto, so they must agree: same CRNs, same display names, same kinds.
import { strict as assert } from "assert";
import { rolesFor } from "../../emulator/iam/roles";
import { KNOWN_ROLE_SERVICES, knownRoles } from "../../provider/policy/roles";

describe("provider/roles and the emulator's role catalogue agree", () => {
    for (const service of KNOWN_ROLE_SERVICES) {
        it(`${service}: every role, with its CRN, display name and kind`, () => {
            const provider = knownRoles(service)
                .map((r) => `${r.kind} ${r.crn} ${r.displayName}`)
                .sort();
            const emu = rolesFor(service);
            const emulator = [
                ...emu.system_roles.map((r) => `platform ${r.crn} ${r.display_name}`),
                ...emu.service_roles.map((r) => `service ${r.crn} ${r.display_name}`),
            ].sort();
            assert.deepEqual(provider, emulator);
            assert.deepEqual(emu.custom_roles, [], "no custom roles are seeded");
        });
    }

    it("a service the provider cannot resolve offline has only the generic roles in both", () => {
        const generic = (crns: string[]) => crns.filter((c) => c.startsWith("crn:v1:bluemix:public:iam::::")).sort();
        const provider = knownRoles("cloud-object-storage").map((r) => r.crn);
        const emu = rolesFor("cloud-object-storage");
        assert.deepEqual(generic(provider), generic([...emu.system_roles, ...emu.service_roles].map((r) => r.crn)));
    });
});
