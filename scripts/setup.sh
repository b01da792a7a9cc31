#!/usr/bin/env bash
# Sets up this clone: Debian packages (scripts/setup-system.sh, as root or through sudo), Node.js
# from Debian where there is none (Debian 13), the npm dependencies, and the build (addon + dist/).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

as_root scripts/setup-system.sh

if ! command -v node >/dev/null; then
  . /etc/os-release
  if [ "${VERSION_CODENAME:-}" = trixie ]; then
    # noninteractive: without it debconf has no frontend here and warns for each package it configures.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  else
    echo "setup: Node.js >= 20.17 is needed and Debian ${VERSION_CODENAME:-} packages an older one: install Node.js 20 or later" >&2
    exit 1
  fi
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<17)) { console.error(`setup: Node.js >= 20.17 is needed, this is ${process.version}`); process.exit(1) }'

# npm ci only when the lock file changed since the last install (npm's own node_modules/.package-lock.json
# never matches package-lock.json byte for byte, so a stamp of our own records what was installed).
stamp=node_modules/.iothts-lock.sha256
if [ "$(sha256sum < package-lock.json)" != "$(cat "$stamp" 2>/dev/null)" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  sha256sum < package-lock.json > "$stamp"
fi
npm run --silent build
echo "setup: ready"
