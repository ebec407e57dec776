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

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "lab" / "lab.sh"
NS = os.environ.get("LAB_NS", "virtnat-lab")
RUNS = int(os.environ.get("BENCH_RUNS", "7"))


def in_lab(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", NS, *args], cwd=ROOT, capture_output=True, text=True, **kw)


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    result = in_lab(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        sys.exit(f"bench: pytest {' '.join(args)} exited {result.returncode}:\n{result.stdout[-2000:]}")
    return elapsed


def median_time(args: list[str]) -> float:
    timed(args)  # warm the page cache once
    return statistics.median(timed(args) for _ in range(RUNS))


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
    finally:
        if started_lab:
            subprocess.run([str(LAB), "down"], capture_output=True)
    (host, facts), = stats["hosts"].items()
    fact_s = sum(facts["seconds"].values())
    ratio = audit_s / collect_s
    once = all(n == 1 for n in facts["collections"].values())
    rows = [
        ("audit, whole run (median of %d)" % RUNS, f"{audit_s:.3f} s"),
        ("pytest --collect-only, same suite", f"{collect_s:.3f} s"),
        ("  ratio audit / collect-only", f"{ratio:.2f}x   (goal <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'})"),
        ("bare collection, plugin off", f"{bare_s:.3f} s"),
        ("python -c 'import pyroute2'", f"{import_s:.3f} s"),
        ("time collecting facts", f"{fact_s:.3f} s  " + ", ".join(f"{k} {v:.3f}" for k, v in facts["seconds"].items())),
        ("fact kinds collected once each", f"{'yes' if once else 'NO'}  {facts['collections']}"),
        ("subprocesses for facts", str(facts["subprocesses"])),
        ("processes spawned in the run", f"{stats['spawned_processes']}  (incl. pytest-metadata's `uname -p`)"),
        ("libvirt API calls", str(facts["libvirt_calls"])),
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
