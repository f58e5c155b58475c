#!/usr/bin/env bash
# Builds the provider plugin's archive for `pulumi plugin install resource ibmcloud-iam <version> --file <archive>`:
# a tarball whose top holds the executable `pulumi-resource-ibmcloud-iam` (what the engine runs from its plugin
# cache, $PULUMI_HOME/plugins/resource-ibmcloud-iam-v<version>/) and node_modules/ with the packed package and its
# runtime dependencies (@pulumi/pulumi at the locked version, undici, zod). The plugin is node code: the archive
# needs Node 22 or 24 on PATH (or PULUMI_IBMCLOUD_IAM_NODE) where it runs, and is the same for every OS and CPU
# that Node and a POSIX shell run on; it is named the way Pulumi names plugin downloads,
# pulumi-resource-ibmcloud-iam-v<version>-<os>-<arch>.tar.gz.
#
#   bash scripts/plugin-archive.sh [out dir]      # default .tools/plugin; prints the archive's path
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/.tools/plugin}"
VERSION="$(node -p "require('$ROOT/package.json').version")"
SDK="$(node -p "require('$ROOT/package-lock.json').packages['node_modules/@pulumi/pulumi'].version")"
case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) os="$(uname -s | tr '[:upper:]' '[:lower:]')" ;; esac
case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

tgz="$(cd "$ROOT" && npm pack --silent --pack-destination "$work" | tail -1)"
mkdir "$work/plugin"
echo '{ "name": "pulumi-resource-ibmcloud-iam", "private": true, "version": "'"$VERSION"'" }' > "$work/plugin/package.json"
(cd "$work/plugin" && npm install --omit=dev --no-audit --no-fund --no-package-lock --prefer-offline --loglevel=error \
  "$work/$tgz" "@pulumi/pulumi@$SDK" >&2)
cat > "$work/plugin/pulumi-resource-ibmcloud-iam" <<'LAUNCHER'
#!/bin/sh
# The provider plugin as `pulumi plugin install … --file` installs it: the installed package's own launcher.
dir=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
exec "$dir/node_modules/pulumi-ibmcloud-iam/plugin/bin/pulumi-resource-ibmcloud-iam" "$@"
LAUNCHER
chmod +x "$work/plugin/pulumi-resource-ibmcloud-iam"
mkdir -p "$OUT"
archive="$OUT/pulumi-resource-ibmcloud-iam-v$VERSION-$os-$arch.tar.gz"
tar -czf "$archive.tmp" -C "$work/plugin" .
mv -f "$archive.tmp" "$archive"
echo "$archive"
