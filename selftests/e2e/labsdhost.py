"""Drive the systemd lab (lab/labsd.sh): a Debian 12 host booted with systemd-nspawn in its own
network namespace, audited over SSH at 10.213.4.2, rebooted for real."""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from .labhost import ROOT, AuditRun, Lab, audit_until_healthy

LABSD = ROOT / "lab" / "labsd.sh"
RUNSD = Path(os.environ.get("LABSD_RUN", "/run/virtnat-labsd"))
HOSTSD = f"{os.environ.get('LABSD_NET', '10.213.4')}.2"


class LabSD:
    def __init__(self, tmp: Path, libvirt: str = "9"):
        self.libvirt = libvirt
        self.runner = Lab(tmp)
        self.cfg = tmp / "ssh-config"
        self.cfg.write_text(f"Host {HOSTSD}\n  User root\n  IdentityFile {RUNSD / 'id_ed25519'}\n"
                            f"  UserKnownHostsFile {RUNSD / 'known_hosts'}\n")

    def control(self, *args: str, libvirt: str | None = None) -> str:
        """lab/labsd.sh ARGS (up, down, reboot...); libvirt: the tree to boot (9 or 11)."""
        if libvirt:
            self.libvirt = libvirt
        env = dict(os.environ, LABSD_LIBVIRT=self.libvirt)
        result = subprocess.run([str(LABSD), *args], env=env, capture_output=True, text=True, timeout=600)
        if result.returncode:
            raise RuntimeError(f"labsd.sh {' '.join(args)} failed: {result.stderr.strip()[-1500:]}")
        return result.stderr

    def up(self, libvirt: str | None = None) -> str:
        return self.control("up", libvirt=libvirt)

    def sh(self, command: str, check: bool = True) -> subprocess.CompletedProcess:
        """A command on the lab host (all its namespaces, its own tools), as root."""
        result = subprocess.run([str(LABSD), "exec", "sh", "-c", command], capture_output=True, text=True, timeout=120)
        if check and result.returncode:
            raise RuntimeError(f"labsd command failed: {command}: {result.stderr.strip()[-1000:]}")
        return result

    def ok(self, command: str) -> bool:
        return self.sh(command, check=False).returncode == 0

    def is_active(self, unit: str) -> str:
        return self.sh(f"systemctl is-active {unit}", check=False).stdout.strip()

    def boots(self) -> int:
        """Boots since `up` (the lab's console log counts them)."""
        try:
            return len(re.findall(r"^== labsd: boot ", (RUNSD / "console.log").read_text(errors="replace"), re.M))
        except FileNotFoundError:
            return 0

    def reboot(self) -> float:
        """`systemctl reboot` on the host, back when sshd answers: the seconds it took."""
        start = time.monotonic()
        self.control("reboot")
        return time.monotonic() - start

    def audit(self, *args: str) -> AuditRun:
        return self.runner.audit(f"--hosts=ssh://{HOSTSD}", f"--ssh-config={self.cfg}", *args, inside=False)

    def wait_healthy(self, timeout: float = 60) -> AuditRun:
        """Audit until every check passes: after a boot, libvirt autostarts the network a moment
        after sshd answers."""
        return audit_until_healthy(self.audit, timeout)

    def probe(self) -> str:
        """The probe's whole output, as an SSH audit gets it (links and virsh's view included)."""
        from virtnat.facts.probe import script
        result = subprocess.run([str(LABSD), "exec", "sh", "-c", "VIRTNAT_IP=1 VIRTNAT_VIRSH=qemu:///system sh -s"],
                                input=script(), capture_output=True, text=True, timeout=120)
        return result.stdout
