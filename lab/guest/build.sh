#!/bin/bash
# Builds the lab's real tiny guest, cached in GUEST_CACHE: Debian 12's kernel, fetched with
# `apt-get download` and unpacked (never installed on this machine), and a busybox initramfs
# whose /init does DHCP, DNS and NAT rounds (lab/guest/init).
#   vmlinux      the uncompressed ELF kernel: QEMU boots it directly (PVH), ~8 s faster
#                under TCG than letting the XZ bzImage unpack itself
#   initrd.cpio  busybox, /init, dhcp.sh and the virtio-net modules (newc, uncompressed)
# The downloads happen once (kept: busybox, modules/); the initramfs is rebuilt from them
# whenever init or dhcp.sh change.
set -euo pipefail
CACHE=${GUEST_CACHE:-/var/cache/virtnat/guest}
HERE=$(cd "$(dirname "$0")" && pwd)
# virtio_net's dependency chain, in load order (no depmod or modprobe in the guest).
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

download() {  # download DIR: the newest Debian 12 kernel image apt knows of, and busybox-static
    local kpkg
    kpkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -t- -k4,4n | tail -1)
    [ -n "$kpkg" ] || { echo "guest: no linux-image-6.1.0-N-amd64 package known to apt" >&2; return 1; }
    echo "guest: fetching $kpkg and busybox-static" >&2
    (cd "$1" && apt-get download -q "$kpkg" busybox-static >/dev/null) || return 1
    echo "$kpkg"
}

fetch() {  # vmlinux, busybox and the modules into the cache (Debian's signed kernel package carries the modules)
    local work=$TMP/fetch kpkg kver m
    mkdir "$work"
    chown _apt "$work" 2>/dev/null || chmod 777 "$work"  # apt's _apt user downloads into it
    # Stale package lists name a kernel the mirror no longer has: update them and try again.
    if ! kpkg=$(download "$work"); then
        rm -f "$work"/*.deb
        apt-get update -qq
        kpkg=$(download "$work")
    fi
    dpkg-deb -x "$work"/linux-image-*.deb "$work/k"
    dpkg-deb -x "$work"/busybox-static_*.deb "$work/bb"
    kver=${kpkg#linux-image-}
    mkdir -p "$CACHE/modules"
    for m in $MODULES; do
        cp "$(find "$work/k/lib/modules/$kver" -name "$m.ko" | head -1)" "$CACHE/modules/" \
            || { echo "guest: $kpkg has no $m.ko (try its -unsigned package)" >&2; return 1; }
    done
    cp "$work/bb/bin/busybox" "$CACHE/busybox"
    # vmlinux: the bzImage's payload is one XZ stream (magic FD 37 7A 58 5A 00); what follows it is not ours.
    python3 - "$work/k/boot/vmlinuz-$kver" "$CACHE/vmlinux.tmp" <<'PY'
import lzma, sys
data = open(sys.argv[1], "rb").read()
start = data.find(b"\xfd7zXZ\x00")
if start < 0:
    sys.exit("guest: no XZ stream in the bzImage")
elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[start:])
if elf[:4] != b"\x7fELF":
    sys.exit("guest: the XZ payload is not an ELF kernel")
open(sys.argv[2], "wb").write(elf)
PY
    echo "$kpkg" >"$CACHE/kernel"
    mv "$CACHE/vmlinux.tmp" "$CACHE/vmlinux"
}

initrd() {  # the initramfs, from the cached parts and this directory's scripts
    local tree=$TMP/initrd
    mkdir -p "$tree"/{bin,dev,proc,sys,tmp,modules}
    cp "$CACHE/busybox" "$tree/bin/busybox"
    cp "$CACHE"/modules/*.ko "$tree/modules/"
    echo "$MODULES" >"$tree/modules/order"
    install -m 755 "$HERE/init" "$tree/init"
    install -m 755 "$HERE/dhcp.sh" "$tree/bin/dhcp.sh"
    (cd "$tree" && find . | "$CACHE/busybox" cpio -o -H newc -R 0:0 >"$CACHE/initrd.cpio.tmp" 2>/dev/null)
    mv "$CACHE/initrd.cpio.tmp" "$CACHE/initrd.cpio"
}

mkdir -p "$CACHE"
[ -s "$CACHE/vmlinux" ] && [ -x "$CACHE/busybox" ] && [ -s "$CACHE/modules/virtio_net.ko" ] || fetch
sum=$(cat "$HERE/init" "$HERE/dhcp.sh" | sha256sum | cut -c1-16)
if [ ! -s "$CACHE/initrd.cpio" ] || [ "$(cat "$CACHE/initrd.sum" 2>/dev/null)" != "$sum" ]; then
    initrd
    echo "$sum" >"$CACHE/initrd.sum"
    echo "guest: $CACHE ready: $(cat "$CACHE/kernel"), vmlinux $(du -h "$CACHE/vmlinux" | cut -f1), initrd.cpio $(du -h "$CACHE/initrd.cpio" | cut -f1)"
else
    echo "guest: $CACHE is ready"
fi
