#!/bin/bash
# The lab: a real libvirt NAT host (libvirtd, firewalld, dnsmasq, the default network
# and a tiny guest) inside a network namespace of its own, so that nothing it does
# touches this machine's own network. Follows shared/LAB.md.
#   lab/lab.sh up | down | status | exec CMD...
# LAB_GEN=11 selects the second lab instead: libvirt 11 in a Debian 13 root (lab/lab11.sh).
set -euo pipefail
[ "${LAB_GEN:-9}" = 11 ] && exec "$(dirname "$0")/lab11.sh" "$@"
[ "${LAB_GEN:-9}" = sd ] && exec "$(dirname "$0")/labsd.sh" "$@"  # LAB_GEN=sd: a systemd host, booted with systemd-nspawn
NS=${LAB_NS:-virtnat-lab}
RUN=${LAB_RUN:-/run/virtnat-lab}
GUEST=${LAB_GUEST:-virtnat-guest}
HERE=$(cd "$(dirname "$0")" && pwd)
# The lab's SSH side: a veth into the namespace. sshd listens on ADDRS (names of the same
# host for fleet tests); NOLISTEN is assigned too but nothing listens there.
VETH=${LAB_VETH:-vlab}
NET=${LAB_NET:-10.213.0}
ADDRS=$(seq -f "$NET.%g" 2 31)
NOLISTEN=$NET.99
LAB_USER=${LAB_USER:-virtnat}
# The outside the guest's NAT leads to (lab/common.sh uplink_up), and the guest (lab/guest/).
WAN_NS=${LAB_WAN_NS:-virtnat-wan}
WAN_NET=${LAB_WAN_NET:-10.213.2}
GUEST_CACHE=${GUEST_CACHE:-/var/cache/virtnat/guest}
CONSOLE=$RUN/guest-console.log
ASK=$RUN/guest-ask.sock
# The lab's own /etc entries: `ip netns exec $NS` bind-mounts each entry of ETC over /etc/ENTRY
# for the command it runs, and every daemon, sshd and audit of the lab starts that way. So the
# lab's user, its sudo rule, the forwarding provision.sh persists and libvirt's config land
# here, and the machine's /etc is never written.
ETC=/etc/netns/$NS

in_ns() { ip netns exec "$NS" "$@"; }
. "$HERE/common.sh"

start_firewalld() {
    ip netns exec "$NS" setsid firewalld --nofork --nopid </dev/null >"$RUN/firewalld.log" 2>&1 &
    wait_for 60 firewalld in_ns firewall-cmd --state
    ns_pid_of firewalld >"$RUN/firewalld.pid"
}

stop_firewalld() {
    kill_recorded firewalld
    wait_for 30 "firewalld to stop" sh -c "! grep -qs firewalld /proc/$(cat "$RUN/firewalld.pid" 2>/dev/null || echo 0)/cmdline"
}

kill_recorded() {  # kill the daemon whose pid the lab recorded (NAME or NAME-N), if that pid is still that daemon
    local pid; pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 0
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "${1%-[0-9]*}" ] && kill "$pid" 2>/dev/null
    return 0
}

start_dbus() {  # the system bus firewalld and libvirtd talk over; a stale socket is not a bus
    local pid; pid=$(cat /run/dbus/pid 2>/dev/null) || pid=
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dbus-daemon ]; then return 0; fi
    rm -f /run/dbus/pid /run/dbus/system_bus_socket
    dbus-daemon --system --fork
}

down() {
    if [ -e "/run/netns/$NS" ]; then
        in_ns virsh destroy "$GUEST" >/dev/null 2>&1 || true
        in_ns virsh destroy "$PEER_GUEST" >/dev/null 2>&1 || true
        in_ns virsh net-destroy default >/dev/null 2>&1 || true
    fi
    for name in libvirtd virtlogd firewalld sshd sshd-2; do kill_recorded "$name"; done
    sleep 0.5
    # Whatever is left in the namespace (qemu, dnsmasq) belongs to the lab.
    local pids; pids=$(ns_pids)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    [ -e "/run/netns/$NS" ] && ip netns del "$NS"
    [ -e "/run/netns/$WAN_NS" ] && ip netns del "$WAN_NS"
    ip link del "$VETH-host" 2>/dev/null || true
    rm -rf "$RUN" "$ETC"
    rmdir /etc/netns 2>/dev/null || true
    log "down"
}

up() {
    GUEST_CACHE=$GUEST_CACHE "$HERE/guest/build.sh" >&2
    down 2>/dev/null || true
    mkdir -p "$RUN" /run/dbus /run/sshd
    own_etc
    start_dbus
    ip netns add "$NS"
    in_ns ip link set lo up
    uplink_up "$WAN_NS" "$WAN_NET"
    start_firewalld
    in_ns virtlogd -d -p "$RUN/virtlogd.pid"
    rm -f "$STALE_LEASES"  # earlier lab runs' guests: one may still hold the peer's address
    in_ns libvirtd -d -p "$RUN/libvirtd.pid"
    wait_for 60 libvirtd in_ns virsh -r net-list
    in_ns "$HERE/../provision/provision.sh"
    start_sshd
    # qemu reads the kernel where the cache is; libvirt opens the console log for it.
    reserve_peer in_ns virsh
    guest_xml "$GUEST_CACHE/vmlinux" "$GUEST_CACHE/initrd.cpio" "$CONSOLE" "$WAN_NET.1" "$ASK" "$PEER_ADDR" >"$RUN/guest.xml"
    peer_xml "$GUEST_CACHE/vmlinux" "$GUEST_CACHE/initrd.cpio" "$RUN/peer-console.log" >"$RUN/peer.xml"
    in_ns virsh define "$RUN/guest.xml" >/dev/null
    in_ns virsh define "$RUN/peer.xml" >/dev/null
    local started=$SECONDS
    in_ns virsh start "$GUEST" >/dev/null  # first: its tap is vnet0, as before the peer came
    in_ns virsh start "$PEER_GUEST" >/dev/null
    wait_for 30 "the guests' taps to forward" sh -c "[ \$(ip netns exec $NS bridge link | grep -c 'master virbr0 state forwarding') -ge 2 ]"
    wait_for_guest "$CONSOLE" "$started"
    wait_for_peer "$CONSOLE" "$started"
    log "up: namespace $NS, guests $GUEST and $PEER_GUEST ($PEER_ADDR); audit with: ip netns exec $NS pytest"
    log "guest console: $CONSOLE; outside: $WAN_NET.1 in namespace $WAN_NS"
    log "ssh: root@$NET.2 (also .3 to .31) with key $RUN/id_ed25519, known_hosts $RUN/known_hosts; user $LAB_USER has sudo"
}

own_etc() {  # copies of the machine's files, plus what the lab changes
    local uid
    rm -rf "$ETC"
    mkdir -p "$ETC"
    cp -a /etc/passwd /etc/shadow /etc/group /etc/sysctl.conf /etc/sudoers.d /etc/libvirt "$ETC/"
    # libvirt as on a fresh host (no guest defined, nothing autostarted: provision.sh does that);
    # qemu as root: as libvirt-qemu, libvirt finds /dev/kvm (root-only here) unusable although
    # its probe got KVM, and probes qemu again (~45 s) after every libvirtd start.
    rm -f "$ETC"/libvirt/qemu/*.xml "$ETC"/libvirt/qemu/networks/autostart/*
    printf 'user = "root"\ngroup = "root"\n' >>"$ETC/libvirt/qemu.conf"
    # The SSH user with passwordless sudo, in the lab's passwd only.
    sed -i "/^$LAB_USER:/d" "$ETC/passwd" "$ETC/shadow" "$ETC/group"
    uid=$(cut -d: -f3 "$ETC/passwd" "$ETC/group" | awk '$1 >= 1000 && $1 < 60000' | sort -n | tail -1)
    uid=$((${uid:-999} + 1))
    echo "$LAB_USER:x:$uid:$uid::/:/bin/sh" >>"$ETC/passwd"
    echo "$LAB_USER:x:$uid:" >>"$ETC/group"
    echo "$LAB_USER:*:20000:0:99999:7:::" >>"$ETC/shadow"  # no password, but not locked: sshd (without PAM) refuses locked accounts
    echo "$LAB_USER ALL=(root) NOPASSWD: ALL" >"$ETC/sudoers.d/virtnat-lab"
    chmod 440 "$ETC/sudoers.d/virtnat-lab"
}

start_sshd() {
    # Own host key, client key and authorized_keys under $RUN: nothing of the machine's ssh setup is used.
    ssh-keygen -q -t ed25519 -N '' -f "$RUN/ssh_host_ed25519_key"
    ssh-keygen -q -t ed25519 -N '' -f "$RUN/id_ed25519"
    cp "$RUN/id_ed25519.pub" "$RUN/authorized_keys"
    chmod 644 "$RUN/authorized_keys"
    ip link add "$VETH-host" type veth peer name "$VETH-lab"
    ip link set "$VETH-lab" netns "$NS"
    ip addr add "$NET.1/24" dev "$VETH-host"
    ip link set "$VETH-host" up
    local a
    for a in $ADDRS $NOLISTEN; do in_ns ip addr add "$a/24" dev "$VETH-lab"; done
    in_ns ip link set "$VETH-lab" up
    : >"$RUN/known_hosts"
    for a in $ADDRS; do echo "$a $(cat "$RUN/ssh_host_ed25519_key.pub")" >>"$RUN/known_hosts"; done
    # sshd takes at most 16 ListenAddress (MAX_LISTEN_SOCKS): one sshd per 15 addresses.
    local addrs=($ADDRS) first n=0
    for ((first = 0; first < ${#addrs[@]}; first += 15)); do
        local listen=() pidfile=sshd
        n=$((n + 1)); [ "$n" -gt 1 ] && pidfile=sshd-$n
        for a in "${addrs[@]:first:15}"; do listen+=(-o "ListenAddress=$a"); done
        in_ns /usr/sbin/sshd -f /dev/null "${listen[@]}" -o HostKey="$RUN/ssh_host_ed25519_key" \
            -o PidFile="$RUN/$pidfile.pid" -o AuthorizedKeysFile="$RUN/authorized_keys" -o StrictModes=no \
            -o UsePAM=no -o PermitRootLogin=prohibit-password -o MaxStartups=100 -o MaxSessions=100
    done
    wait_for 10 sshd sh -c "ssh -o BatchMode=yes -o UserKnownHostsFile=$RUN/known_hosts -i $RUN/id_ed25519 root@$NET.2 true"
}

status() {
    [ -e "/run/netns/$NS" ] || { echo "lab: down"; return 1; }
    in_ns virsh -r net-list --all; in_ns virsh -r list --all; in_ns ip -br link
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    exec) shift; in_ns "$@" ;;
    guest-ask) guest_ask "$ASK" ;;
    start-firewalld) start_firewalld ;;
    stop-firewalld) stop_firewalld ;;
    *) echo "usage: $0 up|down|status|exec CMD...|guest-ask|start-firewalld|stop-firewalld" >&2; exit 2 ;;
esac
