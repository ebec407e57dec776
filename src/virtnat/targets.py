"""Audit targets: a host spec (testinfra's --hosts syntax), its name and its collectors."""
from __future__ import annotations

import socket
import urllib.parse

from .collectors import HostFacts, Stats
from .collectors.command import IpJsonSource, ProbeSource
from .collectors.libvirt_api import LibvirtApiSource
from .collectors.netlink import NetlinkSource


class Target:
    """One host to audit. Its connection and facts are made on first use, once."""

    def __init__(self, spec: str | None, libvirt_uri: str, backend_options: dict | None = None):
        self.spec = spec or "local://"
        self.libvirt_uri = libvirt_uri
        self.backend_options = backend_options or {}
        self.stats = Stats()
        self._facts: HostFacts | None = None

    @property
    def is_local(self) -> bool:
        return self.spec.startswith("local://")

    @property
    def name(self) -> str:
        if self.is_local:
            return socket.gethostname()
        netloc = urllib.parse.urlparse(self.spec if "://" in self.spec else f"ssh://{self.spec}").netloc
        return netloc.rsplit("@", 1)[-1] or self.spec

    def __repr__(self) -> str:
        return self.name

    @property
    def facts_started(self) -> bool:
        return self._facts is not None

    @property
    def facts(self) -> HostFacts:
        if self._facts is None:
            import testinfra

            host = testinfra.get_host(self.spec, **self.backend_options)
            links = NetlinkSource() if self.is_local else IpJsonSource(host, self.stats)
            self._facts = HostFacts(
                self.name,
                libvirt=LibvirtApiSource(self.libvirt_uri, self.stats),
                links=links,
                system=ProbeSource(host, self.stats),
                stats=self.stats,
            )
        return self._facts
