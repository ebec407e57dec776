"""NET-06..10: virbr0 in the kernel: a bridge, UP, with the gateway address, STP, and no uplink."""
import shlex

import pytest

from virtnat.checks import RESTART, bridge_link

# Ports that belong on a NAT bridge: guest taps, LXC guests' veths, and the always-DOWN
# "<bridge>-nic" dummy that libvirt before 6.x attached to pin the bridge's MAC.
GUEST_PORT_KINDS = ("tun", "veth")


def _ports(links, bridge):
    return sorted((l for l in links.values() if l.master == bridge), key=lambda l: l.name)


def _carrier_ports(links, bridge):
    """Ports that can give the bridge carrier: not the legacy dummy, which is always DOWN."""
    return [p for p in _ports(links, bridge) if p.name != f"{bridge}-nic"]


@pytest.mark.control(
    id="NET-06",
    title="{bridge} exists in the kernel and is a bridge",
    impact="critical",
    remediation=RESTART,
)
def test_bridge_exists(links, libvirt_or_none, profile, fix):
    """libvirt creates the bridge when the network starts; without it guest taps have nothing to join."""
    link = bridge_link(links, libvirt_or_none, profile, fix)
    assert link.kind == "bridge", f"{link.name} is a {link.kind or 'physical'} device, expected a bridge"


@pytest.mark.control(
    id="NET-07",
    title="{bridge} is administratively UP, and carries traffic when ports are attached",
    impact="critical",
    remediation="ip link set {bridge} up",
)
def test_bridge_is_up(links, libvirt_or_none, profile, note, fix):
    """The document's incident: `virsh net-list` said active while virbr0 was DOWN and guests
    could not reach 192.168.122.1. Admin state and carrier are different facts: an idle
    bridge with no port has NO-CARRIER, which is normal."""
    link = bridge_link(links, libvirt_or_none, profile, fix)
    assert link.admin_up, f"{link.name} is administratively DOWN (while libvirt may still call the network active)"
    ports = _carrier_ports(links, link.name)
    if not ports and link.operstate != "UP":
        note(f"{link.name} has no port attached (NO-CARRIER, operstate {link.operstate}): normal for an idle host")
        return
    up = [p.name for p in ports if p.admin_up]
    assert link.operstate == "UP", (
        f"{link.name} is UP but operstate {link.operstate} with ports {', '.join(p.name for p in ports)} "
        f"attached ({len(up)} of them UP)"
    )


@pytest.mark.control(
    id="NET-08",
    title="{bridge} carries {gateway}",
    impact="critical",
    remediation=RESTART,
)
def test_bridge_has_gateway_address(links, libvirt_or_none, profile, fix):
    """The guests' default gateway, DHCP server and DNS server all live on this address."""
    link = bridge_link(links, libvirt_or_none, profile, fix)
    ipv4 = [a for a in link.addresses if ":" not in a]
    assert profile.gateway in link.addresses, f"{link.name} has {', '.join(ipv4) or 'no IPv4 address'}, expected {profile.gateway}"


@pytest.mark.control(
    id="NET-09",
    title="STP is enabled on {bridge}",
    impact="low",
    remediation="ip link set dev {bridge} type bridge stp_state 1",
)
def test_bridge_has_stp(links, libvirt_or_none, profile, fix):
    """The network declares stp='on'; a kernel bridge without it has drifted from its definition.
    The fix turns STP on in the kernel; where the definition says stp='off' too, NET-05's
    `virsh net-edit` is what lasts past the network's next start."""
    link = bridge_link(links, libvirt_or_none, profile, fix)
    assert link.stp_enabled, f"{link.name}: STP is off in the kernel, expected on"


@pytest.mark.control(
    id="NET-10",
    title="No physical interface is enslaved to {bridge}",
    impact="high",
    remediation="ip -br link show master {bridge}",
)
def test_bridge_has_no_uplink(links, libvirt_or_none, profile, fix):
    """The NAT bridge is isolated on purpose and reaches out through NAT and forwarding;
    a physical port bridges the guests' DHCP server onto the LAN (the document: never add one).
    A NAT bridge takes guest taps only: the fix takes each other port off it (the marker's lists
    the bridge's ports, for when the check could not name them)."""
    link = bridge_link(links, libvirt_or_none, profile, fix)
    legacy = f"{link.name}-nic"
    foreign = [p for p in _ports(links, link.name) if p.kind not in GUEST_PORT_KINDS and p.name != legacy]
    if foreign:
        fix(" && ".join(f"ip link set dev {shlex.quote(p.name)} nomaster" for p in foreign))
    named = [f"{p.name} ({p.kind or 'physical'})" for p in foreign]
    assert not foreign, f"{link.name} has non-guest port(s): {', '.join(named)}"
