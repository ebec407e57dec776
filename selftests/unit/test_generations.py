"""Facts from output recorded on each live generation and firewall backend: libvirt 9
(Debian 12, iptables-nft chains, firewalld 1.3) is in test_probe/test_firewall; here libvirt 11
(Debian 13, firewalld 2.3) with the iptables and the nftables backend, and the nftables
backend's silent failure."""

import pytest

from selftests.unit.checkrun import load_checks
from virtnat.collectors.libvirt_api import connection_error
from virtnat.facts.probe import split_sections, system_from_sections
from virtnat.facts.virsh import libvirt_from_sections
from virtnat.profile import Profile

SUBNET = "192.168.122.0/24"


def facts(data, name):
    sections = split_sections(data(name))
    return system_from_sections(sections), libvirt_from_sections(sections, "qemu:///system", connection_error)


def test_libvirt11_iptables_backend(data):
    system, libvirt = facts(data, "libvirt11-iptables/probe-remote.txt")
    assert libvirt.version.startswith("11.")
    fw = system.firewall
    assert fw.backend == "iptables" and SUBNET in fw.masquerade_sources
    assert fw.bridge_rules["virbr0"] == {"input", "output", "forward_in", "forward_out"}
    assert fw.zones["virbr0"] == "libvirt", "firewalld 2.x dispatches zones in filter_INPUT_POLICIES"


def test_libvirt11_nftables_backend(data):
    system, libvirt = facts(data, "libvirt11-nftables/probe-remote.txt")
    fw = system.firewall
    assert fw.backend == "nftables" and fw.masquerade_sources == {SUBNET}
    assert fw.bridge_rules["virbr0"] == {"forward_in", "forward_out"}
    assert fw.zones["virbr0"] == "libvirt"
    assert libvirt.networks["default"].active


def test_debian13_persists_forwarding_in_sysctl_d(data):
    system, _ = facts(data, "libvirt11-nftables/probe-remote.txt")
    assert not system.sysctl_conf_at_boot
    assert system.sysctl_persisted["net.ipv4.ip_forward"] == "1"
    assert system.sysctl_sources["net.ipv4.ip_forward"].startswith("/etc/sysctl.d/")


def test_silent_nat_failure(data):
    """libvirtd restarted while tc's csum action cannot load: the network is still active,
    libvirt_network is still there, its chains are empty."""
    system, libvirt = facts(data, "libvirt11-nftables/probe-remote-silent-failure.txt")
    assert libvirt.networks["default"].active
    assert system.firewall.backend == "nftables"
    assert system.firewall.masquerade_sources == frozenset()
    checks = load_checks("network/test_firewall.py")
    with pytest.raises(AssertionError, match="NAT rules are missing: no masquerade for 192.168.122.0/24 \\(nftables backend"):
        checks.test_masquerade_is_in_place(system.firewall, system, libvirt, Profile(), lambda text: None, lambda text: None)
