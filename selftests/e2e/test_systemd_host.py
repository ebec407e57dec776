"""Issue 11, boot truth, on a real systemd host (lab/labsd.sh): the verdicts on the next boot
(HOST-03, HOST-06/07, HOST-10, HOST-11, NET-03, NET-17) are right before and after a real reboot, each boot fault is caught
with its exact message and undone, and an audit starts no unit, socket activation included."""
import time

import pytest

from .bootfaults import ACTIVE, BOOT_FAULTS, FIX_ORDER, STARTED_BEFORE_FIREWALLD, UNIT_LINKS
from .labhost import CHECK_COUNT

BOOT_CHECKS = ("HOST-03", "HOST-06", "HOST-07", "HOST-10", "HOST-11", "NET-03", "NET-17")
NO_GUEST = {"VM-01", "VM-02", "VM-03", "VM-04"}  # the systemd lab runs no guest: they skip, saying so


def assert_healthy(run):
    assert run.rc == 0, run.stdout[-3000:]
    checks = run.doc["hosts"][0]["checks"]
    assert len({c["id"] for c in checks}) == CHECK_COUNT == 38
    assert run.by_outcome("skipped") == NO_GUEST, run.stdout[-3000:]
    for check in BOOT_CHECKS:
        assert run.check(check)["outcome"] == "passed", (check, run.check(check)["message"])
    assert "libvirtd" in run.check("HOST-01")["message"]


def test_healthy_before_and_after_a_reboot(labsd):
    assert_healthy(labsd.wait_healthy())
    boots = labsd.boots()
    seconds = labsd.reboot()
    assert labsd.boots() == boots + 1 and seconds < 60
    assert labsd.is_active("libvirtd.service") == "active" and labsd.is_active("firewalld.service") == "active"
    assert not labsd.ok(STARTED_BEFORE_FIREWALLD), "libvirtd started before firewalld was up, though ordered after it"
    assert_healthy(labsd.wait_healthy())


def audit_with(labsd, fault):
    """Inject the fault, read it back, audit, undo it (always) and read back that it is gone."""
    links = labsd.sh(UNIT_LINKS).stdout
    labsd.sh(fault.inject)
    try:
        assert labsd.ok(fault.proof), f"{fault.name} did not take effect"
        run = labsd.audit()
    finally:
        labsd.sh(fault.undo)
    assert not labsd.ok(fault.proof), f"{fault.name} was not undone"
    assert labsd.sh(UNIT_LINKS).stdout == links, "the units' symlinks are not as they were"
    return run


@pytest.mark.parametrize("fault", BOOT_FAULTS, ids=[f.name for f in BOOT_FAULTS])
def test_each_boot_fault_is_caught_with_its_message_and_undone(labsd, fault):
    run = audit_with(labsd, fault)
    assert run.rc == 1, run.stdout[-3000:]
    check = run.check(fault.check)
    assert (check["outcome"], check["message"]) == ("failed", fault.message)
    others = {c: (o, run.check(c)["message"]) for c, o in run.outcomes().items()
              if o != "passed" and c.split("[")[0] not in NO_GUEST and c != fault.check}
    assert others == fault.others, run.stdout[-3000:]
    assert_healthy(labsd.wait_healthy())


@pytest.mark.parametrize("fault", [f for f in BOOT_FAULTS if f.after_reboot], ids=lambda f: f.name)
def test_the_next_boot_does_what_the_check_said(labsd, fault):
    """With the fault in place, the host is rebooted: what the check predicted happens (read back
    on the host). Then the fault is undone and the host rebooted again: healthy."""
    links = labsd.sh(UNIT_LINKS).stdout
    labsd.sh(fault.inject)
    try:
        labsd.reboot()
        assert labsd.ok(fault.after_reboot), f"after a reboot with {fault.name}, the host is not as {fault.check} said"
    finally:
        labsd.sh(fault.undo)
        labsd.reboot()
    assert labsd.sh(UNIT_LINKS).stdout == links
    assert_healthy(labsd.wait_healthy())


ON_DEMAND = ("libvirt 9.0.0 at qemu:///system: libvirtd.service is inactive, libvirtd.socket is active: the daemon starts "
             "at a client's connection; read from libvirt's state files, without starting it")
NONE_RUNS = ("no libvirt daemon runs and no socket starts one (libvirtd.service is inactive, libvirtd.socket is inactive): "
             "nothing serves qemu:///system")
SOCKETS = "libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket"


def test_an_audit_does_not_start_a_stopped_daemon_through_its_socket(labsd):
    """Debian's libvirtd exits after 120 s idle and its socket starts it again at the next
    connection; `systemctl stop libvirtd` leaves the same state. Reading libvirt through the
    socket would start the daemon: the audit reads libvirt's state files instead, and the
    service is still inactive after it."""
    labsd.sh("systemctl stop libvirtd.service")
    try:
        assert (labsd.is_active("libvirtd.service"), labsd.is_active("libvirtd.socket")) == ("inactive", "active")
        run = labsd.audit()
        assert labsd.is_active("libvirtd.service") == "inactive", "the audit started libvirtd"
    finally:
        labsd.sh("systemctl start libvirtd.service")
    assert_healthy(run)
    assert run.check("HOST-01")["message"] == ON_DEMAND
    assert_healthy(labsd.wait_healthy())  # libvirtd, started again, has reinstalled its rules


def test_with_no_daemon_and_no_socket_host01_fails_and_libvirt_is_still_read(labsd):
    assert_healthy(labsd.wait_healthy())
    labsd.sh(f"systemctl stop libvirtd.service {SOCKETS}")
    try:
        assert (labsd.is_active("libvirtd.service"), labsd.is_active("libvirtd.socket")) == ("inactive", "inactive")
        run = labsd.audit()
        assert labsd.is_active("libvirtd.service") == labsd.is_active("libvirtd.socket") == "inactive"
    finally:
        labsd.sh(f"systemctl start {SOCKETS} libvirtd.service")
    assert run.rc == 1
    assert (run.check("HOST-01")["outcome"], run.check("HOST-01")["message"]) == ("failed", NONE_RUNS)
    assert not run.by_outcome("error"), run.stdout[-3000:]  # libvirt is read all the same, from its state files
    assert run.check("NET-02")["outcome"] == run.check("NET-17")["outcome"] == "passed"
    assert_healthy(labsd.wait_healthy())


NOT_ORDERED = ("libvirtd.service is not ordered after firewalld.service: at boot the network may start before firewalld "
               "and lose its firewall rules")


def test_libvirt_11_from_backports_is_caught_and_its_fix_holds_across_a_reboot(labsd):
    """libvirt 11.3 from bookworm-backports ships a libvirtd.service without After=firewalld.service:
    HOST-11 says so with the drop-in of its fix as remediation; with that drop-in, the host
    comes back healthy from a reboot. The lab then boots the libvirt 9 tree again."""
    try:
        labsd.control("down")
        labsd.up("11")
        run = labsd.audit()
        check = run.check("HOST-11")
        assert (check["outcome"], check["message"], check["remediation"]) == ("failed", NOT_ORDERED, FIX_ORDER)
        assert not labsd.ok("systemctl show -p After libvirtd.service | grep -qw firewalld.service")
        labsd.sh(check["remediation"])
        assert labsd.ok("systemctl show -p After libvirtd.service | grep -qw firewalld.service")
        labsd.reboot()
        assert_healthy(labsd.wait_healthy())
    finally:
        labsd.control("down")
        labsd.up("9")
    assert_healthy(labsd.wait_healthy())


UPLINK_NETWORK = "/etc/systemd/network/10-uplink.network"
NO_FORWARDING = "/etc/systemd/network/10-uplink.network.d/50-no-forwarding.conf"
NETWORKD_OFF = ("net.ipv4.conf.vlabsd-lab.forwarding is 0 after the next boot "
                f"(IPv4Forwarding= in {NO_FORWARDING}); expected 1")
UPLINK_FORWARDING = "cat /proc/sys/net/ipv4/conf/vlabsd-lab/forwarding"


def _soon(labsd, command: str, seconds: float = 30) -> bool:
    end = time.monotonic() + seconds
    while not labsd.ok(command):
        if time.monotonic() > end:
            return False
        time.sleep(0.5)
    return True


def test_networkd_257_turning_the_uplinks_forwarding_off_is_caught_before_a_reboot(labsd):
    """Debian 13 (systemd 257): systemd-networkd manages the uplink (its address and route, as the
    lab gives them), and a drop-in of its .network file says IPv4Forwarding=no, not yet applied
    (no networkctl reload): forwarding is still on now, HOST-12 says the next boot turns it off on
    vlabsd-lab, and the reboot does (networkd 256+ writes the per-link value; libvirt's
    ip_forward=1 changes nothing). The lab then boots the libvirt 9 tree again."""
    try:
        labsd.control("down")
        labsd.up("13")
        labsd.sh(FIX_ORDER)  # Debian 13's libvirtd.service lacks After=firewalld.service (HOST-11)
        labsd.sh(f"mkdir -p {UPLINK_NETWORK}.d && printf '[Match]\\nName=vlabsd-lab\\n[Network]\\nAddress=10.213.4.2/24\\n"
                 f"Gateway=10.213.4.1\\n' > {UPLINK_NETWORK} && systemctl enable -q systemd-networkd.service")
        labsd.reboot()
        assert labsd.is_active("systemd-networkd.service") == "active"
        assert labsd.ok(f"networkctl status vlabsd-lab | grep -q {UPLINK_NETWORK}")
        healthy = labsd.wait_healthy()
        assert healthy.check("HOST-12")["outcome"] == "passed", healthy.check("HOST-12")
        labsd.sh(f"printf '[Network]\\nIPv4Forwarding=no\\n' > {NO_FORWARDING}")
        assert labsd.sh(UPLINK_FORWARDING).stdout.strip() == "1"
        run = labsd.audit()
        check = run.check("HOST-12")
        assert (check["outcome"], check["message"]) == ("failed", NETWORKD_OFF)
        assert check["remediation"] == (
            f"mkdir -p {UPLINK_NETWORK}.d && printf '[Network]\\nIPv4Forwarding=yes\\n' > "
            f"{UPLINK_NETWORK}.d/90-virtnat-forwarding.conf && networkctl reload")
        labsd.reboot()
        assert _soon(labsd, ACTIVE), "the network did not come back after the reboot"
        assert labsd.sh(UPLINK_FORWARDING).stdout.strip() == "0"
        assert labsd.sh("sysctl -n net.ipv4.ip_forward").stdout.strip() == "1"
        after = labsd.audit()
        assert after.check("PATH-03")["outcome"] == "failed" and "vlabsd-lab" in after.check("PATH-03")["message"]
        labsd.sh(check["remediation"])  # its fix: the next boot gives 1 again
        fixed = labsd.audit()
        assert fixed.check("HOST-12")["outcome"] == "passed", fixed.check("HOST-12")
    finally:
        labsd.control("down")
        labsd.up("9")
    assert_healthy(labsd.wait_healthy())
