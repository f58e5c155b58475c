// The resource types a package exports, as type tokens: its classes that extend `dynamic.Resource`
// (`pulumi-nodejs:dynamic/ibmcloud-iam:<Name>`) or `ComponentResource` (`ibmcloud-iam:index:<Name>`). The
// writer asks the INSTALLED package (with the project's @pulumi/pulumi); the program's test asks this checkout.
export const DYNAMIC_PREFIX = "pulumi-nodejs:dynamic/ibmcloud-iam:";
export const COMPONENT_PREFIX = "ibmcloud-iam:index:";

/** A class, as far as `instanceof` is concerned. */
type AnyClass = abstract new (...args: never) => unknown;

interface PulumiClasses {
    dynamic: { Resource: AnyClass };
    ComponentResource: AnyClass;
}

export function exportedTypes(pulumi: PulumiClasses, pkg: Record<string, unknown>): string[] {
    const types: string[] = [];
    for (const [name, value] of Object.entries(pkg)) {
        if (typeof value !== "function" || !value.prototype) continue;
        if (value.prototype instanceof pulumi.dynamic.Resource) types.push(DYNAMIC_PREFIX + name);
        else if (value.prototype instanceof pulumi.ComponentResource) types.push(COMPONENT_PREFIX + name);
    }
    return types.sort();
}

/** What a program must add: the exported types that none of `used` is. */
export function missingTypes(exported: string[], used: Iterable<string>): string[] {
    const seen = new Set(used);
    return exported.filter((t) => !seen.has(t));
}
