#!/usr/bin/env bash
# The README's test command: sets everything up, then runs the whole test suite inside a private
# network namespace (scripts/in-private-netns.sh). Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
report=$(mktemp --suffix=.json)
trap 'rm -f "$report"' EXIT
status=0
scripts/in-private-netns.sh npx jest --json --outputFile="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' "$report" || true
exit $status
