"""The end of a run, in one place: every report written from the audit document in memory and
the evidence behind it, whatever started the run (pytest, `make audit`, `virtnat audit`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .files import file_parts, write_atomic
from .json_report import json_text
from .junit import junit_xml
from .prometheus import write_prometheus
from .retention import prune_reports


@dataclass(frozen=True)
class Outputs:
    """Where one run's reports go; a report whose path is None is not written."""

    json: Path | None = None
    html: Path | None = None
    junit: Path | None = None
    latest_json: Path | None = None  # a copy of the JSON under a name that stays (latest.json)
    latest_html: Path | None = None
    prometheus: Path | None = None
    prometheus_detail: bool = False  # a series per check, not only per check that did not pass
    keep: int | None = None  # afterwards only the newest N runs' reports stay in prune_dir
    prune_dir: Path | None = None
    evidence: bool = False  # the JSON carries the evidence behind the verdicts too: a part for `virtnat merge`


@dataclass
class Written:
    """What the finish wrote ("JSON path"), and what it could not, one line each."""

    reports: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _html(document: dict, evidence: dict, path: Path):
    from .page_fleet import page_with_hosts  # a fleet's hosts' pages are written beside it
    return page_with_hosts(document, evidence, path)


def _write(written: Written, label: str | None, path: Path | None, render, write=write_atomic) -> bool:
    """Render one report and write it (write(path, rendered); the page is written as it is made),
    listed as "label path" (a copy, label None, is not listed); whether it was written."""
    if path is None:
        return False
    try:
        write(path, render())
    except OSError as exc:
        written.problems.append(f"cannot write {path}: {exc.strerror or exc}")
        return False
    except Exception as exc:  # a bug in one report must not cost the others
        written.problems.append(f"cannot write {path}: {type(exc).__name__}: {exc}")
        return False
    if label is not None:
        written.reports.append(f"{label} {path}")
    return True


def _drop_stale(written: Written, latest: Path) -> None:
    """This run's report could not be written: its latest copy, an earlier run's, goes, so that
    nothing shows that run as this one."""
    try:
        latest.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        written.problems.append(f"cannot remove {latest} (an earlier run's): {exc.strerror or exc}")
        return
    written.problems.append(f"removed {latest}: it showed an earlier run")


def write_reports(document: dict, evidence: dict, outputs: Outputs) -> Written:
    """Write every report of `outputs`, then prune old runs; a report that cannot be written is
    a line in the result, never an exception, and the others are still written. No report's
    text is kept: the latest copies are copied from the files (a fleet's page is ~80 MB)."""
    written = Written()
    wrote_json = _write(written, "JSON", outputs.json,
                        lambda: json_text({**document, "evidence": evidence.get("hosts", {})} if outputs.evidence else document))
    wrote_html = _write(written, "HTML", outputs.html, lambda: _html(document, evidence, outputs.html))
    _write(written, "JUnit", outputs.junit, lambda: junit_xml(document))
    _write(written, "Prometheus", outputs.prometheus, lambda: document,
           lambda path, doc: write_prometheus(path, doc, outputs.prometheus_detail))
    for latest, source, wrote in ((outputs.latest_json, outputs.json, wrote_json), (outputs.latest_html, outputs.html, wrote_html)):
        if wrote:  # a copy's problem is said; the copy is not listed among the reports
            _write(written, None, latest, lambda source=source: file_parts(source))
        elif latest is not None and source is not None:
            _drop_stale(written, latest)
    if outputs.keep and outputs.prune_dir is not None and outputs.prune_dir.is_dir():
        try:
            prune_reports(outputs.prune_dir, outputs.keep)
        except OSError as exc:
            written.problems.append(f"cannot prune {outputs.prune_dir}: {exc.strerror or exc}")
    return written
