"""Drive the second lab (lab/lab11.sh): libvirt 11 from Debian 13 in a chroot, audited over SSH."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .labhost import GUEST_CONSOLE11, ROOT, Lab

LAB11 = ROOT / "lab" / "lab11.sh"
RUN11 = Path("/run/virtnat-lab11")
NET11 = "10.213.1"
HOST = f"{NET11}.2"
CONFIGS = {  # backend, firewalld
    "libvirt11-iptables": ("iptables", True),
    "libvirt11-nftables": ("nftables", True),
    "libvirt11-nftables-no-firewalld": ("nftables", False),
}


class Lab11:
    def __init__(self, name: str, tmp: Path):
        self.name = name
        self.backend, self.firewalld = CONFIGS[name]
        self.runner = Lab(tmp, guest_console=GUEST_CONSOLE11)
        self.cfg = tmp / "ssh-config"
        self.cfg.write_text(f"Host {NET11}.*\n  User root\n  IdentityFile {RUN11 / 'id_ed25519'}\n"
                            f"  UserKnownHostsFile {RUN11 / 'known_hosts'}\n")
        self.profile = tmp / "profile.toml"
        # Debian 13's libvirtd.service has no After=firewalld.service: HOST-11 fails on this tree
        # (rightly: the trap is real at a boot), and the lab never boots; the waiver keeps it said.
        self.profile.write_text(f"[host]\nfirewalld = {'true' if self.firewalld else 'false'}\n\n"
                                "[[waiver]]\ncheck = \"HOST-11\"\nreason = \"Debian 13's libvirtd.service is not ordered "
                                "after firewalld.service; this lab never boots\"\nexpires = 2999-12-31\n")

    def control(self, *args: str) -> None:
        env = dict(os.environ, LAB_BACKEND=self.backend, LAB_FIREWALLD="1" if self.firewalld else "0")
        result = subprocess.run([str(LAB11), *args], env=env, capture_output=True, text=True, timeout=600)
        if result.returncode:
            raise RuntimeError(f"lab11.sh {' '.join(args)} failed: {result.stderr.strip()[-1500:]}")

    def sh(self, command: str) -> None:
        """A command in the lab's namespace, with the machine's tools."""
        subprocess.run(["ip", "netns", "exec", "virtnat-lab11", "sh", "-c", command], check=True, timeout=120)

    def in_root(self, command: str) -> subprocess.CompletedProcess:
        """A command on the lab host itself: its namespace and its Debian 13 root and tools."""
        return subprocess.run([str(LAB11), "exec", "sh", "-c", command], capture_output=True, text=True, timeout=120)

    def audit(self):
        return self.runner.audit(f"--hosts=ssh://{HOST}", f"--ssh-config={self.cfg}", f"--profile={self.profile}", inside=False)

    def wait_healthy(self, tries: int = 30):
        for _ in range(tries):
            run = self.audit()
            if run.rc == 0:
                return run
        return run
