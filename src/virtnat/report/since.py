"""What changed since the previous run in the report directory, for the fleet's page: the checks
that got worse and better (diff.py's changes, as `virtnat diff` lists them), grouped by check and
change of outcome with their hosts, and the hosts that came or went."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..inputs import Refused, read_regular
from .diff import BAD, JSON_LIMIT, check_document, diff_documents, load_document
from .markup import one_line
from .results import id_order
from .retention import RUN_FILE


@dataclass(frozen=True)
class Moved:
    """Checks whose outcome changed from old to new on the very same hosts."""

    checks: tuple[str, ...]  # by id
    old: str
    new: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class Since:
    label: str  # the previous report, as the page names it
    worse: tuple[Moved, ...] = ()  # a good outcome (or none) become failed or error
    better: tuple[Moved, ...] = ()  # failed or error become anything else
    other: tuple[Moved, ...] = ()  # the rest: passed and skipped, waived, a check new or gone
    hosts_worse: int = 0
    hosts_better: int = 0
    new_hosts: tuple[str, ...] = ()  # in this audit only
    gone_hosts: tuple[str, ...] = ()  # in the previous one only
    problem: str = ""  # why the previous report could not be compared: then nothing else is said


def previous_report(folder: Path, stem: str) -> Path | None:
    """The previous run's JSON in folder: latest.json (while this run's page is written, it is still
    the previous run's copy), else the newest STEM.json by the time in its name that is not stem's."""
    latest = folder / "latest.json"
    if latest.is_file():
        return latest
    found = [(m["time"], p.name) for p in folder.glob("*.json") if (m := RUN_FILE.match(p.name)) and m["stem"] != stem]
    return folder / max(found)[1] if found else None


def _grouped(changes) -> tuple[Moved, ...]:
    """Changes by check and change of outcome, with their hosts; those of the very same hosts and
    change of outcome are one: most hosts first, then by check id."""
    hosts: dict[tuple[str, str, str], dict[str, None]] = {}
    for c in changes:
        hosts.setdefault((c.check, c.old_outcome, c.new_outcome), {})[c.host] = None
    checks: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for (check, old, new), on in hosts.items():
        checks.setdefault((old, new, tuple(on)), []).append(check)
    found = [Moved(tuple(sorted(ids, key=id_order)), old, new, on) for (old, new, on), ids in checks.items()]
    return tuple(sorted(found, key=lambda m: (-len(m.hosts), id_order(m.checks[0]), m.old, m.new, m.hosts)))


def compare(old: dict, new: dict, label: str) -> Since:
    """Since between two audit documents (check_document's problem in either is said instead)."""
    try:
        check_document(old)
    except ValueError as exc:
        return Since(label, problem=f"it is not one this page can compare: {exc}")
    try:
        check_document(new)
    except ValueError as exc:
        return Since(label, problem=f"this audit's results cannot be compared: {exc}")
    before, after = [h["host"] for h in old["hosts"]], [h["host"] for h in new["hosts"]]
    both = set(before) & set(after)
    changes = [c for c in diff_documents(old, new) if c.host in both]
    worse = [c for c in changes if c.worse]
    better = [c for c in changes if not c.worse and c.old_outcome in BAD]
    other = [c for c in changes if not c.worse and c.old_outcome not in BAD]
    return Since(label, _grouped(worse), _grouped(better), _grouped(other), len({c.host for c in worse}),
                 len({c.host for c in better}), tuple(h for h in after if h not in both), tuple(h for h in before if h not in both))


def since_previous(folder: Path, stem: str, document: dict) -> Since | None:
    """Since the previous run's JSON in folder (None when there is none); a report that cannot be
    read is said as Since's problem."""
    path = previous_report(folder, stem)
    if path is None:
        return None
    try:
        old = load_document(read_regular(path, JSON_LIMIT, "a JSON report"))
    except OSError as exc:
        return Since(path.name, problem=f"it cannot be read: {exc.strerror or exc}")
    except (Refused, ValueError) as exc:
        return Since(path.name, problem=f"it cannot be read: {exc}")
    started = one_line(old.get("started"))
    return compare(old, document, path.name + (f", started {started}" if started else ""))
