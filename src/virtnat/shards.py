"""An audit of many bundles on every core: once the checks are collected, the hosts are split into
contiguous blocks, one per process; the run's own process checks the first block and forks one
process per other block. Each of those runs its hosts' checks as pytest would, with nothing on
the terminal, and hands back what pytest reported (and its hosts' evidence and stats); the run's
process then reports it as its own, in order, so that the terminal, every report and the exit
status are those of one run.

Why: pytest runs one check at a time, at about half a millisecond each before the check does
anything. A 1000-host audit is 36,000 checks: 20 s of one core, with the other core all but idle.

Only bundles are split (no connection, no thread, nothing but files to read): libvirt's facts of
every host are read first (pytest needs each host's guests to collect the VM checks), the rest
by each process for its own hosts. A process that dies or fails leaves its checks to the run's
process, which runs them again itself: a split audit never loses a check."""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import asdict

from .collectors import Stats
from .evidence import host_evidence
from .forked import Forked
from .targets import BundleTarget

# Below this many hosts one process is about as fast (a fork and the hand-back cost ~0.1 s).
SHARD_FROM = 16


def shard_count(hosts: int, cores: int, asked: int | None) -> int:
    """How many processes share the checks: as many as asked (at most one per host), else one
    per core from SHARD_FROM hosts on."""
    if asked is not None:
        return max(1, min(asked, hosts))
    return max(1, min(cores, hosts)) if hosts >= SHARD_FROM else 1


def blocks(targets: list, count: int) -> list[list]:
    """The targets in count contiguous blocks, in their order, sizes differing by one at most."""
    size, extra = divmod(len(targets), count)
    parts, start = [], 0
    for k in range(count):
        end = start + size + (1 if k < extra else 0)
        parts.append(targets[start:end])
        start = end
    return parts


def why_not(config, targets: list) -> str | None:
    """Why this run cannot be split (None: it can): what pytest does across checks that a split
    would change, or hosts that are not bundles."""
    option = config.option
    if not targets or not all(isinstance(t, BundleTarget) for t in targets):
        return "only an audit of bundles (--facts) is split"
    if threading.active_count() > 1:  # a fork copies one thread: a lock another one holds stays held
        return "this process runs other threads (pytest started from a program that has them)"
    for name, why in (("numprocesses", "-n"), ("collectonly", "--collect-only"), ("maxfail", "--maxfail or -x"),
                      ("usepdb", "--pdb"), ("setuponly", "--setup-only"), ("setupplan", "--setup-plan"),
                      ("stepwise", "--stepwise")):
        if getattr(option, name, None):
            return f"not with {why}"
    return None


def cores() -> int:
    return len(os.sched_getaffinity(0))


# -- running ---------------------------------------------------------------------------------------

def run_items(session, items: list) -> None:
    """pytest's own loop over these items (its runtestloop, for a part of them)."""
    hook = session.config.hook
    for i, item in enumerate(items):
        hook.pytest_runtest_protocol(item=item, nextitem=items[i + 1] if i + 1 < len(items) else None)
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)


def items_by_block(items: list, parts: list[list]) -> list[list]:
    """Each block's items, in pytest's order (an item without a host goes to the first block)."""
    block_of = {target.name: k for k, part in enumerate(parts) for target in part}
    found: list[list] = [[] for _ in parts]
    for item in items:
        target = item.callspec.params.get("target") if hasattr(item, "callspec") else None
        found[block_of.get(getattr(target, "name", None), 0)].append(item)
    return found


def every_phase(config) -> bool:
    """Whether pytest's own --junitxml or --html report is written: they need each check's passed
    setup and teardown reports, which nothing else reads (the terminal shows none, virtnat's
    results are decided by the other phases)."""
    return bool(getattr(config.option, "xmlpath", None) or getattr(config.option, "htmlpath", None))


class Shipper:
    """In a forked process: what pytest reports, kept to be handed back, in order."""

    def __init__(self, config):
        self.config = config
        self.events: list[tuple] = []
        self.every_phase = every_phase(config)

    def pytest_runtest_logstart(self, nodeid, location):
        self.events.append(("start", nodeid, location))

    def pytest_runtest_logreport(self, report):
        if report.passed and report.when != "call" and not self.every_phase:
            return
        self.events.append(("report", self.config.hook.pytest_report_to_serializable(config=self.config, report=report)))

    def pytest_runtest_logfinish(self, nodeid, location):
        self.events.append(("finish", nodeid, location))


def _check_block(session, profile, part: list, items: list) -> dict:
    """In a forked process: its hosts' checks, as pytest reports them, their evidence and stats."""
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)  # the run's process shows these checks' progress as it reports them
    os.close(quiet)
    manager = session.config.pluginmanager
    for name in ("terminalreporter", "virtnat-recorder"):  # the run's process does both for them
        plugin = manager.get_plugin(name)
        if plugin is not None:
            manager.unregister(plugin)
    shipper = Shipper(session.config)
    manager.register(shipper, "virtnat-shipper")
    run_items(session, items)
    return {"events": shipper.events,
            "evidence": {t.name: host_evidence(t.facts.collected(), profile, {}) for t in part},
            "stats": {t.name: asdict(t.stats) for t in part}}


def _replay(config, events: list[tuple]) -> None:
    hook = config.hook
    for event in events:
        if event[0] == "report":
            hook.pytest_runtest_logreport(report=hook.pytest_report_from_serializable(config=config, data=event[1]))
        elif event[0] == "start":
            hook.pytest_runtest_logstart(nodeid=event[1], location=event[2])
        else:
            hook.pytest_runtest_logfinish(nodeid=event[1], location=event[2])


def hosts_line(part: list) -> str:
    """A block of hosts as a line names it: hv0001, or hv0002..hv0005."""
    return f"{part[0].name}..{part[-1].name}" if len(part) > 1 else part[0].name


def _say(config, line: str) -> None:
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.ensure_newline()
        terminal.write_line(line)
    else:
        print(line, file=sys.stderr)


def run_split(session, audit, count: int) -> None:
    """The checks of session.items, their hosts split among count processes (this one included);
    audit: the run (state.Audit), whose record takes the evidence the other processes made."""
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        raise session.Interrupted(f"{session.testsfailed} error{'s' if session.testsfailed != 1 else ''} during collection")
    audit.wait_for_facts()  # libvirt's facts are in, and no pool or thread is left to fork with
    if threading.active_count() > 1:  # a thread came since the plan: not split after all
        run_items(session, session.items)
        return
    parts = blocks(audit.plan.targets, count)
    items = items_by_block(session.items, parts)
    children = [Forked(lambda part=part, block=block: _check_block(session, audit.plan.profile, part, block))
                for part, block in zip(parts[1:], items[1:])]
    try:
        run_items(session, items[0])
        for part, block, child in zip(parts[1:], items[1:], children):
            payload, what = child.result()
            if payload is None:
                _say(session.config, f"virtnat: the process checking hosts {hosts_line(part)} {what}; their checks run here again")
                run_items(session, block)
                continue
            _replay(session.config, payload["events"])
            audit.record.evidence_from_elsewhere(payload["evidence"])
            for target in part:
                target.stats = Stats(**payload["stats"][target.name])
    finally:
        for child in children:  # interrupted: the others stop too
            child.kill()
