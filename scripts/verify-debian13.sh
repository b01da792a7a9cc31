#!/usr/bin/env bash
# Verifies the README's two commands on a fresh Debian 13 (trixie): builds a minbase root with
# debootstrap, enters it as a container would (private mount and pid namespaces, pivot_root: a
# plain chroot would refuse user namespaces, so vdestack could not work), puts a clean clone of the
# repository's HEAD in it, runs `bash scripts/demo.sh` and `bash scripts/test.sh` there, and ends
# with one summary line. Not part of CI: it needs root, debootstrap and several minutes.
#
#   sudo scripts/verify-debian13.sh [REPOSITORY]    (default: this clone; only committed work is tested)
#
# Caches under /var/cache/iothts/debian13 (IOTHTS_VERIFY_CACHE): the debootstrap root, never entered,
# copied afresh for every run, plus apt's and npm's download caches, so a rerun downloads nothing
# new. The last run's root stays in run/ (its logs in run/verify-logs/) until the next run.
# Network: Debian's mirror (debootstrap, apt inside) and the npm registry (npm ci inside); the
# tests themselves run in private network namespaces as always (scripts/in-private-netns.sh).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "verify-debian13: run as root (debootstrap, namespaces, pivot_root)" >&2
  exit 1
fi

repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
commit=$(git -C "$repo" rev-parse HEAD)
cache=${IOTHTS_VERIFY_CACHE:-/var/cache/iothts/debian13}
mirror=${IOTHTS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
pristine=$cache/minbase
run=$cache/run
say() { echo "verify-debian13: $*"; }

mkdir -p "$cache/apt-archives/partial" "$cache/npm"
exec 9>"$cache/lock"
flock -n 9 || { say "another run holds $cache/lock" >&2; exit 1; }

if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
fi

# The pristine root, made once: a marker says debootstrap finished (an interrupted one is redone).
if [ ! -e "$pristine/.iothts-debootstrap-done" ]; then
  say "debootstrap --variant=minbase trixie from $mirror (once; cached in $pristine)"
  rm -rf "$pristine"
  debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    trixie "$pristine" "$mirror" > "$cache/debootstrap.log" 2>&1 || {
    tail -20 "$cache/debootstrap.log" >&2
    say "debootstrap failed (log: $cache/debootstrap.log)" >&2
    exit 1
  }
  rm -f "$pristine"/var/cache/apt/archives/*.deb
  touch "$pristine/.iothts-debootstrap-done"
fi

# This run's root: a fresh copy, and a clean clone of the commit under test.
rm -rf "$run"
cp -a --reflink=auto "$pristine" "$run"
rm "$run/.iothts-debootstrap-done"
git clone --quiet --no-hardlinks "$repo" "$run/src/iothts"
git -C "$run/src/iothts" checkout --quiet --detach "$commit"
mkdir -p "$run/src/verify-logs"
cat -- /etc/resolv.conf > "$run/etc/resolv.conf.host"   # the host's, for apt and npm inside
# IOTHTS_TEST_NODES (scripts/test.sh) passes through, when set: "" runs trixie's Node only.
nodes=${IOTHTS_TEST_NODES+IOTHTS_TEST_NODES=$IOTHTS_TEST_NODES}
# A host behind a TLS-inspecting proxy trusts CAs of its own (/usr/local/share/ca-certificates): the
# root trusts them too (update-ca-certificates adds them when the setup installs ca-certificates),
# and Node, whose built-in CA list lacks them, is pointed at the system's bundle for npm ci.
extra_ca=
if [ -n "$(find /usr/local/share/ca-certificates -name '*.crt' 2>/dev/null | head -1)" ]; then
  mkdir -p "$run/usr/local/share/ca-certificates"
  cp -a /usr/local/share/ca-certificates/. "$run/usr/local/share/ca-certificates/"
  extra_ca=NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
say "testing $(git -C "$repo" log -1 --format='%h %s' "$commit" | cut -c1-72) in $run"

# Inside: private mount and pid namespaces (the pid namespace ends every process of the run with
# it, and /proc is its own), the root entered with pivot_root as a container runtime does.
unshare --mount --pid --fork --propagation private -- /bin/bash -euc '
  R=$1 cache=$2 extra_ca=$3 nodes=$4
  mount --bind "$R" "$R"                       # pivot_root needs the new root to be a mount point
  mount -t proc proc "$R/proc"
  mount --rbind /sys "$R/sys"
  mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
  # A container-like /dev: a few device nodes of the host, /dev/net/tun for vdestack, own ptys.
  mount -t tmpfs -o mode=755,nosuid tmpfs "$R/dev"
  for n in null zero full random urandom tty; do touch "$R/dev/$n"; mount --bind "/dev/$n" "$R/dev/$n"; done
  mkdir "$R/dev/net" "$R/dev/pts" "$R/dev/shm"
  touch "$R/dev/net/tun"; mount --bind /dev/net/tun "$R/dev/net/tun"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
  ln -s pts/ptmx "$R/dev/ptmx"
  mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
  ln -s /proc/self/fd "$R/dev/fd"
  ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
  mv "$R/etc/resolv.conf.host" "$R/etc/resolv.conf"
  # Download caches only: what is installed still comes fresh into this root.
  mount --bind "$cache/apt-archives" "$R/var/cache/apt/archives"
  mkdir -p "$R/root/.npm"; mount --bind "$cache/npm" "$R/root/.npm"
  # The other Node lines the test command runs (scripts/node-version.sh), shared with this host.
  mkdir -p /var/cache/iothts/node "$R/var/cache/iothts/node"; mount --bind /var/cache/iothts/node "$R/var/cache/iothts/node"
  cd "$R"
  mkdir .oldroot
  pivot_root . .oldroot
  umount -l /.oldroot
  rmdir /.oldroot
  exec chroot . /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb $extra_ca $nodes /bin/bash -c "
      cd /src/iothts
      logs=/src/verify-logs
      echo verify-debian13: bash scripts/demo.sh, log in $R/src/verify-logs/demo.log
      status=0
      bash scripts/demo.sh > \$logs/demo.log 2>&1 || status=\$?
      echo \$status > \$logs/demo.status
      tail -5 \$logs/demo.log
      echo verify-debian13: bash scripts/test.sh, log in $R/src/verify-logs/test.log
      status=0
      bash scripts/test.sh > \$logs/test.log 2>&1 || status=\$?
      echo \$status > \$logs/test.status
      node --version > \$logs/node.version 2>&1 || true
      cat /etc/debian_version > \$logs/debian.version
    "
' verify "$run" "$cache" "$extra_ca" "$nodes" || say "the run inside the root ended with status $?" >&2

logs=$run/src/verify-logs
demo_status=$(cat "$logs/demo.status" 2>/dev/null || echo none)
test_status=$(cat "$logs/test.status" 2>/dev/null || echo none)
counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$logs/test.log" 2>/dev/null | tail -1 || true)
# jest heads each failure "  ● name" (and each block of console output "  ● Console").
grep -E '^  ● ' "$logs/test.log" 2>/dev/null | grep -vx '  ● Console' | sed 's/^  ● /verify-debian13: failed: /' | sort -u || true
[ "$demo_status" = 0 ] && demo="demo ok" || demo="demo FAILED (status $demo_status, $logs/demo.log)"
[ -n "$counts" ] && tests="tests: ${counts%, 0 skipped}" || tests="tests: no result (status $test_status, $logs/test.log)"
say "$demo, $tests (trixie $(cat "$logs/debian.version" 2>/dev/null || echo '?'), node $(cat "$logs/node.version" 2>/dev/null || echo '?'), $(git -C "$repo" rev-parse --short "$commit"))"
[ "$demo_status" = 0 ] && [ "$test_status" = 0 ]
