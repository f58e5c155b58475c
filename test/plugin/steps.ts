// The steps a plugin test takes the way the engine does, written once: check then create, check then
// diff then update, and "this call must fail with this message and no secret in it".
import * as assert from "assert";
import { IamClient, KmsClient } from "../../client";
import { kmsInstanceGrant } from "../support/grants";
import { DiffResult, Props, RunningPlugin } from "./harness";
import { PluginOnEmulator } from "./onEmulator";

/** A resource as the engine holds it after a create or an update. */
export interface Deployed {
    id: string;
    inputs: Props;
    outs: Props;
}

/** `check` (which must pass) then `create`, as `pulumi up` does for a new resource. */
export async function deploy(plugin: RunningPlugin, provider: object, news: Props): Promise<Deployed> {
    const checked = await plugin.check(provider, {}, news);
    assert.deepStrictEqual(checked.failures, []);
    const created = await plugin.create(provider, checked.inputs);
    return { id: created.id, inputs: checked.inputs, outs: created.outs };
}

/** `check` against the old inputs, `diff`, then `update` with `change` merged in, as `pulumi up` does for an edit. */
export async function redeploy(plugin: RunningPlugin, provider: object, d: Deployed, change: Props): Promise<Deployed & { diff: DiffResult }> {
    const news = (await plugin.check(provider, d.inputs, { ...d.inputs, ...change })).inputs;
    const diff = await plugin.diff(provider, d.id, d.outs, news);
    const up = await plugin.update(provider, d.id, d.outs, news);
    return { id: d.id, inputs: news, outs: up.outs, diff };
}

/** Asserts that `promise` fails (a plugin call: with the provider's message, as a PluginCallError) with a
 * message matching `pattern` and without `secret` in it. */
export async function rejectsWith(promise: Promise<unknown>, pattern: RegExp, secret: string): Promise<Error> {
    let caught: unknown;
    await promise.then(
        () => assert.fail(`expected a failure matching ${pattern}`),
        (e: unknown) => (caught = e),
    );
    assert.ok(caught instanceof Error, String(caught));
    assert.match(caught.message, pattern);
    assert.ok(!caught.message.includes(secret), "no key value in an error");
    return caught;
}

/** A service ID of `name` with an API key and Manager on the world's first Key Protect instance, made by the
 * owner as a colleague would with the CLI; and a KmsClient for the owner's out-of-band looks at the instance. */
export async function kmsManager(
    world: PluginOnEmulator,
    name: string,
): Promise<{ iamId: string; apiKey: string; guid: string; instanceCrn: string; ownerKms: KmsClient }> {
    const owner: IamClient = world.owner;
    const guid = world.emu.instances[0].guid;
    const sid = await owner.createServiceId({ name });
    const apiKey = (await owner.createApiKey({ name: `${name}-key`, iam_id: sid.iam_id })).apikey!;
    await owner.createPolicy(
        kmsInstanceGrant({
            accountId: world.emu.accountId,
            iamId: sid.iam_id,
            roleCrn: "crn:v1:bluemix:public:iam::::serviceRole:Manager",
            service: "kms",
            instance: guid,
        }),
    );
    return {
        iamId: sid.iam_id,
        apiKey,
        guid,
        instanceCrn: `crn:v1:bluemix:public:kms:us-south:a/${world.emu.accountId}:${guid}::`,
        ownerKms: new KmsClient({ endpoint: world.emu.url, instanceId: guid, tokenSource: () => owner.tokens.getToken(), httpClient: owner.http }),
    };
}
