// The schema the plugin serves (GetSchema): plugin/schema.json, written by plugin/schemaGen.ts from the
// resources' own definitions (`npm run plugin:schema`), with the running package's version.
import schema = require("./schema.json");

export function schemaJson(version: string): string {
    return JSON.stringify({ ...schema, version });
}
