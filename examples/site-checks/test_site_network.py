"""A site's own checks, written like virtnat's built-in ones: run them with
`virtnat audit --checks=examples/site-checks` (see docs/site-checks.md)."""
import pytest

from virtnat.checks import bridge_link

# The site's second network: backups go over an isolated network of their own.
BACKUP_NETWORK = "backup"


@pytest.mark.control(
    id="SITE-01",
    title="Every guest tap has the bridge's MTU",
    impact="medium",
    remediation="ip link set {tap} mtu $(cat /sys/class/net/{bridge}/mtu)",
)
def test_tap_mtu_is_the_bridges(guest_nic, links, libvirt_or_none, profile):
    """A tap whose MTU is below the bridge's drops the guests' full-sized frames: small
    packets (ping, DNS) pass, large transfers stall."""
    bridge = bridge_link(links, libvirt_or_none, profile)
    tap = links.get(guest_nic.tap or "")
    if tap is None:
        pytest.skip(f"guest {guest_nic.guest} has no tap (VM-01 says why)")
    if tap.mtu is None or bridge.mtu is None:
        pytest.skip("the facts hold no MTU (a bundle from an older probe)")
    assert tap.mtu == bridge.mtu, f"{tap.name} has MTU {tap.mtu}, {bridge.name} has {bridge.mtu}"


@pytest.mark.control(
    id="SITE-02",
    title=f"The site's backup network {BACKUP_NETWORK!r} is defined, active and autostarted",
    impact="high",
    remediation=f"virsh net-define /etc/libvirt/site/{BACKUP_NETWORK}.xml && virsh net-start {BACKUP_NETWORK} "
                f"&& virsh net-autostart {BACKUP_NETWORK}",
)
def test_backup_network_runs(libvirt, note):
    """Nightly guest backups go over this network; without it they fail after hours of retries."""
    network = libvirt.networks.get(BACKUP_NETWORK)
    assert network is not None, f"network {BACKUP_NETWORK!r} is not defined (defined: {', '.join(sorted(libvirt.networks)) or 'none'})"
    assert network.active, f"network {BACKUP_NETWORK!r} is defined but inactive"
    assert network.autostart, f"network {BACKUP_NETWORK!r} does not start at boot"
    note(f"bridge {network.bridge}")
