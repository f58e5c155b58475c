// The state fixture's program (scripts/state-fixture/program/index.ts) under mocks: it registers every resource
// type the package exports, so the writer's own check (on the checkpoint of a real `up`) does not fail after
// minutes of packing and installing, and a branch that adds a resource type learns here that the program
// needs it. The build type-checks the program against the package's own types.
import * as assert from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import "./support/failFast";
import * as pkg from "..";
import { setupMocks } from "./support/mocks";
import { exportedTypes, missingTypes } from "../scripts/state-fixture/exportedTypes";
import { PROGRAM_CONFIG, PROJECT } from "../scripts/state-fixture/inputs";

describe("state fixture program: every exported resource type, under mocks", function () {
    this.timeout(30_000);

    it("registers each type the package exports at least once", async function () {
        pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(PROGRAM_CONFIG).map(([k, v]) => [`${PROJECT}:${k}`, v])));
        const mocks = await setupMocks({
            project: PROJECT,
            // each resource's outputs as its inputs, plus the ids the program passes on
            newResource: (a) => ({ state: { ...a.inputs, serviceId: `ServiceId-${a.name}`, profileId: `Profile-${a.name}`, keyRingId: a.inputs.keyRingId } }),
        });
        const programModule = path.join(__dirname, "..", "scripts", "state-fixture", "program", "index.js");
        const outputs = require(programModule) as Record<string, pulumi.Output<unknown>>;
        try {
            await Promise.all(Object.values(outputs).map((o) => new Promise((resolve) => o.apply(resolve))));
            const exported = exportedTypes(pulumi, pkg as unknown as Record<string, unknown>);
            assert.ok(exported.length >= 9, `the package exports ${exported.length} resource types`);
            const used = new Set(mocks.resources.map((r) => r.type));
            assert.deepStrictEqual(missingTypes(exported, used), [], "add them to scripts/state-fixture/program/index.ts, with non-default options");
        } finally {
            delete require.cache[programModule];
            pulumi.runtime.setAllConfig({});
        }
    });
});
