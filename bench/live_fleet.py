"""`make bench`, a live fleet: collecting bundles from 30 SSH endpoints of the lab host (sshd
listens on 30 of its addresses), with virtnat's own collector (`virtnat collect`, every host at
once) and with the Ansible playbook (examples/collect.yml, ansible-core, one fork per host).
Printed: the time for 1 host and for 30, and the seconds each host after the first adds.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUNS = 3


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(command[:3])} ... exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - start


def _median(command_for, out: Path) -> float:
    """The median of RUNS collections, each into a fresh directory."""
    times = []
    for run in range(RUNS):
        folder = out / f"run{run}"
        times.append(_timed(command_for(folder)))
        if len(list(folder.iterdir())) == 0:
            sys.exit(f"bench: no bundle written in {folder}")
    return statistics.median(times)


def _inventory(path: Path, addrs: list[str], key: Path, known_hosts: Path) -> Path:
    lines = [f"hv{n:02} ansible_host={a} ansible_user=root ansible_ssh_private_key_file={key} "
             f"ansible_ssh_common_args='-o UserKnownHostsFile={known_hosts}'" for n, a in enumerate(addrs, 1)]
    path.write_text("[hypervisors]\n" + "\n".join(lines) + "\n")
    return path


def live_fleet_rows(ssh_config: Path, addrs: list[str], key: Path, known_hosts: Path, tmp: Path) -> list[tuple[str, str]]:
    rows = []
    for label, hosts in (("1 host", addrs[:1]), (f"{len(addrs)} hosts", addrs)):
        spec = ",".join(f"ssh://{a}" for a in hosts)
        out = tmp / f"collect-{len(hosts)}"
        seconds = _median(lambda folder: [str(BIN / "virtnat"), "collect", f"--hosts={spec}", f"--ssh-config={ssh_config}",
                                          f"--out={folder}"], out)
        rows.append((f"virtnat collect over ssh, {label}", seconds))
    for label, hosts in (("1 host", addrs[:1]), (f"{len(addrs)} hosts", addrs)):
        inventory = _inventory(tmp / f"inventory-{len(hosts)}", hosts, key, known_hosts)
        out = tmp / f"ansible-{len(hosts)}"
        seconds = _median(lambda folder: [str(BIN / "ansible-playbook"), "-i", str(inventory), "-f", str(len(hosts)),
                                          str(ROOT / "examples" / "collect.yml"), "-e", f"virtnat_out={folder}",
                                          "-e", "virtnat_become=false"], out)
        rows.append((f"ansible-playbook collect.yml, {label}", seconds))
    extra = len(addrs) - 1
    result = []
    for (one_label, one), (all_label, many) in (rows[0:2], rows[2:4]):
        result += [(one_label, f"{one:.2f} s"), (all_label, f"{many:.2f} s"),
                   ("  each host after the first adds", f"{(many - one) / extra:.3f} s")]
    return result
