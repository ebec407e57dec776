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
        "not-ordered-after-firewalld",
        # A drop-in cannot remove a dependency: an override of the whole unit does (systemd.unit(5)).
        "sed '/^After=firewalld.service$/d' /lib/systemd/system/libvirtd.service > /etc/systemd/system/libvirtd.service"
        " && systemctl daemon-reload",
        "! systemctl show -p After libvirtd.service | grep -qw firewalld.service",
        "rm /etc/systemd/system/libvirtd.service && systemctl daemon-reload",
        "HOST-11",
        "libvirtd.service is not ordered after firewalld.service: at boot the network may start before firewalld and "
        "lose its firewall rules",
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
    """Record the probe on the systemd lab (up, healthy): healthy, each fault, after a reboot,
    and libvirtd stopped with its socket listening (the audit must not read libvirt then)."""
    from selftests.e2e.labsdhost import LabSD
    import tempfile
    lab = LabSD(Path(tempfile.mkdtemp()))
    out.mkdir(parents=True, exist_ok=True)
    (out / "healthy.txt").write_text(lab.probe())
    for fault in BOOT_FAULTS:
        lab.sh(fault.inject)
        try:
            if not lab.ok(fault.proof):
                raise SystemExit(f"{fault.name} did not take effect")
            (out / f"{fault.name}.txt").write_text(lab.probe())
        finally:
            lab.sh(fault.undo)
        print(f"recorded {out.name}/{fault.name}")
    lab.sh("systemctl stop libvirtd.service")
    try:
        if lab.is_active("libvirtd.service") != "inactive" or lab.is_active("libvirtd.socket") != "active":
            raise SystemExit("libvirtd.service did not stop, or its socket with it")
        (out / "libvirtd-stopped.txt").write_text(lab.probe())
        if lab.is_active("libvirtd.service") != "inactive":
            raise SystemExit("the probe started libvirtd.service")
    finally:
        lab.sh("systemctl start libvirtd.service")
    lab.reboot()
    time.sleep(2)
    (out / "after-reboot.txt").write_text(lab.probe())
    print(f"recorded {out.name}: healthy, libvirtd-stopped, after-reboot")
