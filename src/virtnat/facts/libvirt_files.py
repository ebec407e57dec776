"""libvirt's facts from its own state files, read while its daemon is stopped (pure).

On a systemd host a connection to a stopped libvirt daemon makes systemd start it (socket
activation; Debian's libvirtd also exits after 120 s idle, by design). The audit starts no
daemon: it reads what the daemon itself reads at its start. The persistent definitions
(/etc/libvirt/qemu/networks/NAME.xml), the autostart links (.../autostart/NAME.xml), the live
status of each active network (/run/libvirt/network/NAME.xml, <networkstatus>) and running guest
(/run/libvirt/qemu/NAME.xml, <domstatus>)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ..errors import FactError
from .framed import Framed
from .libvirt_xml import parse_domain_nics, parse_network
from .model import LibvirtFacts

NETWORKS = "/etc/libvirt/qemu/networks/"
STATUS = "/run/libvirt/network/"
GUESTS = "/run/libvirt/qemu/"
AUTOSTART = NETWORKS + "autostart/"


def _files(text: str) -> tuple[dict[str, str], list[str], set[str]]:
    frames, autostart = Framed(), set()
    for line in text.splitlines():
        if line.startswith("@@autostart "):
            autostart.add(line.removeprefix("@@autostart ").strip())
        else:
            frames.take(line)
    return frames.texts(), frames.unreadable, autostart


def _inner(xml: str, path: str, tag: str) -> str:
    """The <network> of a <networkstatus>, the <domain> of a <domstatus>."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise FactError(f"{path}: XML does not parse: {exc}") from None
    inner = root if root.tag == tag else root.find(tag)
    if inner is None:
        raise FactError(f"{path}: holds no <{tag}>")
    return ET.tostring(inner, encoding="unicode")


def libvirt_from_files(text: str, uri: str, version: str, stopped) -> LibvirtFacts:
    """LibvirtFacts from the libvirt-files section; stopped: the daemons that were not running."""
    files, unreadable, autostart = _files(text)
    if unreadable:
        raise FactError(f"libvirt's daemon is stopped and its state files are not readable ({unreadable[0]}): "
                        f"run the audit as root, or with --sudo")
    defined = {p[len(NETWORKS):]: xml for p, xml in files.items() if p.startswith(NETWORKS)}
    status = {p[len(STATUS):]: _inner(xml, p, "network") for p, xml in files.items() if p.startswith(STATUS)}
    networks = {}
    for key in sorted(set(defined) | set(status)):
        live = status.get(key)
        network = parse_network(live or defined[key], active=live is not None, persistent=key in defined,
                                autostart=key in defined and key in autostart, inactive_xml=defined.get(key, live))
        networks[network.name] = network
    running = []  # (name, its status file, interfaces): two files of one name are two guests
    for path, xml in files.items():
        if path.startswith(GUESTS):
            domain = _inner(xml, path, "domain")
            name = ET.fromstring(domain).findtext("name")
            if name:  # libvirt names every domain it runs; a status without one is no guest of it
                running.append((name, path, parse_domain_nics(domain)))
    running.sort()  # by name, then status file: no two have the same file, so their interfaces are never compared
    return LibvirtFacts(uri=uri, version=version, networks=networks, guest_nics=tuple(n for *_, nics in running for n in nics),
                        running_guests=tuple(name for name, *_ in running), stopped=tuple(stopped))
