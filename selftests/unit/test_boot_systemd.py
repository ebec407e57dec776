"""Issue 11 on the probe recorded from a real systemd host (the systemd lab, lab/labsd.sh, made by
selftests/data/systemd/record.py): systemd's own view of the units, healthy before and after a
reboot, each boot fault of the e2e tests caught with its exact message, and libvirt not read
while its daemon is stopped and its socket listens."""
import pytest

from selftests.e2e.bootfaults import BOOT_FAULTS
from selftests.unit.checkrun import outcomes
from selftests.unit import probe_edits as e
from virtnat.facts.units import parse_units

from pathlib import Path

SD = Path(__file__).resolve().parents[1] / "data" / "systemd"
LIBVIRT9 = SD / "libvirt9"
NO_GUEST = "no running guest has an interface on network 'default'"


def not_passed(text: str) -> dict:
    """What did not pass, but the VM checks (the systemd lab runs no guest: they skip)."""
    found = outcomes(text)
    assert all(found[f"VM-0{n}"] == ("skipped", NO_GUEST) for n in range(1, 5)), found
    return {c: o for c, o in found.items() if o[0] != "passed" and not c.startswith("VM-")}


def test_systemd_shows_the_units_as_they_run():
    units = parse_units(e.body((LIBVIRT9 / "healthy.txt").read_text(), "units"))
    assert units.systemd and units.libvirt_sockets == ("libvirt",)
    libvirtd = units.units["libvirtd.service"]
    assert (libvirtd.loaded, libvirtd.active, libvirtd.enabled) == ("loaded", "active", "enabled")
    assert "firewalld.service" in libvirtd.after and "libvirtd.socket" in libvirtd.triggered_by
    assert units.units["libvirtd.socket"].active == "active" and units.units["firewalld.service"].active == "active"
    assert units.units["virtqemud.service"].loaded == "not-found"


@pytest.mark.parametrize("name", ["healthy", "after-reboot"])
def test_the_healthy_systemd_host_passes_every_check(name):
    assert not_passed((LIBVIRT9 / f"{name}.txt").read_text()) == {}


@pytest.mark.parametrize("fault", BOOT_FAULTS, ids=[f.name for f in BOOT_FAULTS])
def test_each_boot_fault_recorded_fails_exactly_its_check(fault):
    assert not_passed((LIBVIRT9 / f"{fault.name}.txt").read_text()) == {fault.check: ("failed", fault.message), **fault.others}


STOPPED = ("the libvirt daemon is stopped (libvirtd.service is inactive, libvirtd.socket is active): the audit did not "
           "connect, since a connection would make systemd start it, and did not start it; fix: systemctl start libvirtd.service")


def test_libvirt_is_not_read_while_its_daemon_is_stopped():
    text = (LIBVIRT9 / "libvirtd-stopped.txt").read_text()
    assert "virsh-networks" not in text  # the probe did not connect
    found = outcomes(text)
    assert found["HOST-01"] == ("failed", STOPPED)
    assert {c for c, (o, m) in found.items() if o == "error"} == {
        "NET-01", "NET-02", "NET-03", "NET-04", "NET-05", "NET-17", "VM-01"} and found["NET-17"] == ("error", STOPPED)
    assert found["HOST-10"] == found["HOST-11"] == ("passed", "")
