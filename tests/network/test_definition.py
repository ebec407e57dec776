"""NET-01..05, NET-17: the network as libvirt knows it: defined, active, autostarted, as the document declares it, and the same at its next start."""
import ipaddress

import pytest

from virtnat.checks import RESTART, defined_network


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
    assert network.autostart, (f"network {network.name!r}: autostart is off, expected on: after a reboot it stays inactive "
                               f"(no {network.bridge or 'bridge'}, no dnsmasq, no NAT rules) until virsh net-start {network.name}")


@pytest.mark.control(
    id="NET-04",
    title="The network's forward mode is nat",
    impact="high",
    remediation="virsh net-edit {network}",
)
def test_forward_mode_is_nat(libvirt, profile):
    """Only mode nat masquerades guest traffic behind the host's address; route or isolated
    networks need routes or give no way out. In the editor the fix opens, the forward element
    reads <forward mode='nat'/>; the network runs it from its next start (NET-17)."""
    network = defined_network(libvirt, profile)
    assert network.forward_mode == "nat", f"network {network.name!r}: forward mode is {network.forward_mode or 'none (isolated)'}, expected nat"


def _inside(subnet, *addresses) -> bool:
    try:
        return all(ipaddress.ip_address(a) in subnet for a in addresses)
    except ValueError:
        return False


@pytest.mark.control(
    id="NET-05",
    title="The network's XML declares bridge {bridge} with STP, {gateway} and its DHCP range",
    impact="medium",
    remediation="virsh net-edit {network}",
)
def test_network_xml_matches_profile(libvirt, profile):
    """Guests, firewall rules and documentation all assume these values; a drifted definition
    breaks them at the next network restart. In the editor the fix opens, the failure's
    expected values go into <bridge name=... stp='on'/>, the <ip> element's address and
    netmask, and its <dhcp><range start=... end=.../>."""
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


def _ranges(definition) -> str:
    return ", ".join(f"{r.start}-{r.end}" for r in definition.dhcp_ranges) or "none"


@pytest.mark.control(
    id="NET-17",
    title="The network that runs is the one that comes back: its live definition is its persistent one (forward, bridge, addresses, DHCP)",
    impact="medium",
    remediation=RESTART,
)
def test_live_network_is_the_persistent_one(libvirt, profile, note):
    """`virsh net-edit` and `net-define` change only the persistent definition; the network
    runs the old one until it is restarted. Every check passes on what runs now, and the next
    reboot brings another network: another subnet, range or bridge for guests and firewall.
    The fix runs the persistent definition now; to keep the live one instead, it is defined as
    the persistent one (the note's `virsh net-dumpxml` and `virsh net-define`)."""
    network = defined_network(libvirt, profile)
    if not network.active:
        pytest.skip(f"network {network.name!r} is inactive: its next start uses its persistent definition (NET-02)")
    if not network.persistent:
        pytest.skip(f"network {network.name!r} is transient: nothing of it comes back (NET-01)")
    live, later = network.definition, network.persistent_definition
    if live is None or later is None:
        pytest.skip(f"network {network.name!r}: its persistent definition was not read (facts from an older probe)")
    differ = []
    if live.forward_mode != later.forward_mode:
        differ.append(f"forward mode {live.forward_mode or 'none'} now, {later.forward_mode or 'none'} at its next start")
    if live.bridge != later.bridge:
        differ.append(f"bridge {live.bridge} now, {later.bridge} at its next start")
    if sorted(live.addresses) != sorted(later.addresses):
        differ.append(f"addresses {', '.join(live.addresses) or 'none'} now, {', '.join(later.addresses) or 'none'} at its next start")
    if sorted(live.dhcp_ranges, key=str) != sorted(later.dhcp_ranges, key=str):
        differ.append(f"DHCP range {_ranges(live)} now, {_ranges(later)} at its next start")
    if differ:
        note(f"to keep the live definition instead: virsh net-dumpxml {profile.network} > /root/{profile.network}.xml && "
             f"virsh net-define /root/{profile.network}.xml")
    assert not differ, (f"network {network.name!r} runs a definition that does not come back: {'; '.join(differ)} "
                        f"(a reboot or restart brings the persistent one)")
