#!/bin/bash
# The second lab: libvirt 11 (Debian 13) in a chroot, in a network namespace of its own,
# audited over SSH. Follows the second recipe in shared/LAB.md.
#   LAB_BACKEND=iptables|nftables  libvirt's firewall backend (network.conf)
#   LAB_FIREWALLD=1|0              run firewalld or not
#   lab/lab11.sh up | down | status | exec CMD... | restart-libvirtd | csum-wrapper on|off
set -euo pipefail
NS=${LAB11_NS:-virtnat-lab11}
RUN=${LAB11_RUN:-/run/virtnat-lab11}
ROOT=${LAB_ROOT:-/var/cache/virtnat/trixie-root}
BACKEND=${LAB_BACKEND:-iptables}
FIREWALLD=${LAB_FIREWALLD:-1}
GUEST=${LAB_GUEST:-virtnat-guest}
VETH=vlab11
NET=${LAB11_NET:-10.213.1}
ADDRS=$(seq -f "$NET.%g" 2 4)
# The outside the guest's NAT leads to (lab/common.sh uplink_up), and the guest (lab/guest/):
# the chroot's libvirt sees only its root, so the kernel is copied in and the console is
# logged to the root's /run (a tmpfs the host reads as $ROOT/run).
WAN_NS=${LAB11_WAN_NS:-virtnat-wan11}
WAN_NET=${LAB11_WAN_NET:-10.213.3}
GUEST_CACHE=${GUEST_CACHE:-/var/cache/virtnat/guest}
GUEST_DIR=/var/lib/virtnat-guest
CONSOLE=/run/guest-console.log
ASK=/run/guest-ask.sock
HERE=$(cd "$(dirname "$0")" && pwd)
# The root's packages (lab/build-root.sh's list and ufw, installed but disabled: the fault
# "ufw-enabled" of selftests/e2e/pathfaults.py turns it on). The stamp is the recipe: a root
# built from another list is built anew.
PACKAGES="libvirt-daemon-system libvirt-daemon-driver-network libvirt-daemon-driver-qemu libvirt-clients
 qemu-system-x86 dnsmasq-base nftables iptables firewalld dbus openssh-server iproute2 procps ufw"
STAMP="lab11: $(echo $PACKAGES)"
# The chroot's tools first; /opt/virtnat/bin holds the tc wrapper (see csum_wrapper).
CPATH=/opt/virtnat/bin:/usr/sbin:/usr/bin:/sbin:/bin
in_ns() { ip netns exec "$NS" "$@"; }
in_root() { ip netns exec "$NS" chroot "$ROOT" env -i PATH=$CPATH "$@"; }
. "$HERE/common.sh"

mounted() { grep -q " $1 " /proc/mounts; }

unmount_all() {
    local m
    for m in sys run dev/pts dev proc; do
        mounted "$ROOT/$m" && umount -l "$ROOT/$m"
    done
    return 0
}

down() {
    local pids; pids=$(ns_pids)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    sleep 0.3
    unmount_all
    [ -e "/run/netns/$NS" ] && ip netns del "$NS"
    [ -e "/run/netns/$WAN_NS" ] && ip netns del "$WAN_NS"
    ip link del "$VETH-host" 2>/dev/null || true
    rm -rf "$RUN"
    log "lab11 down"
}

csum_wrapper() {  # on: tc skips `action csum` (this kernel lacks CONFIG_NET_ACT_CSUM)
    mkdir -p "$ROOT/opt/virtnat/bin"
    if [ "$1" = on ]; then
        printf '#!/bin/sh\ncase " $* " in *" csum "*) exit 0;; esac\nexec /usr/sbin/tc "$@"\n' >"$ROOT/opt/virtnat/bin/tc"
        chmod +x "$ROOT/opt/virtnat/bin/tc"
    else
        rm -f "$ROOT/opt/virtnat/bin/tc"
    fi
}

start_libvirtd() {
    in_root libvirtd -d
    wait_for 30 libvirtd in_root virsh -r net-list
}

restart_libvirtd() {
    local pid; pid=$(ns_pid_of libvirtd) || pid=
    if [ -n "$pid" ]; then
        kill "$pid"
        wait_for 30 "libvirtd to stop" sh -c "! grep -qs libvirtd /proc/$pid/cmdline" || kill -9 "$pid"
        sleep 0.2
    fi
    rm -f "$ROOT/run/libvirtd.pid"
    start_libvirtd
}

up() {
    LAB_ROOT=$ROOT BUILD_PACKAGES=$PACKAGES BUILD_STAMP=$STAMP "$HERE/build-root.sh"
    GUEST_CACHE=$GUEST_CACHE "$HERE/guest/build.sh" >&2
    down 2>/dev/null || true
    mkdir -p "$RUN" "$ROOT$GUEST_DIR"
    # Fresh copies every time: the root's libvirt sees nothing outside it, and the last
    # libvirtd, killed at down, left its ownership records (xattrs) on the old ones.
    rm -f "$ROOT$GUEST_DIR"/*
    cp "$GUEST_CACHE/vmlinux" "$GUEST_CACHE/initrd.cpio" "$ROOT$GUEST_DIR/"
    ip netns add "$NS"
    in_ns ip link set lo up
    uplink_up "$WAN_NS" "$WAN_NET"
    mount --bind /proc "$ROOT/proc"
    mount --bind /dev "$ROOT/dev"
    mount --bind /dev/pts "$ROOT/dev/pts"
    mount -t tmpfs tmpfs "$ROOT/run"  # the chroot's own /run: the other lab's libvirtd lives in the host's
    nsenter --net="/run/netns/$NS" mount -t sysfs sysfs "$ROOT/sys"
    mkdir -p "$ROOT/run/dbus" "$ROOT/run/sshd"
    printf 'firewall_backend = "%s"\n' "$BACKEND" >"$ROOT/etc/libvirt/network.conf"
    sed -i 's/^ENABLED=.*/ENABLED=no/' "$ROOT/etc/ufw/ufw.conf"  # installed, off: a fault turns it on
    # qemu as root, in the root's own qemu.conf: as libvirt-qemu, libvirt 11 finds /dev/kvm
    # (root-only here) unusable although its probe got KVM, so it probes qemu again on every
    # define (~45 s) and start (~14 s).
    grep -qx 'user = "root"' "$ROOT/etc/libvirt/qemu.conf" || printf 'user = "root"\ngroup = "root"\n' >>"$ROOT/etc/libvirt/qemu.conf"
    csum_wrapper "$([ "$BACKEND" = nftables ] && echo on || echo off)"
    in_root dbus-daemon --system --fork
    if [ "$FIREWALLD" = 1 ]; then
        ip netns exec "$NS" chroot "$ROOT" env -i PATH=$CPATH setsid firewalld --nofork --nopid </dev/null >"$RUN/firewalld.log" 2>&1 &
        wait_for 60 firewalld in_root firewall-cmd --state
    fi
    in_root virtlogd -d
    rm -f "$ROOT$STALE_LEASES"  # earlier lab runs' guests: one may still hold the peer's address
    start_libvirtd
    cp "$HERE/../provision/provision.sh" "$ROOT/run/provision.sh"
    in_root sh /run/provision.sh >/dev/null  # the document's steps, in the root's own /etc
    # Defined anew every time: the root keeps an older lab's definition.
    reserve_peer in_root virsh
    guest_xml "$GUEST_DIR/vmlinux" "$GUEST_DIR/initrd.cpio" "$CONSOLE" "$WAN_NET.1" "$ASK" "$PEER_ADDR" >"$ROOT/run/guest.xml"
    peer_xml "$GUEST_DIR/vmlinux" "$GUEST_DIR/initrd.cpio" /run/peer-console.log >"$ROOT/run/peer.xml"
    in_root virsh undefine "$GUEST" >/dev/null 2>&1 || true
    in_root virsh undefine "$PEER_GUEST" >/dev/null 2>&1 || true
    in_root virsh define /run/guest.xml >/dev/null
    in_root virsh define /run/peer.xml >/dev/null
    local started=$SECONDS
    in_root virsh start "$GUEST" >/dev/null  # first: its tap is vnet0
    in_root virsh start "$PEER_GUEST" >/dev/null
    start_sshd
    wait_for 30 "the guests' taps to forward" sh -c "[ \$(ip netns exec $NS bridge link | grep -c 'master virbr0 state forwarding') -ge 2 ]"
    wait_for_guest "$ROOT$CONSOLE" "$started"
    wait_for_peer "$ROOT$CONSOLE" "$started"
    log "lab11 up: libvirt $(in_root libvirtd --version | awk '{print $NF}'), backend $BACKEND, firewalld $FIREWALLD; ssh root@$NET.2 key $RUN/id_ed25519 known_hosts $RUN/known_hosts"
}

start_sshd() {
    mkdir -p "$ROOT/root/.ssh"
    ssh-keygen -q -t ed25519 -N '' -f "$ROOT/run/ssh_host_ed25519_key"
    ssh-keygen -q -t ed25519 -N '' -f "$RUN/id_ed25519"
    cp "$RUN/id_ed25519.pub" "$ROOT/run/authorized_keys"
    ip link add "$VETH-host" type veth peer name "$VETH-lab"
    ip link set "$VETH-lab" netns "$NS"
    ip addr add "$NET.1/24" dev "$VETH-host"
    ip link set "$VETH-host" up
    local listen=() a
    for a in $ADDRS; do in_ns ip addr add "$a/24" dev "$VETH-lab"; listen+=(-o "ListenAddress=$a"); done
    in_ns ip link set "$VETH-lab" up
    : >"$RUN/known_hosts"
    for a in $ADDRS; do echo "$a $(cat "$ROOT/run/ssh_host_ed25519_key.pub")" >>"$RUN/known_hosts"; done
    in_root /usr/sbin/sshd -f /dev/null "${listen[@]}" -o HostKey=/run/ssh_host_ed25519_key \
        -o PidFile=/run/sshd.pid -o AuthorizedKeysFile=/run/authorized_keys -o StrictModes=no \
        -o UsePAM=no -o PermitRootLogin=prohibit-password -o MaxStartups=100
    wait_for 10 sshd sh -c "ssh -o BatchMode=yes -o UserKnownHostsFile=$RUN/known_hosts -i $RUN/id_ed25519 root@$NET.2 true"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) [ -e "/run/netns/$NS" ] && in_root virsh -r net-list --all || { echo "lab11: down"; exit 1; } ;;
    exec) shift; in_root "$@" ;;
    restart-libvirtd) restart_libvirtd ;;
    guest-ask) guest_ask "$ROOT$ASK" ;;
    csum-wrapper) csum_wrapper "$2" ;;
    *) echo "usage: $0 up|down|status|exec CMD...|restart-libvirtd|csum-wrapper on|off|guest-ask" >&2; exit 2 ;;
esac
