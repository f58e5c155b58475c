// The program of test/e2e/engine.test.ts: a trivial dynamic resource defined here, its provider
// closure-serialized BY VALUE (a local module) into the state and re-run in the real plugin: it must
// only reach npm packages by name (zod), node builtins (crypto) and its own code; the zod schema is
// built inside the method.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

export const PROJECT = "e2e-smoke";

interface ThingInputs {
    name: string;
}

class ThingProvider implements pulumi.dynamic.ResourceProvider {
    private apiKeyLength = -1;

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        const key = req.config.get(`${PROJECT}:apiKey`);
        this.apiKeyLength = typeof key === "string" ? key.length : -1;
    }

    async check(_olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
        const schema = z.object({ name: z.string().min(1) });
        const parsed = schema.safeParse(news);
        if (!parsed.success) {
            return { inputs: news, failures: [{ property: "name", reason: "name must be a non-empty string" }] };
        }
        return { inputs: { name: parsed.data.name } };
    }

    async diff(_id: string, olds: any, news: any): Promise<pulumi.dynamic.DiffResult> {
        const changes = olds.name !== news.name;
        return { changes, replaces: changes ? ["name"] : [] };
    }

    async create(inputs: ThingInputs): Promise<pulumi.dynamic.CreateResult> {
        return {
            id: `thing-${inputs.name}-${crypto.randomBytes(4).toString("hex")}`,
            outs: {
                name: inputs.name,
                greeting: `hello ${inputs.name}`,
                token: crypto.randomBytes(24).toString("base64url"),
                apiKeyLength: this.apiKeyLength,
            },
        };
    }

    async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
        return { id, props, inputs: { name: props.name } };
    }

    async update(_id: string, olds: any, news: ThingInputs): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: { ...olds, name: news.name, greeting: `hello ${news.name}` } };
    }

    async delete(): Promise<void> {
        // nothing to delete outside the state
    }
}

const thingProvider = new ThingProvider();

class Thing extends pulumi.dynamic.Resource {
    declare readonly name: pulumi.Output<string>;
    declare readonly greeting: pulumi.Output<string>;
    declare readonly token: pulumi.Output<string>;
    declare readonly apiKeyLength: pulumi.Output<number>;

    constructor(name: string, args: { name: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
        super(
            thingProvider,
            name,
            { ...args, greeting: undefined, token: undefined, apiKeyLength: undefined },
            { ...opts, additionalSecretOutputs: ["token"] },
            "e2e-smoke",
            "Thing",
        );
    }
}

export async function smoke(): Promise<Record<string, unknown>> {
    const thing = new Thing("smoke", { name: "world" });
    return { id: thing.id, greeting: thing.greeting, token: thing.token, apiKeyLength: thing.apiKeyLength };
}
