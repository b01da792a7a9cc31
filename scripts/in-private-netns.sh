#!/usr/bin/env bash
# Runs a command inside a private network namespace made for this run, holding only `lo` (up, with
# multicast routed to it). vxvde:// traffic therefore never leaves the machine, and slirp's gateway
# 10.0.2.2 is this namespace's loopback. As non-root it maps the user to root in a new user
# namespace first. The namespace disappears when the command ends.
#
#   scripts/in-private-netns.sh COMMAND [ARGS...]
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

if [ "${IOTHTS_PRIVATE_NETNS:-}" = inside ]; then
  ip link set lo up
  ip link set lo multicast on
  ip route add 224.0.0.0/4 dev lo
  ip -6 route add multicast ff00::/8 dev lo table local 2>/dev/null || true
  exec "$@"
fi

unshare_opts=(--net)
[ "$(id -u)" -eq 0 ] || unshare_opts+=(--map-root-user)
IOTHTS_PRIVATE_NETNS=inside exec unshare "${unshare_opts[@]}" -- "$0" "$@"
