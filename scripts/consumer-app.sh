#!/usr/bin/env bash
# Makes the app a user would have: `npm pack` of this clone, then a fresh folder with that tarball
# and express installed from the npm registry, with no compiler, make or cmake on PATH (so the
# addon that loads there can only be the prebuilt one). Prints the folder. Used by scripts/test.sh
# before the suite enters its private network namespace (npm needs the registry);
# test/network/installed-package.test.ts then runs apps from it.
#
#   scripts/consumer-app.sh DIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
cd "$(dirname "$0")/.."
app=$(realpath -m "$1")
rm -rf "$app" && mkdir -p "$app/pack" "$app/bin"

# What `npm pack` does on publish (prepack: dist/ and the prebuilt addon), without rebuilding
# dist/ under a test run that may be reading it: setup has just built it.
bash scripts/prebuild.sh >/dev/null
tarball=$(npm pack --ignore-scripts --silent --pack-destination "$app/pack" | tail -n 1)

# A PATH with node, npm and a shell only: no cc, c++, g++, make or cmake.
for tool in node npm npx sh bash env; do ln -s "$(command -v "$tool")" "$app/bin/$tool"; done
# allowScripts lets iothts's install step run (npm 11 blocks dependencies' scripts by default; for
# a tarball the key is its file: spec): it must find the prebuilt addon and build nothing.
cat > "$app/package.json" <<JSON
{ "name": "consumer-app", "version": "1.0.0", "private": true,
  "allowScripts": { "file:$app/pack/$tarball": true } }
JSON
log=$(cd "$app" && PATH="$app/bin" npm install --no-audit --no-fund --foreground-scripts --loglevel=error \
  "./pack/$tarball" express 2>&1) || { echo "$log" >&2; exit 1; }
grep -q 'node scripts/install.js' <<<"$log" || { echo "consumer-app: iothts's install step did not run:" >&2; echo "$log" >&2; exit 1; }
[ ! -e "$app/node_modules/iothts/build" ] || { echo "consumer-app: the install step built the addon from source" >&2; exit 1; }
echo "$app"
