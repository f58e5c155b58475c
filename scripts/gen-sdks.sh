#!/usr/bin/env bash
# Generates the provider plugin's SDKs from its schema (plugin/schema.json) into .tools/sdk/<language>
# (git-ignored: generated, never edited), and proves each is usable here:
#   nodejs  generated;   python  byte-compiles (python3 -m compileall);
#   go      `go vet ./...` against the Pulumi Go SDK of the CLI's version (from the Go module proxy).
# .NET: Pulumi's .NET generator lives in pulumi-dotnet's language host, which the Go module proxy here does not
# serve; on a machine with the released CLI, `pulumi package gen-sdk plugin/schema.json --language dotnet` does it.
#
#   bash scripts/gen-sdks.sh [--version X.Y.Z] [nodejs|python|go ...]     # default: all three
#
# `pulumi package gen-sdk` would ask each language's host to generate; those hosts are not buildable here (see
# scripts/pulumi-cli/pulumi-language-nodejs/main.go), so this builds scripts/pulumi-sdkgen, a small command that
# calls Pulumi's own generators (pkg/v3/codegen, the CLI's version: the CLI build's Go cache makes it ~2 min cold,
# a second when a stamp says it is current) into .tools/bin/pulumi-sdkgen.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/.tools/sdk"
BIN="$ROOT/.tools/bin"
SRC="$ROOT/scripts/pulumi-sdkgen"
VERSION="$(node -p "require('$ROOT/package.json').version")"
PULUMI_SDK_VERSION="3.274.1"      # the CLI's version (scripts/pulumi-cli/go.mod)
langs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION="$2"; shift 2 ;;
    nodejs|python|go) langs+=("$1"); shift ;;
    *) echo "gen-sdks: unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ ${#langs[@]} -gt 0 ] || langs=(nodejs python go)
command -v go >/dev/null || { echo "gen-sdks: Go is needed" >&2; exit 1; }
mkdir -p "$BIN" "$OUT"

hash="$( (cd "$SRC" && cat go.mod go.sum main.go && go env GOVERSION GOOS GOARCH) | sha256sum | cut -d' ' -f1)"
if [ ! -x "$BIN/pulumi-sdkgen" ] || [ "$(cat "$BIN/.pulumi-sdkgen.stamp" 2>/dev/null)" != "$hash" ]; then
  start=$(date +%s)
  (cd "$SRC" && GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -trimpath -o "$BIN/pulumi-sdkgen.tmp" .)
  mv -f "$BIN/pulumi-sdkgen.tmp" "$BIN/pulumi-sdkgen"
  echo "$hash" > "$BIN/.pulumi-sdkgen.stamp"
  echo "built pulumi-sdkgen in $(( $(date +%s) - start )) s"
fi

for lang in "${langs[@]}"; do
  start=$(date +%s)
  rm -rf "${OUT:?}/$lang"
  "$BIN/pulumi-sdkgen" "$ROOT/plugin/schema.json" "$OUT" "$VERSION" "$lang" >/dev/null
  files=$(find "$OUT/$lang" -type f | wc -l)
  case "$lang" in
    python)
      python3 -m compileall -q "$OUT/python" >/dev/null
      echo "python: $files files, byte-compiled" ;;
    go)
      (cd "$OUT/go" && go mod init github.com/pulumi-ibmcloud-iam/sdk/go >/dev/null 2>&1 \
        && go mod edit -require "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_SDK_VERSION" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1)
      (cd "$OUT/go" && go vet ./...)
      echo "go: $files files, go vet ./... clean ($(cd "$OUT/go" && go list ./... | wc -l) packages)" ;;
    *) echo "$lang: $files files" ;;
  esac
  echo "  ($(( $(date +%s) - start )) s)"
done
