// What every dynamic resource hands to `pulumi.dynamic.Resource`: its provider, as small as Pulumi allows.
// Pulumi serializes that object into every resource's state (`__provider`) and the plugin runs the text;
// local modules would be copied by value (~105 KiB per resource). So, in order: **as a module** (installed
// under node_modules: one `require` of `<package>/dist/provider/module/<resource>.js`), **by name** (this
// repository, a linked checkout: a thin provider loading `<package>/dist/provider/<resource>.js` inside the
// plugin), else **by value**. Why each works, and what it means for state: docs/dynamic-providers.md
// ("How a provider travels to the plugin").
//
// This file stays directly in provider/: `locateProvider` looks for providers among the modules of its own
// directory. The thin provider's functions reach nothing of this module but builtins (`path`, `module`,
// captured by name) and the strings they close over; keep it so, or the serializer copies this module too.
import * as fs from "fs";
import * as path from "path";
import * as nodeModule from "module";
import type * as pulumi from "@pulumi/pulumi";
import { exitWithParent } from "./core/parentWatch";

// Every provider module loads this one, in the plugin and in the program: neither outlives the engine that started it.
exitWithParent();

/** The methods the dynamic-provider plugin looks for; the thin provider has exactly those the real one has. */
const PROVIDER_METHODS = Object.freeze(["configure", "check", "diff", "create", "read", "update", "delete"]);

/** Where a provider object is defined: `require(spec)[exportName]` is it. */
export interface ProviderLocation {
    /** Package specifier, e.g. `pulumi-ibmcloud-iam/dist/provider/serviceId.js`. */
    spec: string;
    /** The defining module's file (real path). */
    file: string;
    /** The export holding the provider object, e.g. `serviceIdProvider`. */
    exportName: string;
}

const locations = new WeakMap<object, ProviderLocation | null>();
const thinProviders = new WeakMap<object, pulumi.dynamic.ResourceProvider>();

/**
 * The provider argument of a resource's `super(...)`: `real` with its module loaded when Pulumi will
 * store it as one `require` of that module (installed under node_modules); else the thin by-name
 * provider when `real`'s package resolves from `baseDir` (default: the program's working directory,
 * where the engine also starts the plugin) to the file defining it; otherwise `real` itself (by value).
 */
export function providerForDeployment(real: pulumi.dynamic.ResourceProvider, baseDir: string = process.cwd()): pulumi.dynamic.ResourceProvider {
    const where = locateProvider(real);
    if (!where) return real;
    if (loadedAsModule(real, where, baseDir)) return real;
    if (!resolvesTo(where.spec, baseDir, where.file)) return real;
    let thin = thinProviders.get(real);
    if (!thin) {
        // One object per real provider: Pulumi caches serialization per object identity.
        thin = thinProvider(
            where.spec,
            where.exportName,
            PROVIDER_METHODS.filter((m) => typeof (real as unknown as Record<string, unknown>)[m] === "function"),
        );
        thinProviders.set(real, thin);
    }
    return thin;
}

/** Where the module whose whole export is the provider defined at `where` lives: `module/<file>` beside it. */
export function moduleLocation(where: ProviderLocation): { spec: string; file: string } {
    const base = path.basename(where.file);
    return { spec: `${where.spec.slice(0, where.spec.length - base.length)}module/${base}`, file: path.join(path.dirname(where.file), "module", base) };
}

/**
 * Whether Pulumi will capture `real` by reference, as `require(<module spec>)`: its module file lies
 * under node_modules as Pulumi sees it (the real path relative to the cwd, the require cache's key),
 * its spec resolves from `baseDir` to that file (so it is in the package's `exports`, which Pulumi maps
 * the path back through, and the plugin will find it), and its whole export is `real`. Loads the
 * module: Pulumi looks for it in the require cache.
 */
function loadedAsModule(real: object, where: ProviderLocation, baseDir: string): boolean {
    const mod = moduleLocation(where);
    const key = `${process.cwd()}\0${path.resolve(baseDir)}\0${mod.file}`;
    let ok = asModule.get(key);
    if (ok === undefined) {
        ok =
            fs.existsSync(mod.file) &&
            path.relative(process.cwd(), fs.realpathSync(mod.file)).split(path.sep).includes("node_modules") &&
            resolvesTo(mod.spec, baseDir, mod.file);
        asModule.set(key, ok);
    }
    // Not serialized (resource classes call this, providers do not reach it): a plain require is fine.
    return ok && require(mod.file) === real;
}

const asModule = new Map<string, boolean>();

/**
 * Finds the module of this folder that exports `real` as its own value (re-exports such as index.ts
 * are getters and do not count), and the package specifier of that module. Undefined when there is
 * not exactly one, or no named package.json above it.
 */
export function locateProvider(real: object): ProviderLocation | undefined {
    const known = locations.get(real);
    if (known !== undefined) return known ?? undefined;
    let found: ProviderLocation | undefined;
    let count = 0;
    for (const m of Object.values(require.cache)) {
        if (!m || path.dirname(m.filename) !== __dirname || m.exports === null || typeof m.exports !== "object") continue;
        for (const key of Object.keys(m.exports)) {
            const d = Object.getOwnPropertyDescriptor(m.exports, key);
            if (d && "value" in d && d.value === real) {
                count++;
                const spec = packageSpecifier(m.filename);
                if (spec) found = { spec, file: m.filename, exportName: key };
            }
        }
    }
    const result = count === 1 ? found : undefined;
    locations.set(real, result ?? null);
    return result;
}

/** `<name>/<path inside the package>` for a file, from the nearest package.json above it that has a name. */
function packageSpecifier(file: string): string | undefined {
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
        const pkgFile = path.join(dir, "package.json");
        if (fs.existsSync(pkgFile)) {
            let name: unknown;
            try {
                name = JSON.parse(fs.readFileSync(pkgFile, "utf8")).name;
            } catch {
                return undefined;
            }
            if (typeof name !== "string" || name === "") return undefined;
            return `${name}/${path.relative(dir, file).split(path.sep).join("/")}`;
        }
        if (path.dirname(dir) === dir) return undefined;
    }
}

/** Whether `require(spec)` from a module in `baseDir` loads `file` (both as real paths). */
export function resolvesTo(spec: string, baseDir: string, file: string): boolean {
    try {
        const resolved = nodeModule.createRequire(path.join(path.resolve(baseDir), "[pulumi-program]")).resolve(spec);
        return fs.realpathSync(resolved) === fs.realpathSync(file);
    } catch {
        return false;
    }
}

/**
 * The by-name provider. Serialized by Pulumi into every resource's inputs and outputs, so it is kept
 * short (~2.6 KiB, mostly the serializer's own wrapper around each of the seven methods): its functions
 * close over two strings and a method name and use only the builtins `path` and `module` (captured as
 * `require("path")`, `require("module")`).
 */
function thinProvider(spec: string, exportName: string, methods: ReadonlyArray<string>): pulumi.dynamic.ResourceProvider {
    // Runs inside the plugin, whose working directory is the project directory. Node's module cache
    // makes every call (and every thin provider of the same type) reach the same real provider object.
    const c = (m: string, a: unknown[]): unknown => {
        let p: Record<string, (...args: unknown[]) => unknown> | undefined;
        try {
            p = nodeModule.createRequire(path.join(process.cwd(), "_"))(spec)[exportName];
        } catch (e) {
            throw new Error(
                `${spec} cannot be loaded from ${process.cwd()} (${String((e as Error)?.message).split("\n")[0]}): install the package in this Pulumi project`,
            );
        }
        if (typeof p?.[m] !== "function") throw new Error(`${spec} has no ${exportName}.${m}(): install a version that can manage this state`);
        return p[m](...a);
    };
    const thin: Record<string, (...a: unknown[]) => unknown> = {};
    for (const m of methods) thin[m] = (...a: unknown[]) => c(m, a);
    return thin as unknown as pulumi.dynamic.ResourceProvider;
}
