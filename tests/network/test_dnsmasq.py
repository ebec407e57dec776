"""NET-13: the network's DHCP and DNS server."""
import pytest

from virtnat.checks import running_network


@pytest.mark.control(
    id="NET-13",
    title="The network's dnsmasq is running",
    impact="high",
    remediation="virsh net-destroy {network} && virsh net-start {network}",
)
def test_dnsmasq_is_running(system, libvirt_or_none, profile):
    """dnsmasq hands out the guests' addresses and answers their DNS; without it new guests
    get no address."""
    running_network(libvirt_or_none, profile)
    conf = f"/{profile.network}.conf"
    mine = [p for p in system.running("dnsmasq") if "--conf-file=" in p.cmdline and conf in p.cmdline]
    assert mine, f"no dnsmasq runs with libvirt's config for network {profile.network!r} (…/dnsmasq{conf})"
