"""Pure parsers: `ip -j -4 route show table all` and `ip -j -4 rule show`."""
from __future__ import annotations

import ipaddress
import json

from ..errors import FactError
from .model import RouteFacts

# The rules every Linux host has: lookups in local, main and default. Others steer some traffic
# elsewhere, which the packet-path model does not follow (it says so).
DEFAULT_RULES = {(0, "local"), (32766, "main"), (32767, "default")}


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
    """IPv4 routes of the main and local tables, in the order the kernel lists (and prefers) them."""
    routes = []
    for entry in _load(text, "ip -j route"):
        try:
            routes.extend(_route(entry))
        except (AttributeError, TypeError, ValueError) as exc:
            raise FactError(f"ip -j route: not a route as iproute2 prints it: {str(entry)[:80]} ({exc})") from None
    return tuple(routes)


def _route(entry: dict) -> list[RouteFacts]:
    table = str(entry.get("table", "main"))
    if table not in ("main", "local"):
        return []
    dst = entry.get("dst", "")
    dst = "0.0.0.0/0" if dst == "default" else str(ipaddress.ip_interface(dst).network)
    return [RouteFacts(dst=dst, dev=entry.get("dev"), gateway=entry.get("gateway"), type=entry.get("type", "unicast"),
                       table=table, metric=int(entry.get("metric") or 0), prefsrc=entry.get("prefsrc"))]


def parse_rules(text: str) -> tuple[str, ...]:
    """Policy routing rules beyond the defaults, one line each as `ip rule` prints them."""
    extra = []
    for rule in _load(text, "ip -j rule"):
        if not isinstance(rule, dict):
            raise FactError(f"ip -j rule: not a rule as iproute2 prints it: {str(rule)[:80]}")
        if (rule.get("priority"), str(rule.get("table"))) in DEFAULT_RULES and rule.get("src", "all") == "all" \
                and len(set(rule) - {"priority", "src", "table"}) == 0:
            continue
        words = [f"{rule.get('priority')}:"]
        for key, value in rule.items():
            if key != "priority" and key != "flags":
                words.append(f"{key} {value}")
        extra.append(" ".join(words))
    return tuple(extra)
