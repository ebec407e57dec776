"""NET-15: the gateway's DNS and DHCP ports belong to the network's own dnsmasq."""
import ipaddress

import pytest

from virtnat.checks import network_dnsmasq, not_checked
from virtnat.path.ports import HiddenHolder, gateway_claims


@pytest.mark.control(
    id="NET-15",
    title="The gateway's udp 53, tcp 53 and udp 67 are held by the network's dnsmasq",
    impact="high",
    remediation="stop the other server, or make it listen elsewhere (dnsmasq: bind-interfaces and except-interface={bridge}; systemd-resolved: DNSStubListener), then virsh net-destroy {network} && virsh net-start {network}",
)
def test_gateway_ports_belong_to_dnsmasq(system, libvirt_or_none, profile, note):
    """A system-wide dnsmasq, bind or Pi-hole on 0.0.0.0:53 takes the guests' questions, or
    keeps libvirt's dnsmasq from starting at all ("failed to create listening socket for
    192.168.122.1: Address already in use")."""
    if system.sockets is None:
        not_checked(f"listening sockets could not be read: {'; '.join(system.path_problems)}")
    gateway = str(ipaddress.ip_interface(profile.gateway).ip)
    own = {p.pid for p in network_dnsmasq(system, profile)[0]}
    try:
        claims = gateway_claims(system.sockets, gateway, profile.bridge, own)
    except HiddenHolder as exc:
        not_checked(str(exc))
    commands = {p.pid: p.cmdline for p in system.processes}
    problems = [p for p in (c.problem(gateway, commands, profile.network) for c in claims) if p]
    if not own:
        network = libvirt_or_none.networks.get(profile.network) if libvirt_or_none else None
        if not any(c.others for c in claims) and network is not None and not network.active:
            pytest.fail(f"network {profile.network!r} is inactive (NET-02), so nothing of it runs", pytrace=False)
        problems.append(f"the dnsmasq of network {profile.network!r} is not running (NET-13)")
    assert not problems, "; ".join(dict.fromkeys(problems))
    note(f"held by dnsmasq pid {', '.join(map(str, sorted(own)))}")
