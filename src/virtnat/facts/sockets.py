"""Pure parser: listening sockets from `ss -l -n -p -t -u`."""
from __future__ import annotations

import re

from .model import SocketFacts

_USER = re.compile(r'\("([^"]*)",pid=(\d+)')


def _split_address(text: str) -> tuple[str, str | None, int] | None:
    """'192.168.122.1:53', '0.0.0.0%virbr0:67', '[::]:53', '*:53' -> (address, device, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return None
    host, _, device = host.partition("%")
    host = host.removeprefix("[").removesuffix("]")
    return host, device or None, int(port)


def parse_sockets(text: str) -> tuple[SocketFacts, ...]:
    sockets = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 5 or parts[0] not in ("udp", "tcp"):
            continue
        address = _split_address(parts[4])
        if address is None:
            continue
        users = tuple((name, int(pid)) for name, pid in _USER.findall(line))
        sockets.append(SocketFacts(proto=parts[0], address=address[0], device=address[1], port=address[2], processes=users))
    return tuple(sockets)
