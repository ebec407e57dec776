#!/bin/sh
# Records what `nft -j list ruleset` prints for the table libvirt 10+ installs with
# firewall_backend = "nftables" (rules as in libvirt's tests/networkxml2firewalldata), built
# in a throwaway network namespace with its own virbr0. Writes ruleset.json and empty.json
# (the LAB.md silent failure: the table and chains exist, the rules are gone).
set -eu
NS=virtnat-nftrec
HERE=$(cd "$(dirname "$0")" && pwd)
ip netns add $NS
trap 'ip netns del $NS' EXIT
in_ns() { ip netns exec $NS "$@"; }
in_ns ip link add virbr0 type bridge
in_ns nft -f - <<'NFT'
table ip libvirt_network {
  chain forward { type filter hook forward priority 0; policy accept;
    counter jump guest_cross
    counter jump guest_input
    counter jump guest_output
  }
  chain guest_output {
    iif "virbr0" ip saddr 192.168.122.0/24 counter accept
    iif "virbr0" counter reject
  }
  chain guest_input {
    oif "virbr0" ip daddr 192.168.122.0/24 ct state related,established counter accept
    oif "virbr0" counter reject
  }
  chain guest_cross {
    iif "virbr0" oif "virbr0" counter accept
  }
  chain guest_nat { type nat hook postrouting priority 100; policy accept;
    ip saddr 192.168.122.0/24 ip daddr 224.0.0.0/24 counter return
    ip saddr 192.168.122.0/24 ip daddr 255.255.255.255 counter return
    meta l4proto tcp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535
    meta l4proto udp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535
    ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade
  }
}
NFT
in_ns nft -j list ruleset >"$HERE/ruleset.json"
for chain in guest_output guest_input guest_cross guest_nat; do in_ns nft flush chain ip libvirt_network $chain; done
in_ns nft -j list ruleset >"$HERE/empty.json"
