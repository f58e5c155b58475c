// How a program of this folder gets its parameters: stack config under the `e2e` namespace, set by the
// test with `EngineSandbox.programStack(…, { params })` / `EngineStack.setParams()` (one `pulumi config
// set-all` per change; `paramsConfig` in ../support/engine.ts). The programs run in their own process,
// started by the engine through pulumi-language-nodejs as `pulumi up` runs any user's program, so they
// cannot close over test variables.
import * as pulumi from "@pulumi/pulumi";

/** The config namespace of program parameters. */
export const PARAMS_NAMESPACE = "e2e";

/** A program parameter's value as the test gives it: objects and arrays travel as JSON. */
export type ParamValue = string | number | boolean | object;

/** The program parameters, read inside a program. */
export function params(): pulumi.Config {
    return new pulumi.Config(PARAMS_NAMESPACE);
}
