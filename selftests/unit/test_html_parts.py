"""The pieces virtnat adds to pytest-html's report: columns, the hosts table, the evidence."""
import dataclasses
from pathlib import Path
from types import SimpleNamespace

from virtnat.report import html
from virtnat.report.results import CheckResult, Results


def result(id_, outcome, host="hv1", subject=None, message=""):
    return CheckResult(host=host, id=id_, title="t", impact="high", subject=subject, outcome=outcome,
                       message=message, remediation="r")


def test_title_and_header_columns():
    report = SimpleNamespace(title="pytest-html")
    html.pytest_html_report_title(report)
    assert report.title == "virtnat audit"
    cells = ["<th>Result</th>", "<th>Test</th>"]
    html.pytest_html_results_table_header(cells)
    assert cells == ["<th>Result</th>"] + [f'<th class="sortable" data-column-type="{n}">{n.capitalize()}</th>'
                                           for n in html.COLUMNS] + ["<th>Test</th>"]


def test_a_row_escapes_the_test_id_and_fills_each_column():
    report = SimpleNamespace(virtnat={"id": "VM-01", "title": "a <b>", "host": "hv1", "subject": "<img src=x>:vnet0",
                                      "impact": "high", "message": "m & n", "remediation": None},
                             virtnat_evidence="")
    cells = ['<td class="col-result">Failed</td>', '<td class="col-testId">test[<img src=x>]</td>', "<td>1 ms</td>"]
    html.pytest_html_results_table_row(report, cells)
    assert cells == ['<td class="col-result">Failed</td>', '<td class="col-id">VM-01</td>',
                     '<td class="col-title">a &lt;b&gt;</td>', '<td class="col-host">hv1</td>',
                     '<td class="col-subject">&lt;img src=x&gt;:vnet0</td>', '<td class="col-impact">high</td>',
                     '<td class="col-message">m &amp; n</td>', '<td class="col-remediation"></td>',
                     '<td class="col-testId">test[&lt;img src=x&gt;]</td>', "<td>1 ms</td>"]


def test_a_path_verdicts_walk_is_folded_under_its_message():
    report = SimpleNamespace(virtnat={"message": "dropped"}, virtnat_evidence="FORWARD <drop>")
    cells = ["<td>x</td>"]
    html.pytest_html_results_table_row(report, cells)
    assert cells[6] == ('<td class="col-message">dropped<details><summary>evidence</summary>'
                        "<pre>FORWARD &lt;drop&gt;</pre></details></td>")


def test_a_row_of_another_test_gets_empty_columns():
    cells = ['<td class="col-testId">selftest</td>']
    html.pytest_html_results_table_row(SimpleNamespace(), cells)
    assert cells[1:8] == [f'<td class="col-{n}"></td>' for n in html.COLUMNS]


def test_the_hosts_table_says_what_is_not_passing_or_the_one_cause():
    results = Results()
    for n, r in enumerate([result("NET-07", "failed"), result("VM-01", "error", subject="g:vnet0"), result("NET-01", "passed"),
                           result("NET-02", "skipped"),
                           result("HOST-01", "error", host="hv2", message="unreachable"),
                           result("NET-01", "error", host="hv2", message="unreachable"),
                           result("HOST-01", "passed", host="<hv3>"),
                           result("HOST-01", "error", host="hv4", message="a"), result("NET-01", "error", host="hv4", message="b")]):
        results.record(str(n), r)
    assert html.hosts_html(results) == (
        "<h2>Hosts</h2><table><tr><th>Host</th><th>Passed</th><th>Failed</th><th>Skipped</th><th>Error</th>"
        "<th>Not passing</th></tr>"
        "<tr><td>hv1</td><td>1</td><td>1</td><td>1</td><td>1</td><td>NET-07, VM-01[g:vnet0]</td></tr>"
        "<tr><td>hv2</td><td>0</td><td>0</td><td>0</td><td>2</td><td>nothing checked: unreachable</td></tr>"
        "<tr><td>&lt;hv3&gt;</td><td>1</td><td>0</td><td>0</td><td>0</td><td>-</td></tr>"
        "<tr><td>hv4</td><td>0</td><td>0</td><td>0</td><td>2</td><td>HOST-01, NET-01</td></tr></table>")


@dataclasses.dataclass
class Fact:
    name: str
    tags: frozenset


class Target:
    def __init__(self, name, collected):
        self.name, self.facts_started = name, collected is not None
        self.facts = SimpleNamespace(collected=lambda: collected)


def test_evidence_is_each_hosts_facts_as_json():
    collected = {"links": [Fact("virbr0", frozenset({"b", "a", 3}))], "libvirt": OSError("refused"), 3: (2, 1),
                 "path": Path("/etc/x")}
    assert html.evidence_html([Target("<hv1>", collected), Target("hv2", None)]) == (
        "<h2>Host facts (evidence)</h2>\n"
        "<details><summary>&lt;hv1&gt;</summary><pre>{\n"
        '  &quot;links&quot;: [\n    {\n      &quot;name&quot;: &quot;virbr0&quot;,\n'
        '      &quot;tags&quot;: [\n        3,\n        &quot;a&quot;,\n        &quot;b&quot;\n      ]\n    }\n  ],\n'
        '  &quot;libvirt&quot;: &quot;not collected: refused&quot;,\n'
        '  &quot;3&quot;: [\n    2,\n    1\n  ],\n  &quot;path&quot;: &quot;/etc/x&quot;\n}</pre></details>\n'
        "<details><summary>hv2</summary><pre>{}</pre></details>")
