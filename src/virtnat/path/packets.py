"""The packets a guest on the NAT network sends and receives, as the firewall sees them."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace

# Where each kind of packet meets netfilter, in order.
LOCAL_IN = ("prerouting", "input")
LOCAL_OUT = ("output", "postrouting")
FORWARD = ("prerouting", "forward", "postrouting")


@dataclass(frozen=True)
class Packet:
    """One packet, with everything a rule may match on. An interface is None where the
    kernel has none yet (no output interface before routing, no input one for local output)."""

    what: str  # "a guest's DHCP request"
    hooks: tuple[str, ...]
    iif: str | None
    oif: str | None
    saddr: str
    daddr: str
    l4proto: str  # udp, tcp, icmp
    sport: int | None = None
    dport: int | None = None
    ct_state: str = "new"
    ct_status: frozenset[str] = field(default_factory=frozenset)  # "snat" for replies of masqueraded flows
    pkttype: str = "host"  # host, broadcast
    daddr_type: str = "unicast"  # local, broadcast, unicast
    saddr_type: str = "unicast"
    icmp_type: str | None = None
    accept: tuple[tuple[str, object], ...] = ()  # what an accept rule for it must match: (field, value)
    bridged: bool = False  # a frame between two ports of the bridge, sent through the IPv4 hooks by br_netfilter

    def at(self, hook: str) -> "Packet":
        """The packet as a chain on hook sees it."""
        if hook == "prerouting":
            return replace(self, oif=None)
        if hook in ("output",) and self.hooks == LOCAL_OUT:
            return replace(self, iif=None)
        return self

    def field(self, name: str):
        if name == "nfproto":
            return "ipv4"
        if name == "ethertype":
            return "ip"
        return getattr(self, name, None)


@dataclass(frozen=True)
class Network:
    """What the packets are made from: the profile's network and the host's uplink."""

    bridge: str
    gateway: str  # 192.168.122.1
    subnet: str  # 192.168.122.0/24
    guest: str  # a guest's address: the first of the DHCP range
    outside: str | None  # an address beyond the uplink (None: no route out)
    uplink: str | None  # the interface the route out leaves by


def dhcp(net: Network) -> list[Packet]:
    request = Packet("a guest's DHCP request (udp 67)", LOCAL_IN, net.bridge, None, "0.0.0.0", "255.255.255.255",
                     "udp", 68, 67, pkttype="broadcast", daddr_type="broadcast", saddr_type="unspec",
                     accept=(("iif", net.bridge), ("l4proto", "udp"), ("dport", 67)))
    reply = Packet("the host's DHCP reply (udp 68)", LOCAL_OUT, None, net.bridge, net.gateway, net.guest,
                   "udp", 67, 68, saddr_type="local",
                   accept=(("oif", net.bridge), ("l4proto", "udp"), ("dport", 68)))
    return [request, reply]


def dns(net: Network) -> list[Packet]:
    out = []
    for proto in ("udp", "tcp"):
        out.append(Packet(f"a guest's DNS question ({proto} 53)", LOCAL_IN, net.bridge, None, net.guest, net.gateway,
                          proto, 40000, 53, daddr_type="local",
                          accept=(("iif", net.bridge), ("l4proto", proto), ("dport", 53))))
        out.append(Packet(f"the host's DNS answer ({proto} 53)", LOCAL_OUT, None, net.bridge, net.gateway, net.guest,
                          proto, 53, 40000, ct_state="established", saddr_type="local",
                          accept=(("oif", net.bridge), ("ct_state", "established,related"))))
    return out


# Guest traffic to the outside: a ping, a web connection, a DNS question to a public server.
OUTBOUND = (("icmp", None, "echo-request"), ("tcp", 443, None), ("udp", 53, None))


def outbound(net: Network) -> list[Packet]:
    return [Packet(f"guest traffic to the outside ({proto}{' ' + str(port) if port else ''})", FORWARD,
                   net.bridge, net.uplink, net.guest, net.outside or "0.0.0.0", proto,
                   40000 if port else None, port, icmp_type=icmp,
                   accept=(("iif", net.bridge),))
            for proto, port, icmp in OUTBOUND]


def replies(net: Network, masqueraded: bool = True) -> list[Packet]:
    status = frozenset({"snat"}) if masqueraded else frozenset()
    return [Packet(f"replies to guests ({proto}{' ' + str(port) if port else ''})", FORWARD,
                   net.uplink, net.bridge, net.outside or "0.0.0.0", net.guest, proto,
                   port, 40000 if port else None, ct_state="established", ct_status=status,
                   icmp_type="echo-reply" if icmp else None,
                   accept=(("oif", net.bridge), ("ct_state", "established,related")))
            for proto, port, icmp in OUTBOUND]


# Guests reaching each other: a ping and an SSH connection, and their replies.
CROSS = (("icmp", None, "echo-request", "echo-reply"), ("tcp", 22, None, None))


def peer_of(net: Network) -> str:
    """Another guest's address: the one after the first of the DHCP range."""
    return str(ipaddress.ip_address(net.guest) + 1)


def cross(net: Network) -> list[Packet]:
    """Frames from one guest to another and back over the bridge, as br_netfilter hands them to
    the IPv4 hooks: in and out on the bridge itself (its ports are what -m physdev sees)."""
    peer, both = peer_of(net), (("iif", net.bridge), ("oif", net.bridge))
    out = []
    for proto, port, request, reply in CROSS:
        label = f"{proto}{' ' + str(port) if port else ''}"
        out.append(Packet(f"a guest's packet to another guest ({label})", FORWARD, net.bridge, net.bridge, net.guest, peer,
                          proto, 40000 if port else None, port, icmp_type=request, accept=both, bridged=True))
        out.append(Packet(f"the other guest's reply ({label})", FORWARD, net.bridge, net.bridge, peer, net.guest,
                          proto, port, 40000 if port else None, ct_state="established", icmp_type=reply,
                          accept=both, bridged=True))
    return out
