"""Network and domain XML recorded from the lab host, and the shapes the document quotes."""
import pytest

from virtnat.errors import FactError
from virtnat.facts.libvirt_xml import parse_domain_nics, parse_network
from virtnat.facts.model import DhcpRange

FLAGS = dict(active=True, persistent=True, autostart=True)


def test_live_network_xml(data):
    net = parse_network(data("libvirt9/network-default.xml"), **FLAGS)
    assert (net.name, net.forward_mode, net.bridge, net.stp, net.gateway) == ("default", "nat", "virbr0", True, "192.168.122.1/24")
    assert net.dhcp_ranges == (DhcpRange("192.168.122.2", "192.168.122.254"),)


def test_inactive_network_keeps_its_definition(data):
    net = parse_network(data("libvirt9/network-default-inactive.xml"), active=False, persistent=True, autostart=True)
    assert not net.active and net.bridge == "virbr0"


def test_stock_template_defaults():
    """/usr/share/libvirt/networks/default.xml: <forward/> means nat, <bridge> without stp means on."""
    xml = """<network><name>default</name><bridge name='virbr0'/><forward/>
      <ip address='192.168.122.1' netmask='255.255.255.0'><dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>"""
    net = parse_network(xml, **FLAGS)
    assert (net.forward_mode, net.stp, net.gateway) == ("nat", True, "192.168.122.1/24")


def test_isolated_network_and_prefix_form():
    xml = "<network><name>iso</name><bridge name='virbr9' stp='off'/><ip address='10.0.0.1' prefix='16'/></network>"
    net = parse_network(xml, **FLAGS)
    assert (net.forward_mode, net.stp, net.gateway, net.dhcp_ranges) == (None, False, "10.0.0.1/16", ())


def test_running_guest_interfaces(data):
    (nic,) = parse_domain_nics(data("libvirt9/domain-guest.xml"))
    assert (nic.guest, nic.network, nic.bridge, nic.tap) == ("virtnat-guest", "default", "virbr0", "vnet0")
    assert (nic.mac, nic.expected_tap_mac) == ("52:54:00:60:88:c5", "fe:54:00:60:88:c5")
    assert nic.label == "virtnat-guest:vnet0"


def test_document_domiflist_mac_maps_to_tap_mac():
    """The document's win10 guest: MAC 52:54:00:9f:98:b9 on vnet0, whose link-local address
    fe80::fc54:ff:fe9f:98b9 is derived from tap MAC fe:54:00:9f:98:b9."""
    xml = """<domain><name>win10</name><devices><interface type='bridge'>
      <mac address='52:54:00:9f:98:b9'/><source bridge='virbr0'/><target dev='vnet0'/></interface></devices></domain>"""
    (nic,) = parse_domain_nics(xml)
    assert nic.expected_tap_mac == "fe:54:00:9f:98:b9" and nic.bridge == "virbr0"


def test_broken_xml_is_a_fact_error():
    with pytest.raises(FactError, match="network XML"):
        parse_network("<network>", **FLAGS)
