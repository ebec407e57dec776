"""The machine-readable audit result (shape documented in docs/report.md)."""
from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from .files import write_atomic
from .results import Results


def audit_document(results: Results, profile: dict | None, started: str, finished: str, error: str | None = None,
                   not_audited: list[str] = ()) -> dict:
    doc = {
        "tool": "virtnat",
        "version": __version__,
        "started": started,
        "finished": finished,
        "profile": profile,
        "hosts": [
            {
                "host": host,
                "summary": Results.summary(checks),
                "checks": [c.public() for c in checks],
            }
            for host, checks in results.by_host().items()
        ],
    }
    if error:
        doc["error"] = error
    if not_audited:  # the files of a facts directory left out, a line each
        doc["not_audited"] = list(not_audited)
    return doc


def json_text(document: dict) -> str:
    return json.dumps(document, indent=2) + "\n"


def write_json(path: Path, document: dict) -> None:
    """Write atomically, so a reader never sees half a report."""
    write_atomic(path, json_text(document))
