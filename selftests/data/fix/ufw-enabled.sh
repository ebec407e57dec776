#!/bin/sh
# virtnat fix for host labhost, from latest.json (audited 2026-11-28T10:00:00+00:00)
# virtnat changes nothing: review this, then run it as root on that host. Each step runs only while
# its check still fails, so running it again changes nothing.
set -eu

fail() {
    printf 'virtnat fix: step %s (%s) failed: the steps after it did not run\n' "$1" "$2" >&2
    exit 1
}

# Step 1 answers PATH-01 (high): a guest's DHCP request (udp 67): dropped by iptables-nft table filter chain ufw-skip-to-policy-input: rule 1 (-A ufw-skip-to-policy-input -j DROP) (ufw)
if ! ufw show added 2>/dev/null | grep -qxF -- 'ufw allow in on virbr0 to any port 67 proto udp'; then
    { ufw allow in on virbr0 to any port 67 proto udp
    } || fail 1 PATH-01
fi

# Step 2 answers PATH-02 (high): a guest's DNS question (udp 53), a guest's DNS question (tcp 53): dropped by iptables-nft table filter chain INPUT: policy drop (ufw, whose chains are in this table)
if { ! ufw show added 2>/dev/null | grep -qxF -- 'ufw allow in on virbr0 to any port 53 proto udp'; } || { ! ufw show added 2>/dev/null | grep -qxF -- 'ufw allow in on virbr0 to any port 53 proto tcp'; }; then
    { if ! ufw show added 2>/dev/null | grep -qxF -- 'ufw allow in on virbr0 to any port 53 proto udp'; then ufw allow in on virbr0 to any port 53 proto udp; fi && if ! ufw show added 2>/dev/null | grep -qxF -- 'ufw allow in on virbr0 to any port 53 proto tcp'; then ufw allow in on virbr0 to any port 53 proto tcp; fi
    } || fail 2 PATH-02
fi

# Step 3 answers PATH-03 (high): guest traffic to the outside (tcp 443), guest traffic to the outside (udp 53): dropped by iptables-nft table filter chain FORWARD: policy drop (ufw, whose chains are in this table)
if ! ufw show added 2>/dev/null | grep -qxF -- 'ufw route allow in on virbr0 out on uplink0'; then
    { ufw route allow in on virbr0 out on uplink0
    } || fail 3 PATH-03
fi

# Step 4 answers PATH-05 (high): with net.bridge.bridge-nf-call-iptables = 1 (br_netfilter): a guest's packet to another guest (tcp 22): dropped by iptables-nft table filter chain FORWARD: policy drop (ufw, whose chains are in this table)
if ! ufw show added 2>/dev/null | grep -qxF -- 'ufw route allow in on virbr0 out on virbr0'; then
    { ufw route allow in on virbr0 out on virbr0
    } || fail 4 PATH-05
fi

# Then audit the host again and compare (--hosts as the audit reached it):
#     virtnat audit --hosts=ssh://labhost --audit-json=after.json && virtnat diff latest.json after.json
printf '%s\n' 'virtnat fix: done; audit labhost again: virtnat audit --hosts=ssh://labhost --audit-json=after.json && virtnat diff latest.json after.json'
exit 0
