"""The columns virtnat adds to pytest-html's own report (--html), escaped."""
from types import SimpleNamespace

from virtnat.report import html_columns as html


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
                             virtnat_evidence={"text": "", "facts": ["libvirt"]})
    cells = ['<td class="col-result">Failed</td>', '<td class="col-testId">test[<img src=x>]</td>', "<td>1 ms</td>"]
    html.pytest_html_results_table_row(report, cells)
    assert cells == ['<td class="col-result">Failed</td>', '<td class="col-id">VM-01</td>',
                     '<td class="col-title">a &lt;b&gt;</td>', '<td class="col-host">hv1</td>',
                     '<td class="col-subject">&lt;img src=x&gt;:vnet0</td>', '<td class="col-impact">high</td>',
                     '<td class="col-message">m &amp; n</td>', '<td class="col-remediation"></td>',
                     '<td class="col-testId">test[&lt;img src=x&gt;]</td>', "<td>1 ms</td>"]


def test_a_path_verdicts_walk_is_folded_under_its_message():
    report = SimpleNamespace(virtnat={"message": "dropped"}, virtnat_evidence={"text": "FORWARD <drop>", "facts": ["system"]})
    cells = ["<td>x</td>"]
    html.pytest_html_results_table_row(report, cells)
    assert cells[6] == ('<td class="col-message">dropped<details><summary>evidence</summary>'
                        "<pre>FORWARD &lt;drop&gt;</pre></details></td>")


def test_a_row_of_another_test_gets_empty_columns():
    cells = ['<td class="col-testId">selftest</td>']
    html.pytest_html_results_table_row(SimpleNamespace(), cells)
    assert cells[1:8] == [f'<td class="col-{n}"></td>' for n in html.COLUMNS]
