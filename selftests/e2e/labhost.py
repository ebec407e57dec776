"""Drive the lab host (lab/lab.sh) and run audits against it from inside its namespace."""
from __future__ import annotations

import json
import os
import re
import socket
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
ADDRS = [f"{NET}.{i}" for i in range(2, 32)]  # 30 names of the lab host, sshd on each
NOLISTEN = f"{NET}.99"  # assigned in the lab, nothing listens
LAB_USER = "virtnat"  # has passwordless sudo in the lab
# Checks an audit of a lab host reports: every control in tests/ (the lab guest has one
# interface, so each VM check runs once).
CHECK_COUNT = sum(f.read_text().count("@pytest.mark.control(") for f in (ROOT / "tests").rglob("test_*.py"))
# The lab 9 and 11 hosts run two guests (the second, lab/common.sh's peer, for PATH-05's truth):
# each VM check runs once per guest interface, so an audit of them reports this many results.
LAB_GUESTS = 2
RESULT_COUNT = CHECK_COUNT + (LAB_GUESTS - 1) * sum(f.read_text().count("@pytest.mark.control(")
                                                     for f in (ROOT / "tests" / "vm").rglob("test_*.py"))
# Every guest's taps back on the bridge after the network's restart (libvirt does not re-attach them).
REATTACH = ("for d in $(virsh -r list --uuid); do for t in $(virsh -r domiflist $d | awk '/vnet/{print $1}'); do "
            "ip link set $t master virbr0; done; done")
DETACH = REATTACH.replace("master virbr0", "nomaster")
PEER = "virtnat-peer"  # the second guest (lab/common.sh PEER_GUEST)
# The lab guest's serial console (lab/guest/init): one begin and one result line per round.
# It runs rounds at boot, then one per line written to the unix socket beside its console log.
GUEST_CONSOLE = RUN / "guest-console.log"
GUEST_CONSOLE11 = Path(os.environ.get("LAB_ROOT", "/var/cache/virtnat/trixie-root")) / "run" / "guest-console.log"
GUEST_OUTSIDE = "10.213.2.1"  # the guest's "out" target: reachable only through the lab's NAT
GUEST_OUTSIDE11 = "10.213.3.1"
_ROUND = re.compile(r"VIRTNAT-GUEST (begin|result) seq=(\d+)([^\n]*)\n")
_RESULT = re.compile(r" dhcp=(ok|fail) dns=(ok|fail) dnstcp=(ok|fail) out=(ok|fail) addr=(\S+)(?: peer=(ok|fail|none))?")


def _guest_rounds(console: Path) -> tuple[set[int], dict[int, dict]]:
    """The begin seqs and the results of the guest's current boot (a restarted guest counts
    from 1 again). Only whole lines count: the guest may be writing the last one."""
    try:
        text = console.read_text(errors="replace")
    except FileNotFoundError:
        return set(), {}
    begun: set[int] = set()
    results: dict[int, dict] = {}
    for kind, seq, rest in _ROUND.findall(text):
        seq = int(seq)
        if kind == "begin":
            if seq == 1:  # a new boot
                begun, results = set(), {}
            begun.add(seq)
        elif (m := _RESULT.match(rest)) and seq in begun:
            dhcp, dns, dnstcp, out, addr, peer = m.groups()
            results[seq] = {"seq": seq, "dhcp": dhcp == "ok", "dns": dns == "ok", "dnstcp": dnstcp == "ok",
                            "out": out == "ok", "addr": None if addr == "none" else addr,
                            "peer": None if peer in (None, "none") else peer == "ok"}
    return begun, results


def guest_ask(console: Path = GUEST_CONSOLE) -> bool:
    """Ask the guest for a round (lab/common.sh guest_ask); False if it is not listening."""
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(console.with_name("guest-ask.sock")))
            sock.sendall(b"\n")
        return True
    except OSError:
        return False


def guest_mark(console: Path = GUEST_CONSOLE) -> int:
    """The guest's latest round (0 before its first): every round after it begins later."""
    begun, _ = _guest_rounds(console)
    return max(begun, default=0)


def guest_truth(console: Path = GUEST_CONSOLE, after: int | None = None, timeout: float = 60) -> dict:
    """What the guest itself got in its first round that BEGAN after the mark `after` (from
    guest_mark; None: now): {"seq", "dhcp", "dns", "dnstcp", "out": bool, "addr": str|None,
    "peer": bool, or None where it pings no other guest}.
    A round in progress at the mark may have seen the host before and after a change; the
    next one saw only after. A guest restarted since the mark: all its rounds are fresh.
    Asks the guest for that round, and again every 15 s (a round takes at most ~8 s)."""
    if after is None:
        after = guest_mark(console)
    deadline = time.monotonic() + timeout
    asked = 0.0
    while True:
        begun, results = _guest_rounds(console)
        since = after if max(begun, default=0) >= after else 0
        fresh = [seq for seq in results if seq > since]
        if fresh:
            return results[min(fresh)]
        if time.monotonic() - asked > 15:
            guest_ask(console)
            asked = time.monotonic()
        if time.monotonic() > deadline:
            try:
                tail = console.read_text(errors="replace")[-600:]
            except FileNotFoundError:
                tail = "(no console log)"
            raise TimeoutError(f"no guest round began after seq {after} within {timeout}s; {console} ends: {tail}")
        time.sleep(0.2)


def audit_until_healthy(audit, timeout: float) -> "AuditRun":
    """audit() once a second until every check passes or timeout seconds have gone: the last run."""
    deadline = time.monotonic() + timeout
    while True:
        run = audit()
        if run.rc == 0 or time.monotonic() > deadline:
            return run
        time.sleep(1)


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

    def by_check(self, host_index: int = 0) -> dict[str, str]:
        """check id -> outcome; a VM check that passed for one guest and not for another: the other's."""
        found: dict[str, str] = {}
        for key, outcome in self.outcomes(host_index).items():
            check = key.split("[")[0]
            if found.get(check, "passed") == "passed":
                found[check] = outcome
        return found

    def check(self, check_id: str, host_index: int = 0) -> dict:
        return next(c for c in self.doc["hosts"][host_index]["checks"] if c["id"] == check_id)

    def by_outcome(self, outcome: str) -> set[str]:
        return {k.split("[")[0] for k, v in self.outcomes().items() if v == outcome}


class Lab:
    def __init__(self, tmp: Path, guest_console: Path = GUEST_CONSOLE):
        self.tmp = tmp
        self._runs = 0
        self.guest_console = guest_console

    def guest_mark(self) -> int:
        """Mark now, before changing the host: guest_truth(after=mark) then reports a round
        that began after the change."""
        return guest_mark(self.guest_console)

    def guest_truth(self, after: int | None = None, timeout: float = 60) -> dict:
        """The guest's own DHCP/DNS/NAT result of its first round begun after `after`."""
        return guest_truth(self.guest_console, after, timeout)

    def guest_ask(self) -> bool:
        """Ask the guest for a round now (guest_truth asks by itself)."""
        return guest_ask(self.guest_console)

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
        return audit_until_healthy(self.audit, timeout)
