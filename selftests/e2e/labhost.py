"""Drive the lab host (lab/lab.sh) and run audits against it from inside its namespace."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "lab" / "lab.sh"
NS = os.environ.get("LAB_NS", "virtnat-lab")
RUN = Path(os.environ.get("LAB_RUN", "/run/virtnat-lab"))
KEY = RUN / "id_ed25519"
KNOWN_HOSTS = RUN / "known_hosts"
NET = os.environ.get("LAB_NET", "10.213.0")
ADDRS = [f"{NET}.{i}" for i in range(2, 12)]  # every one a name of the lab host, sshd on each
NOLISTEN = f"{NET}.99"  # assigned in the lab, nothing listens
LAB_USER = "virtnat"  # has passwordless sudo in the lab


@dataclass
class AuditRun:
    rc: int
    stdout: str
    doc: dict | None
    report_dir: Path

    def outcomes(self, host_index: int = 0) -> dict[str, str]:
        """check id (with subject for VM checks) -> outcome."""
        checks = self.doc["hosts"][host_index]["checks"]
        return {c["id"] + (f"[{c['subject']}]" if c["subject"] else ""): c["outcome"] for c in checks}

    def check(self, check_id: str, host_index: int = 0) -> dict:
        return next(c for c in self.doc["hosts"][host_index]["checks"] if c["id"] == check_id)

    def by_outcome(self, outcome: str) -> set[str]:
        return {k.split("[")[0] for k, v in self.outcomes().items() if v == outcome}


class Lab:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self._runs = 0

    def lab(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(LAB), *args], capture_output=True, text=True, check=check, timeout=300)

    def sh(self, command: str, check: bool = True) -> str:
        """Run a shell command on the lab host (inside its namespace)."""
        result = subprocess.run(["ip", "netns", "exec", NS, "sh", "-c", command], capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError(f"lab command failed: {command}: {result.stderr.strip()}")
        return result.stdout

    def audit(self, *args: str, json_path: bool = True, prefix: tuple[str, ...] = (), inside: bool = True) -> AuditRun:
        """Run the suite as a user would, pytest in the repo root: inside the lab's namespace
        (a local audit), or outside it (inside=False) to audit the lab over SSH.
        Reports go to a fresh directory; json_path=False leaves the JSON at its default place."""
        self._runs += 1
        out = self.tmp / f"audit{self._runs}"
        out.mkdir(parents=True, exist_ok=True)
        cmd = [*prefix, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--report-dir={out}", *args]
        if json_path:
            cmd.append(f"--audit-json={out / 'audit.json'}")
        if inside:
            cmd = ["ip", "netns", "exec", NS, *cmd]
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        path = out / ("audit.json" if json_path else "latest.json")
        doc = json.loads(path.read_text()) if path.exists() else None
        return AuditRun(result.returncode, result.stdout + result.stderr, doc, out)

    def ssh_config(self, path: Path, *, verify: bool = True, user: str = "root") -> Path:
        """An ssh config for every lab address: the lab's key, and its known_hosts (or none)."""
        keys = f"UserKnownHostsFile {KNOWN_HOSTS}\n" if verify else "StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n"
        path.write_text(f"Host {NET}.*\n  User {user}\n  IdentityFile {KEY}\n  {keys}")
        return path

    def tap(self) -> str:
        """The lab guest's tap device, as libvirt reports it."""
        for line in self.sh("virsh -r domiflist virtnat-guest").splitlines():
            if line.strip().startswith("vnet"):
                return line.split()[0]
        raise RuntimeError("the lab guest has no tap")

    def wait_healthy(self, timeout: float = 60) -> AuditRun:
        """Audit until every check passes: undoing a fault can take the kernel a few seconds
        (STP takes a re-attached port through listening and learning)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.audit()
            if run.rc == 0 or time.monotonic() > deadline:
                return run
            time.sleep(1)
