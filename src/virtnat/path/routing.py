"""Route lookups on the host's routes (pure): where a packet to an address leaves."""
from __future__ import annotations

import ipaddress
import shlex

from ..facts.model import LinkFacts, RouteFacts

UNREACHABLE = ("blackhole", "unreachable", "prohibit", "throw")


def lookup(routes: tuple[RouteFacts, ...], address: str, table: str = "main") -> RouteFacts | None:
    """The route of one table the kernel picks for address: longest prefix, then lowest metric,
    then the one listed first (the kernel lists routes in the order it prefers them)."""
    addr = ipaddress.ip_address(address)
    best, best_key = None, None
    for route in routes:
        if route.table != table:
            continue
        net = ipaddress.ip_network(route.dst, strict=False)
        if addr not in net:
            continue
        key = (-net.prefixlen, route.metric)
        if best_key is None or key < best_key:  # a tie keeps the one listed first
            best, best_key = route, key
    return best


def _route_words(route: RouteFacts, word) -> str:
    """The route as `ip route` writes it, each value from the host passed through word."""
    dst = "default" if route.dst == "0.0.0.0/0" else word(route.dst)
    parts = [dst] if route.type == "unicast" else [word(route.type), dst]
    if route.gateway:
        parts.append(f"via {word(route.gateway)}")
    if route.dev:
        parts.append(f"dev {word(route.dev)}")
    if route.metric:
        parts.append(f"metric {word(str(route.metric))}")
    return " ".join(parts)


def describe(route: RouteFacts) -> str:
    """The route as `ip route` lists it, for messages."""
    return _route_words(route, str)


def route_selector(route: RouteFacts) -> str:
    """The route as `ip route del` selects it, each word from the host quoted for the shell."""
    return _route_words(route, shlex.quote)


def overlapping(routes: tuple[RouteFacts, ...], subnet: str, bridge: str) -> list[RouteFacts]:
    """Main-table routes of other interfaces as specific as the subnet or more, inside it."""
    net = ipaddress.ip_network(subnet)
    found = []
    for route in routes:
        if route.table != "main" or route.dev == bridge:
            continue
        dst = ipaddress.ip_network(route.dst, strict=False)
        if dst.prefixlen >= net.prefixlen and dst.subnet_of(net):
            found.append(route)
    return found


def addresses_inside(links: dict[str, LinkFacts], subnet: str, bridge: str) -> list[tuple[str, str]]:
    """(interface, address) of IPv4 addresses inside the subnet on interfaces other than the bridge."""
    net = ipaddress.ip_network(subnet)
    found = []
    for name, link in sorted(links.items()):
        if name == bridge:
            continue
        for address in link.addresses:
            iface = ipaddress.ip_interface(address)
            if iface.version == 4 and iface.ip in net:
                found.append((name, address))
    return found


def subnet_fix(routes: tuple[RouteFacts, ...], links: dict[str, LinkFacts], subnet: str, bridge: str) -> str:
    """The commands that take the subnet off every interface but the bridge (HOST-08): each
    address inside it, and each route there that no such address brings; "" when none is found."""
    addresses = addresses_inside(links, subnet, bridge)
    holders = {iface for iface, _ in addresses}  # their addresses' routes go with the addresses
    commands = [f"ip addr del {shlex.quote(addr)} dev {shlex.quote(iface)}" for iface, addr in addresses]
    commands += [f"ip route del {route_selector(r)}" for r in overlapping(routes, subnet, bridge) if r.dev not in holders]
    return " && ".join(dict.fromkeys(commands))
