"""VM-01..04: each running guest's interface on the network has its tap, on virbr0, UP, with the right MAC."""
import shlex

import pytest

from virtnat.checks import bridge_link


def recreate_tap(nic) -> str:
    """VM-01's fix: the interface's link down and up again, which makes libvirt recreate its tap.
    The interface is named by its tap, or by its MAC where it declares none (virsh takes either)."""
    domain, interface = shlex.quote(nic.guest), shlex.quote(nic.tap or nic.mac)
    return (f"virsh domif-setlink --domain {domain} --interface {interface} --state down; "
            f"virsh domif-setlink --domain {domain} --interface {interface} --state up")


def _tap(links, nic, fix):
    """The interface's tap, or fail with VM-01's fix: without one the others cannot be judged."""
    if not nic.tap:
        fix(recreate_tap(nic))
        pytest.fail(f"guest {nic.guest}: interface {nic.mac} declares no host device (<target dev>)", pytrace=False)
    link = links.get(nic.tap)
    if link is None:
        fix(recreate_tap(nic))
        pytest.fail(f"tap {nic.tap} of guest {nic.guest} does not exist (VM-01)", pytrace=False)
    return link


@pytest.mark.control(
    id="VM-01",
    title="Every running guest's interface on the network has its host tap device",
    impact="high",
    remediation="virsh domif-setlink --domain {guest} --interface {tap} --state down; "
                "virsh domif-setlink --domain {guest} --interface {tap} --state up",
)
def test_tap_exists(guest_nic, links, fix):
    """The tap is the guest's cable into the bridge; without it the guest's NIC leads nowhere.
    Taking the link down and up again makes libvirt recreate it; so does restarting the guest."""
    if guest_nic.tap not in links:
        fix(recreate_tap(guest_nic))
    assert guest_nic.tap, f"guest {guest_nic.guest}: interface {guest_nic.mac} declares no host device"
    assert guest_nic.tap in links, f"tap {guest_nic.tap} of guest {guest_nic.guest} does not exist"


@pytest.mark.control(
    id="VM-02",
    title="That tap is attached to {bridge}",
    impact="critical",
    remediation="ip link set dev {tap} master {bridge}",
)
def test_tap_is_on_bridge(guest_nic, links, libvirt_or_none, profile, fix):
    """A tap that is not a port of virbr0 carries the guest's packets nowhere: no DHCP, no gateway."""
    tap = _tap(links, guest_nic, fix)
    bridge_link(links, libvirt_or_none, profile, fix)
    assert tap.master == profile.bridge, f"{tap.name} is attached to {tap.master or 'no bridge'}, expected {profile.bridge}"


@pytest.mark.control(
    id="VM-03",
    title="That tap is administratively UP",
    impact="high",
    remediation="ip link set dev {tap} up",
)
def test_tap_is_up(guest_nic, links, note, fix):
    """A DOWN tap drops every frame; operstate UNKNOWN is how taps report a working link."""
    tap = _tap(links, guest_nic, fix)
    assert tap.admin_up, f"{tap.name} is administratively DOWN"
    if tap.operstate != "UP":
        note(f"{tap.name} operstate {tap.operstate}: normal for a tap")


@pytest.mark.control(
    id="VM-04",
    title="That tap's MAC matches the guest's (fe:54:00:.. for 52:54:00:..)",
    impact="low",
    remediation="virsh destroy --domain {guest} && virsh start --domain {guest}",
)
def test_tap_mac_matches_guest(guest_nic, links, fix):
    """libvirt derives the tap's MAC from the guest's; a mismatch means the tap belongs to
    another guest or was recreated by hand. Restarted, the guest gets a tap with the matching MAC."""
    tap = _tap(links, guest_nic, fix)
    assert tap.mac.lower() == guest_nic.expected_tap_mac, f"{tap.name} has MAC {tap.mac}, expected {guest_nic.expected_tap_mac} for guest MAC {guest_nic.mac}"
