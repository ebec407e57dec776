"""Policy routing: `ip rule` as iproute2 prints it (recorded, selftests/data/policy/record.sh) and
the route the kernel gives a packet through the rules, as fib_rules.c decides it."""
import dataclasses
import json

import pytest

from virtnat.errors import FactError
from virtnat.facts.model import DEFAULT_RULES, PolicyRule, RouteFacts
from virtnat.facts.routes import parse_policy_rules, parse_routes
from virtnat.path.policy import Decision, Flow, resolve

GUEST, GATEWAY, OUTSIDE = "192.168.122.5", "192.168.122.1", "203.0.113.9"
MAIN = (RouteFacts("0.0.0.0/0", "eth0", "10.0.2.2"), RouteFacts("10.0.2.0/24", "eth0"),
        RouteFacts("192.168.122.0/24", "virbr0", prefsrc=GATEWAY))
OUT = Flow(GUEST, OUTSIDE, iif="virbr0", l4proto="icmp")  # a guest's packet, forwarded
ANSWER = Flow(GATEWAY, GUEST, iif=None, l4proto="udp", sport=53, dport=40000, uid=None)  # the host's DNS answer


def rules(*lines: str) -> tuple[PolicyRule, ...]:
    """Rules from `priority: words` lines, through iproute2's JSON shape, plus the defaults."""
    entries = [{"priority": 0, "src": "all", "table": "local"}]
    for line in lines:
        priority, _, words = line.partition(": ")
        entry, tokens = {"priority": int(priority), "src": "all"}, words.split()
        while tokens:
            word = tokens.pop(0)
            if word in ("not", "nop"):
                entry[word] = None
            elif word in ("blackhole", "unreachable", "prohibit"):
                entry["action"] = word
            elif word == "from":
                address = tokens.pop(0)
                if address != "all":
                    entry["src"], _, length = address.partition("/")
                    entry["srclen"] = int(length or 32)
            elif word == "to":
                entry["dst"], _, length = tokens.pop(0).partition("/")
                entry["dstlen"] = int(length or 32)
            elif word == "fwmark":
                mark, _, mask = tokens.pop(0).partition("/")
                entry.update({"fwmark": mark, **({"fwmask": mask} if mask else {})})
            elif word == "lookup":
                entry["table"] = tokens.pop(0)
            elif word == "suppress_prefixlength":
                entry["suppress_prefixlen"] = int(tokens.pop(0))
            elif word == "goto":
                entry["goto"] = int(tokens.pop(0))
            elif word == "uidrange":
                start, _, end = tokens.pop(0).partition("-")
                entry.update(uid_start=int(start), uid_end=int(end))
            else:
                entry[word] = tokens.pop(0)
        entries.append(entry)
    entries += [{"priority": 32766, "src": "all", "table": "main"}, {"priority": 32767, "src": "all", "table": "default"}]
    return parse_policy_rules(json.dumps(entries))


def route(dst, dev=None, table="main", type="unicast"):
    return RouteFacts(dst, dev, None, type, table)


# -- the facts ---------------------------------------------------------------------------------

def test_every_kind_of_rule_as_iproute2_prints_it(data):
    found = parse_policy_rules(data("policy/rules.json"))
    assert [r.text for r in found] == [
        "0: from all lookup local",
        "100: from 10.0.0.0/8 to 192.168.1.0/24 lookup 100",
        "101: not from all fwmark 0xca6c/0xffff lookup 51820",
        "102: from all fwmark 0x10 blackhole",
        "103: from all iif d0 oif lo unreachable",
        "104: from all ipproto udp sport 53 dport 1000-2000 prohibit",
        "105: from all uidrange 0-1000 goto 200",
        "106: from all tos 0x10 nop",
        "107: from all lookup main suppress_prefixlength 0",
        "108: from all lookup main suppress_ifgroup 3",
        "109: from all lookup 5210",
        "110: from all iif lo lookup local",
        "200: from all lookup 52",
        "32766: from all lookup main",
        "32767: from all lookup default",
    ]
    assert found[2] == PolicyRule(101, "lookup", "51820", invert=True, fwmark=0xca6c, fwmask=0xffff)
    assert found[5] == PolicyRule(104, "prohibit", ipproto="udp", sport=(53, 53), dport=(1000, 2000))
    assert found[6] == PolicyRule(105, "goto", target=200, uidrange=(0, 1000))
    assert (found[7].action, found[7].tos, found[8].suppress_prefixlength, found[9].suppress_ifgroup) == ("nop", 0x10, 0, "3")


def test_routes_of_every_table_and_kind(data):
    found = {(r.table, r.type, r.dst) for r in parse_routes(data("policy/routes.json"))}
    assert {("52", "unreachable", "0.0.0.0/0"), ("52", "prohibit", "10.7.0.0/16"), ("100", "throw", "10.5.0.0/16"),
            ("100", "blackhole", "10.6.0.0/16"), ("51820", "unicast", "0.0.0.0/0"), ("main", "unicast", "0.0.0.0/0"),
            ("local", "local", "10.99.0.1/32")} <= found


@pytest.mark.parametrize("entry", [[1], "0: from all", {"priority": "x", "table": "main"}, {"src": "nowhere", "srclen": 8}])
def test_a_rule_iproute2_would_not_print_is_one_line(entry):
    with pytest.raises(FactError) as err:
        parse_policy_rules(json.dumps([entry]))
    assert str(err.value).startswith("ip -j rule: not a rule as iproute2 prints it: ") and "\n" not in str(err.value)


def test_numbers_of_the_usual_tables_are_their_names_and_other_selectors_are_kept_as_unknown():
    [rule] = parse_policy_rules('[{"priority": 9, "src": "all", "l3mdev": null, "tos": "lowdelay", "table": 254}]')
    assert (rule.table, rule.unknown, rule.tos) == ("main", ("l3mdev", "tos lowdelay"), None)
    assert rule.text == "9: from all l3mdev tos lowdelay lookup main"


# -- the kernel's choice -----------------------------------------------------------------------

def test_without_policy_rules_the_main_table_decides():
    decision = resolve(DEFAULT_RULES, MAIN, OUT)
    assert (decision.route, decision.rule, decision.assumptions) == (MAIN[0], DEFAULT_RULES[1], ())
    assert decision.says() == "`default via 10.0.2.2 dev eth0`"
    assert resolve((), MAIN, OUT).route == MAIN[0]  # no rules read: the defaults


WG_QUICK = ("32764: lookup main suppress_prefixlength 0", "32765: not fwmark 0xca6c lookup 51820")


def test_wg_quick_sends_the_guests_out_through_the_tunnel_and_keeps_their_replies_home():
    routes = (*MAIN, route("0.0.0.0/0", "wg0", "51820"))
    out = resolve(rules(*WG_QUICK), routes, OUT)
    assert (out.route.dev, out.rule.priority) == ("wg0", 32765)
    assert out.says() == "rule `32765: not from all fwmark 0xca6c lookup 51820`: `default dev wg0` of table 51820"
    home = resolve(rules(*WG_QUICK), routes, ANSWER)
    assert (home.route.dev, home.rule.priority) == ("virbr0", 32764)
    marked = resolve(rules(*WG_QUICK), routes, Flow(GATEWAY, OUTSIDE, iif=None, fwmark=0xca6c))
    assert (marked.route.dev, marked.rule.priority) == ("eth0", 32766)  # the tunnel's own packets


TAILSCALE = ("5210: fwmark 0x80000/0xff0000 lookup main", "5230: fwmark 0x80000/0xff0000 lookup default",
             "5250: fwmark 0x80000/0xff0000 unreachable", "5270: lookup 52")


def test_an_exit_node_takes_the_hosts_answers_to_the_guests_away():
    routes = (*MAIN, route("100.64.0.0/10", "tailscale0", "52"), route("0.0.0.0/0", "tailscale0", "52"))
    answer = resolve(rules(*TAILSCALE), routes, Flow(GATEWAY, GUEST, iif=None, l4proto="udp", sport=53, uid=0))
    assert (answer.route.dev, answer.rule.priority) == ("tailscale0", 5270)
    lan = (*routes, route("192.168.122.0/24", None, "52", "throw"))  # --exit-node-allow-lan-access
    assert resolve(rules(*TAILSCALE), lan, ANSWER).route.dev == "virbr0"


def test_a_mark_the_model_does_not_know_is_an_assumption():
    decision = resolve(rules(*TAILSCALE), MAIN, Flow(GUEST, OUTSIDE, iif="virbr0", fwmark=None))
    assert decision.route == MAIN[0]
    assert decision.assumptions == tuple(f"`{r}`: the packet's mark is not known" for r in (
        "5210: from all fwmark 0x80000/0xff0000 lookup main", "5230: from all fwmark 0x80000/0xff0000 lookup default",
        "5250: from all fwmark 0x80000/0xff0000 unreachable"))


@pytest.mark.parametrize("lines, extra, says", [
    (("100: from 192.168.122.0/24 blackhole",), (), "rule `100: from 192.168.122.0/24 blackhole` refuses it (blackhole)"),
    (("100: from 192.168.122.0/24 lookup 7",), (route("0.0.0.0/0", None, "7", "unreachable"),),
     "rule `100: from 192.168.122.0/24 lookup 7` leads to `unreachable default` of table 7"),
    (("100: iif virbr0 prohibit",), (), "rule `100: from all iif virbr0 prohibit` refuses it (prohibit)"),
    (("100: not from 10.0.0.0/8 unreachable",), (), "rule `100: not from 10.0.0.0/8 unreachable` refuses it (unreachable)"),
], ids=["source blackhole", "table unreachable", "iif prohibit", "not from"])
def test_rules_that_cut_the_guests_off(lines, extra, says):
    decision = resolve(rules(*lines), (*MAIN, *extra), OUT)
    assert (decision.route, decision.refused) == (None, says)


@pytest.mark.parametrize("lines, extra", [
    (("100: from 10.0.0.0/8 blackhole",), ()),  # other traffic
    (("100: from 192.168.122.0/24 lookup 7",), (route("0.0.0.0/0", "eth0", "7"),)),  # a table that still leads out
    (("100: from 192.168.122.0/24 lookup 7",), (route("10.0.0.0/8", "eth1", "7"),)),  # no route there: next rule
    (("100: from 192.168.122.0/24 lookup 7",), (route("0.0.0.0/0", None, "7", "throw"),)),  # a throw: next rule
    (("100: iif eth0 blackhole",), ()),
    (("100: oif eth0 blackhole",), ()),
    (("100: ipproto udp blackhole",), ()),
    (("100: dport 53 blackhole",), ()),
    (("100: tos 0x10 blackhole",), ()),
    (("100: uidrange 1000-2000 blackhole",), ()),  # forwarded packets are root's
    (("100: fwmark 0x1 blackhole",), ()),
    (("100: lookup main suppress_prefixlength 0", "101: blackhole"), ()),
], ids=["other source", "table leads out", "table without route", "throw", "iif", "oif", "ipproto", "dport", "tos", "uid",
        "fwmark", "suppressed then refused"])
def test_rules_that_leave_the_guests_alone(lines, extra):
    decision = resolve(rules(*lines), (*MAIN, *extra), OUT)
    if lines[-1] == "101: blackhole":
        assert decision.route is None and decision.rule.priority == 101  # the suppressed default goes on to the next rule
        return
    assert decision.route is not None and decision.route.dev == "eth0" and decision.assumptions == ()


def test_goto_jumps_to_its_priority_and_nop_goes_on():
    jump = rules("100: goto 300", "200: blackhole", "300: nop", "301: lookup 7")
    decision = resolve(jump, (*MAIN, route("0.0.0.0/0", "wg0", "7")), OUT)
    assert (decision.route.dev, decision.assumptions) == ("wg0", ())  # nop is modelled: nothing assumed
    nowhere = rules("100: goto 250", "200: blackhole")  # no rule at 250: the goto is skipped
    assert resolve(nowhere, MAIN, OUT).rule.priority == 200


def test_unknown_selectors_and_actions_are_assumptions():
    odd = parse_policy_rules(json.dumps([{"priority": 5, "src": "all", "l3mdev": None, "action": "blackhole"},
                                         {"priority": 6, "src": "all", "action": "nat"}, *[
                                             {"priority": p, "src": "all", "table": t} for p, t in ((32766, "main"),)]]))
    decision = resolve(odd, MAIN, OUT)
    assert decision.route == MAIN[0]
    assert decision.assumptions == ("`5: from all l3mdev blackhole`: l3mdev is not modelled",
                                    "`6: from all nat`: action nat is not modelled")


def test_a_refusal_keeps_what_was_assumed_on_the_way():
    decision = resolve(rules("100: uidrange 0-1000 lookup 7", "200: blackhole"), MAIN, ANSWER)
    assert decision.refused == "rule `200: from all blackhole` refuses it (blackhole)"
    assert decision.assumptions == ("`100: from all uidrange 0-1000 lookup 7`: the sending process's uid is not known",)


def test_port_address_and_interface_selectors():
    routes = (*MAIN, route("0.0.0.0/0", "wg0", "7"))

    def dev(rule, flow=ANSWER):
        return resolve((rule, *DEFAULT_RULES), routes, flow).route.dev
    assert dev(PolicyRule(100, "lookup", "7", sport=(53, 53))) == "wg0"
    assert dev(PolicyRule(100, "lookup", "7", sport=(1, 52))) == "virbr0"
    assert dev(PolicyRule(100, "lookup", "7", dport=(40000, 40000))) == "wg0"
    assert dev(PolicyRule(100, "lookup", "7", dport=(1, 1000))) == "virbr0"
    assert dev(PolicyRule(100, "lookup", "7", dport=(32768, 60999))) == "wg0"
    assert dev(PolicyRule(100, "lookup", "7", uidrange=(0, 1000)), OUT) == "wg0"  # forwarded: looked up as root's
    assert dev(PolicyRule(100, "lookup", "7", uidrange=(1, 1000)), OUT) == "eth0"
    assert dev(PolicyRule(100, "lookup", "7", fwmark=0x1, fwmask=0xff), dataclasses.replace(OUT, fwmark=0x101)) == "wg0"
    assert dev(PolicyRule(100, "lookup", "7", fwmark=0x1), dataclasses.replace(OUT, fwmark=0x101)) == "eth0"
    assert dev(PolicyRule(100, "lookup", "7", iif="lo")) == "wg0"  # the host's own packet is looked up as from lo
    assert dev(PolicyRule(100, "lookup", "7", iif="lo"), OUT) == "eth0"
    assert dev(PolicyRule(100, "lookup", "7", dst="203.0.113.0/24"), OUT) == "wg0"
    assert dev(PolicyRule(100, "lookup", "7", dst="198.51.100.0/24"), OUT) == "eth0"


def test_a_rule_without_oif_selects_a_packet_sent_out_of_a_chosen_interface():
    dhcp = Flow(GATEWAY, GUEST, iif=None, oif="virbr0", l4proto="udp", sport=67, dport=68)
    decision = resolve(DEFAULT_RULES, MAIN, dhcp)
    assert (decision.route, decision.rule) == (MAIN[2], DEFAULT_RULES[1])


def test_a_packet_sent_out_of_a_chosen_interface_is_taken_on_link_where_the_rules_refuse_it():
    """ip_route_output_key_hash_rcu: with the interface chosen, a failed lookup means the
    destination is on link; the rule that refused it and what was assumed on the way are kept."""
    dhcp = Flow(GATEWAY, GUEST, iif=None, oif="virbr0", l4proto="udp", sport=67, dport=68, fwmark=None)
    odd = (PolicyRule(50, "lookup", "7", fwmark=0x1), PolicyRule(100, "blackhole"), *DEFAULT_RULES)
    assert resolve(odd, MAIN, dhcp) == Decision(RouteFacts(f"{GUEST}/32", "virbr0", table="on-link"), odd[1], None,
                                                ("`50: from all fwmark 0x1 lookup 7`: the packet's mark is not known",))


def test_what_was_assumed_is_kept_whatever_the_answer():
    unknown_uid = PolicyRule(100, "lookup", "7", uidrange=(0, 1000))
    assumed = ("`100: from all uidrange 0-1000 lookup 7`: the sending process's uid is not known",)
    blocked = resolve((unknown_uid, *DEFAULT_RULES), (route("0.0.0.0/0", None, "main", "blackhole"),), ANSWER)
    assert (blocked.blocked, blocked.rule, blocked.assumptions) == (route("0.0.0.0/0", None, "main", "blackhole"),
                                                                    DEFAULT_RULES[1], assumed)
    nothing = resolve((unknown_uid, *DEFAULT_RULES), (), ANSWER)
    assert (nothing.refused, nothing.assumptions) == ("no rule's table has a route to it", assumed)
    groups = resolve((PolicyRule(100, "lookup", "main", suppress_ifgroup="3"), *DEFAULT_RULES), MAIN, OUT)
    assert (groups.route, groups.assumptions) == (
        MAIN[0], ("`100: from all lookup main suppress_ifgroup 3`: interface groups are not modelled (taken as not suppressed)",))


def test_no_table_with_a_route():
    assert resolve(rules(), (), OUT).refused == "no rule's table has a route to it"
    assert resolve(rules(), (route("0.0.0.0/0", None, "main", "blackhole"),), OUT).refused == \
        "rule `32766: from all lookup main` leads to `blackhole default` of table main"
