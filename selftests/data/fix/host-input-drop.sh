#!/bin/sh
# virtnat fix for host hv1, from reports/hv1.json (audited 2026-11-28T10:00:00+00:00)
# virtnat changes nothing: review this, then run it as root on that host. Each step runs only while
# its check still fails, so running it again changes nothing.
set -eu

fail() {
    printf 'virtnat fix: step %s (%s) failed: the steps after it did not run\n' "$1" "$2" >&2
    exit 1
}

# Step 1 answers HOST-11 (high): libvirtd.service is not ordered after firewalld.service: at boot the network may start before firewalld and lose its firewall rules
if ! systemctl show -p After --value libvirtd.service virtnetworkd.service 2>/dev/null | grep -q firewalld.service; then
    { mkdir -p /etc/systemd/system/libvirtd.service.d && printf '[Unit]\nAfter=firewalld.service\n' > /etc/systemd/system/libvirtd.service.d/10-after-firewalld.conf && systemctl daemon-reload
    } || fail 1 HOST-11
fi

# Step 2 answers HOST-05 (high): net.ipv4.ip_forward is '0', expected '1'
#                PATH-03 (high): guest traffic to the outside (icmp), guest traffic to the outside (tcp 443), guest traffic to the outside (udp 53), replies to guests (icmp), replies to guests (tcp 443), replies to guests (udp 53): the kernel forwards nothing: net.ipv4.ip_forward is '0' (HOST-05)
if [ "$(sysctl -n net.ipv4.ip_forward 2>/dev/null)" != 1 ]; then
    { sysctl -w net.ipv4.ip_forward=1
    } || fail 2 'HOST-05 PATH-03'
fi

# Step 3 answers NET-03 (high): network 'default': autostart is off, expected on: after a reboot it stays inactive (no virbr0, no dnsmasq, no NAT rules) until virsh net-start default
if ! virsh net-info default 2>/dev/null | grep -Eq '^Autostart:[[:space:]]+yes'; then
    { virsh net-autostart default
    } || fail 3 NET-03
fi

# Step 4 answers PATH-01 (high): a guest's DHCP request (udp 67): dropped by table inet filter chain input: policy drop (a host nftables table, like Debian's /etc/nftables.conf)
if ! nft list chain inet filter input 2>/dev/null | tr -d '" \t{}' | grep -qF -- iifnamevirbr0udpdport67accept; then
    { nft insert rule inet filter input iifname "virbr0" udp dport 67 accept
    } || fail 4 PATH-01
fi

# Step 5 answers PATH-02 (high): a guest's DNS question (udp 53), a guest's DNS question (tcp 53): dropped by table inet filter chain input: policy drop (a host nftables table, like Debian's /etc/nftables.conf)
if { ! nft list chain inet filter input 2>/dev/null | tr -d '" \t{}' | grep -qF -- iifnamevirbr0udpdport53accept; } || { ! nft list chain inet filter input 2>/dev/null | tr -d '" \t{}' | grep -qF -- iifnamevirbr0tcpdport53accept; }; then
    { if ! nft list chain inet filter input 2>/dev/null | tr -d '" \t{}' | grep -qF -- iifnamevirbr0udpdport53accept; then nft insert rule inet filter input iifname "virbr0" udp dport 53 accept; fi && if ! nft list chain inet filter input 2>/dev/null | tr -d '" \t{}' | grep -qF -- iifnamevirbr0tcpdport53accept; then nft insert rule inet filter input iifname "virbr0" tcp dport 53 accept; fi
    } || fail 5 PATH-02
fi

# Then audit the host again and compare (--hosts as the audit reached it):
#     virtnat audit --hosts=ssh://hv1 --audit-json=after.json && virtnat diff reports/hv1.json after.json
printf '%s\n' 'virtnat fix: done; audit hv1 again: virtnat audit --hosts=ssh://hv1 --audit-json=after.json && virtnat diff reports/hv1.json after.json'
exit 0
