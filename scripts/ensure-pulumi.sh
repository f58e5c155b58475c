#!/usr/bin/env bash
# Makes the real Pulumi engine available to this project: the `pulumi` CLI and a Node.js language
# host `pulumi-language-nodejs` (needed by a plain `pulumi up` of a Pulumi.yaml project; Automation
# API inline programs need only `pulumi`).
#
#   bash scripts/ensure-pulumi.sh            # or: npm run pulumi:ensure
#   bash scripts/ensure-pulumi.sh --rebuild  # ignore what is there and build again
#
# 1. A `pulumi` / `pulumi-language-nodejs` already on PATH is used when it is at least
#    $PULUMI_MIN_VERSION (PULUMI_ENSURE_IGNORE_PATH=1 skips that look-up).
# 2. Otherwise it is built from Go modules into .tools/bin/ (git-ignored), pinned by the wrapper
#    module scripts/pulumi-cli (go.mod + go.sum committed):
#    - pulumi: github.com/pulumi/pulumi/pkg/v3/cmd/pulumi at v$PULUMI_VERSION (pkg/v3's go.mod has
#      replace directives, so `go install ...@version` is refused: it is built from the wrapper
#      module, which copies pkg's non-local replace);
#    - pulumi-language-nodejs: scripts/pulumi-cli/pulumi-language-nodejs, a minimal language host
#      of ours (the upstream one is an untagged module that the module proxy here does not serve;
#      see the comment at the top of its main.go).
#    Go's module and build caches are reused, and nothing is rebuilt while the binaries in
#    .tools/bin match the pinned version and the wrapper module's sources (a stamp file beside
#    each records a hash of them): a second run takes about a second. Measured here (2 cores):
#    cold, empty Go caches, 11m40s (70 s of module download + 10m30s of compile) while the
#    machine was lightly shared, 26m niced on a busy one; warm, nothing to build, 1.1-2 s.
# The last lines printed say where the binaries are. `PulumiCommand.get({ root: "<repo>/.tools" })`
# of the Automation API finds .tools/bin/pulumi.
set -euo pipefail

# The whole script is one block: bash parses it before running it, so a checkout or edit of this
# file while a build runs cannot make the running copy read changed lines.
{

PULUMI_VERSION="3.274.1"          # keep in line with scripts/pulumi-cli/go.mod
PULUMI_MIN_VERSION="${PULUMI_MIN_VERSION:-3.248.0}"   # oldest CLI accepted from PATH (= our SDK)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WRAPPER="$ROOT/scripts/pulumi-cli"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
REBUILD=0

for arg in "$@"; do
  case "$arg" in
    --rebuild) REBUILD=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "ensure-pulumi: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "ensure-pulumi: $*" >&2; }

# version_ge A B: true when version A >= version B (both without a leading v).
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# A pulumi/pulumi-language-nodejs on PATH, outside .tools/bin, new enough; prints its path.
path_binary() {
  local name="$1" p v
  [ "${PULUMI_ENSURE_IGNORE_PATH:-0}" = "1" ] && return 1
  p="$(PATH="$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$BIN" | paste -sd: -)" command -v "$name" 2>/dev/null)" || return 1
  case "$name" in
    pulumi) v="$(PULUMI_SKIP_UPDATE_CHECK=true "$p" version 2>/dev/null | head -n1)" || return 1 ;;
    *) echo "$p"; return 0 ;;   # language hosts have no common version flag; presence is enough
  esac
  v="${v#v}"; v="${v%%[-+]*}"
  if [ -n "$v" ] && version_ge "$v" "$PULUMI_MIN_VERSION"; then echo "$p"; return 0; fi
  log "ignoring $p (version ${v:-unknown} < $PULUMI_MIN_VERSION)"
  return 1
}

pulumi_on_path="$(path_binary pulumi || true)"
langhost_on_path="$(path_binary pulumi-language-nodejs || true)"
if [ "$REBUILD" = "0" ] && [ -n "$pulumi_on_path" ] && [ -n "$langhost_on_path" ]; then
  log "using the Pulumi CLI on PATH"
  echo "pulumi: $pulumi_on_path ($(PULUMI_SKIP_UPDATE_CHECK=true "$pulumi_on_path" version | head -n1))"
  echo "pulumi-language-nodejs: $langhost_on_path"
  exit 0
fi

command -v go >/dev/null || { log "Go is needed to build the Pulumi CLI (none on PATH)"; exit 1; }
grep -q "github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION" "$WRAPPER/go.mod" || {
  log "scripts/pulumi-cli/go.mod does not pin pkg/v3 v$PULUMI_VERSION: update PULUMI_VERSION here too"
  exit 1
}

mkdir -p "$BIN"
# One build at a time (tests may call this while a developer does).
exec 9>"$TOOLS/.ensure-pulumi.lock"
if command -v flock >/dev/null; then flock 9; fi

# What each binary is built from; a stamp file beside it records the hash it was built from.
hash_of() { (cd "$WRAPPER" && cat "$@" && echo "$PULUMI_VERSION" && go env GOVERSION GOOS GOARCH) | sha256sum | cut -d' ' -f1; }
cli_hash="$(hash_of go.mod go.sum)"
langhost_hash="$(hash_of go.mod go.sum $(cd "$WRAPPER" && find pulumi-language-nodejs -name '*.go' | LC_ALL=C sort))"

# fresh NAME HASH: .tools/bin/NAME exists and was built from HASH.
fresh() { [ -x "$BIN/$1" ] && [ -f "$BIN/.$1.stamp" ] && [ "$(cat "$BIN/.$1.stamp")" = "$2" ]; }

# build NAME HASH go-build-args...: builds into a temporary file, then moves it in place.
build() {
  local name="$1" hash="$2" start
  shift 2
  start=$(date +%s)
  rm -f "$BIN/.$name.stamp"
  (cd "$WRAPPER" && GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -trimpath -o "$BIN/$name.tmp" "$@")
  mv -f "$BIN/$name.tmp" "$BIN/$name"
  echo "$hash" > "$BIN/.$name.stamp"
  log "built $name in $(( $(date +%s) - start ))s"
}

built=0
if [ "$REBUILD" = "1" ] || ! fresh pulumi "$cli_hash" \
   || [ "$(PULUMI_SKIP_UPDATE_CHECK=true "$BIN/pulumi" version 2>/dev/null | head -n1)" != "v$PULUMI_VERSION" ]; then
  log "building the Pulumi CLI v$PULUMI_VERSION from Go modules into .tools/bin (cold: 12 minutes or more on 2 cores)"
  build pulumi "$cli_hash" \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  built=1
fi
if [ "$REBUILD" = "1" ] || ! fresh pulumi-language-nodejs "$langhost_hash"; then
  build pulumi-language-nodejs "$langhost_hash" -ldflags "-X main.version=$PULUMI_VERSION" ./pulumi-language-nodejs
  built=1
fi
[ "$built" = "1" ] || log "Pulumi v$PULUMI_VERSION already built in .tools/bin (pinned by scripts/pulumi-cli/go.mod)"
rm -f "$BIN/.pulumi-build-stamp"   # stamp of an earlier version of this script

# The dynamic-provider plugin launcher, next to the CLI as in Pulumi's own distribution (the same
# as node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs, with exec): the engine takes it
# as the bundled plugin, without the "using pulumi-resource-pulumi-nodejs from $PATH" warning that
# the copy in node_modules on PATH causes in every run. It resolves @pulumi/pulumi from the
# plugin's cwd (the program directory), so it serves any project.
launcher="$BIN/pulumi-resource-pulumi-nodejs"
launcher_text='#!/bin/sh
# Written by scripts/ensure-pulumi.sh: starts the Pulumi Node.js dynamic-provider plugin of the
# @pulumi/pulumi package that the program directory (the cwd) resolves.
script=$(node -e "console.log(require.resolve('"'"'@pulumi/pulumi/cmd/dynamic-provider'"'"'))") || exit 1
exec node "$script" "$@"'
if [ ! -x "$launcher" ] || [ "$(cat "$launcher")" != "$launcher_text" ]; then
  printf '%s\n' "$launcher_text" > "$launcher.tmp" && chmod +x "$launcher.tmp" && mv -f "$launcher.tmp" "$launcher"
fi

echo "pulumi: $BIN/pulumi ($(PULUMI_SKIP_UPDATE_CHECK=true "$BIN/pulumi" version | head -n1))"
echo "pulumi-language-nodejs: $BIN/pulumi-language-nodejs ($("$BIN/pulumi-language-nodejs" --version))"
echo "pulumi-resource-pulumi-nodejs: $launcher"
exit 0
}
