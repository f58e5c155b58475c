// YAML programs that use our provider plugin from this checkout (`plugins.providers` pointing at plugin/bin), as the
// plugin e2e tests write them: the header every such Pulumi.yaml starts with, and the YAML language host they need.
import * as childProcess from "child_process";
import * as path from "path";
import { ENSURE_PULUMI_TIMEOUT_MS, REPO_ROOT } from "./engine";

/** The folder of `pulumi-resource-ibmcloud-iam` in this checkout. */
const PLUGIN_DIR = path.join(REPO_ROOT, "plugin", "bin");

/** `name`, `runtime: yaml` and the plugin from this checkout; the program's `config`, `resources` and `outputs` follow. */
export function pluginYamlHeader(project: string): string {
    return `name: ${project}
runtime: yaml
plugins:
  providers:
    - name: ibmcloud-iam
      path: ${PLUGIN_DIR}
`;
}

/** Builds the YAML language host from Go modules into .tools/bin, unless it is there (scripts/ensure-pulumi-yaml.sh). */
export function ensureYamlHost(): void {
    childProcess.execFileSync("bash", [path.join(REPO_ROOT, "scripts", "ensure-pulumi-yaml.sh")], {
        stdio: ["ignore", "pipe", "pipe"],
        timeout: ENSURE_PULUMI_TIMEOUT_MS,
    });
}
