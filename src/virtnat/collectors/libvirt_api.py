"""libvirt facts through libvirt-python, over one read-only connection, within a deadline."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ..errors import FactError, NotServed
from ..facts.libvirt_xml import parse_domain_nics, parse_network
from ..facts.model import LibvirtFacts
from ..facts.virsh import from_stopped_daemon
from . import Stats
from .deadline import Deadline, DeadlineMissed, within

# libvirt's facts read without its daemon, when a connection would make systemd start it (None:
# connect), asked before connecting.
Fallback = Callable[[], "LibvirtFacts | None"]
NO_LIBVIRT_PYTHON = ("libvirt-python is not installed (a local audit and --libvirt-uri read libvirt with it): "
                     "pipx inject virtnat libvirt-python, or pip install 'virtnat[libvirt]'; it builds against libvirt's "
                     "headers: apt install libvirt-dev pkg-config gcc python3-dev (dnf install libvirt-devel pkgconf gcc python3-devel)")
Sections = Callable[[], dict]


def _version(number: int) -> str:
    return f"{number // 1000000}.{number // 1000 % 1000}.{number % 1000}"


DENIED = ("permission denied", "authentication", "access denied")


def connection_error(uri: str, message: str) -> FactError:
    """One line: what failed and what to do about it."""
    low = message.lower()
    if "failed to connect socket" in low and "no such" in low:  # the daemon's socket is missing
        fix = "start the libvirt daemon (systemctl start libvirtd, or virtqemud and virtnetworkd)"
    elif any(word in low for word in DENIED):
        fix = "run the audit as root or as a member of the libvirt group"
    elif "connection refused" in low:
        fix = "start the libvirt daemon (systemctl start libvirtd)"
    else:
        fix = "check that a libvirt daemon serves this URI (virsh -r -c URI version)"
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    kind = FactError if any(word in low for word in DENIED) else NotServed  # refused to this user: served
    return kind(f"cannot connect to libvirt at {uri}: {first}; fix: {fix}")


def _running_comms(proc: Path = Path("/proc")) -> set[str]:
    names = set()
    for entry in os.scandir(proc):
        if entry.name.isdigit():
            try:
                names.add((proc / entry.name / "comm").read_text().strip())
            except OSError:
                pass
    return names


def local_fallback(sections: Sections, uri: str, root: Path = Path("/")) -> Fallback:
    """This host's: on a systemd host, a connection to the socket of a stopped daemon makes
    systemd start it. A running daemon is seen in /proc at once; otherwise the probe
    (sections(): its units, and libvirt's state files when the daemon is stopped) decides."""
    def fallback() -> LibvirtFacts | None:
        if not (root / "run/systemd/system").is_dir():
            return None
        modular = any((root / d / "virtqemud-sock-ro").exists() for d in ("run/libvirt", "var/run/libvirt"))
        need = {"virtqemud", "virtnetworkd"} if modular else {"libvirtd"}
        if not need - _running_comms(root / "proc"):
            return None
        try:
            found = sections()
        except FactError as exc:  # not connecting is the safe side
            raise FactError(f"no libvirt daemon runs, and the probe that would say whether connecting starts one "
                            f"failed: {exc}") from None
        return from_stopped_daemon(found, uri, _version(_library_version()))
    return fallback


def remote_fallback(sections: Sections, uri: str) -> Fallback:
    """A host read over --libvirt-uri: its probe says whether its daemon is stopped."""
    def fallback() -> LibvirtFacts | None:
        try:
            return from_stopped_daemon(sections(), uri)
        except FactError:
            return None  # the probe failed: the connection will say why on its own
    return fallback


def _library_version() -> int:
    import libvirt
    return libvirt.getVersion()


def _silenced(_context, _error) -> None:
    """libvirt's error handler: its errors come back as exceptions, none is printed on stderr too."""


def _no_fallback() -> None:
    return None


class LibvirtApiSource:
    """Reads networks and running guests with libvirt.openReadOnly(uri). A daemon that accepts
    the connection and never replies would block libvirt's calls for good: they run under a
    watchdog (a thread joined with the deadline) and are abandoned when it passes."""

    def __init__(self, uri: str, stats: Stats, deadline: Deadline = Deadline(), fallback: Fallback = _no_fallback):
        self.uri = uri
        self.stats = stats
        self.deadline = deadline
        self.fallback = fallback  # asked first: a connection that would start a stopped daemon is not made

    def _call(self, fn, *args):
        self.stats.libvirt_calls += 1
        return fn(*args)

    def collect(self) -> LibvirtFacts:
        try:
            import libvirt
        except ImportError:
            raise FactError(NO_LIBVIRT_PYTHON) from None
        libvirt.registerErrorHandler(_silenced, None)
        without_daemon = self.fallback()
        if without_daemon is not None:
            return without_daemon
        try:
            return within(self.deadline.total, lambda: self._read(libvirt))
        except DeadlineMissed:
            raise NotServed(f"libvirt at {self.uri} did not answer within {self.deadline.command} s") from None

    def _inactive_xml(self, libvirt, net) -> str | None:
        """The definition the network's next start uses; None where the driver cannot say (the test driver)."""
        try:
            return self._call(net.XMLDesc, libvirt.VIR_NETWORK_XML_INACTIVE)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() in (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT):
                return None
            raise

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
                    inactive_xml=self._inactive_xml(libvirt, net),
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
