# Shared by the labs: logging, waiting, and finding a namespace's processes.
# Needs NS set by the caller.
log() { echo "lab: $*" >&2; }

wait_for() {  # wait_for SECONDS DESCRIPTION CMD...
    local t=$1 what=$2; shift 2
    for _ in $(seq $((t * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    log "timed out after ${t}s waiting for $what"; return 1
}

ns_pids() {  # every process whose network namespace is the lab's
    [ -e "/run/netns/$NS" ] || return 0
    local ino; ino=$(stat -L -c %i "/run/netns/$NS")
    for p in /proc/[0-9]*; do
        [ "$(stat -L -c %i "$p/ns/net" 2>/dev/null)" = "$ino" ] && echo "${p#/proc/}"
    done
    return 0
}

ns_pid_of() {  # the pid of the lab's own process named $1 (other labs may run one too)
    local p; for p in $(ns_pids); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = "$1" ] && grep -q . "/proc/$p/cmdline" 2>/dev/null && { echo "$p"; return 0; }
    done
    return 1
}

# The second guest on the bridge (the same image, booted as virtnat.role=peer): the first one
# pings it every round (peer=ok|fail), the truth of guests reaching each other (PATH-05). The
# network reserves its address, the second of the DHCP range, for its MAC.
PEER_GUEST=${LAB_PEER:-virtnat-peer}
PEER_MAC=52:54:00:76:6e:03
PEER_ADDR=192.168.122.3
# dnsmasq's leases of the network, kept across lab runs: a lease of an earlier run's guest to
# PEER_ADDR outlives the guest and keeps the reservation from applying until it expires.
STALE_LEASES=/var/lib/libvirt/dnsmasq/virbr0.status

guest_xml() {  # guest_xml KERNEL INITRD CONSOLE_LOG OUTSIDE ASK_SOCKET [PEER]: the real tiny guest (lab/guest/)
    # Direct kernel boot of an uncompressed vmlinux (PVH), no disk, no option ROM, TCG; its tap
    # joins virbr0. Its /init reports DHCP, DNS and NAT rounds on ttyS0, logged to CONSOLE_LOG,
    # and runs one more round per line written to ASK_SOCKET (its ttyS1; see guest_ask).
    cat <<XML
<domain type='qemu'>
  <name>$GUEST</name><memory unit='MiB'>96</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$1</kernel><initrd>$2</initrd>
    <cmdline>console=ttyS0 quiet virtnat.outside=$4${6:+ virtnat.peer=$6}</cmdline></os>
  <devices>
    <interface type='network'><source network='default'/><model type='virtio'/>
      <rom enabled='no'/></interface>
    <serial type='file'><source path='$3'/><target port='0'/></serial>
    <serial type='unix'><source mode='bind' path='$5'/><target port='1'/></serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

peer_xml() {  # peer_xml KERNEL INITRD CONSOLE_LOG: the second guest, which takes a lease and answers pings
    cat <<XML
<domain type='qemu'>
  <name>$PEER_GUEST</name><memory unit='MiB'>96</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$1</kernel><initrd>$2</initrd>
    <cmdline>console=ttyS0 quiet virtnat.role=peer</cmdline></os>
  <devices>
    <interface type='network'><mac address='$PEER_MAC'/><source network='default'/><model type='virtio'/>
      <rom enabled='no'/></interface>
    <serial type='file'><source path='$3'/><target port='0'/></serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

reserve_peer() {  # reserve_peer VIRSH...: the peer's address for its MAC, in the running and the persistent network
    # Read whole first: under pipefail, grep -q's early exit made virsh's SIGPIPE fail the test at random.
    case "$("$@" net-dumpxml default)" in *"$PEER_MAC"*) return 0 ;; esac
    "$@" net-update default add ip-dhcp-host "<host mac='$PEER_MAC' ip='$PEER_ADDR'/>" --live --config >/dev/null
}

wait_for_peer() {  # wait_for_peer CONSOLE_LOG STARTED: the first guest's round that reached the peer
    local t0=${2:-$SECONDS}
    wait_for 60 "the first guest to reach the peer ($PEER_ADDR)" grep -Eq 'VIRTNAT-GUEST result .* peer=ok' "$1" || return 1
    log "guests reach each other $((SECONDS - t0)) s after their start"
}

uplink_up() {  # uplink_up WAN_NS PREFIX: the lab's "outside", a namespace of its own (PREFIX.1)
    # joined to the lab by a veth (uplink0, PREFIX.2) and the lab's default route. WAN_NS
    # forwards nothing and has no route back to the guests: a guest reaches PREFIX.1 only
    # through the lab's masquerade. Every address beyond the uplink is WAN_NS itself (a local
    # default route): what the lab sends "to the internet" (dnsmasq's upstream queries, a
    # resolver's lookups) ends there and is refused at once instead of timing out.
    # Everything is made inside the two namespaces, nothing in the root one.
    ip netns add "$1"
    ip -n "$1" link set lo up
    ip -n "$1" route add local default dev lo
    ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=0
    ip -n "$NS" link add uplink0 type veth peer name wan0 netns "$1"
    ip -n "$1" addr add "$2.1/24" dev wan0
    ip -n "$1" link set wan0 up
    ip -n "$NS" addr add "$2.2/24" dev uplink0
    ip -n "$NS" link set uplink0 up
    ip -n "$NS" route add default via "$2.1"
}

guest_ask() {  # guest_ask ASK_SOCKET: ask the guest for one more round (no-op if it is not running)
    python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.send(b"\n")' "$1" 2>/dev/null || true
}

wait_for_guest() {  # wait_for_guest CONSOLE_LOG STARTED: the guest's first round with DHCP, DNS and NAT ok
    local t0=${2:-$SECONDS}
    if ! wait_for 60 "the guest's DHCP, DNS and NAT round" \
        grep -Eq 'VIRTNAT-GUEST result seq=[0-9]+ dhcp=ok dns=ok dnstcp=[a-z]+ out=ok' "$1"; then
        log "ERROR: the guest got no lease, DNS answer and NAT path within 60 s; its console ($1):"
        tail -5 "$1" >&2 2>/dev/null || log "(no console log)"
        return 1
    fi
    log "guest: DHCP, DNS and NAT ok $((SECONDS - t0)) s after its start: $(grep -m1 -E 'result .*dhcp=ok dns=ok dnstcp=[a-z]+ out=ok' "$1")"
}
