"""Splitting an audit of bundles on one machine, two ways, side by side (issue 25, item 2):

- the audit's own split: one `virtnat audit --facts=DIR` that forks a process per core for blocks
  of hosts and replays their reports (shards.py, forked.py, the forked page writer);
- the simple way: one `virtnat audit --facts=BLOCK --part=P --shards=1` per core, at once, over
  contiguous blocks of the bundles, then `virtnat merge P... --report-dir=R`.

Both write every report (JSON, HTML, JUnit, Prometheus and the latest copies). Runs alternate
(split, simple, split, ...), so that a machine whose speed drifts slows both alike; printed: each
run, then the medians of wall time and of peak memory (every process of the run, each counted by
its proportional set size, summed; fleet_bench.tree_pss), and the load average around the runs.

    BENCH_HOSTS=1000 BENCH_RUNS=3 .venv/bin/python bench/split_bench.py
"""
from __future__ import annotations

import os
import resource
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet_bench import make_bundles, sampled  # noqa: E402

HOSTS = int(os.environ.get("BENCH_HOSTS", "1000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CORES = len(os.sched_getaffinity(0))
VIRTNAT = str(Path(sys.executable).parent / "virtnat")


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: str) -> tuple[float, int, float, float]:
    """(wall seconds, peak bytes, CPU seconds, when it ended) of a shell command and every process
    under it (each waits for its own: their CPU time is counted)."""
    cpu = _cpu()
    elapsed, peak = sampled(["sh", "-c", command], command)
    return elapsed, peak, _cpu() - cpu, time.time()


def blocks(folder: Path, count: int) -> list[Path]:
    """The bundles of folder in count contiguous blocks (folders of links), sizes differing by one at most."""
    files = sorted(folder.iterdir())
    size, extra = divmod(len(files), count)
    found, start = [], 0
    for k in range(count):
        end = start + size + (k < extra)
        block = folder.parent / f"{folder.name}-block{k}"
        block.mkdir()
        for path in files[start:end]:
            (block / path.name).symlink_to(path)
        found.append(block)
        start = end
    return found


def split_command(folder: Path, reports: Path) -> str:
    return (f"{VIRTNAT} audit --facts={folder} --report-dir={reports} --prometheus={reports}/virtnat.prom -- -q "
            ">/dev/null")


def simple_command(parts: list[Path], reports: Path) -> str:
    audits = " ".join(f"{VIRTNAT} audit --facts={block} --part={reports}.part{k}.json --shards=1 -- -q >/dev/null &"
                      for k, block in enumerate(parts))
    files = " ".join(f"{reports}.part{k}.json" for k in range(len(parts)))
    return f"{audits} wait; date +%s.%N >{reports}.audited; {VIRTNAT} merge {files} --report-dir={reports} --prometheus={reports}/virtnat.prom >/dev/null"


def main() -> int:
    print(f"virtnat bench: {HOSTS} bundles split over {CORES} cores, {RUNS} runs each way, alternating")
    found: dict[str, list[tuple[float, int, float]]] = {"split": [], "simple": []}
    merges: list[float] = []
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="virtnat-split.") as tmp:
        folder = Path(tmp) / "fleet"
        make_bundles(folder, HOSTS)
        parts = blocks(folder, CORES)
        for run in range(RUNS):
            for way in ("split", "simple"):
                reports = Path(tmp) / f"{way}{run}"
                command = split_command(folder, reports) if way == "split" else simple_command(parts, reports)
                seconds, peak, cpu, ended = timed(command)
                found[way].append((seconds, peak, cpu))
                loads.append(os.getloadavg()[0])
                merge = f"  (the merge {ended - float(Path(f'{reports}.audited').read_text()):.2f} s of it)" if way == "simple" else ""
                if merge:
                    merges.append(ended - float(Path(f"{reports}.audited").read_text()))
                print(f"  {way:6} run {run + 1}: {seconds:6.2f} s  peak {peak / 2**20:5.0f} MiB  CPU {cpu:6.2f} s"
                      f"  (load {loads[-1]:.1f}){merge}")
        if os.environ.get("BENCH_SHOW"):
            print("  " + shlex.join(["sh", "-c", simple_command(parts, Path(tmp) / "simple0")]))
    medians = {way: [statistics.median(run[i] for run in runs) for i in range(3)] for way, runs in found.items()}
    for way, (seconds, peak, cpu) in medians.items():
        print(f"  {way:6} median {seconds:6.2f} s  peak {peak / 2**20:5.0f} MiB  CPU {cpu:6.2f} s"
              + (f"  (the merge {statistics.median(merges):.2f} s)" if way == "simple" else ""))
    slower = medians["simple"][0] / medians["split"][0] - 1
    print(f"  the simple way is {slower * 100:+.1f}% against the audit's own split "
          f"(issue 25: the split stays only if the simple way is more than 15% slower); "
          f"load average {min(loads):.1f}-{max(loads):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
