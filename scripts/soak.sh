#!/usr/bin/env bash
# npm run soak: the heavier versions of the reliability tests, in a private network namespace.
#   1. load: one server on a stack holds 2,000 connections from two other stacks while autocannon
#      (under the hook, on a stack of its own) loads it for 60 s; zero failed requests, every held
#      connection still answering, flat RSS and live heap (bench/reliability/load.ts);
#   2. integrity: 1 GiB each way at once between two stacks on vxvde, SHA-256 checked;
#   3. the same through a wirefilter link losing 5 % of the frames and reordering them.
# Each step prints its JSON report; the script stops at the first failure.
# SOAK_CONNECTIONS, SOAK_SECONDS, SOAK_MIB and SOAK_LOSS change the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/bench/reliability/load.js ] || npm run --silent build
# Room for the descriptors: each part raises its own soft limit up to the hard one.
connections=${SOAK_CONNECTIONS:-2000}
seconds=${SOAK_SECONDS:-60}
mib=${SOAK_MIB:-1024}
loss=${SOAK_LOSS:-5}
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((connections / 2 + 300)) ]; then
  echo "soak: the hard descriptor limit ($hard) is too low for $connections connections" >&2
  exit 1
fi
exec scripts/in-private-netns.sh bash -c "
  set -e
  echo '== load: $connections connections, $seconds s of autocannon' >&2
  node dist/bench/reliability/load.js --connections $connections --seconds $seconds
  echo '== integrity: $mib MiB each way over vxvde' >&2
  node dist/bench/reliability/integrity.js --mib $mib
  echo '== integrity: $mib MiB each way through $loss % loss with reordering (wirefilter)' >&2
  node dist/bench/reliability/integrity.js --mib $mib --loss $loss --timeout 3600
  echo 'soak: all passed' >&2
"
