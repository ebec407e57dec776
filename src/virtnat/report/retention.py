"""Retention: only the newest N runs' reports stay in the report directory (`--keep N`)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

# The plugin names its reports <host>-<UTC time>.<suffix>; `latest.*` copies never match.
RUN_FILE = re.compile(r"^(?P<stem>.+-(?P<time>\d{8}T\d{6}Z))\.(?:html|json|xml)$")
RUN_FOLDER = re.compile(r"^(?P<stem>.+-(?P<time>\d{8}T\d{6}Z))$")  # a fleet's hosts' pages (page_fleet.py)


def _pages(path: Path) -> bool:
    """Whether path is a folder (not a link to one) of HTML files only, as page_fleet writes."""
    if path.is_symlink() or not path.is_dir():
        return False
    return all(p.suffix == ".html" and p.is_file() and not p.is_symlink() for p in path.iterdir())


def prune_reports(report_dir, keep: int) -> list[Path]:
    """Delete timestamped reports so that only the newest `keep` runs remain; return what went.

    A run is the files sharing one stem `<host>-<YYYYmmddTHHMMSSZ>` (.html, .json, .xml) and
    the folder of its hosts' pages named by the stem alone (a fleet's), ordered by the time in
    the name, not by mtime, which copying or restoring changes. `latest.*` and any other file
    are left alone, and so is a folder holding more than HTML files (or a link to one).
    """
    runs: dict[str, tuple[str, list[Path]]] = {}
    for path in Path(report_dir).iterdir():
        match = RUN_FILE.match(path.name) if path.is_file() else RUN_FOLDER.match(path.name) if _pages(path) else None
        if match:
            runs.setdefault(match["stem"], (match["time"], []))[1].append(path)
    ordered = sorted(runs.items(), key=lambda item: (item[1][0], item[0]), reverse=True)
    removed = []
    for _stem, (_time, paths) in ordered[keep:]:
        for path in sorted(paths):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed
