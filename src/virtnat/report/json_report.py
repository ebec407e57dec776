"""The machine-readable audit result (shape documented in docs/report.md)."""
from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from .files import write_atomic
from .results import Results


def audit_document(results: Results, profile: dict | None, started: str, finished: str, error: str | None = None,
                   not_audited: list[str] = ()) -> dict:
    hosts = [{"host": host, "summary": Results.summary(checks), "checks": [c.public() for c in checks]}
             for host, checks in results.by_host().items()]
    return document_of(hosts, profile, started, finished, error, not_audited)


def document_of(hosts: list[dict], profile: dict | None, started: str | None, finished: str | None, error: str | None = None,
                not_audited: list[str] = (), version: str = __version__) -> dict:
    """The audit document of these host entries (also `virtnat merge`'s, of several audits' entries)."""
    doc = {"tool": "virtnat", "version": version, "started": started, "finished": finished, "profile": profile, "hosts": hosts}
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
