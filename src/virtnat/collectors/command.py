"""System facts through a testinfra host: the probe script, run once."""
from __future__ import annotations

from ..errors import FactError
from ..facts import probe
from ..facts.links import parse_ip_json
from ..facts.model import LinkFacts, SystemFacts
from . import Stats


class ProbeSource:
    """Runs facts/probe.sh in one shell on the host and parses its sections."""

    def __init__(self, host, stats: Stats):
        self.host = host
        self.stats = stats

    def collect(self) -> SystemFacts:
        self.stats.subprocesses += 1
        try:
            result = self.host.run("sh -c %s", probe.script())
        except Exception as exc:
            raise FactError(f"cannot run commands on the host: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}") from None
        return probe.parse_probe(result.stdout)


class IpJsonSource:
    """Link facts from `ip -j -d link show` and `ip -j addr show` run on the host."""

    def __init__(self, host, stats: Stats):
        self.host = host
        self.stats = stats

    def collect(self) -> dict[str, LinkFacts]:
        self.stats.subprocesses += 1
        sep = "@@virtnat:addr"
        result = self.host.run(f"ip -j -d link show && echo {sep} && ip -j addr show")
        if result.rc != 0 or sep not in result.stdout:
            raise FactError(f"ip -j failed on the host: {result.stderr.strip() or 'exit ' + str(result.rc)}")
        links, addrs = result.stdout.split(sep, 1)
        return parse_ip_json(links, addrs)
