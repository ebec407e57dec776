"""Pure parsers for the XML libvirt returns for networks and domains."""
from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET

from ..errors import FactError
from .model import DhcpRange, GuestNic, NetworkDefinition, NetworkFacts


def _root(xml: str, what: str) -> ET.Element:
    try:
        return ET.fromstring(xml)
    except ET.ParseError as exc:
        raise FactError(f"{what}: XML does not parse: {exc}") from None


def _address(ip: ET.Element) -> str:
    address = ip.attrib["address"]  # network_definition reads only the <ip>s that have one
    prefix = ip.get("prefix") or ip.get("netmask") or ("64" if ip.get("family") == "ipv6" else "24")
    try:
        return str(ipaddress.ip_interface(f"{address}/{prefix}"))
    except ValueError:
        return f"{address}/{prefix}"


def network_definition(root: ET.Element) -> NetworkDefinition:
    """Forward mode, bridge, addresses and DHCP ranges of a network's XML (every <ip>)."""
    forward, bridge, ips = root.find("forward"), root.find("bridge"), root.findall("ip")
    return NetworkDefinition(
        forward_mode=None if forward is None else forward.get("mode", "nat"),
        bridge=None if bridge is None else bridge.get("name"),
        addresses=tuple(_address(ip) for ip in ips if ip.get("address")),
        dhcp_ranges=tuple(DhcpRange(r.get("start", ""), r.get("end", "")) for ip in ips for r in ip.findall("dhcp/range")),
    )


def parse_network(xml: str, *, active: bool, persistent: bool, autostart: bool, inactive_xml: str | None = None) -> NetworkFacts:
    """Network facts from `virsh net-dumpxml` / virNetworkGetXMLDesc plus its state flags;
    inactive_xml (`net-dumpxml --inactive`) is the definition its next start uses."""
    root = _root(xml, "network XML")
    bridge = root.find("bridge")
    return NetworkFacts(
        name=root.findtext("name", ""),
        active=active,
        persistent=persistent,
        autostart=autostart,
        stp=bridge is not None and bridge.get("stp", "on") == "on",
        definition=network_definition(root),
        persistent_definition=None if inactive_xml is None else network_definition(_root(inactive_xml, "persistent network XML")),
    )


def domain_name(xml: str) -> str:
    """The guest's name, from its XML."""
    return _root(xml, "domain XML").findtext("name", "")


def parse_domain_nics(xml: str) -> tuple[GuestNic, ...]:
    """The network interfaces of a domain, from its live XML (virsh dumpxml)."""
    root = _root(xml, "domain XML")
    guest = root.findtext("name", "")
    nics = []
    for iface in root.findall("devices/interface"):
        source = iface.find("source")
        mac = iface.find("mac")
        target = iface.find("target")
        nics.append(
            GuestNic(
                guest=guest,
                mac="" if mac is None else mac.get("address", "").lower(),
                tap=None if target is None else target.get("dev"),
                network=None if source is None else source.get("network"),
                bridge=None if source is None else source.get("bridge"),
            )
        )
    return tuple(nics)
