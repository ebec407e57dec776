"""libvirt facts from `virsh -r` output (the probe's virsh sections), parsed purely.

virsh prints the same XML the API returns, so this gives the same facts as libvirt-python."""
from __future__ import annotations

import re

from ..errors import FactError
from .libvirt_xml import domain_name, parse_domain_nics, parse_network
from .model import LibvirtFacts
from .libvirt_files import libvirt_from_files
from .units import parse_stopped

_VERSION = re.compile(r"(\d+\.\d+\.\d+)\s*$", re.M)


def _flags(net_info: str) -> dict[str, bool]:
    flags = {}
    for line in net_info.splitlines():
        key, _, value = line.partition(":")
        flags[key.strip().lower()] = value.strip() == "yes"
    return flags


def libvirt_from_sections(sections: dict[str, tuple[int, str]], uri: str, connection_error) -> LibvirtFacts:
    """LibvirtFacts from the probe's virsh sections; connection_error(uri, text) makes the FactError."""
    stopped = from_stopped_daemon(sections, uri)
    if stopped is not None:  # virsh would have started the daemon: it did not run
        return stopped
    found = sections.get("virsh-networks")
    if found is None or found[0] == 127 or found[0] and "not found" in found[1]:
        raise FactError("virsh is not installed on the host: install libvirt-clients (or give --libvirt-uri)")
    rc, text = found
    if rc:
        raise connection_error(uri, "\n".join(l.removeprefix("error: ") for l in text.splitlines()
                                               if "failed to connect to the hypervisor" not in l))
    match = _version(sections)
    networks = {}
    for key in text.split():  # UUIDs (names, from older probes)
        info_rc, info = sections.get(f"net-info:{key}", (1, ""))
        xml_rc, xml = sections.get(f"net-xml:{key}", (1, ""))
        if info_rc or xml_rc or not xml.strip():
            raise FactError(f"virsh could not read network {key!r}: {(info if info_rc else xml).strip()}")
        flags = _flags(info)
        inactive_rc, inactive = sections.get(f"net-xml-inactive:{key}", (1, ""))  # an older probe's output has none
        network = parse_network(xml, active=flags.get("active", False), persistent=flags.get("persistent", False),
                                autostart=flags.get("autostart", False),
                                inactive_xml=inactive if not inactive_rc and inactive.strip() else None)
        networks[network.name] = network
    running = []  # (name, UUID, interfaces): a guest is its UUID; two of one name are two guests
    for key in sections["virsh-domains"][1].split() if "virsh-domains" in sections else ():
        dom = sections.get(f"dom-xml:{key}")
        if dom is None or dom[0] or not dom[1].strip():  # the guest stopped between listing and reading: it no longer runs
            continue
        running.append((domain_name(dom[1]), key, parse_domain_nics(dom[1])))
    running.sort()  # by name, then UUID; one UUID's entries are of one section, alike in full
    return LibvirtFacts(uri=uri, version=match.group(1) if match else "unknown", networks=networks,
                        guest_nics=tuple(nic for *_, nics in running for nic in nics),
                        running_guests=tuple(name for name, *_ in running))


def _version(sections):
    return _VERSION.search(sections["libvirt-version"][1]) if "libvirt-version" in sections else None


def from_stopped_daemon(sections: dict[str, tuple[int, str]], uri: str, version: str = "unknown") -> LibvirtFacts | None:
    """libvirt's facts from its state files (the probe's libvirt-files section) when the probe
    found its daemon stopped (a connection would have made systemd start it); None when it ran."""
    if "libvirt-stopped" not in sections:
        return None
    if "libvirt-files" not in sections:
        raise FactError("the libvirt daemon is stopped and the facts hold no libvirt-files section")
    match = _version(sections)
    return libvirt_from_files(sections["libvirt-files"][1], uri, match.group(1) if match else version,
                              parse_stopped(sections["libvirt-stopped"][1]))
