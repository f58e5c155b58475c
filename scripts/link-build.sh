#!/usr/bin/env bash
# build/ holds the compiled tests, bench, examples and scripts; their relative imports of the package
# (../client, ../../provider, …) reach dist/ through these links, so one copy of the package is loaded.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p build
for name in client provider components emulator plugin; do ln -sfn "../dist/$name" "build/$name"; done
for f in index.js index.d.ts; do ln -sfn "../dist/$f" "build/$f"; done
