"""The checks themselves, run on facts: the lab's recorded state and the libvirt 5.5 state the
document quotes (virbr0-nic on the bridge, always DOWN)."""

import pytest

from selftests.unit.checkrun import load_checks
from selftests.unit.networks import network
from virtnat.facts.links import parse_ip_json
from virtnat.facts.model import LibvirtFacts, LinkFacts
from virtnat.profile import Profile

bridge_checks = load_checks("network/test_bridge.py")
PROFILE = Profile()
NETWORK = network("default", True, True, True, "nat", "virbr0", True, "192.168.122.1/24")
LIBVIRT = LibvirtFacts("qemu:///system", "5.5.0", {"default": NETWORK}, (), ())


def link(name, **kw):
    base = dict(index=1, kind=None, admin_up=True, operstate="UNKNOWN", mac="52:54:00:45:db:25")
    base.update(kw)
    return LinkFacts(name=name, **base)


def document_links(bridge_up=True, bridge_oper="DOWN", with_guest=False):
    """`ip addr` from the document: virbr0 with 192.168.122.1/24, virbr0-nic DOWN on it."""
    links = {
        "virbr0": link("virbr0", kind="bridge", admin_up=bridge_up, operstate=bridge_oper, stp_enabled=True,
                       mac="7a:50:26:bf:33:7c", addresses=("192.168.122.1/24",)),
        "virbr0-nic": link("virbr0-nic", kind="tun", admin_up=False, operstate="DOWN", master="virbr0"),
        "br0": link("br0", kind="bridge", operstate="UP", stp_enabled=False),
    }
    if with_guest:
        links["vnet0"] = link("vnet0", kind="tun", master="virbr0", mac="fe:54:00:9f:98:b9")
    return links


def notes():
    seen = []
    return seen, seen.append


def test_idle_libvirt55_host_passes_with_a_note():
    seen, note = notes()
    bridge_checks.test_bridge_is_up(document_links(), LIBVIRT, PROFILE, note, pytest.fail)
    assert "NO-CARRIER" in seen[0]
    bridge_checks.test_bridge_has_no_uplink(document_links(), LIBVIRT, PROFILE, pytest.fail)


def test_virbr0_nic_never_fails_the_uplink_check_even_with_a_guest():
    bridge_checks.test_bridge_has_no_uplink(document_links(bridge_oper="UP", with_guest=True), LIBVIRT, PROFILE, pytest.fail)


def test_document_incident_admin_down_fails():
    with pytest.raises(AssertionError, match="administratively DOWN"):
        bridge_checks.test_bridge_is_up(document_links(bridge_up=False), LIBVIRT, PROFILE, notes()[1], pytest.fail)


def test_guest_port_without_carrier_fails():
    links = document_links(bridge_oper="DOWN", with_guest=True)
    with pytest.raises(AssertionError, match="operstate DOWN with ports vnet0"):
        bridge_checks.test_bridge_is_up(links, LIBVIRT, PROFILE, notes()[1], pytest.fail)


def test_physical_port_fails_the_uplink_check(data):
    links = parse_ip_json(data("libvirt9/ip-link.json"), data("libvirt9/ip-addr.json"))
    links["eth1"] = link("eth1", master="virbr0")
    links["br-;x"] = link("br-;x", master="virbr0")
    fixes = []
    with pytest.raises(AssertionError, match=r"br-;x \(physical\), eth1 \(physical\)"):
        bridge_checks.test_bridge_has_no_uplink(links, LIBVIRT, PROFILE, fixes.append)
    assert fixes == ["ip link set dev 'br-;x' nomaster && ip link set dev eth1 nomaster"]


def test_missing_bridge_names_the_inactive_network():
    inactive = LibvirtFacts("qemu:///system", "9.0.0", {"default": network("default", False, True, True, "nat", "virbr0", True, "192.168.122.1/24")}, (), ())
    fixes = []
    with pytest.raises(pytest.fail.Exception, match=r"virbr0 does not exist: network 'default' is inactive \(NET-02\)"):
        bridge_checks.test_bridge_exists({}, inactive, PROFILE, fixes.append)
    assert fixes == ["virsh net-start default"]  # NET-02's, the cause
