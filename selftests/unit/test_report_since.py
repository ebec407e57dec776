"""What changed since the previous run (report/since.py, page_since.py): the checks that got worse
and better, grouped alike on the same hosts, the hosts that came or went; which earlier report is
the previous run; and the fleet's page saying it, its hosts linked."""
import json
import os

from selftests.unit import report_docs as docs
from selftests.unit.html_tree import parse
from virtnat.report.finish import Outputs, write_reports
from virtnat.report.page import render_html
from virtnat.report.page_since import since_html
from virtnat.report.since import Moved, Since, compare, previous_report, since_previous


def failing(name: str, *ids: str, outcome: str = "failed") -> dict:
    return docs.host(name, {i: {"outcome": outcome, "message": "m"} for i in ids})


def test_worse_better_and_other_changes_are_grouped_alike_on_the_same_hosts():
    old = docs.document(failing("hv1", "NET-07"), failing("hv2", "NET-07", "NET-08"), docs.host("hv3"), docs.host("gone1"))
    new = docs.document(docs.host("hv1"), failing("hv2", "NET-07"), failing("hv3", "NET-06", "NET-07", "NET-08"),
                        docs.host("new1"), docs.host("new2", {"NET-09": {"outcome": "skipped"}}))
    found = compare(old, new, "latest.json")
    assert found == Since(
        "latest.json",
        worse=(Moved(("NET-06", "NET-07", "NET-08"), "passed", "failed", ("hv3",)),),
        better=(Moved(("NET-07",), "failed", "passed", ("hv1",)), Moved(("NET-08",), "failed", "passed", ("hv2",))),
        hosts_worse=1, hosts_better=2, new_hosts=("new1", "new2"), gone_hosts=("gone1",))


def test_other_changes_are_neither_worse_nor_better_and_most_hosts_come_first():
    old = docs.document(*(docs.host(f"hv{i}") for i in range(3)))
    new = docs.document(docs.host("hv0", {"NET-09": {"outcome": "skipped"}}),
                        *(docs.host(f"hv{i}", {"NET-09": {"outcome": "skipped"}, "HOST-03": {"outcome": "error"}}) for i in (1, 2)))
    found = compare(old, new, "x")
    assert found.other == (Moved(("NET-09",), "passed", "skipped", ("hv0", "hv1", "hv2")),)
    assert found.worse == (Moved(("HOST-03",), "passed", "error", ("hv1", "hv2")),) and found.better == ()


def test_a_previous_report_that_is_not_one_is_said_and_nothing_else():
    assert compare({"tool": "other"}, docs.document(docs.host("hv1")), "a.json").problem.startswith(
        "it is not one this page can compare: not a virtnat audit report")
    odd = docs.document({"host": "hv1", "checks": [{"id": "NET-01", "outcome": "mystery"}]})
    assert compare(docs.document(docs.host("hv1")), odd, "a.json").problem.startswith("this audit's results cannot be compared")


def test_the_previous_run_is_latest_json_else_the_newest_other_run(tmp_path):
    assert previous_report(tmp_path, "2-hosts-20261128T100000Z") is None
    for name in ("2-hosts-20261128T100000Z.json", "hv1-20261127T100000Z.json", "hv1-20261126T100000Z.json", "notes.json"):
        (tmp_path / name).write_text("{}")
    assert previous_report(tmp_path, "2-hosts-20261128T100000Z") == tmp_path / "hv1-20261127T100000Z.json"
    (tmp_path / "latest.json").write_text("{}")
    assert previous_report(tmp_path, "2-hosts-20261128T100000Z") == tmp_path / "latest.json"


def test_a_previous_run_that_cannot_be_read_is_one_line(tmp_path):
    doc = docs.document(docs.host("hv1"), docs.host("hv2"))
    assert since_previous(tmp_path, "x", doc) is None
    (tmp_path / "latest.json").write_text("{not json")
    assert since_previous(tmp_path, "x", doc).problem.startswith("it cannot be read: not JSON: ")
    os.mkfifo(tmp_path / "hv1-20261127T100000Z.json")  # never read: it would block
    (tmp_path / "latest.json").unlink()
    (tmp_path / "latest.json").symlink_to(tmp_path / "hv1-20261127T100000Z.json")
    assert since_previous(tmp_path, "x", doc).problem.startswith("it cannot be read: ")
    (tmp_path / "latest.json").unlink()
    (tmp_path / "latest.json").write_text(json.dumps({**doc, "started": "2026-11-27T10:00:00+00:00"}))
    assert since_previous(tmp_path, "x", doc) == Since("latest.json, started 2026-11-27T10:00:00+00:00")
    html = parse(since_html(since_previous(tmp_path, "x", doc), lambda name: None))
    assert html.one("p", class_="meta").text() == "compared with latest.json, started 2026-11-27T10:00:00+00:00"
    assert [p.text() for p in html.iter("p")][-1] == "No check changed its outcome."


def test_a_fleets_page_says_what_changed_since_its_previous_run_with_its_hosts_linked(tmp_path):
    stem = "3-hosts-20261128T100000Z"
    old = docs.document(docs.host("hv1"), failing("hv2", "NET-07"), docs.host("gone<1>"))
    (tmp_path / "latest.json").write_text(json.dumps(old))
    new = docs.document(failing("hv1", "NET-07"), docs.host("hv2"), docs.host("new1"))
    out = Outputs(json=tmp_path / f"{stem}.json", html=tmp_path / f"{stem}.html", latest_json=tmp_path / "latest.json",
                  latest_html=tmp_path / "latest.html")
    assert write_reports(new, {}, out).problems == []
    page = parse(out.html.read_text())
    sections = [s["class"] for s in page.iter("section")]
    assert sections == ["causes", "since", "profile"]  # after the causes, before the hosts (a table) and the profile
    since = page.one("section", class_="since")
    assert since.one("p", class_="totals").text() == "1 host got worse · 1 got better · 1 new in this audit · 1 no longer in it"
    [worse] = since.one("table", data_kind="worse").all("tr", class_="moved")
    assert [td.text() for td in worse.all("td")[:3]] == ["NET-07", "passed → failed", "1"]
    assert [(a.text(), a["href"]) for a in worse.iter("a")] == [("hv1", f"{stem}/hv1.html")]
    better = since.one("details", class_="fold")
    assert "open" not in better.attrs and better.all("summary")[0].text() == "Better (1)"
    assert [(a.text(), a["href"]) for a in better.iter("a")] == [("hv2", f"{stem}/hv2.html")]
    moved = {d["data-kind"]: d for d in since.iter("div", class_="hostsmoved")}
    assert [a.text() for a in moved["new"].iter("a")] == ["new1"] and moved["gone"].one("details").text() == "1 hostgone<1>"
    assert not moved["gone"].all("a")  # not on the page: no link
    assert json.loads((tmp_path / "latest.json").read_text())["hosts"][0]["checks"][0]["outcome"] == "passed"  # now this run's
    again = tmp_path / "again"
    again.mkdir()
    assert write_reports(new, {}, Outputs(html=again / f"{stem}.html")).problems == []  # no previous run: nothing said
    assert not parse((again / f"{stem}.html").read_text()).all("section", class_="since")
    assert not parse(render_html(new, {})).all("section", class_="since")
