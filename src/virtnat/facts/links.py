"""Link facts from `ip -j -d link show` and `ip -j addr show` (pure), or from pyroute2 messages."""
from __future__ import annotations

import ipaddress
import json

from ..errors import FactError
from .model import LinkFacts

IFF_UP = 0x1


def _load(text: str, what: str) -> list[dict]:
    try:
        data = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise FactError(f"{what}: not JSON: {exc}") from None
    if not isinstance(data, list):
        raise FactError(f"{what}: expected a JSON list")
    return data


def parse_ip_json(link_json: str, addr_json: str) -> dict[str, LinkFacts]:
    """Links by name from iproute2's JSON output."""
    try:
        return _links(link_json, addr_json)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise FactError(f"ip -j link/addr: not what iproute2 prints: {type(exc).__name__} {exc}") from None


def _links(link_json: str, addr_json: str) -> dict[str, LinkFacts]:
    addrs: dict[str, list[str]] = {}
    for entry in _load(addr_json, "ip -j addr show"):
        addrs[entry["ifname"]] = [
            str(ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}")) for a in entry.get("addr_info", []) if "local" in a
        ]
    links = {}
    for entry in _load(link_json, "ip -j -d link show"):
        info = entry.get("linkinfo", {})
        data = info.get("info_data", {})
        kind = info.get("info_kind")
        name = entry["ifname"]
        links[name] = LinkFacts(
            name=name,
            index=entry["ifindex"],
            kind=kind,
            admin_up="UP" in entry.get("flags", []),
            operstate=entry.get("operstate", "UNKNOWN"),
            mac=entry.get("address", ""),
            master=entry.get("master"),
            stp_enabled=bool(data.get("stp_state")) if kind == "bridge" else None,
            addresses=tuple(sorted(addrs.get(name, ()))),
            mtu=entry.get("mtu"),
        )
    return links


def _attr(msg, name, default=None):
    value = msg.get_attr(name)
    return default if value is None else value


def links_from_netlink(link_msgs, addr_msgs) -> dict[str, LinkFacts]:
    """Links by name from pyroute2's RTM_NEWLINK / RTM_NEWADDR messages."""
    addrs: dict[int, list[str]] = {}
    for msg in addr_msgs:
        local = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
        if local:
            addrs.setdefault(msg["index"], []).append(f"{local}/{msg['prefixlen']}")
    names = {msg["index"]: msg.get_attr("IFLA_IFNAME") for msg in link_msgs}
    links = {}
    for msg in link_msgs:
        info = msg.get_attr("IFLA_LINKINFO")
        kind = info.get_attr("IFLA_INFO_KIND") if info else None
        data = info.get_attr("IFLA_INFO_DATA") if info else None
        stp = None
        if kind == "bridge" and data is not None:
            stp = bool(data.get_attr("IFLA_BR_STP_STATE"))
        name = names[msg["index"]]
        links[name] = LinkFacts(
            name=name,
            index=msg["index"],
            kind=kind,
            admin_up=bool(msg["flags"] & IFF_UP),
            operstate=_attr(msg, "IFLA_OPERSTATE", "UNKNOWN"),
            mac=_attr(msg, "IFLA_ADDRESS", ""),
            master=names.get(msg.get_attr("IFLA_MASTER")),  # None or 0 (no master) is no link's index
            stp_enabled=stp,
            addresses=tuple(sorted(addrs.get(msg["index"], ()))),
            mtu=msg.get_attr("IFLA_MTU"),
        )
    return links
