// What a resource class hands to `pulumi.dynamic.Resource`, derived from its outputs type.
//
// Pulumi makes an Output on the resource object only for keys present in the props passed to the
// constructor, so every output key must be there — undefined when no argument gives it, and also for
// `get()`, which passes no arguments and takes every value from the provider's read. Listing the keys
// as an `EveryKey<Outputs>` object makes a missing (or unknown) key a compile error, and a class that
// `implements OutputsOf<Outputs>` must declare an Output for each of them.
import type * as pulumi from "@pulumi/pulumi";
import { secret } from "@pulumi/pulumi/output";
import { mergeOptions } from "@pulumi/pulumi/resource";

/** One `true` per key of a resource's outputs type, optional keys included. */
export type EveryKey<O> = { readonly [K in keyof Required<O>]: true };

/** The Outputs a resource class declares: one per key of its outputs type. */
export type OutputsOf<O> = { readonly [K in keyof Required<O>]: pulumi.Output<O[K]> };

/** A resource's type name, its output keys and which of them are secret. */
export interface ResourceShape<O> {
    /** The name after `ibmcloud-iam:` in the type token; state names it, so it never changes. */
    readonly type: string;
    readonly outputKeys: ReadonlyArray<keyof O & string>;
    /** Outputs the engine keeps secret; an argument of the same name is sent secret too. */
    readonly secretOutputs: ReadonlyArray<keyof O & string>;
}

export function resourceShape<O>(type: string, keys: EveryKey<O>, secretOutputs: ReadonlyArray<keyof O & string> = []): ResourceShape<O> {
    return { type, outputKeys: Object.keys(keys) as Array<keyof O & string>, secretOutputs };
}

/**
 * The props for `pulumi.dynamic.Resource`: every output key (undefined unless given), then the arguments
 * as given, with each secret argument that has a value wrapped in `pulumi.secret`.
 */
export function resourceProps<O>(shape: ResourceShape<O>, args: object | undefined): Record<string, unknown> {
    const props: Record<string, unknown> = Object.fromEntries(shape.outputKeys.map((k) => [k, undefined]));
    Object.assign(props, args);
    for (const key of shape.secretOutputs) {
        if (props[key] !== undefined) props[key] = secret(props[key]);
    }
    return props;
}

/** The caller's options with the secret outputs added to `additionalSecretOutputs` (the caller's own entries kept). */
export function resourceOptions<O>(shape: ResourceShape<O>, opts: pulumi.CustomResourceOptions | undefined): pulumi.CustomResourceOptions | undefined {
    if (shape.secretOutputs.length === 0) return opts;
    return mergeOptions(opts, { additionalSecretOutputs: [...shape.secretOutputs] });
}
