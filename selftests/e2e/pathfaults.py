"""The faults of issue 7, as a lab host gets them: how to inject, prove and undo each, and what
the suite must say about it on each libvirt firewall backend. Shared by the e2e tests and the
recorder of selftests/data/path/."""
from __future__ import annotations

from dataclasses import dataclass, field

TAP = "$(virsh -r domiflist virtnat-guest | awk '/vnet/{print $1}')"
# Every guest's taps (the lab runs two guests): libvirt does not put them back after a network restart.
TAPS = "$(for d in $(virsh -r list --name); do virsh -r domiflist $d | awk '/vnet/{print $1}'; done)"
BRIDGE_NF = "/proc/sys/net/bridge/bridge-nf-call-iptables"
ROGUE_PID = "/run/virtnat-rogue-dnsmasq.pid"
INPUT_POLICY = ("nft add table inet filter && nft add chain inet filter input '{ type filter hook input priority 0; policy drop; }'"
                " && nft add rule inet filter input ct state established,related accept"
                " && nft add rule inet filter input iifname lo accept && nft add rule inet filter input tcp dport 22 accept")


@dataclass(frozen=True)
class PathFault:
    name: str
    inject: str
    undo: str
    proof: str  # succeeds only while the fault is in place
    fails: dict  # backend ("iptables", "nftables") -> the checks that must fail (the lab has br_netfilter on)
    culprit: dict = field(default_factory=dict)  # check -> text its message must hold (where it fails)
    network_down: bool = False  # the fault leaves the network unable to start

    def expected(self, backend: str, bridge_nf: bool = True) -> frozenset:
        """The checks that must fail; bridge_nf=False: on output of a probe that did not read
        br_netfilter's sysctl (recorded before it did), where PATH-05 cannot fail."""
        return frozenset(self.fails[backend]) - (set() if bridge_nf else {"PATH-05"})


def both(*checks: str) -> dict:
    return {"iptables": set(checks), "nftables": set(checks)}


PATH_FAULTS = [
    # Docker's policy: harmless where libvirt's accepts sit in the same chain, fatal beside its own table.
    PathFault("docker-forward-drop",
              "iptables -N DOCKER-USER && iptables -A DOCKER-USER -j RETURN && iptables -I FORWARD -j DOCKER-USER"
              " && iptables -P FORWARD DROP",
              "iptables -P FORWARD ACCEPT; iptables -D FORWARD -j DOCKER-USER; iptables -F DOCKER-USER; iptables -X DOCKER-USER",
              "iptables -S FORWARD | grep -qx -- '-P FORWARD DROP'",
              {"iptables": set(), "nftables": {"PATH-03", "PATH-05"}},
              {"PATH-03": "iptables-nft table filter chain FORWARD: policy drop (Docker",
               "PATH-05": "iptables-nft table filter chain FORWARD: policy drop (Docker"}),
    PathFault("host-forward-drop",
              "nft add table inet filter && nft add chain inet filter forward '{ type filter hook forward priority 0; policy drop; }'",
              "nft delete table inet filter",
              "nft list chain inet filter forward | grep -q 'policy drop'",
              both("PATH-03", "PATH-05"), {"PATH-03": "table inet filter chain forward: policy drop",
                                           "PATH-05": "table inet filter chain forward: policy drop"}),
    PathFault("host-input-drop", INPUT_POLICY, "nft delete table inet filter",
              "nft list chain inet filter input | grep -q 'policy drop'",
              both("PATH-01", "PATH-02"), {"PATH-01": "table inet filter chain input: policy drop",
                                           "PATH-02": "table inet filter chain input: policy drop"}),
    PathFault("rule-ahead-forward", "iptables -I FORWARD 1 -i virbr0 -j DROP", "iptables -D FORWARD -i virbr0 -j DROP",
              "iptables -C FORWARD -i virbr0 -j DROP",
              both("PATH-03", "PATH-05"), {"PATH-03": "chain FORWARD: rule 1 (-A FORWARD -i virbr0 -j DROP)",
                                           "PATH-05": "chain FORWARD: rule 1 (-A FORWARD -i virbr0 -j DROP)"}),
    # Ahead of libvirt's masquerade in the same chain it stops NAT; in another table it does not.
    PathFault("rule-ahead-nat", "iptables -t nat -I POSTROUTING 1 -s 192.168.122.0/24 -j ACCEPT",
              "iptables -t nat -D POSTROUTING -s 192.168.122.0/24 -j ACCEPT",
              "iptables -t nat -C POSTROUTING -s 192.168.122.0/24 -j ACCEPT",
              {"iptables": {"PATH-04"}, "nftables": set()},
              {"PATH-04": "chain POSTROUTING: rule 1 (-A POSTROUTING -s 192.168.122.0/24 -j ACCEPT)"}),
    PathFault("legacy-drop", "iptables-legacy -A FORWARD -i virbr0 -j DROP", "iptables-legacy -D FORWARD -i virbr0 -j DROP",
              "iptables-legacy -C FORWARD -i virbr0 -j DROP",
              both("PATH-03", "PATH-05", "NET-16"), {"PATH-03": "iptables-legacy table filter chain FORWARD: rule 1",
                                                     "PATH-05": "iptables-legacy table filter chain FORWARD: rule 1",
                                                     "NET-16": "iptables-legacy table filter chain FORWARD: rule 1"}),
    # The route added after virbr0's is not used (yet): the guest is fine, the host is one restart from broken.
    PathFault("subnet-elsewhere", "ip addr add 192.168.122.250/24 dev uplink0", "ip addr del 192.168.122.250/24 dev uplink0",
              "ip -4 addr show dev uplink0 | grep -q 192.168.122.250",
              both("HOST-08"), {"HOST-08": "uplink0 has 192.168.122.250/24"}),
    # A system-wide DNS server on 0.0.0.0:53 first: libvirt's dnsmasq cannot bind, the network cannot start.
    PathFault("other-dns-server",
              f"virsh net-destroy default; dnsmasq --port=53 --no-resolv --no-hosts --conf-file=/dev/null --user=root"
              f" --pid-file={ROGUE_PID}; virsh net-start default; true",
              f"kill $(cat {ROGUE_PID}); sleep 0.5; rm -f {ROGUE_PID}; virsh net-start default; "
              f"for t in {TAPS}; do ip link set $t master virbr0; done",
              f"kill -0 $(cat {ROGUE_PID}) && ! virsh -r net-info default | grep -Eq '^Active:[[:space:]]+yes'",
              both("NET-02", "NET-15"), {"NET-15": "is held by dnsmasq pid"}, network_down=True),
]

# The roads after the firewall (issue 23): forwarding set per interface, and policy routing. The
# policy faults keep the lab's own LAN (its management link) in the main table, as VPN clients
# that allow LAN access do: the audit over SSH crosses it.
GW = "$(ip -4 route show default | awk '{print $3; exit}')"
LAN = "$(ip -4 route show proto kernel | awk '$3 != \"virbr0\" && $3 != \"uplink0\" {print $1}')"


def _away(table: int) -> str:
    """A table that sends everything out of the uplink but the LAN: no route for the guests."""
    return f"ip route add default via {GW} dev uplink0 table {table} && for n in {LAN}; do ip route add throw $n table {table}; done"


def _rule(priority: int, table: int | None = None) -> tuple[str, str]:
    """(proof, undo) of a rule at priority (and its table)."""
    flush = f"; ip route flush table {table}" if table else ""
    return f"ip rule show | grep -q '^{priority}:'", f"ip rule del priority {priority}{flush}"


def _forwarding_off(iface: str) -> PathFault:
    key = f"/proc/sys/net/ipv4/conf/{iface}/forwarding"
    return PathFault(f"{iface}-forwarding-off", f"echo 0 > {key}", f"echo 1 > {key}", f'[ "$(cat {key})" = 0 ]',
                     both("PATH-03"), {"PATH-03": f"net.ipv4.conf.{iface}.forwarding is '0'"})


ROAD_FAULTS = [
    # Off where the guests' packets come in, and where their replies do: net.ipv4.ip_forward stays 1.
    _forwarding_off("virbr0"),
    _forwarding_off("uplink0"),
    # An exit node's table ahead of main (Tailscale's 5270 lookup 52): the host's answers to the
    # guests and the replies forwarded to them leave by the uplink.
    PathFault("exit-node-table", f"{_away(52)} && ip rule add priority 5270 lookup 52", *reversed(_rule(5270, 52)),
              both("PATH-02", "PATH-03"), {"PATH-02": "rule `5270: from all lookup 52`",
                                           "PATH-03": "rule `5270: from all lookup 52`"}),
    # A VPN client's fwmark rule (WireGuard's `not fwmark 0xca6c lookup 51820`) without wg-quick's
    # `lookup main suppress_prefixlength 0` ahead of it.
    PathFault("vpn-fwmark-rule", f"{_away(51820)} && ip rule add priority 5200 not fwmark 0xca6c lookup 51820",
              *reversed(_rule(5200, 51820)),
              both("PATH-02", "PATH-03"), {"PATH-02": "rule `5200: not from all fwmark 0xca6c lookup 51820`"}),
    # A rule for the guests' own source addresses into a table that refuses them.
    PathFault("guest-source-rule", "ip route add unreachable default table 100 && ip rule add priority 100 from 192.168.122.0/24 lookup 100",
              *reversed(_rule(100, 100)),
              both("HOST-09", "PATH-02", "PATH-03"),
              {"HOST-09": "rule `100: from 192.168.122.0/24 lookup 100` leads to `unreachable default` of table 100"}),
    # Rules that leave the guests alone: one for other traffic, one whose table holds the guests' subnet.
    PathFault("rule-for-other-traffic", "ip rule add priority 100 from 10.250.0.0/16 blackhole", *reversed(_rule(100)),
              both()),
    PathFault("table-holds-the-guests", "ip route add 192.168.122.0/24 dev virbr0 table 100 && "
              "ip rule add priority 100 to 192.168.122.0/24 lookup 100", *reversed(_rule(100, 100)), both()),
]

# Guests reaching each other (issue 23, item 4): br_netfilter sends the frames between two ports
# of virbr0 through FORWARD, in and out on virbr0; with bridge-nf-call-iptables=0 nothing there sees them.
CROSS_DROP = "iptables -I FORWARD 1 -i virbr0 -o virbr0 -j DROP"
DOCKER = PATH_FAULTS[0]


def _bridge_nf_off(name: str, inject: str, undo: str, proof: str, fails: dict, culprit: dict | None = None) -> PathFault:
    """The fault with net.bridge.bridge-nf-call-iptables 0 (the lab's namespace starts with 1)."""
    return PathFault(name, f"{inject} && echo 0 > {BRIDGE_NF}", f"echo 1 > {BRIDGE_NF}; {undo}",
                     f'{proof} && [ "$(cat {BRIDGE_NF})" = 0 ]', fails, culprit or {})


CROSS_FAULTS = [
    # Ahead of libvirt's LIBVIRT_FWX accept: only the guests' frames to each other match it.
    PathFault("cross-drop-rule", CROSS_DROP, CROSS_DROP.replace("-I FORWARD 1", "-D FORWARD"),
              CROSS_DROP.replace("-I FORWARD 1", "-C FORWARD"),
              both("PATH-05"), {"PATH-05": "chain FORWARD: rule 1 (-A FORWARD -i virbr0 -o virbr0 -j DROP)"}),
    # The same drop, with br_netfilter's switch off: the guests' frames never meet it.
    _bridge_nf_off("cross-drop-bridge-nf-off", CROSS_DROP, CROSS_DROP.replace("-I FORWARD 1", "-D FORWARD"),
                   CROSS_DROP.replace("-I FORWARD 1", "-C FORWARD"), both()),
    # Docker's policy with the switch off (as before Docker loaded the module): only PATH-03's
    # packets die, beside the nftables backend.
    _bridge_nf_off("docker-drop-bridge-nf-off", DOCKER.inject, DOCKER.undo, DOCKER.proof,
                   {"iptables": set(), "nftables": {"PATH-03"}}, {"PATH-03": DOCKER.culprit["PATH-03"]}),
]

# Which checks speak for each thing the guest tries: a failure the guest sees must fail one of
# them (else a false negative); a success must leave all of them passing (else a false positive).
RESPONSIBLE = {
    "dhcp": ("PATH-01", "NET-15"),
    "dns": ("PATH-02", "NET-15"),
    "out": ("PATH-03", "PATH-04", "HOST-09"),
    "peer": ("PATH-05",),
}


# The guest's "out" and "peer" are pings: these checks list every packet they fail for, so one
# that fails for none of its icmp packets says the ping gets through (ufw lets pings pass).
PINGS = {"out": "PATH-03", "peer": "PATH-05"}


def disagreements(truth: dict, outcomes: dict[str, str], messages: dict[str, str] | None = None) -> list[str]:
    """Where the suite's verdicts and the guest's own result differ. With the checks' messages,
    the guest's pings are held to the verdicts on the icmp packets alone."""
    seen = {"dhcp": truth["dhcp"], "dns": truth["dns"] and truth["dnstcp"], "out": truth["out"], "peer": truth.get("peer")}
    problems = []
    for what, checks in RESPONSIBLE.items():
        if seen[what] is None:  # a guest with no peer to ping
            continue
        states = {c: outcomes.get(c) for c in checks}
        ping = PINGS.get(what)
        if messages is not None and ping and states[ping] == "failed" and "(icmp)" not in messages.get(ping, ""):
            states[ping] = "passed (icmp)"
        if seen[what] and any(not (s or "").startswith("passed") for s in states.values()):
            problems.append(f"false positive: the guest's {what} works, but {states}")
        if not seen[what] and all((s or "").startswith("passed") for s in states.values()):
            problems.append(f"false negative: the guest's {what} fails, but {states}")
    return problems

# ufw enabled with its default policies (issue 26): deny incoming, deny routed, its iptables-nft
# chains in table filter. The admin's own rule for SSH first, as anyone enabling ufw on a remote
# host does (the audit comes over SSH). Beside libvirt's nftables backend its policies drop the
# guests' DHCP, DNS and forwarded tcp/udp; its before.rules accept icmp echo-request on input and
# forward, so the guests' pings (the lab guest's "out" and "peer") still pass. Only on libvirt 11
# with the nftables backend and no firewalld: its undo takes iptables' table filter away when
# ufw's chains were all it held, as in that lab. The undo puts back /etc/ufw (the fix's rules
# too) and the sysctls ufw's sysctl.conf sets, saved by the inject in the root's /run.
UFW_SAVED = "/run/virtnat-ufw-saved"
UFW_SYSCTLS = "$(sed -n 's|^\\([a-z][^=]*\\)=.*|\\1|p' /etc/ufw/sysctl.conf | tr / .)"
# ufw's chains and the builtin chains' jumps to them go; the table with them, when nothing else is in it.
UFW_CHAINS_OFF = ("for t in iptables ip6tables; do"
                  " $t-save -t filter | sed -n 's/^-A \\(INPUT\\|FORWARD\\|OUTPUT\\) \\(-j ufw6\\{0,1\\}-.*\\)$/-D \\1 \\2/p'"
                  " | while read -r r; do $t $r; done;"
                  " $t-save -t filter | sed -n 's/^:\\(ufw6\\{0,1\\}-[^ ]*\\) .*/\\1/p' | while read -r c; do $t -F $c; done;"
                  " $t-save -t filter | sed -n 's/^:\\(ufw6\\{0,1\\}-[^ ]*\\) .*/\\1/p' | while read -r c; do $t -X $c; done;"
                  " done;"
                  " [ -n \"$(iptables -S | grep -v '^-P .* ACCEPT$')\" ] || nft delete table ip filter 2>/dev/null;"
                  " [ -n \"$(ip6tables -S | grep -v '^-P .* ACCEPT$')\" ] || nft delete table ip6 filter 2>/dev/null; true")
UFW_ENABLED = PathFault(
    "ufw-enabled",
    f"rm -rf {UFW_SAVED} && mkdir -p {UFW_SAVED} && cp -a /etc/ufw {UFW_SAVED}/etc"
    f" && sysctl {UFW_SYSCTLS} > {UFW_SAVED}/sysctl && ufw allow 22/tcp >/dev/null && ufw --force enable >/dev/null",
    f"ufw --force disable >/dev/null; {UFW_CHAINS_OFF}; [ -d {UFW_SAVED}/etc ] && rm -rf /etc/ufw && cp -a {UFW_SAVED}/etc /etc/ufw"
    f" && sed 's/ = /=/' {UFW_SAVED}/sysctl | xargs sysctl -qw && rm -rf {UFW_SAVED}",
    "ufw status | grep -qx 'Status: active'",
    {"nftables": {"PATH-01", "PATH-02", "PATH-03", "PATH-05"}},
    {"PATH-01": "iptables-nft table filter chain ufw-skip-to-policy-input: rule 1 (-A ufw-skip-to-policy-input -j DROP) (ufw)",
     "PATH-02": "iptables-nft table filter chain INPUT: policy drop (ufw, whose chains are in this table)",
     "PATH-03": "iptables-nft table filter chain FORWARD: policy drop (ufw, whose chains are in this table)",
     "PATH-05": "iptables-nft table filter chain FORWARD: policy drop (ufw, whose chains are in this table)"})
# What the lab's ufw fault and its fix may change, read back before and after: nftables' ruleset
# (without counters), ufw's state and files, and the sysctls ufw's sysctl.conf sets.
UFW_STATE = (f"nft -s list ruleset; ufw status verbose; cat /etc/ufw/ufw.conf /etc/ufw/user.rules /etc/ufw/user6.rules;"
             f" sysctl {UFW_SYSCTLS}")
