"""Collectors: one small interface per fact kind, one implementation per way of reaching a host.

A host's facts are collected at most once per run (HostFacts caches each kind, error included),
so every check of that host shares one libvirt connection, one netlink dump and one probe run.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import FactError
from ..facts.model import LibvirtFacts, LinkFacts, SystemFacts

KINDS = ("libvirt", "links", "system")


class LibvirtSource(Protocol):
    def collect(self) -> LibvirtFacts: ...


class LinkSource(Protocol):
    def collect(self) -> dict[str, LinkFacts]: ...


class SystemSource(Protocol):
    def collect(self) -> SystemFacts: ...


@dataclass
class Stats:
    """What collecting cost, for the benchmark."""

    seconds: dict[str, float] = field(default_factory=dict)
    collections: dict[str, int] = field(default_factory=dict)  # times each fact kind was collected
    subprocesses: int = 0  # local processes started for facts
    remote_commands: int = 0  # commands run on the host over its connection
    libvirt_calls: int = 0


class HostFacts:
    """Every fact kind of one host, collected lazily, once, error included."""

    def __init__(self, libvirt: LibvirtSource, links: LinkSource, system: SystemSource, stats: Stats):
        self.stats = stats
        self._sources = {"libvirt": libvirt, "links": links, "system": system}
        self._cache: dict[str, object] = {}
        # kinds may be collected from several threads at once; each kind still only once
        self._locks = {kind: threading.Lock() for kind in KINDS}

    @classmethod
    def preloaded(cls, collected: dict[str, object], stats: Stats) -> "HostFacts":
        """Facts another process collected (pytest-xdist workers get them from the controller)."""
        facts = cls(None, None, None, stats)  # type: ignore[arg-type]
        facts._cache = dict(collected)
        return facts

    def _get(self, kind: str):
        with self._locks[kind]:
            if kind not in self._cache:
                self._collect(kind)
        value = self._cache[kind]
        if isinstance(value, FactError):
            raise value
        return value

    def _collect(self, kind: str) -> None:
        start = time.perf_counter()
        self.stats.collections[kind] = self.stats.collections.get(kind, 0) + 1
        try:
            self._cache[kind] = self._sources[kind].collect()
        except FactError as exc:
            self._cache[kind] = exc
        except Exception as exc:  # a collector bug must still read as one line
            self._cache[kind] = FactError(f"{kind} facts: {type(exc).__name__}: {exc}")
        self.stats.seconds[kind] = time.perf_counter() - start

    def prefetch(self) -> None:
        """Let sources that can work ahead in another process start now."""
        for source in self._sources.values():
            if hasattr(source, "start"):
                source.start()

    def collect(self, kind: str) -> None:
        """Collect one kind now (an error is kept for the checks to report)."""
        try:
            self._get(kind)
        except FactError:
            pass

    def libvirt(self) -> LibvirtFacts:
        return self._get("libvirt")

    def links(self) -> dict[str, LinkFacts]:
        return self._get("links")

    def system(self) -> SystemFacts:
        return self._get("system")

    def collected(self) -> dict[str, object]:
        """What has been collected so far (facts or FactError), for the report's evidence."""
        return dict(self._cache)
