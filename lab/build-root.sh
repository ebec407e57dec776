#!/bin/bash
# Builds, once, the Debian 13 (trixie, libvirt 11) root the second lab runs in, following
# shared/LAB.md. Cached outside the clone (LAB_ROOT_CACHE); a finished root is reused as is.
set -euo pipefail
ROOT=${LAB_ROOT:-/var/cache/virtnat/trixie-root}
PACKAGES="libvirt-daemon-system libvirt-daemon-driver-network libvirt-daemon-driver-qemu libvirt-clients
 qemu-system-x86 dnsmasq-base nftables iptables firewalld dbus openssh-server iproute2 procps"
[ -f "$ROOT/.virtnat-ready" ] && { echo "build-root: $ROOT is ready"; exit 0; }

mirror() {  # the Debian mirror this machine's apt uses
    local m
    m=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
    [ -n "$m" ] || m=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -1)
    echo "${m:-http://deb.debian.org/debian}"
}

command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
rm -rf "$ROOT"
mkdir -p "$(dirname "$ROOT")"
echo "build-root: debootstrap trixie into $ROOT (about a minute)"
debootstrap --variant=minbase trixie "$ROOT" "$(mirror)" >/dev/null
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"   # nothing starts while installing
chmod +x "$ROOT/usr/sbin/policy-rc.d"
mount -t proc proc "$ROOT/proc"
trap 'umount "$ROOT/proc" 2>/dev/null || true' EXIT
chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive apt-get update -qq
echo "build-root: installing libvirt 11, firewalld, nftables, sshd in the root (about half a minute)"
chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
chroot "$ROOT" apt-get clean
# qemu cannot set up its own mount namespace: the chroot's / is not a mount point.
echo 'namespaces = [ ]' >>"$ROOT/etc/libvirt/qemu.conf"
touch "$ROOT/.virtnat-ready"
echo "build-root: $ROOT ready"
