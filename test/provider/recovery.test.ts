// The rules of the crash recovery that need no cloud and no engine: the mark a create carries (nonce, HMAC of the
// deployer's key), the inputs check() adds it to, and the journal edits `recover` makes to an exported deployment.
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    createSettled,
    deployerFingerprint,
    journalCreate,
    journalDir,
    journalDone,
    journalMade,
    MADE_KEPT_MS,
    prune,
    staleEntries,
    UNANSWERED_KEPT_MS,
} from "../../provider/core/createJournal";
import {
    isRecoveryNonce,
    markOf,
    markValue,
    newRecoveryNonce,
    recoveryValueOf,
    withoutRecoveryNonce,
    withRecoveryNonce,
} from "../../provider/core/recoveryMark";
import { checkServiceIdInputs, serviceIdProvider } from "../../provider/serviceId";
import { checkServiceApiKeyInputs, serviceApiKeyProvider } from "../../provider/serviceApiKey";
import {
    adoptedResource,
    Deployment,
    kindOf,
    pendingCreates,
    SECRET_SIG,
    SECRET_VALUE,
    secretEnvelope,
    trackedIds,
    trackedServiceIamIds,
    unwrapSecrets,
    withAdopted,
} from "../../provider/recovery/journal";

const DEPLOYER = "deployer-api-key-0123456789abcdefghijklmnopqrstuv";

describe("crash recovery: the mark a create carries", function () {
    it("a nonce is 16 random bytes in base64url, new each time", function () {
        const a = newRecoveryNonce();
        const b = newRecoveryNonce();
        assert.ok(isRecoveryNonce(a) && isRecoveryNonce(b));
        assert.equal(Buffer.from(a, "base64url").length, 16);
        assert.notEqual(a, b);
        for (const bad of [undefined, 7, "", "short", `${a}x`, "a".repeat(21) + "="]) assert.equal(isRecoveryNonce(bad), false, String(bad));
    });

    it("the mark is HMAC-SHA384(deployer key, purpose NUL nonce), 33 bytes in base64url: 44 characters, like a key IBM generates", function () {
        const nonce = "AAAAAAAAAAAAAAAAAAAAAA";
        const expected = crypto.createHmac("sha384", DEPLOYER).update(`apikey\0${nonce}`).digest().subarray(0, 33).toString("base64url");
        assert.equal(markValue(DEPLOYER, "apikey", nonce), expected);
        assert.equal(expected.length, 44);
        assert.match(expected, /^[A-Za-z0-9_-]+$/);
        // the purpose and the key both change it; the nonce alone (what the journal holds) is not the value
        assert.notEqual(markValue(DEPLOYER, "serviceid", nonce), expected);
        assert.notEqual(markValue(`${DEPLOYER}x`, "apikey", nonce), expected);
        assert.ok(!expected.includes(nonce));
    });

    it("no mark without a nonce (state of an older version) or without a deployer key (a trusted-profile login)", function () {
        const nonce = newRecoveryNonce();
        assert.equal(markOf(undefined, "apikey", { recoveryNonce: nonce }), undefined);
        assert.equal(markOf(DEPLOYER, "apikey", {}), undefined);
        assert.equal(markOf(DEPLOYER, "apikey", { recoveryNonce: "not a nonce" }), undefined);
        assert.equal(recoveryValueOf(DEPLOYER, { recoveryNonce: nonce }), markValue(DEPLOYER, "apikey", nonce));
    });

    it("withRecoveryNonce gives every check a fresh nonce (a replacement never reuses its predecessor's value)", function () {
        const a = withRecoveryNonce({ name: "x" });
        const b = withRecoveryNonce({ name: "x" });
        assert.equal(a.name, "x");
        assert.ok(isRecoveryNonce(a.recoveryNonce));
        assert.notEqual(a.recoveryNonce, b.recoveryNonce);
        assert.deepEqual(withoutRecoveryNonce({ name: "x", recoveryNonce: a.recoveryNonce }), { name: "x" });
        assert.equal(withoutRecoveryNonce("text"), "text");
    });

    it("check() adds the nonce to ServiceId and ServiceApiKey inputs; the schemas never see one (an import's read inputs carry it)", async function () {
        const sid = await serviceIdProvider.check({}, { name: "app" });
        assert.deepEqual(sid.failures ?? [], []);
        assert.ok(isRecoveryNonce((sid.inputs as { recoveryNonce?: unknown }).recoveryNonce));
        const again = await serviceIdProvider.check(sid.inputs, { name: "app", recoveryNonce: "anything" });
        assert.deepEqual(again.failures ?? [], []);
        assert.notEqual((again.inputs as { recoveryNonce?: unknown }).recoveryNonce, (sid.inputs as { recoveryNonce?: unknown }).recoveryNonce);
        assert.deepEqual(checkServiceIdInputs({ name: "app", recoveryNonce: "x" }).failures, []);

        const key = await serviceApiKeyProvider.check({}, { serviceId: "ServiceId-1234", name: "k" });
        assert.deepEqual(key.failures ?? [], []);
        assert.ok(isRecoveryNonce((key.inputs as { recoveryNonce?: unknown }).recoveryNonce));
        assert.deepEqual(checkServiceApiKeyInputs({ serviceId: "ServiceId-1234", name: "k", recoveryNonce: "x" }, false).failures, []);
    });

    it("diff ignores the nonce: the same inputs with another nonce are no change", async function () {
        const olds = { serviceId: "ServiceId-1", iamId: "iam-ServiceId-1", name: "app", description: "", uniqueInstanceCrns: [], locked: false };
        const d = await serviceIdProvider.diff("ServiceId-1", olds, {
            name: "app",
            description: "",
            uniqueInstanceCrns: [],
            locked: false,
            recoveryNonce: newRecoveryNonce(),
        });
        assert.equal(d.changes, false);
        const keyOlds = {
            apiKeyId: "ApiKey-1",
            serviceId: "ServiceId-1",
            iamId: "iam-ServiceId-1",
            name: "k",
            description: "",
            actionWhenLeaked: "none",
            supportSessions: false,
            locked: false,
            disabled: false,
            storeValue: false,
        };
        const keyNews = { serviceId: "ServiceId-1", name: "k", description: "", supportSessions: false, locked: false, disabled: false, storeValue: false };
        const kd = await serviceApiKeyProvider.diff("ApiKey-1", keyOlds as never, { ...keyNews, recoveryNonce: newRecoveryNonce() });
        assert.equal(kd.changes, false);
    });
});

const DYN = "pulumi-nodejs:dynamic/ibmcloud-iam";
const PROVIDER_REF = "urn:pulumi:s::p::pulumi:providers:pulumi-nodejs::default::0c4f";

function deployment(): Deployment {
    return {
        version: 3,
        deployment: {
            manifest: {},
            resources: [
                { urn: "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", custom: false, type: "pulumi:pulumi:Stack" },
                { urn: "urn:pulumi:s::p::pulumi:providers:pulumi-nodejs::default", custom: true, id: "0c4f", type: "pulumi:providers:pulumi-nodejs" },
                {
                    urn: "urn:pulumi:s::p::pulumi-nodejs:dynamic/ibmcloud-iam:ServiceId::sid-00",
                    custom: true,
                    id: "ServiceId-a",
                    type: `${DYN}:ServiceId`,
                    outputs: { iamId: "iam-ServiceId-a" },
                },
            ],
            pending_operations: [
                {
                    type: "creating",
                    resource: {
                        urn: "urn:pulumi:s::p::pulumi-nodejs:dynamic/ibmcloud-iam:AccessPolicy::policy-00",
                        custom: true,
                        type: `${DYN}:AccessPolicy`,
                        provider: PROVIDER_REF,
                        inputs: { __provider: "exports.handler = …", serviceId: "ServiceId-a", roles: ["Reader"] },
                        dependencies: ["urn:pulumi:s::p::pulumi-nodejs:dynamic/ibmcloud-iam:ServiceId::sid-00"],
                    },
                },
                {
                    type: "creating",
                    resource: {
                        urn: "urn:pulumi:s::p::pulumi-nodejs:dynamic/ibmcloud-iam:ServiceApiKey::key-01",
                        custom: true,
                        type: `${DYN}:ServiceApiKey`,
                        provider: PROVIDER_REF,
                        inputs: { __provider: "p", serviceId: "ServiceId-b", name: "k" },
                    },
                },
                {
                    type: "creating",
                    resource: { urn: "urn:pulumi:s::p::ibmcloud-iam:index:ServiceId::sid-01", custom: true, type: "ibmcloud-iam:index:ServiceId" },
                },
                { type: "creating", resource: { urn: "urn:pulumi:s::p::pulumi-nodejs:dynamic/ibmcloud-iam:KmsAccessReady::r", type: `${DYN}:KmsAccessReady` } },
                { type: "deleting", resource: { urn: "urn:pulumi:s::p::pulumi-nodejs:dynamic/ibmcloud-iam:ServiceId::sid-00", type: `${DYN}:ServiceId` } },
            ],
        },
    };
}

describe("crash recovery: the journal", function () {
    it("names our types through both front doors and only the kinds it can look for", function () {
        assert.equal(kindOf(`${DYN}:ServiceApiKey`), "ServiceApiKey");
        assert.equal(kindOf("ibmcloud-iam:index:KmsKey"), "KmsKey");
        assert.equal(kindOf(`${DYN}:KmsAccessReady`), undefined);
        assert.equal(kindOf("ibm:index:ServiceId"), undefined);
        assert.equal(kindOf("pulumi-nodejs:dynamic/other:ServiceId"), undefined);
    });

    it("lists pending creates of our kinds, service IDs first, then keys, then policies and KMS keys", function () {
        const ops = pendingCreates(deployment());
        assert.deepEqual(
            ops.map((o) => o.kind),
            ["ServiceId", "ServiceApiKey", "AccessPolicy"],
        );
    });

    it("what the state tracks: ids of custom resources and the IAM ids of its service IDs", function () {
        const d = deployment();
        assert.deepEqual([...trackedIds(d)].sort(), ["0c4f", "ServiceId-a"]);
        assert.deepEqual([...trackedServiceIamIds(d)], ["iam-ServiceId-a"]);
    });

    it("secret envelopes of a --show-secrets export unwrap to their values, and wrap back for the import", function () {
        const env = secretEnvelope("v4lue");
        assert.deepEqual(env, { [SECRET_SIG]: SECRET_VALUE, plaintext: '"v4lue"' });
        assert.deepEqual(unwrapSecrets({ a: env, b: [secretEnvelope({ x: 1 })], c: 3 }), { a: "v4lue", b: [{ x: 1 }], c: 3 });
    });

    it("an adopted resource keeps the journaled entry, takes the id and outputs, the serialized provider, and its secrets wrapped", function () {
        const pending = deployment().deployment.pending_operations?.[1].resource;
        assert.ok(pending);
        const r = adoptedResource(pending, "ApiKey-1", { apiKeyId: "ApiKey-1", apikey: "s3cret" }, ["apikey"]);
        assert.equal(r.id, "ApiKey-1");
        assert.equal(r.urn, pending.urn);
        assert.equal(r.provider, PROVIDER_REF);
        assert.deepEqual(r.inputs, pending.inputs);
        assert.equal((r.outputs as Record<string, unknown>).__provider, "p");
        assert.deepEqual((r.outputs as Record<string, unknown>).apikey, secretEnvelope("s3cret"));
    });

    it("the edited deployment appends the adopted resources after the state's and has no pending operation", function () {
        const d = deployment();
        const pending = d.deployment.pending_operations?.[0].resource;
        assert.ok(pending);
        const out = withAdopted(d, [adoptedResource(pending, "policy-1", { policyId: "policy-1" }, [])]);
        assert.deepEqual(out.deployment.pending_operations, []);
        assert.deepEqual(
            out.deployment.resources?.map((r) => r.id ?? "-"),
            ["-", "0c4f", "ServiceId-a", "policy-1"],
        );
        // the input is not changed
        assert.equal(d.deployment.pending_operations?.length, 5);
    });
});

describe("crash recovery: the provider's own journal (what a killed plugin's creates may have made)", function () {
    const saved = { home: process.env.PULUMI_HOME, project: process.env.PULUMI_PROJECT };
    let home: string;
    beforeEach(function () {
        home = fs.mkdtempSync(path.join(os.tmpdir(), "journal-test-"));
        process.env.PULUMI_HOME = home;
        process.env.PULUMI_PROJECT = "proj";
    });
    afterEach(function () {
        for (const [k, v] of [
            ["PULUMI_HOME", saved.home],
            ["PULUMI_PROJECT", saved.project],
        ] as const) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
        fs.rmSync(home, { recursive: true, force: true });
    });

    it("an entry names the kind, project, process and deployer (a fingerprint, not the key), never a secret input, mode 0600", function () {
        const file = journalCreate("ServiceApiKey", { name: "k", serviceId: "ServiceId-1", apikey: "user-secret-value", __provider: "text" }, DEPLOYER);
        assert.ok(file);
        assert.equal(path.dirname(file), journalDir());
        assert.ok(journalDir().startsWith(path.join(home, "ibmcloud-iam", "journal")));
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        const text = fs.readFileSync(file, "utf8");
        const entry = JSON.parse(text);
        assert.deepEqual(entry.inputs, { name: "k", serviceId: "ServiceId-1" });
        assert.equal(entry.kind, "ServiceApiKey");
        assert.equal(entry.project, "proj");
        assert.equal(entry.pid, process.pid);
        assert.equal(entry.deployer, deployerFingerprint(DEPLOYER));
        assert.ok(!text.includes(DEPLOYER) && !text.includes("user-secret-value"));
        assert.notEqual(deployerFingerprint(DEPLOYER), deployerFingerprint(`${DEPLOYER}x`));
        journalDone(file);
        assert.equal(fs.existsSync(file), false);
    });

    it("nothing is journaled outside an engine-started process (no PULUMI_PROJECT) or without a deployer key", function () {
        assert.equal(journalCreate("AccessPolicy", { roles: ["Reader"] }, undefined), undefined);
        delete process.env.PULUMI_PROJECT;
        assert.equal(journalCreate("AccessPolicy", { roles: ["Reader"] }, DEPLOYER), undefined);
        assert.equal(fs.existsSync(path.join(home, "ibmcloud-iam")), false);
    });

    it("recover reads only entries whose process is gone; a service ID's entry keeps the id it made", function () {
        const mine = journalCreate("ServiceId", { name: "a", recoveryNonce: newRecoveryNonce() }, DEPLOYER);
        assert.ok(mine);
        assert.deepEqual(staleEntries(process.cwd()), [], "this process is alive: its creates may still be answered");
        const gone = path.join(journalDir(), "gone.json");
        fs.writeFileSync(gone, JSON.stringify({ ...JSON.parse(fs.readFileSync(mine, "utf8")), pid: 2 ** 22 + 7 }));
        journalMade(gone, "ServiceId-9");
        const stale = staleEntries(process.cwd());
        assert.deepEqual(
            stale.map((e) => [path.basename(e.file), e.entry.made]),
            [["gone.json", "ServiceId-9"]],
        );
        fs.writeFileSync(path.join(journalDir(), "torn.json"), "{");
        staleEntries(process.cwd());
        assert.equal(fs.existsSync(path.join(journalDir(), "torn.json")), false, "a torn entry (killed mid-write, before its create) is dropped");
    });

    it("a KMS entry holds where the object goes and who makes it, never the service ID's key or the key material", function () {
        const where = { instanceId: "inst-1", service: "hs-crypto", endpoint: "https://kms.example", keyRing: "ring-a" };
        const file = journalCreate(
            "KmsKey",
            { name: "root", instanceId: "inst-1", apiKey: "service-id-secret-key", payload: "c2VjcmV0LW1hdGVyaWFs", keyRing: "ring-a" },
            DEPLOYER,
            { ...where, creator: "iam-ServiceId-1" },
        );
        assert.ok(file);
        journalMade(file, "key-1");
        const text = fs.readFileSync(file, "utf8");
        assert.ok(!text.includes("service-id-secret-key") && !text.includes("c2VjcmV0LW1hdGVyaWFs") && !text.includes(DEPLOYER));
        const entry = JSON.parse(text);
        assert.deepEqual(entry.inputs, { name: "root", instanceId: "inst-1", keyRing: "ring-a" });
        assert.deepEqual(entry.kms, { ...where, creator: "iam-ServiceId-1" });
        assert.equal(entry.made, "key-1");
        assert.equal(fs.statSync(file).mode & 0o777, 0o600, "still 0600 after the id was added");
        assert.deepEqual(
            fs.readdirSync(journalDir()).filter((n) => !n.endsWith(".json")),
            [],
            "no temporary file left",
        );
    });

    it("pruned: an entry with an id after a day, one without after a week, a live process's never; a leftover temporary file of a dead one", function () {
        const dir = journalDir();
        const template = JSON.parse(fs.readFileSync(journalCreate("AccessPolicy", { roles: ["Reader"] }, DEPLOYER) as string, "utf8"));
        const dead = 2 ** 22 + 7;
        const write = (name: string, over: Record<string, unknown>) =>
            fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ ...template, pid: dead, started: undefined, ...over }));
        const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
        write("made-old", { made: "p-1", at: ago(MADE_KEPT_MS + 60_000) });
        write("made-new", { made: "p-2", at: ago(MADE_KEPT_MS - 60_000) });
        write("unanswered-old", { at: ago(UNANSWERED_KEPT_MS + 60_000) });
        write("unanswered-new", { at: ago(MADE_KEPT_MS + 60_000) });
        write("live-old", { made: "p-3", pid: process.pid, started: template.started, at: ago(UNANSWERED_KEPT_MS + 60_000) });
        write("bad-date", { made: "p-4", at: "not a date" });
        fs.writeFileSync(path.join(dir, `x.json.${dead}.tmp`), "{");
        fs.writeFileSync(path.join(dir, `y.json.${process.pid}.tmp`), "{");
        assert.equal(prune(dir), 4);
        assert.deepEqual(
            fs
                .readdirSync(dir)
                .filter((n) => /^(made|unanswered|live|bad|x|y)/.test(n))
                .sort(),
            ["live-old.json", "made-new.json", "unanswered-new.json", `y.json.${process.pid}.tmp`],
        );
        assert.deepEqual(
            staleEntries(process.cwd())
                .map((e) => path.basename(e.file))
                .sort(),
            ["made-new.json", "unanswered-new.json"],
            "recover reads what is left of dead processes",
        );
    });

    it("an entry goes when the engine will learn the outcome: a refusal (4xx) or a partial create with an id; a lost answer keeps it", function () {
        assert.equal(createSettled(Object.assign(new Error("409"), { status: 409 })), true);
        assert.equal(createSettled(Object.assign(new Error("partial"), { id: "ServiceId-1" })), true);
        assert.equal(createSettled(Object.assign(new Error("reset"), { status: 0, outcomeUnknown: true })), false);
        assert.equal(createSettled(Object.assign(new Error("502"), { status: 502 })), false);
        assert.equal(createSettled(new Error("the plugin's gRPC channel closed")), false);
    });
});
