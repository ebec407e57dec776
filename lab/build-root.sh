#!/bin/bash
# Builds, once, the Debian 13 (trixie, libvirt 11) root the second lab runs in, following
# shared/LAB.md. Cached outside the clone (LAB_ROOT_CACHE); a finished root is reused as is.
# Other labs build other roots with the same steps (lab/labsd.sh), through these variables;
# unset, they give lab11's root:
#   BUILD_SUITE         the Debian release debootstrapped (trixie)
#   BUILD_PACKAGES      what apt installs in it (--no-install-recommends)
#   BUILD_EXTRA_SUITES  more suites of the same mirror for the root's apt (bookworm-backports)
#   BUILD_APT_PREFERENCES  the root's /etc/apt/preferences.d/virtnat (which packages come from them)
#   BUILD_QEMU_CONF     a line appended to the root's qemu.conf
#   BUILD_STAMP         the text of the ready stamp: a root whose stamp differs is built anew
set -euo pipefail
ROOT=${LAB_ROOT:-/var/cache/virtnat/trixie-root}
SUITE=${BUILD_SUITE:-trixie}
PACKAGES=${BUILD_PACKAGES:-"libvirt-daemon-system libvirt-daemon-driver-network libvirt-daemon-driver-qemu libvirt-clients
 qemu-system-x86 dnsmasq-base nftables iptables firewalld dbus openssh-server iproute2 procps"}
EXTRA_SUITES=${BUILD_EXTRA_SUITES:-}
APT_PREFERENCES=${BUILD_APT_PREFERENCES:-}
QEMU_CONF=${BUILD_QEMU_CONF:-'namespaces = [ ]'}
STAMP=${BUILD_STAMP:-}
[ -f "$ROOT/.virtnat-ready" ] && [ "$(cat "$ROOT/.virtnat-ready")" = "$STAMP" ] && { echo "build-root: $ROOT is ready"; exit 0; }
# Never delete a root that a lab still has mounts in (its /dev would be the machine's).
if grep -q " $ROOT[/ ]" /proc/mounts; then echo "build-root: $ROOT is in use (mounted): bring its lab down first" >&2; exit 1; fi

mirror() {  # the Debian mirror this machine's apt uses
    local m
    m=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
    [ -n "$m" ] || m=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -1)
    echo "${m:-http://deb.debian.org/debian}"
}

command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
rm -rf "$ROOT"
mkdir -p "$(dirname "$ROOT")"
echo "build-root: debootstrap $SUITE into $ROOT (about a minute)"
debootstrap --variant=minbase "$SUITE" "$ROOT" "$(mirror)" >/dev/null
for s in $EXTRA_SUITES; do echo "deb $(mirror) $s main" >>"$ROOT/etc/apt/sources.list"; done
if [ -n "$EXTRA_SUITES" ]; then  # as this machine's apt is set up (backports Release files expire)
    echo 'Acquire::Check-Valid-Until "false";' >"$ROOT/etc/apt/apt.conf.d/99virtnat-snapshot"
fi
[ -z "$APT_PREFERENCES" ] || echo "$APT_PREFERENCES" >"$ROOT/etc/apt/preferences.d/virtnat"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"   # nothing starts while installing
chmod +x "$ROOT/usr/sbin/policy-rc.d"
mount -t proc proc "$ROOT/proc"
trap 'umount "$ROOT/proc" 2>/dev/null || true' EXIT
chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive apt-get update -qq
echo "build-root: installing $(echo $PACKAGES | wc -w) packages and their dependencies in the root (about half a minute)"
chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
chroot "$ROOT" apt-get clean
# lab11: qemu cannot set up its own mount namespace: the chroot's / is not a mount point.
echo "$QEMU_CONF" >>"$ROOT/etc/libvirt/qemu.conf"
printf '%s' "$STAMP" >"$ROOT/.virtnat-ready"
echo "build-root: $ROOT ready"
