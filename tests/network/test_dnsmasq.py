"""NET-13: the network's DHCP and DNS server."""
import pytest

from virtnat.checks import RESTART, network_dnsmasq, running_network


@pytest.mark.control(
    id="NET-13",
    title="The network's dnsmasq is running",
    impact="high",
    remediation=RESTART,
)
def test_dnsmasq_is_running(system, libvirt_or_none, profile, fix):
    """dnsmasq hands out the guests' addresses and answers their DNS; without it new guests
    get no address."""
    running_network(libvirt_or_none, profile, fix)
    mine, impostors = network_dnsmasq(system, profile)
    assert not impostors, f"network {profile.network!r}: {impostors}"
    assert mine, f"no dnsmasq runs with libvirt's config for network {profile.network!r} (…/dnsmasq/{profile.network}.conf)"
