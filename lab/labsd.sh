#!/bin/bash
# The systemd lab: a real systemd host. A Debian 12 tree (libvirt 9; LABSD_LIBVIRT=11 takes
# libvirt 11 from bookworm-backports instead, LABSD_LIBVIRT=13 Debian 13), built once and cached, booted with
# systemd-nspawn in a network namespace of its own, so that systemd itself starts dbus,
# firewalld, libvirtd (which autostarts the default network), sshd and systemd-sysctl, and a
# reboot is a real one. Follows "A systemd host" in shared/LAB.md.
#   lab/labsd.sh up | down | status | exec CMD... | reboot | build (the tree alone) | tree (build, leaving a running lab be)
# Each `up` boots a fresh copy of the cached tree (an overlay whose changes live in RUN and go
# at `down`; they do survive `reboot`); LABSD_PERSIST=1 boots the cached tree itself.
# Each boot, the namespace is made anew, as a real reboot gives a fresh kernel network stack:
# virbr0, the firewall and the net.* sysctls must come back by themselves. SSH: root@$NET.2
# with the key RUN/id_ed25519 and known_hosts RUN/known_hosts.
set -euo pipefail
NS=${LABSD_NS:-virtnat-labsd}
RUN=${LABSD_RUN:-/run/virtnat-labsd}
LIBVIRT=${LABSD_LIBVIRT:-9}
PERSIST=${LABSD_PERSIST:-0}
VETH=vlabsd
NET=${LABSD_NET:-10.213.4}
ADDR=$NET.2
HERE=$(cd "$(dirname "$0")" && pwd)
CPATH=/usr/sbin:/usr/bin:/sbin:/bin
# The tree's recipe: change RECIPE when anything the build puts in the tree changes, and the
# cached tree is built anew (its stamp holds RECIPE and the package list).
RECIPE=1
BASE="systemd-sysv dbus firewalld dnsmasq-base iptables nftables openssh-server iproute2 procps kmod"
SUITE=bookworm BACKEND=
case "$LIBVIRT" in
    9) ROOT=${LABSD_ROOT:-/var/cache/virtnat/bookworm-systemd}
       EXTRA_SUITES= PREFERENCES=
       PACKAGES="$BASE libvirt-daemon-system libvirt-clients" ;;
    11) ROOT=${LABSD_ROOT:-/var/cache/virtnat/bookworm-bpo-systemd}
        EXTRA_SUITES=bookworm-backports
        # libvirt's packages from backports (the network driver is a package of its own
        # there), everything else from bookworm.
        PREFERENCES=$(printf 'Package: libvirt*\nPin: release n=bookworm-backports\nPin-Priority: 990')
        PACKAGES="$BASE libvirt-daemon-system libvirt-clients libvirt-daemon-driver-network" ;;
    13) ROOT=${LABSD_ROOT:-/var/cache/virtnat/trixie-systemd}  # Debian 13 itself: libvirt 11.3, systemd 257
        SUITE=trixie EXTRA_SUITES= PREFERENCES=
        # libvirt's iptables backend: its nftables one needs tc's csum action, which this kernel lacks.
        BACKEND=iptables
        PACKAGES="$BASE libvirt-daemon-system libvirt-clients libvirt-daemon-driver-network" ;;
    *) echo "labsd: LABSD_LIBVIRT is 9 (bookworm), 11 (bookworm-backports) or 13 (trixie), not $LIBVIRT" >&2; exit 2 ;;
esac
STAMP="labsd recipe $RECIPE, libvirt $LIBVIRT: $PACKAGES${EXTRA_SUITES:+ with $EXTRA_SUITES}"
# The tree nspawn boots: an overlay on ROOT, or ROOT itself.
if [ "$PERSIST" = 1 ]; then BOOT=$ROOT; else BOOT=$RUN/root; fi
. "$HERE/common.sh"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

alive() {  # alive PID: running, and not a zombie (this machine's PID 1 reaps nothing)
    local s; s=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) && [ -n "$s" ] && [ "$s" != Z ]
}
dead() { ! alive "$1"; }

pid1() {  # the host pid of the container's PID 1 (systemd): the process of the lab's namespace that is 1 in its own
    local p; for p in $(ns_pids); do
        [ "$(awk '/^NSpid:/ {print $NF}' "/proc/$p/status" 2>/dev/null)" = 1 ] &&
            [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && { echo "$p"; return 0; }
    done
    return 1
}

in_ct() {  # a command in all the container's namespaces, with the container's own tools
    local p; p=$(pid1) || { log "labsd is not running"; return 1; }
    nsenter -t "$p" -a env -i PATH=$CPATH TERM=dumb "$@"
}

build() {  # the cached tree: debootstrap and packages (lab/build-root.sh), then systemd's setup
    [ "$(cat "$ROOT/.virtnat-labsd" 2>/dev/null)" = "$STAMP" ] && return 0
    local t0; t0=$(now)
    LAB_ROOT=$ROOT BUILD_SUITE=$SUITE BUILD_EXTRA_SUITES=$EXTRA_SUITES BUILD_APT_PREFERENCES=$PREFERENCES BUILD_PACKAGES=$PACKAGES \
        BUILD_QEMU_CONF='cgroup_controllers = [ ]' BUILD_STAMP=$STAMP "$HERE/build-root.sh" >&2
    rm -f "$ROOT/usr/sbin/policy-rc.d"  # a booted host starts what it installs
    [ -z "$BACKEND" ] || printf 'firewall_backend = "%s"\n' "$BACKEND" >"$ROOT/etc/libvirt/network.conf"
    systemctl --root="$ROOT" enable -q dbus.service libvirtd.service firewalld.service ssh.service
    # Debian defines the default network but does not autostart it: the lab's host does.
    if [ ! -e "$ROOT/etc/libvirt/qemu/networks/default.xml" ]; then
        cp "$ROOT/usr/share/libvirt/networks/default.xml" "$ROOT/etc/libvirt/qemu/networks/default.xml"
    fi
    mkdir -p "$ROOT/etc/libvirt/qemu/networks/autostart"
    ln -sfn ../default.xml "$ROOT/etc/libvirt/qemu/networks/autostart/default.xml"
    echo 'net.ipv4.ip_forward = 1' >"$ROOT/etc/sysctl.d/60-virtnat.conf"
    echo labsd >"$ROOT/etc/hostname"
    echo "$STAMP" >"$ROOT/.virtnat-labsd"
    log "labsd: tree $ROOT ready in $(since "$t0") s: $(chroot "$ROOT" dpkg-query -W -f '${Version}' libvirt-daemon-system | sed 's/^/libvirt /')"
}

net_fresh() {  # a new namespace with the lab's veth: the kernel network stack of a fresh boot
    net_del
    ip netns add "$NS"
    ip link add "$VETH-host" type veth peer name "$VETH-lab" netns "$NS"
    ip addr add "$NET.1/24" dev "$VETH-host"
    ip link set "$VETH-host" up
    ip -n "$NS" addr add "$ADDR/24" dev "$VETH-lab"
    ip -n "$NS" link set "$VETH-lab" up
    # The host's uplink and its default route, as a DHCP server would hand them over at boot: a
    # NAT host needs a route out (HOST-09). Nothing is sent: the audit only reads.
    ip -n "$NS" route add default via "$NET.1" dev "$VETH-lab"
}

net_del() {
    ip link del "$VETH-host" 2>/dev/null || true  # both ends, at once (the namespace goes in the background)
    [ -e "/run/netns/$NS" ] && ip netns del "$NS"
    return 0
}

supervise() {  # boots the container again after each `systemctl reboot` (nspawn exits 133), stops otherwise
    local rc boot=0
    while :; do
        boot=$((boot + 1))
        net_fresh
        echo "== labsd: boot $boot at $(date +%T.%N)" >>"$RUN/console.log"
        # --register=no --keep-unit: no systemd (nor machined) on this machine. With
        # --network-namespace-path (it cannot be combined with --private-network) nspawn
        # withholds CAP_NET_ADMIN from the container and mounts /proc/sys/net read-only: its
        # systemd could not set up lo, firewalld exits (quietly: the unit is only "inactive"),
        # no network starts and systemd-sysctl is skipped. The capability and the variable give
        # both back, as nspawn does itself for --private-network.
        SYSTEMD_NSPAWN_API_VFS_WRITABLE=network \
            systemd-nspawn -q -b -D "$BOOT" -M labsd --register=no --keep-unit --console=read-only \
            --network-namespace-path="/run/netns/$NS" --capability=CAP_NET_ADMIN --bind=/dev/net/tun \
            </dev/null >>"$RUN/console.log" 2>&1 &
        echo $! >"$RUN/nspawn.pid"
        rc=0; wait $! || rc=$?
        echo "== labsd: nspawn exited $rc at $(date +%T.%N)" >>"$RUN/console.log"
        [ "$rc" = 133 ] && [ ! -e "$RUN/stopping" ] || break
    done
    rm -f "$RUN/nspawn.pid"
}

booted() {  # systemd says the boot is over
    case "$(in_ct systemctl is-system-running 2>/dev/null)" in running|degraded) return 0 ;; esac
    return 1
}

ssh_ok() {
    ssh -o BatchMode=yes -o ConnectTimeout=2 -o UserKnownHostsFile="$RUN/known_hosts" -i "$RUN/id_ed25519" "root@$ADDR" true
}

wait_up() {  # wait_up T0: the boot's PID 1, then systemd's running/degraded, then sshd on ADDR
    local t0=$1 state
    wait_for 60 "the container's PID 1" pid1
    wait_for 120 "systemctl is-system-running to say running or degraded" booted || { status >&2 || true; return 1; }
    state=$(in_ct systemctl is-system-running 2>/dev/null || true)
    log "labsd: $state $(since "$t0") s after start"
    wait_for 60 "sshd on $ADDR" ssh_ok
    log "labsd: sshd answers on $ADDR $(since "$t0") s after start"
}

up() {
    down 2>/dev/null || true  # first: a rebuild must not pull the tree from under a running lab
    build
    mkdir -p "$RUN"
    if [ "$PERSIST" != 1 ]; then
        mkdir -p "$RUN/upper" "$RUN/work" "$BOOT"
        mount -t overlay overlay -o "lowerdir=$ROOT,upperdir=$RUN/upper,workdir=$RUN/work" "$BOOT"
    fi
    # The lab's own client key, in root's authorized_keys; the tree's host key in known_hosts.
    ssh-keygen -q -t ed25519 -N '' -C virtnat-labsd -f "$RUN/id_ed25519"
    # The host's provisioning (as provision/provision.sh does it): forwarding persisted, IPv6 too.
    printf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n' >"$BOOT/etc/sysctl.d/60-virtnat.conf"
    install -d -m 700 "$BOOT/root/.ssh"
    install -m 600 "$RUN/id_ed25519.pub" "$BOOT/root/.ssh/authorized_keys"
    echo "$ADDR $(cut -d' ' -f1,2 "$ROOT/etc/ssh/ssh_host_ed25519_key.pub")" >"$RUN/known_hosts"
    local t0; t0=$(now)
    setsid "$HERE/labsd.sh" _supervise </dev/null >>"$RUN/supervisor.log" 2>&1 &
    echo $! >"$RUN/supervisor.pid"
    wait_up "$t0"
    log "labsd up: libvirt $(in_ct libvirtd --version | awk '{print $NF}') under systemd in $BOOT; ssh root@$ADDR key $RUN/id_ed25519 known_hosts $RUN/known_hosts; console $RUN/console.log"
}

reboot() {
    local old t0; old=$(pid1) || { log "labsd is not running"; return 1; }
    t0=$(now)
    in_ct systemctl reboot || true  # its connection may go down with the container
    wait_for 60 "the boot to end" dead "$old"
    wait_up "$t0"
}

down() {
    local sup nsp p; sup=$(cat "$RUN/supervisor.pid" 2>/dev/null) || sup=
    nsp=$(cat "$RUN/nspawn.pid" 2>/dev/null) || nsp=
    if [ -n "$sup" ] && alive "$sup"; then
        touch "$RUN/stopping"  # no boot after this one
        # nspawn asks the container's systemd for an orderly poweroff (SIGRTMIN+3 to its PID 1).
        if [ -n "$nsp" ]; then kill -TERM "$nsp" 2>/dev/null || true; fi
        wait_for 30 "the container to power off" dead "$sup" || true
    fi
    for p in $sup $nsp; do
        if alive "$p"; then log "labsd: no orderly poweroff, killing $p"; kill -9 "$p" 2>/dev/null || true; fi
    done
    p=$(ns_pids)  # whatever is left in the namespace belongs to the lab
    if [ -n "$p" ]; then kill -9 $p 2>/dev/null || true; sleep 0.3; fi
    if grep -q " $RUN/root " /proc/mounts; then umount "$RUN/root" 2>/dev/null || umount -l "$RUN/root"; fi
    net_del
    rm -rf "$RUN"
    # nspawn's own (empty) directories on the machine's /run
    rmdir /run/systemd/nspawn/propagate /run/systemd/nspawn/locks /run/systemd/nspawn 2>/dev/null || true
    log "labsd down"
}

status() {
    local p; p=$(pid1) || { echo "labsd: down"; return 1; }
    echo "labsd: up, PID 1 is $p, tree $BOOT ($(grep -c '^== labsd: boot' "$RUN/console.log" 2>/dev/null || echo ?) boots)"
    echo "is-system-running: $(in_ct systemctl is-system-running 2>/dev/null || true)"
    in_ct virsh -r net-list --all
    in_ct ip -br link
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    exec) shift; in_ct "$@" ;;
    reboot) reboot ;;
    build) down 2>/dev/null || true; build ;;
    tree) build ;;  # a tree that no lab can be running on (missing, or another LABSD_ROOT): no `down` first
    _supervise) supervise ;;
    *) echo "usage: $0 up|down|status|exec CMD...|reboot|build|tree" >&2; exit 2 ;;
esac
