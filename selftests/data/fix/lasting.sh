#!/bin/sh
# virtnat fix for host nft-host, from latest.json (audited 2026-11-28T10:00:00+00:00)
# virtnat changes nothing: review this, then run it as root on that host. Each step runs only while
# its check still fails, so running it again changes nothing.
set -eu

fail() {
    printf 'virtnat fix: step %s (%s) failed: the steps after it did not run\n' "$1" "$2" >&2
    exit 1
}

# Step 1 answers PATH-01 (high): a guest's DHCP request (udp 67): dropped by table inet filter chain input: policy drop (a host nftables table, like Debian's /etc/nftables.conf)
if { ! nft list chain inet filter input 2>/dev/null | tr -d '" \t{}' | grep -qF -- iifnamevirbr0udpdport67accept; } || { ! grep -qxF -- 'insert rule inet filter input iifname "virbr0" udp dport 67 accept' /etc/nftables.conf 2>/dev/null; }; then
    { if ! nft list chain inet filter input 2>/dev/null | tr -d '" \t{}' | grep -qF -- iifnamevirbr0udpdport67accept; then nft insert rule inet filter input iifname "virbr0" udp dport 67 accept; fi && if ! grep -qxF -- 'insert rule inet filter input iifname "virbr0" udp dport 67 accept' /etc/nftables.conf 2>/dev/null; then printf '\n%s\n' 'insert rule inet filter input iifname "virbr0" udp dport 67 accept' >> /etc/nftables.conf; fi
    } || fail 1 PATH-01
fi

# Step 2 answers PATH-02 (high): a guest's DNS question (udp 53), a guest's DNS question (tcp 53): dropped by table inet filter chain input: policy drop (a host nftables table, like Debian's /etc/nftables.conf)
if { ! nft list chain inet filter input 2>/dev/null | tr -d '" \t{}' | grep -qF -- iifnamevirbr0udpdport53accept; } || { ! grep -qxF -- 'insert rule inet filter input iifname "virbr0" udp dport 53 accept' /etc/nftables.conf 2>/dev/null; } || { ! nft list chain inet filter input 2>/dev/null | tr -d '" \t{}' | grep -qF -- iifnamevirbr0tcpdport53accept; } || { ! grep -qxF -- 'insert rule inet filter input iifname "virbr0" tcp dport 53 accept' /etc/nftables.conf 2>/dev/null; }; then
    { if ! nft list chain inet filter input 2>/dev/null | tr -d '" \t{}' | grep -qF -- iifnamevirbr0udpdport53accept; then nft insert rule inet filter input iifname "virbr0" udp dport 53 accept; fi && if ! grep -qxF -- 'insert rule inet filter input iifname "virbr0" udp dport 53 accept' /etc/nftables.conf 2>/dev/null; then printf '\n%s\n' 'insert rule inet filter input iifname "virbr0" udp dport 53 accept' >> /etc/nftables.conf; fi && if ! nft list chain inet filter input 2>/dev/null | tr -d '" \t{}' | grep -qF -- iifnamevirbr0tcpdport53accept; then nft insert rule inet filter input iifname "virbr0" tcp dport 53 accept; fi && if ! grep -qxF -- 'insert rule inet filter input iifname "virbr0" tcp dport 53 accept' /etc/nftables.conf 2>/dev/null; then printf '\n%s\n' 'insert rule inet filter input iifname "virbr0" tcp dport 53 accept' >> /etc/nftables.conf; fi
    } || fail 2 PATH-02
fi

# Then audit the host again and compare (--hosts as the audit reached it):
#     virtnat audit --hosts=ssh://nft-host --audit-json=after.json && virtnat diff latest.json after.json
printf '%s\n' 'virtnat fix: done; audit nft-host again: virtnat audit --hosts=ssh://nft-host --audit-json=after.json && virtnat diff latest.json after.json'
exit 0

#!/bin/sh
# virtnat fix for host docker-host, from latest.json (audited 2026-11-28T10:00:00+00:00)
# virtnat changes nothing: review this, then run it as root on that host. Each step runs only while
# its check still fails, so running it again changes nothing.
set -eu

fail() {
    printf 'virtnat fix: step %s (%s) failed: the steps after it did not run\n' "$1" "$2" >&2
    exit 1
}

# Step 1 answers PATH-03 (high): guest traffic to the outside (icmp), guest traffic to the outside (tcp 443), guest traffic to the outside (udp 53), replies to guests (icmp), replies to guests (tcp 443), replies to guests (udp 53): dropped by iptables-nft table filter chain FORWARD: policy drop (Docker, whose chains are in this table)
if { ! iptables -C DOCKER-USER -i virbr0 -j ACCEPT 2>/dev/null; } || { [ "$(printf '%s\n' '[Unit]' 'Description=virtnat: libvirt guests in DOCKER-USER' After=docker.service PartOf=docker.service '[Service]' Type=oneshot RemainAfterExit=yes 'ExecStart=-iptables -D DOCKER-USER -i virbr0 -j ACCEPT' 'ExecStart=iptables -I DOCKER-USER -i virbr0 -j ACCEPT' '[Install]' WantedBy=docker.service)" != "$(cat /etc/systemd/system/virtnat-docker-user-0f76b9cf99.service 2>/dev/null)" ]; } || { ! systemctl is-enabled --quiet virtnat-docker-user-0f76b9cf99.service; } || { ! iptables -C DOCKER-USER -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT 2>/dev/null; } || { [ "$(printf '%s\n' '[Unit]' 'Description=virtnat: libvirt guests in DOCKER-USER' After=docker.service PartOf=docker.service '[Service]' Type=oneshot RemainAfterExit=yes 'ExecStart=-iptables -D DOCKER-USER -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT' 'ExecStart=iptables -I DOCKER-USER -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT' '[Install]' WantedBy=docker.service)" != "$(cat /etc/systemd/system/virtnat-docker-user-50467e6c21.service 2>/dev/null)" ]; } || { ! systemctl is-enabled --quiet virtnat-docker-user-50467e6c21.service; }; then
    { if ! iptables -C DOCKER-USER -i virbr0 -j ACCEPT 2>/dev/null; then iptables -I DOCKER-USER -i virbr0 -j ACCEPT; fi && if [ "$(printf '%s\n' '[Unit]' 'Description=virtnat: libvirt guests in DOCKER-USER' After=docker.service PartOf=docker.service '[Service]' Type=oneshot RemainAfterExit=yes 'ExecStart=-iptables -D DOCKER-USER -i virbr0 -j ACCEPT' 'ExecStart=iptables -I DOCKER-USER -i virbr0 -j ACCEPT' '[Install]' WantedBy=docker.service)" != "$(cat /etc/systemd/system/virtnat-docker-user-0f76b9cf99.service 2>/dev/null)" ]; then printf '%s\n' '[Unit]' 'Description=virtnat: libvirt guests in DOCKER-USER' After=docker.service PartOf=docker.service '[Service]' Type=oneshot RemainAfterExit=yes 'ExecStart=-iptables -D DOCKER-USER -i virbr0 -j ACCEPT' 'ExecStart=iptables -I DOCKER-USER -i virbr0 -j ACCEPT' '[Install]' WantedBy=docker.service > /etc/systemd/system/virtnat-docker-user-0f76b9cf99.service; fi && if ! systemctl is-enabled --quiet virtnat-docker-user-0f76b9cf99.service; then systemctl enable virtnat-docker-user-0f76b9cf99.service; fi && if ! iptables -C DOCKER-USER -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT 2>/dev/null; then iptables -I DOCKER-USER -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT; fi && if [ "$(printf '%s\n' '[Unit]' 'Description=virtnat: libvirt guests in DOCKER-USER' After=docker.service PartOf=docker.service '[Service]' Type=oneshot RemainAfterExit=yes 'ExecStart=-iptables -D DOCKER-USER -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT' 'ExecStart=iptables -I DOCKER-USER -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT' '[Install]' WantedBy=docker.service)" != "$(cat /etc/systemd/system/virtnat-docker-user-50467e6c21.service 2>/dev/null)" ]; then printf '%s\n' '[Unit]' 'Description=virtnat: libvirt guests in DOCKER-USER' After=docker.service PartOf=docker.service '[Service]' Type=oneshot RemainAfterExit=yes 'ExecStart=-iptables -D DOCKER-USER -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT' 'ExecStart=iptables -I DOCKER-USER -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT' '[Install]' WantedBy=docker.service > /etc/systemd/system/virtnat-docker-user-50467e6c21.service; fi && if ! systemctl is-enabled --quiet virtnat-docker-user-50467e6c21.service; then systemctl enable virtnat-docker-user-50467e6c21.service; fi
    } || fail 1 PATH-03
fi

# Step 2 answers PATH-05 (high): with net.bridge.bridge-nf-call-iptables = 1 (br_netfilter): a guest's packet to another guest (icmp), the other guest's reply (icmp), a guest's packet to another guest (tcp 22), the other guest's reply (tcp 22): dropped by iptables-nft table filter chain FORWARD: policy drop (Docker, whose chains are in this table)
if { ! iptables -C DOCKER-USER -i virbr0 -o virbr0 -j ACCEPT 2>/dev/null; } || { [ "$(printf '%s\n' '[Unit]' 'Description=virtnat: libvirt guests in DOCKER-USER' After=docker.service PartOf=docker.service '[Service]' Type=oneshot RemainAfterExit=yes 'ExecStart=-iptables -D DOCKER-USER -i virbr0 -o virbr0 -j ACCEPT' 'ExecStart=iptables -I DOCKER-USER -i virbr0 -o virbr0 -j ACCEPT' '[Install]' WantedBy=docker.service)" != "$(cat /etc/systemd/system/virtnat-docker-user-7da9dcb014.service 2>/dev/null)" ]; } || { ! systemctl is-enabled --quiet virtnat-docker-user-7da9dcb014.service; }; then
    { if ! iptables -C DOCKER-USER -i virbr0 -o virbr0 -j ACCEPT 2>/dev/null; then iptables -I DOCKER-USER -i virbr0 -o virbr0 -j ACCEPT; fi && if [ "$(printf '%s\n' '[Unit]' 'Description=virtnat: libvirt guests in DOCKER-USER' After=docker.service PartOf=docker.service '[Service]' Type=oneshot RemainAfterExit=yes 'ExecStart=-iptables -D DOCKER-USER -i virbr0 -o virbr0 -j ACCEPT' 'ExecStart=iptables -I DOCKER-USER -i virbr0 -o virbr0 -j ACCEPT' '[Install]' WantedBy=docker.service)" != "$(cat /etc/systemd/system/virtnat-docker-user-7da9dcb014.service 2>/dev/null)" ]; then printf '%s\n' '[Unit]' 'Description=virtnat: libvirt guests in DOCKER-USER' After=docker.service PartOf=docker.service '[Service]' Type=oneshot RemainAfterExit=yes 'ExecStart=-iptables -D DOCKER-USER -i virbr0 -o virbr0 -j ACCEPT' 'ExecStart=iptables -I DOCKER-USER -i virbr0 -o virbr0 -j ACCEPT' '[Install]' WantedBy=docker.service > /etc/systemd/system/virtnat-docker-user-7da9dcb014.service; fi && if ! systemctl is-enabled --quiet virtnat-docker-user-7da9dcb014.service; then systemctl enable virtnat-docker-user-7da9dcb014.service; fi
    } || fail 2 PATH-05
fi

# Then audit the host again and compare (--hosts as the audit reached it):
#     virtnat audit --hosts=ssh://docker-host --audit-json=after.json && virtnat diff latest.json after.json
printf '%s\n' 'virtnat fix: done; audit docker-host again: virtnat audit --hosts=ssh://docker-host --audit-json=after.json && virtnat diff latest.json after.json'
exit 0

#!/bin/sh
# virtnat fix for host iptables-host, from latest.json (audited 2026-11-28T10:00:00+00:00)
# virtnat changes nothing: review this, then run it as root on that host. Each step runs only while
# its check still fails, so running it again changes nothing.
set -eu

fail() {
    printf 'virtnat fix: step %s (%s) failed: the steps after it did not run\n' "$1" "$2" >&2
    exit 1
}

# Step 1 answers PATH-03 (high): guest traffic to the outside (icmp), guest traffic to the outside (tcp 443), guest traffic to the outside (udp 53): dropped by iptables-nft table filter chain FORWARD: rule 1 (-A FORWARD -i virbr0 -j DROP) (a host iptables-nft rule)
if { ! iptables -C FORWARD -i virbr0 -j ACCEPT 2>/dev/null; } || { ! grep -qxF -- '-I FORWARD -i virbr0 -j ACCEPT' /etc/iptables/rules.v4 2>/dev/null; }; then
    { if ! iptables -C FORWARD -i virbr0 -j ACCEPT 2>/dev/null; then iptables -I FORWARD -i virbr0 -j ACCEPT; fi && if ! grep -qxF -- '-I FORWARD -i virbr0 -j ACCEPT' /etc/iptables/rules.v4 2>/dev/null; then sed -i -e '/^\*filter[[:space:]]*$/,/^COMMIT[[:space:]]*$/{/^COMMIT/i -I FORWARD -i virbr0 -j ACCEPT' -e '}' /etc/iptables/rules.v4; fi
    } || fail 1 PATH-03
fi

# Then audit the host again and compare (--hosts as the audit reached it):
#     virtnat audit --hosts=ssh://iptables-host --audit-json=after.json && virtnat diff latest.json after.json
printf '%s\n' 'virtnat fix: done; audit iptables-host again: virtnat audit --hosts=ssh://iptables-host --audit-json=after.json && virtnat diff latest.json after.json'
exit 0
