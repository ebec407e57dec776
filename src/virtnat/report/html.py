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


TEST_ID = '<td class="col-testId">'


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report, cells):
    # pytest-html puts the test id in unescaped and its page renders cells as HTML: a guest
    # named <img src=x onerror=...> would run script in the reader's browser.
    for i, cell in enumerate(cells):
        if cell.startswith(TEST_ID) and cell.endswith("</td>"):
            cells[i] = TEST_ID + escape(cell[len(TEST_ID):-len("</td>")]) + "</td>"
    control = getattr(report, "virtnat", None) or {}
    walk = getattr(report, "virtnat_evidence", "")
    for i, name in enumerate(COLUMNS, start=1):
        value = escape(str(control.get(name) or ""))
        if name == "message" and walk:  # the packet walk a PATH verdict rests on, folded
            value += f"<details><summary>evidence</summary><pre>{escape(walk)}</pre></details>"
        cells.insert(i, f'<td class="col-{name}">{value}</td>')


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
    prefix.append(hosts_html(state.results))
    postfix.append(evidence_html(state.targets))


def hosts_html(results) -> str:
    """One line per host: its outcome counts and what failed, before the table of checks."""
    rows = []
    for host, checks in results.by_host().items():
        counts = results.summary(checks)
        bad = ", ".join(c.id + (f"[{c.subject}]" if c.subject else "") for c in checks if c.outcome in ("failed", "error"))
        causes = {c.message for c in checks}
        if checks and counts["error"] == len(checks) and len(causes) == 1:
            bad = f"nothing checked: {causes.pop()}"  # one cause for the whole host, e.g. unreachable
        cells = "".join(f"<td>{counts[k]}</td>" for k in ("passed", "failed", "skipped", "error"))
        rows.append(f"<tr><td>{escape(host)}</td>{cells}<td>{escape(bad) or '-'}</td></tr>")
    head = "<tr><th>Host</th><th>Passed</th><th>Failed</th><th>Skipped</th><th>Error</th><th>Not passing</th></tr>"
    return f"<h2>Hosts</h2><table>{head}{''.join(rows)}</table>"
