#!/usr/bin/env bash
# Generates the provider plugin's SDKs from its schema (plugin/schema.json) into .tools/sdk/<language>
# (git-ignored: generated, never edited), and proves each is usable here:
#   nodejs  generated;   python  byte-compiles (python3 -m compileall);
#   go      `go build` and `go vet` against the Pulumi Go SDK of the CLI's version;
#   dotnet  generated (no .NET toolchain here to build it).
#
#   bash scripts/gen-sdks.sh [--version X.Y.Z] [nodejs|python|go|dotnet ...]     # default: all four
#
# `pulumi package gen-sdk` would ask each language's host to generate; those hosts are not buildable here (see
# scripts/pulumi-cli/pulumi-language-nodejs/main.go), so this builds small commands that call Pulumi's own
# generators into .tools/sdkgen/ (a stamp says when they are current, then they cost nothing):
#   scripts/pulumi-sdkgen         nodejs, python, go: pkg/v3/codegen at the CLI's version (its Go build cache);
#   scripts/pulumi-sdkgen-dotnet  dotnet: pkg/v3 v3.206.0, the last line that still has codegen/dotnet (newer
#                                 Pulumi moved it into pulumi-dotnet's language host, a module the Go module proxy
#                                 here does not serve); the YAML language host's module graph, so its downloads.
#
# Go: the SDK is vetted in the module scripts/sdk-go/go.mod + go.sum describe (committed), read-only: no `go mod
# tidy` (which resolves the test dependencies of every module in the graph), and with -trimpath and the CLI's
# versions, so the compile reuses the CLI build's cache. `go vet` also analyses every dependency once for its
# facts (about 780 packages: a minute or two of CPU, cached after); later runs take seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/.tools/sdk"
BIN="$ROOT/.tools/sdkgen"
VERSION="$(node -p "require('$ROOT/package.json').version")"
langs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION="$2"; shift 2 ;;
    nodejs|python|go|dotnet) langs+=("$1"); shift ;;
    *) echo "gen-sdks: unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ ${#langs[@]} -gt 0 ] || langs=(nodejs python go dotnet)
command -v go >/dev/null || { echo "gen-sdks: Go is needed" >&2; exit 1; }
mkdir -p "$BIN" "$OUT"

# build_tool <name>: builds scripts/<name> into .tools/sdkgen/<name> unless its stamp says it is current.
build_tool() {
  local name="$1" src="$ROOT/scripts/$1" hash start
  hash="$( (cd "$src" && cat go.mod go.sum main.go && go env GOVERSION GOOS GOARCH) | sha256sum | cut -d' ' -f1)"
  if [ ! -x "$BIN/$name" ] || [ "$(cat "$BIN/.$name.stamp" 2>/dev/null)" != "$hash" ]; then
    start=$(date +%s)
    (cd "$src" && GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -trimpath -o "$BIN/$name.tmp" .)
    mv -f "$BIN/$name.tmp" "$BIN/$name"
    echo "$hash" > "$BIN/.$name.stamp"
    echo "built $name in $(( $(date +%s) - start )) s"
  fi
}

for lang in "${langs[@]}"; do
  start=$(date +%s)
  rm -rf "${OUT:?}/$lang"
  if [ "$lang" = dotnet ]; then
    build_tool pulumi-sdkgen-dotnet
    "$BIN/pulumi-sdkgen-dotnet" "$ROOT/plugin/schema.json" "$OUT" "$VERSION" >/dev/null
  else
    build_tool pulumi-sdkgen
    "$BIN/pulumi-sdkgen" "$ROOT/plugin/schema.json" "$OUT" "$VERSION" "$lang" >/dev/null
  fi
  files=$(find "$OUT/$lang" -type f | wc -l)
  case "$lang" in
    python)
      python3 -m compileall -q "$OUT/python" >/dev/null
      echo "python: $files files, byte-compiled" ;;
    go)
      if [ "${GEN_SDKS_GO_REFRESH:-0}" = 1 ]; then
        # Maintenance: a new module file from scratch (this downloads); copy it back into scripts/sdk-go by hand.
        (cd "$OUT/go" && go mod init github.com/pulumi-ibmcloud-iam/sdk/go && GOFLAGS=-mod=mod go mod tidy)
        echo "go: wrote $OUT/go/go.mod and go.sum; align them with scripts/pulumi-cli/go.mod and copy them into scripts/sdk-go/"
      else
        cp "$ROOT/scripts/sdk-go/go.mod" "$ROOT/scripts/sdk-go/go.sum" "$OUT/go/"
      fi
      (cd "$OUT/go" && GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -trimpath ./... && GOFLAGS="${GOFLAGS:-} -mod=readonly" go vet -trimpath ./...)
      echo "go: $files files, go build and go vet ./... clean ($(cd "$OUT/go" && GOFLAGS=-mod=readonly go list ./... | wc -l) packages)" ;;
    dotnet)
      echo "dotnet: $files files ($(find "$OUT/dotnet" -name '*.cs' | wc -l) C# sources, $(basename "$(find "$OUT/dotnet" -name '*.csproj')"))" ;;
    *) echo "$lang: $files files" ;;
  esac
  echo "  ($(( $(date +%s) - start )) s)"
done
