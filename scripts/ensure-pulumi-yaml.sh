#!/usr/bin/env bash
# Makes the YAML language host `pulumi-language-yaml` available beside the Pulumi CLI in .tools/bin, for the
# engine tests of the provider plugin (a YAML program is the one language whose host builds from Go modules
# here without an SDK toolchain).
#
#   bash scripts/ensure-pulumi-yaml.sh            # builds when missing or stale, else ~1 s
#   bash scripts/ensure-pulumi-yaml.sh --rebuild
#
# 1. A `pulumi-language-yaml` on PATH (outside .tools/bin) is used as it is (PULUMI_ENSURE_IGNORE_PATH=1 skips it).
# 2. Otherwise it is built from github.com/pulumi/pulumi-yaml at v$YAML_VERSION (the only recent version the Go
#    module proxy serves here), pinned by the wrapper module scripts/pulumi-yaml (go.mod + go.sum committed), with
#    pulumi/pkg and pulumi/sdk at the version pulumi-yaml asks for (v3.206.0: its code does not build against the
#    CLI's v3.274.1, whose plugin-loading API changed); every other module is at the CLI's version, so those come
#    from the Go build cache the CLI's build filled. A language host and the engine talk over gRPC, so the two
#    Pulumi versions need not match. A stamp beside the binary records what it was built from, as
#    scripts/ensure-pulumi.sh does for the CLI.
set -euo pipefail
{

YAML_VERSION="1.25.0"             # keep in line with scripts/pulumi-yaml/go.mod

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WRAPPER="$ROOT/scripts/pulumi-yaml"
BIN="$ROOT/.tools/bin"
REBUILD=0
for arg in "$@"; do
  case "$arg" in
    --rebuild) REBUILD=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "ensure-pulumi-yaml: unknown argument: $arg" >&2; exit 2 ;;
  esac
done
log() { echo "ensure-pulumi-yaml: $*" >&2; }

if [ "$REBUILD" = "0" ] && [ "${PULUMI_ENSURE_IGNORE_PATH:-0}" != "1" ]; then
  p="$(PATH="$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$BIN" | paste -sd: -)" command -v pulumi-language-yaml 2>/dev/null || true)"
  if [ -n "$p" ]; then log "using $p from PATH"; echo "pulumi-language-yaml: $p"; exit 0; fi
fi

command -v go >/dev/null || { log "Go is needed to build pulumi-language-yaml (none on PATH)"; exit 1; }
grep -q "github.com/pulumi/pulumi-yaml v$YAML_VERSION" "$WRAPPER/go.mod" || {
  log "scripts/pulumi-yaml/go.mod does not pin pulumi-yaml v$YAML_VERSION: update YAML_VERSION here too"; exit 1; }
hash="$( (cd "$WRAPPER" && cat go.mod go.sum && echo "$YAML_VERSION" && go env GOVERSION GOOS GOARCH) | sha256sum | cut -d' ' -f1)"
name=pulumi-language-yaml
stale() { [ "$REBUILD" = "1" ] || [ ! -x "$BIN/$name" ] || [ ! -f "$BIN/.$name.stamp" ] || [ "$(cat "$BIN/.$name.stamp")" != "$hash" ]; }
# A .tools/bin linked to a shared folder is used when its build is current, never built into.
if [ -L "$BIN" ] && stale; then
  log ".tools/bin is a link (to a shared folder) whose $name is missing or stale; not building into it. Make it a directory of your own first."
  exit 1
fi
mkdir -p "$BIN"
exec 9>"$ROOT/.tools/.ensure-pulumi-yaml.lock"
if command -v flock >/dev/null; then flock 9; fi

if stale; then
  log "building $name v$YAML_VERSION from Go modules into .tools/bin"
  start=$(date +%s)
  rm -f "$BIN/.$name.stamp"
  (cd "$WRAPPER" && GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -trimpath -o "$BIN/$name.tmp" \
    -ldflags "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=v$YAML_VERSION" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml)
  mv -f "$BIN/$name.tmp" "$BIN/$name"
  echo "$hash" > "$BIN/.$name.stamp"
  log "built $name in $(( $(date +%s) - start ))s"
else
  log "$name v$YAML_VERSION already built in .tools/bin"
fi
echo "pulumi-language-yaml: $BIN/$name"
exit 0
}
