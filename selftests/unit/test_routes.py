"""Routes and policy rules from `ip -j`: exact facts, the defaults every host has, one-line errors."""
import json

import pytest

from virtnat.errors import FactError
from virtnat.facts.model import DEFAULT_RULES, RouteFacts
from virtnat.facts.routes import parse_policy_rules, parse_routes


def test_routes_of_every_table_in_the_kernels_order():
    text = json.dumps([
        {"dst": "default", "gateway": "10.0.2.2", "dev": "eth0", "protocol": "dhcp", "metric": 100, "flags": []},
        {"dst": "192.168.122.5/24", "dev": "virbr0", "prefsrc": "192.168.122.1", "flags": ["linkdown"]},
        {"type": "blackhole", "dst": "10.9.0.0/16", "metric": None},
        {"type": "local", "dst": "192.168.122.1", "table": "local", "dev": "virbr0", "prefsrc": "192.168.122.1"},
        {"dst": "10.8.0.0/16", "table": "100", "dev": "wg0"},
        {"dst": "10.7.0.0/16", "table": 254, "dev": "wg1"},
    ])
    assert parse_routes(text) == (
        RouteFacts("0.0.0.0/0", "eth0", "10.0.2.2", "unicast", "main", 100, None),
        RouteFacts("192.168.122.0/24", "virbr0", None, "unicast", "main", 0, "192.168.122.1"),
        RouteFacts("10.9.0.0/16", None, None, "blackhole", "main", 0, None),
        RouteFacts("192.168.122.1/32", "virbr0", None, "local", "local", 0, "192.168.122.1"),
        RouteFacts("10.8.0.0/16", "wg0", None, "unicast", "100", 0, None),
        RouteFacts("10.7.0.0/16", "wg1", None, "unicast", "main", 0, None),  # main by its number
    )


def test_empty_outputs_are_none():
    assert parse_routes("") == ()
    assert parse_policy_rules("") == ()


@pytest.mark.parametrize("parse, what, text, says", [
    (parse_routes, "ip -j route", '{"dst": "default"}', "not what iproute2 prints: a JSON dict, not a list"),
    (parse_policy_rules, "ip -j rule", "{}", "not what iproute2 prints: a JSON dict, not a list"),
    (parse_policy_rules, "ip -j rule", '"no rules"', "not what iproute2 prints: a JSON str, not a list"),
    (parse_policy_rules, "ip -j rule", "7", "not what iproute2 prints: a JSON int, not a list"),
    (parse_policy_rules, "ip -j rule", '["0: from all lookup local"]', "not a rule as iproute2 prints it: 0: from all lookup local"),
    (parse_policy_rules, "ip -j rule", "[[{}]]", "not a rule as iproute2 prints it: [{}]"),
    (parse_policy_rules, "ip -j rule", "[" * 100000, "not JSON: maximum recursion depth exceeded"),
], ids=["routes dict", "rules dict", "rules string", "rules number", "rules of text", "rules nested", "rules nested deeply"])
def test_a_section_of_the_wrong_shape_is_one_line_never_none(parse, what, text, says):
    """A rules section that is not iproute2's list is no "no rules": the checks that need it
    are not checked (the packet path's fixture says why)."""
    with pytest.raises(FactError) as err:
        parse(text)
    assert str(err.value).startswith(f"{what}: {says}")


def test_not_json_is_one_line():
    with pytest.raises(FactError) as err:
        parse_routes("Error: ipv4: FIB table does not exist.")
    assert str(err.value) == "ip -j route: not JSON: Expecting value: line 1 column 1 (char 0)"
    with pytest.raises(FactError) as err:
        parse_policy_rules("[")
    assert str(err.value).startswith("ip -j rule: not JSON: Expecting value")


@pytest.mark.parametrize("entry, why", [
    ({"dev": "eth0"}, "('' does not appear to be an IPv4 or IPv6 interface)"),
    ({"dst": "default", "metric": "high"}, "invalid literal for int()"),
    ("x" * 100, "'str' object has no attribute 'get'"),
])
def test_a_route_iproute2_would_not_print_is_one_line(entry, why):
    with pytest.raises(FactError) as err:
        parse_routes(json.dumps([entry]))
    message = str(err.value)
    assert message.startswith(f"ip -j route: not a route as iproute2 prints it: {str(entry)[:80]} (")
    assert why in message and message.endswith(")") and "\n" not in message
    assert "x" * 81 not in message


def beyond_defaults(text: str) -> list[str]:
    return [rule.text for rule in parse_policy_rules(text) if rule not in DEFAULT_RULES]


def test_the_default_rules_are_told_apart_and_others_kept_as_ip_prints_them():
    text = json.dumps([
        {"priority": 0, "src": "all", "table": "local"},
        {"priority": 32766, "src": "all", "table": "main"},
        {"priority": 32767, "table": "default"},
        {"priority": 100, "src": "all", "table": "main", "flags": ["x"], "fwmark": "0x1"},
        {"priority": 32766, "src": "10.0.0.0/8", "table": "main"},
        {"priority": 200, "src": "all", "table": "local"},
        {"priority": 0, "src": "all", "table": "main"},
        {"priority": 5, "table": 7},
    ])
    assert beyond_defaults(text) == ["100: from all fwmark 0x1 lookup main", "32766: from 10.0.0.0/8 lookup main",
                                     "200: from all lookup local", "0: from all lookup main", "5: from all lookup 7"]


def test_a_default_rule_with_anything_more_is_kept():
    assert beyond_defaults('[{"priority": 0, "src": "all", "table": "local", "iif": "lo"}]') == ["0: from all iif lo lookup local"]
    assert beyond_defaults('[{"priority": 32767, "src": "all", "table": "default", "flags": []}]') == []
