"""`virtnat audit` of many bundles on every core, the simple way: one child audit per block of
bundles (`--part`), as many at a time as there are cores, then their parts merged into the reports
one audit writes (report/merge.py), as `virtnat merge` does for audits run anywhere else.

Why: pytest runs one check at a time, about half a millisecond each before the check does
anything; 1000 hosts are 36,000 checks. Only an audit of bundles alone is split: nothing but files
to read, no connection to share. What pytest does across checks (-n, -x, --pdb, ...) and pytest's
own --html and --junitxml (no merge of them) keep an audit in one process. Every problem of the
options is left to the audit in one process, which says it as it always does, with its reports;
so is a child that fails: its hosts are never lost, the whole audit runs again in this process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .report.finish import Outputs

# From this many bundles on, an audit is split over the cores (two starts of virtnat and the merge,
# about a second, are paid back); --shards=N asks for N processes whatever the number.
SPLIT_FROM = 200
# The longest --facts a child is given: one argument of a command line holds at most 128 KiB (Linux).
FACTS_CHARS = 100_000
# The most hosts a child audits: a child holds its hosts' facts to the end, about 0.7 MiB a host, so
# a fleet of any size is audited in blocks of at most this many, as many at a time as there are cores.
BLOCK_HOSTS = 500

# pytest's options that act across checks, or write reports no merge makes (short ones as flags).
ACROSS = {"--numprocesses": "-n", "--dist": "-n", "--exitfirst": "-x", "--maxfail": "--maxfail", "--pdb": "--pdb",
          "--trace": "--trace", "--sw": "--stepwise", "--stepwise": "--stepwise", "--sw-skip": "--stepwise",
          "--stepwise-skip": "--stepwise", "--setup-only": "--setup-only", "--setup-plan": "--setup-plan",
          "--collect-only": "--collect-only", "--co": "--collect-only", "--html": "pytest's --html",
          "--junitxml": "pytest's --junitxml", "--junit-xml": "pytest's --junitxml"}
SHORT = {"n": "-n", "x": "-x"}
TAKES_VALUE = set("kmprcoW")  # pytest's short options whose value may follow in the same word (-k expr, -p name)


def across(pytest_args: list[str]) -> str | None:
    """The first of pytest's arguments that keeps an audit in one process, as its flag; None if none."""
    for word in pytest_args:
        if word == "--":
            return None
        if word.startswith("--"):
            found = ACROSS.get(word.split("=", 1)[0])
            if found:
                return found
        elif word.startswith("-") and len(word) > 1:
            for letter in word[1:]:
                if letter in SHORT:
                    return SHORT[letter]
                if letter in TAKES_VALUE:
                    break
    return None


def cores() -> int:
    return len(os.sched_getaffinity(0))


@dataclass(frozen=True)
class Split:
    """An audit to split: its bundles in blocks, where its reports go, and its start."""

    blocks: tuple[tuple[Path, ...], ...]
    at_once: int  # children running at the same time
    outputs: Outputs
    not_audited: tuple[str, ...]
    started: object  # datetime


def blocks(items: list, count: int) -> list[list]:
    """items in count contiguous blocks, in their order, sizes differing by one at most."""
    size, extra = divmod(len(items), count)
    parts, start = [], 0
    for k in range(count):
        end = start + size + (k < extra)
        parts.append(items[start:end])
        start = end
    return parts


def plan_split(args) -> tuple[Split | None, str | None]:
    """The split of `virtnat audit`'s args (None: one process), or the usage error of a split asked
    for (--shards=N) where there can be none."""
    from .state import _inputs, _outputs, _targets, utc_now

    option = lambda name: getattr(args, name, None)  # noqa: E731
    asked = option("shards")
    if asked == 1:
        return None, None
    if not option("facts") or option("hosts") or option("ansible_inventory"):
        why = "only an audit of bundles (--facts) is split"
    else:
        why = across(args.pytest_args) or ("-n" if option("workers") else None)
        why = why and f"not with {why}"
    if why:
        return None, f"--shards={asked}: {why}" if asked else None
    started = utc_now()
    profile, _waivers, problem = _inputs(option)
    targets, not_audited, problem = ((), (), problem) if problem else _targets(option, profile)
    outputs, paths_problem = _outputs(option, targets, started) if targets else (None, None)
    count = min(asked or (cores() if len(targets) >= SPLIT_FROM else 1), len(targets))
    files = [str(target.path) for target in targets]
    if problem or paths_problem or count <= 1 or any("," in f for f in files):
        return None, None  # the audit in one process says what is wrong, as always
    count = max(count, -(-sum(len(f) + 1 for f in files) // FACTS_CHARS), -(-len(files) // BLOCK_HOSTS))
    return Split(tuple(tuple(block) for block in blocks(files, count)), min(asked or cores(), count), outputs,
                 tuple(not_audited), started), None


def _child(args, block: tuple, part: Path, stats: Path | None) -> list[str]:
    """The command of the child audit of one block: this audit's own options and pytest's
    arguments, its part in place of the reports."""
    from .cli import pytest_args
    from .state import ALONE

    mine = {name: value for name, value in vars(args).items()
            if name not in (*ALONE, "prometheus_detail", "stats_json", "shards")}  # the merge's, its own, this command's
    mine.update(facts=",".join(block), part=str(part), **({"stats_json": str(stats)} if stats else {}))
    return [sys.executable, "-B", "-m", "virtnat.split", *pytest_args(type(args)(**mine))]


def run_split(args, split: Split) -> int | None:
    """The audit, split: the exit code, with every report written; None when a child failed (then
    nothing is written, and the audit is to run in one process)."""
    from .report.merge import MergeError, merge, read_input
    from .state import utc_now

    where = split.outputs.json.parent if split.outputs.json else None
    print(f"virtnat: {sum(map(len, split.blocks))} hosts in {len(split.blocks)} audits, {split.at_once} at a time", flush=True)
    with tempfile.TemporaryDirectory(prefix=".virtnat-split.", dir=where) as tmp:
        parts = [Path(tmp, f"{k}.json") for k in range(len(split.blocks))]
        stats = [Path(tmp, f"{k}.stats.json") if getattr(args, "stats_json", None) else None for k in range(len(parts))]
        failed = _run_children([_child(args, block, part, stat) for block, part, stat in zip(split.blocks, parts, stats)],
                               split.at_once, Path(tmp))
        try:
            if failed is not None:
                raise MergeError(failed)
            merged = merge([(str(part), read_input(str(part))) for part in parts])
        except MergeError as exc:
            print(f"virtnat: a split audit's process failed ({exc}); the audit runs in this process", file=sys.stderr)
            return None
        document = {**merged.document, "started": split.started.isoformat(), "finished": utc_now().isoformat()}
        if split.not_audited:
            document["not_audited"] = list(split.not_audited)
        if stats[0]:
            _write_stats(Path(args.stats_json), [json.loads(s.read_text()) for s in stats])
    return _finish(document, merged.evidence, split, getattr(args, "fail_on", None) or "low")


def _run_children(commands: list[list[str]], at_once: int, tmp: Path) -> str | None:
    """Run the commands, at most at_once at a time; None when each exited 0 or 1 (an audit's
    codes), else what the first that did not said. An interrupt (SIGINT) kills every child, then
    is raised: it is held while a child starts, so that none is left behind unknown."""
    waiting, running, failed, interrupted = list(enumerate(commands)), {}, None, []
    held = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True)) if held else None
    try:
        while (waiting or running) and not interrupted:
            while waiting and len(running) < at_once and failed is None:
                k, command = waiting.pop(0)
                with open(tmp / f"{k}.err", "wb") as err:
                    running[k] = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            if not running:
                break
            for k, child in list(running.items()):
                if child.poll() is not None:
                    del running[k]
                    if child.returncode not in (0, 1) and failed is None:
                        said = (tmp / f"{k}.err").read_text(errors="replace").strip().splitlines()
                        how = f"killed by signal {-child.returncode}" if child.returncode < 0 else f"exit {child.returncode}"
                        failed = how + (f": {said[-1]}" if said else "")
            time.sleep(0.02)
    finally:
        if held:
            signal.signal(signal.SIGINT, previous)
        for child in running.values():
            child.kill()
            child.wait()
    if interrupted:
        raise KeyboardInterrupt
    return failed


def _write_stats(path: Path, each: list[dict]) -> None:
    """The children's --stats-json as one: their counts summed, their hosts together."""
    from .report.json_report import write_json

    write_json(path, {"spawned_processes": sum(s["spawned_processes"] for s in each),
                      "collection_wall_seconds": max((s["collection_wall_seconds"] or 0) for s in each),
                      "check_processes": len(each), "hosts": {h: v for s in each for h, v in s["hosts"].items()}})


def _finish(document: dict, evidence: dict, split: Split, fail_on: str) -> int:
    """Every report written, the summary on the terminal, the exit code: as one audit's."""
    from _pytest._io import TerminalWriter

    from .report.finish import write_reports
    from .report.merge import fails
    from .report.results import CheckResult
    from .report.terminal import write_summary

    written = write_reports(document, evidence, split.outputs)
    by_host = {host["host"]: [CheckResult(host=host["host"], **check) for check in host["checks"]] for host in document["hosts"]}
    write_summary(_Terminal(TerminalWriter()), None, by_host, written, split.not_audited)
    return 1 if written.problems or fails(document, fail_on) else 0


class _Terminal:
    """pytest's terminal writer as the summary writes to pytest's terminal reporter."""

    def __init__(self, writer):
        self.writer = writer

    def write_line(self, line: str, **markup) -> None:
        self.writer.line(line, **markup)

    def write_sep(self, sep: str, title: str) -> None:
        self.writer.sep(sep, title)


def child_main(argv: list[str]) -> int:
    """A child audit (`python -m virtnat.split PYTEST-ARGS`): pytest with virtnat's arguments, as
    `virtnat audit` runs it."""
    import pytest

    return int(pytest.main(argv))


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
