#!/usr/bin/env bash
# `npm test`: the whole suite at both ends of what the package promises (engines.node >=22, peer
# @pulumi/pulumi from the oldest of its range to the newest):
#   leg oldest: Node 22 with the oldest @pulumi/pulumi the peer range allows,
#   leg newest: Node 24 with the newest (the dev copy in package-lock.json).
# The Node builds come from the npm registry (scripts/ensure-node.sh), the Pulumi CLI from Go modules
# (scripts/ensure-pulumi.sh). The oldest SDK is put into node_modules with `npm install --no-save` for its
# leg and the locked one back afterwards, whatever happens (package.json and the lockfile never change).
#
#   TEST_LEGS=newest npm test     # one leg only (oldest | newest | "oldest newest", the default)
#   npm test -- 'build/test/emulator/**/*.test.js'   # mocha arguments instead of the whole suite
set -uo pipefail
{
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

NODE_OLDEST=22.23.5   # the Node 22 LTS line
NODE_NEWEST=24.22.3   # the Node 24 LTS line
SDK_NEWEST="$(node -p "require('./package-lock.json').packages['node_modules/@pulumi/pulumi'].version")"
SDK_OLDEST="$(node -p "require('./package.json').peerDependencies['@pulumi/pulumi'].replace(/^[\\^~>=\\s]+/, '')")"
LEGS="${TEST_LEGS:-oldest newest}"
SPECS=("$@")
ONCE=()
if [ ${#SPECS[@]} -eq 0 ]; then
  SPECS=("build/test/**/*.test.js")
  # Slow engine layers whose subject does not change with the Node build or the SDK of the leg, so both legs
  # would prove the same thing: they run in the newest leg only. The provider plugin's YAML stacks (the plugin's
  # gRPC behaviour on each SDK is test/plugin/provider/, and Construct on each SDK e2e/pluginConstruct, both run in
  # both legs), the crash rounds and what outlives a killed
  # engine (process behaviour of the engine and our language host), KMS key deletion and the key lifecycle stack, the
  # trusted-profile stack (the emulator's rules; the resources' code on each leg is test/provider and test/plugin), the
  # API reference (TypeDoc reads the sources with the repository's TypeScript: the leg changes nothing it checks),
  # the SDKs generated from the plugin's schema and the plugin archive (neither depends on the leg's Node or SDK).
  ONCE=(build/test/e2e/pluginYaml.test.js build/test/e2e/crash.test.js build/test/e2e/parentDeath.test.js build/test/e2e/kmsKeyDeletion.test.js
    build/test/e2e/kmsKeyLifecycle.test.js build/test/e2e/trustedProfiles.test.js build/test/apiDocs.test.js build/test/e2e/pluginSdks.test.js build/test/e2e/pluginArchive.test.js)
fi

log() { echo "test-matrix: $*" >&2; }
# Each leg's mocha run is bounded (test/support/rootHooks.ts): two legs and a cold CLI build stay inside CI's 90 min.
export TEST_RUN_TIMEOUT_MS="${TEST_RUN_TIMEOUT_MS:-1800000}"

bash scripts/ensure-pulumi.sh >&2 || exit 1
declare -A NODE_BIN
while read -r version path; do NODE_BIN[$version]="$path"; done < <(bash scripts/ensure-node.sh "$NODE_OLDEST" "$NODE_NEWEST") || exit 1

installed_sdk() { node -p "require('@pulumi/pulumi/package.json').version" 2>/dev/null; }
use_sdk() {
  [ "$(installed_sdk)" = "$1" ] && return 0
  log "installing @pulumi/pulumi@$1 into node_modules (--no-save)"
  npm install --no-save --no-audit --no-fund --loglevel=error "@pulumi/pulumi@$1" >&2
}
restore() { [ "$(installed_sdk)" = "$SDK_NEWEST" ] || use_sdk "$SDK_NEWEST" || log "could not put @pulumi/pulumi@$SDK_NEWEST back: run npm ci"; }
trap restore EXIT

total_pass=0; total_fail=0; total_pend=0; status=0; summary=()
for leg in $LEGS; do
  case "$leg" in
    oldest) node_version=$NODE_OLDEST; sdk=$SDK_OLDEST ;;
    newest) node_version=$NODE_NEWEST; sdk=$SDK_NEWEST ;;
    *) log "unknown leg $leg (oldest | newest)"; exit 2 ;;
  esac
  use_sdk "$sdk" || { status=1; summary+=("$leg: could not install @pulumi/pulumi@$sdk"); continue; }
  node_dir="$(dirname "${NODE_BIN[$node_version]}")"
  log "leg $leg: Node $node_version, @pulumi/pulumi $(installed_sdk)"
  out="$ROOT/.tools/test-$leg.log"
  mkdir -p "$ROOT/.tools"
  # Node first on PATH: mocha, the plugin launcher and the language host all start `node` from there.
  ignore=()
  if [ "$leg" != newest ]; then for f in "${ONCE[@]}"; do ignore+=(--ignore "$f"); done; fi
  PATH="$node_dir:$PATH" TEST_LEG="$leg" "$node_dir/node" node_modules/mocha/bin/mocha.js "${ignore[@]}" "${SPECS[@]}" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  pass=$(grep -aoE '^ +[0-9]+ passing' "$out" | tail -1 | grep -oE '[0-9]+' || echo 0)
  fail=$(grep -aoE '^ +[0-9]+ failing' "$out" | tail -1 | grep -oE '[0-9]+' || echo 0)
  pend=$(grep -aoE '^ +[0-9]+ pending' "$out" | tail -1 | grep -oE '[0-9]+' || echo 0)
  [ "$rc" = 0 ] || status=1
  [ "$rc" != 0 ] && [ "$fail" = 0 ] && fail=1   # a run that died without a summary counts as failed
  total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail)); total_pend=$((total_pend + pend))
  summary+=("leg $leg (Node $node_version, @pulumi/pulumi $sdk): $pass passing, $fail failing, $pend pending, exit $rc")
done
restore
trap - EXIT
echo
for line in "${summary[@]}"; do echo "$line"; done
echo "total: $total_pass passed, $total_fail failed, $total_pend skipped"
exit $status
}
