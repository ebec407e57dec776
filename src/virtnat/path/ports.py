"""Which socket gets a guest's DNS and DHCP packets to the gateway (pure), like the kernel's
socket lookup: an exact address beats a wildcard, a socket bound to the device beats one that is not."""
from __future__ import annotations

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
