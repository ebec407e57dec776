"""The packet-path model's pieces, each with the case that breaks a careless version of it:
nft sets, verdict maps, gotos, returns, wildcards; routes and policy rules; sockets and which
one gets a packet; whose a table is and the command that fixes it."""
from dataclasses import replace

import pytest

from virtnat.facts.model import LinkFacts, RouteFacts, SocketFacts, SystemFacts
from virtnat.facts.routes import parse_policy_rules, parse_routes
from virtnat.facts.ruleset import Table
from virtnat.facts.ruleset_iptables import tables_from_iptables_save
from virtnat.facts.ruleset_nft import tables_from_nft
from virtnat.facts.sockets import parse_sockets
from virtnat.path import packets as pk
from virtnat.path.owners import accept_rule, delete_rule, owner
from virtnat.path.ports import listen_text, receivers
from virtnat.path.routing import addresses_inside, lookup, overlapping
from virtnat.path.walk import walk_chain, walk_hook

NET = pk.Network("virbr0", "192.168.122.1", "192.168.122.0/24", "192.168.122.2", "10.213.2.1", "uplink0")
DHCP, DHCP_REPLY = pk.dhcp(NET)
PING = pk.outbound(NET)[0]


def nft(*rules, policy="accept", hook="input", sets=(), extra_chains=()):
    """One inet table "t" with base chain "c" holding rules (lists of expressions)."""
    objects = [{"table": {"family": "inet", "name": "t"}},
               {"chain": {"family": "inet", "table": "t", "name": "c", "type": "filter", "hook": hook, "prio": 0, "policy": policy}}]
    objects += [{"chain": {"family": "inet", "table": "t", "name": name}} for name in extra_chains]
    objects += [{"set": {"family": "inet", "table": "t", "name": n, "type": "ifname", "elem": e}} for n, e in sets]
    for i, (chain, expr) in enumerate(rules, start=10):
        objects.append({"rule": {"family": "inet", "table": "t", "chain": chain, "handle": i, "expr": expr}})
    return tables_from_nft(objects)[0]


def meta(key, right, op="=="):
    return {"match": {"op": op, "left": {"meta": {"key": key}}, "right": right}}


def test_named_set_and_wildcard_interfaces_match():
    table = nft(("c", [meta("iifname", "@bridges"), {"drop": None}]), sets=[("bridges", ["docker0", "virbr0"])])
    assert walk_chain(table, table.chains["c"], DHCP).kind == "drop"
    wild = nft(("c", [meta("iifname", "virbr*"), {"drop": None}]))
    assert walk_chain(wild, wild.chains["c"], DHCP).kind == "drop"
    other = nft(("c", [meta("iifname", "docker*"), {"drop": None}]))
    assert walk_chain(other, other.chains["c"], DHCP).kind == "accept"


def test_a_negated_match_and_a_set_it_cannot_resolve():
    table = nft(("c", [meta("iifname", "virbr0", "!="), {"drop": None}]))
    assert walk_chain(table, table.chains["c"], DHCP).kind == "accept"
    dynamic = nft(("c", [meta("iifname", "@learned"), {"drop": None}]))
    verdict = walk_chain(dynamic, dynamic.chains["c"], DHCP)
    assert verdict.kind == "accept" and "@learned" in verdict.steps[0].assumed + verdict.steps[0].rule.text


def test_verdict_map_sends_the_bridge_to_its_chain():
    vmap = {"vmap": {"key": {"meta": {"key": "iifname"}},
                     "data": {"set": [["virbr0", {"jump": {"target": "guests"}}], ["eth0", {"accept": None}]]}}}
    table = nft(("c", [vmap]), ("guests", [{"drop": None}]), extra_chains=["guests"])
    verdict = walk_chain(table, table.chains["c"], DHCP)
    assert verdict.kind == "drop" and verdict.rule_chain == "guests"


def test_goto_returns_to_the_caller_of_the_chain_that_went():
    """c: jump a; drop.   a: goto b.   b: return  ->  back in c, which drops."""
    table = nft(("c", [{"jump": {"target": "a"}}]), ("c", [{"drop": None}]), ("a", [{"goto": {"target": "b"}}]),
                ("a", [{"accept": None}]), ("b", [{"return": None}]), extra_chains=["a", "b"])
    verdict = walk_chain(table, table.chains["c"], DHCP)
    assert verdict.kind == "drop" and verdict.rule.handle == 11


def test_return_in_a_base_chain_means_its_policy():
    table = nft(("c", [{"return": None}]), ("c", [{"accept": None}]), policy="drop")
    verdict = walk_chain(table, table.chains["c"], DHCP)
    assert verdict.kind == "drop" and verdict.rule is None and verdict.where.endswith("policy drop")


def test_port_ranges_and_state_sets():
    ranged = nft(("c", [{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}},
                                   "right": {"range": [60, 70]}}}, {"drop": None}]))
    assert walk_chain(ranged, ranged.chains["c"], DHCP).kind == "drop"
    established = nft(("c", [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established"]}},
                             {"accept": None}]), policy="drop", hook="output")
    assert walk_chain(established, established.chains["c"], DHCP_REPLY).kind == "drop"  # a DHCP reply is new


def test_queue_is_an_action_the_model_does_not_know():
    table = nft(("c", [{"queue": {"num": 1}}]), policy="drop")
    verdict = walk_chain(table, table.chains["c"], DHCP)
    assert verdict.kind == "drop" and "not modelled" in verdict.steps[0].assumed


def test_bridge_family_tables_are_named_not_walked():
    objects = [{"table": {"family": "bridge", "name": "br"}},
               {"chain": {"family": "bridge", "table": "br", "name": "in", "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
               {"rule": {"family": "bridge", "table": "br", "chain": "in", "handle": 3, "expr": [{"counter": None}]}}]
    verdict = walk_hook(tuple(tables_from_nft(objects)), "input", DHCP)
    assert verdict.dropped_by is None and verdict.unmodelled == ["table bridge br (bridge family, not modelled)"]


def test_iptables_multiport_addrtype_and_comment():
    text = """*filter
:INPUT DROP [0:0]
-A INPUT -i virbr0 -p udp -m multiport --dports 53,60:70 -m comment --comment "guests" -j ACCEPT
-A INPUT -m addrtype --dst-type LOCAL -p tcp -j ACCEPT
COMMIT
"""
    table = tables_from_iptables_save(text)[0]
    assert walk_chain(table, table.chains["INPUT"], DHCP).kind == "accept"
    dns_tcp = pk.dns(NET)[2]
    assert walk_chain(table, table.chains["INPUT"], dns_tcp).kind == "accept"
    assert walk_chain(table, table.chains["INPUT"], PING).kind == "drop"


def test_routes_parse_main_and_local_and_prefer_the_first_listed():
    text = ('[{"dst":"default","gateway":"10.0.0.1","dev":"eth0"},{"dst":"192.168.122.0/24","dev":"eth1"},'
            '{"dst":"192.168.122.0/24","dev":"virbr0","metric":5},{"type":"local","dst":"10.0.0.5","dev":"eth0","table":"local"},'
            '{"dst":"10.9.0.0/16","dev":"wg0","table":"100"}]')
    routes = parse_routes(text)
    assert [r.dst for r in routes] == ["0.0.0.0/0", "192.168.122.0/24", "192.168.122.0/24", "10.0.0.5/32", "10.9.0.0/16"]
    assert lookup(routes, "192.168.122.9").dev == "eth1"  # metric 0 beats 5
    assert lookup(routes, "8.8.8.8").gateway == "10.0.0.1"
    assert [r.dev for r in overlapping(routes, "192.168.122.0/24", "virbr0")] == ["eth1"]
    assert overlapping((RouteFacts("192.168.0.0/16", "eth0"),), "192.168.122.0/24", "virbr0") == []


def test_only_policy_rules_beyond_the_defaults_are_kept():
    text = ('[{"priority":0,"src":"all","table":"local"},{"priority":100,"src":"192.168.122.0/24","table":"vpn"},'
            '{"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}]')
    system = SystemFacts(sysctl_runtime={}, sysctl_persisted={}, sysctl_sources={}, sysctl_conf_at_boot=True, processes=(),
                         binaries={}, network_driver=None, firewall=None,
                         policy_rules=parse_policy_rules(text))
    assert system.route_rules == ("100: from 192.168.122.0/24 lookup vpn",)
    assert replace(system, policy_rules=None).route_rules is None


def test_sockets_with_devices_and_the_one_that_gets_the_packet():
    text = """Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess
udp   UNCONN 0      0      192.168.122.1:53    0.0.0.0:*    users:(("dnsmasq",pid=7,fd=6))
udp   UNCONN 0      0      0.0.0.0%virbr0:67   0.0.0.0:*    users:(("dnsmasq",pid=7,fd=3))
udp   UNCONN 0      0            0.0.0.0:53    0.0.0.0:*    users:(("named",pid=9,fd=4),("named",pid=9,fd=5))
udp   UNCONN 0      0               [::]:67       [::]:*    users:(("other",pid=11,fd=4))
tcp   LISTEN 0      32                 *:53          *:*    users:(("resolved",pid=12,fd=4))
"""
    sockets = parse_sockets(text)
    assert SocketFacts("udp", "0.0.0.0", 67, "virbr0", (("dnsmasq", 7),)) in sockets
    assert [s.processes for s in receivers(sockets, "udp", "192.168.122.1", 53, "virbr0")] == [(("dnsmasq", 7),)]
    assert [s.device for s in receivers(sockets, "udp", "255.255.255.255", 67, "virbr0")] == ["virbr0"]
    assert [s.processes[0][0] for s in receivers(sockets, "tcp", "192.168.122.1", 53, "virbr0")] == ["resolved"]
    assert receivers(sockets, "udp", "192.168.122.1", 67, "eth0") == []  # bound to virbr0; "::" is IPv6 only


def test_owners_and_their_fixes():
    ufw = tables_from_iptables_save("*filter\n:INPUT DROP [0:0]\n:ufw-user-input - [0:0]\nCOMMIT\n")[0]
    assert owner(ufw).startswith("ufw") and owner(ufw, "ufw-user-input") == "ufw"
    kube = Table("ip", "filter", "iptables-legacy", {})
    assert owner(kube, "KUBE-FORWARD") == "Kubernetes" and owner(kube) == "host iptables-legacy rules"
    inet = Table("inet", "filter", "nftables", {})
    assert owner(inet).startswith("a host nftables table")
    assert owner(Table("ip", "libvirt_network", "nftables", {})) == "libvirt"
    reply = pk.dns(NET)[1]
    assert accept_rule(inet, "output", reply.accept) == \
        'nft insert rule inet filter output oifname "virbr0" ct state { established, related } accept'
    nat = tables_from_iptables_save("# Generated by iptables-save v1.8.9 (nf_tables)\n*nat\n:POSTROUTING ACCEPT [0:0]\n"
                                    "-A POSTROUTING -j ACCEPT\nCOMMIT\n")[0]
    assert accept_rule(nat, "POSTROUTING", (("iif", "virbr0"),)) == "iptables -t nat -I POSTROUTING -i virbr0 -j ACCEPT"
    rule = nft(("c", [{"drop": None}])).chains["c"].rules[0]
    assert delete_rule(inet, "input", rule) == "nft delete rule inet filter input handle 10"


def test_an_admins_rule_beside_dockers_chains_is_not_dockers():
    table = tables_from_iptables_save("*filter\n:FORWARD DROP [0:0]\n:DOCKER-USER - [0:0]\n-A FORWARD -i virbr0 -j DROP\nCOMMIT\n")[0]
    assert owner(table, "FORWARD") == "Docker, whose chains are in this table"  # the policy
    assert owner(table, "FORWARD", policy=False) == "a host iptables-legacy rule"
    assert owner(table, "DOCKER-USER", policy=False) == "Docker"


def test_whose_policy_a_table_has():
    tools = tables_from_iptables_save("*filter\n:FORWARD ACCEPT [0:0]\n:LIBVIRT_FWX - [0:0]\n:DOCKER-USER - [0:0]\n"
                                      ":ufw-before-forward - [0:0]\nCOMMIT\n")[0]
    assert owner(tools, "FORWARD") == "Docker or ufw, whose chains are in this table"
    libvirt_only = tables_from_iptables_save("*filter\n:FORWARD ACCEPT [0:0]\n:LIBVIRT_FWX - [0:0]\nCOMMIT\n")[0]
    assert owner(libvirt_only, "FORWARD") == "host iptables-legacy rules"  # libvirt's chains set no policy
    assert owner(Table("inet", "filter", "nftables", {})) == "a host nftables table, like Debian's /etc/nftables.conf"
    assert owner(Table("ip", "filter", "nftables", {})) == "a host nftables table"
    assert owner(Table("inet", "mine", "nftables", {})) == "a host nftables table"
    assert owner(Table("inet", "mine", "nftables", {}), "DOCKER-USER") == "Docker"


def test_accepts_and_deletes_in_each_tool():
    nft_table = Table("inet", "filter", "nftables", {})
    assert accept_rule(nft_table, "forward", (("iif", "virbr0"), ("l4proto", "icmp"))) == \
        'nft insert rule inet filter forward iifname "virbr0" meta l4proto icmp accept'
    assert accept_rule(nft_table, "input", (("dport", 67), ("iif", "virbr0"), ("l4proto", "udp"))) == \
        'nft insert rule inet filter input iifname "virbr0" udp dport 67 accept'  # the port goes with its protocol
    ipt = Table("ip", "filter", "iptables-nft", {})
    assert accept_rule(ipt, "INPUT", (("l4proto", "udp"), ("iif", "virbr0"), ("dport", 67))) == \
        "iptables -I INPUT -p udp -i virbr0 --dport 67 -j ACCEPT"
    assert accept_rule(ipt, "OUTPUT", (("ct_state", "established"), ("oif", "virbr0"))) == \
        "iptables -I OUTPUT -m conntrack --ctstate ESTABLISHED -o virbr0 -j ACCEPT"
    rule = tables_from_iptables_save("*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j DROP\n-A FORWARD -j DROP\nCOMMIT\n")[0] \
        .chains["FORWARD"].rules[1]
    assert delete_rule(Table("ip", "filter", "iptables-legacy", {}), "FORWARD", rule) == "iptables-legacy -D FORWARD 2"
    assert delete_rule(ipt, "FORWARD", rule) == "iptables -D FORWARD 2"
    assert delete_rule(Table("ip", "nat", "iptables-nft", {}), "POSTROUTING", rule) == "iptables -t nat -D POSTROUTING 2"


def test_the_best_socket_for_a_packet():
    exact = SocketFacts("udp", "192.168.122.1", 53, None, (("a", 1),))
    exact_bound = SocketFacts("udp", "192.168.122.1", 53, "virbr0", (("b", 2),))
    wild = SocketFacts("udp", "0.0.0.0", 53, None, (("c", 3),))
    wild_bound = SocketFacts("udp", "0.0.0.0", 53, "virbr0", (("d", 4),))
    dual = SocketFacts("udp", "*", 53, None, (("e", 5),))
    other = SocketFacts("udp", "10.0.0.1", 53, None, (("f", 6),))
    elsewhere = SocketFacts("udp", "192.168.122.1", 53, "eth0", (("g", 7),))

    def best(*sockets):
        return [s.processes[0][0] for s in receivers(sockets, "udp", "192.168.122.1", 53, "virbr0")]
    assert best(exact, exact_bound, wild, wild_bound) == ["b"]
    assert best(exact, wild, wild_bound) == ["a"]  # the address before the device
    assert best(wild, wild_bound) == ["d"]
    assert best(wild, dual) == ["c", "e"]
    assert best(other, elsewhere) == []
    assert best(SocketFacts("tcp", "192.168.122.1", 53, None), SocketFacts("udp", "192.168.122.1", 5353, None)) == []
    assert listen_text(wild_bound) == "udp 0.0.0.0%virbr0:53" and listen_text(exact) == "udp 192.168.122.1:53"


def test_route_lookups_skip_other_tables_and_keep_the_first_of_equals():
    local = RouteFacts("192.168.122.1/32", "virbr0", type="local", table="local")
    main = (RouteFacts("0.0.0.0/0", "eth0", "10.0.0.1"), RouteFacts("192.168.122.0/24", "virbr0"))
    assert lookup((local,) + main, "192.168.122.1").dev == "virbr0" and lookup((local,) + main, "192.168.122.1").table == "main"
    assert lookup((local,) + main, "8.8.8.8").gateway == "10.0.0.1"
    assert lookup((RouteFacts("192.168.122.7/24", "eth1"),), "192.168.122.9").dev == "eth1"  # host bits set: its network
    assert lookup((RouteFacts("10.0.0.0/8", "eth1"),), "8.8.8.8") is None


def test_routes_and_addresses_of_other_interfaces_inside_the_subnet():
    routes = (RouteFacts("192.168.122.0/24", "virbr0"), RouteFacts("192.168.122.0/28", "wg0", table="100"),
              RouteFacts("192.168.122.128/25", "eth1"), RouteFacts("10.0.0.0/25", "eth2"), RouteFacts("192.168.0.0/16", "eth3"),
              RouteFacts("192.168.122.9/24", "eth4"))
    assert [r.dev for r in overlapping(routes, "192.168.122.0/24", "virbr0")] == ["eth1", "eth4"]
    links = {name: LinkFacts(name, i, None, True, "UP", "52:54:00:00:00:0%d" % i, addresses=addresses)
             for i, (name, addresses) in enumerate([
                 ("wg0", ("192.168.122.9/32",)), ("virbr0", ("192.168.122.1/24",)),
                 ("eth1", ("10.0.0.2/24", "192.168.122.50/24", "fe80::1/64")), ("eth2", ("192.168.123.1/24",))])}
    assert addresses_inside(links, "192.168.122.0/24", "virbr0") == [("eth1", "192.168.122.50/24"), ("wg0", "192.168.122.9/32")]


def test_the_gateways_ports_and_who_holds_them():
    from virtnat.path.ports import HiddenHolder, gateway_claims

    own = SocketFacts("udp", "192.168.122.1", 53, "virbr0", (("dnsmasq", 10),))
    other = SocketFacts("tcp", "0.0.0.0", 53, None, (("named", 20), ("dnsmasq", 10)))
    claims = gateway_claims((own, other), "192.168.122.1", "virbr0", {10})
    assert [(c.proto, c.port, c.target, c.others) for c in claims] == [
        ("udp", 53, "192.168.122.1", ()), ("tcp", 53, "192.168.122.1", (("named", 20),)), ("udp", 67, "255.255.255.255", ())]
    problems = [c.problem("192.168.122.1", {20: "/usr/sbin/named -u bind"}, "default") for c in claims]
    assert problems == [None, "tcp 53 (DNS) to 192.168.122.1 is held by named pid 20 (/usr/sbin/named -u bind) on tcp 0.0.0.0:53, "
                              "not by the dnsmasq of network 'default'", "nothing listens on udp 192.168.122.1:67 (DHCP)"]
    with pytest.raises(HiddenHolder) as hidden:
        gateway_claims((SocketFacts("udp", "0.0.0.0", 53),), "192.168.122.1", "virbr0", {10})
    assert str(hidden.value) == "udp 53: the socket's process is not visible: needs root: run with --sudo, or audit as root"
