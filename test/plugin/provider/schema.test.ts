// The plugin's schema is derived, not kept by hand: these fail when plugin/schema.json, the resources' own
// definitions and the plugin's tables drift apart.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { deriveSchema, pluginDownloadURL } from "../../../scripts/plugin-schema";
import { RESOURCES } from "../../../plugin/resources";
import { COMPONENT_TOKEN } from "../../../plugin/component";
import { KNOWN_ARGUMENTS, BadInputTarget } from "../../support/badInputs";
import { REPO_ROOT } from "../harness";

type Spec = Record<string, Record<string, unknown>>;

describe("provider plugin: schema", function () {
    this.timeout(120_000);
    const file = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "plugin", "schema.json"), "utf8"));

    it("plugin/schema.json is what the definitions give (run `npm run plugin:schema` after changing a resource)", () => {
        assert.deepStrictEqual(deriveSchema(REPO_ROOT), file);
    });

    it("the download URL is the GitHub releases of package.json's repository, in each form npm accepts; anything else is refused", () => {
        const expected = "github://api.github.com/acme/pulumi-ibmcloud-iam";
        for (const repository of [
            "github:acme/pulumi-ibmcloud-iam",
            "acme/pulumi-ibmcloud-iam",
            { type: "git", url: "git+https://github.com/acme/pulumi-ibmcloud-iam.git" },
            { url: "https://github.com/acme/pulumi-ibmcloud-iam" },
            "git@github.com:acme/pulumi-ibmcloud-iam.git",
        ]) {
            assert.equal(pluginDownloadURL({ repository }).downloadURL, expected, JSON.stringify(repository));
        }
        for (const repository of [undefined, "https://gitlab.com/acme/pulumi-ibmcloud-iam", "acme"]) {
            assert.throws(() => pluginDownloadURL({ repository }), /package\.json `repository` must name the GitHub repository/, JSON.stringify(repository));
        }
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
        assert.equal(file.pluginDownloadURL, pluginDownloadURL(pkg).downloadURL);
    });

    it("each resource's inputs are the arguments the bad-input table knows, and it is in the schema", () => {
        for (const [token, r] of RESOURCES) {
            const res = file.resources[token] as Spec;
            assert.ok(res, `${token} missing from the schema`);
            assert.deepStrictEqual(Object.keys(res.inputProperties).sort(), [...KNOWN_ARGUMENTS[r.name as BadInputTarget]].sort(), token);
        }
        assert.deepStrictEqual(Object.keys(file.resources).sort(), [...RESOURCES.keys(), COMPONENT_TOKEN].sort());
    });

    it("KmsAccess is a component (served by Construct) whose API key output is secret, as the TypeScript component's is", () => {
        const res = file.resources[COMPONENT_TOKEN] as Spec & { isComponent?: boolean; properties: Record<string, { secret?: boolean }> };
        assert.equal(res.isComponent, true);
        assert.deepStrictEqual(
            Object.entries(res.properties)
                .filter(([, p]) => p.secret)
                .map(([k]) => k),
            ["apiKey"],
        );
    });

    it("the plugin's secret outputs are the ones the dynamic resource's shape marks (resourceShape's secretOutputs)", () => {
        for (const r of RESOURCES.values()) {
            const src = fs.readFileSync(path.join(REPO_ROOT, "provider", `${r.name[0].toLowerCase()}${r.name.slice(1)}.ts`), "utf8");
            const m = new RegExp(`resourceShape<\\w+>\\(\\s*"${r.name}",\\s*\\{[^}]*\\}(?:,\\s*\\[([^\\]]*)\\])?\\s*,?\\s*\\)`).exec(src);
            assert.ok(m, `${r.name}: no resourceShape(...) found in its file`);
            const dynamic = [...(m[1] ?? "").matchAll(/"([^"]+)"/g)].map((x) => x[1]);
            assert.deepStrictEqual([...r.secretOutputs].sort(), dynamic.sort(), r.name);
        }
    });
});
