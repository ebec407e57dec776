"""libvirt facts through libvirt-python, over one read-only connection, within a deadline."""
from __future__ import annotations

from ..errors import FactError
from ..facts.libvirt_xml import parse_domain_nics, parse_network
from ..facts.model import LibvirtFacts
from . import Stats
from .deadline import Deadline, DeadlineMissed, within


def _version(number: int) -> str:
    return f"{number // 1000000}.{number // 1000 % 1000}.{number % 1000}"


def connection_error(uri: str, message: str) -> FactError:
    """One line: what failed and what to do about it."""
    low = message.lower()
    if "failed to connect socket" in low and "no such" in low:  # the daemon's socket is missing
        fix = "start the libvirt daemon (systemctl start libvirtd, or virtqemud and virtnetworkd)"
    elif "permission denied" in low or "authentication" in low or "access denied" in low:
        fix = "run the audit as root or as a member of the libvirt group"
    elif "connection refused" in low:
        fix = "start the libvirt daemon (systemctl start libvirtd)"
    else:
        fix = "check that a libvirt daemon serves this URI (virsh -r -c URI version)"
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return FactError(f"cannot connect to libvirt at {uri}: {first}; fix: {fix}")


class LibvirtApiSource:
    """Reads networks and running guests with libvirt.openReadOnly(uri). A daemon that accepts
    the connection and never replies would block libvirt's calls for good: they run under a
    watchdog (a thread joined with the deadline) and are abandoned when it passes."""

    def __init__(self, uri: str, stats: Stats, deadline: Deadline = Deadline()):
        self.uri = uri
        self.stats = stats
        self.deadline = deadline

    def _call(self, fn, *args):
        self.stats.libvirt_calls += 1
        return fn(*args)

    def collect(self) -> LibvirtFacts:
        try:
            import libvirt
        except ImportError:
            raise FactError("libvirt-python is not installed: pip install libvirt-python (needs libvirt-dev)") from None
        libvirt.registerErrorHandler(lambda *_: None, None)  # errors come back as exceptions
        try:
            return within(self.deadline.total, lambda: self._read(libvirt))
        except DeadlineMissed:
            raise FactError(f"libvirt at {self.uri} did not answer within {self.deadline.command} s") from None

    def _read(self, libvirt) -> LibvirtFacts:
        try:
            conn = self._call(libvirt.openReadOnly, self.uri)
        except libvirt.libvirtError as exc:
            raise connection_error(self.uri, str(exc)) from None
        try:
            networks = {}
            for net in self._call(conn.listAllNetworks):
                facts = parse_network(
                    self._call(net.XMLDesc),
                    active=bool(self._call(net.isActive)),
                    persistent=bool(self._call(net.isPersistent)),
                    autostart=bool(self._call(net.autostart)),
                )
                networks[facts.name] = facts
            nics, guests = [], []
            domains = self._call(conn.listAllDomains, libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
            for dom in sorted(domains, key=lambda d: d.name()):
                guests.append(dom.name())
                nics.extend(parse_domain_nics(self._call(dom.XMLDesc)))
            return LibvirtFacts(
                uri=self.uri,
                version=_version(self._call(conn.getLibVersion)),
                networks=networks,
                guest_nics=tuple(nics),
                running_guests=tuple(guests),
            )
        except libvirt.libvirtError as exc:
            raise FactError(f"libvirt at {self.uri}: {str(exc).strip()}") from None
        finally:
            conn.close()
