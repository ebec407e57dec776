"""`make bench`, fleets: what an audit of N hosts' bundles costs, for N = 10, 100 and 1000.

The bundles are made from the probe output recorded on the labs (libvirt 9, libvirt 11 with each
backend; healthy and with each packet-path fault), each under a bundle header with its own host
name. Each audit is a whole `virtnat audit --facts=DIR` run, as a user starts it, with every report
written. Printed per N: wall time, the run's peak memory, the size of each report, and the cost
per host; and what an operator opens: the HTML page's size, its hosts' pages beside it (a fleet's
page links to one per host), and how long headless Chromium takes to load and draw the page (its
wall time with a screenshot, less that of an empty page: the browser's own start; median of 3). The memory is that of the audit's process and every process it started (the processes
a split audit forks, the workers reading bundles), each counted by its proportional set size
(a page shared by n processes counts 1/n in each), summed, sampled every 0.2 s. Goals (issue 10): 1000 hosts in at most 30 s and 1 GiB, and the per-host
cost at 1000 within 1.5x of that at 100.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
from selftests.browser import CHROMIUM, open_page  # noqa: E402
from virtnat.collectors.bundle import bundle_bytes  # noqa: E402

RECORDINGS = sorted((ROOT / "selftests" / "data" / "path").glob("*/*.txt"))
SIZES = tuple(int(n) for n in os.environ.get("BENCH_FLEET", "10,100,1000").split(","))
# BENCH_SHARDS=1: the audit in one process, as before audits were split (default: virtnat's own choice).
SHARDS = [f"--shards={os.environ['BENCH_SHARDS']}"] if os.environ.get("BENCH_SHARDS") else []
GOAL_SECONDS, GOAL_BYTES, GOAL_RATIO = 30.0, 1 << 30, 1.5
GOAL_PAGE_BYTES, GOAL_RENDER_SECONDS = 5_000_000, 2.0  # the page of 1000 hosts (issue 25)
SAMPLE_SECONDS = 0.2


def make_bundles(folder: Path, n: int) -> None:
    """n bundles, hv0000..., cycling through the recordings (both generations, healthy and faulty)."""
    folder.mkdir(parents=True)
    for i in range(n):
        recording = RECORDINGS[i % len(RECORDINGS)]
        host = f"hv{i:04}"
        (folder / f"{host}.facts").write_bytes(bundle_bytes(host, "2026-11-28T00:00:00+00:00", recording.read_text()))


def tree_pss(root: int) -> int:
    """Bytes: the proportional set sizes of root and of every process under it, summed."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(stat.parent.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                total += sum(int(line.split()[1]) * 1024 for line in rollup if line.startswith("Pss:"))
        except OSError:
            pass
    return total


def audit(folder: Path, reports: Path) -> tuple[float, int]:
    """(wall seconds, peak bytes) of one audit of every bundle in folder."""
    virtnat = str(Path(sys.executable).parent / "virtnat")
    command = [virtnat, "audit", f"--facts={folder}", f"--report-dir={reports}", f"--prometheus={reports / 'virtnat.prom'}", *SHARDS, "--", "-q"]
    return sampled(command, f"the audit of {folder}")


def sampled(command: list[str], what: str) -> tuple[float, int]:
    """(wall seconds, peak bytes summed over its process tree) of command, which must exit 0 or 1."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        run = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)
        peak = 0
        while run.poll() is None:
            peak = max(peak, tree_pss(run.pid))
            time.sleep(SAMPLE_SECONDS)
        elapsed = time.perf_counter() - start
        if run.returncode not in (0, 1):
            out.seek(0)
            sys.exit(f"bench: {what} exited {run.returncode}:\n{out.read()[-4000:]}")
    return elapsed, peak


def sizes(reports: Path) -> str:
    found = {p.suffix or p.name: p.stat().st_size for p in reports.iterdir() if not p.name.startswith("latest")}
    return "  ".join(f"{suffix.lstrip('.')} {found[suffix] / 1e6:.1f} MB" for suffix in (".html", ".json", ".xml", ".prom") if suffix in found)


def _opened(path: Path, shot: Path) -> float:
    start = time.perf_counter()
    open_page(path, screenshot=shot, size=(1400, 1000), timeout=300)
    return time.perf_counter() - start


def render_seconds(page: Path) -> float:
    """Seconds headless Chromium takes to load and draw page, less its own start (median of 3)."""
    with tempfile.TemporaryDirectory(prefix="virtnat-render.") as tmp:
        blank = Path(tmp) / "blank.html"
        blank.write_text("<!DOCTYPE html><title>blank</title>")
        times = sorted(_opened(page, Path(tmp) / "page.png") - _opened(blank, Path(tmp) / "blank.png") for _ in range(3))
    return max(times[1], 0.0)


def page_figures(reports: Path) -> tuple[str, bool]:
    """The page's size, its hosts' pages, its render time, in words; whether the goals are met."""
    page = next(p for p in reports.glob("*.html") if not p.name.startswith("latest"))
    folder = page.with_suffix("")
    pages = list(folder.glob("*.html")) if folder.is_dir() else []
    size = page.stat().st_size
    said = f"page {size / 1e6:.2f} MB" + (f" + {len(pages)} hosts' pages {sum(p.stat().st_size for p in pages) / 1e6:.0f} MB" if pages else "")
    if CHROMIUM is None:
        return said + "  render: no chromium", False
    seconds = render_seconds(page)
    return f"{said}  render {seconds:.2f} s", size <= GOAL_PAGE_BYTES and seconds <= GOAL_RENDER_SECONDS


def main() -> int:
    print(f"virtnat bench: audits of N hosts' bundles ({len(RECORDINGS)} recordings, both generations, healthy and faulty)")
    per_host: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="virtnat-fleet.") as tmp:
        for n in SIZES:
            folder, reports = Path(tmp) / f"b{n}", Path(tmp) / f"r{n}"
            make_bundles(folder, n)
            seconds, peak = audit(folder, reports)
            per_host[n] = seconds / n
            print(f"  {n:5} hosts  {seconds:7.2f} s  peak {peak / 2**20:7.0f} MiB  {per_host[n] * 1000:6.1f} ms/host  {sizes(reports)}")
            figures, page_met = page_figures(reports)
            print(f"    {figures}")
            if n == 1000:
                met = seconds <= GOAL_SECONDS and peak <= GOAL_BYTES
                print(f"    1000 hosts: goal <= {GOAL_SECONDS:.0f} s and <= 1 GiB: {'met' if met else 'NOT met'}")
                print(f"    1000 hosts: page <= {GOAL_PAGE_BYTES / 1e6:.0f} MB, rendered within {GOAL_RENDER_SECONDS:.0f} s: "
                      f"{'met' if page_met else 'NOT met'}")
    if 100 in per_host and 1000 in per_host:
        ratio = per_host[1000] / per_host[100]
        print(f"    per-host cost at 1000 / at 100: {ratio:.2f}x  (goal <= {GOAL_RATIO}x: {'met' if ratio <= GOAL_RATIO else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
