// Derives the plugin's Pulumi schema from the definitions the dynamic resources already have, so there is no
// second hand-kept copy: each resource's inputs are its `<Name>Args` interface and its outputs its `<Name>Outputs`
// interface in provider/<name>.ts (types and TSDoc, read with the TypeScript compiler), its description the TSDoc
// of its resource class; secrets are plugin/resources.ts's lists (checked there against the dynamic resources);
// the provider's configuration is `ExplicitCloudSettings` of client/config.ts; a function's inputs are its zod
// check schema through `z.toJSONSchema`; the plugin's download URL is package.json's `repository`. `npm run plugin:schema` writes plugin/schema.json; a test fails when the
// file and this derivation disagree. Build-time only: the plugin reads the written file.
import * as path from "path";
import { parseArgs } from "util";
import type * as TS from "typescript";
import { z } from "zod";
import { FUNCTIONS, getAccessTokenArgsSchema } from "../plugin/functions";
import { PACKAGE, RESOURCES } from "../plugin/resources";
import { COMPONENT_TOKEN } from "../plugin/component";

type Spec = Record<string, unknown>;

interface Ctx {
    ts: typeof TS;
    checker: TS.TypeChecker;
    /** Object types met on the way, by token. */
    types: Map<string, Spec>;
}

function docOf(ctx: Ctx, node: TS.Node): string {
    const sym = ctx.checker.getSymbolAtLocation((node as TS.NamedDeclaration).name ?? node);
    return sym ? ctx.ts.displayPartsToString(sym.getDocumentationComment(ctx.checker)).trim() : "";
}

function propDoc(ctx: Ctx, sym: TS.Symbol): string {
    return ctx.ts.displayPartsToString(sym.getDocumentationComment(ctx.checker)).trim();
}

/** The schema type of a TypeScript type node (`pulumi.Input<…>` unwrapped; interfaces and object literals become named object types). */
function typeSpec(ctx: Ctx, node: TS.TypeNode, nameHint: string): Spec {
    const { ts } = ctx;
    if (ts.isParenthesizedTypeNode(node)) return typeSpec(ctx, node.type, nameHint);
    switch (node.kind) {
        case ts.SyntaxKind.StringKeyword:
            return { type: "string" };
        case ts.SyntaxKind.NumberKeyword:
            return { type: "number" };
        case ts.SyntaxKind.BooleanKeyword:
            return { type: "boolean" };
    }
    if (ts.isLiteralTypeNode(node)) {
        if (ts.isStringLiteral(node.literal)) return { type: "string" };
        if (node.literal.kind === ts.SyntaxKind.TrueKeyword || node.literal.kind === ts.SyntaxKind.FalseKeyword) return { type: "boolean" };
        if (ts.isNumericLiteral(node.literal)) return { type: "number" };
    }
    if (ts.isArrayTypeNode(node)) return { type: "array", items: typeSpec(ctx, node.elementType, nameHint) };
    if (ts.isUnionTypeNode(node)) {
        const members = node.types.filter(
            (t) => t.kind !== ts.SyntaxKind.UndefinedKeyword && !(ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword),
        );
        const specs = members.map((t) => typeSpec(ctx, t, nameHint));
        const distinct = [...new Map(specs.map((s) => [JSON.stringify(s), s])).values()];
        return distinct.length === 1 ? distinct[0] : { oneOf: distinct };
    }
    if (ts.isTypeLiteralNode(node)) {
        const index = node.members.find(ts.isIndexSignatureDeclaration);
        if (index) return { type: "object", additionalProperties: typeSpec(ctx, index.type, nameHint) };
        return objectRef(ctx, nameHint, node);
    }
    if (ts.isTypeReferenceNode(node)) {
        const name = node.typeName.getText();
        if (/^(pulumi\.)?(Input|Output)$/.test(name) && node.typeArguments?.length === 1) return typeSpec(ctx, node.typeArguments[0], nameHint);
        let sym = ctx.checker.getSymbolAtLocation(node.typeName);
        if (sym && sym.flags & ts.SymbolFlags.Alias) sym = ctx.checker.getAliasedSymbol(sym);
        const decl = sym?.declarations?.[0];
        if (decl && ts.isTypeAliasDeclaration(decl)) return typeSpec(ctx, decl.type, nameHint);
        if (decl && ts.isInterfaceDeclaration(decl)) return objectRef(ctx, decl.name.text, decl);
    }
    throw new Error(`plugin schema: no schema type for \`${node.getText()}\` (${nameHint}); extend plugin/schemaGen.ts`);
}

/** A named object type (`ibmcloud-iam:index:<name>`) for an interface or an object literal; returns its `$ref`. */
function objectRef(ctx: Ctx, name: string, node: TS.Node): Spec {
    const token = `${PACKAGE}:index:${name}`;
    if (!ctx.types.has(token)) {
        ctx.types.set(token, {}); // placeholder against recursion
        const { properties, required } = propertiesOf(ctx, node, name, []);
        const doc = ctx.ts.isInterfaceDeclaration(node) ? docOf(ctx, node) : "";
        ctx.types.set(token, { type: "object", ...(doc ? { description: doc } : {}), properties, ...(required.length ? { required } : {}) });
    }
    return { $ref: `#/types/${token}` };
}

/** The properties of an interface (with what it extends) or object literal. */
function propertiesOf(ctx: Ctx, node: TS.Node, nameHint: string, secrets: readonly string[]): { properties: Spec; required: string[] } {
    const { ts, checker } = ctx;
    const type = checker.getTypeAtLocation(ts.isInterfaceDeclaration(node) ? node.name : node);
    const properties: Spec = {};
    const required: string[] = [];
    for (const sym of checker.getPropertiesOfType(type)) {
        const decl = sym.declarations?.[0];
        if (!decl || !ts.isPropertySignature(decl) || !decl.type) throw new Error(`plugin schema: ${nameHint}.${sym.name} has no declared type`);
        const spec: Spec = typeSpec(ctx, decl.type, `${nameHint}${sym.name[0].toUpperCase()}${sym.name.slice(1)}`);
        const description = propDoc(ctx, sym);
        if (description) spec.description = description;
        if (secrets.includes(sym.name)) spec.secret = true;
        properties[sym.name] = spec;
        if (!decl.questionToken) required.push(sym.name);
    }
    return { properties, required };
}

/** The declaration `file` has, or exports from elsewhere (a resource module re-exports its state shapes), named `name`. */
function findDecl<T extends TS.Node>(ctx: Ctx, file: TS.SourceFile, test: (n: TS.Node) => n is T, name: string): T {
    let found: T | undefined;
    ctx.ts.forEachChild(file, (n) => {
        if (test(n) && (n as unknown as { name?: TS.Identifier }).name?.text === name) found = n;
    });
    if (!found) {
        const moduleSymbol = ctx.checker.getSymbolAtLocation(file);
        let sym = moduleSymbol ? ctx.checker.getExportsOfModule(moduleSymbol).find((e) => e.name === name) : undefined;
        if (sym && sym.flags & ctx.ts.SymbolFlags.Alias) sym = ctx.checker.getAliasedSymbol(sym);
        found = sym?.declarations?.find((d): d is TS.Declaration & T => test(d));
    }
    if (!found) throw new Error(`plugin schema: ${name} not found in ${path.basename(file.fileName)}`);
    return found;
}

/** provider/serviceApiKey.ts for ServiceApiKey. */
function sourceFileOf(name: string): string {
    return `provider/${name[0].toLowerCase()}${name.slice(1)}.ts`;
}

const COMPONENT_SOURCE = "components/kmsAccess.ts";
/** Outputs of the component that are secrets. */
const COMPONENT_SECRETS = ["apiKey"];

/**
 * The KmsAccess component (served by Construct): inputs from `KmsAccessArgs`, outputs from the component's public
 * `pulumi.Output<…>` fields and getters (the child resources and methods stay TypeScript's).
 */
function componentSpec(ctx: Ctx, sf: TS.SourceFile): Spec {
    const { ts } = ctx;
    const args = findDecl(ctx, sf, ts.isInterfaceDeclaration, "KmsAccessArgs");
    const cls = findDecl(ctx, sf, ts.isClassDeclaration, "KmsAccess");
    const inputs = propertiesOf(ctx, args, "KmsAccess", []);
    const properties: Spec = {};
    // Required: the fields whose value is always there. Not: a getter (it throws in the other mode of the
    // component) or an `Output<T | undefined>` (undefined in the other mode).
    const required: string[] = [];
    for (const m of cls.members) {
        // Fields, and getters (an output that only exists in one mode of the component).
        if (!(ts.isPropertyDeclaration(m) || ts.isGetAccessorDeclaration(m)) || !m.type || !ts.isIdentifier(m.name)) continue;
        if (m.modifiers?.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.ProtectedKeyword)) continue;
        if (!ts.isTypeReferenceNode(m.type) || !/^(pulumi\.)?Output$/.test(m.type.typeName.getText())) continue;
        const spec = typeSpec(ctx, m.type, `KmsAccess${m.name.text}`);
        const sym = ctx.checker.getSymbolAtLocation(m.name);
        const description = sym ? propDoc(ctx, sym) : "";
        if (description) spec.description = description;
        if (COMPONENT_SECRETS.includes(m.name.text)) spec.secret = true;
        properties[m.name.text] = spec;
        const valueType = m.type.typeArguments?.[0];
        const mayBeUndefined =
            valueType !== undefined && ts.isUnionTypeNode(valueType) && valueType.types.some((t) => t.kind === ts.SyntaxKind.UndefinedKeyword);
        if (ts.isPropertyDeclaration(m) && !mayBeUndefined) required.push(m.name.text);
    }
    return {
        isComponent: true,
        description: `${docOf(ctx, cls)}\n\nA component: its children are this provider's ServiceId, ServiceApiKey, AccessPolicy and KmsAccessReady.`,
        inputProperties: inputs.properties,
        requiredInputs: inputs.required,
        properties,
        required,
    };
}

/**
 * Where the engine and the generated SDKs fetch the plugin: the GitHub releases of the repository package.json names
 * (`repository`), as Pulumi's `github://` plugin source spells it. The engine asks that repository's release `v<version>`
 * for the asset `pulumi-resource-ibmcloud-iam-v<version>-<os>-<arch>.tar.gz` (scripts/plugin-archive.sh names it so).
 * `repository` is the one place a release sets: schema, SDKs and this URL follow it.
 */
export function pluginDownloadURL(pkg: { repository?: string | { url?: string } }): { downloadURL: string; repository: string } {
    const raw = typeof pkg.repository === "string" ? pkg.repository : pkg.repository?.url;
    // npm's forms: "github:owner/repo", "owner/repo", "git+https://github.com/owner/repo.git", "https://github.com/owner/repo".
    const m = raw?.match(/^(?:github:|(?:git\+)?(?:https?|ssh|git):\/\/(?:git@)?github\.com\/|git@github\.com:)?([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/);
    if (!raw || !m) {
        throw new Error(
            `plugin schema: package.json \`repository\` must name the GitHub repository whose releases carry the plugin archives (e.g. "github:owner/repo"); it is ${JSON.stringify(raw)}`,
        );
    }
    return { downloadURL: `github://api.github.com/${m[1]}/${m[2]}`, repository: `https://github.com/${m[1]}/${m[2]}` };
}

/** The schema, derived from the sources under `root` (the repository). Deterministic: the same sources give the same text. */
export function deriveSchema(root: string): Spec {
    // The compiler is a development dependency: loaded here only, never by the plugin at run time.
    const ts: typeof TS = require("typescript");
    const files = [...[...RESOURCES.values()].map((r) => sourceFileOf(r.name)), "client/config.ts", "plugin/functions.ts", COMPONENT_SOURCE].map((f) =>
        path.join(root, f),
    );
    const program = ts.createProgram(files, { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, strict: true, skipLibCheck: true, noEmit: true });
    const ctx: Ctx = { ts, checker: program.getTypeChecker(), types: new Map() };
    const source = (f: string) => {
        const sf = program.getSourceFile(path.join(root, f));
        if (!sf) throw new Error(`plugin schema: cannot read ${f}`);
        return sf;
    };

    const resources: Spec = {};
    for (const [token, r] of RESOURCES) {
        const sf = source(sourceFileOf(r.name));
        const args = findDecl(ctx, sf, ctx.ts.isInterfaceDeclaration, `${r.name}Args`);
        const outs = findDecl(ctx, sf, ctx.ts.isInterfaceDeclaration, `${r.name}Outputs`);
        const cls = findDecl(ctx, sf, ctx.ts.isClassDeclaration, r.name);
        const inputs = propertiesOf(ctx, args, r.name, r.secretOutputs);
        const outputs = propertiesOf(ctx, outs, `${r.name}Output`, r.secretOutputs);
        resources[token] = {
            description: `${docOf(ctx, cls)}\n\nImport id: ${r.importId}.`,
            inputProperties: inputs.properties,
            requiredInputs: inputs.required,
            properties: outputs.properties,
            required: outputs.required,
        };
    }

    resources[COMPONENT_TOKEN] = componentSpec(ctx, source(COMPONENT_SOURCE));

    const settings = findDecl(ctx, source("client/config.ts"), ctx.ts.isInterfaceDeclaration, "ExplicitCloudSettings");
    const config = propertiesOf(ctx, settings, "Provider", ["apiKey"]);
    // The deployer as a trusted profile (no API key): the same settings as the dynamic providers read.
    const profileLogin = propertiesOf(ctx, findDecl(ctx, source("client/config.ts"), ctx.ts.isInterfaceDeclaration, "ProfileLoginSettings"), "Provider", []);
    Object.assign(config.properties, profileLogin.properties);

    const release = pluginDownloadURL(JSON.parse(require("fs").readFileSync(path.join(root, "package.json"), "utf8")));

    const functions: Spec = {};
    for (const [token, f] of FUNCTIONS) {
        // Inputs from the zod check schema, outputs from the result interface.
        const json = z.toJSONSchema(getAccessTokenArgsSchema()) as { properties: Record<string, Spec>; required?: string[] };
        const fnSource = source("plugin/functions.ts");
        const argsDecl = findDecl(ctx, fnSource, ctx.ts.isFunctionDeclaration, "getAccessTokenArgsSchema");
        const resultDecl = findDecl(ctx, fnSource, ctx.ts.isInterfaceDeclaration, "GetAccessTokenResult");
        const inputProps: Spec = {};
        for (const [name, p] of Object.entries(json.properties)) {
            inputProps[name] = { type: p.type, ...(f.secretInputs.includes(name) ? { secret: true } : {}) };
        }
        const out = propertiesOf(ctx, resultDecl, f.name, f.secretOutputs);
        functions[token] = {
            description:
                docOf(ctx, argsDecl)
                    .replace(/^Inputs of getAccessToken.*$/m, "")
                    .trim() || "Exchanges an API key for an IAM access token.",
            inputs: { properties: inputProps, required: json.required ?? [] },
            outputs: { properties: out.properties, required: out.required },
        };
    }

    return {
        name: PACKAGE,
        displayName: "IBM Cloud IAM (pulumi-ibmcloud-iam)",
        description: "IBM Cloud service IDs, API keys, access and authorization policies, Key Protect / HPCS keys and key rings.",
        keywords: ["pulumi", "ibm-cloud", "iam", "key-protect", "hpcs", "category/cloud", "kind/native"],
        license: "Apache-2.0",
        publisher: "pulumi-ibmcloud-iam",
        repository: release.repository,
        pluginDownloadURL: release.downloadURL,
        config: { variables: config.properties },
        provider: { description: "The provider: one IBM Cloud account's credentials and endpoints.", inputProperties: config.properties },
        resources,
        functions,
        types: Object.fromEntries([...ctx.types.entries()].sort(([a], [b]) => a.localeCompare(b))),
        language: {
            nodejs: { packageName: "@pulumi-ibmcloud-iam/sdk", respectSchemaVersion: true },
            python: { packageName: "pulumi_ibmcloud_iam", respectSchemaVersion: true },
            go: { importBasePath: "github.com/pulumi-ibmcloud-iam/sdk/go/ibmcloudiam", respectSchemaVersion: true },
            csharp: { rootNamespace: "PulumiIbmcloudIam", respectSchemaVersion: true },
        },
    };
}

// `node build/scripts/plugin-schema.js [--check]`: writes plugin/schema.json (or, with --check, fails when it is stale).
if (require.main === module) {
    const fs: typeof import("fs") = require("fs");
    const root = path.resolve(__dirname, "..", "..");
    const file = path.join(root, "plugin", "schema.json");
    const text = `${JSON.stringify(deriveSchema(root), null, 2)}\n`;
    if (parseArgs({ args: process.argv.slice(2), options: { check: { type: "boolean", default: false } } }).values.check) {
        // Compared as data: the file is kept formatted by Biome (npm run plugin:schema formats it).
        if (!require("util").isDeepStrictEqual(JSON.parse(fs.readFileSync(file, "utf8")), JSON.parse(text))) {
            console.error("plugin/schema.json is stale: run npm run plugin:schema");
            process.exit(1);
        }
    } else {
        fs.writeFileSync(file, text);
        console.log(`wrote ${path.relative(root, file)}`);
    }
}
