"""`nft -j list ruleset` expressions one at a time: what each becomes in a rule, and the text
that names it in a message. Each snippet is the JSON nft 1.0 prints for the rule in its comment."""
from virtnat.facts.ruleset import Match, Verdict
from virtnat.facts.ruleset_nft import tables_from_nft


def rule(*expr, sets=()):
    """The one rule of chain c in table inet t, with named sets (name, elements)."""
    objects = [{"table": {"family": "inet", "name": "t"}},
               {"chain": {"family": "inet", "table": "t", "name": "c", "hook": "forward", "type": "filter", "prio": 0}}]
    objects += [{"set": {"family": "inet", "table": "t", "name": n, **({"elem": e} if e else {})}} for n, e in sets]
    objects.append({"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 7, "expr": list(expr)}})
    return tables_from_nft(objects)[0].chains["c"].rules[0]


def match(left, right, op="=="):
    return {"match": {"op": op, "left": left, "right": right}}


def payload(protocol, field):
    return {"payload": {"protocol": protocol, "field": field}}


def test_ip_protocol_is_the_l4_protocol_by_name_or_number():
    # ip protocol { tcp, 17 } accept
    found = rule(match(payload("ip", "protocol"), {"set": ["tcp", 17]}), {"accept": None})
    assert found.matches == (Match("l4proto", ("tcp", "udp"), False, 'ip protocol { "tcp", 17 }'),)
    assert found.verdict == Verdict("accept")
    assert found.text == 'ip protocol { "tcp", 17 } accept'


def test_icmp_type_implies_icmp():
    # icmp type echo-request drop
    found = rule(match(payload("icmp", "type"), "echo-request"), {"drop": None})
    assert found.matches == (Match("l4proto", ("icmp",), text="icmp"),
                             Match("icmp_type", ("echo-request",), False, 'icmp type "echo-request"'))


def test_transport_header_port_implies_no_protocol():
    # th dport != 53 drop
    found = rule(match(payload("th", "dport"), 53, "!="), {"drop": None})
    assert found.matches == (Match("dport", (53,), True, "th dport != 53"),)


def test_other_header_fields_are_unknown():
    # ip ttl 1 drop
    found = rule(match(payload("ip", "ttl"), 1), {"drop": None})
    assert found.matches == (Match("unknown", text="ip ttl 1"),)


def test_ct_mark_is_unknown_but_ct_status_is_known():
    # ct mark 0x10 accept
    assert rule(match({"ct": {"key": "mark"}}, 16), {"accept": None}).matches == (Match("unknown", text="ct mark 16"),)
    # ct status dnat accept
    assert rule(match({"ct": {"key": "status"}}, "DNAT"), {"accept": None}).matches == (
        Match("ct_status", ("dnat",), False, 'ct status "DNAT"'),)


def test_fib_daddr_type_is_the_address_type():
    # fib daddr . iif type local accept
    fib = {"fib": {"result": "type", "flags": ["daddr", "iif"]}}
    assert rule(match(fib, "local"), {"accept": None}).matches == (Match("daddr_type", ("local",), False, 'fib daddr type "local"'),)


def test_fib_lookups_other_than_the_address_type_are_unknown():
    # fib saddr . iif oif missing drop
    fib = {"fib": {"result": "oif", "flags": ["saddr", "iif"]}}
    assert rule(match(fib, False), {"drop": None}).matches == (Match("unknown", text="fib saddr . iif oif False"),)


def test_left_sides_the_model_does_not_know_are_unknown():
    # osf name "Linux" drop; and a literal on the left
    osf = rule(match({"osf": {"key": "name"}}, "Linux"), {"drop": None})
    assert osf.matches == (Match("unknown", text='{"osf":{"key":"name"}} "Linux"'),)
    literal = rule(match("x", 1), {"drop": None})
    assert literal.matches == (Match("unknown", text='"x" 1'),)


def test_order_comparisons_are_unknown():
    # tcp dport < 1024 drop
    found = rule(match(payload("tcp", "dport"), 1024, "<"), {"drop": None})
    assert found.matches == (Match("unknown", text="tcp dport < 1024"),)


def test_right_sides_the_model_cannot_list_are_unknown():
    # ip saddr . ip daddr { 10.0.0.1 . 10.0.0.2 } drop (a concatenation)
    concat = {"concat": ["10.0.0.1", "10.0.0.2"]}
    found = rule(match(payload("ip", "saddr"), concat), {"drop": None})
    assert found.matches == (Match("unknown", text='ip saddr {"concat":["10.0.0.1","10.0.0.2"]}'),)


def test_set_elements_with_timeouts_give_their_values():
    # set with timeout: elements are {"elem": {"val": ..., "timeout": ...}}
    elems = [{"elem": {"val": "10.0.0.1", "timeout": 60}}, "10.0.0.2"]
    found = rule(match(payload("ip", "saddr"), "@recent"), {"drop": None}, sets=[("recent", elems)])
    assert found.matches == (Match("saddr", ("10.0.0.1", "10.0.0.2"), False, "ip saddr @recent"),)


def test_a_set_without_elements_is_not_listed():
    # an empty named set: nft prints no "elem"; the match names a set the ruleset does not list
    found = rule(match(payload("ip", "saddr"), "@empty"), {"drop": None}, sets=[("empty", ())])
    assert found.matches == (Match("unknown", text="ip saddr @empty"),)


def test_prefix_and_range_values():
    # ip daddr 10.0.0.0/8 udp dport 1000-2000 accept
    found = rule(match(payload("ip", "daddr"), {"prefix": {"addr": "10.0.0.0", "len": 8}}),
                 match(payload("udp", "dport"), {"range": [1000, 2000]}), {"accept": None})
    assert found.matches == (Match("daddr", ("10.0.0.0/8",), False, "ip daddr 10.0.0.0/8"),
                             Match("l4proto", ("udp",), text="udp"),
                             Match("dport", ((1000, 2000),), False, "udp dport 1000-2000"))


def test_xt_target_is_an_unknown_verdict():
    # an iptables-nft rule nft cannot show: -j NFQUEUE
    found = rule({"xt": {"type": "target", "name": "NFQUEUE"}})
    assert found.verdict == Verdict("unknown", "xt target NFQUEUE")
    assert found.text == "xt target NFQUEUE"


def test_xt_match_is_an_unknown_match():
    # -m physdev --physdev-in vnet0 -j DROP
    found = rule({"xt": {"type": "match", "name": "physdev"}}, {"drop": None})
    assert found.matches == (Match("unknown", text="xt match physdev"),)
    assert (found.verdict, found.text) == (Verdict("drop"), "xt match physdev drop")


def test_statements_that_say_something_about_the_packet_are_unknown_matches():
    # socket transparent 1 ... as a statement the model does not know; counters say nothing
    found = rule({"counter": {"packets": 0, "bytes": 0}}, {"socket": {"key": "transparent"}}, {"accept": None})
    assert found.matches == (Match("unknown", text='socket {"key":"transparent"}'),)
    assert found.verdict == Verdict("accept")


def test_queue_is_an_unknown_verdict_that_goes_on():
    # queue num 1; then accept is never reached by nft, but the rule is read to its end
    found = rule({"queue": {"num": 1}}, {"accept": None})
    assert found.verdict == Verdict("accept")
    only = rule({"queue": {"num": 1}})
    assert (only.verdict, only.text) == (Verdict("unknown", "queue"), "queue")


def test_a_verdict_ends_the_rule():
    # jump other; anything after it is not read
    found = rule({"jump": {"target": "other"}}, {"drop": None})
    assert (found.verdict, found.text) == (Verdict("jump", "other"), "jump other")


def test_vmap_on_a_field_the_model_does_not_know_is_unknown():
    # meta mark vmap { 1 : accept }
    vmap = {"vmap": {"key": {"meta": {"key": "mark"}}, "data": {"set": [[1, {"accept": None}]]}}}
    found = rule(vmap)
    assert found.verdict == Verdict("unknown", "vmap on meta mark")
    assert found.text == 'meta mark vmap { 1,{"accept":null} }'


def test_vmap_skips_entries_that_are_not_pairs_and_an_empty_map_is_unknown():
    # iifname vmap { "virbr0" : drop } with a stray element nft would not print
    vmap = {"vmap": {"key": {"meta": {"key": "iifname"}}, "data": {"set": [["virbr0", {"drop": None}], "stray"]}}}
    assert rule(vmap).verdict == Verdict("vmap", field="iif", mapping=(("virbr0", Verdict("drop")),))
    empty = {"vmap": {"key": {"meta": {"key": "iifname"}}, "data": {"set": ["stray"]}}}
    assert rule(empty).verdict == Verdict("unknown", "vmap on meta iifname")


def test_vmap_value_that_is_no_verdict_is_unknown_there():
    # oifname vmap { "eth0" : "x" }
    vmap = {"vmap": {"key": {"meta": {"key": "oifname"}}, "data": {"set": [["eth0", "x"]]}}}
    assert rule(vmap).verdict == Verdict("vmap", field="oif", mapping=(("eth0", Verdict("unknown", '"x"')),))


def test_a_list_on_the_right_gives_each_value():
    found = rule(match({"meta": {"key": "iifname"}}, ["virbr0", "docker*"]), {"drop": None})
    assert found.matches == (Match("iif", ("virbr0", "docker+"), False, 'meta iifname "virbr0","docker*"'),)


def test_skipped_tables_and_their_chains_and_rules_are_left_out():
    objects = [{"table": {"family": "ip", "name": "filter"}}, {"table": {"family": "inet", "name": "t"}},
               {"chain": {"family": "ip", "table": "filter", "name": "FORWARD", "hook": "forward"}},
               {"rule": {"family": "ip", "table": "filter", "chain": "FORWARD", "expr": [{"drop": None}]}},
               {"rule": {"family": "ip", "table": "gone", "chain": "x", "expr": [{"drop": None}]}},
               {"chain": {"family": "inet", "table": "t", "name": "c"}}]
    [table] = tables_from_nft(objects, skip={("ip", "filter")})
    assert (table.family, table.name, list(table.chains)) == ("inet", "t", ["c"])
    assert (table.chains["c"].hook, table.chains["c"].policy, table.chains["c"].priority) == (None, "accept", 0)
