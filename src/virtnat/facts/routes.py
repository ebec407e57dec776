"""Pure parsers: `ip -j -4 route show table all` and `ip -j -4 rule show`."""
from __future__ import annotations

import ipaddress
import json

from ..errors import FactError
from .model import PolicyRule, RouteFacts

# The tables every host has, by the numbers a tool may print instead of their names.
TABLE_NAMES = {"253": "default", "254": "main", "255": "local"}


def table_name(table) -> str:
    return TABLE_NAMES.get(str(table), str(table))


def _load(text: str, what: str) -> list:
    """The JSON list iproute2 prints; anything else is a FactError (never "no routes" or "no rules")."""
    try:
        data = json.loads(text or "[]")
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FactError(f"{what}: not JSON: {exc}") from None
    if not isinstance(data, list):
        raise FactError(f"{what}: not what iproute2 prints: a JSON {type(data).__name__}, not a list")
    return data


def parse_routes(text: str) -> tuple[RouteFacts, ...]:
    """IPv4 routes of every table, in the order the kernel lists (and prefers) them."""
    routes = []
    for entry in _load(text, "ip -j route"):
        try:
            routes.extend(_route(entry))
        except (AttributeError, TypeError, ValueError) as exc:
            raise FactError(f"ip -j route: not a route as iproute2 prints it: {str(entry)[:80]} ({exc})") from None
    return tuple(routes)


def _route(entry: dict) -> list[RouteFacts]:
    table = table_name(entry.get("table", "main"))
    dst = entry.get("dst", "")
    dst = "0.0.0.0/0" if dst == "default" else str(ipaddress.ip_interface(dst).network)
    return [RouteFacts(dst=dst, dev=entry.get("dev"), gateway=entry.get("gateway"), type=entry.get("type", "unicast"),
                       table=table, metric=int(entry.get("metric") or 0), prefsrc=entry.get("prefsrc"))]


# Keys of `ip -j rule` that say nothing about which packets a rule selects or what it does.
_QUIET = {"priority", "not", "src", "srclen", "dst", "dstlen", "iif", "iif_detached", "oif", "oif_detached", "fwmark",
          "fwmask", "ipproto", "sport", "sport_start", "sport_end", "dport", "dport_start", "dport_end", "uid_start",
          "uid_end", "tos", "table", "action", "goto", "nop", "suppress_prefixlen", "suppress_ifgroup", "protocol", "flags"}


def _prefix(rule: dict, key: str) -> str | None:
    address = rule.get(key, "all")
    if address == "all":
        return None
    if "/" not in str(address):
        address = f"{address}/{rule.get(key + 'len', 32)}"
    return str(ipaddress.ip_network(address, strict=False))


def _range(rule: dict, key: str) -> tuple[int, int] | None:
    if key in rule:
        return int(rule[key]), int(rule[key])
    start, end = rule.get(f"{key}_start"), rule.get(f"{key}_end")
    return None if start is None else (int(start), int(end if end is not None else start))


def _number(value) -> int | None:
    return None if value is None else int(str(value), 0)


def _policy_rule(rule: dict) -> PolicyRule:
    if "goto" in rule:
        action = "goto"
    elif "nop" in rule:
        action = "nop"
    else:
        action = rule.get("action") or ("lookup" if "table" in rule else "unknown")
    tos = rule.get("tos")
    unknown = tuple(sorted(k for k in rule if k not in _QUIET))
    if tos is not None and not str(tos).startswith("0x"):
        unknown, tos = (*unknown, f"tos {tos}"), None  # a name from rt_dsfield: no number to compare
    suppress = rule.get("suppress_prefixlen")
    return PolicyRule(
        priority=int(rule.get("priority", 0)), action=action, table=table_name(rule["table"]) if "table" in rule else None,
        target=_number(rule.get("goto")), invert="not" in rule, src=_prefix(rule, "src"), dst=_prefix(rule, "dst"),
        iif=rule.get("iif"), oif=rule.get("oif"), fwmark=_number(rule.get("fwmark")), fwmask=_number(rule.get("fwmask")),
        ipproto=rule.get("ipproto"), sport=_range(rule, "sport"), dport=_range(rule, "dport"), uidrange=_range(rule, "uid"),
        tos=_number(tos), suppress_prefixlength=None if suppress is None else int(suppress),
        suppress_ifgroup=None if rule.get("suppress_ifgroup") is None else str(rule["suppress_ifgroup"]), unknown=unknown)


def parse_policy_rules(text: str) -> tuple[PolicyRule, ...]:
    """Every IPv4 policy routing rule, in the order the kernel tries them (`ip -j -4 rule show`)."""
    rules = []
    for entry in _load(text, "ip -j rule"):
        try:
            if not isinstance(entry, dict):
                raise TypeError("not an object")
            rules.append(_policy_rule(entry))
        except (AttributeError, TypeError, ValueError) as exc:
            raise FactError(f"ip -j rule: not a rule as iproute2 prints it: {str(entry)[:80]} ({exc})") from None
    return tuple(rules)
