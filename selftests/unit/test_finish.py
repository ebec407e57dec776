"""The one finish of a run: every report written from the document in memory, the latest copies,
the metrics and the retention; a report that cannot be written is a line, and the rest are written."""
import json
import xml.etree.ElementTree as ET
from pathlib import Path


from virtnat.report.finish import Outputs, write_reports

DOCUMENT = {"tool": "virtnat", "version": "0", "started": "2026-11-28T10:00:00+00:00", "finished": "2026-11-28T10:00:02+00:00",
            "profile": {"network": "default"}, "hosts": [{"host": "hv1", "summary": {"passed": 0, "failed": 1, "skipped": 0, "error": 0, "waived": 0},
                                                          "checks": [{"id": "NET-02", "title": "t", "impact": "critical", "subject": None,
                                                                      "outcome": "failed", "message": "inactive", "remediation": "virsh net-start default"}]}]}


def test_json_junit_latest_and_metrics_from_one_document(tmp_path):
    out = Outputs(json=tmp_path / "hv1-20261128T100000Z.json", junit=tmp_path / "hv1-20261128T100000Z.xml",
                  latest_json=tmp_path / "latest.json", prometheus=tmp_path / "prom" / "virtnat.prom")
    written = write_reports(DOCUMENT, {}, out)
    assert written.problems == []
    assert written.reports == [f"JSON {out.json}", f"JUnit {out.junit}", f"Prometheus {out.prometheus}"]
    assert json.loads(out.json.read_text()) == DOCUMENT
    assert (tmp_path / "latest.json").read_text() == out.json.read_text()
    assert ET.parse(out.junit).getroot().find(".//failure").get("message") == "inactive"
    assert 'virtnat_check_passed{host="hv1",check="NET-02",subject=""} 0' in out.prometheus.read_text()


def test_the_detailed_metrics_hold_the_checks_that_passed_too(tmp_path):
    passed = {"id": "NET-01", "title": "t", "impact": "high", "subject": None, "outcome": "passed", "message": "",
              "remediation": "virsh net-define default.xml"}
    document = {**DOCUMENT, "hosts": [{**DOCUMENT["hosts"][0], "checks": [*DOCUMENT["hosts"][0]["checks"], passed]}]}
    series = 'virtnat_check_passed{host="hv1",check="NET-01",subject=""} 1'
    for detail in (False, True):
        out = Outputs(prometheus=tmp_path / f"{detail}.prom", prometheus_detail=detail)
        assert write_reports(document, {}, out).problems == []
        assert (series in out.prometheus.read_text()) == detail


def test_no_path_no_report(tmp_path):
    written = write_reports(DOCUMENT, {}, Outputs(latest_json=tmp_path / "latest.json"))
    assert (written.reports, written.problems, list(tmp_path.iterdir())) == ([], [], [])


def test_a_report_that_cannot_be_written_is_one_line_and_the_others_are_written(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    out = Outputs(json=blocker / "a.json", junit=tmp_path / "a.xml", latest_json=tmp_path / "latest.json",
                  prometheus=blocker / "virtnat.prom")
    written = write_reports(DOCUMENT, {}, out)
    assert written.problems == [f"cannot write {blocker / 'a.json'}: File exists", f"cannot write {blocker / 'virtnat.prom'}: File exists"]
    assert written.reports == [f"JUnit {tmp_path / 'a.xml'}"]
    assert not (tmp_path / "latest.json").exists()  # no copy of a JSON that was not written


def test_a_report_that_cannot_be_written_takes_the_earlier_runs_latest_copy_with_it(tmp_path):
    """A host name no file system takes, a full disk: latest.* must not go on showing the
    previous run (which may have passed) as if it were this one."""
    (tmp_path / "latest.json").write_text('{"earlier": "run"}')
    (tmp_path / "latest.html").write_text("<p>earlier run: all passed</p>")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    out = Outputs(json=blocker / "a.json", html=blocker / "a.html", junit=tmp_path / "a.xml",
                  latest_json=tmp_path / "latest.json", latest_html=tmp_path / "latest.html")
    written = write_reports(DOCUMENT, {}, out)
    assert written.problems == [f"cannot write {blocker / 'a.json'}: File exists", f"cannot write {blocker / 'a.html'}: File exists",
                                f"removed {tmp_path / 'latest.json'}: it showed an earlier run",
                                f"removed {tmp_path / 'latest.html'}: it showed an earlier run"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xml", "not-a-dir"]


def test_an_earlier_latest_copy_that_cannot_be_removed_is_said(tmp_path, monkeypatch):
    (tmp_path / "latest.json").write_text("{}")
    monkeypatch.setattr(Path, "unlink", lambda self, *a, **k: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    written = write_reports(DOCUMENT, {}, Outputs(json=tmp_path / "latest.json" / "a.json", latest_json=tmp_path / "latest.json"))
    assert written.problems[-1] == f"cannot remove {tmp_path / 'latest.json'} (an earlier run's): Permission denied"


def test_a_latest_copy_that_cannot_be_written_is_a_problem_not_a_report(tmp_path):
    (tmp_path / "latest.json").mkdir()
    written = write_reports(DOCUMENT, {}, Outputs(json=tmp_path / "a.json", latest_json=tmp_path / "latest.json"))
    assert written.reports == [f"JSON {tmp_path / 'a.json'}"]
    assert [p.split(":")[0] for p in written.problems] == [f"cannot write {tmp_path / 'latest.json'}"]


def test_retention_runs_after_this_runs_reports_are_written(tmp_path):
    for day in (25, 26, 27):
        (tmp_path / f"hv1-202611{day}T010000Z.json").write_text("{}")
    out = Outputs(json=tmp_path / "hv1-20261128T010000Z.json", keep=2, prune_dir=tmp_path)
    assert write_reports(DOCUMENT, {}, out).problems == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hv1-20261127T010000Z.json", "hv1-20261128T010000Z.json"]


def test_retention_of_a_directory_that_is_gone_or_cannot_be_pruned(tmp_path, monkeypatch):
    assert write_reports(DOCUMENT, {}, Outputs(keep=1, prune_dir=tmp_path / "never-made")).problems == []

    def refused(directory, keep):
        raise PermissionError(13, "Permission denied")  # root deletes anyway: the refusal is staged

    monkeypatch.setattr("virtnat.report.finish.prune_reports", refused)
    written = write_reports(DOCUMENT, {}, Outputs(json=tmp_path / "a.json", keep=1, prune_dir=tmp_path))
    assert (written.reports, written.problems) == ([f"JSON {tmp_path / 'a.json'}"], [f"cannot prune {tmp_path}: Permission denied"])


def test_a_report_that_cannot_be_made_is_one_line_and_the_others_are_written(tmp_path):
    document = {**DOCUMENT, "hosts": [{"host": "hv1", "checks": ["not a check"]}]}  # nothing virtnat writes
    written = write_reports(document, {}, Outputs(json=tmp_path / "a.json", html=tmp_path / "a.html",
                                                  latest_html=tmp_path / "latest.html"))
    assert written.reports == [f"JSON {tmp_path / 'a.json'}"]
    assert written.problems == [f"cannot write {tmp_path / 'a.html'}: AttributeError: 'str' object has no attribute 'get'"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]  # no page, half a page or copy of one


def test_the_page_shows_the_evidence_it_is_given_and_its_latest_copy_is_not_listed(tmp_path):
    evidence = {"hosts": {"hv1": {"pieces": {"libvirt": "libvirt 9.0.0 · default inactive"}, "facts": {},
                                  "checks": {"NET-02": {"text": "net-info: Active: no", "facts": ["libvirt"]}}}}}
    out = Outputs(html=tmp_path / "a.html", latest_html=tmp_path / "latest.html")
    written = write_reports(DOCUMENT, evidence, out)
    page = out.html.read_text()
    assert "net-info: Active: no" in page and "libvirt 9.0.0 · default inactive" in page
    assert (tmp_path / "latest.html").read_text() == page
    assert (written.reports, written.problems) == ([f"HTML {out.html}"], [])


def _everything(tmp_path):
    return Outputs(json=tmp_path / "a.json", html=tmp_path / "a.html", junit=tmp_path / "a.xml", latest_json=tmp_path / "latest.json",
                   latest_html=tmp_path / "latest.html", prometheus=tmp_path / "virtnat.prom")


EVIDENCE = {"hosts": {"hv1": {"pieces": {"libvirt": "libvirt 9.0.0 · default inactive"}, "facts": {}, "checks": {}}}}


def test_a_report_that_cannot_be_written_leaves_the_others_in_their_order(tmp_path):
    folder = tmp_path / "my reports"  # a space in the paths the lines name
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    out = Outputs(json=blocker / "a.json", html=folder / "a.html", junit=folder / "a.xml", prometheus=folder / "virtnat.prom")
    written = write_reports(DOCUMENT, EVIDENCE, out)
    assert written.problems == [f"cannot write {blocker / 'a.json'}: File exists"]
    assert written.reports == [f"HTML {out.html}", f"JUnit {out.junit}", f"Prometheus {out.prometheus}"]
