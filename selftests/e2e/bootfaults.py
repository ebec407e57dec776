"""The boot faults of issue 11 on the systemd lab: each is injected, proven in place (read back),
caught by its check with its exact message, and undone. Shared by the e2e tests
(test_systemd_host.py) and the recorder of the unit tests' data (selftests/data/systemd/record.py)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path


SAVED = "/root/virtnat-default.xml"  # the persistent definition, kept while a fault changes it
RANGE_NOW = "192.168.122.2-192.168.122.254"
RANGE_NEXT = "192.168.122.100-192.168.122.200"
UNIT_LINKS = "find /etc/systemd/system -type l -printf '%p -> %l\\n' | sort"


@dataclass(frozen=True)
class BootFault:
    name: str
    inject: str
    proof: str  # succeeds only while the fault is in place
    undo: str
    check: str
    message: str  # the check's exact message
    others: dict = field(default_factory=dict)  # other checks that do not pass, and their exact message
    after_reboot: str = ""  # what the next boot does with the fault in place, read back on the host


BOOT_FAULTS = [
    BootFault(
        "daemon-disabled",
        "systemctl disable -q libvirtd.service libvirtd.socket",
        "! systemctl is-enabled -q libvirtd.service && ! systemctl is-enabled -q libvirtd.socket",
        "systemctl enable -q libvirtd.service libvirtd.socket",
        "HOST-10",
        "libvirtd.service is disabled and libvirtd.socket is disabled: after a reboot no libvirt daemon starts, "
        "and network default with it",
        {"HOST-11": ("skipped", "no libvirt daemon starts at boot: nothing to order (HOST-10)")},
        after_reboot="! systemctl is-active -q libvirtd.service && ! ip link show virbr0 >/dev/null 2>&1",
    ),
    BootFault(
        "service-disabled-socket-enabled",  # libvirt-guests does not connect at boot (Debian: ON_BOOT=ignore)
        "systemctl disable -q libvirtd.service && systemctl enable -q libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket",
        "! systemctl is-enabled -q libvirtd.service && systemctl is-enabled -q libvirtd.socket",
        "systemctl enable -q libvirtd.service",
        "HOST-10",
        "libvirtd.service is disabled and libvirtd.socket is enabled: after a reboot no libvirt daemon starts until a "
        "client connects to its socket, and network default with it",
        {"HOST-11": ("skipped", "no libvirt daemon starts at boot: nothing to order (HOST-10)")},
        after_reboot="! systemctl is-active -q libvirtd.service && ! ip link show virbr0 >/dev/null 2>&1",
    ),
    BootFault(
        "not-ordered-after-firewalld",
        # A drop-in cannot remove a dependency: an override of the whole unit does (systemd.unit(5)).
        "sed '/^After=firewalld.service$/d' /lib/systemd/system/libvirtd.service > /etc/systemd/system/libvirtd.service"
        " && systemctl daemon-reload",
        "! systemctl show -p After libvirtd.service | grep -qw firewalld.service",
        "rm /etc/systemd/system/libvirtd.service && systemctl daemon-reload",
        "HOST-11",
        "libvirtd.service is not ordered after firewalld.service: at boot the network may start before firewalld and "
        "lose its firewall rules",
        # Measured: libvirtd starts beside firewalld, finds no LIBVIRT_INP chain ("Failed to apply firewall
        # rules"), and the network stays down (4 boots of 4); on libvirt 11.3 it also came up without its rules.
        after_reboot="! ip link show virbr0 >/dev/null 2>&1 || ! iptables -t nat -S | grep -q MASQUERADE",
    ),
    BootFault(
        "persistent-definition-changed",
        f"virsh net-dumpxml --inactive default > {SAVED} && sed \"s/start='192.168.122.2' end='192.168.122.254'/"
        f"start='192.168.122.100' end='192.168.122.200'/\" {SAVED} > /root/virtnat-changed.xml"
        " && virsh -q net-define /root/virtnat-changed.xml >/dev/null",
        "virsh -r net-dumpxml --inactive default | grep -q \"start='192.168.122.100'\""
        " && virsh -r net-dumpxml default | grep -q \"start='192.168.122.2'\"",
        f"virsh -q net-define {SAVED} >/dev/null && rm -f {SAVED} /root/virtnat-changed.xml",
        "NET-17",
        f"network 'default' runs a definition that does not come back: DHCP range {RANGE_NOW} now, {RANGE_NEXT} at its "
        f"next start (a reboot or restart brings the persistent one)",
        after_reboot="virsh -r net-dumpxml default | grep -q \"start='192.168.122.100'\"",
    ),
]


def record_lab(out: Path) -> None:
    """Record the probe on the systemd lab: healthy, each fault, each fault with after_reboot
    after a reboot with it in place, libvirtd stopped with its socket listening, no daemon and no
    socket, and healthy after a reboot. The lab is brought up (libvirt 9) and left down."""
    import tempfile

    from selftests.e2e.labsdhost import LabSD
    lab = LabSD(Path(tempfile.mkdtemp()))
    out.mkdir(parents=True, exist_ok=True)
    lab.up("9")
    try:
        _record(lab, out)
    finally:
        lab.control("down")


def _healthy(lab) -> None:
    run = lab.wait_healthy()
    if run.rc != 0:
        raise SystemExit(f"the lab is not healthy: {run.stdout[-2000:]}")


def _record(lab, out: Path) -> None:
    _healthy(lab)
    (out / "healthy.txt").write_text(lab.probe())
    for fault in BOOT_FAULTS:
        lab.sh(fault.inject)
        try:
            if not lab.ok(fault.proof):
                raise SystemExit(f"{fault.name} did not take effect")
            (out / f"{fault.name}.txt").write_text(lab.probe())
            if fault.after_reboot:
                lab.reboot()
                time.sleep(3)  # libvirt's autostart, when it comes
                if not lab.ok(fault.after_reboot):
                    raise SystemExit(f"after a reboot with {fault.name}, the host is not as {fault.check} said")
                (out / f"{fault.name}-rebooted.txt").write_text(lab.probe())
        finally:
            lab.sh(fault.undo)
        if fault.after_reboot:
            lab.reboot()
        _healthy(lab)
        print(f"recorded {out.name}/{fault.name}")
    lab.sh("systemctl stop libvirtd.service")
    try:
        (out / "libvirtd-stopped.txt").write_text(lab.probe())
        if lab.is_active("libvirtd.service") != "inactive" or lab.is_active("libvirtd.socket") != "active":
            raise SystemExit("the probe started libvirtd.service, or its socket was not listening")
    finally:
        lab.sh("systemctl start libvirtd.service")
    _healthy(lab)
    sockets = "libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket"
    lab.sh(f"systemctl stop libvirtd.service {sockets}")
    try:
        (out / "no-daemon.txt").write_text(lab.probe())
    finally:
        lab.sh(f"systemctl start {sockets} libvirtd.service")
    _healthy(lab)
    lab.reboot()
    _healthy(lab)
    (out / "after-reboot.txt").write_text(lab.probe())
    print(f"recorded {out.name}: healthy, libvirtd-stopped, no-daemon, after-reboot")


FIX_ORDER = ("mkdir -p /etc/systemd/system/libvirtd.service.d && printf '[Unit]\\nAfter=firewalld.service\\n' > "
             "/etc/systemd/system/libvirtd.service.d/10-after-firewalld.conf && systemctl daemon-reload")


def record_lab11(out: Path) -> None:
    """libvirt 11.3 from bookworm-backports (its unit lacks After=firewalld.service): the probe
    as it booted, then with HOST-11's drop-in and a reboot. The lab is left down."""
    import tempfile

    from selftests.e2e.labsdhost import LabSD
    lab = LabSD(Path(tempfile.mkdtemp()), libvirt="11")
    out.mkdir(parents=True, exist_ok=True)
    lab.up("11")
    try:
        # The boot is a race: the network comes up without its rules (boot-no-rules.txt) or not
        # at all (boot-network-down.txt); each boot is recorded as the one it was.
        for _ in range(6):
            time.sleep(3)
            text = lab.probe()
            kind = "network-down" if lab.ok("! ip link show virbr0 >/dev/null 2>&1") else "no-rules"
            (out / f"boot-{kind}.txt").write_text(text)
            if all((out / f"boot-{k}.txt").exists() for k in ("network-down", "no-rules")):
                break
            lab.reboot()
        lab.sh(FIX_ORDER)
        lab.reboot()
        _healthy(lab)
        (out / "fixed.txt").write_text(lab.probe())
    finally:
        lab.control("down")
