"""The roads after the firewall (issue 23): forwarding set per interface, and policy routing, in
the packet-path model; each judged packet is routed through the host's rules as the kernel does."""
from virtnat.facts.model import DEFAULT_RULES, PolicyRule, RouteFacts
from virtnat.facts.routes import parse_policy_rules
from virtnat.path.model import PathModel
from virtnat.path.policy import Decision

UP = RouteFacts("0.0.0.0/0", "uplink0", "10.213.2.1")
BRIDGE = RouteFacts("192.168.122.0/24", "virbr0")
LAN = RouteFacts("10.213.0.0/24", "lab0")
OUT = "guest traffic to the outside (icmp), guest traffic to the outside (tcp 443), guest traffic to the outside (udp 53)"
BACK = "replies to guests (icmp), replies to guests (tcp 443), replies to guests (udp 53)"
ANSWERS = "the host's DNS answer (udp 53), the host's DNS answer (tcp 53)"


def model(routes=(UP, BRIDGE, LAN), rules=(), **kw) -> PathModel:
    return PathModel((), routes, {}, "virbr0", "192.168.122.1/24", "192.168.122.2", rules, **kw)


def rules(*extra: PolicyRule) -> tuple[PolicyRule, ...]:
    return (DEFAULT_RULES[0], *extra, *DEFAULT_RULES[1:])


def away(table: str) -> tuple[RouteFacts, ...]:
    """A VPN's table: everything out of the uplink, the LAN thrown back to main; no guests."""
    return (RouteFacts("0.0.0.0/0", "uplink0", "10.213.2.1", table=table), RouteFacts("10.213.0.0/24", None, type="throw", table=table))


# -- forwarding, per interface ----------------------------------------------------------------

def test_forwarding_off_where_the_guests_packets_come_in():
    path = model(forwarding={"virbr0": "0", "uplink0": "1"}.get).forwarding("default")
    assert path.failure == f"{OUT}: the kernel forwards nothing that comes in on virbr0: net.ipv4.conf.virbr0.forwarding is '0'"
    assert path.fix == ("sysctl -w net.ipv4.conf.virbr0.forwarding=1 && printf '%s\\n' 'net.ipv4.conf.virbr0.forwarding = 1' "
                        "> /etc/sysctl.d/90-forwarding-virbr0.conf")


def test_forwarding_off_where_their_replies_come_in():
    path = model(forwarding={"virbr0": "1", "uplink0": "0"}.get).forwarding("default")
    assert path.failure == f"{BACK}: the kernel forwards nothing that comes in on uplink0: net.ipv4.conf.uplink0.forwarding is '0'"


def test_a_vlan_interfaces_key_and_the_all_switch_first():
    vlan = PathModel((), (RouteFacts("0.0.0.0/0", "eth0.100", "10.0.0.1"), BRIDGE), {}, "virbr0", "192.168.122.1/24",
                     "192.168.122.2", forwarding={"eth0.100": "0"}.get)
    assert "net.ipv4.conf.eth0/100.forwarding is '0'" in vlan.forwarding("default").failure
    assert "sysctl -w net.ipv4.conf.eth0/100.forwarding=1" in vlan.forwarding("default").fix
    off = model(ip_forward="0", forwarding={"virbr0": "0"}.get).forwarding("default")
    assert off.failure.endswith("the kernel forwards nothing: net.ipv4.ip_forward is '0' (HOST-05)")


def test_forwarding_not_read_per_interface_is_the_all_switchs():
    assert model(forwarding=lambda interface: None).forwarding("default").ok  # an older probe's output
    assert model().dhcp("default").ok and model(forwarding={"virbr0": "0"}.get).dns("default").ok  # nothing forwarded there


# -- policy routing ---------------------------------------------------------------------------

EXIT_NODE = rules(PolicyRule(5270, "lookup", "52"))


def test_an_exit_nodes_table_takes_the_answers_and_the_replies_away():
    path = model((UP, BRIDGE, LAN, *away("52")), EXIT_NODE)
    dns = path.dns("default")
    assert dns.failure == (f"{ANSWERS}: to 192.168.122.2 would leave by uplink0 (the kernel picks rule `5270: from all lookup 52`: "
                           "`default via 10.213.2.1 dev uplink0` of table 52; virbr0 is not in its way)")
    assert dns.fix == "ip rule add priority 5269 to 192.168.122.0/24 lookup main"
    forwarding = path.forwarding("default")
    assert forwarding.failure.startswith(f"{BACK}: to 192.168.122.2 would leave by uplink0 (the kernel picks rule `5270")
    assert path.dhcp("default").ok  # dnsmasq names the bridge for it
    assert path.route_out_problem() is None  # the guests' own packets still get out


def test_a_vpns_fwmark_rule_with_and_without_wg_quicks_suppress_rule():
    vpn = PolicyRule(5200, "lookup", "51820", invert=True, fwmark=0xca6c)
    bare = model((UP, BRIDGE, LAN, *away("51820")), rules(vpn))
    assert "rule `5200: not from all fwmark 0xca6c lookup 51820`" in bare.dns("default").failure
    assert bare.dns("default").fix == "ip rule add priority 5199 to 192.168.122.0/24 lookup main"
    suppress = PolicyRule(5199, "lookup", "main", suppress_prefixlength=0)
    wg_quick = model((UP, BRIDGE, LAN, *away("51820")), rules(suppress, vpn))
    assert wg_quick.dns("default").ok and wg_quick.forwarding("default").ok and wg_quick.dhcp("default").ok
    assert wg_quick.dns("default").fix == "" and wg_quick.route_out.table == "51820"


def test_a_rule_for_the_guests_source_into_a_refusing_table():
    source = parse_policy_rules('[{"priority": 100, "src": "192.168.122.0", "srclen": 24, "table": "100"}]')
    path = model((UP, BRIDGE, LAN, RouteFacts("0.0.0.0/0", None, type="unreachable", table="100")), rules(*source))
    assert path.route_out_problem() == ("no route out for the guests: rule `100: from 192.168.122.0/24 lookup 100` leads to "
                                        "`unreachable default` of table 100")
    assert path.route_out_fix() == ("ip rule add priority 99 from 192.168.122.0/24 lookup main", None)
    assert path.forwarding("default").failure.startswith(f"{OUT}: cannot leave: no route out for the guests: rule `100")
    assert "leave by nowhere (the kernel picks rule `100: from 192.168.122.0/24 lookup 100` leads to" in path.dns("default").failure


def test_rules_that_leave_the_guests_alone():
    other = rules(PolicyRule(100, "blackhole", src="10.250.0.0/16"))
    holds = rules(PolicyRule(100, "lookup", "100", dst="192.168.122.0/24"))
    for path in (model(rules=other), model((UP, BRIDGE, LAN, RouteFacts("192.168.122.0/24", "virbr0", table="100")), holds)):
        assert path.dhcp("default").ok and path.dns("default").ok and path.forwarding("default").ok
        assert path.route_out_problem() is None


def test_a_rule_ahead_takes_the_first_free_priority_below():
    taken = rules(PolicyRule(5268, "nop"), PolicyRule(5269, "nop"), PolicyRule(5270, "lookup", "52"))
    path = model((UP, BRIDGE, LAN, *away("52")), taken)
    assert path.dns("default").fix == "ip rule add priority 5267 to 192.168.122.0/24 lookup main"


def test_a_rule_ahead_skips_each_taken_priority_and_keeps_the_rules_own_when_none_is_free():
    one_taken = model((UP, BRIDGE, LAN, *away("52")), rules(PolicyRule(5269, "nop"), PolicyRule(5270, "lookup", "52")))
    assert one_taken.dns("default").fix == "ip rule add priority 5268 to 192.168.122.0/24 lookup main"
    low = model((UP, BRIDGE, LAN, *away("52")), rules(PolicyRule(2, "lookup", "52")))
    assert low.dns("default").fix == "ip rule add priority 1 to 192.168.122.0/24 lookup main"
    full = model((UP, BRIDGE, LAN, *away("52")), rules(PolicyRule(1, "lookup", "52")))  # only 0 is below: local's
    assert full.dns("default").fix == "ip rule add priority 1 to 192.168.122.0/24 lookup main"


def test_what_a_decision_says():
    assert Decision(None, None).says() == "no route"
    assert Decision(None, None, "rule `9: from all blackhole` refuses it (blackhole)").says() == \
        "rule `9: from all blackhole` refuses it (blackhole)"
    assert Decision(UP, DEFAULT_RULES[1]).says() == "`default via 10.213.2.1 dev uplink0`"


def test_every_route_that_keeps_the_guests_in_goes():
    kept_in = (RouteFacts("0.0.0.0/0", None, type="blackhole"), RouteFacts("0.0.0.0/0", None, type="unreachable", metric=10),
               RouteFacts("0.0.0.0/0", "uplink0", "10.213.2.1", metric=20), BRIDGE)
    assert model(kept_in).route_out_fix() == ("ip route del blackhole default && ip route del unreachable default metric 10", None)
