// Property-based tests of the validators: each resource's `check` (called directly, as the
// plugin would) and provider/check/, over inputs drawn with fast-check. Properties:
//   1. check never throws: it answers with failures or with checked inputs, whatever it is given;
//   2. every failure names an argument the resource takes (or the unknown one that was given);
//   3. valid generated inputs pass, and values still unknown at preview are never judged;
//   4. no failure echoes a secret input (API keys, key material), wherever it was put.
// Cases come from fast-check (the ecosystem's property-testing library), seeded: the same FUZZ_SEED gives
// the same cases. A failure is shrunk and reported with its seed and path; FUZZ_SEED=<seed>
// FUZZ_PATH=<path> npx mocha build/test/provider/validators.fuzz.test.js replays exactly it. FUZZ_RUNS
// raises the number of cases per property (default 300).
import { strict as assert } from "assert";
import * as fc from "fast-check";
import { knownRoles } from "../../provider/policy/roles";
import { formatIbmDateTime, parseIbmDateTime, readDateTime } from "../../provider/check/dateTime";
import { closestName } from "../../provider/check/validate";
import { UNKNOWN } from "../../provider/core/props";
import { BadInputTarget, KNOWN_ARGUMENTS, rootArgument } from "../support/badInputs";
import { PROVIDER_OF } from "../support/resources";

type Target = Exclude<BadInputTarget, "KmsAccess">;
type Inputs = Record<string, unknown>;
interface Failure {
    property: string;
    reason: string;
}
interface Checker {
    check(olds: Inputs, news: Inputs): Promise<{ inputs?: unknown; failures?: Failure[] }>;
}

const PROVIDERS = PROVIDER_OF as unknown as Record<Target, Checker>;
const TARGETS = Object.keys(PROVIDERS) as Target[];

const BASE_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 0x1b4d1e;
const RUNS = process.env.FUZZ_RUNS !== undefined ? Number(process.env.FUZZ_RUNS) : 300;

// ---------- generators on fast-check ----------

/**
 * The domain generators below draw through this: each draw is a fast-check arbitrary (`fc.gen()`), so
 * a failure is shrunk, reported with its seed and path, and replayed with FUZZ_SEED / FUZZ_PATH.
 */
class Gen {
    constructor(private readonly g: fc.GeneratorValue) {}
    int(min: number, max: number): number {
        return this.g(fc.integer, { min, max });
    }
    bool(p = 0.5): boolean {
        return this.int(0, 999) < p * 1000;
    }
    pick<T>(items: ReadonlyArray<T>): T {
        return items[this.int(0, items.length - 1)];
    }
    string(alphabet: string, min: number, max: number): string {
        const chars = [...alphabet];
        return this.g(fc.array, fc.constantFrom(...chars), { minLength: min, maxLength: Math.max(min, max) }).join("");
    }
    hex(n: number): string {
        return this.string("0123456789abcdef", n, n);
    }
    uuid(): string {
        return `${this.hex(8)}-${this.hex(4)}-${this.hex(4)}-${this.hex(4)}-${this.hex(12)}`;
    }
    /** Some of `items`, each with probability p. */
    some<T>(items: ReadonlyArray<T>, p = 0.5): T[] {
        return items.filter(() => this.bool(p));
    }
}

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PRINTABLE = `${LETTERS}0123456789 -_.:/@#!?()[]{}'"äöüßéñ漢字✓`;
const REGIONS = ["us-south", "us-east", "eu-de", "eu-gb", "jp-tok", "au-syd", "ca-tor", "br-sao"];

/** Any value a program (or a broken one) could hand a resource, wire types and beyond. */
function anyValue(g: Gen, depth = 0): unknown {
    switch (g.int(0, depth > 2 ? 9 : 12)) {
        case 0:
            return undefined;
        case 1:
            return null;
        case 2:
            return g.bool();
        case 3:
            return g.pick([0, -1, 1, 42, 3600, 3601, 1e21, -0, 0.5, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity]);
        case 4:
            return "";
        case 5:
            return g.string(" \t\n", 1, 4);
        case 6:
            return g.string(PRINTABLE, 1, 40);
        case 7:
            return g.string("\u0000\u0007\u001b\u007f\u2028\ufeff", 1, 3) + g.string(LETTERS, 0, 5);
        case 8:
            return g.pick([
                UNKNOWN,
                "ServiceId-x",
                "iam-ServiceId-y",
                "crn:v1:bluemix:public:",
                "2030-02-30T12:00+0000",
                "2099-01-01T00:00:00Z",
                "Writer",
                "hs-crypto",
                "kms",
                "https://x",
                "__proto__",
            ]);
        case 9:
            return "x".repeat(g.pick([89, 90, 91, 100, 101, 240, 241, 300, 301, 993, 1000, 1001, 7000]));
        case 10:
            return Array.from({ length: g.int(0, 4) }, () => anyValue(g, depth + 1));
        default: {
            const o: Inputs = {};
            for (let i = g.int(0, 4); i > 0; i--)
                o[g.pick(["a", "name", "__proto__", "constructor", "toString", "serviceName", "attributes", "tags", g.string(LETTERS, 1, 8)])] = anyValue(
                    g,
                    depth + 1,
                );
            return o;
        }
    }
}

function futureDate(g: Gen, format: "ibm" | "rfc3339"): string {
    const ms = Date.now() + g.int(2, 3650) * 86_400_000 + g.int(0, 86_399) * 1000;
    const iso = new Date(ms).toISOString(); // 2030-01-31T12:00:00.000Z
    if (format === "rfc3339") return g.pick([iso, iso.slice(0, 19) + "Z", `${iso.slice(0, 19)}+00:00`]);
    return g.pick([formatIbmDateTime(ms), iso, iso.slice(0, 16) + "Z", `${iso.slice(0, 19)}+00:00`]);
}

function name(g: Gen, min: number, max: number): string {
    // no leading/trailing blank: the fields trim, and a trimmed name must still meet the minimum
    const inner = g.string(PRINTABLE, Math.max(0, min - 2), Math.max(0, max - 2));
    return g.string(LETTERS, 1, 1) + inner + (max > 1 ? g.string(LETTERS, 1, 1) : "");
}

function secretValue(g: Gen): string {
    return `SeCrEt${g.string(`${LETTERS}0123456789-_`, 30, 60)}`;
}

function crn(g: Gen): string {
    return `crn:v1:bluemix:public:${g.pick(["hs-crypto", "kms"])}:${g.pick(REGIONS)}:a/${g.hex(32)}:${g.uuid()}::`;
}

/** Valid inputs for a target, with a random choice of optional arguments. */
function validInputs(g: Gen, target: Target, secret: string): Inputs {
    switch (target) {
        case "ServiceId": {
            const o: Inputs = { name: name(g, 1, g.pick([10, 100, 1000])) };
            if (g.bool()) o.description = g.string(PRINTABLE + "\n", 0, g.pick([20, 1000]));
            if (g.bool()) o.uniqueInstanceCrns = [...new Set(Array.from({ length: g.int(0, 3) }, () => crn(g)))];
            if (g.bool()) o.locked = g.bool();
            return o;
        }
        case "ServiceApiKey": {
            const sid = `ServiceId-${g.uuid()}`;
            const o: Inputs = { serviceId: g.bool() ? sid : `iam-${sid}`, name: name(g, 1, g.pick([10, 1000])), apikey: secret };
            if (g.bool()) o.description = g.string(PRINTABLE, 0, 1000);
            if (g.bool()) o.expiresAt = futureDate(g, "ibm");
            if (g.bool()) o.actionWhenLeaked = g.pick(["none", "disable", "delete"]);
            for (const b of g.some(["supportSessions", "locked", "disabled", "storeValue"])) o[b] = g.bool();
            if (g.bool()) o.rotationTrigger = g.bool() ? g.string(PRINTABLE, 0, 10) : g.int(-5, 1e6);
            if (g.bool()) o.outputFile = `./${g.string(LETTERS, 1, 10)}.json`;
            return o;
        }
        case "AccessPolicy": {
            const service = g.pick(["hs-crypto", "kms"]);
            const catalog = knownRoles(service);
            const roles = g.some(catalog, 0.3);
            if (roles.length === 0) roles.push(g.pick(catalog));
            const spell = (r: (typeof catalog)[number]) => g.pick([r.displayName, r.id, r.crn, r.displayName.toUpperCase(), ` ${r.id.toLowerCase()} `]);
            const sid = `ServiceId-${g.uuid()}`;
            const subject = g.pick([
                { serviceId: sid },
                { serviceId: `iam-${sid}` },
                { iamId: `iam-${sid}` },
                { iamId: `IBMid-${g.hex(10)}` },
                { iamId: `iam-Profile-${g.uuid()}` },
            ]);
            const resource: Inputs = { serviceName: service };
            if (g.bool(0.7)) resource.serviceInstance = g.uuid();
            if (g.bool()) resource.region = g.pick(REGIONS);
            if (g.bool()) resource.resourceType = "key";
            if (g.bool()) resource.attributes = { keyRing: g.string(LETTERS, 1, 20) };
            if (g.bool(0.3)) resource.tags = { [g.string(LETTERS, 1, 10)]: g.string(`${LETTERS}0123456789 _-.`, 1, 30) };
            const o: Inputs = { ...subject, roles: roles.map(spell), resource };
            if (g.bool()) o.description = g.string(PRINTABLE, 0, 300);
            if (g.bool()) o.adoptExisting = g.bool();
            return o;
        }
        case "KmsKey": {
            const guid = g.uuid();
            const o: Inputs = { instanceId: g.bool() ? guid : guid.toUpperCase(), name: name(g, 2, g.pick([10, 90])), apiKey: secret };
            if (g.bool()) o.service = g.pick(["hs-crypto", "kms"]);
            if (g.bool()) o.region = g.pick(REGIONS);
            if (g.bool(0.3)) o.endpoint = g.pick(["https://kms.example.com", "http://127.0.0.1:8080", "https://us-south.kms.cloud.ibm.com"]);
            if (g.bool()) o.description = g.string(PRINTABLE, 0, 240);
            if (g.bool()) o.keyRing = g.string(`${LETTERS}0123456789-`, 2, 100);
            if (g.bool()) o.expirationDate = futureDate(g, "rfc3339");
            const type = g.pick(["root", "standard", undefined]);
            if (type !== undefined) o.type = type;
            if (g.bool(0.4))
                o.payload = Buffer.from(Array.from({ length: type === "standard" ? g.int(1, 600) : g.pick([16, 24, 32]) }, () => g.int(0, 255))).toString(
                    "base64",
                );
            if (g.bool()) o.force = g.bool();
            if (type !== "standard" && g.bool(0.3))
                o.rotation = g.bool() ? { enabled: g.bool(), intervalMonth: g.int(1, 12) } : { intervalMonth: g.int(1, 12) };
            if (g.bool(0.3)) o.dualAuthDelete = { enabled: g.bool() };
            // an imported root key rotates only with new material (a new payload replaces it)
            if (type !== "standard" && o.payload === undefined && g.bool(0.3)) o.rotationTrigger = g.bool() ? g.string(PRINTABLE, 1, 10) : g.int(0, 1e6);
            if (g.bool(0.2)) {
                // By CRN instead of id and service (the CRN says both, and the region).
                delete o.instanceId;
                delete o.service;
                delete o.region;
                o.instanceCrn = crn(g);
            }
            return o;
        }
        case "KmsKeyRing": {
            const o: Inputs = { keyRingId: g.string(`${LETTERS}0123456789-`, 2, 100), apiKey: secret };
            if (o.keyRingId === "default") o.keyRingId = "default-2";
            if (g.bool()) o.instanceCrn = crn(g);
            else {
                o.instanceId = g.uuid();
                if (g.bool()) o.service = g.pick(["hs-crypto", "kms"]);
                if (g.bool()) o.region = g.pick(REGIONS);
            }
            if (g.bool(0.3)) o.endpoint = g.pick(["https://kms.example.com", "http://127.0.0.1:8080"]);
            if (g.bool()) o.force = g.bool();
            return o;
        }
        case "AuthorizationPolicy": {
            const target = g.pick(["kms", "hs-crypto"]);
            const catalog = knownRoles(target).filter((r) => r.kind === "service");
            const o: Inputs = {
                sourceServiceName: g.pick(["cloud-object-storage", "databases-for-postgresql", "containers-kubernetes", "is", "event-streams"]),
                targetServiceName: target,
            };
            if (g.bool(0.8)) o.targetServiceInstance = g.uuid();
            if (o.targetServiceInstance !== undefined && g.bool(0.3)) {
                o.targetResourceType = "key";
                o.targetResource = g.uuid();
            }
            const scope = g.int(0, 3); // the whole service, one instance, or one resource group
            if (scope === 1) o.sourceServiceInstance = g.uuid();
            if (scope === 2) o.sourceResourceGroupId = g.hex(32);
            if (g.bool(0.2)) o.sourceResourceType = g.pick(["bucket", "cluster"]);
            if (g.bool(0.7)) o.roles = [...new Set(g.some(catalog, 0.3).map((r) => g.pick([r.displayName, r.id, r.crn])))];
            if (Array.isArray(o.roles) && o.roles.length === 0) delete o.roles;
            if (g.bool()) o.description = g.string(PRINTABLE, 0, 300);
            if (g.bool()) o.adoptExisting = g.bool();
            return o;
        }
        case "TrustedProfile": {
            const o: Inputs = { name: name(g, 1, g.pick([10, 100, 1000])) };
            if (g.bool()) o.description = g.string(PRINTABLE + "\n", 0, g.pick([20, 1000]));
            return o;
        }
        case "TrustedProfileLink": {
            const crType = g.pick(["VSI", "BMS", "PVS", "IKS_SA", "ROKS_SA", "CE"]);
            const account = g.hex(32);
            const o: Inputs = {
                profileId: `Profile-${g.uuid()}`,
                crType,
                crn: `crn:v1:bluemix:public:is:${g.pick(REGIONS)}-1:a/${account}::instance:${g.uuid()}`,
            };
            if (crType === "IKS_SA" || crType === "ROKS_SA") {
                o.crn = `crn:v1:bluemix:public:containers-kubernetes:${g.pick(REGIONS)}:a/${account}:${g.hex(20)}::`;
                o.namespace = g.string(`${LETTERS}0123456789-`, 1, 63);
                o.serviceAccount = g.string(`${LETTERS}0123456789-`, 1, 63);
            }
            if (crType === "CE") {
                o.crn = `crn:v1:bluemix:public:codeengine:${g.pick(REGIONS)}:a/${account}:${g.uuid()}::`;
                o.componentType = g.pick(["application", "job"]);
                o.componentName = g.string(`${LETTERS}0123456789-`, 1, 63);
            }
            if (g.bool()) o.linkName = g.string(`${LETTERS}0123456789-`, 1, 40);
            if (g.bool()) o.isCrossAccount = g.bool();
            return o;
        }
        case "TrustedProfileClaimRule": {
            const type = g.pick(["Profile-CR", "Profile-SAML"]);
            const o: Inputs = { profileId: `Profile-${g.uuid()}`, type };
            if (type === "Profile-CR") o.crType = g.pick(["VSI", "BMS", "PVS", "IKS_SA", "ROKS_SA", "CE"]);
            else o.realmName = `https://${g.string(LETTERS, 1, 20)}.example.com/saml`;
            o.conditions = Array.from({ length: g.int(1, 4) }, () => {
                const operator = g.pick(["EQUALS", "NOT_EQUALS", "EQUALS_IGNORE_CASE", "NOT_EQUALS_IGNORE_CASE", "CONTAINS", "IN"]);
                const one = () => g.string(`${LETTERS}0123456789-`, 1, 40);
                return {
                    claim: g.pick(["namespace", "name", "crn", "groups"]),
                    operator,
                    value: operator === "IN" ? Array.from({ length: g.int(1, 4) }, one) : one(),
                };
            });
            if (g.bool()) o.expiration = g.int(900, 43200);
            if (g.bool()) o.name = name(g, 1, 100);
            return o;
        }
        case "TrustedProfileIdentity": {
            const identityType = g.pick(["serviceid", "user", "crn"]);
            const o: Inputs = { profileId: `Profile-${g.uuid()}`, identityType };
            if (identityType === "serviceid") o.identifier = `ServiceId-${g.uuid()}`;
            if (identityType === "user") {
                o.identifier = `IBMid-${g.hex(10).toUpperCase()}`;
                if (g.bool()) o.accounts = Array.from({ length: g.int(1, 3) }, () => g.hex(32));
            }
            if (identityType === "crn") o.identifier = crn(g);
            if (g.bool()) o.description = g.string(PRINTABLE, 0, 300);
            return o;
        }
        case "KmsAccessReady": {
            const o: Inputs = { instanceId: g.uuid(), apiKey: secret };
            if (g.bool()) o.service = g.pick(["hs-crypto", "kms"]);
            if (g.bool()) o.region = g.pick(REGIONS);
            if (g.bool()) o.policyId = g.uuid();
            if (g.bool()) o.policyEtag = `1-${g.hex(32)}`;
            if (g.bool()) o.timeoutSeconds = g.pick([0.5, 1, 60, 3600, g.int(1, 3600)]);
            return o;
        }
    }
}

/** Fields holding a secret, per target. */
const SECRET_FIELDS: Record<Target, string[]> = {
    ServiceId: [],
    ServiceApiKey: ["apikey"],
    AccessPolicy: [],
    KmsKey: ["apiKey", "payload"],
    KmsAccessReady: ["apiKey"],
    KmsKeyRing: ["apiKey"],
    AuthorizationPolicy: [],
    TrustedProfile: [],
    TrustedProfileLink: [],
    TrustedProfileClaimRule: [],
    TrustedProfileIdentity: [],
};

/** 1 to 3 random changes: an argument set to any value, removed, added under an unknown name, or made unknown. */
function mutate(g: Gen, target: Target, inputs: Inputs): Inputs {
    const o: Inputs = JSON.parse(JSON.stringify(inputs));
    for (let i = g.int(1, 3); i > 0; i--) {
        const field = g.pick(KNOWN_ARGUMENTS[target]);
        switch (g.int(0, 3)) {
            case 0:
                o[field] = anyValue(g);
                break;
            case 1:
                delete o[field];
                break;
            case 2:
                o[g.pick([g.string(LETTERS, 1, 12), field.toLowerCase(), `${field}s`, field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)])] = anyValue(g);
                break;
            default:
                o[field] = UNKNOWN;
        }
    }
    return o;
}

// ---------- the properties ----------

/** Runs check and holds it to the shape the engine relies on; returns the failures. */
async function checked(target: Target, inputs: Inputs): Promise<Failure[]> {
    let r: { inputs?: unknown; failures?: Failure[] };
    try {
        r = await PROVIDERS[target].check({}, inputs);
    } catch (err) {
        assert.fail(`${target} check threw: ${(err as Error)?.stack ?? err}\ninputs: ${show(inputs)}`);
    }
    assert.ok(r && typeof r === "object", `${target} check answered`);
    const failures = r.failures ?? [];
    assert.ok(Array.isArray(failures), `failures is a list`);
    if (failures.length === 0) assert.ok(r.inputs !== null && typeof r.inputs === "object", `checked inputs are an object`);
    for (const f of failures) {
        assert.ok(typeof f.property === "string" && f.property.length > 0, `a failure names a property: ${JSON.stringify(f)}`);
        assert.ok(typeof f.reason === "string" && f.reason.length >= 10, `a failure has a reason: ${JSON.stringify(f)}`);
        const root = rootArgument(f.property);
        assert.ok(
            KNOWN_ARGUMENTS[target].includes(root) || Object.hasOwn(inputs, root),
            `${target}: "${f.property}" is neither an argument nor a key that was given\ninputs: ${show(inputs)}`,
        );
    }
    return failures;
}

function show(v: unknown): string {
    return JSON.stringify(v, (_k, x) => (x === undefined ? "<undefined>" : typeof x === "number" && !Number.isFinite(x) ? String(x) : x)).slice(0, 2000);
}

async function forAll(label: string, runs: number, body: (g: Gen) => Promise<void> | void): Promise<void> {
    const params: fc.Parameters<[fc.GeneratorValue]> = { seed: BASE_SEED, numRuns: runs, ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}) };
    try {
        await fc.assert(
            fc.asyncProperty(fc.gen(), async (g) => body(new Gen(g))),
            params,
        );
    } catch (err) {
        (err as Error).message = `${label} (replay: FUZZ_SEED=${BASE_SEED} and the path fast-check reports): ${(err as Error).message}`;
        throw err;
    }
}

describe(`validators, property-based (seed ${BASE_SEED}, ${RUNS} cases per property)`, function () {
    this.timeout(120_000);

    for (const target of TARGETS) {
        describe(target, function () {
            it("check never throws, whatever it gets, and every failure names an argument", async function () {
                await forAll(`${target} arbitrary inputs`, RUNS, async (g) => {
                    const raw = anyValue(g, 1);
                    const inputs: Inputs = raw !== null && typeof raw === "object" && !Array.isArray(raw) ? (raw as Inputs) : { value: raw };
                    // plus a few arguments of the right names, with any values
                    for (const f of g.some(KNOWN_ARGUMENTS[target], 0.4)) inputs[f] = anyValue(g);
                    await checked(target, inputs);
                });
            });

            it("valid inputs pass", async function () {
                await forAll(`${target} valid inputs`, RUNS, async (g) => {
                    const inputs = validInputs(g, target, secretValue(g));
                    const failures = await checked(target, inputs);
                    assert.deepStrictEqual(failures, [], `valid ${target} inputs refused: ${show(inputs)}`);
                });
            });

            it("values still unknown at preview are never judged", async function () {
                await forAll(`${target} unknowns`, RUNS, async (g) => {
                    const inputs = validInputs(g, target, secretValue(g));
                    for (const f of g.some(Object.keys(inputs), 0.5)) inputs[f] = UNKNOWN;
                    const failures = await checked(target, inputs);
                    assert.deepStrictEqual(failures, [], `unknowns judged: ${show(inputs)}`);
                });
            });

            it("a broken valid input: no throw, failures name arguments, an unchanged argument is never blamed", async function () {
                await forAll(`${target} mutations`, RUNS, async (g) => {
                    const valid = validInputs(g, target, secretValue(g));
                    const broken = mutate(g, target, valid);
                    const failures = await checked(target, broken);
                    // cross-field rules may name a field next to the changed one (serviceId for a subject given
                    // as iamId, resource.* for roles); otherwise a failure is about an argument that changed
                    const changed = new Set(
                        Object.keys({ ...valid, ...broken }).filter(
                            (k) => k in valid !== k in broken || JSON.stringify(valid[k]) !== JSON.stringify(broken[k]),
                        ),
                    );
                    const related: Record<string, string[]> = {
                        serviceId: ["iamId"],
                        iamId: ["serviceId"],
                        roles: ["resource", "targetServiceName"],
                        payload: ["type", "rotationTrigger"],
                        resource: ["roles"],
                        // an instance is given by id (with service and region) or by CRN
                        instanceId: ["instanceCrn"],
                        instanceCrn: ["instanceId", "service", "region"],
                        service: ["instanceCrn"],
                        region: ["instanceCrn"],
                        rotation: ["type"],
                        rotationTrigger: ["type", "payload"],
                        targetResource: ["targetResourceType", "targetServiceInstance"],
                        targetResourceType: ["targetResource"],
                        targetServiceInstance: ["targetResource", "targetResourceType"],
                        sourceServiceName: ["targetServiceName"],
                        targetServiceName: ["sourceServiceName"],
                    };
                    for (const f of failures) {
                        const root = rootArgument(f.property);
                        assert.ok(
                            changed.has(root) || (related[root] ?? []).some((r) => changed.has(r)),
                            `${f.property} blamed but unchanged: ${f.reason}\nbefore: ${show(valid)}\nafter: ${show(broken)}`,
                        );
                    }
                });
            });

            if (SECRET_FIELDS[target].length > 0) {
                it("no failure echoes a secret, wherever it is put and however it is broken", async function () {
                    await forAll(`${target} secrets`, RUNS, async (g) => {
                        const secret = secretValue(g);
                        const inputs = mutate(g, target, validInputs(g, target, secret));
                        // the secret, broken in some way, in its own field or in a misspelt one
                        const field = g.pick(SECRET_FIELDS[target]);
                        const broken = g.pick([secret, `${secret} ${secret}`, secret.slice(0, 20), secret.repeat(3), `${secret}\n`, `${secret}!`]);
                        inputs[g.bool(0.7) ? field : g.pick([field.toLowerCase(), `${field}s`, "api_key", "key"])] = broken;
                        const failures = await checked(target, inputs);
                        const text = JSON.stringify(failures);
                        for (const needle of [secret, secret.slice(0, 16), broken]) {
                            assert.ok(!text.includes(needle), `a failure echoes the secret: ${text}`);
                        }
                    });
                });
            }
        });
    }

    describe("provider/check date-times", function () {
        it("IBM's format round-trips to the minute, for any instant", async function () {
            await forAll("round trip", RUNS * 3, (g) => {
                const ms = g.int(0, Date.UTC(9999, 11, 31));
                assert.strictEqual(parseIbmDateTime(formatIbmDateTime(ms)), ms - (ms % 60_000), String(ms));
            });
        });

        it("a date-time is read exactly when the calendar has it, at the instant it names", async function () {
            await forAll("calendar", RUNS * 3, (g) => {
                const y = g.int(1, 9999),
                    mo = g.int(0, 13),
                    d = g.int(0, 32),
                    h = g.int(0, 25),
                    mi = g.int(0, 61),
                    s = g.int(0, 61);
                const offset = g.pick(["Z", "+00:00", "+0000", "-05:00", "+05:30", "+1400", "-2300"]);
                const p = (n: number, w = 2) => String(n).padStart(w, "0");
                const text = `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}${offset}`;
                const exists =
                    mo >= 1 &&
                    mo <= 12 &&
                    d >= 1 &&
                    d <= new Date(Date.UTC(2000, mo, 0)).getUTCDate() - (mo === 2 && !isLeap(y) ? 1 : 0) &&
                    h <= 23 &&
                    mi <= 59 &&
                    s <= 59;
                const r = readDateTime(text, "ibm");
                assert.strictEqual("ms" in r, exists, `${text}: ${JSON.stringify(r)}`);
                if ("ms" in r) {
                    const sign = offset === "Z" ? 0 : offset[0] === "-" ? -1 : 1;
                    const off = sign === 0 ? 0 : sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(-2)));
                    const utc = new Date(0);
                    utc.setUTCFullYear(y, mo - 1, d);
                    utc.setUTCHours(h, mi, s, 0);
                    assert.strictEqual(r.ms, utc.getTime() - off * 60_000, text);
                }
            });
        });
    });

    describe("provider/check closestName", function () {
        it("only ever suggests a known name, and always the one that differs by case or separators alone", async function () {
            await forAll("closestName", RUNS * 3, (g) => {
                const known = [...new Set(Array.from({ length: g.int(1, 8) }, () => g.string(LETTERS, 2, 14)))];
                const target = g.pick(known);
                const guess = g.pick([target.toLowerCase(), target.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), g.string(LETTERS, 1, 14), `${target}x`]);
                const meant = closestName(guess, known);
                if (meant !== undefined) assert.ok(known.includes(meant), `${guess} → ${meant} not in ${known}`);
                const folds = known.filter((k) => k.toLowerCase().replace(/[_-]/g, "") === guess.toLowerCase().replace(/[_-]/g, ""));
                if (folds.length === 1) assert.strictEqual(meant, folds[0], `${guess} in ${known}`);
            });
        });
    });
});

function isLeap(y: number): boolean {
    return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}
