"""VM-01..04, NET-01..05 and NET-15 run on small facts: each verdict and message a user reads."""
from dataclasses import replace

import pytest

from selftests.unit.checkrun import load_checks
from selftests.unit.networks import network
from virtnat.facts.model import (
    DhcpRange,
    GuestNic,
    LibvirtFacts,
    LinkFacts,
    ProcessFacts,
    SocketFacts,
    SystemFacts,
)
from virtnat.path.model import restart
from virtnat.profile import Profile

taps = load_checks("vm/test_taps.py")
definition = load_checks("network/test_definition.py")
ports = load_checks("network/test_ports.py")
PROFILE = Profile()
NIC = GuestNic("win10", "52:54:00:9f:98:b9", "vnet0", "default", None)
BRIDGE = LinkFacts("virbr0", 3, "bridge", True, "UP", "52:54:00:00:00:01")
TAP = LinkFacts("vnet0", 4, "tun", True, "UNKNOWN", "FE:54:00:9f:98:b9", master="virbr0")
NETWORK = network("default", True, True, True, "nat", "virbr0", True, "192.168.122.1/24",
                       (DhcpRange("192.168.122.2", "192.168.122.254"),))


def libvirt(network=NETWORK):
    return LibvirtFacts("qemu:///system", "9.0.0", {network.name: network}, (), ())


def outcome(check, *args) -> tuple[str, str]:
    try:
        check(*args)
    except AssertionError as exc:
        return "failed", str(exc).splitlines()[0]
    except pytest.fail.Exception as exc:
        assert exc.pytrace is False
        return "error", exc.msg
    return "passed", ""


# -- VM-01..04 ---------------------------------------------------------------------------------

def test_vm_checks_pass_on_a_healthy_tap():
    links = {"virbr0": BRIDGE, "vnet0": TAP}
    seen = []
    taps.test_tap_exists(NIC, links, pytest.fail)
    taps.test_tap_is_on_bridge(NIC, links, libvirt(), PROFILE, pytest.fail)
    taps.test_tap_is_up(NIC, links, seen.append, pytest.fail)
    taps.test_tap_mac_matches_guest(NIC, links, pytest.fail)
    assert seen == ["vnet0 operstate UNKNOWN: normal for a tap"]
    taps.test_tap_is_up(NIC, {"vnet0": replace(TAP, operstate="UP")}, seen.append, pytest.fail)
    assert len(seen) == 1


def test_vm_checks_without_a_tap():
    no_dev = replace(NIC, tap=None)
    fixes = []
    assert outcome(taps.test_tap_exists, no_dev, {}, fixes.append) == \
        ("failed", "guest win10: interface 52:54:00:9f:98:b9 declares no host device")
    assert outcome(taps.test_tap_exists, NIC, {}, fixes.append) == ("failed", "tap vnet0 of guest win10 does not exist")
    for check, args in ((taps.test_tap_is_up, (lambda _: None,)), (taps.test_tap_mac_matches_guest, ())):
        assert outcome(check, no_dev, {}, *args, fixes.append) == \
            ("error", "guest win10: interface 52:54:00:9f:98:b9 declares no host device (<target dev>)")
        assert outcome(check, NIC, {"virbr0": BRIDGE}, *args, fixes.append) == ("error", "tap vnet0 of guest win10 does not exist (VM-01)")
    by_mac = ("virsh domif-setlink --domain win10 --interface 52:54:00:9f:98:b9 --state down; "
              "virsh domif-setlink --domain win10 --interface 52:54:00:9f:98:b9 --state up")
    by_tap = "virsh domif-setlink --domain win10 --interface vnet0 --state down; virsh domif-setlink --domain win10 --interface vnet0 --state up"
    assert fixes == [by_mac, by_tap] * 3  # VM-01's, in every check that needs the tap: by the MAC when none is declared


def test_vm02_tap_elsewhere_or_no_bridge():
    assert outcome(taps.test_tap_is_on_bridge, NIC, {"virbr0": BRIDGE, "vnet0": replace(TAP, master=None)}, libvirt(), PROFILE,
                   pytest.fail) == \
        ("failed", "vnet0 is attached to no bridge, expected virbr0")
    assert outcome(taps.test_tap_is_on_bridge, NIC, {"virbr0": BRIDGE, "vnet0": replace(TAP, master="br0")}, None, PROFILE,
                   pytest.fail) == \
        ("failed", "vnet0 is attached to br0, expected virbr0")
    assert outcome(taps.test_tap_is_on_bridge, NIC, {"vnet0": TAP}, None, PROFILE, pytest.fail) == \
        ("error", "virbr0 does not exist: libvirt cannot be reached (HOST-01)")


def test_vm03_and_vm04_failures():
    assert outcome(taps.test_tap_is_up, NIC, {"vnet0": replace(TAP, admin_up=False)}, lambda _: None, pytest.fail) == \
        ("failed", "vnet0 is administratively DOWN")
    assert outcome(taps.test_tap_mac_matches_guest, NIC, {"vnet0": replace(TAP, mac="fe:54:00:00:00:01")}, pytest.fail) == \
        ("failed", "vnet0 has MAC fe:54:00:00:00:01, expected fe:54:00:9f:98:b9 for guest MAC 52:54:00:9f:98:b9")


# -- NET-01..05 --------------------------------------------------------------------------------

def test_definition_checks_pass_on_the_documents_network():
    for check in (definition.test_network_is_defined, definition.test_network_is_active, definition.test_network_is_autostarted,
                  definition.test_forward_mode_is_nat, definition.test_network_xml_matches_profile):
        assert outcome(check, libvirt(), PROFILE) == ("passed", "")


@pytest.mark.parametrize("check, change, message", [
    ("test_network_is_defined", dict(persistent=False), "network 'default' is transient, expected persistent (defined)"),
    ("test_network_is_active", dict(active=False), "network 'default' is inactive, expected active"),
    ("test_network_is_autostarted", dict(autostart=False), "network 'default': autostart is off, expected on: after a reboot it "
     "stays inactive (no virbr0, no dnsmasq, no NAT rules) until virsh net-start default"),
    ("test_network_is_autostarted", dict(autostart=False, bridge=None), "network 'default': autostart is off, expected on: after "
     "a reboot it stays inactive (no bridge, no dnsmasq, no NAT rules) until virsh net-start default"),
    ("test_forward_mode_is_nat", dict(forward_mode="route"), "network 'default': forward mode is route, expected nat"),
    ("test_forward_mode_is_nat", dict(forward_mode=None), "network 'default': forward mode is none (isolated), expected nat"),
    ("test_network_xml_matches_profile", dict(bridge="virbr1", stp=False, gateway="192.168.122.1/16"),
     "network 'default': bridge 'virbr1', expected 'virbr0'; stp off, expected on; address 192.168.122.1/16, expected 192.168.122.1/24"),
    ("test_network_xml_matches_profile", dict(dhcp_ranges=()),
     "network 'default': DHCP ranges none, expected 192.168.122.2-192.168.122.254"),
    ("test_network_xml_matches_profile", dict(dhcp_ranges=(DhcpRange("192.168.122.2", "192.168.122.254"),
                                                           DhcpRange("192.168.123.2", "192.168.122.9"), DhcpRange("x", "y"),
                                                           DhcpRange("192.168.122.2", "192.168.123.9"))),
     "network 'default': DHCP range 192.168.123.2-192.168.122.9, x-y, 192.168.122.2-192.168.123.9 outside 192.168.122.0/24"),
    ("test_network_xml_matches_profile", dict(dhcp_ranges=(DhcpRange("192.168.122.2", "192.168.122.100"),)),
     "network 'default': DHCP ranges [('192.168.122.2', '192.168.122.100')], expected 192.168.122.2-192.168.122.254"),
])
def test_definition_failures(check, change, message):
    assert outcome(getattr(definition, check), libvirt(network(**{"dhcp_ranges": NETWORK.dhcp_ranges, **change})), PROFILE) == ("failed", message)


def test_definition_checks_need_the_network():
    other = LibvirtFacts("qemu:///system", "9.0.0", {}, (), ())
    assert outcome(definition.test_network_is_active, other, PROFILE) == \
        ("error", "network 'default' is not defined (NET-01; defined networks: none)")


# -- NET-15 ------------------------------------------------------------------------------------

CONF = "/usr/sbin/dnsmasq --conf-file=/var/lib/libvirt/dnsmasq/default.conf"
OWN = ProcessFacts(3469, "dnsmasq", CONF, True)
DNS = (SocketFacts("udp", "192.168.122.1", 53, "virbr0", (("dnsmasq", 3469),)),
       SocketFacts("tcp", "192.168.122.1", 53, "virbr0", (("dnsmasq", 3469),)),
       SocketFacts("udp", "0.0.0.0", 67, "virbr0", (("dnsmasq", 3469),)))


def host(sockets=DNS, processes=(OWN,), problems=()):
    return SystemFacts({}, {}, {}, True, tuple(processes), {}, None, {}, None, sockets=sockets, path_problems=problems)


def net15(system, network=NETWORK, notes=None, fixes=None):
    return outcome(ports.test_gateway_ports_belong_to_dnsmasq, system, network and libvirt(network), PROFILE,
                   (notes if notes is not None else []).append, (fixes if fixes is not None else []).append)


def test_net15_passes_with_a_note():
    seen = []
    assert net15(host(processes=(OWN, replace(OWN, pid=3470))), notes=seen) == ("passed", "")
    assert seen == ["held by dnsmasq pid 3469, 3470"]


def test_net15_without_sockets_or_their_processes():
    assert net15(host(sockets=None, problems=("sockets: ss: not found", "x"))) == \
        ("error", "listening sockets could not be read: sockets: ss: not found; x")
    hidden = tuple(replace(s, processes=()) for s in DNS)
    assert net15(host(sockets=hidden)) == \
        ("error", "udp 53: the socket's process is not visible: needs root: run with --sudo, or audit as root")


def test_net15_other_holders_and_missing_listeners():
    resolved = ProcessFacts(500, "systemd-resolve", "/lib/systemd/systemd-resolved " + "x" * 80, True)
    sockets = (SocketFacts("udp", "0.0.0.0", 53, None, (("systemd-resolve", 500),)),
               SocketFacts("udp", "192.168.122.1", 53, None, (("systemd-resolve", 500), ("other", 501))), DNS[1])
    fixes = []
    assert net15(host(sockets=sockets, processes=(OWN, resolved)), fixes=fixes) == ("failed", (
        "udp 53 (DNS) to 192.168.122.1 is held by systemd-resolve pid 500 (/lib/systemd/systemd-resolved "
        + "x" * 30 + "), other pid 501 (?) on udp 192.168.122.1:53, not by the dnsmasq of network 'default'; "
        "nothing listens on udp 192.168.122.1:67 (DHCP)"))
    assert fixes == [f"kill 500 501 && {restart('default', 'virbr0')}"]


def test_net15_dhcp_is_judged_on_the_broadcast_address():
    sockets = DNS[:2] + (SocketFacts("udp", "192.168.122.1", 67, None, (("dnsmasq", 3469),)),)
    fixes = []
    assert net15(host(sockets=sockets), fixes=fixes) == ("failed", "nothing listens on udp 192.168.122.1:67 (DHCP)")
    assert fixes == [restart("default", "virbr0")]  # no one else to kill


def test_net15_without_the_networks_dnsmasq():
    assert net15(host(sockets=(), processes=())) == ("failed", (
        "nothing listens on udp 192.168.122.1:53 (DNS); nothing listens on tcp 192.168.122.1:53 (DNS); "
        "nothing listens on udp 192.168.122.1:67 (DHCP); the dnsmasq of network 'default' is not running (NET-13)"))
    assert net15(host(processes=()), network=None)[1] == (
        "udp 53 (DNS) to 192.168.122.1 is held by dnsmasq pid 3469 (?) on udp 192.168.122.1%virbr0:53, not by the dnsmasq of network 'default'; tcp 53 (DNS) to 192.168.122.1 is held by dnsmasq "
        "pid 3469 (?) on tcp 192.168.122.1%virbr0:53, not by the dnsmasq of network 'default'; udp 67 (DHCP) to 255.255.255.255 is "
        "held by dnsmasq pid 3469 (?) on udp 0.0.0.0%virbr0:67, not by the dnsmasq of network 'default'; "
        "the dnsmasq of network 'default' is not running (NET-13)")


def test_net15_inactive_network_is_named_unless_someone_else_holds_the_ports():
    inactive = replace(NETWORK, active=False)
    fixes = []
    assert net15(host(sockets=(), processes=()), network=inactive, fixes=fixes) == \
        ("error", "network 'default' is inactive (NET-02), so nothing of it runs")
    assert net15(host(processes=()), network=inactive, fixes=fixes)[0] == "failed"
    assert fixes == ["virsh net-start default", "kill 3469 && virsh net-start default"]  # it cannot start beside them
    assert net15(host(sockets=(), processes=()), network=replace(NETWORK, name="other"))[1].endswith("is not running (NET-13)")


# -- NET-13 ------------------------------------------------------------------------------------

dnsmasq = load_checks("network/test_dnsmasq.py")


def test_net13():
    assert outcome(dnsmasq.test_dnsmasq_is_running, host(), libvirt(), PROFILE, lambda _: None) == ("passed", "")
    assert outcome(dnsmasq.test_dnsmasq_is_running, host(processes=()), None, PROFILE, lambda _: None) == \
        ("failed", "no dnsmasq runs with libvirt's config for network 'default' (…/dnsmasq/default.conf)")
    fixes = []
    assert outcome(dnsmasq.test_dnsmasq_is_running, host(), libvirt(replace(NETWORK, active=False)), PROFILE, fixes.append) == \
        ("error", "network 'default' is inactive (NET-02), so nothing of it runs")
    assert fixes == ["virsh net-start default"]  # NET-02's
    user = replace(OWN, uid=1000, exe="/usr/sbin/dnsmasq")
    assert outcome(dnsmasq.test_dnsmasq_is_running, host(processes=(user,)), None, PROFILE, lambda _: None) == \
        ("failed", "network 'default': processes named dnsmasq with its config run, but none as root from a dnsmasq executable "
                   "(pid 3469 uid 1000 /usr/sbin/dnsmasq): not libvirt's")


# -- NET-06..10 --------------------------------------------------------------------------------

bridge = load_checks("network/test_bridge.py")
UP_BRIDGE = replace(BRIDGE, stp_enabled=True, addresses=("192.168.122.1/24", "fe80::1/64"))


def _fix_of(check):
    """The fix recorder each bridge check takes (its last argument)."""
    return [lambda _: None]


def test_bridge_checks_pass_on_a_healthy_bridge():
    links = {"virbr0": UP_BRIDGE, "vnet0": TAP, "virbr0-nic": LinkFacts("virbr0-nic", 5, "tun", False, "DOWN", "", "virbr0"),
             "veth1": LinkFacts("veth1", 6, "veth", True, "UP", "", "virbr0"), "eth0": LinkFacts("eth0", 2, None, True, "UP", "")}
    seen = []
    for check in (bridge.test_bridge_exists, bridge.test_bridge_has_gateway_address, bridge.test_bridge_has_stp,
                  bridge.test_bridge_has_no_uplink):
        assert outcome(check, links, None, PROFILE, *_fix_of(check)) == ("passed", "")
    assert outcome(bridge.test_bridge_is_up, links, None, PROFILE, seen.append, lambda _: None) == ("passed", "")
    assert seen == []


def test_bridge_failures():
    def one(check, link, *extra, **more):
        return outcome(check, {"virbr0": link, **more}, None, PROFILE, *(extra or _fix_of(check)))
    assert one(bridge.test_bridge_exists, replace(UP_BRIDGE, kind=None)) == ("failed", "virbr0 is a physical device, expected a bridge")
    assert one(bridge.test_bridge_exists, replace(UP_BRIDGE, kind="dummy")) == ("failed", "virbr0 is a dummy device, expected a bridge")
    assert one(bridge.test_bridge_has_stp, replace(UP_BRIDGE, stp_enabled=False)) == \
        ("failed", "virbr0: STP is off in the kernel, expected on")
    assert one(bridge.test_bridge_has_gateway_address, replace(UP_BRIDGE, addresses=("10.0.0.1/8", "fe80::1/64", "192.168.122.1/16"))) == \
        ("failed", "virbr0 has 10.0.0.1/8, 192.168.122.1/16, expected 192.168.122.1/24")
    assert one(bridge.test_bridge_has_gateway_address, replace(UP_BRIDGE, addresses=("fe80::1/64",))) == \
        ("failed", "virbr0 has no IPv4 address, expected 192.168.122.1/24")
    ports = dict(eth1=LinkFacts("eth1", 7, None, True, "UP", "", "virbr0"), dummy0=LinkFacts("dummy0", 8, "dummy", True, "UP", "", "virbr0"),
                 vnet0=TAP, eth2=LinkFacts("eth2", 9, None, True, "UP", "", "br0"))
    fixes = []
    assert one(bridge.test_bridge_has_no_uplink, UP_BRIDGE, fixes.append, **ports) == \
        ("failed", "virbr0 has non-guest port(s): dummy0 (dummy), eth1 (physical)")
    assert fixes == ["ip link set dev dummy0 nomaster && ip link set dev eth1 nomaster"]
    gone = ("error", "virbr0 does not exist: network 'default' is active but its bridge is gone")
    fixes = []  # each check's fix is the missing bridge's cause's: the network's restart
    for check in (bridge.test_bridge_exists, bridge.test_bridge_has_gateway_address, bridge.test_bridge_has_stp,
                  bridge.test_bridge_has_no_uplink):
        assert outcome(check, {"vnet0": TAP}, libvirt(), PROFILE, fixes.append) == gone
    assert outcome(bridge.test_bridge_is_up, {"vnet0": TAP}, libvirt(), PROFILE, lambda _: None, fixes.append) == gone
    assert outcome(taps.test_tap_is_on_bridge, NIC, {"vnet0": TAP}, libvirt(), PROFILE, fixes.append) == gone
    assert fixes == [restart("default", "virbr0")] * 6


def test_the_legacy_nic_is_no_uplink_whatever_its_kind():
    nic = LinkFacts("virbr0-nic", 5, "dummy", False, "DOWN", "", "virbr0")
    assert outcome(bridge.test_bridge_has_no_uplink, {"virbr0": UP_BRIDGE, "virbr0-nic": nic}, None, PROFILE, pytest.fail) == ("passed", "")
    other = replace(nic, name="virbr1-nic")
    assert outcome(bridge.test_bridge_has_no_uplink, {"virbr0": UP_BRIDGE, "virbr1-nic": other}, None, PROFILE, lambda _: None) == \
        ("failed", "virbr0 has non-guest port(s): virbr1-nic (dummy)")


def test_bridge_up_admin_state_and_carrier():
    seen = []
    down = replace(UP_BRIDGE, operstate="DOWN")
    assert outcome(bridge.test_bridge_is_up, {"virbr0": replace(down, admin_up=False)}, None, PROFILE, seen.append, lambda _: None) == \
        ("failed", "virbr0 is administratively DOWN (while libvirt may still call the network active)")
    nic = LinkFacts("virbr0-nic", 5, "tun", False, "DOWN", "", "virbr0")
    assert outcome(bridge.test_bridge_is_up, {"virbr0": down, "virbr0-nic": nic}, None, PROFILE, seen.append, lambda _: None) == ("passed", "")
    assert seen == ["virbr0 has no port attached (NO-CARRIER, operstate DOWN): normal for an idle host"]
    assert outcome(bridge.test_bridge_is_up, {"virbr0": UP_BRIDGE, "virbr0-nic": nic}, None, PROFILE, seen.append, lambda _: None) == ("passed", "")
    assert len(seen) == 1
    links = {"virbr0": down, "vnet1": replace(TAP, name="vnet1", admin_up=False), "vnet0": TAP, "virbr0-nic": nic}
    assert outcome(bridge.test_bridge_is_up, links, None, PROFILE, seen.append, lambda _: None) == \
        ("failed", "virbr0 is UP but operstate DOWN with ports vnet0, vnet1 attached (1 of them UP)")
    assert len(seen) == 1


def test_net15_names_every_socket_holding_the_port():
    sockets = (SocketFacts("udp", "192.168.122.1", 53, None, (("named", 700),)), SocketFacts("udp", "*", 53, None, (("named", 701),)),
               SocketFacts("udp", "0.0.0.0", 53, None, (("named", 701),))) + DNS[1:]
    assert net15(host(sockets=sockets))[1] == (
        "udp 53 (DNS) to 192.168.122.1 is held by named pid 700 (?) on udp 192.168.122.1:53, not by the dnsmasq of network 'default'")
    sockets = (SocketFacts("udp", "*", 53, None, (("named", 701),)), SocketFacts("udp", "0.0.0.0", 53, None, (("named", 701),))) + DNS[1:]
    assert net15(host(sockets=sockets))[1] == (
        "udp 53 (DNS) to 192.168.122.1 is held by named pid 701 (?) on udp *:53, udp 0.0.0.0:53, not by the dnsmasq of network 'default'")
