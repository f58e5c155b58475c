// The client layer's one rule, checked on the sources: a module of client/ imports only its siblings,
// Node's builtins, undici and zod. So `pulumi-ibmcloud-iam/client` can never reach @pulumi/pulumi,
// directly or through another module (type-only imports count too: they are one edit away from a
// value import).
import { strict as assert } from "assert";
import * as fs from "fs";
import { builtinModules } from "module";
import * as path from "path";
import * as ts from "typescript";

const REPO_ROOT = path.resolve(__dirname, "../../..");
const CLIENT_DIR = path.join(REPO_ROOT, "client");
const ALLOWED_PACKAGES = new Set(["undici", "zod"]);

/** Every import, export-from, require() and import() specifier of a TypeScript source. */
function importsOf(source: string): string[] {
    return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** What is wrong with `spec` imported by `file` (under `dir`), or undefined when it is allowed. */
function layeringViolation(file: string, spec: string, dir: string = CLIENT_DIR): string | undefined {
    if (spec.startsWith(".")) {
        const target = path.resolve(path.dirname(file), spec);
        if (path.relative(dir, target).startsWith("..")) return `${path.relative(REPO_ROOT, file)} imports ${spec}, outside client/`;
        return undefined;
    }
    const bare = spec.replace(/^node:/, "");
    if (builtinModules.includes(bare) || builtinModules.includes(bare.split("/")[0])) return undefined;
    const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
    if (ALLOWED_PACKAGES.has(pkg)) return undefined;
    return `${path.relative(REPO_ROOT, file)} imports ${spec}: the client layer may use only undici, zod and Node's builtins`;
}

function violationsIn(dir: string): string[] {
    const out: string[] = [];
    for (const name of fs.readdirSync(dir)) {
        const file = path.join(dir, name);
        if (fs.statSync(file).isDirectory()) out.push(...violationsIn(file));
        else if (name.endsWith(".ts")) {
            for (const spec of importsOf(fs.readFileSync(file, "utf8"))) {
                const v = layeringViolation(file, spec);
                if (v) out.push(v);
            }
        }
    }
    return out;
}

describe("client/ layering: no @pulumi/pulumi, nothing outside the folder", () => {
    it("every module of client/ imports only siblings, builtins, undici and zod", () => {
        const files = fs.readdirSync(CLIENT_DIR).filter((f) => f.endsWith(".ts"));
        assert.ok(files.length >= 8, `client/ has its modules (${files.join(", ")})`);
        assert.deepEqual(violationsIn(CLIENT_DIR), []);
    });

    it("the check itself catches each kind of violation", () => {
        const file = path.join(CLIENT_DIR, "http.ts");
        const src = [
            `import * as pulumi from "@pulumi/pulumi";`,
            `import type { Input } from "@pulumi/pulumi";`,
            `export * from "../provider/serviceId";`,
            `const x = require("../components");`,
            `const y = import("axios");`,
            `import { request } from "undici";`,
            `import * as fs from "node:fs";`,
            `import { z } from "zod";`,
            `import { redact } from "./errors";`,
        ].join("\n");
        const found = importsOf(src)
            .map((s) => layeringViolation(file, s))
            .filter(Boolean);
        assert.equal(found.length, 5, found.join("\n"));
        assert.match(found[0]!, /@pulumi\/pulumi/);
        assert.match(found[2]!, /outside client\//);
    });
});
