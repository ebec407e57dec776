"""NET-15: the gateway's DNS and DHCP ports belong to the network's own dnsmasq."""
import ipaddress

import pytest

from virtnat.checks import RESTART, network_dnsmasq, not_checked, start
from virtnat.path.model import restart
from virtnat.path.ports import HiddenHolder, gateway_claims


@pytest.mark.control(
    id="NET-15",
    title="The gateway's udp 53, tcp 53 and udp 67 are held by the network's dnsmasq",
    impact="high",
    remediation=RESTART,
)
def test_gateway_ports_belong_to_dnsmasq(system, libvirt_or_none, profile, note, fix):
    """A system-wide dnsmasq, bind or Pi-hole on 0.0.0.0:53 takes the guests' questions, or
    keeps libvirt's dnsmasq from starting at all ("failed to create listening socket for
    192.168.122.1: Address already in use"). The fix stops the processes that hold the ports
    (by their pids, as seen) and starts the network again. What keeps them off the gateway for
    good is their own setting: a dnsmasq's bind-interfaces and except-interface=virbr0,
    systemd-resolved's DNSStubListener, bind's listen-on."""
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
    network = libvirt_or_none.networks.get(profile.network) if libvirt_or_none else None
    again = start(profile.network) if network is not None and not network.active else restart(profile.network, profile.bridge)
    if not own:
        if not any(c.others for c in claims) and network is not None and not network.active:
            fix(again)
            pytest.fail(f"network {profile.network!r} is inactive (NET-02), so nothing of it runs", pytrace=False)
        problems.append(f"the dnsmasq of network {profile.network!r} is not running (NET-13)")
    if problems:
        others = dict.fromkeys(str(pid) for c in claims for _, pid in c.others)
        fix(" && ".join(([f"kill {' '.join(others)}"] if others else []) + [again]))
    assert not problems, "; ".join(dict.fromkeys(problems))
    note(f"held by dnsmasq pid {', '.join(map(str, sorted(own)))}")
