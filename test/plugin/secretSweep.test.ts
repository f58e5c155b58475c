// Secrets hygiene of the dynamic providers through the REAL plugin: the deployer's key
// (stack config), bring-your-own API key values, service-ID keys handed to KmsKey / KmsAccessReady,
// imported key material and every token the emulator mints are driven through the error paths of
// check, create, read, update and delete — the emulator's real refusals, and a proxy in front of it
// that echoes every credential of the request back in its errors, resets and hangs. Searched: each
// gRPC error (message, details, the plugin's stderr during the call, the reasons of a partial
// failure), the check failures, and the plugin's whole stdout and stderr. A partial failure's
// `properties` are the resource's state (the engine stores the secret outputs encrypted): only its
// secret-output fields may hold a value, and that is asserted separately.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as util from "util";
import "../support/failFast";
import { startEmulator, RunningEmulator } from "../../emulator";
import {
    accessPolicyProvider,
    authorizationPolicyProvider,
    kmsAccessReadyProvider,
    kmsKeyProvider,
    kmsKeyRingProvider,
    serviceApiKeyProvider,
    serviceIdProvider,
    trustedProfileClaimRuleProvider,
    trustedProfileIdentityProvider,
    trustedProfileLinkProvider,
    trustedProfileProvider,
} from "../../provider";
import { IamClient, IamTokenManager, TrustedProfileClient } from "../../client";
import { describeLeaks, SecretTap, startSecretTap, Sweep, TapRule, distinctive } from "../support/secretTap";
import { PluginCallError, Props, RunningPlugin, startPlugin } from "./harness";
import { kmsInstanceGrant } from "../support/grants";

const OWNER_KEY = distinctive("pluginSweepOwner-");
const UNKNOWN_KEY = distinctive("pluginSweepUnknown-");
const BYO_KEY = distinctive("pluginSweepByo-");
const BYO_KEY_2 = distinctive("pluginSweepByoTwo-");
const PAYLOAD = Buffer.from("plugin-sweep-key-material-32byte").toString("base64");
/** Outputs that are secret by design (additionalSecretOutputs): state, not output. */
const SECRET_STATE_FIELDS = ["apikey", "apiKey", "payload"];
const NO_ENV_CREDENTIALS = {
    IC_API_KEY: undefined,
    IBMCLOUD_API_KEY: undefined,
    IBMCLOUD_IAM_API_ENDPOINT: undefined,
    IC_TIMEOUT: undefined,
    IBMCLOUD_TIMEOUT: undefined,
};

/** What a failed plugin call shows: the gRPC message and details, the plugin's stderr meanwhile, a
 * partial failure's reasons and its properties minus the secret outputs (checked apart). */
function pluginErrorTexts(err: unknown): string[] {
    if (!(err instanceof PluginCallError)) return [String(err), util.inspect(err, { depth: 10 })];
    const out = [err.message, err.details, err.stderr, String(err.stack)];
    if (err.partial) {
        const props = Object.fromEntries(Object.entries(err.partial.properties).filter(([k]) => !SECRET_STATE_FIELDS.includes(k)));
        out.push(JSON.stringify(err.partial.reasons), JSON.stringify(props), err.partial.id);
    }
    return out;
}

describe("secrets hygiene: the providers through the real plugin show no key or token", function () {
    this.timeout(120_000);
    let emu: RunningEmulator;
    let tap: SecretTap;
    let plugin: RunningPlugin;
    let owner: IamClient;
    let instance: string;
    const sweep = new Sweep();
    const chosen = [OWNER_KEY, UNKNOWN_KEY, BYO_KEY, BYO_KEY_2, PAYLOAD];
    const extraPlugins: RunningPlugin[] = [];
    let checkedUpTo = 0;

    const secrets = () => [...new Set([...tap.values(), ...chosen])];

    function assertClean(where: string, everything = false): void {
        const leaks = sweep.leaks(secrets(), everything ? 0 : checkedUpTo);
        checkedUpTo = sweep.texts.length;
        assert.ok(leaks.length === 0, `${where}: ${leaks.length} secrets found in output:\n${describeLeaks(leaks)}`);
    }

    async function withRules<T>(rules: TapRule[], fn: () => Promise<T>): Promise<T> {
        tap.setRules(rules);
        try {
            return await fn();
        } finally {
            tap.setRules([]);
        }
    }

    /** A plugin call that must fail; its texts are collected. */
    function fails(label: string, call: () => Promise<unknown>): Promise<Error & Record<string, any>> {
        return sweep.fails(label, call, pluginErrorTexts);
    }

    /** check must refuse; the failures' texts are collected. */
    async function checkRefuses(label: string, provider: object, news: Props, via = plugin): Promise<void> {
        const r = await via.check(provider, {}, news);
        assert.ok(r.failures.length > 0, `${label}: check accepted it`);
        sweep.add(`${label} [check failures]`, JSON.stringify(r.failures));
        sweep.paths.push(label);
    }

    async function create(provider: object, news: Props): Promise<{ id: string; inputs: Props; outs: Props }> {
        const checked = await plugin.check(provider, {}, news);
        assert.deepStrictEqual(checked.failures, []);
        const created = await plugin.create(provider, checked.inputs);
        return { id: created.id, inputs: checked.inputs, outs: created.outs };
    }

    const TOKEN = /^\/identity\/token$/;

    before(async function () {
        emu = await startEmulator({ port: 0, ownerApiKey: OWNER_KEY });
        instance = emu.instances[0].guid;
        tap = await startSecretTap(emu.url);
        owner = new IamClient({ tokenManager: new IamTokenManager({ apiKey: OWNER_KEY, iamEndpoint: emu.url }) });
        plugin = await startPlugin({
            config: { "ibmcloud:apiKey": OWNER_KEY, "ibmcloud:iamEndpoint": tap.url, "ibmcloud:kmsEndpoint": tap.url, "ibmcloud:timeout": "1" },
            secretKeys: ["ibmcloud:apiKey"],
            env: NO_ENV_CREDENTIALS,
        });
    });
    after(async function () {
        for (const p of extraPlugins) await p.stop();
        await plugin?.stop();
        await owner?.http.close();
        await tap?.stop();
        await emu?.stop();
    });

    it("ServiceId: the deployer's key and tokens through token and IAM refusals, resets and timeouts", async function () {
        const p = serviceIdProvider;
        for (const status of [400, 401, 403, 429, 500, 503]) {
            await withRules([{ path: TOKEN, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`ServiceId create, token ${status} echo`, () => create(p, { name: "sweep" })),
            );
        }
        for (const status of [400, 401, 403, 409, 429, 500, 502, 503]) {
            await withRules([{ method: "POST", path: /^\/v1\/serviceids$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`ServiceId create, IAM ${status} echo`, () => create(p, { name: `sweep-${status}` })),
            );
        }
        const d = await create(p, { name: "sweep-live" });
        for (const status of [401, 403, 500]) {
            await withRules([{ method: "GET", path: /^\/v1\/serviceids\/[^/]+$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`ServiceId read, IAM ${status} echo`, () => plugin.read(p, d.id, d.outs)),
            );
        }
        await withRules([{ method: "GET", path: /^\/v1\/serviceids\/[^/]+$/, action: { kind: "echo-text", status: 502, retryAfter: "0", pad: 480 } }], () =>
            fails("ServiceId read, plain-text page dumping the request", () => plugin.read(p, d.id, d.outs)),
        );
        const s = await owner.getServiceId(d.id);
        await owner.updateServiceId(d.id, s.entity_tag, { description: "by a colleague" });
        await fails("ServiceId update, stale entity tag (emulator)", () => plugin.update(p, d.id, d.outs, { ...d.inputs, name: "x" }));
        await withRules([{ method: "PUT", path: /^\/v1\/serviceids\/[^/]+$/, action: { kind: "echo", status: 412 } }], () =>
            fails("ServiceId update, 412 echo", () => plugin.update(p, d.id, { ...d.outs, entityTag: s.entity_tag }, { ...d.inputs, name: "y" })),
        );
        for (const status of [409, 500]) {
            await withRules([{ method: "DELETE", path: /^\/v1\/serviceids\/[^/]+$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`ServiceId delete, IAM ${status} echo`, () => plugin.delete(p, d.id, d.outs)),
            );
        }
        // Transport: a reset, then 502s until the retries are exhausted; a create whose answer never comes.
        await withRules(
            [
                { method: "GET", path: /^\/v1\/serviceids\/[^/]+$/, count: 1, action: { kind: "reset" } },
                { method: "GET", path: /^\/v1\/serviceids\/[^/]+$/, action: { kind: "echo", status: 502, retryAfter: "0" } },
            ],
            () => fails("ServiceId read, connection reset then 502 echoes until retries are exhausted", () => plugin.read(p, d.id, d.outs)),
        );
        await withRules([{ method: "POST", path: /^\/v1\/serviceids$/, action: { kind: "hang" } }], () =>
            fails("ServiceId create, no answer within ibmcloud:timeout", () => create(p, { name: "sweep-hang" })),
        );
        await plugin.delete(p, d.id, d.outs);
        assertClean("ServiceId");
    });

    it("TrustedProfile and TrustedProfileLink: the deployer's key and tokens through token and IAM refusals, a stale entity tag and timeouts", async function () {
        const p = trustedProfileProvider;
        const l = trustedProfileLinkProvider;
        const profiles = new TrustedProfileClient(owner);
        for (const status of [400, 401, 403, 500]) {
            await withRules([{ path: TOKEN, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`TrustedProfile create, token ${status} echo`, () => create(p, { name: `sweep-tp-token-${status}` })),
            );
        }
        for (const status of [400, 401, 403, 409, 429, 500, 502, 503]) {
            await withRules([{ method: "POST", path: /^\/v1\/profiles$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`TrustedProfile create, IAM ${status} echo`, () => create(p, { name: `sweep-tp-${status}` })),
            );
        }
        const d = await create(p, { name: "sweep-tp-live" });
        for (const status of [401, 403, 500]) {
            await withRules([{ method: "GET", path: /^\/v1\/profiles\/[^/]+$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`TrustedProfile read, IAM ${status} echo`, () => plugin.read(p, d.id, d.outs)),
            );
        }
        const live = await profiles.getProfile(d.id);
        await profiles.updateProfile(d.id, live.entity_tag, { description: "by a colleague" });
        await fails("TrustedProfile update, stale entity tag (emulator)", () => plugin.update(p, d.id, d.outs, { ...d.inputs, name: "x" }));
        await withRules([{ method: "DELETE", path: /^\/v1\/profiles\/[^/]+$/, action: { kind: "echo", status: 500, retryAfter: "0" } }], () =>
            fails("TrustedProfile delete, IAM 500 echo", () => plugin.delete(p, d.id, d.outs)),
        );
        const crn = `crn:v1:bluemix:public:is:us-south-1:a/${emu.accountId}::instance:sweep`;
        for (const status of [400, 403, 500]) {
            await withRules([{ method: "POST", path: /^\/v1\/profiles\/[^/]+\/links$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`TrustedProfileLink create, IAM ${status} echo`, () => create(l, { profileId: d.id, crType: "VSI", crn })),
            );
        }
        await withRules([{ method: "POST", path: /^\/v1\/profiles\/[^/]+\/links$/, action: { kind: "hang" } }], () =>
            fails("TrustedProfileLink create, no answer within ibmcloud:timeout", () => create(l, { profileId: d.id, crType: "VSI", crn: `${crn}-hang` })),
        );
        await plugin.delete(p, d.id, d.outs);
        assertClean("TrustedProfile");
    });

    it("TrustedProfileClaimRule and TrustedProfileIdentity: the deployer's key and tokens through IAM refusals, a stale entity tag and timeouts", async function () {
        const p = trustedProfileProvider;
        const r = trustedProfileClaimRuleProvider;
        const i = trustedProfileIdentityProvider;
        const profiles = new TrustedProfileClient(owner);
        const d = await create(p, { name: "sweep-trust" });
        const sid = await owner.createServiceId({ name: "sweep-trusted" });
        const rule = { profileId: d.id, type: "Profile-CR", crType: "IKS_SA", conditions: [{ claim: "namespace", operator: "EQUALS", value: "sweep" }] };
        for (const status of [400, 401, 403, 409, 429, 500, 502, 503]) {
            await withRules([{ method: "POST", path: /^\/v1\/profiles\/[^/]+\/rules$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`TrustedProfileClaimRule create, IAM ${status} echo`, () => create(r, rule)),
            );
            await withRules(
                [{ method: "POST", path: /^\/v1\/profiles\/[^/]+\/identities\/serviceid$/, action: { kind: "echo", status, retryAfter: "0" } }],
                () =>
                    fails(`TrustedProfileIdentity create, IAM ${status} echo`, () =>
                        create(i, { profileId: d.id, identityType: "serviceid", identifier: sid.id }),
                    ),
            );
        }
        await withRules([{ method: "POST", path: /^\/v1\/profiles\/[^/]+\/rules$/, action: { kind: "hang" } }], () =>
            fails("TrustedProfileClaimRule create, no answer within ibmcloud:timeout", () => create(r, rule)),
        );
        const cr = await create(r, { ...rule, conditions: [{ claim: "namespace", operator: "EQUALS", value: "sweep-live" }] });
        for (const status of [401, 403, 500]) {
            await withRules([{ method: "GET", path: /^\/v1\/profiles\/[^/]+\/rules\/[^/]+$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`TrustedProfileClaimRule read, IAM ${status} echo`, () => plugin.read(r, cr.id, cr.outs)),
            );
        }
        const live = await profiles.getClaimRule(d.id, String(cr.outs.ruleId));
        await profiles.updateClaimRule(d.id, live.id, live.entity_tag, {
            type: "Profile-CR",
            cr_type: "IKS_SA",
            conditions: live.conditions,
            name: "by a colleague",
        });
        await fails("TrustedProfileClaimRule update, stale entity tag (emulator)", () => plugin.update(r, cr.id, cr.outs, { ...cr.inputs, name: "x" }));
        const ti = await create(i, { profileId: d.id, identityType: "serviceid", identifier: sid.id });
        await fails("TrustedProfileIdentity create, already trusted (emulator)", () =>
            create(i, { profileId: d.id, identityType: "serviceid", identifier: sid.id }),
        );
        await withRules([{ method: "DELETE", path: /^\/v1\/profiles\/[^/]+\/identities\/.+$/, action: { kind: "echo", status: 500, retryAfter: "0" } }], () =>
            fails("TrustedProfileIdentity delete, IAM 500 echo", () => plugin.delete(i, ti.id, ti.outs)),
        );
        await plugin.delete(p, d.id, d.outs);
        await owner.deleteServiceId(sid.id);
        assertClean("TrustedProfileClaimRule");
    });

    it("ServiceApiKey: bring-your-own values refused by check, by IAM and by an echoing server; the value held in state through read, update and delete", async function () {
        const p = serviceApiKeyProvider;
        const sid = await owner.createServiceId({ name: "sweep-keys" });
        const base = { serviceId: sid.id, name: "k" };
        const short = "pluginSweepShort-0123";
        const spaced = "pluginSweepSpaced 0123456789abcdefghijklmnop";
        const tooLong = `${distinctive("pluginSweepLongA-")}${distinctive("pluginSweepLongB-")}${distinctive("pluginSweepLongC-")}`;
        chosen.push(short, spaced, tooLong);
        await checkRefuses("ServiceApiKey check, apikey too short", p, { ...base, apikey: short });
        await checkRefuses("ServiceApiKey check, apikey with whitespace", p, { ...base, apikey: spaced });
        await checkRefuses("ServiceApiKey check, apikey too long", p, { ...base, apikey: tooLong });
        await checkRefuses("ServiceApiKey check, apikey and a bad name", p, { ...base, name: "", apikey: BYO_KEY });
        await checkRefuses("ServiceApiKey check, apikey under a misspelled argument", p, { ...base, apiKey: BYO_KEY });

        const first = await create(p, { ...base, apikey: BYO_KEY });
        await fails("ServiceApiKey create, value already in use (emulator)", () => create(p, { ...base, name: "k2", apikey: BYO_KEY }));
        for (const status of [400, 409, 500]) {
            await withRules([{ method: "POST", path: /^\/v1\/apikeys$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`ServiceApiKey create with its value, IAM ${status} echo`, () => create(p, { ...base, name: `k-${status}`, apikey: BYO_KEY_2 })),
            );
        }
        for (const status of [401, 403, 500]) {
            await withRules([{ method: "GET", path: /^\/v1\/apikeys\/[^/]+$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`ServiceApiKey read (value in state), IAM ${status} echo`, () => plugin.read(p, first.id, first.outs)),
            );
        }
        const k = await owner.getApiKey(first.id);
        await owner.updateApiKey(first.id, k.entity_tag, { description: "by a colleague" });
        await fails("ServiceApiKey update, stale entity tag (emulator)", () => plugin.update(p, first.id, first.outs, { ...first.inputs, name: "renamed" }));
        await withRules([{ method: "PUT", path: /^\/v1\/apikeys\/[^/]+$/, action: { kind: "echo", status: 412 } }], () =>
            fails("ServiceApiKey update, 412 echo", () => plugin.update(p, first.id, first.outs, { ...first.inputs, name: "renamed" })),
        );
        // The rename is accepted, the disable that follows is refused: a partial failure carrying state.
        const fresh = (await plugin.read(p, first.id, first.outs)).props;
        const partial = await withRules([{ method: "POST", path: /^\/v1\/apikeys\/[^/]+\/disable$/, action: { kind: "echo", status: 403 } }], () =>
            fails("ServiceApiKey update, rename applied then disable refused (partial failure)", () =>
                plugin.update(p, first.id, fresh, { ...first.inputs, name: "renamed", disabled: true }),
            ),
        );
        assert.ok(partial.partial, "a partial failure: the engine records the new entity tag");
        assert.strictEqual(partial.partial.properties.apikey, BYO_KEY, "the state carries the value (the engine stores it as the secret output it is)");
        for (const status of [409, 500]) {
            await withRules([{ method: "DELETE", path: /^\/v1\/apikeys\/[^/]+$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`ServiceApiKey delete (value in state), IAM ${status} echo`, () => plugin.delete(p, first.id, partial.partial.properties)),
            );
        }
        // An output file that cannot be written: the key is deleted again; if that fails too, it is kept in state.
        const nowhere = path.join(os.tmpdir(), `no-such-dir-${process.pid}`, "key.json");
        await fails("ServiceApiKey create, outputFile not writable", () => create(p, { ...base, name: "file", outputFile: nowhere }));
        const kept = await withRules([{ method: "DELETE", path: /^\/v1\/apikeys\/[^/]+$/, action: { kind: "echo", status: 403 } }], () =>
            fails("ServiceApiKey create, outputFile not writable and the key not deletable (partial failure)", () =>
                create(p, { ...base, name: "file2", outputFile: nowhere }),
            ),
        );
        assert.ok(kept.partial?.properties.apikey, "the created key is kept in state");
        await plugin.delete(p, kept.partial!.id, kept.partial!.properties);
        await plugin.delete(p, first.id, partial.partial.properties);
        assert.ok(!fs.existsSync(nowhere));
        assertClean("ServiceApiKey");
    });

    it("AccessPolicy: conflicts, stale ETags and echoing servers", async function () {
        const p = accessPolicyProvider;
        const sid = await owner.createServiceId({ name: "sweep-policy" });
        const program = { serviceId: sid.id, roles: ["Reader"], resource: { serviceName: "hs-crypto", serviceInstance: instance } };
        const d = await create(p, program);
        await fails("AccessPolicy create, identical policy exists (emulator)", () => create(p, program));
        for (const status of [400, 403, 409, 500]) {
            await withRules([{ method: "POST", path: /^\/v1\/policies$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`AccessPolicy create, IAM ${status} echo`, () => create(p, { ...program, roles: ["Writer"] })),
            );
        }
        await withRules([{ method: "PUT", path: /^\/v1\/policies\/[^/]+$/, action: { kind: "echo", status: 412 } }], async () => {
            const checked = await plugin.check(p, d.inputs, { ...program, roles: ["Manager"] });
            await fails("AccessPolicy update, 412 echo", () => plugin.update(p, d.id, d.outs, checked.inputs));
        });
        await plugin.delete(p, d.id, d.outs);
        assertClean("AccessPolicy");
    });

    it("KmsKey and KmsAccessReady: service-ID keys and imported material through check, IAM and KMS refusals", async function () {
        const sid = await owner.createServiceId({ name: "sweep-kms" });
        const sidKey = distinctive("pluginSweepServiceIdKey-");
        chosen.push(sidKey);
        await owner.createApiKey({ iam_id: sid.iam_id, name: "sid-key", apikey: sidKey });
        const key = { instanceId: instance, endpoint: tap.url, name: "sweep-key", apiKey: sidKey };

        await checkRefuses("KmsKey check, empty apiKey", kmsKeyProvider, { ...key, apiKey: "" });
        await checkRefuses("KmsKey check, apiKey not a string", kmsKeyProvider, { ...key, apiKey: 12345 });
        await checkRefuses("KmsKey check, bad payload next to the apiKey", kmsKeyProvider, { ...key, payload: "not base64!" });
        await checkRefuses("KmsKey check, the key given as the endpoint", kmsKeyProvider, { ...key, endpoint: sidKey });
        await checkRefuses("KmsAccessReady check, empty apiKey", kmsAccessReadyProvider, { instanceId: instance, endpoint: tap.url, apiKey: "" });
        await checkRefuses("KmsAccessReady check, the key given as the endpoint", kmsAccessReadyProvider, {
            instanceId: instance,
            endpoint: sidKey,
            apiKey: sidKey,
        });

        await fails("KmsKey create, apiKey unknown to IAM", () => create(kmsKeyProvider, { ...key, apiKey: UNKNOWN_KEY }));
        await fails("KmsKey create, service ID without a policy (KMS 401, emulator)", () => create(kmsKeyProvider, key));
        await fails("KmsAccessReady create, never authorized within the timeout", () =>
            create(kmsAccessReadyProvider, { instanceId: instance, endpoint: tap.url, apiKey: sidKey, timeoutSeconds: 0.5 }),
        );
        await withRules([{ path: TOKEN, action: { kind: "echo", status: 400 } }], () =>
            fails("KmsAccessReady create, token 400 echo", () =>
                create(kmsAccessReadyProvider, { instanceId: instance, endpoint: tap.url, apiKey: sidKey, timeoutSeconds: 5 }),
            ),
        );

        await owner.createPolicy(
            kmsInstanceGrant({
                accountId: emu.accountId,
                iamId: sid.iam_id,
                roleCrn: "crn:v1:bluemix:public:iam::::serviceRole:Manager",
                service: "hs-crypto",
                instance: instance,
            }),
        );
        for (const status of [400, 401, 403, 500, 503]) {
            await withRules([{ method: "POST", path: /^\/api\/v2\/keys$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`KmsKey create with imported material, KMS ${status} echo`, () => create(kmsKeyProvider, { ...key, type: "standard", payload: PAYLOAD })),
            );
        }
        const made = await create(kmsKeyProvider, { ...key, type: "standard", payload: PAYLOAD });
        for (const status of [401, 500]) {
            await withRules([{ method: "GET", path: /^\/api\/v2\/keys\/[^/]+\/metadata$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`KmsKey read (key and material in state), KMS ${status} echo`, () => plugin.read(kmsKeyProvider, made.id, made.outs)),
            );
        }
        // A key in state that IAM no longer knows (rotated elsewhere): refresh falls back to the deployer, whom KMS refuses too.
        const rotated = distinctive("pluginSweepRotatedKey-");
        chosen.push(rotated);
        await withRules([{ method: "GET", path: /^\/api\/v2\/keys\/[^/]+\/metadata$/, action: { kind: "echo", status: 403 } }], () =>
            fails("KmsKey read with a key IAM rejects, deployer fallback refused by KMS (echo)", () =>
                plugin.read(kmsKeyProvider, made.id, { ...made.outs, apiKey: rotated }),
            ),
        );
        await withRules([{ method: "DELETE", path: /^\/api\/v2\/keys\/[^/]+$/, action: { kind: "echo", status: 409 } }], () =>
            fails("KmsKey delete, KMS 409 echo", () => plugin.delete(kmsKeyProvider, made.id, made.outs)),
        );
        await plugin.delete(kmsKeyProvider, made.id, made.outs);
        assertClean("KmsKey and KmsAccessReady");
    });

    it("KmsKeyRing, KmsKey rotation and policies, AuthorizationPolicy: service-ID keys through check, IAM and KMS refusals and echoes", async function () {
        const sid = await owner.createServiceId({ name: "sweep-rings" });
        const sidKey = distinctive("pluginSweepRingKey-");
        chosen.push(sidKey);
        await owner.createApiKey({ iam_id: sid.iam_id, name: "sid-key", apikey: sidKey });
        const ring = { instanceId: instance, endpoint: tap.url, keyRingId: "sweep-ring", apiKey: sidKey };
        await checkRefuses("KmsKeyRing check, empty apiKey", kmsKeyRingProvider, { ...ring, apiKey: "" });
        await checkRefuses("KmsKeyRing check, the key given as the instance CRN", kmsKeyRingProvider, { ...ring, instanceId: undefined, instanceCrn: sidKey });
        await checkRefuses("KmsKeyRing check, the key given as the ring id", kmsKeyRingProvider, { ...ring, keyRingId: `${sidKey} x` });
        await checkRefuses("KmsKey check, the key given as rotationTrigger on a standard key", kmsKeyProvider, {
            instanceId: instance,
            endpoint: tap.url,
            name: "k",
            type: "standard",
            rotationTrigger: sidKey,
            apiKey: sidKey,
        });
        await fails("KmsKeyRing create, apiKey unknown to IAM", () => create(kmsKeyRingProvider, { ...ring, apiKey: UNKNOWN_KEY }));
        await fails("KmsKeyRing create, service ID without a policy (KMS 401, emulator)", () => create(kmsKeyRingProvider, ring));

        await owner.createPolicy(
            kmsInstanceGrant({
                accountId: emu.accountId,
                iamId: sid.iam_id,
                roleCrn: "crn:v1:bluemix:public:iam::::serviceRole:Manager",
                service: "hs-crypto",
                instance: instance,
            }),
        );
        for (const status of [400, 403, 500]) {
            await withRules([{ method: "POST", path: /^\/api\/v2\/key_rings\/[^/]+$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`KmsKeyRing create, KMS ${status} echo`, () => create(kmsKeyRingProvider, ring)),
            );
        }
        const r = await create(kmsKeyRingProvider, ring);
        await withRules([{ method: "GET", path: /^\/api\/v2\/key_rings$/, action: { kind: "echo", status: 500, retryAfter: "0" } }], () =>
            fails("KmsKeyRing read, KMS 500 echo", () => plugin.read(kmsKeyRingProvider, r.id, r.outs)),
        );
        const k = await create(kmsKeyProvider, {
            instanceId: instance,
            endpoint: tap.url,
            name: "sweep-rotating",
            keyRing: r.id,
            apiKey: sidKey,
            rotationTrigger: 1,
        });
        await withRules([{ method: "PUT", path: /^\/api\/v2\/keys\/[^/]+\/policies$/, action: { kind: "echo", status: 403 } }], () =>
            fails("KmsKey create with a rotation policy, policy PUT 403 echo (partial failure)", () =>
                create(kmsKeyProvider, { instanceId: instance, endpoint: tap.url, name: "sweep-policy", apiKey: sidKey, rotation: { intervalMonth: 2 } }),
            ),
        );
        const rotate = await withRules(
            [{ method: "POST", path: /^\/api\/v2\/keys\/[^/]+\/actions\/rotate$/, action: { kind: "echo", status: 500, retryAfter: "0" } }],
            () =>
                fails("KmsKey update rotating, KMS 500 echo (partial failure)", () =>
                    plugin.update(kmsKeyProvider, k.id, k.outs, { ...k.inputs, rotationTrigger: 2 }),
                ),
        );
        assert.ok(rotate.partial, "a failed rotation keeps what KMS holds in state");
        assert.strictEqual(rotate.partial.properties.rotationTrigger, 1, "the previous trigger: the next `pulumi up` rotates again");
        await plugin.delete(kmsKeyProvider, k.id, k.outs);
        await plugin.delete(kmsKeyRingProvider, r.id, { ...r.outs, force: true }); // only a deleted key is left

        const auth = { sourceServiceName: "cloud-object-storage", targetServiceName: "hs-crypto", targetServiceInstance: instance };
        for (const status of [400, 403, 409, 500]) {
            await withRules([{ method: "POST", path: /^\/v1\/policies$/, action: { kind: "echo", status, retryAfter: "0" } }], () =>
                fails(`AuthorizationPolicy create, IAM ${status} echo`, () => create(authorizationPolicyProvider, auth)),
            );
        }
        const a = await create(authorizationPolicyProvider, auth);
        await fails("AuthorizationPolicy create, identical exists (emulator)", () => create(authorizationPolicyProvider, auth));
        await plugin.delete(authorizationPolicyProvider, a.id, a.outs);
        assertClean("KmsKeyRing, KmsKey rotation and policies, AuthorizationPolicy");
    });

    it("configuration mistakes: the key pasted as the IAM endpoint, no key at all", async function () {
        const pasted = await startPlugin({
            config: { "ibmcloud:apiKey": OWNER_KEY, "ibmcloud:iamEndpoint": OWNER_KEY },
            secretKeys: ["ibmcloud:apiKey", "ibmcloud:iamEndpoint"],
            env: NO_ENV_CREDENTIALS,
        });
        extraPlugins.push(pasted);
        const err = await fails("configure: ibmcloud:iamEndpoint holds the key", () =>
            pasted.create(serviceIdProvider, { name: "x", description: "", uniqueInstanceCrns: [], locked: false }),
        );
        assert.match(err.details, /ibmcloud:iamEndpoint/);
        sweep.add("plugin with the pasted key: stdout", pasted.stdout());
        sweep.add("plugin with the pasted key: stderr", pasted.stderr());
        const none = await startPlugin({ config: { "ibmcloud:iamEndpoint": tap.url }, env: NO_ENV_CREDENTIALS });
        extraPlugins.push(none);
        await fails("configure: no API key", () => none.read(serviceIdProvider, "ServiceId-x", {}));
        assertClean("configuration");
    });

    it("over the whole sweep, and everything the plugin printed: no key, no token", async function () {
        sweep.add("plugin stdout", plugin.stdout());
        sweep.add("plugin stderr", plugin.stderr());
        assert.ok(plugin.stderr().length > 0, "the plugin printed the stacks of failed calls (there is output to search)");
        const values = secrets();
        assert.ok(values.includes(OWNER_KEY) && values.filter((v) => v.startsWith("eyJ")).length >= 5, "keys and emulator-minted tokens are searched");
        assert.ok(sweep.paths.length >= 60, `error paths: ${sweep.paths.length}`);
        assertClean("the whole plugin sweep", true);
        process.stdout.write(
            `      (${sweep.paths.length} error paths through the plugin, ${values.length} secret values searched; proxy rules fired ${JSON.stringify(tap.fired)})\n`,
        );
    });
});
