#!/usr/bin/env bash
# Builds the addon and puts it where node-gyp-build looks for a prebuilt binary
# (prebuilds/<platform>-<arch>/node.napi.glibc.node), for `npm pack` and `npm publish` (prepack).
# N-API 8: one binary serves every Node version from 20 on. It needs libioth0 at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build:native
target=prebuilds/$(node -p 'process.platform + "-" + process.arch')
rm -rf prebuilds && mkdir -p "$target"
cp build/Release/iothts.node "$target/node.napi.glibc.node"
strip --strip-unneeded "$target/node.napi.glibc.node"
# vdebridge (the plugin and its helper) beside it: the addon finds it relative to itself.
mkdir -p "$target/vdebridge/.ioth"
cp build/Release/vdebridge/.ioth/ioth_vdebridge-r.so build/Release/vdebridge/.ioth/iothts-vdebridge "$target/vdebridge/.ioth/"
strip --strip-unneeded "$target/vdebridge/.ioth/ioth_vdebridge-r.so" "$target/vdebridge/.ioth/iothts-vdebridge"
echo "prebuild: $target/node.napi.glibc.node ($(stat -c %s "$target/node.napi.glibc.node") bytes)"
