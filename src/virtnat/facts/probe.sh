# virtnat's read-only probe: one shell run collects every command/file fact of a host.
# Each section is framed by "@@virtnat:begin NAME" and "@@virtnat:end NAME rc=N".
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
LC_ALL=C
export PATH LC_ALL
section() { name=$1; shift; echo "@@virtnat:begin $name"; "$@" 2>&1; echo "@@virtnat:end $name rc=$?"; }

runtime() {
    for k in net/ipv4/ip_forward net/ipv4/conf/all/forwarding net/ipv6/conf/all/forwarding; do
        printf '%s=%s\n' "$k" "$(cat /proc/sys/$k 2>/dev/null)"
    done
}
sysctl_files() {
    for f in /etc/sysctl.d/*.conf /run/sysctl.d/*.conf /usr/local/lib/sysctl.d/*.conf \
             /usr/lib/sysctl.d/*.conf /lib/sysctl.d/*.conf /etc/sysctl.conf; do
        [ -f "$f" ] || continue
        echo "@@file $f $(readlink -f "$f")"
        cat "$f"
        echo
    done
}
processes() {
    echo "self $(readlink /proc/$$/ns/net)"
    grep -sHxE 'firewalld|libvirtd|virtqemud|virtnetworkd|dnsmasq' /proc/[0-9]*/comm | while IFS=: read -r path comm; do
        d=${path%/comm}
        echo "${d#/proc/} $(readlink $d/ns/net) $comm $(tr '\0' ' ' <$d/cmdline)"
    done
}
binaries() {
    for b in dnsmasq iptables nft firewalld firewall-cmd libvirtd virtqemud virtnetworkd systemctl; do
        echo "$b $(command -v $b)"
    done
    for d in /usr/lib/systemd /lib/systemd; do
        [ -x "$d/systemd-sysctl" ] && { echo "systemd-sysctl $d/systemd-sysctl"; break; }
    done
    for d in /usr/lib64/libvirt/connection-driver /usr/lib/libvirt/connection-driver /usr/lib/*/libvirt/connection-driver; do
        [ -e "$d/libvirt_driver_network.so" ] && echo "network-driver $d/libvirt_driver_network.so"
    done
    return 0
}

# Remote hosts only (pyroute2 and libvirt-python serve the local one): links and libvirt's
# view, read-only, in the same single command.
T=""; command -v timeout >/dev/null 2>&1 && T="timeout 30"
virsh_all() {
    V="$T virsh -r -c $VIRTNAT_VIRSH"
    # `virsh version` probes the hypervisor (seconds); the daemon's own --version does not.
    section libvirt-version sh -c 'libvirtd --version || virtqemud --version || virtnetworkd --version'
    # Two virsh runs in all: one lists the names, one reads every definition (virsh takes
    # ';'-separated commands, and its `echo` frames each section).
    names=$($V 'net-list --all --name; echo @@virtnat:domains; list --name' 2>&1); rc=$?
    nets=$(printf '%s\n' "$names" | sed '/^@@virtnat:domains$/,$d')
    doms=$(printf '%s\n' "$names" | sed '1,/^@@virtnat:domains$/d')
    printf '@@virtnat:begin virsh-networks\n%s\n@@virtnat:end virsh-networks rc=%s\n' "$nets" "$rc"
    [ "$rc" = 0 ] || return 0
    printf '@@virtnat:begin virsh-domains\n%s\n@@virtnat:end virsh-domains rc=0\n' "$doms"
    batch=""
    for n in $nets; do
        batch="$batch echo @@virtnat:begin net-info:$n; net-info '$n'; echo @@virtnat:end net-info:$n rc=0;"
        batch="$batch echo @@virtnat:begin net-xml:$n; net-dumpxml '$n'; echo @@virtnat:end net-xml:$n rc=0;"
    done
    for d in $doms; do
        batch="$batch echo @@virtnat:begin dom-xml:$d; dumpxml '$d'; echo @@virtnat:end dom-xml:$d rc=0;"
    done
    [ -z "$batch" ] || $V "$batch"
}
if [ -n "${VIRTNAT_IP:-}" ]; then
    section ip-link ip -j -d link show
    section ip-addr ip -j addr show
fi
[ -n "${VIRTNAT_VIRSH:-}" ] && virsh_all

section runtime runtime
section sysctl-files sysctl_files
section processes processes
section binaries binaries
section firewalld-enabled systemctl is-enabled firewalld.service
section iptables-save iptables-save
section nft nft -j list ruleset
# The packet path: iptables-legacy's own tables (both netfilters run), routes, listening sockets.
legacy_save() { command -v iptables-legacy-save >/dev/null 2>&1 || { echo "iptables-legacy-save: not found"; return 127; }; iptables-legacy-save; }
section iptables-legacy-save legacy_save
section routes ip -j -4 route show table all
section route-rules ip -j -4 rule show
section sockets ss -l -n -p -t -u
