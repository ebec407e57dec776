"""`make bench`: what a local audit of the lab host costs.

Prints the whole run's wall time (pytest start-up and reports included) beside
`pytest --collect-only` on the same suite, the time spent collecting facts, and how many
subprocesses and libvirt calls the audit made. Goals (issue 2): every fact kind collected
once, and the whole audit within 1.5x the collect-only time.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from live_fleet import live_fleet_rows

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "lab" / "lab.sh"
NS = os.environ.get("LAB_NS", "virtnat-lab")
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
# Measure as on a user's machine: Python caches bytecode (some shells here turn that off,
# which makes every run recompile every module, the suite's and pytest's alike).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
RUN = Path(os.environ.get("LAB_RUN", "/run/virtnat-lab"))
NET = os.environ.get("LAB_NET", "10.213.0")
ADDRS = [f"{NET}.{i}" for i in range(2, 32)]  # thirty names of the lab host
TEN = ADDRS[:10]

# The naive way: one remote command per check, each over its own ssh connection (what
# testinfra's ssh backend does without a ControlPath), as a suite of per-check tests would.
NAIVE = [
    "virsh -r -c qemu:///system uri", "pgrep -x firewalld", "systemctl is-enabled firewalld",
    "command -v dnsmasq iptables nft", "cat /proc/sys/net/ipv4/ip_forward", "cat /etc/sysctl.conf /etc/sysctl.d/*.conf",
    "sysctl net.ipv4.conf.all.forwarding net.ipv6.conf.all.forwarding",
    "virsh -r net-info default", "virsh -r net-info default", "virsh -r net-info default",
    "virsh -r net-dumpxml default", "virsh -r net-dumpxml default",
    "ip -j -d link show virbr0", "ip -j -d link show virbr0", "ip -j addr show virbr0",
    "cat /sys/class/net/virbr0/bridge/stp_state", "ip -j link show master virbr0",
    "iptables-save -t nat", "iptables-save -t filter", "pgrep -af dnsmasq", "nft -j list ruleset",
    "virsh -r domiflist virtnat-guest", "ip -j link show vnet0", "ip -j link show vnet0", "ip -j link show vnet0",
]


def in_lab(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", NS, *args], cwd=ROOT, capture_output=True, text=True, **kw)


def timed(args: list[str], inside: bool = True) -> float:
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    result = in_lab(*cmd) if inside else subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        sys.exit(f"bench: pytest {' '.join(args)} exited {result.returncode}:\n{result.stdout[-2000:]}")
    return elapsed


def median_time(args: list[str], inside: bool = True, runs: int = RUNS) -> float:
    timed(args, inside)  # warm the page cache once
    return statistics.median(timed(args, inside) for _ in range(runs))


def ssh_bench(tmp: str) -> list[tuple[str, str]]:
    """Auditing the lab over SSH: our one command per host against one command per check."""
    config = Path(tmp, "ssh_config")
    config.write_text(f"Host {NET}.*\n  User root\n  IdentityFile {RUN / 'id_ed25519'}\n  UserKnownHostsFile {RUN / 'known_hosts'}\n")
    stats_path = Path(tmp, "ssh-stats.json")
    base = ["-q", f"--report-dir={tmp}", f"--ssh-config={config}"]
    rows = []
    for connection in ("ssh", "paramiko"):
        hosts1 = f"--hosts={connection}://{ADDRS[0]}"
        hosts10 = "--hosts=" + ",".join(f"{connection}://{a}" for a in TEN)
        subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *base, hosts10, f"--stats-json={stats_path}"],
                       cwd=ROOT, capture_output=True)
        per_host = [h["remote_commands"] for h in json.loads(stats_path.read_text())["hosts"].values()]
        if connection == "ssh":
            subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *base, hosts1, f"--stats-json={stats_path}"],
                           cwd=ROOT, capture_output=True)
            probe_s = json.loads(stats_path.read_text())["collection_wall_seconds"]
        one = median_time([*base, hosts1], inside=False, runs=5)
        ten = median_time([*base, hosts10], inside=False, runs=5)
        rows += [
            (f"{connection}: remote commands per host", f"{max(per_host)}   (goal <= 3: {'met' if max(per_host) <= 3 else 'NOT met'})"),
            (f"{connection}: audit of 1 host, whole run", f"{one:.3f} s"),
            (f"{connection}: audit of 10 host names, whole run", f"{ten:.3f} s"),
            (f"{connection}:   each host after the first adds", f"{(ten - one) / 9:.3f} s   (goal < 0.15 s: {'met' if (ten - one) / 9 < 0.15 else 'NOT met'})"),
        ]
    naive1 = naive_time(config, ADDRS[:1])
    naive10 = naive_time(config, TEN)
    one_ssh = float(rows[1][1].split()[0])
    ten_ssh = float(rows[2][1].split()[0])
    verdict = lambda ratio: f"(goal >= 10x: {'met' if ratio >= 10 else 'NOT met'})"  # noqa: E731
    rows += [
        (f"naive, 1 host ({len(NAIVE)} ssh commands)", f"{naive1:.3f} s   whole virtnat run {naive1 / one_ssh:.1f}x faster {verdict(naive1 / one_ssh)}"),
        ("  virtnat's probe over ssh, 1 host", f"{probe_s:.3f} s   {naive1 / probe_s:.1f}x faster than the naive commands"),
        (f"naive, 10 hosts ({10 * len(NAIVE)} ssh commands)", f"{naive10:.3f} s   whole virtnat run {naive10 / ten_ssh:.1f}x faster {verdict(naive10 / ten_ssh)}"),
    ]
    return rows


def naive_time(config: Path, addrs: list[str]) -> float:
    start = time.perf_counter()
    for addr in addrs:
        for command in NAIVE:
            subprocess.run(["ssh", "-F", str(config), "-o", "BatchMode=yes", addr, command], capture_output=True, check=False)
    return time.perf_counter() - start


def path_bench() -> list[tuple[str, str]]:
    """The packet-path model's own cost: the probe's new commands on the lab host, and the
    walks of every guest packet (PATH-01..04, NET-16) on its live facts."""
    sys.path.insert(0, str(ROOT / "src"))
    from virtnat.facts.links import parse_ip_json
    from virtnat.facts.probe import script, split_sections, system_from_sections
    from virtnat.fixtures import path_model
    from virtnat.profile import Profile

    extra = "iptables-legacy-save >/dev/null; ip -j -4 route show table all >/dev/null; ip -j -4 rule show >/dev/null; ss -l -n -p -t -u >/dev/null"
    cost = statistics.median(_timed_sh(extra) for _ in range(RUNS))
    out = in_lab("sh", "-c", f"VIRTNAT_IP=1 sh -s <<'EOF'\n{script()}\nEOF").stdout
    sections = split_sections(out)
    start = time.perf_counter()
    system = system_from_sections(sections)
    parse_s = time.perf_counter() - start
    links = parse_ip_json(sections["ip-link"][1], sections["ip-addr"][1])
    profile = Profile()

    def walks() -> float:
        start = time.perf_counter()
        model = path_model(system, links, profile)
        for judge in (model.dhcp, model.dns, model.forwarding, model.masquerade):
            judge(profile.network)
        model.legacy_touches()
        return time.perf_counter() - start

    walk_s = statistics.median(walks() for _ in range(RUNS * 3))
    tables = system.firewall.tables
    return [
        ("packet path: probe's extra commands (legacy, routes, rules, sockets)", f"{cost * 1000:.1f} ms"),
        ("packet path: parsing the probe, every table included", f"{parse_s * 1000:.1f} ms  ({len(tables)} tables, "
         f"{sum(t.rule_count for t in tables)} rules)"),
        ("packet path: every walk (PATH-01..04, NET-16), per audit", f"{walk_s * 1000:.1f} ms"),
    ]


def _timed_sh(command: str) -> float:
    start = time.perf_counter()
    in_lab("sh", "-c", command)
    return time.perf_counter() - start


def main() -> int:
    started_lab = subprocess.run([str(LAB), "status"], capture_output=True).returncode != 0
    if started_lab:
        print("bench: bringing the lab up (about a minute)...", flush=True)
        subprocess.run([str(LAB), "up"], check=True, capture_output=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            stats_path = Path(tmp, "stats.json")
            audit = ["-q", f"--report-dir={tmp}"]
            in_lab(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *audit, f"--stats-json={stats_path}")
            stats = json.loads(stats_path.read_text())
            audit_s = median_time(audit)
            collect_s = median_time(["-q", "--collect-only", f"--report-dir={tmp}"])
            bare_s = median_time(["-q", "--collect-only", "-p", "no:virtnat", "-p", "no:html", "tests"])
            import_s = median_time_python("import pyroute2")
            ssh_rows = ssh_bench(tmp)
            fleet_rows = live_fleet_rows(Path(tmp, "ssh_config"), ADDRS, RUN / "id_ed25519", RUN / "known_hosts", Path(tmp))
            path_rows = path_bench()
    finally:
        if started_lab:
            subprocess.run([str(LAB), "down"], capture_output=True)
    (host, facts), = stats["hosts"].items()
    ratio = audit_s / collect_s
    once = all(n == 1 for n in facts["collections"].values())
    rows = [
        ("audit, whole run (median of %d)" % RUNS, f"{audit_s:.3f} s"),
        ("pytest --collect-only, same suite", f"{collect_s:.3f} s"),
        ("  ratio audit / collect-only", f"{ratio:.2f}x   (goal <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'})"),
        ("bare collection, plugin off", f"{bare_s:.3f} s"),
        ("python -c 'import pyroute2'", f"{import_s:.3f} s"),
        ("time collecting facts (wall, kinds in parallel)", f"{stats['collection_wall_seconds']:.3f} s  " + ", ".join(f"{k} {v:.3f}" for k, v in facts["seconds"].items())),
        ("fact kinds collected once each", f"{'yes' if once else 'NO'}  {facts['collections']}"),
        ("subprocesses for facts", f"{facts['subprocesses']}  (the probe, which reads the links too; pyroute2's helper only where `ip -j` fails)"),
        ("processes spawned in the run", f"{stats['spawned_processes']}  (incl. pytest-metadata's `uname -p`)"),
        ("libvirt API calls", str(facts["libvirt_calls"])),
        *path_rows,
        *ssh_rows,
        *fleet_rows,
    ]
    width = max(len(r[0]) for r in rows)
    print(f"virtnat bench: local audit of host {host!r} (lab namespace {NS})")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    return 0


def median_time_python(code: str) -> float:
    def once() -> float:
        start = time.perf_counter()
        in_lab(sys.executable, "-c", code, check=True)
        return time.perf_counter() - start

    once()
    return statistics.median(once() for _ in range(RUNS))


if __name__ == "__main__":
    sys.exit(main())
