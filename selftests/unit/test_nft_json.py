"""`nft -j list ruleset` expressions one at a time: what each becomes in a rule, and the text
that names it in a message. Each snippet is the JSON nft 1.0 prints for the rule in its comment."""
import pytest

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


def meta(key):
    return {"meta": {"key": key}}


def test_ipv6_and_arp_headers_never_match_ipv4():
    # ip6 saddr ::1 drop; icmpv6 type 1 drop; arp operation 1 drop
    for proto, fld, value, text in (("ip6", "saddr", "::1", 'ip6 saddr "::1"'), ("icmpv6", "type", 1, "icmpv6 type 1"),
                                    ("arp", "operation", 1, "arp operation 1")):
        found = rule(match(payload(proto, fld), value, "!="), {"drop": None})
        assert found.matches == (Match("nfproto", ("ipv6",), text=text.replace(fld + " ", fld + " != ")),)


def test_meta_keys_the_model_knows():
    # meta l4proto 6; iifname "virbr0"; oif "eth0"; meta nfproto ipv4; meta pkttype { broadcast }; meta protocol ip
    cases = [("l4proto", 6, Match("l4proto", ("tcp",), False, "meta l4proto 6")),
             ("l4proto", "17", Match("l4proto", ("udp",), False, 'meta l4proto "17"')),
             ("l4proto", 1, Match("l4proto", ("icmp",), False, "meta l4proto 1")),
             ("l4proto", "GRE", Match("l4proto", ("gre",), False, 'meta l4proto "GRE"')),
             ("iifname", "virbr0", Match("iif", ("virbr0",), False, 'meta iifname "virbr0"')),
             ("iif", "virbr0", Match("iif", ("virbr0",), False, 'meta iif "virbr0"')),
             ("oifname", "Eth0", Match("oif", ("Eth0",), False, 'meta oifname "Eth0"')),
             ("oif", "eth0", Match("oif", ("eth0",), False, 'meta oif "eth0"')),
             ("nfproto", "IPv4", Match("nfproto", ("ipv4",), False, 'meta nfproto "IPv4"')),
             ("pkttype", {"set": "Broadcast"}, Match("pkttype", ("broadcast",), False, 'meta pkttype { "Broadcast" }')),
             ("protocol", "IP", Match("ethertype", ("IP",), False, 'meta protocol "IP"'))]
    for key, value, expected in cases:
        assert rule(match(meta(key), value), {"accept": None}).matches == (expected,), key
    assert rule(match(meta("mark"), 1), {"accept": None}).matches == (Match("unknown", text="meta mark 1"),)


def test_header_fields_the_model_knows():
    # ip saddr/daddr, ip protocol, {tcp,udp,sctp,dccp,udplite} sport/dport
    assert rule(match(payload("ip", "saddr"), "10.0.0.1"), {"accept": None}).matches == (
        Match("saddr", ("10.0.0.1",), False, 'ip saddr "10.0.0.1"'),)
    assert rule(match(payload("ip", "daddr"), "10.0.0.1", "!="), {"accept": None}).matches == (
        Match("daddr", ("10.0.0.1",), True, 'ip daddr != "10.0.0.1"'),)
    assert rule(match(payload("ip", "protocol"), "TCP"), {"accept": None}).matches == (
        Match("l4proto", ("tcp",), False, 'ip protocol "TCP"'),)
    for proto in ("tcp", "udp", "sctp", "dccp", "udplite"):
        assert rule(match(payload(proto, "sport"), 5), {"accept": None}).matches == (
            Match("l4proto", (proto,), text=proto), Match("sport", (5,), False, f"{proto} sport 5"))
    for proto, fld in (("tcp", "flags"), ("udp", "length"), ("icmp", "code"), ("ip", "dscp"), ("ether", "saddr")):
        assert rule(match(payload(proto, fld), 1), {"accept": None}).matches == (
            Match("unknown", text=f"{proto} {fld} 1"),)


def test_fib_daddr_alone_is_the_address_type_and_no_flags_is_unknown():
    # fib daddr type local accept; a fib with no flags
    assert rule(match({"fib": {"result": "type", "flags": ["daddr"]}}, "LOCAL"), {"accept": None}).matches == (
        Match("daddr_type", ("local",), False, 'fib daddr type "LOCAL"'),)
    assert rule(match({"fib": {"result": "type"}}, "local"), {"accept": None}).matches == (
        Match("unknown", text='fib  type "local"'),)
    assert rule(match({"fib": {"result": "type", "flags": ["saddr"]}}, "local"), {"accept": None}).matches == (
        Match("unknown", text='fib saddr type "local"'),)


def test_ct_state_in_a_list_is_lowercased():
    # ct state { established, related } accept, as nft -j prints it: a list
    found = rule(match({"ct": {"key": "state"}}, ["ESTABLISHED", "related"], "in"), {"accept": None})
    assert found.matches == (Match("ct_state", ("established", "related"), False, 'ct state "ESTABLISHED","related"'),)


def test_named_sets_and_maps_of_this_table_only():
    # ip saddr @allowed accept, where @allowed is a set of prefixes, ranges and addresses
    elems = [{"prefix": {"addr": "10.0.0.0", "len": 8}}, {"range": ["10.1.0.1", "10.1.0.9"]}, "10.2.0.1"]
    found = rule(match(payload("ip", "saddr"), "@allowed"), {"accept": None}, sets=[("allowed", elems)])
    assert found.matches == (Match("saddr", ("10.0.0.0/8", ("10.1.0.1", "10.1.0.9"), "10.2.0.1"), False, "ip saddr @allowed"),)
    objects = [{"table": {"family": "inet", "name": "t"}},
               {"map": {"family": "inet", "table": "t", "name": "m", "elem": [["virbr0", {"accept": None}]]}},
               {"set": {"family": "ip", "table": "t", "name": "s", "elem": ["10.0.0.1"]}},
               {"set": {"family": "inet", "table": "u", "name": "s", "elem": ["10.0.0.2"]}},
               {"chain": {"family": "inet", "table": "t", "name": "c"}},
               {"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [
                   {"vmap": {"key": meta("iifname"), "data": "@m"}}]}},
               {"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [
                   match(payload("ip", "saddr"), "@s"), {"drop": None}]}}]
    vmap, other = tables_from_nft(objects)[0].chains["c"].rules
    assert vmap.verdict == Verdict("vmap", field="iif", mapping=(("virbr0", Verdict("accept")),))
    assert vmap.text == "meta iifname vmap @m"
    assert other.matches == (Match("unknown", text="ip saddr @s"),)


def test_vmap_keys_in_sets_each_get_the_verdict():
    # tcp dport vmap { 22 : accept, { 53, 67 } : drop, 80-90 : jump web }
    data = {"set": [[22, {"accept": None}], [{"set": [53, 67]}, {"drop": None}],
                    [{"range": [80, 90]}, {"jump": {"target": "web"}}]]}
    found = rule({"vmap": {"key": payload("tcp", "dport"), "data": data}})
    assert found.verdict == Verdict("vmap", field="dport", mapping=(
        (22, Verdict("accept")), (53, Verdict("drop")), (67, Verdict("drop")), ((80, 90), Verdict("jump", "web"))))
    assert found.matches == ()


def test_vmap_on_each_field_the_model_walks():
    for left, field in ((meta("iifname"), "iif"), (meta("oifname"), "oif"), (meta("l4proto"), "l4proto"),
                        (payload("udp", "sport"), "sport"), (payload("ip", "saddr"), "saddr"),
                        (payload("ip", "daddr"), "daddr")):
        found = rule({"vmap": {"key": left, "data": {"set": [["x", {"drop": None}]]}}})
        assert found.verdict == Verdict("vmap", field=field, mapping=(("x", Verdict("drop")),)), field
    unknown = rule({"vmap": {"key": {"ct": {"key": "state"}}, "data": {"set": [["new", {"drop": None}]]}}})
    assert unknown.verdict == Verdict("unknown", "vmap on ct state")


def test_vmap_on_a_missing_set_or_not_a_list_is_unknown():
    assert rule({"vmap": {"key": meta("iifname"), "data": "@gone"}}).verdict == Verdict("unknown", "vmap on meta iifname")
    assert rule({"vmap": {"key": meta("iifname"), "data": {"set": {"x": 1}}}}).verdict == Verdict(
        "unknown", "vmap on meta iifname")
    # an entry whose key is no value the model can list is left out
    found = rule({"vmap": {"key": meta("iifname"), "data": {"set": [[{"x": 1}, {"drop": None}], ["a", {"queue": {}}]]}}})
    assert found.verdict == Verdict("vmap", field="iif", mapping=(("a", Verdict("unknown", "queue")),))


@pytest.mark.parametrize("expr, verdict, text", [
    ({"accept": None}, Verdict("accept"), "accept"),
    ({"drop": None}, Verdict("drop"), "drop"),
    ({"reject": {"type": "tcp reset"}}, Verdict("reject"), "reject"),
    ({"return": None}, Verdict("return"), "return"),
    ({"goto": {"target": "x"}}, Verdict("goto", "x"), "goto x"),
    ({"masquerade": None}, Verdict("masquerade"), "masquerade"),
    ({"snat": {"addr": "10.0.0.1"}}, Verdict("snat"), "snat"),
    ({"dnat": {"addr": "10.0.0.1"}}, Verdict("dnat"), "dnat"),
    ({"redirect": {"port": 53}}, Verdict("redirect"), "redirect"),
])
def test_verdicts_end_the_rule(expr, verdict, text):
    found = rule({"counter": None}, expr, {"accept": None} if verdict.kind != "accept" else {"drop": None})
    assert (found.verdict, found.text, found.matches) == (verdict, text, ())


def test_continue_goes_on_to_the_next_statement():
    found = rule({"continue": None}, {"drop": None})
    assert (found.verdict, found.text) == (Verdict("drop"), "continue drop")


def test_statements_that_say_nothing_about_the_packet_are_left_out():
    # counter, log, limit, ..., as nft -j prints them, then accept
    passive = [{"log": {"prefix": "x"}}, {"limit": {"rate": 1}}, {"quota": {"val": 1}}, {"ct helper": "ftp"},
               {"ct timeout": "t"}, {"ct expectation": "e"}, {"set": {"op": "add"}}, {"mangle": {"key": 1}},
               {"notrack": None}, {"meta": {"key": "mark"}}, {"dup": {"addr": "10.0.0.1"}}, {"synproxy": {}},
               {"ct count": {"val": 1}}, {"secmark": "s"}, {"connlimit": {"val": 1}}, {"tproxy_mark": 1},
               {"flow": {"op": "add"}}]
    found = rule(*passive, {"accept": None})
    assert (found.matches, found.verdict, found.text) == ((), Verdict("accept"), "accept")


def test_an_unknown_statement_names_itself_with_its_value():
    found = rule({"fwd": {"dev": "eth0"}}, {"numgen": 1}, {"accept": None})
    assert found.matches == (Match("unknown", text='fwd {"dev":"eth0"}'), Match("unknown", text="numgen 1"))


def test_chains_rules_and_tables_of_every_family():
    objects = [{"table": {"family": "ip", "name": "a"}}, {"table": {"family": "inet", "name": "a"}},
               {"rule": {"family": "ip", "table": "a", "chain": "early", "handle": 3, "expr": [{"drop": None}]}},
               {"chain": {"family": "ip", "table": "a", "name": "early", "hook": "input", "type": "filter",
                          "prio": -10, "policy": "drop"}},
               {"chain": {"family": "inet", "table": "a", "name": "c", "hook": "output", "type": "route", "prio": "raw"}},
               {"rule": {"family": "inet", "table": "a", "chain": "c", "expr": [{"accept": None}]}},
               {"rule": {"family": "inet", "table": "a", "chain": "c", "expr": [{"drop": None}]}},
               {"rule": {"family": "inet", "table": "a", "chain": "headless"}}]
    ip, inet = tables_from_nft(objects)
    assert (ip.family, ip.name, ip.source, ip.label) == ("ip", "a", "nftables", "table ip a")
    early = ip.chains["early"]
    assert (early.name, early.hook, early.type, early.priority, early.policy) == ("early", "input", "filter", -10, "drop")
    assert [(r.position, r.handle, r.verdict.kind) for r in early.rules] == [(1, 3, "drop")]
    c = inet.chains["c"]
    assert (c.hook, c.type, c.priority, c.policy) == ("output", "route", 0, "accept")
    assert [(r.position, r.handle, r.verdict.kind) for r in c.rules] == [(1, None, "accept"), (2, None, "drop")]
    headless = inet.chains["headless"]
    assert (headless.hook, headless.type, headless.priority, headless.policy) == (None, None, 0, "accept")
    assert headless.rules[0].verdict == Verdict("continue") and headless.rules[0].text == ""


def test_a_match_without_an_operator_is_equality():
    found = rule({"match": {"left": payload("ip", "saddr"), "right": "10.0.0.1"}}, {"accept": None})
    assert found.matches == (Match("saddr", ("10.0.0.1",), False, 'ip saddr "10.0.0.1"'),)
