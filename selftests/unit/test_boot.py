"""Issue 11, the next boot: the units section's parser, the gate that keeps an audit from
socket-activating libvirt, and HOST-10, HOST-11, NET-17 on the non-systemd recordings (unit
files read offline) with one fact changed each. The systemd host's own recordings:
test_boot_systemd.py."""
import os
from pathlib import Path

import pytest

from selftests.unit import probe_edits as e
from selftests.unit.checkrun import DATA, STANDING, findings, outcomes
from virtnat.collectors.libvirt_api import local_fallback, remote_fallback
from virtnat.errors import FactError
from virtnat.facts.libvirt_files import AUTOSTART, GUESTS, NETWORKS, STATUS, libvirt_from_files
from virtnat.facts.model import UnitFacts, UnitsFacts
from virtnat.facts.probe import split_sections
from virtnat.facts.units import describe_stopped, libvirt_stopped, parse_stopped, parse_units

LIBVIRT9 = DATA / "libvirt9" / "healthy.txt"
LIBVIRT11 = DATA / "libvirt11-nftables" / "healthy.txt"
NOT_ORDERED = ("libvirtd.service is not ordered after firewalld.service: at boot the network may start before firewalld "
               "and lose its firewall rules")


def state_files_text(root: Path = Path("/")) -> str:
    """What the probe's libvirt_files prints for a host whose root is root (a tree made here)."""
    lines = []
    for folder in (NETWORKS, STATUS, GUESTS):
        for path in sorted((root / folder.lstrip("/")).glob("*.xml")):
            if not path.is_file():
                continue
            shown = folder + path.name
            try:
                lines += [f"@@file {shown}", *("|" + line for line in path.read_text(errors="replace").splitlines())]
            except OSError:
                lines.append(f"@@unreadable {shown}")
    lines += [f"@@autostart {p.name}" for p in sorted((root / AUTOSTART.lstrip("/")).glob("*.xml")) if p.exists()]
    return "\n".join(lines)


def boot_outcomes(text: str, generation: str = "libvirt9") -> dict:
    """HOST-10, HOST-11, NET-17 that did not pass, beyond what the generation's recordings always report."""
    found = outcomes(text)
    return {c: found[c] for c in ("HOST-10", "HOST-11", "NET-17") if found[c][0] != "passed" and found[c] != STANDING[generation].get(c)}


# -- the units section, without systemd ---------------------------------------------------------

def units_of(text: str) -> UnitsFacts:
    return parse_units(e.body(text, "units"))


def test_unit_files_read_offline_give_enablement_and_ordering():
    units = units_of(LIBVIRT9.read_text())
    assert (units.systemd, units.systemctl, units.libvirt_sockets) == (False, True, ())
    libvirtd = units.units["libvirtd.service"]
    assert (libvirtd.enabled, libvirtd.active, libvirtd.files) == ("enabled", None, ("/usr/lib/systemd/system/libvirtd.service",))
    assert "firewalld.service" in libvirtd.after and "network.target" in libvirtd.after
    assert units.units["virtnetworkd.service"] == UnitFacts("virtnetworkd.service", "not-found", None, None, None)
    assert "firewalld.service" not in units_of(LIBVIRT11.read_text()).units["libvirtd.service"].after


def test_drop_ins_add_to_the_ordering_and_an_earlier_directory_hides_a_later_one():
    text = """systemd not-running
@@unit libvirtd.service enabled
@@file /etc/systemd/system/libvirtd.service.d/10-after-firewalld.conf
|[Unit]
|After=firewalld.service
@@file /usr/lib/systemd/system/libvirtd.service
|[Unit]
|After=network.target dbus.service
|[Service]
|After=not-a-unit-key.service
@@file /usr/lib/systemd/system/libvirtd.service.d/10-after-firewalld.conf
|[Unit]
|After=hidden.service
@@file /usr/lib/systemd/system/libvirtd.service.d/20-more.conf
|[Unit]
|After = more.service"""
    unit = parse_units(text).units["libvirtd.service"]
    assert unit.after == ("network.target", "dbus.service", "firewalld.service", "more.service")
    assert unit.files == ("/usr/lib/systemd/system/libvirtd.service", "/etc/systemd/system/libvirtd.service.d/10-after-firewalld.conf",
                          "/usr/lib/systemd/system/libvirtd.service.d/20-more.conf")


def test_an_override_in_etc_replaces_the_vendor_unit():
    text = ("systemd not-running\n@@unit libvirtd.service enabled\n@@file /etc/systemd/system/libvirtd.service\n|[Unit]\n"
            "|After=network.target\n@@file /usr/lib/systemd/system/libvirtd.service\n|[Unit]\n|After=firewalld.service")
    assert parse_units(text).units["libvirtd.service"].after == ("network.target",)


def test_an_unreadable_unit_file_or_drop_in_leaves_the_ordering_unknown():
    text = ("systemd not-running\n@@unit libvirtd.service enabled\n@@unreadable /etc/systemd/system/libvirtd.service.d/x.conf\n"
            "@@file /usr/lib/systemd/system/libvirtd.service\n|[Unit]\n|After=firewalld.service\n"
            "@@unit firewalld.service enabled\n@@unreadable /usr/lib/systemd/system/firewalld.service")
    units = parse_units(text).units
    assert units["libvirtd.service"].after is None and units["firewalld.service"].after is None


def test_no_systemctl_and_an_old_systemd_answer():
    assert parse_units("systemd not-running\nsystemctl not-found").systemctl is False
    text = "systemd not-running\n@@unit virtqemud.service Failed to get unit file state for virtqemud.service: No such file or directory"
    assert parse_units(text).units["virtqemud.service"].enabled == "not-found"


# -- HOST-10, HOST-11, NET-17 on the non-systemd recordings ---------------------------------------

def test_the_non_systemd_recordings_pass_host10_and_host11_from_unit_files():
    found = outcomes(LIBVIRT9.read_text())
    assert found["HOST-10"] == found["HOST-11"] == ("passed", "")
    found = outcomes(LIBVIRT11.read_text())
    assert found["HOST-10"] == ("passed", "") and found["HOST-11"] == ("failed", NOT_ORDERED)


def _disabled(text: str) -> str:
    for unit in ("libvirtd.service", "libvirtd.socket"):
        text = e.sub(text, "units", f"@@unit {unit} enabled", f"@@unit {unit} disabled")
    return text


def test_host10_fails_when_nothing_starts_the_daemon_and_host11_skips():
    assert boot_outcomes(_disabled(LIBVIRT9.read_text())) == {
        "HOST-10": ("failed", "libvirtd.service is disabled and libvirtd.socket is disabled: after a reboot no libvirt "
                              "daemon starts, and network default with it"),
        "HOST-11": ("skipped", "no libvirt daemon starts at boot: nothing to order (HOST-10)")}


def test_host10_fails_when_only_the_socket_is_enabled():
    """Measured on the systemd lab: rebooted so, no daemon and no virbr0 (nothing connects at boot)."""
    text = e.sub(LIBVIRT9.read_text(), "units", "@@unit libvirtd.service enabled", "@@unit libvirtd.service disabled")
    assert boot_outcomes(text) == {
        "HOST-10": ("failed", "libvirtd.service is disabled and libvirtd.socket is enabled: after a reboot no libvirt "
                              "daemon starts until a client connects to its socket, and network default with it"),
        "HOST-11": ("skipped", "no libvirt daemon starts at boot: nothing to order (HOST-10)")}


def test_host10_names_a_masked_unit():
    text = e.sub(_disabled(LIBVIRT9.read_text()), "units", "@@unit libvirtd.service disabled", "@@unit libvirtd.service masked")
    assert boot_outcomes(text)["HOST-10"] == (
        "failed", "libvirtd.service is masked and libvirtd.socket is disabled: after a reboot no libvirt daemon starts, "
                  "and network default with it")


def _modular(text: str, network: str, qemu: str | None = None) -> str:
    """The recording with libvirtd gone and virtnetworkd.service, virtqemud.service (unless None:
    not installed, as recorded) in these states."""
    for unit in ("libvirtd.service", "libvirtd.socket"):
        text = e.sub(text, "units", f"@@unit {unit} enabled", f"@@unit {unit} Failed to get unit file state for {unit}: No such file or directory")
    for daemon, state in (("virtnetworkd", network), ("virtqemud", qemu)):
        if state is None:
            continue
        text = e.sub(text, "units", f"@@unit {daemon}.service Failed to get unit file state for {daemon}.service: No such file "
                     "or directory", f"@@unit {daemon}.service {state}")
    return text


def test_host10_with_modular_daemons_only():
    text = _modular(LIBVIRT9.read_text(), "disabled")  # virtqemud: not installed
    assert boot_outcomes(text)["HOST-10"] == (
        "failed", "virtnetworkd.service is disabled and virtnetworkd.socket is not-found: after a reboot no libvirt daemon "
                  "starts, and network default with it")


def test_host10_says_which_service_starts_at_boot_and_how_to_enable_what_does_not():
    healthy = LIBVIRT9.read_text()
    assert findings(healthy)["HOST-10"] == {"notes": ["libvirtd.service is enabled"]}
    assert findings(_disabled(healthy))["HOST-10"] == {"fix": "systemctl enable libvirtd.service"}
    masked = e.sub(_disabled(healthy), "units", "@@unit libvirtd.service disabled", "@@unit libvirtd.service masked")
    assert findings(masked)["HOST-10"] == {"fix": "systemctl unmask libvirtd.service && systemctl enable libvirtd.service"}
    both = e.sub(masked, "units", "@@unit libvirtd.socket disabled", "@@unit libvirtd.socket masked")
    assert findings(both)["HOST-10"] == {
        "fix": "systemctl unmask libvirtd.service libvirtd.socket && systemctl enable libvirtd.service"}


def test_host10_passes_when_the_modular_network_daemon_starts_at_boot():
    text = _modular(LIBVIRT9.read_text(), "enabled", "enabled")
    assert outcomes(text)["HOST-10"] == ("passed", "")
    assert findings(text)["HOST-10"] == {"notes": ["virtnetworkd.service is enabled"]}


def test_host10_enables_both_modular_daemons_when_neither_starts():
    text = _modular(LIBVIRT9.read_text(), "disabled", "disabled")
    assert outcomes(text)["HOST-10"] == (
        "failed", "virtnetworkd.service is disabled and virtnetworkd.socket is not-found and virtqemud.service is disabled "
                  "and virtqemud.socket is not-found: after a reboot no libvirt daemon starts, and network default with it")
    assert findings(text)["HOST-10"] == {"fix": "systemctl enable virtnetworkd.service virtqemud.service"}


def test_host10_installs_the_daemon_where_none_is():
    text = LIBVIRT9.read_text()
    for unit in ("libvirtd.service", "libvirtd.socket"):
        text = e.sub(text, "units", f"@@unit {unit} enabled", f"@@unit {unit} Failed to get unit file state for {unit}: No such file or directory")
    assert outcomes(text)["HOST-10"] == ("failed", "no libvirt daemon is installed (systemd knows no libvirtd.service nor "
                                         "virtnetworkd.service): after a reboot no libvirt daemon starts, and network default with it")
    assert findings(text)["HOST-10"] == {"fix": "apt-get install libvirt-daemon-system"}  # Debian: its multiarch driver path


def test_host11_fix_is_the_drop_in_for_the_daemon_that_starts_the_network():
    text = e.sub(LIBVIRT9.read_text(), "units", "|After=firewalld.service\n", "")
    assert findings(text)["HOST-11"] == {"fix": (
        "mkdir -p /etc/systemd/system/libvirtd.service.d && printf '[Unit]\\nAfter=firewalld.service\\n' > "
        "/etc/systemd/system/libvirtd.service.d/10-after-firewalld.conf && systemctl daemon-reload")}


def _without_unit(text: str, unit: str) -> str:
    """The units section with no line for unit: systemd was not asked about it (an older probe)."""
    body = e.body(text, "units")
    line = next(x for x in body.splitlines() if x.startswith(f"@@unit {unit} "))
    return e.with_body(text, "units", body.replace(line + "\n", ""))


def test_a_unit_the_facts_do_not_name_is_unknown_and_not_installed():
    socketless = _without_unit(_disabled(LIBVIRT9.read_text()), "libvirtd.socket")
    assert outcomes(socketless)["HOST-10"] == (
        "failed", "libvirtd.service is disabled and libvirtd.socket is unknown: after a reboot no libvirt daemon starts, "
                  "and network default with it")
    unnamed = _without_unit(_modular(LIBVIRT9.read_text(), "disabled", "disabled"), "libvirtd.service")
    assert outcomes(unnamed)["HOST-10"][1].startswith("virtnetworkd.service is disabled")  # libvirtd: not installed
    no_firewalld = _without_unit(LIBVIRT9.read_text(), "firewalld.service")
    assert outcomes(no_firewalld)["HOST-11"] == (
        "skipped", "firewalld.service is unknown, not enabled: no firewalld starts at boot to order after (HOST-03)")


def test_host11_orders_the_modular_network_daemon():
    text = _modular(LIBVIRT9.read_text(), "enabled", "enabled")  # the recording has no unit file of virtnetworkd
    assert outcomes(text)["HOST-11"] == ("skipped", "the boot's order of virtnetworkd.service cannot be known: no systemd "
                                                    "runs here and its unit file is not readable")


DROP_IN_FILE = "@@file /etc/systemd/system/libvirtd.service.d/10-after-firewalld.conf\n|[Unit]\n|After=firewalld.service\n"


def test_host11_names_the_files_it_read_without_systemd_and_none_with_it():
    text = e.sub(LIBVIRT11.read_text(), "units", "@@unit libvirtd.socket ", DROP_IN_FILE + "@@unit libvirtd.socket ")
    assert outcomes(text)["HOST-11"] == ("passed", "")
    assert findings(text)["HOST-11"] == {"notes": [
        "libvirtd.service is ordered after firewalld.service (/usr/lib/systemd/system/libvirtd.service, "
        "/etc/systemd/system/libvirtd.service.d/10-after-firewalld.conf)"]}
    booted = (DATA.parent / "systemd" / "libvirt9" / "healthy.txt").read_text()
    assert findings(booted)["HOST-11"] == {"notes": ["libvirtd.service is ordered after firewalld.service"]}

def test_host10_and_host11_skip_without_systemctl():
    text = e.with_body(LIBVIRT9.read_text(), "units", "systemd not-running\nsystemctl not-found")
    assert boot_outcomes(text) == {
        "HOST-10": ("skipped", "no systemctl on this host: boot-time enablement cannot be read"),
        "HOST-11": ("skipped", "no systemctl on this host: the boot's order cannot be read")}


def test_host11_fails_without_the_ordering_and_skips_when_it_cannot_be_known():
    text = e.sub(LIBVIRT9.read_text(), "units", "|After=firewalld.service\n", "")
    assert boot_outcomes(text) == {"HOST-11": ("failed", NOT_ORDERED)}
    unreadable = e.sub(LIBVIRT9.read_text(), "units", "@@file /usr/lib/systemd/system/libvirtd.service\n",
                       "@@unreadable /usr/lib/systemd/system/libvirtd.service\n@@file /usr/lib/systemd/system/libvirtd.service\n")
    assert boot_outcomes(unreadable) == {"HOST-11": ("skipped", "the boot's order of libvirtd.service cannot be known: no "
                                                                "systemd runs here and its unit file is not readable")}


def test_host11_passes_on_debian13_with_the_drop_in_of_its_fix():
    drop_in = ("@@file /etc/systemd/system/libvirtd.service.d/10-after-firewalld.conf\n|[Unit]\n|After=firewalld.service\n"
               "@@file /usr/lib/systemd/system/libvirtd.service\n")
    text = e.sub(LIBVIRT11.read_text(), "units", "@@file /usr/lib/systemd/system/libvirtd.service\n", drop_in)
    assert outcomes(text)["HOST-11"] == ("passed", "")


def test_host11_skips_when_firewalld_is_not_enabled():
    text = e.sub(LIBVIRT11.read_text(), "units", "@@unit firewalld.service enabled", "@@unit firewalld.service disabled")
    assert outcomes(text)["HOST-11"] == ("skipped", "firewalld.service is disabled, not enabled: no firewalld starts at boot "
                                                    "to order after (HOST-03)")


def _with_persistent(text: str, old: str = "", new: str = "") -> str:
    key = e.net_xml_key(text)
    xml = e.body(text, f"net-xml:{key}")
    assert old in xml
    return e.add_section(text, f"net-xml-inactive:{key}", xml.replace(old, new))


def test_net17_passes_when_the_persistent_definition_is_the_live_one():
    found = outcomes(_with_persistent(LIBVIRT9.read_text()))
    assert {c: o for c, o in found.items() if o[0] != "passed"} == {"HOST-12": STANDING["libvirt9"]["HOST-12"]}


def test_net17_skips_a_transient_network_nothing_of_which_comes_back():
    text = LIBVIRT9.read_text()
    transient = e.sub(text, f"net-info:{e.net_xml_key(text)}", "Persistent:     yes", "Persistent:     no")
    assert outcomes(transient)["NET-17"] == ("skipped", "network 'default' is transient: nothing of it comes back (NET-01)")


@pytest.mark.parametrize("old, new, says", [
    ("<range start='192.168.122.2' end='192.168.122.254'", "<range start='192.168.122.100' end='192.168.122.200'",
     "DHCP range 192.168.122.2-192.168.122.254 now, 192.168.122.100-192.168.122.200 at its next start"),
    ("<forward mode='nat'>", "<forward mode='route'>", "forward mode nat now, route at its next start"),
    ("<bridge name='virbr0'", "<bridge name='virbr9'", "bridge virbr0 now, virbr9 at its next start"),
    ("<ip address='192.168.122.1' netmask='255.255.255.0'>", "<ip address='192.168.123.1' netmask='255.255.255.0'>",
     "addresses 192.168.122.1/24 now, 192.168.123.1/24 at its next start"),
])
def test_net17_names_what_the_next_start_changes(old, new, says):
    found = boot_outcomes(_with_persistent(LIBVIRT9.read_text(), old, new))
    assert found == {"NET-17": ("failed", f"network 'default' runs a definition that does not come back: {says} "
                                          f"(a reboot or restart brings the persistent one)")}
    assert findings(_with_persistent(LIBVIRT9.read_text(), old, new))["NET-17"] == {"notes": [
        "to keep the live definition instead: virsh net-dumpxml default > /root/default.xml && "
        "virsh net-define /root/default.xml"]}  # the fix, the marker's, runs the persistent one



WIDE = """<network><name>default</name><forward mode='nat'/><bridge name='virbr0' stp='on' delay='0'/>
<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.100'/>
<range start='192.168.122.150' end='192.168.122.254'/></dhcp></ip><ip address='10.9.0.1' prefix='24'/></network>"""
NARROW = """<network><name>default</name><bridge name='virbr0' stp='on' delay='0'/>
<ip address='192.168.122.1' netmask='255.255.255.0'/></network>"""


NOIP = "<network><name>default</name><forward mode='nat'/><bridge name='virbr0' stp='on' delay='0'/></network>"


def _definitions(live: str, later: str) -> str:
    text = LIBVIRT9.read_text()
    key = e.net_xml_key(text)
    return e.add_section(e.with_body(text, f"net-xml:{key}", live), f"net-xml-inactive:{key}", later)


@pytest.mark.parametrize("live, later, says", [
    (WIDE, NARROW, "forward mode nat now, none at its next start; addresses 192.168.122.1/24, 10.9.0.1/24 now, "
                   "192.168.122.1/24 at its next start; DHCP range 192.168.122.2-192.168.122.100, "
                   "192.168.122.150-192.168.122.254 now, none at its next start"),
    (NARROW, WIDE, "forward mode none now, nat at its next start; addresses 192.168.122.1/24 now, 192.168.122.1/24, "
                   "10.9.0.1/24 at its next start; DHCP range none now, 192.168.122.2-192.168.122.100, "
                   "192.168.122.150-192.168.122.254 at its next start"),
    (NOIP, NARROW, "forward mode nat now, none at its next start; addresses none now, 192.168.122.1/24 at its next start"),
    (NARROW, NOIP, "forward mode none now, nat at its next start; addresses 192.168.122.1/24 now, none at its next start"),
], ids=["more now", "more at the next start", "no address now", "no address at the next start"])
def test_net17_names_every_difference_at_once(live, later, says):
    found = outcomes(_definitions(live, later))["NET-17"]
    assert found == ("failed", f"network 'default' runs a definition that does not come back: {says} "
                               f"(a reboot or restart brings the persistent one)")


def test_net17_compares_ranges_and_addresses_in_any_order():
    swapped = WIDE.replace("<range start='192.168.122.2' end='192.168.122.100'/>\n<range start='192.168.122.150' end='192.168.122.254'/>",
                           "<range start='192.168.122.150' end='192.168.122.254'/><range start='192.168.122.2' end='192.168.122.100'/>")
    assert swapped != WIDE
    assert outcomes(_definitions(WIDE, swapped))["NET-17"] == ("passed", "")

# -- never start libvirt to read it ------------------------------------------------------------

STOPPED_LINE = "libvirtd.service inactive libvirtd.socket active"


def test_the_probes_libvirt_stopped_section_names_each_daemon_and_its_socket():
    assert parse_stopped(STOPPED_LINE + "\nvirtnetworkd.service failed\n") == (
        ("libvirtd", "inactive", "active"), ("virtnetworkd", "failed", "unknown"))
    assert describe_stopped(parse_stopped(STOPPED_LINE)) == "libvirtd.service is inactive, libvirtd.socket is active"


def unit(name, active, enabled="enabled"):
    return UnitFacts(name, enabled, "loaded", active, ())


def test_libvirt_stopped_follows_the_socket_the_client_takes():
    units = {u.name: u for u in (unit("libvirtd.service", "inactive"), unit("libvirtd.socket", "active"),
                                 unit("virtqemud.service", "active"), unit("virtnetworkd.service", "inactive"),
                                 unit("virtnetworkd.socket", "active"))}
    assert libvirt_stopped(UnitsFacts(True, True, units, ("libvirt",))) == (("libvirtd", "inactive", "active"),)
    assert libvirt_stopped(UnitsFacts(True, True, units, ("libvirt", "virtqemud"))) == (("virtnetworkd", "inactive", "active"),)
    assert libvirt_stopped(UnitsFacts(False, True, units, ("libvirt",))) == ()  # no systemd: nothing activates it
    running = dict(units, **{"libvirtd.service": unit("libvirtd.service", "active")})
    assert libvirt_stopped(UnitsFacts(True, True, running, ("libvirt",))) == ()


def _root(tmp_path, systemd=True, socket="libvirt", comms=()):
    if systemd:
        (tmp_path / "run/systemd/system").mkdir(parents=True)
    (tmp_path / "run/libvirt").mkdir(parents=True)
    (tmp_path / f"run/libvirt/{socket}-sock-ro").touch()
    (tmp_path / "proc").mkdir()
    for pid, comm in enumerate(comms, start=100):
        os.makedirs(tmp_path / f"proc/{pid}")
        (tmp_path / f"proc/{pid}/comm").write_text(comm + "\n")
    return tmp_path


def test_the_local_fallback_connects_to_a_running_daemon_without_waiting_for_the_probe(tmp_path):
    asked = []
    fallback = local_fallback(lambda: asked.append(1), "qemu:///system", _root(tmp_path, comms=("sshd", "libvirtd")))
    assert fallback() is None and asked == []


def _stopped_probe(tmp_path) -> str:
    """The libvirt 9 recording as the probe gives it with libvirtd stopped: its state files read."""
    return e.add_section(e.add_section(LIBVIRT9.read_text(), "libvirt-stopped", STOPPED_LINE), "libvirt-files",
                         state_files_text(_state_root(tmp_path / "state")))


def test_the_local_fallback_reads_the_state_files_the_probe_read_when_the_daemon_is_stopped(tmp_path):
    text = _stopped_probe(tmp_path)
    facts = local_fallback(lambda: split_sections(text), "qemu:///system", _root(tmp_path / "host"))()
    assert facts.stopped == (("libvirtd", "inactive", "active"),) and facts.version == "9.0.0"
    assert set(facts.networks) == {"default"} and facts.running_guests == ("vm1",) and facts.uri == "qemu:///system"


def test_the_remote_fallback_reads_the_state_files_when_the_probe_found_the_daemon_stopped(tmp_path):
    text = _stopped_probe(tmp_path)
    facts = remote_fallback(lambda: split_sections(text), "qemu+ssh://root@hv1/system")()
    assert facts.uri == "qemu+ssh://root@hv1/system" and facts.stopped == (("libvirtd", "inactive", "active"),)
    assert remote_fallback(lambda: split_sections(LIBVIRT9.read_text()), "qemu+ssh://hv1/system")() is None
    no_version = {k: v for k, v in split_sections(text).items() if k != "libvirt-version"}
    assert remote_fallback(lambda: no_version, "qemu+ssh://hv1/system")().version == "unknown"

    def broken():
        raise FactError("the probe failed")
    assert remote_fallback(broken, "qemu+ssh://hv1/system")() is None  # the connection then says why


def test_the_local_fallback_connects_without_systemd_or_when_the_probe_finds_the_daemon_running(tmp_path):
    assert local_fallback(lambda: None, "qemu:///system", _root(tmp_path / "a", systemd=False))() is None
    sections = split_sections(LIBVIRT9.read_text())  # no libvirt-stopped section: it started meanwhile
    assert local_fallback(lambda: sections, "qemu:///system", _root(tmp_path / "b"))() is None

    def broken():
        raise FactError("the probe failed")
    with pytest.raises(FactError, match=r"^no libvirt daemon runs, and the probe that would say whether connecting "
                                        r"starts one failed: the probe failed$"):
        local_fallback(broken, "qemu:///system", _root(tmp_path / "c", socket="virtqemud", comms=("virtqemud",)))()



@pytest.mark.parametrize("run_dir", ["run/libvirt", "var/run/libvirt"])
def test_the_local_fallback_of_a_modular_host_needs_both_daemons_running_to_connect(tmp_path, run_dir):
    def host(name, comms):
        root = _root(tmp_path / name, comms=comms)
        (root / run_dir).mkdir(parents=True, exist_ok=True)
        (root / run_dir / "virtqemud-sock-ro").touch()
        return root
    asked = []
    assert local_fallback(lambda: asked.append(1), "qemu:///system", host("both", ("virtqemud", "virtnetworkd")))() is None
    assert asked == []  # both run: connecting starts nothing
    for comms in [("virtqemud",), ("virtnetworkd",), ("libvirtd",)]:
        assert local_fallback(lambda: asked.append(1) or {}, "qemu:///system", host("-".join(comms), comms))() is None
    assert asked == [1, 1, 1]  # one of the two stopped (libvirtd is not theirs): the probe decides


def test_the_local_fallback_gives_its_uri_and_the_librarys_version_where_the_probe_has_none(tmp_path, monkeypatch):
    import virtnat.collectors.libvirt_api as libvirt_api
    monkeypatch.setattr(libvirt_api, "_library_version", lambda: 11003000)
    text = _stopped_probe(tmp_path)
    sections = split_sections(text)
    facts = local_fallback(lambda: sections, "qemu:///session", _root(tmp_path / "host"))()
    assert (facts.uri, facts.version) == ("qemu:///session", "9.0.0")  # the probe's version
    del sections["libvirt-version"]
    facts = local_fallback(lambda: sections, "qemu:///session", _root(tmp_path / "host2"))()
    assert (facts.uri, facts.version) == ("qemu:///session", "11.3.0")



def test_host01_says_the_stopped_daemon_starts_at_a_connection_and_was_read_without_one():
    text = (DATA.parent / "systemd" / "libvirt9" / "libvirtd-stopped.txt").read_text()
    assert outcomes(text)["HOST-01"] == ("passed", "")
    assert findings(text)["HOST-01"] == {"notes": [
        "libvirt 9.0.0 at qemu:///system: libvirtd.service is inactive, libvirtd.socket is active: the daemon starts at a "
        "client's connection; read from libvirt's state files, without starting it"]}

# -- libvirt's state files --------------------------------------------------------------------

NETWORK = """<network><name>{name}</name><forward mode='nat'/><bridge name='virbr0' stp='on'/>
<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.{start}' end='192.168.122.254'/></dhcp></ip></network>"""


def _state_root(root, live_start=2, defined_start=2, autostart=True, guest=True):
    networks, status, guests = (root / "etc/libvirt/qemu/networks", root / "run/libvirt/network", root / "run/libvirt/qemu")
    for folder in (networks / "autostart", status, guests):
        folder.mkdir(parents=True)
    if defined_start is not None:
        (networks / "default.xml").write_text(NETWORK.format(name="default", start=defined_start))
        if autostart:
            (networks / "autostart/default.xml").symlink_to("../default.xml")
    if live_start is not None:  # no newline at its end, as libvirt writes it
        (status / "default.xml").write_text(f"<!-- auto -->\n<networkstatus><floor sum='0'/>{NETWORK.format(name='default', start=live_start)}</networkstatus>")
    (status / "default.pid").write_text("163")
    if guest:
        (guests / "vm1.xml").write_text("<domstatus state='running'><domain type='kvm'><name>vm1</name><devices><interface "
                                        "type='network'><mac address='52:54:00:00:00:01'/><source network='default'/>"
                                        "<target dev='vnet0'/></interface></devices></domain></domstatus>\n")
    return root


def files_facts(root):
    return libvirt_from_files(state_files_text(root), "qemu:///system", "9.0.0", (("libvirtd", "inactive", "active"),))


def test_state_files_give_the_networks_flags_and_both_definitions(tmp_path):
    facts = files_facts(_state_root(tmp_path / "a"))
    net = facts.networks["default"]
    assert (net.active, net.persistent, net.autostart, net.bridge, net.gateway) == (True, True, True, "virbr0", "192.168.122.1/24")
    assert net.definition == net.persistent_definition
    assert facts.guest_nics[0].tap == "vnet0" and facts.stopped == (("libvirtd", "inactive", "active"),)
    changed = files_facts(_state_root(tmp_path / "b", defined_start=100)).networks["default"]
    assert changed.definition.dhcp_ranges[0].start == "192.168.122.2"
    assert changed.persistent_definition.dhcp_ranges[0].start == "192.168.122.100"
    inactive = files_facts(_state_root(tmp_path / "c", live_start=None, autostart=False, guest=False))
    assert (inactive.networks["default"].active, inactive.networks["default"].autostart, inactive.running_guests) == (False, False, ())
    transient = files_facts(_state_root(tmp_path / "d", defined_start=None)).networks["default"]
    assert (transient.active, transient.persistent, transient.autostart) == (True, False, False)



def test_a_definition_reads_every_address_and_range_as_written():
    import xml.etree.ElementTree as ET
    from virtnat.facts.libvirt_xml import network_definition
    root = ET.fromstring("<network><forward/><bridge name='virbr1'/><ip address='10.0.0.1' prefix='16'>"
                         "<dhcp><range end='10.0.9.9'/></dhcp></ip><ip family='ipv6' address='fd00::1'/><ip/>"
                         "<ip address='10.1.0.1'/></network>")
    definition = network_definition(root)
    assert (definition.forward_mode, definition.bridge) == ("nat", "virbr1")
    assert definition.addresses == ("10.0.0.1/16", "fd00::1/64", "10.1.0.1/24")  # an <ip> without an address gives none
    assert [(r.start, r.end) for r in definition.dhcp_ranges] == [("", "10.0.9.9")]  # a range without start: ""


def test_state_files_a_transient_network_is_its_own_next_definition_and_a_nameless_domain_no_guest(tmp_path):
    transient = files_facts(_state_root(tmp_path / "a", defined_start=None)).networks["default"]
    assert transient.persistent_definition == transient.definition  # what `net-dumpxml --inactive` gives for it
    root = _state_root(tmp_path / "b")
    (root / "run/libvirt/qemu/vm0.xml").write_text("<domstatus><domain type='kvm'><devices/></domain></domstatus>")
    assert files_facts(root).running_guests == ("vm1",)


def test_state_files_two_guests_of_one_name_are_two_guests(tmp_path):
    root = _state_root(tmp_path)
    first = (root / "run/libvirt/qemu/vm1.xml").read_text()
    (root / "run/libvirt/qemu/vm1-copy.xml").write_text(first.replace("vnet0", "vnet9"))
    facts = files_facts(root)
    assert facts.running_guests == ("vm1", "vm1")
    assert sorted(n.tap for n in facts.guest_nics) == ["vnet0", "vnet9"]


def test_state_files_a_bare_network_status_and_lines_outside_any_file(tmp_path):
    root = _state_root(tmp_path / "a")
    text = state_files_text(root).replace("|<networkstatus><floor sum='0'/>", "|").replace("</networkstatus>", "")
    assert "networkstatus" not in text
    noisy = text.replace("@@file /run/libvirt/network/default.xml", "noise\n@@file /run/libvirt/network/default.xml\nmore noise")
    facts = libvirt_from_files(noisy, "qemu:///system", "9.0.0", ())
    assert facts.networks["default"].active and facts.networks["default"].bridge == "virbr0"

def test_unreadable_or_broken_state_files_are_one_line():
    with pytest.raises(FactError, match=r"^libvirt's daemon is stopped and its state files are not readable "
                                        r"\(/etc/libvirt/qemu/networks/default.xml\): run the audit as root, or with --sudo$"):
        libvirt_from_files("@@unreadable /etc/libvirt/qemu/networks/default.xml", "qemu:///system", "9.0.0", ())
    with pytest.raises(FactError, match=r"^/run/libvirt/network/default.xml: holds no <network>$"):
        libvirt_from_files("@@file /run/libvirt/network/default.xml\n|<networkstatus/>", "qemu:///system", "9.0.0", ())
    with pytest.raises(FactError, match=r"^/run/libvirt/qemu/vm1.xml: XML does not parse: "):
        libvirt_from_files("@@file /run/libvirt/qemu/vm1.xml\n|<domstatus>", "qemu:///system", "9.0.0", ())
    with pytest.raises(FactError, match=r"^libvirt's daemon is stopped and its state files are not readable \(/run/libvirt/qemu/vm1.xml\)"):
        libvirt_from_files("@@unreadable /run/libvirt/qemu/vm1.xml\n|stray", "qemu:///system", "9.0.0", ())


def test_the_local_gate_guards_only_uris_of_this_hosts_daemons():
    from virtnat.targets import reaches_local_daemon
    assert reaches_local_daemon("qemu:///system") and reaches_local_daemon("network:///system")
    assert not reaches_local_daemon("test:///default") and not reaches_local_daemon("qemu+ssh://hv1/system")


def test_systemctl_show_gives_each_unit_in_its_block_whatever_the_order_of_its_properties():
    text = ("systemd running\nId=libvirtd.service\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n"
            "After=network.target firewalld.service\nTriggeredBy=libvirtd.socket libvirtd-ro.socket\n\n"
            "LoadState=not-found\nId=virtqemud.service\nActiveState=inactive\nUnitFileState=\nAfter=\nTriggeredBy=\n")
    units = parse_units(text)
    assert units.systemd and units.units == {
        "libvirtd.service": UnitFacts("libvirtd.service", "enabled", "loaded", "active", ("network.target", "firewalld.service"),
                                      ("libvirtd.socket", "libvirtd-ro.socket")),
        "virtqemud.service": UnitFacts("virtqemud.service", "not-found", "not-found", "inactive", ())}
