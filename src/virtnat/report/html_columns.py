"""pytest-html hooks, for its own report when --html asks for one (virtnat writes its own HTML
report in any case): the check's id, impact, message and remediation as columns."""
from __future__ import annotations

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
    walk = (getattr(report, "virtnat_evidence", None) or {}).get("text")
    for i, name in enumerate(COLUMNS, start=1):
        value = escape(str(control.get(name) or ""))
        if name == "message" and walk:  # the packet walk a PATH verdict rests on, folded
            value += f"<details><summary>evidence</summary><pre>{escape(walk)}</pre></details>"
        cells.insert(i, f'<td class="col-{name}">{value}</td>')
