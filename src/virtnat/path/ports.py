"""Which socket gets a guest's DNS and DHCP packets to the gateway (pure), like the kernel's
socket lookup: an exact address beats a wildcard, a socket bound to the device beats one that is not."""
from __future__ import annotations

from dataclasses import dataclass

from ..facts.model import SocketFacts

WILDCARDS = ("0.0.0.0", "*")  # "*": a dual-stack socket, IPv4 too


def _score(sock: SocketFacts, address: str, device: str) -> tuple[bool, bool] | None:
    """(exact address, bound to the device), compared in that order; None: not for this packet."""
    if sock.device not in (None, device) or sock.address not in (address, *WILDCARDS):
        return None
    return sock.address == address, sock.device == device


def receivers(sockets: tuple[SocketFacts, ...], proto: str, address: str, port: int, device: str) -> list[SocketFacts]:
    """The sockets with the best claim on proto packets to address:port arriving on device."""
    scored = [(s, _score(s, address, device)) for s in sockets if s.proto == proto and s.port == port]
    scored = [(s, n) for s, n in scored if n is not None]
    if not scored:
        return []
    best = max(n for _, n in scored)
    return [s for s, n in scored if n == best]


def listen_text(sock: SocketFacts) -> str:
    dev = f"%{sock.device}" if sock.device else ""
    return f"{sock.proto} {sock.address}{dev}:{sock.port}"


# The gateway's ports a guest needs: DNS over UDP and TCP to the gateway, DHCP to broadcast.
GATEWAY_PORTS = (("udp", 53, "DNS"), ("tcp", 53, "DNS"), ("udp", 67, "DHCP"))


class HiddenHolder(Exception):
    """A socket holds the port, but not which process: only root sees other users' sockets' processes."""


@dataclass(frozen=True)
class PortClaim:
    """Who would receive one of the gateway's ports: the best-claiming sockets, and the
    processes among their holders that are not the network's own dnsmasq."""

    proto: str
    port: int
    what: str  # DNS, DHCP
    target: str  # the address a guest's packet goes to
    holders: tuple[SocketFacts, ...]
    others: tuple[tuple[str, int], ...]  # (command name, pid), in the sockets' order

    def problem(self, gateway: str, commands: dict[int, str], network: str) -> str | None:
        """What is wrong with this port, in one clause; None: the network's dnsmasq has it."""
        if not self.holders:
            return f"nothing listens on {self.proto} {gateway}:{self.port} ({self.what})"
        if not self.others:
            return None
        who = ", ".join(dict.fromkeys(f"{name} pid {pid} ({commands.get(pid, '?')[:60]})" for name, pid in self.others))
        return (f"{self.proto} {self.port} ({self.what}) to {self.target} is held by {who} on "
                f"{', '.join(listen_text(s) for s in self.holders)}, not by the dnsmasq of network {network!r}")


def gateway_claims(sockets: tuple[SocketFacts, ...], gateway: str, bridge: str, own: set[int]) -> list[PortClaim]:
    """Who receives each of the gateway's ports arriving on the bridge; HiddenHolder when a
    holder's process cannot be seen."""
    claims = []
    for proto, port, what in GATEWAY_PORTS:
        target = "255.255.255.255" if port == 67 else gateway
        holders = tuple(receivers(sockets, proto, target, port, bridge))
        if holders and not any(s.processes for s in holders):
            raise HiddenHolder(f"{proto} {port}: the socket's process is not visible: needs root: run with --sudo, or audit as root")
        others = tuple((name, pid) for s in holders for name, pid in s.processes if pid not in own)
        claims.append(PortClaim(proto, port, what, target, holders, others))
    return claims
