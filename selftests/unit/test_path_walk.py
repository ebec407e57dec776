"""The walk through netfilter's chains, on tables built by hand: what each kind of match and
verdict does to a guest packet, the order base chains run in, what NAT chains see, the trail a
walk leaves (its lines are what PATH-01..04 show), and the tables it names but does not walk."""
from dataclasses import replace

from virtnat.facts.ruleset import Chain, Match, Rule, Table, Verdict
from virtnat.path import packets as pk
from virtnat.path.walk import MAX_DEPTH, Step, match_one, rule_matches, walk_chain, walk_hook

NET = pk.Network("virbr0", "192.168.122.1", "192.168.122.0/24", "192.168.122.2", "10.213.2.1", "uplink0")
DHCP, DHCP_REPLY = pk.dhcp(NET)
DNS_UDP, DNS_ANSWER, DNS_TCP = pk.dns(NET)[:3]
PING, HTTPS = pk.outbound(NET)[:2]
PONG = pk.replies(NET)[0]


def rule(verdict: Verdict, *matches: Match, position: int = 1, handle: int | None = None) -> Rule:
    return Rule(position, matches, verdict, f"rule text {position}", handle)


def table(*chains: Chain, family: str = "inet", name: str = "t", source: str = "nftables") -> Table:
    return Table(family, name, source, {c.name: c for c in chains})


def base(*rules: Rule, name: str = "c", hook: str = "input", policy: str = "accept", priority: int = 0, type: str = "filter"):
    return Chain(name, rules, hook, type, priority, policy)


ACCEPT, DROP, RETURN = Verdict("accept"), Verdict("drop"), Verdict("return")
UNKNOWN = Match("unknown", text="meta mark 0x1")


def kind(t: Table, packet: pk.Packet, chain: str = "c") -> str:
    return walk_chain(t, t.chains[chain], packet).kind


def test_interface_matches():
    assert match_one(Match("iif", ("virbr0",)), DHCP) is True
    assert match_one(Match("iif", ("virbr+",)), DHCP) is True  # iptables' wildcard
    assert match_one(Match("iif", ("virbr",)), DHCP) is False
    assert match_one(Match("iif", ("vir+br",)), DHCP) is False
    assert match_one(Match("iif", ("virbr+",)), replace(DHCP, iif="virb0")) is False  # the whole prefix
    assert match_one(Match("iif", ("virbr+",)), replace(DHCP, iif="vnet0")) is False
    assert match_one(Match("oif", ("virbr0",)), DHCP) is False  # no output interface yet
    assert match_one(Match("oif", ("virbr0",), negate=True), DHCP) is True
    assert match_one(Match("oif", ("eth0", "virbr0")), DHCP_REPLY) is True


def test_address_matches():
    assert match_one(Match("saddr", ("192.168.122.0/24",)), DNS_UDP) is True
    assert match_one(Match("saddr", ("192.168.122.2",)), DNS_UDP) is True
    assert match_one(Match("saddr", ("192.168.123.0/24",)), DNS_UDP) is False
    assert match_one(Match("daddr", ("@guests",)), DNS_UDP) is False  # not an address: does not match
    assert match_one(Match("daddr", ("fe80::/10",)), DNS_UDP) is False
    assert match_one(Match("saddr", ("192.168.122.0/24",), negate=True), DNS_UDP) is False
    assert match_one(Match("saddr", ("192.168.122.77/24",)), DNS_UDP) is True  # host bits set: still its network


def test_port_matches():
    assert match_one(Match("dport", (53,)), DNS_UDP) is True
    assert match_one(Match("dport", ("53",)), DNS_UDP) is True
    assert match_one(Match("dport", (54,)), DNS_UDP) is False
    assert match_one(Match("dport", ((50, 53),)), DNS_UDP) is True
    assert match_one(Match("dport", ((53, 60),)), DNS_UDP) is True
    assert match_one(Match("dport", ((54, 60),)), DNS_UDP) is False
    assert match_one(Match("dport", ((40, 52),)), DNS_UDP) is False
    assert match_one(Match("dport", ("domain",)), DNS_UDP) is False  # a service name the model does not resolve
    assert match_one(Match("dport", (None,)), DNS_UDP) is False
    assert match_one(Match("sport", (40000,)), PING) is False  # a ping has no ports
    assert match_one(Match("sport", (40000,), negate=True), PING) is True


def test_state_type_and_unknown_matches():
    assert match_one(Match("ct_state", ("established", "related")), DNS_ANSWER) is True
    assert match_one(Match("ct_state", ("established", "related")), DNS_UDP) is False
    assert match_one(Match("ct_status", ("snat",)), PONG) is True
    assert match_one(Match("ct_status", ("dnat",)), PONG) is False
    assert match_one(Match("icmp_type", ("echo-request",)), PING) is True
    assert match_one(Match("icmp_type", ("echo-request",)), DNS_UDP) is False  # not icmp: no type
    assert match_one(Match("icmp_type", ("echo-request",), negate=True), DNS_UDP) is True
    assert match_one(Match("l4proto", ("udp",)), DNS_UDP) is True
    assert match_one(Match("l4proto", ("tcp",)), DNS_UDP) is False
    assert match_one(UNKNOWN, DNS_UDP) is None
    assert match_one(Match("meta_cpu", ("1",)), DNS_UDP) is None  # a field the model has no rule for


def test_a_rule_matches_when_every_match_does():
    udp, dns, tcp = Match("l4proto", ("udp",)), Match("dport", (53,)), Match("l4proto", ("tcp",))
    assert rule_matches(rule(ACCEPT, udp, dns), DNS_UDP) is True
    assert rule_matches(rule(ACCEPT, udp, tcp), DNS_UDP) is False
    assert rule_matches(rule(ACCEPT, UNKNOWN, udp), DNS_UDP) is None
    assert rule_matches(rule(ACCEPT, UNKNOWN, tcp), DNS_UDP) is False  # a known mismatch settles it
    assert rule_matches(rule(ACCEPT, tcp, UNKNOWN), DNS_UDP) is False
    assert rule_matches(rule(ACCEPT), DNS_UDP) is True


def test_verdict_maps():
    vmap = Verdict("vmap", field="iif", mapping=(("eth0", DROP), ("virbr0", ACCEPT)))
    t = table(base(rule(vmap), policy="drop"))
    assert kind(t, DHCP) == "accept"
    other = table(base(rule(Verdict("vmap", field="iif", mapping=(("eth0", ACCEPT),))), rule(DROP, position=2)))
    assert kind(other, DHCP) == "drop"  # no key matches: on to the next rule


def test_unknown_matches_and_actions_are_assumed_away():
    cpu = Match("unknown", text="meta cpu 1")
    t = table(base(rule(DROP, UNKNOWN, cpu), rule(Verdict("continue"), UNKNOWN, position=2),
                   rule(Verdict("unknown", "queue num 1"), position=3), rule(ACCEPT, position=4), policy="drop"))
    verdict = walk_chain(t, t.chains["c"], DHCP)
    assert verdict.kind == "accept" and verdict.rule.position == 4
    assert [s.line() for s in verdict.steps] == [
        "table inet t chain c: rule 1 (rule text 1): matches on meta mark 0x1; meta cpu 1, which the model does not know: "
        "taken as not matching",
        "table inet t chain c: rule 3 (rule text 3): its action queue num 1 is not modelled: taken as going on",
        "table inet t chain c: rule 4 (rule text 4) -> accept",
    ]
    assert [s.action for s in verdict.steps] == ["drop", "continue", "accept"]
    assert [s.decides for s in verdict.steps] == [False, False, True]


def test_jumps_gotos_and_returns():
    a = Chain("a", (rule(Verdict("jump", "b")), rule(RETURN, position=2), rule(DROP, position=3)))
    b = Chain("b", (rule(Verdict("continue"), position=1), rule(RETURN, Match("l4proto", ("tcp",)), position=2)))
    t = table(base(rule(Verdict("jump", "a")), rule(ACCEPT, position=2), policy="drop"), a, b)
    verdict = walk_chain(t, t.chains["c"], DHCP)
    assert (verdict.kind, verdict.rule.position, verdict.rule_chain) == ("accept", 2, "c")
    assert [s.line() for s in verdict.steps] == [
        "table inet t chain c: rule 1 (rule text 1) -> jump a",
        "table inet t chain a: rule 1 (rule text 1) -> jump b",
        "table inet t chain a: rule 2 (rule text 2) -> return",
        "table inet t chain c: rule 2 (rule text 2) -> accept",
    ]
    assert [s.decides for s in verdict.steps] == [False, False, False, True]
    gone = table(base(rule(Verdict("goto", "g")), rule(ACCEPT, position=2), policy="drop"), Chain("g", (rule(DROP, handle=7),)))
    verdict = walk_chain(gone, gone.chains["c"], DHCP)
    assert (verdict.kind, verdict.rule.handle, verdict.rule_chain) == ("drop", 7, "g")
    assert verdict.where == "table inet t chain g: handle 7 (rule text 1)"


def test_a_jump_to_a_missing_chain_or_a_loop_comes_back():
    missing = table(base(rule(Verdict("jump", "nowhere")), rule(DROP, position=2)))
    assert kind(missing, DHCP) == "drop"
    loop = table(base(rule(Verdict("jump", "a")), rule(DROP, position=2)), Chain("a", (rule(Verdict("jump", "a")),)))
    verdict = walk_chain(loop, loop.chains["c"], DHCP)
    assert verdict.kind == "drop" and len(verdict.steps) == MAX_DEPTH + 2  # c's jump, one of a's at each depth, the drop
    circle = table(base(rule(Verdict("goto", "a")), policy="drop"), Chain("a", (rule(Verdict("goto", "a")),)))
    verdict = walk_chain(circle, circle.chains["c"], DHCP)
    assert verdict.kind == "drop" and verdict.rule is None and len(verdict.steps) == MAX_DEPTH + 2  # c's goto, a's, the policy


def test_step_lines_and_what_decides():
    t = table(base())
    r = rule(DROP, handle=4)
    assert Step(t, "c", None, "policy accept").line() == "table inet t chain c: policy accept"
    assert Step(t, "c", r, "drop").line() == "table inet t chain c: handle 4 (rule text 1) -> drop"
    assert Step(t, "c", r, "drop", "assumed so").line() == "table inet t chain c: handle 4 (rule text 1): assumed so"
    decides = {a: Step(t, "c", r, a).decides for a in ("accept", "drop", "masquerade", "jump x", "goto x", "return",
                                                        "continue", "policy accept", "policy drop")}
    assert decides == {"accept": True, "drop": True, "masquerade": True, "jump x": False, "goto x": False, "return": False,
                       "continue": False, "policy accept": False, "policy drop": True}
    assert Step(t, "c", r, "drop", "assumed so").decides is False


def test_every_base_chain_on_the_hook_runs_in_priority_order_until_a_drop():
    late = table(base(rule(DROP), name="late", priority=10), name="late")
    early = table(base(rule(ACCEPT), name="early", priority=-10), name="early")
    ip6 = table(base(rule(DROP), name="v6", priority=-20), family="ip6", name="six")
    verdict = walk_hook((late, early, ip6), "input", DHCP)
    assert [c.chain.name for c in verdict.chains] == ["early", "late"]  # an accept ends only its own base chain
    assert verdict.dropped_by.chain.name == "late" and verdict.nat is None
    reject = table(base(rule(Verdict("reject")), name="first", priority=-5), name="r")
    verdict = walk_hook((late, reject), "input", DHCP)
    assert [c.chain.name for c in verdict.chains] == ["first"] and verdict.dropped_by.kind == "reject"
    assert walk_hook((late,), "forward", DHCP).chains == []


def test_nat_chains_see_new_connections_until_one_binds():
    snat = table(base(rule(Verdict("snat")), name="n1", hook="postrouting", type="nat", priority=100), name="a")
    masq = table(base(rule(Verdict("masquerade")), name="n2", hook="postrouting", type="nat", priority=110), name="b")
    filt = table(base(name="f", hook="postrouting", priority=120), name="c")
    verdict = walk_hook((snat, masq, filt), "postrouting", PING)
    assert [c.chain.name for c in verdict.chains] == ["n1", "f"] and verdict.nat.kind == "snat"
    reply = walk_hook((snat, masq, filt), "postrouting", PONG)
    assert [c.chain.name for c in reply.chains] == ["f"] and reply.nat is None
    dnat = table(base(rule(Verdict("dnat")), name="d", hook="prerouting", type="nat", priority=-100), name="d")
    assert walk_hook((dnat,), "prerouting", HTTPS).nat.kind == "dnat"


def test_bridge_and_netdev_tables_with_rules_on_the_hook_are_named():
    def other(family, rules):
        return table(base(*rules, name="x"), family=family, name=family[:3])
    verdict = walk_hook((other("bridge", [rule(DROP)]), other("netdev", [rule(DROP)]), other("bridge", [])), "input", DHCP)
    assert verdict.unmodelled == ["table bridge bri (bridge family, not modelled)", "table netdev net (netdev family, not modelled)"]
    assert verdict.dropped_by is None and verdict.chains == []
    assert walk_hook((other("bridge", [rule(DROP)]),), "forward", DHCP).unmodelled == []
