"""Many bundles read at once: each file parsed in a worker process, on every core, while pytest
collects and runs the checks in the audit's own process.

Parsing is pure Python; threads would take turns on one core. A worker returns a host's facts
(or each kind's FactError) as HostFacts keeps them, and the audit's process only unpickles them.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from ..errors import FactError
from . import KINDS, HostFacts, Stats
from .bundle import BundleRun
from .command import ProbeLibvirtSource, ProbeLinkSource, ProbeSystemSource

# Below this many bundles the worker processes' start costs more than it saves.
POOL_FROM = 16
WORKER_NICE = 10


def bundle_sources(path: Path, name: str, libvirt_uri: str) -> tuple:
    """The three fact sources of one bundle, sharing one read of its file."""
    run = BundleRun(path, name)
    return ProbeLibvirtSource(run, libvirt_uri), ProbeLinkSource(run), ProbeSystemSource(run)


def read_facts(path: Path, name: str, libvirt_uri: str, kinds: tuple[str, ...] = KINDS) -> dict[str, object]:
    """These fact kinds of one bundle, each the facts or the FactError, as HostFacts keeps them."""
    facts = HostFacts(*bundle_sources(path, name, libvirt_uri), Stats())
    for kind in kinds:
        facts.collect(kind)
    return facts.collected()


# libvirt's facts first, for every bundle: pytest needs each host's guests to make its VM checks,
# so all of them before the first check runs; the links and system facts (rulesets: most of the
# parsing) follow in the hosts' order while the checks run.
STAGES = (("libvirt",), ("links", "system"))


class FutureSource:
    """One fact kind of a bundle that a worker process reads."""

    def __init__(self, future: Future, kind: str):
        self.future, self.kind = future, kind

    def collect(self):
        try:
            value = self.future.result()[self.kind]  # read_facts keeps each kind's FactError as its value
        except Exception as exc:  # the worker died (killed, out of memory): one line, as any collector's
            raise FactError(f"reading the bundle failed: {type(exc).__name__}: {exc}") from None
        if isinstance(value, FactError):
            raise value
        return value


def start_pool(jobs: list[tuple[Path, str, str]], workers: int | None = None,
               stages: tuple[tuple[str, ...], ...] = STAGES) -> tuple[ProcessPoolExecutor, list[dict[str, Future]]]:
    """Read each (path, host name, libvirt URI) in worker processes, one per core, in stages; per
    job, in the order of jobs, the future of each fact kind the stages name. The pool is shut
    down (without waiting) once all are queued."""
    # fork: the workers start in milliseconds with virtnat already imported, and nothing of the
    # program that runs the audit is imported again (forkserver and spawn re-run a __main__ script).
    # They are forked at the first submit, before the pool's own thread starts, and run nothing
    # but read_facts.
    # The workers run niced: while the checks run, the audit's process (one core's work, the
    # run's longest) has the core it needs, and the workers take what is left.
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, mp_context=context,
                               initializer=os.nice, initargs=(WORKER_NICE,))
    futures: list[dict[str, Future]] = [{} for _ in jobs]
    for kinds in stages:
        for job, found in zip(jobs, futures):
            future = pool.submit(read_facts, *job, kinds)
            found.update(dict.fromkeys(kinds, future))
    # The pool's thread that hands the workers' results over, started by the first submit: its
    # shutdown without waiting forgets it, and Collection.wait joins it (a split audit forks
    # with no thread left).
    pool.results_thread = pool._executor_manager_thread
    pool.shutdown(wait=False)
    return pool, futures
