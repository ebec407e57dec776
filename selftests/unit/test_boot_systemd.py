"""Issue 11 on the probe recorded from a real systemd host (the systemd lab, lab/labsd.sh; made by
selftests/data/systemd/record.py): systemd's own view of the units; healthy before and after a
reboot; each boot fault of the e2e tests caught with its exact message, and rebooted with it in
place, the host as the check said; libvirt read from its state files while its daemon is stopped;
libvirt 11.3 from bookworm-backports, whose unit lacks the ordering, before and after its fix."""
from pathlib import Path

import pytest

from selftests.e2e.bootfaults import BOOT_FAULTS
from selftests.unit import probe_edits as e
from selftests.unit.checkrun import NO_LINK_CONFIG, outcomes
from virtnat.facts.probe import parse_probe, split_sections
from virtnat.facts.units import parse_units
from virtnat.facts.virsh import libvirt_from_sections

SD = Path(__file__).resolve().parents[1] / "data" / "systemd"
LIBVIRT9, LIBVIRT11 = SD / "libvirt9", SD / "libvirt11"
NO_GUEST = "no running guest has an interface on network 'default'"
INACTIVE = "network 'default' is inactive (NET-02), so nothing of it runs"
NO_BRIDGE = "virbr0 does not exist: network 'default' is inactive (NET-02)"
# What fails, beside NET-02, when the network did not come back: nothing of it runs.
NETWORK_DOWN = {c: ("failed", NO_BRIDGE) for c in ("NET-06", "NET-07", "NET-08", "NET-09", "NET-10")} | {
    c: ("failed", INACTIVE) for c in ("NET-11", "NET-12", "NET-13", "NET-14", "NET-15", "PATH-01", "PATH-02", "PATH-03", "PATH-04", "PATH-05")}
NOT_ORDERED = ("libvirtd.service is not ordered after firewalld.service: at boot the network may start before firewalld "
               "and lose its firewall rules")


def not_passed(path: Path) -> dict:
    """What did not pass, but the VM checks (the systemd lab runs no guest: they skip, saying so) and
    HOST-12 on a recording made before the probe read the link-config section (it skips, saying so)."""
    found = outcomes(path.read_text())
    assert len(found) == 38 and all(found[f"VM-0{n}"] == ("skipped", NO_GUEST) for n in range(1, 5)), found
    return {c: o for c, o in found.items() if o[0] != "passed" and not c.startswith("VM-") and o != ("skipped", NO_LINK_CONFIG)}


def test_systemd_shows_the_units_as_they_run():
    units = parse_units(e.body((LIBVIRT9 / "healthy.txt").read_text(), "units"))
    assert units.systemd and units.systemctl and units.libvirt_sockets == ("libvirt",)
    libvirtd = units.units["libvirtd.service"]
    assert (libvirtd.loaded, libvirtd.active, libvirtd.enabled) == ("loaded", "active", "enabled")
    assert "firewalld.service" in libvirtd.after and set(libvirtd.triggered_by) == {
        "libvirtd.socket", "libvirtd-ro.socket", "libvirtd-admin.socket"}
    assert (units.units["libvirtd.socket"].active, units.units["firewalld.service"].active) == ("active", "active")
    assert units.units["virtqemud.service"].loaded == units.units["virtnetworkd.socket"].loaded == "not-found"


@pytest.mark.parametrize("path", [LIBVIRT9 / "healthy.txt", LIBVIRT9 / "after-reboot.txt", LIBVIRT11 / "fixed.txt"],
                         ids=["healthy", "after-reboot", "libvirt11-fixed"])
def test_the_healthy_systemd_host_passes_every_check(path):
    assert not_passed(path) == {}


@pytest.mark.parametrize("fault", BOOT_FAULTS, ids=[f.name for f in BOOT_FAULTS])
def test_each_boot_fault_recorded_fails_exactly_its_check(fault):
    assert not_passed(LIBVIRT9 / f"{fault.name}.txt") == {fault.check: ("failed", fault.message), **fault.others}


@pytest.mark.parametrize("name", ["daemon-disabled", "service-disabled-socket-enabled"])
def test_rebooted_with_the_daemon_disabled_no_network_came_back(name):
    found = not_passed(LIBVIRT9 / f"{name}-rebooted.txt")
    assert found.pop("HOST-10") == ("failed", fault(name).message) and found.pop("HOST-11") == fault(name).others["HOST-11"]
    assert found.pop("NET-02") == ("failed", "network 'default' is inactive, expected active")
    assert found.pop("NET-17") == ("skipped", "network 'default' is inactive: its next start uses its persistent "
                                              "definition (NET-02)")
    assert found == NETWORK_DOWN


def fault(name: str):
    return next(f for f in BOOT_FAULTS if f.name == name)


@pytest.mark.parametrize("name", ["forwarding-runtime-only", "forwarding-only-in-unread-sysctl-conf"])
def test_rebooted_with_forwarding_not_persisted_libvirt_turned_ipv4_on_and_ipv6_stayed_off(name):
    """HOST-06 said 0 at boot until libvirt starts a NAT network: the network autostarted and
    IPv4 forwarding is on (HOST-05 passes); IPv6 forwarding, which no file the boot read sets and
    libvirt leaves alone for this network, is off now (/etc/sysctl.conf set it: it was not read)."""
    text = (LIBVIRT9 / f"{name}-rebooted.txt").read_text()
    ipv4 = fault(name).others["HOST-07"][1].split("; ")[0]
    assert not_passed(LIBVIRT9 / f"{name}-rebooted.txt") == {
        "HOST-06": ("failed", fault(name).message),
        "HOST-07": ("failed", f"{ipv4}; net.ipv6.conf.all.forwarding is '0' now; net.ipv6.conf.all.forwarding is 0 after boot "
                              f"(no file sets it); expected 1")}
    system = parse_probe(text)
    assert (system.sysctl_runtime["net.ipv4.ip_forward"], system.sysctl_runtime["net.ipv6.conf.all.forwarding"]) == ("1", "0")
    assert system.sysctl_persisted == {}


def test_rebooted_with_forwarding_not_persisted_and_no_network_started_forwarding_stayed_off():
    """The other half of HOST-06's verdict: until libvirt starts a NAT network, forwarding is the boot's 0."""
    name = "forwarding-runtime-only-autostart-off"
    found = not_passed(LIBVIRT9 / f"{name}-rebooted.txt")
    assert found.pop("HOST-06") == ("failed", fault(name).message)
    assert found.pop("NET-03") == fault(name).others["NET-03"]
    assert found.pop("HOST-05") == ("failed", "net.ipv4.ip_forward is '0', expected '1'")
    ipv4, ipv6 = fault(name).others["HOST-07"][1].split("; ")[:2]
    assert found.pop("HOST-07") == ("failed", f"net.ipv4.conf.all.forwarding is '0' now; {ipv4}; "
                                              f"net.ipv6.conf.all.forwarding is '0' now; {ipv6}; expected 1")
    assert found.pop("NET-02") == ("failed", "network 'default' is inactive, expected active")
    assert found.pop("NET-17")[0] == "skipped"
    assert found == NETWORK_DOWN
    runtime = parse_probe((LIBVIRT9 / f"{name}-rebooted.txt").read_text()).sysctl_runtime
    assert set(runtime.values()) == {"0"} and len(runtime) == 3


def test_an_unread_sysctl_conf_is_read_as_unread():
    """Debian 12 without its 99-sysctl.conf link: systemd-sysctl does not read /etc/sysctl.conf."""
    for suffix in ("", "-rebooted"):
        system = parse_probe((LIBVIRT9 / f"forwarding-only-in-unread-sysctl-conf{suffix}.txt").read_text())
        assert not system.sysctl_conf_at_boot and system.binaries["systemd-sysctl"]
        assert system.sysctl_unread == {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.forwarding": "1",
                                        "net.ipv6.conf.all.forwarding": "1"}
    healthy = parse_probe((LIBVIRT9 / "healthy.txt").read_text())
    assert healthy.sysctl_conf_at_boot and healthy.sysctl_unread == {}
    # Without systemd-sysctl the boot's own scripts read /etc/sysctl.conf: nothing in it is unread.
    text = (LIBVIRT9 / "forwarding-only-in-unread-sysctl-conf.txt").read_text()
    no_systemd = parse_probe(text.replace("systemd-sysctl /usr/lib/systemd/systemd-sysctl\n", "systemd-sysctl \n"))
    assert no_systemd.sysctl_conf_at_boot and no_systemd.sysctl_unread == {}


def test_rebooted_with_firewalld_disabled_the_network_came_up_on_libvirts_own_rules():
    found = not_passed(LIBVIRT9 / "firewalld-disabled-rebooted.txt")
    assert found == {"HOST-03": ("failed", fault("firewalld-disabled").message), **fault("firewalld-disabled").others,
                     "HOST-02": ("failed", "firewalld is installed but not running"),
                     "NET-14": ("failed", "firewalld is not running (HOST-02), so virbr0 is in no zone")}
    system = parse_probe((LIBVIRT9 / "firewalld-disabled-rebooted.txt").read_text())
    assert system.firewall.backend == "iptables" and "192.168.122.0/24" in system.firewall.masquerade_sources
    assert not system.running("firewalld") and system.running("dnsmasq")


def test_rebooted_with_autostart_off_the_network_stayed_down():
    found = not_passed(LIBVIRT9 / "network-autostart-off-rebooted.txt")
    assert found.pop("NET-03") == ("failed", fault("network-autostart-off").message)
    assert found.pop("NET-02") == ("failed", "network 'default' is inactive, expected active")
    assert found.pop("NET-17") == ("skipped", "network 'default' is inactive: its next start uses its persistent "
                                              "definition (NET-02)")
    assert found == NETWORK_DOWN
    system = parse_probe((LIBVIRT9 / "network-autostart-off-rebooted.txt").read_text())
    assert not system.running("dnsmasq") and not system.firewall.masquerade_sources


def test_rebooted_with_a_changed_persistent_definition_the_network_came_back_changed():
    assert not_passed(LIBVIRT9 / "persistent-definition-changed-rebooted.txt") == {
        "NET-05": ("failed", "network 'default': DHCP ranges [('192.168.122.100', '192.168.122.200')], "
                             "expected 192.168.122.2-192.168.122.254")}


def test_a_stopped_daemon_is_read_from_its_state_files_and_not_started():
    text = (LIBVIRT9 / "libvirtd-stopped.txt").read_text()
    sections = split_sections(text)
    assert "virsh-networks" not in sections  # the probe did not connect
    assert sections["libvirt-stopped"][1] == "libvirtd.service inactive libvirtd.socket active"
    libvirt = libvirt_from_sections(sections, "qemu:///system", None)
    healthy = libvirt_from_sections(split_sections((LIBVIRT9 / "healthy.txt").read_text()), "qemu:///system", None)
    assert libvirt.stopped == (("libvirtd", "inactive", "active"),) and libvirt.version == "9.0.0"
    assert {n: (f.active, f.persistent, f.autostart, f.definition, f.persistent_definition) for n, f in libvirt.networks.items()} == \
        {n: (f.active, f.persistent, f.autostart, f.definition, f.persistent_definition) for n, f in healthy.networks.items()}
    assert not_passed(LIBVIRT9 / "libvirtd-stopped.txt") == {}


def test_with_no_daemon_and_no_socket_host01_fails():
    assert not_passed(LIBVIRT9 / "no-daemon.txt") == {"HOST-01": (
        "failed", "no libvirt daemon runs and no socket starts one (libvirtd.service is inactive, libvirtd.socket is "
                  "inactive): nothing serves qemu:///system")}


def test_libvirt_11_from_backports_booted_without_its_network_and_host11_said_why():
    found = not_passed(LIBVIRT11 / "boot-network-down.txt")
    assert found.pop("HOST-11") == ("failed", NOT_ORDERED)
    assert found.pop("NET-02") == ("failed", "network 'default' is inactive, expected active")
    assert {c for c, (o, _) in found.items() if o == "failed"} == {
        "NET-06", "NET-07", "NET-08", "NET-09", "NET-10", "NET-11", "NET-12", "NET-13", "NET-14", "NET-15",
        "PATH-01", "PATH-02", "PATH-03", "PATH-04", "PATH-05"}


def test_libvirt_11_from_backports_lost_its_rules_at_boot_and_host11_said_why():
    found = not_passed(LIBVIRT11 / "boot-no-rules.txt")
    assert found.pop("HOST-11") == ("failed", NOT_ORDERED)
    assert found.pop("NET-14") == ("failed", "virbr0 is in zone 'none', expected 'libvirt'")
    assert set(found) == {"NET-11", "NET-12", "PATH-01", "PATH-02", "PATH-03"}
    assert "no libvirt rules in iptables or nftables" in found["NET-11"][1]
    units = parse_units(e.body((LIBVIRT11 / "fixed.txt").read_text(), "units"))
    assert "firewalld.service" in units.units["libvirtd.service"].after


def test_rebooted_without_the_ordering_the_network_did_not_start():
    """libvirtd started beside firewalld and found no LIBVIRT_INP chain: the network stayed down."""
    found = not_passed(LIBVIRT9 / "not-ordered-after-firewalld-rebooted.txt")
    assert found.pop("HOST-11") == ("failed", NOT_ORDERED)
    assert found.pop("NET-02") == ("failed", "network 'default' is inactive, expected active")
    assert found.pop("NET-17")[0] == "skipped"
    assert set(found) == {"NET-06", "NET-07", "NET-08", "NET-09", "NET-10", "NET-11", "NET-12", "NET-13", "NET-14", "NET-15",
                          "PATH-01", "PATH-02", "PATH-03", "PATH-04", "PATH-05"}
