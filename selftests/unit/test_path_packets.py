"""The guest packets the path model sends, told apart by what a firewall rule can match on:
each rule below is the only accept of policy-drop chains on every hook, and exactly the
packets a real guest's traffic would have pass it (a DHCP request is a broadcast from
0.0.0.0, a reply of a masqueraded flow has conntrack's SNAT status, ...)."""
import pytest

from virtnat.facts.model import RouteFacts
from virtnat.facts.ruleset import Match
from virtnat.facts.ruleset_iptables import tables_from_iptables_save
from virtnat.facts.ruleset_nft import tables_from_nft
from virtnat.path import packets as pk
from virtnat.path.model import PathModel
from virtnat.path.walk import match_one, walk_hook

NET = pk.Network("virbr0", "192.168.122.1", "192.168.122.0/24", "192.168.122.2", "10.213.2.1", "uplink0")
HOOKS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")

DHCP_REQUEST, DHCP_REPLY = "a guest's DHCP request (udp 67)", "the host's DHCP reply (udp 68)"
DNS_Q = ["a guest's DNS question (udp 53)", "a guest's DNS question (tcp 53)"]
DNS_A = ["the host's DNS answer (udp 53)", "the host's DNS answer (tcp 53)"]
OUT = ["guest traffic to the outside (icmp)", "guest traffic to the outside (tcp 443)", "guest traffic to the outside (udp 53)"]
BACK = ["replies to guests (icmp)", "replies to guests (tcp 443)", "replies to guests (udp 53)"]


def every_packet() -> list[pk.Packet]:
    """Made in each test (at import, no test would see a change to the packets)."""
    return pk.dhcp(NET) + pk.dns(NET) + pk.outbound(NET) + pk.replies(NET)


def passing(rule: str) -> list[str]:
    """The guest packets that a mangle table accepting only `rule` (policy drop) lets through."""
    text = "*mangle\n" + "".join(f":{c} DROP [0:0]\n" for c in HOOKS) \
        + "".join(f"-A {c} {rule} -j ACCEPT\n" for c in HOOKS) + "COMMIT\n"
    tables = tuple(tables_from_iptables_save(text))
    return [p.what for p in every_packet() if not any(walk_hook(tables, h, p).dropped_by for h in p.hooks)]


@pytest.mark.parametrize("rule, expected", [
    ("-m pkttype --pkt-type broadcast", [DHCP_REQUEST]),
    ("-m pkttype --pkt-type host", [DHCP_REPLY, DNS_Q[0], DNS_A[0], DNS_Q[1], DNS_A[1]] + OUT + BACK),
    ("-m addrtype --dst-type BROADCAST", [DHCP_REQUEST]),
    ("-m addrtype --src-type UNSPEC", [DHCP_REQUEST]),
    ("-m addrtype --dst-type LOCAL", DNS_Q),
    ("-m addrtype --src-type LOCAL", [DHCP_REPLY] + DNS_A),
    ("-m addrtype --dst-type UNICAST", [DHCP_REPLY] + DNS_A + OUT + BACK),
    ("-m addrtype --src-type UNICAST", DNS_Q + OUT + BACK),
    ("-m conntrack --ctstate NEW", [DHCP_REQUEST, DHCP_REPLY] + DNS_Q + OUT),
    ("-m conntrack --ctstate ESTABLISHED", DNS_A + BACK),
    ("-m conntrack --ctstatus SNAT", BACK),
    ("-p icmp", [OUT[0], BACK[0]]),
    ("-p icmp -m icmp --icmp-type echo-request", [OUT[0]]),
    ("-p icmp -m icmp --icmp-type echo-reply", [BACK[0]]),
    ("-s 0.0.0.0/32 -d 255.255.255.255/32", [DHCP_REQUEST]),
    ("-s 192.168.122.1/32 -d 192.168.122.2/32", [DHCP_REPLY] + DNS_A),
    ("-s 192.168.122.2/32 -d 192.168.122.1/32", DNS_Q),
    ("-s 192.168.122.2/32 -d 10.213.2.1/32", OUT),
    ("-s 10.213.2.1/32 -d 192.168.122.2/32", BACK),
    ("-p udp -m udp --sport 68 --dport 67", [DHCP_REQUEST]),
    ("-p udp -m udp --sport 67 --dport 68", [DHCP_REPLY]),
    ("-p udp -m udp --sport 40000 --dport 53", [DNS_Q[0], OUT[2]]),
    ("-p udp -m udp --sport 53 --dport 40000", [DNS_A[0], BACK[2]]),
    ("-p tcp -m tcp --sport 40000 --dport 53", [DNS_Q[1]]),
    ("-p tcp -m tcp --sport 53 --dport 40000", [DNS_A[1]]),
    ("-p tcp -m tcp --sport 40000 --dport 443", [OUT[1]]),
    ("-p tcp -m tcp --sport 443 --dport 40000", [BACK[1]]),
    ("-i virbr0", [DHCP_REQUEST] + DNS_Q + OUT),
    ("-i uplink0", BACK),
    ("-o virbr0", [DHCP_REPLY] + DNS_A),  # replies to guests meet prerouting before they have an output interface
    ("-o uplink0", []),  # nor has guest traffic to the outside
])
def test_each_packet_is_what_a_rule_sees(rule, expected):
    assert passing(rule) == expected


def test_interfaces_of_forwarded_packets_once_routed():
    """In the forward chain the route out is known: guest traffic leaves by the uplink, replies by the bridge."""
    def forwarded(rule):
        tables = tuple(tables_from_iptables_save(f"*filter\n:FORWARD DROP [0:0]\n-A FORWARD {rule} -j ACCEPT\nCOMMIT\n"))
        return [p.what for p in pk.outbound(NET) + pk.replies(NET) if not walk_hook(tables, "forward", p).dropped_by]
    assert forwarded("-i virbr0 -o uplink0") == OUT
    assert forwarded("-i uplink0 -o virbr0") == BACK


def test_only_pings_and_their_replies_have_an_icmp_type():
    assert [p.icmp_type for p in pk.outbound(NET)] == ["echo-request", None, None]
    assert [p.icmp_type for p in pk.replies(NET)] == ["echo-reply", None, None]
    assert {p.icmp_type for p in pk.dhcp(NET) + pk.dns(NET)} == {None}


def test_the_hooks_each_packet_meets():
    assert {p.what: p.hooks for p in every_packet()} == {
        DHCP_REQUEST: ("prerouting", "input"), DHCP_REPLY: ("output", "postrouting"),
        **{w: ("prerouting", "input") for w in DNS_Q}, **{w: ("output", "postrouting") for w in DNS_A},
        **{w: ("prerouting", "forward", "postrouting") for w in OUT + BACK}}


def test_interfaces_as_each_hook_sees_them():
    reply = pk.replies(NET)[0]
    assert (reply.at("prerouting").iif, reply.at("prerouting").oif) == ("uplink0", None)  # not routed yet
    assert (reply.at("forward").iif, reply.at("forward").oif) == ("uplink0", "virbr0")
    local = pk.Packet("local", pk.LOCAL_OUT, "lo", "virbr0", "192.168.122.1", "192.168.122.2", "udp")
    assert (local.at("output").iif, local.at("output").oif) == (None, "virbr0")  # a local packet has come in nowhere
    assert local.at("postrouting").iif == "lo"


def test_family_fields_are_ipv4():
    ping = pk.outbound(NET)[0]
    assert match_one(Match("nfproto", ("ipv4",)), ping) and not match_one(Match("nfproto", ("ipv6",)), ping)
    assert match_one(Match("ethertype", ("ip",)), ping) and not match_one(Match("ethertype", ("ip6",)), ping)


def test_with_no_route_out_the_outside_is_any_address():
    lost = pk.Network("virbr0", "192.168.122.1", "192.168.122.0/24", "192.168.122.2", None, None)
    assert {(p.daddr, p.oif) for p in pk.outbound(lost)} == {("0.0.0.0", None)}
    assert {(p.saddr, p.iif) for p in pk.replies(lost)} == {("0.0.0.0", None)}


def test_replies_of_a_flow_not_masqueraded_have_no_snat_status():
    assert [p.ct_status for p in pk.replies(NET, masqueraded=False)] == [frozenset()] * 3
    assert [p.ct_status for p in pk.replies(NET)] == [frozenset({"snat"})] * 3


def test_the_accept_each_packet_needs_where_everything_is_dropped():
    """Each packet's fix is the narrowest accept that lets it (and only its kind) through."""
    chains = [{"chain": {"family": "inet", "table": "filter", "name": h, "type": "filter", "hook": h, "prio": 0, "policy": "drop"}}
              for h in ("input", "forward", "output")]
    nft = tables_from_nft([{"table": {"family": "inet", "name": "filter"}}] + chains)
    legacy = tables_from_iptables_save("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\nCOMMIT\n",
                                       "iptables-legacy")
    routes = (RouteFacts("0.0.0.0/0", "uplink0", "10.213.2.1"), RouteFacts("192.168.122.0/24", "virbr0"))
    fixes = {}
    for name, tables in (("nft", nft), ("legacy", legacy)):
        m = PathModel(tuple(tables), routes, {}, "virbr0", "192.168.122.1/24", "192.168.122.2")
        fixes[name] = [getattr(m, check)("default").fix.split(" && ") for check in ("dhcp", "dns", "forwarding")]
    assert fixes["nft"] == [
        ['nft insert rule inet filter input iifname "virbr0" udp dport 67 accept',
         'nft insert rule inet filter output oifname "virbr0" udp dport 68 accept'],
        ['nft insert rule inet filter input iifname "virbr0" udp dport 53 accept',
         'nft insert rule inet filter output oifname "virbr0" ct state { established, related } accept',
         'nft insert rule inet filter input iifname "virbr0" tcp dport 53 accept'],
        ['nft insert rule inet filter forward iifname "virbr0" accept',
         'nft insert rule inet filter forward oifname "virbr0" ct state { established, related } accept']]
    assert fixes["legacy"] == [
        ["iptables-legacy -I INPUT -i virbr0 -p udp --dport 67 -j ACCEPT",
         "iptables-legacy -I OUTPUT -o virbr0 -p udp --dport 68 -j ACCEPT"],
        ["iptables-legacy -I INPUT -i virbr0 -p udp --dport 53 -j ACCEPT",
         "iptables-legacy -I OUTPUT -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
         "iptables-legacy -I INPUT -i virbr0 -p tcp --dport 53 -j ACCEPT"],
        ["iptables-legacy -I FORWARD -i virbr0 -j ACCEPT",
         "iptables-legacy -I FORWARD -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"]]
