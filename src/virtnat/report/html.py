"""pytest-html hooks: the check's id, impact, message and remediation as columns, facts as evidence."""
from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from html import escape

import pytest

COLUMNS = ("id", "title", "host", "subject", "impact", "message", "remediation")


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report):
    report.title = "virtnat audit"


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_header(cells):
    for i, name in enumerate(COLUMNS, start=1):
        cells.insert(i, f'<th class="sortable" data-column-type="{name}">{name.capitalize()}</th>')


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report, cells):
    control = getattr(report, "virtnat", None) or {}
    for i, name in enumerate(COLUMNS, start=1):
        value = control.get(name) or ""
        cells.insert(i, f'<td class="col-{name}">{escape(str(value))}</td>')


def _plain(value):
    if is_dataclass(value):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, Exception):
        return f"not collected: {value}"
    return value


def evidence_html(targets) -> str:
    """Each host's collected facts, as the evidence behind the outcomes."""
    parts = ["<h2>Host facts (evidence)</h2>"]
    for target in targets:
        collected = target.facts.collected() if target.facts_started else {}
        body = json.dumps(_plain(collected), indent=2, default=str)
        parts.append(f"<details><summary>{escape(target.name)}</summary><pre>{escape(body)}</pre></details>")
    return "\n".join(parts)


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix, summary, postfix, session):
    state = getattr(session.config, "_virtnat", None)
    if state is None:
        return
    if state.error:
        prefix.append(f"<p><strong>Audit not run:</strong> {escape(state.error)}</p>")
    prefix.append(f"<p>Profile: {escape(json.dumps(state.profile_dict))}</p>")
    postfix.append(evidence_html(state.targets))
