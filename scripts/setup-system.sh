#!/usr/bin/env bash
# Installs the Debian packages iothts needs to build, test and run, on Debian 12 (bookworm) or
# Debian 13 (trixie). Idempotent: when everything is present it only checks and exits.
#
# libioth is packaged from Debian 13 on. On Debian 12 this script installs Debian 13's libioth0 and
# libioth-dev (downloaded with a private apt state, so the system's sources stay as they are) plus a
# tiny local package that provides trixie's "libvdeplug2t64" name on top of bookworm's libvdeplug2
# (the same upstream 4.0.1, same soname). Nothing of bookworm is removed or upgraded, and dpkg stays
# consistent: `apt-get check` passes and later `apt-get install` calls work.
#
#   setup-system.sh            everything to build, test and run iothts (a clone of the project)
#   setup-system.sh --runtime  only what an installed package needs at run time (libioth0, the
#                              VDE plugins): `sudo npx iothts setup-system --runtime`
set -euo pipefail

runtime=false
case "${1:-}" in
  '') ;;
  --runtime) runtime=true ;;
  *) echo "setup-system: unknown option '$1' (use --runtime, or nothing)" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system: run as root (it installs Debian packages)" >&2
  exit 1
fi

. /etc/os-release
codename=${VERSION_CODENAME:-}
case "$codename" in
  bookworm|trixie) ;;
  *) echo "setup-system: Debian 12 (bookworm) or 13 (trixie) expected, found '${PRETTY_NAME:-unknown}'" >&2; exit 1 ;;
esac

export DEBIAN_FRONTEND=noninteractive
# Build tools, libioth's headers' needs, VDE tools and plugins, and what the tests use.
# At run time: libioth's own dependencies and the vdeplug modules (vxvde, hub, slirp, ...).
packages=(vdeplug libvdeplug-slirp libfduserdata0 libmhash2)
ioth_packages=(libioth0)
if ! $runtime; then
  packages+=(build-essential cmake pkg-config git ca-certificates curl openssl iproute2 util-linux procps
    nlinline-dev libvdeplug-dev vdens vde2 dnsmasq-base ethtool)
  ioth_packages+=(libioth-dev)
fi
[ "$codename" = trixie ] && packages+=("${ioth_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-system: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$codename" = bookworm ]; then
  ioth_version=0.1.2-3+b1
  outdated=()
  for p in "${ioth_packages[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$p" 2>/dev/null || true)" = "installed $ioth_version" ] || outdated+=("$p")
  done
  if [ ${#outdated[@]} -gt 0 ]; then
    echo "setup-system: installing libioth $ioth_version from Debian 13 (bookworm has none)"
    work=/var/cache/iothts/trixie-apt
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
      > "$work/sources.list"
    apt_private=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Dir::State::status=/dev/null
      -o APT::Sandbox::User=root)
    apt-get "${apt_private[@]}" update -qq
    # apt verifies each .deb against the signed Release file of trixie.
    (cd "$work/debs" && apt-get "${apt_private[@]}" download -qq "${ioth_packages[@]/%/=$ioth_version}")

    # The shim: trixie renamed the libvdeplug2 package to libvdeplug2t64 (time_t ABI transition,
    # which does not change amd64). Provide the new name on top of bookworm's package.
    shim=$work/shim
    rm -rf "$shim" && mkdir -p "$shim/DEBIAN"
    cat > "$shim/DEBIAN/control" <<CONTROL
Package: iothts-libvdeplug2t64-shim
Version: 4.0.1-1
Architecture: all
Maintainer: iothts <iothts@localhost>
Depends: libvdeplug2 (>= 4.0.1)
Provides: libvdeplug2t64 (= 4.0.1-4)
Section: libs
Priority: optional
Description: provides Debian 13's libvdeplug2t64 name with Debian 12's libvdeplug2
 Installed by iothts's setup script so that Debian 13's libioth0 can be installed on Debian 12.
CONTROL
    dpkg-deb --build --root-owner-group "$shim" "$work/iothts-libvdeplug2t64-shim.deb" >/dev/null
    debs=()
    for p in "${ioth_packages[@]}"; do debs+=("$work/debs/${p}_${ioth_version}_amd64.deb"); done
    dpkg -i "$work/iothts-libvdeplug2t64-shim.deb" "${debs[@]}" >/dev/null
  fi
fi

apt-get check -qq
ldconfig
checked=("$(dpkg-query -L libioth0 | grep '/ioth_vdestack-r\.so$')")
$runtime || checked+=(/usr/include/ioth.h /usr/include/nlinline+.h)
for f in "${checked[@]}"; do
  [ -n "$f" ] && [ -e "$f" ] || { echo "setup-system: ${f:-the vdestack plugin} missing after install" >&2; exit 1; }
done
echo "setup-system: ready (Debian $codename, libioth $(dpkg-query -W -f='${Version}' libioth0))"
