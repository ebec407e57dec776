"""Retention: only the newest N runs' reports stay in the report directory (`--keep N`)."""
from __future__ import annotations

import re
from pathlib import Path

# The plugin names its reports <host>-<UTC time>.<suffix>; `latest.*` copies never match.
RUN_FILE = re.compile(r"^(?P<stem>.+-(?P<time>\d{8}T\d{6}Z))\.(?:html|json|xml)$")


def prune_reports(report_dir, keep: int) -> list[Path]:
    """Delete timestamped reports so that only the newest `keep` runs remain; return what went.

    A run is the files sharing one stem `<host>-<YYYYmmddTHHMMSSZ>` (.html, .json, .xml),
    ordered by the time in the name, not by mtime, which copying or restoring changes.
    `latest.*` and any other file are left alone.
    """
    runs: dict[str, tuple[str, list[Path]]] = {}
    for path in Path(report_dir).iterdir():
        match = RUN_FILE.match(path.name)
        if match and path.is_file():
            runs.setdefault(match["stem"], (match["time"], []))[1].append(path)
    ordered = sorted(runs.items(), key=lambda item: (item[1][0], item[0]), reverse=True)
    removed = []
    for _stem, (_time, paths) in ordered[keep:]:
        for path in sorted(paths):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
