// Lost create answers through the REAL dynamic-provider plugin: with the emulator dropping the answer
// to each create after the write (or holding it past `ibmcloud:timeout`), every resource's `create`
// returns the object IBM made, and IBM holds exactly one.
import { strict as assert } from "assert";
import "../support/failFast";
import { RunningEmulator, FaultRule } from "../../emulator";
import { accessPolicyProvider } from "../../provider/accessPolicy";
import { authorizationPolicyProvider } from "../../provider/authorizationPolicy";
import { kmsKeyRingProvider } from "../../provider/kmsKeyRing";
import { kmsKeyProvider } from "../../provider/kmsKey";
import { kmsInstancePoliciesProvider } from "../../provider/kmsInstancePolicies";
import { serviceApiKeyProvider } from "../../provider/serviceApiKey";
import { serviceIdProvider } from "../../provider/serviceId";
import { trustedProfileProvider } from "../../provider/trustedProfile";
import { trustedProfileLinkProvider } from "../../provider/trustedProfileLink";
import { trustedProfileClaimRuleProvider } from "../../provider/trustedProfileClaimRule";
import { trustedProfileIdentityProvider } from "../../provider/trustedProfileIdentity";
import { TrustedProfileClient } from "../../client";
import { RunningPlugin } from "./harness";
import { PluginOnEmulator, startPluginOnEmulator } from "./onEmulator";
import { deploy } from "./steps";

interface AdminState {
    serviceIds: Array<{ id: string; name: string }>;
    apiKeys: Array<{ id: string; iam_id: string }>;
    policies: Array<{ id: string; state: string; subjects: Array<{ attributes: Array<{ value: string }> }> }>;
}

const LOST_AFTER_WRITE: Array<Omit<FaultRule, "method" | "path">> = [{ kind: "reset-after" }, { kind: "slow", delayMs: 2500 }, { kind: "malformed-json" }];

describe("plugin: creates whose answer is lost adopt what IBM made", function () {
    this.timeout(60_000);
    let emu: RunningEmulator;
    let plugin: RunningPlugin;
    let world: PluginOnEmulator;

    before(async function () {
        // A short request timeout so a held answer counts as lost quickly.
        world = await startPluginOnEmulator({ config: { "ibmcloud:timeout": "1" } });
        ({ emu, plugin } = world);
    });
    afterEach(() => emu.clearFaults());
    after(async function () {
        await world?.stop();
    });

    async function state(): Promise<AdminState> {
        return (await (await fetch(`${emu.url}/__emulator/state`)).json()) as AdminState;
    }
    for (const rule of LOST_AFTER_WRITE) {
        it(`${rule.kind}: ServiceId, ServiceApiKey and AccessPolicy each end with one object, the one in state`, async function () {
            const name = `lost-${rule.kind}-${Math.random().toString(16).slice(2, 8)}`;
            const fired = emu.stats().faultsInjected.total;

            emu.addFaults([{ ...rule, method: "POST", path: "/v1/serviceids", count: 1 }]);
            const sid = await deploy(plugin, serviceIdProvider, { name });
            const sids = (await state()).serviceIds.filter((s) => s.name === name);
            assert.deepStrictEqual(
                sids.map((s) => s.id),
                [sid.id],
            );
            const iamId = String(sid.outs.iamId);

            emu.addFaults([{ ...rule, method: "POST", path: "/v1/apikeys", count: 1 }]);
            const key = await deploy(plugin, serviceApiKeyProvider, { name: `${name}-key`, serviceId: sid.id });
            assert.deepStrictEqual(
                (await state()).apiKeys.filter((k) => k.iam_id === iamId).map((k) => k.id),
                [key.id],
            );
            // The value in state is the key's: it gets a token for the service ID.
            const token = await fetch(`${emu.url}/identity/token`, {
                method: "POST",
                headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
                body: new URLSearchParams({ grant_type: "urn:ibm:params:oauth:grant-type:apikey", apikey: String(key.outs.apikey) }).toString(),
            });
            assert.equal(token.status, 200);

            emu.addFaults([{ ...rule, method: "POST", path: "/v1/policies", count: 1 }]);
            const policy = await deploy(plugin, accessPolicyProvider, {
                serviceId: sid.id,
                roles: ["Writer"],
                resource: { serviceName: "hs-crypto", serviceInstance: emu.instances[0].guid },
            });
            const live = (await state()).policies.filter((p) => p.state === "active" && p.subjects[0].attributes[0].value === iamId);
            assert.deepStrictEqual(
                live.map((p) => p.id),
                [policy.id],
            );

            assert.equal(emu.stats().faultsInjected.total, fired + 3, "each create met its fault");
            for (const [provider, d] of [
                [accessPolicyProvider, policy],
                [serviceApiKeyProvider, key],
                [serviceIdProvider, sid],
            ] as const) {
                await plugin.delete(provider, d.id, d.outs);
            }
        });
    }

    for (const rule of LOST_AFTER_WRITE) {
        it(`${rule.kind}: TrustedProfile and TrustedProfileLink each end with one object, the one in state`, async function () {
            const profiles = new TrustedProfileClient(world.owner);
            const name = `lost-profile-${rule.kind}-${Math.random().toString(16).slice(2, 8)}`;
            const fired = emu.stats().faultsInjected.total;
            emu.addFaults([{ ...rule, method: "POST", path: "/v1/profiles", count: 1 }]);
            const profile = await deploy(plugin, trustedProfileProvider, { name });
            assert.deepStrictEqual(
                (await profiles.listProfiles({ name })).map((p) => p.id),
                [profile.id],
            );
            emu.addFaults([{ ...rule, method: "POST", path: "/v1/profiles/*/links", count: 1 }]);
            const crn = `crn:v1:bluemix:public:is:us-south-1:a/${emu.accountId}::instance:${name}`;
            const link = await deploy(plugin, trustedProfileLinkProvider, { profileId: profile.id, crType: "VSI", crn });
            assert.deepStrictEqual(
                (await profiles.listLinks(profile.id)).map((l) => `${profile.id}/${l.id}`),
                [link.id],
            );
            assert.equal(emu.stats().faultsInjected.total, fired + 2, "each create met its fault");
            await plugin.delete(trustedProfileLinkProvider, link.id, link.outs);
            await plugin.delete(trustedProfileProvider, profile.id, profile.outs);
        });
    }

    for (const rule of LOST_AFTER_WRITE) {
        it(`${rule.kind}: TrustedProfileClaimRule and TrustedProfileIdentity each end with one object, the one in state`, async function () {
            const profiles = new TrustedProfileClient(world.owner);
            const name = `lost-trust-${rule.kind}-${Math.random().toString(16).slice(2, 8)}`;
            const profile = await deploy(plugin, trustedProfileProvider, { name });
            const sid = await world.owner.createServiceId({ name: `${name}-deployer` });
            const fired = emu.stats().faultsInjected.total;
            emu.addFaults([{ ...rule, method: "POST", path: "/v1/profiles/*/rules", count: 1 }]);
            const claimRule = await deploy(plugin, trustedProfileClaimRuleProvider, {
                profileId: profile.id,
                type: "Profile-CR",
                crType: "IKS_SA",
                conditions: [{ claim: "namespace", operator: "EQUALS", value: name }],
            });
            assert.deepStrictEqual(
                (await profiles.listClaimRules(profile.id)).map((r) => `${profile.id}/${r.id}`),
                [claimRule.id],
            );
            emu.addFaults([{ ...rule, method: "POST", path: "/v1/profiles/*/identities/*", count: 1 }]);
            const identity = await deploy(plugin, trustedProfileIdentityProvider, { profileId: profile.id, identityType: "serviceid", identifier: sid.id });
            assert.deepStrictEqual(
                (await profiles.listIdentities(profile.id)).identities.map((i) => `${profile.id}|${i.type}|${i.identifier}`),
                [identity.id],
            );
            assert.equal(emu.stats().faultsInjected.total, fired + 2, "each create met its fault");
            await plugin.delete(trustedProfileIdentityProvider, identity.id, identity.outs);
            await plugin.delete(trustedProfileClaimRuleProvider, claimRule.id, claimRule.outs);
            await plugin.delete(trustedProfileProvider, profile.id, profile.outs);
            await plugin.delete(serviceIdProvider, sid.id, {});
        });
    }

    for (const rule of LOST_AFTER_WRITE) {
        it(`${rule.kind}: AuthorizationPolicy and KmsKeyRing each end with one object, the one in state`, async function () {
            const guid = emu.instances[0].guid;
            const fired = emu.stats().faultsInjected.total;
            const source = `src-${rule.kind}-${Math.random().toString(16).slice(2, 8)}`.replace(/[^a-z0-9-]/g, "");
            emu.addFaults([{ ...rule, method: "POST", path: "/v1/policies", count: 1 }]);
            const auth = await deploy(plugin, authorizationPolicyProvider, {
                sourceServiceName: source,
                targetServiceName: "hs-crypto",
                targetServiceInstance: guid,
            });
            const live = (await state()).policies.filter((p) => p.state === "active" && JSON.stringify(p).includes(source));
            assert.deepStrictEqual(
                live.map((p) => p.id),
                [auth.id],
            );

            const ringId = `ring-${rule.kind}`;
            emu.addFaults([{ ...rule, method: "POST", path: "/api/v2/key_rings/*", count: 1 }]);
            const ring = await deploy(plugin, kmsKeyRingProvider, { instanceId: guid, endpoint: emu.url, keyRingId: ringId, apiKey: emu.apiKey });
            assert.strictEqual(ring.id, ringId);
            const kms = await fetch(`${emu.url}/api/v2/key_rings`, {
                headers: { authorization: `Bearer ${await world.owner.tokens.getToken()}`, "bluemix-instance": guid },
            });
            const rings = ((await kms.json()) as { resources: Array<{ id: string }> }).resources.filter((r) => r.id === ringId);
            assert.strictEqual(rings.length, 1);
            assert.equal(emu.stats().faultsInjected.total, fired + 2, "each create met its fault");
            await plugin.delete(kmsKeyRingProvider, ring.id, ring.outs);
            await plugin.delete(authorizationPolicyProvider, auth.id, auth.outs);
        });
    }

    for (const rule of LOST_AFTER_WRITE) {
        it(`${rule.kind}: a KmsKey with aliases and KmsInstancePolicies end with one key holding its aliases, and the policies set`, async function () {
            const guid = emu.instances[0].guid;
            const fired = emu.stats().faultsInjected.total;
            const tag = rule.kind.replace(/[^a-z0-9]/g, "");
            const headers = { authorization: `Bearer ${await world.owner.tokens.getToken()}`, "bluemix-instance": guid };
            // The key's create and then its alias's create each lose their answer once.
            emu.addFaults([
                { ...rule, method: "POST", path: "/api/v2/keys", count: 1 },
                { ...rule, method: "POST", path: "/api/v2/keys/*/aliases/*", count: 1 },
            ]);
            const key = await deploy(plugin, kmsKeyProvider, {
                instanceId: guid,
                endpoint: emu.url,
                name: `lost-${tag}`,
                aliases: [`lost-${tag}`],
                apiKey: emu.apiKey,
            });
            const keys = ((await (await fetch(`${emu.url}/api/v2/keys`, { headers })).json()) as { resources: Array<{ id: string; name: string }> }).resources;
            assert.deepStrictEqual(
                keys.filter((k) => k.name === `lost-${tag}`).map((k) => k.id),
                [key.id],
            );
            assert.deepStrictEqual(key.outs.aliases, [`lost-${tag}`]);

            emu.addFaults([{ ...rule, method: "PUT", path: "/api/v2/instance/policies", count: 1 }]);
            const policies = await deploy(plugin, kmsInstancePoliciesProvider, {
                instanceId: guid,
                endpoint: emu.url,
                metrics: { enabled: true },
                apiKey: emu.apiKey,
            });
            assert.deepStrictEqual(policies.outs.metrics, { enabled: true });
            assert.equal(emu.stats().faultsInjected.total, fired + 3, "each create met its fault");
            await plugin.delete(kmsKeyProvider, key.id, key.outs);
            await plugin.delete(kmsInstancePoliciesProvider, policies.id, policies.outs);
        });
    }
});
