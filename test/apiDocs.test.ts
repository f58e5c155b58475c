// The API reference (`npm run docs:api`, TypeDoc with typedoc.json) is built from the doc comments: a broken one
// (a link to nothing, a type the reference cannot show) fails here, as does a resource, argument or output that
// a user would find undocumented. The same configuration as the npm script; converted, not rendered (rendering
// the HTML adds nothing a comment can break).
import { strict as assert } from "assert";
import * as path from "path";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** The resources and the component: each class, its `<Name>Args` and `<Name>Outputs`, must be documented. */
const RESOURCES = [
    "ServiceId",
    "ServiceApiKey",
    "AccessPolicy",
    "AuthorizationPolicy",
    "KmsKey",
    "KmsKeyRing",
    "KmsAccessReady",
    "TrustedProfile",
    "TrustedProfileLink",
    "TrustedProfileClaimRule",
    "TrustedProfileIdentity",
    "KmsAccess",
];
/** Argument types nested in the ones above. */
const NESTED_ARGS = ["KmsInstanceArgs", "AccessPolicyResourceArgs", "TrustedProfileClaimRuleConditionArgs"];

// typedoc is an ES module: a real dynamic import (a CommonJS build would turn `import()` into `require`).
const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<any>;

interface Reflection {
    name: string;
    kind: number;
    comment?: { summary: Array<{ text: string }> };
    signatures?: Reflection[];
    getSignature?: Reflection;
    children?: Reflection[];
    inheritedFrom?: unknown;
    flags: { isPrivate?: boolean; isProtected?: boolean };
    getFullName(): string;
}

const documented = (r: Reflection): boolean =>
    [r, ...(r.signatures ?? []), ...(r.getSignature ? [r.getSignature] : [])].some((x) => (x.comment?.summary ?? []).some((p) => p.text.trim() !== ""));

describe("API reference (TypeDoc)", function () {
    this.timeout(240_000);
    let project: { getChildByName(name: string): Reflection | undefined };
    const warnings: string[] = [];

    before(async () => {
        const td = await importEsm("typedoc");
        const cwd = process.cwd();
        process.chdir(REPO_ROOT);
        try {
            const app = await td.Application.bootstrapWithPlugins({ options: path.join(REPO_ROOT, "typedoc.json") });
            const log = app.logger.log.bind(app.logger);
            app.logger.log = (message: string, level: number) => {
                if (level >= td.LogLevel.Warn) warnings.push(String(message).replace(/\x1b\[[0-9;]*m/g, ""));
                log(message, level);
            };
            project = await app.convert();
            assert.ok(project, `TypeDoc could not convert the package:\n${warnings.join("\n")}`);
            app.validate(project);
        } finally {
            process.chdir(cwd);
        }
    });

    it("builds without a warning (links resolve, every type it shows is exported)", () => {
        assert.deepEqual(warnings, []);
    });

    it("every exported resource, argument and output has a doc comment", () => {
        const root = project.getChildByName("index");
        assert.ok(root, "the package root is an entry point");
        const find = (name: string) => (root as unknown as { getChildByName(n: string): Reflection | undefined }).getChildByName(name);
        const missing: string[] = [];
        const members = (r: Reflection) =>
            (r.children ?? []).filter((c) => !c.inheritedFrom && !c.flags.isPrivate && !c.flags.isProtected && c.name !== "constructor");
        for (const name of RESOURCES) {
            const cls = find(name);
            assert.ok(cls, `${name} is exported from the package root`);
            if (!documented(cls)) missing.push(name);
            for (const m of members(cls)) if (!documented(m)) missing.push(m.getFullName());
            for (const suffix of ["Args", "Outputs"]) {
                const iface = find(`${name}${suffix}`);
                if (suffix === "Args") assert.ok(iface, `${name}Args is exported`);
                if (!iface) continue;
                for (const p of members(iface)) if (!documented(p)) missing.push(p.getFullName());
            }
        }
        for (const name of NESTED_ARGS) {
            const iface = find(name);
            assert.ok(iface, `${name} is exported`);
            for (const p of members(iface)) if (!documented(p)) missing.push(p.getFullName());
        }
        assert.deepEqual(missing, [], "undocumented in the API reference");
    });
});
