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
  // Per tier (the folder under test/), then the whole run: the last line is what CI reads.
  const tiers = {};
  for (const file of r.testResults) {
    const tier = (/[/]test[/]([^/]+)[/][^/]+$/.exec(file.name) || [])[1] || "other";
    const t = (tiers[tier] ??= { passed: 0, failed: 0, pending: 0 });
    for (const a of file.assertionResults) t[a.status === "passed" ? "passed" : a.status === "failed" ? "failed" : "pending"]++;
  }
  for (const [tier, t] of Object.entries(tiers)) console.log(`  ${tier}: ${t.passed} passed, ${t.failed} failed, ${t.pending} skipped`);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' "$report" || true
exit $status
