"""From pytest's phase reports to one result per check and host, the JSON document and the
terminal summary."""
from types import SimpleNamespace

import pytest

from virtnat import __version__
from virtnat.report.json_report import audit_document
from virtnat.report.results import CheckResult, Results, one_line, phase_outcome
from virtnat.report.finish import Written
from virtnat.report.terminal import write_summary


def result(id_, outcome="passed", host="hv1", subject=None, message="", remediation="fix it"):
    return CheckResult(host=host, id=id_, title=f"title of {id_}", impact="high", subject=subject, outcome=outcome,
                       message=message, remediation=remediation)


def test_a_checks_public_shape_leaves_the_host_to_its_entry():
    assert result("NET-07", "failed", subject="g:vnet0", message="DOWN").public() == {
        "id": "NET-07", "title": "title of NET-07", "impact": "high", "subject": "g:vnet0", "outcome": "failed",
        "message": "DOWN", "remediation": "fix it"}


def test_results_are_grouped_by_host_in_run_order_and_sorted_by_id():
    results = Results()
    for n, (id_, host, subject) in enumerate([("VM-02", "hv2", "b"), ("NET-10", "hv1", None), ("VM-02", "hv1", "b"),
                                              ("NET-9", "hv1", None), ("PATH-01", "hv1", None), ("VM-02", "hv1", "a"),
                                              ("HOST-07", "hv1", None), ("X-1", "hv1", None), ("NET-x", "hv1", None),
                                              ("ABC-1", "hv1", None), ("NET-1", "hv1", None), ("VM-02", "hv1", "A")]):
        results.record(f"t{n}", result(id_, host=host, subject=subject))
    grouped = results.by_host()
    assert list(grouped) == ["hv2", "hv1"]
    assert [(c.id, c.subject) for c in grouped["hv1"]] == [
        ("HOST-07", None), ("NET-x", None), ("NET-1", None), ("NET-9", None), ("NET-10", None), ("PATH-01", None),
        ("VM-02", "A"), ("VM-02", "a"), ("VM-02", "b"), ("ABC-1", None), ("X-1", None)]


@pytest.mark.parametrize("first, then, kept", [
    ("passed", "error", "error"),    # a teardown error overrides a pass
    ("failed", "error", "failed"),   # but never a failure
    ("skipped", "error", "skipped"),
    ("error", "passed", "error"),
])
def test_a_later_phase_overrides_only_a_pass(first, then, kept):
    results = Results()
    results.record("t", result("NET-07", first))
    results.record("t", result("NET-07", then))
    assert [c.outcome for c in results.by_host()["hv1"]] == [kept]


def test_summary_counts_every_outcome():
    checks = [result("A-1", "passed"), result("A-2", "failed"), result("A-3", "failed"), result("A-4", "error")]
    assert Results.summary(checks) == {"passed": 1, "failed": 2, "skipped": 0, "error": 1, "waived": 0}


def excinfo(exc):
    try:
        raise exc
    except BaseException:
        return pytest.ExceptionInfo.from_current()


@pytest.mark.parametrize("exc, line", [
    (AssertionError("virbr0 is DOWN\nassert False\n + where ..."), "virbr0 is DOWN"),
    (AssertionError("\n  \n  first real line  \nsecond"), "first real line"),
    (AssertionError(""), "AssertionError"),
    (ValueError("bad value\nmore"), "ValueError: bad value"),
    (KeyError("net-info"), "KeyError: 'net-info'"),
    (pytest.skip.Exception("no guest runs\nat all"), "no guest runs"),
    (pytest.fail.Exception("   "), "Failed"),
])
def test_one_line_of_an_exception(exc, line):
    assert one_line(excinfo(exc)) == line


def test_one_line_of_nothing_is_empty():
    assert one_line(None) == ""


@pytest.mark.parametrize("when, skipped, failed, outcome", [
    ("setup", False, False, None), ("setup", False, True, "error"), ("setup", True, False, "skipped"),
    ("call", False, False, "passed"), ("call", False, True, "failed"), ("call", True, False, "skipped"),
    ("teardown", False, False, None), ("teardown", False, True, "error"), ("teardown", True, False, "skipped"),
])
def test_the_outcome_each_phase_decides(when, skipped, failed, outcome):
    assert phase_outcome(when, SimpleNamespace(skipped=skipped, failed=failed)) == outcome


def test_the_audit_document():
    results = Results()
    results.record("a", result("NET-07", "failed", message="DOWN"))
    results.record("b", result("HOST-01", host="hv2"))
    doc = audit_document(results, {"network": "default"}, "2026-11-28T10:00:00+00:00", "2026-11-28T10:00:02+00:00")
    assert doc == {"tool": "virtnat", "version": __version__, "started": "2026-11-28T10:00:00+00:00",
                   "finished": "2026-11-28T10:00:02+00:00", "profile": {"network": "default"}, "hosts": [
                       {"host": "hv1", "summary": {"passed": 0, "failed": 1, "skipped": 0, "error": 0, "waived": 0},
                        "checks": [result("NET-07", "failed", message="DOWN").public()]},
                       {"host": "hv2", "summary": {"passed": 1, "failed": 0, "skipped": 0, "error": 0, "waived": 0},
                        "checks": [result("HOST-01").public()]}]}


def test_the_audit_document_of_a_usage_error():
    doc = audit_document(Results(), None, "s", "f", error="--hosts 'x': no host")
    assert (doc["hosts"], doc["profile"], doc["error"]) == ([], None, "--hosts 'x': no host")
    assert "error" not in audit_document(Results(), None, "s", "f", error="")


def test_the_audit_document_names_the_files_of_a_facts_directory_left_out():
    left_out = ("--facts: /f/hv2.facts is not audited: a symbolic link to nothing",)
    assert audit_document(Results(), None, "s", "f", None, left_out)["not_audited"] == list(left_out)
    assert "not_audited" not in audit_document(Results(), None, "s", "f")


class Terminal:
    def __init__(self):
        self.lines = []

    def write_line(self, line, **markup):
        self.lines.append((line, markup))

    def write_sep(self, sep, title):
        self.lines.append((f"{sep * 3} {title}", {}))


WRITTEN = Written(reports=["JSON r/a.json", "HTML r/a.html", "JUnit r/a.xml"])


def test_the_terminal_summary_says_each_problem_and_its_fix_and_one_cause_once():
    results = Results()
    for n, r in enumerate([result("HOST-01"), result("NET-07", "failed", message="virbr0 is DOWN", remediation="ip link set virbr0 up"),
                           result("NET-08", "failed", message="no address", remediation=""),
                           result("VM-01", "error", subject="g:vnet0", message="libvirt unreachable"),
                           result("VM-02", "error", subject="g:vnet0", message="libvirt unreachable"),
                           result("NET-03", "skipped", message="not on this host"),
                           result("NET-05", "passed", message="but note this")]):
        results.record(str(n), r)
    tr = Terminal()
    write_summary(tr, None, results.by_host(), WRITTEN)
    assert [line for line, _ in tr.lines] == [
        "--- virtnat: hv1",
        "NET-03  SKIPPED title of NET-03: not on this host",
        "NET-05  PASSED  title of NET-05: but note this",
        "NET-07  FAILED  title of NET-07: virbr0 is DOWN",
        "                fix: ip link set virbr0 up",
        "NET-08  FAILED  title of NET-08: no address",
        "ERROR   VM-01[g:vnet0], VM-02[g:vnet0]: not checked: libvirt unreachable",
        "2 passed, 2 failed, 1 skipped, 2 error",
        "virtnat: JSON r/a.json  HTML r/a.html  JUnit r/a.xml",
    ]


def test_the_terminal_summary_says_a_waivers_reason_and_counts_zero_outcomes_but_not_zero_waived():
    import dataclasses
    results = Results()
    results.record("0", dataclasses.replace(result("HOST-03", "waived", message="firewalld disabled"),
                                            waiver={"reason": "CHG-1", "expires": "2026-12-31"}))
    results.record("1", dataclasses.replace(result("NET-03", "passed"), waiver={"reason": "stale", "expires": "2026-12-31"}))
    tr = Terminal()
    write_summary(tr, None, results.by_host(), WRITTEN)
    assert [line for line, _ in tr.lines][1:4] == [
        "HOST-03 WAIVED  title of HOST-03: firewalld disabled",
        "                waived until 2026-12-31: CHG-1",
        "1 passed, 0 failed, 0 skipped, 0 error, 1 waived",
    ]
    tr = Terminal()
    write_summary(tr, None, {"hv1": [result("NET-03")]}, WRITTEN)
    assert tr.lines[1][0] == "1 passed, 0 failed, 0 skipped, 0 error"


@pytest.mark.parametrize("written, last", [
    (Written(reports=["JSON r/a.json"]), ["virtnat: JSON r/a.json"]),
    (Written(problems=["cannot write r/a.prom: Is a directory"]),
     ["virtnat: cannot write r/a.prom: Is a directory", "virtnat: no report written"]),
    (Written(), ["virtnat: no report written"]),
])
def test_the_terminal_summary_names_the_reports_written_and_the_ones_that_could_not_be(written, last):
    tr = Terminal()
    write_summary(tr, "--report-dir=/x: not writable", {}, written)
    assert tr.lines[0] == ("ERROR: --report-dir=/x: not writable", {"red": True, "bold": True})
    assert [line for line, _ in tr.lines[1:]] == last
    assert all(markup == {"red": True} for line, markup in tr.lines if line.startswith("virtnat: cannot"))


def test_the_json_report_is_written_whole_indented_and_private(tmp_path):
    import json
    import os

    from virtnat.report.json_report import write_json
    path = tmp_path / "reports/hv1.json"
    write_json(path, {"tool": "virtnat", "hosts": [], "note": "café"})
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps({"tool": "virtnat", "hosts": [], "note": "café"}, indent=2) + "\n"
    assert '\n  "hosts": []' in text and os.stat(path).st_mode & 0o077 == 0o040 & ~_umask()


def _umask() -> int:
    import os
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_an_id_number_of_100_digits_or_more_counts_as_none():
    from virtnat.report.results import id_order
    assert id_order("SITE-" + "9" * 99)[2] == int("9" * 99) and id_order("SITE-" + "9" * 100)[2] == 0
