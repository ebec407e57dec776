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


def test_network_fields_exactly():
    from virtnat.facts.model import NetworkFacts
    xml = """<network><name>lab</name><forward mode='route'/><bridge name='virbr7' stp='off'/>
      <ip family='ipv6' address='fd00::1' prefix='64'><dhcp><range start='fd00::2' end='fd00::9'/></dhcp></ip>
      <ip address='10.1.2.3' netmask='255.255.0.0'><dhcp><range start='10.1.0.2' end='10.1.0.9'/><range start='10.1.1.2'/></dhcp></ip>
      <ip family='ipv4' address='10.2.0.1' prefix='24'><dhcp><range start='10.2.0.2' end='10.2.0.3'/></dhcp></ip></network>"""
    from virtnat.facts.model import NetworkDefinition
    every = NetworkDefinition("route", "virbr7", ("fd00::1/64", "10.1.2.3/16", "10.2.0.1/24"),
                              (DhcpRange("fd00::2", "fd00::9"), DhcpRange("10.1.0.2", "10.1.0.9"), DhcpRange("10.1.1.2", ""),
                               DhcpRange("10.2.0.2", "10.2.0.3")))
    net = parse_network(xml, active=False, persistent=True, autostart=False)
    assert net == NetworkFacts("lab", False, True, False, False, every, None)
    assert (net.forward_mode, net.bridge, net.gateway, net.dhcp_ranges) == ("route", "virbr7", "10.1.2.3/16", (
        DhcpRange("10.1.0.2", "10.1.0.9"), DhcpRange("10.1.1.2", ""), DhcpRange("10.2.0.2", "10.2.0.3")))
    inactive = "<network><forward/><bridge name='virbr0'/><ip family='ipv6' address='fd00::1'/><ip address='192.168.122.1' netmask='255.255.255.0'/></network>"
    assert parse_network(xml, active=True, persistent=True, autostart=False, inactive_xml=inactive).persistent_definition == \
        NetworkDefinition("nat", "virbr0", ("fd00::1/64", "192.168.122.1/24"), ())
    with pytest.raises(FactError, match=r"^persistent network XML: XML does not parse"):
        parse_network(xml, active=True, persistent=True, autostart=False, inactive_xml="<network")


def test_network_without_bridge_ip_or_name():
    from virtnat.facts.model import NetworkDefinition, NetworkFacts
    assert parse_network("<network/>", active=True, persistent=False, autostart=True) == \
        NetworkFacts("", True, False, True, False, NetworkDefinition(None, None, (), ()))
    net = parse_network("<network><bridge/><ip address='10.0.0.1'/></network>", **FLAGS)
    assert (net.bridge, net.stp, net.gateway) == (None, True, "10.0.0.1/24")
    net = parse_network("<network><bridge stp='yes'/><ip prefix='8'/></network>", **FLAGS)
    assert (net.stp, net.gateway) == (False, None)


def test_a_gateway_that_does_not_parse_is_kept_as_written():
    net = parse_network("<network><ip address='10.0.0.300' prefix='24'/></network>", **FLAGS)
    assert net.gateway == "10.0.0.300/24"
    net = parse_network("<network><ip address='10.0.0.1' netmask='255.0.255.0'/></network>", **FLAGS)
    assert net.gateway == "10.0.0.1/255.0.255.0"


def test_domain_interfaces_exactly():
    from virtnat.facts.libvirt_xml import domain_name
    from virtnat.facts.model import GuestNic
    xml = """<domain><name>vm1</name><devices>
      <interface type='network'><mac address='52:54:00:AB:CD:EF'/><source network='default' bridge='virbr0'/><target dev='vnet3'/></interface>
      <interface type='user'/>
      <interface type='bridge'><mac/><source bridge='br0'/></interface></devices>
      <interface type='network'><source network='not-a-device'/></interface></domain>"""
    assert parse_domain_nics(xml) == (GuestNic("vm1", "52:54:00:ab:cd:ef", "vnet3", "default", "virbr0"),
                                      GuestNic("vm1", "", None, None, None), GuestNic("vm1", "", None, None, "br0"))
    assert domain_name(xml) == "vm1" and domain_name("<domain/>") == ""
    assert parse_domain_nics("<domain/>") == ()


def test_broken_xml_errors_are_one_line_naming_what():
    from virtnat.facts.libvirt_xml import domain_name
    with pytest.raises(FactError) as err:
        parse_network("<network>", **FLAGS)
    assert str(err.value) == "network XML: XML does not parse: no element found: line 1, column 9"
    for parse in (domain_name, parse_domain_nics):
        with pytest.raises(FactError) as err:
            parse("")
        assert str(err.value) == "domain XML: XML does not parse: no element found: line 1, column 0"


def test_a_range_without_start_and_a_guest_without_name():
    from virtnat.facts.model import GuestNic
    net = parse_network("<network><ip address='10.0.0.1'><dhcp><range end='10.0.0.9'/></dhcp></ip></network>", **FLAGS)
    assert net.dhcp_ranges == (DhcpRange("", "10.0.0.9"),)
    assert parse_domain_nics("<domain><devices><interface><target dev='vnet0'/></interface></devices></domain>") == \
        (GuestNic("", "", "vnet0", None, None),)
