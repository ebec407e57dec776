"""NET-01..05: the network as libvirt knows it: defined, active, autostarted, as the document declares it."""
import ipaddress

import pytest

from virtnat.checks import defined_network


@pytest.mark.control(
    id="NET-01",
    title="The NAT network is defined and persistent",
    impact="critical",
    remediation="virsh net-define /usr/share/libvirt/networks/default.xml",
)
def test_network_is_defined(libvirt, profile):
    """A network that is not defined cannot be started; a transient one is gone after libvirtd restarts."""
    network = defined_network(libvirt, profile)
    assert network.persistent, f"network {network.name!r} is transient, expected persistent (defined)"


@pytest.mark.control(
    id="NET-02",
    title="The NAT network is active",
    impact="critical",
    remediation="virsh net-start {network}",
)
def test_network_is_active(libvirt, profile):
    """An inactive network has no bridge, no dnsmasq and no NAT rules: guests attached to it do not start."""
    network = defined_network(libvirt, profile)
    assert network.active, f"network {network.name!r} is inactive, expected active"


@pytest.mark.control(
    id="NET-03",
    title="The NAT network starts at boot",
    impact="high",
    remediation="virsh net-autostart {network}",
)
def test_network_is_autostarted(libvirt, profile):
    """Without autostart, virbr0 and its dnsmasq are gone after a reboot, and guests on the
    NAT network boot without an address or a route out."""
    network = defined_network(libvirt, profile)
    assert network.autostart, f"network {network.name!r}: autostart is off, expected on"


@pytest.mark.control(
    id="NET-04",
    title="The network's forward mode is nat",
    impact="high",
    remediation="virsh net-edit {network}   (set <forward mode='nat'/>)",
)
def test_forward_mode_is_nat(libvirt, profile):
    """Only mode nat masquerades guest traffic behind the host's address; route or isolated
    networks need routes or give no way out."""
    network = defined_network(libvirt, profile)
    assert network.forward_mode == "nat", f"network {network.name!r}: forward mode is {network.forward_mode or 'none (isolated)'}, expected nat"


def _inside(subnet, *addresses) -> bool:
    try:
        return all(ipaddress.ip_address(a) in subnet for a in addresses)
    except ValueError:
        return False


@pytest.mark.control(
    id="NET-05",
    title="The network's XML declares bridge virbr0 with STP, 192.168.122.1/24 and its DHCP range",
    impact="medium",
    remediation="virsh net-edit {network}   (<bridge name='{bridge}' stp='on'/>, <ip address/netmask> for {gateway}, <range start='{dhcp_start}' end='{dhcp_end}'/>)",
)
def test_network_xml_matches_profile(libvirt, profile):
    """Guests, firewall rules and documentation all assume these values; a drifted definition
    breaks them at the next network restart."""
    network = defined_network(libvirt, profile)
    wrong = []
    if network.bridge != profile.bridge:
        wrong.append(f"bridge {network.bridge!r}, expected {profile.bridge!r}")
    if not network.stp:
        wrong.append("stp off, expected on")
    if network.gateway != profile.gateway:
        wrong.append(f"address {network.gateway}, expected {profile.gateway}")
    expected = (profile.dhcp_start, profile.dhcp_end)
    ranges = [(r.start, r.end) for r in network.dhcp_ranges]
    if expected not in ranges:
        wrong.append(f"DHCP ranges {ranges or 'none'}, expected {expected[0]}-{expected[1]}")
    subnet = ipaddress.ip_interface(profile.gateway).network
    outside = [f"{s}-{e}" for s, e in ranges if not _inside(subnet, s, e)]
    if outside:
        wrong.append(f"DHCP range {', '.join(outside)} outside {subnet}")
    assert not wrong, f"network {network.name!r}: {'; '.join(wrong)}"
