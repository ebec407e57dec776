#!/bin/sh
# The document's setup of libvirt's NAT network, as one idempotent script.
# Run it on the hypervisor (as root) once libvirtd and firewalld are running.
#   NETWORK  libvirt network name      (default: default)
#   SYSCTL_CONF  file the forwarding lines are persisted in (default: /etc/sysctl.conf where
#                the boot reads it, as the document says; else a sysctl.d drop-in: Debian 13's
#                systemd-sysctl no longer reads /etc/sysctl.conf)
set -eu
NETWORK=${NETWORK:-default}
sysctl_conf_read_at_boot() {
    [ -x /usr/lib/systemd/systemd-sysctl ] || [ -x /lib/systemd/systemd-sysctl ] || return 0
    for f in /etc/sysctl.d/*.conf; do
        [ "$(readlink -f "$f")" = /etc/sysctl.conf ] && return 0
    done
    return 1
}
if [ -z "${SYSCTL_CONF:-}" ]; then
    if sysctl_conf_read_at_boot; then SYSCTL_CONF=/etc/sysctl.conf; else SYSCTL_CONF=/etc/sysctl.d/99-forwarding.conf; fi
fi
TEMPLATE=/usr/share/libvirt/networks/default.xml

say() { echo "provision: $*"; }

# firewalld enabled at boot (a no-op where it already is; works without systemd running).
if command -v systemctl >/dev/null 2>&1; then
    systemctl enable firewalld >/dev/null 2>&1 || say "could not enable firewalld at boot"
fi

# The network: defined (from libvirt's template if missing), active, autostarted.
if ! virsh net-info "$NETWORK" >/dev/null 2>&1; then
    [ "$NETWORK" = default ] || { say "network $NETWORK is not defined"; exit 1; }
    virsh net-define "$TEMPLATE"
fi
if virsh net-info "$NETWORK" | grep -Eq '^Active:[[:space:]]+no'; then
    virsh net-start "$NETWORK"
fi
if virsh net-info "$NETWORK" | grep -Eq '^Autostart:[[:space:]]+no'; then
    virsh net-autostart "$NETWORK"
fi

# Forwarding on now and after reboot: the document's three sysctl.conf lines.
for line in net.ipv4.ip_forward=1 net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1; do
    key=${line%%=*}
    grep -Eq "^[[:space:]]*${key}[[:space:]]*=[[:space:]]*1[[:space:]]*$" "$SYSCTL_CONF" 2>/dev/null \
        || echo "$line" >>"$SYSCTL_CONF"
done
sysctl -q -p "$SYSCTL_CONF" >/dev/null
say "network $NETWORK active and autostarted, forwarding on and persisted in $SYSCTL_CONF"
