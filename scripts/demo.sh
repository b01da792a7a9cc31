#!/usr/bin/env bash
# The README's demo command: sets everything up, then runs examples/demo.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec node dist/examples/demo.js "$@"
