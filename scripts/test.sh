#!/usr/bin/env bash
# The README's test command: sets everything up, then runs the whole test suite inside a private
# network namespace (scripts/in-private-netns.sh), once with this machine's Node and once with each
# other Node release line the package is tested on (package.json's iothts.testedNode; the official
# binaries from the npm registry, cached: scripts/node-version.sh). Extra arguments go to jest.
#   IOTHTS_TEST_NODES="22 26" scripts/test.sh   other lines only these; "" for this machine's Node only
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The package as a user installs it (npm needs the registry, so before the private namespace).
IOTHTS_CONSUMER_APP=$(scripts/consumer-app.sh "$work/consumer-app")
export IOTHTS_CONSUMER_APP

mine=$(node -p 'process.versions.node.split(".")[0]')
others=${IOTHTS_TEST_NODES-$(node -p "require('./package.json').iothts.testedNode.filter((v) => v !== $mine).join(' ')")}

status=0
runs=()
suite() { # suite LABEL [scripts/node-version.sh VERSION]...
  local label=$1; shift
  local report=$work/report-$label.json started=$SECONDS
  echo "test: the suite on Node $label" >&2
  "$@" scripts/in-private-netns.sh node node_modules/.bin/jest --json --outputFile="$report" "${jest_args[@]}" || status=1
  runs+=("$label:$report:$((SECONDS - started))")
}
jest_args=("$@")
suite "$(node -p process.versions.node)"
for v in $others; do suite "$v" scripts/node-version.sh "$v"; done

node -e '
  let passed = 0, failed = 0, skipped = 0;
  for (const run of process.argv.slice(1)) {
    const [label, file, seconds] = run.split(":");
    let r;
    try { r = JSON.parse(require("node:fs").readFileSync(file, "utf8")); } catch { r = null; }
    if (!r) { console.log(`Node ${label}: no report (the run did not finish)`); failed++; continue; }
    console.log(`Node ${label}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped (${seconds} s)`);
    // Per tier (the folder under test/), so that the tier of a failure shows at a glance.
    const tiers = {};
    for (const result of r.testResults) {
      const tier = (/[/]test[/]([^/]+)[/][^/]+$/.exec(result.name) || [])[1] || "other";
      const t = (tiers[tier] ??= { passed: 0, failed: 0, pending: 0 });
      for (const a of result.assertionResults) t[a.status === "passed" ? "passed" : a.status === "failed" ? "failed" : "pending"]++;
    }
    for (const [tier, t] of Object.entries(tiers)) console.log(`  ${tier}: ${t.passed} passed, ${t.failed} failed, ${t.pending} skipped`);
    passed += r.numPassedTests; failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0); skipped += r.numPendingTests;
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
' "${runs[@]}" || status=1
exit $status
