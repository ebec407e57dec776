"""A fleet's page in files (report/page_fleet.py): the page holds the causes and the hosts, each
host's detail is a page of its own in the folder beside it, every link lands from the page and
from its latest copy, and --keep prunes the folder with its page."""
import os
import stat
from pathlib import Path
from urllib.parse import unquote

import pytest

from selftests.unit import report_docs as docs
from selftests.unit.html_tree import parse
from virtnat.report.finish import Outputs, write_reports
from virtnat.report.page_fleet import host_files, write_folder
from virtnat.report.retention import prune_reports

STEM = "3-hosts-20261128T100000Z"


def three() -> tuple[dict, dict]:
    doc = docs.document(docs.host("ok1"), docs.unreachable("down1"),
                        docs.host("bad", {"NET-07": {"outcome": "failed", "message": "virbr0 is DOWN"}}))
    return doc, {"profile_defaults": docs.PROFILE_DEFAULTS, "hosts": {"ok1": docs.host_evidence(), "bad": docs.host_evidence()}}


def outputs(folder: Path) -> Outputs:
    return Outputs(json=folder / f"{STEM}.json", html=folder / f"{STEM}.html", latest_json=folder / "latest.json",
                   latest_html=folder / "latest.html", keep=2, prune_dir=folder)


def links(page: Path) -> list[Path]:
    """Where the page's links to other files lead (its own #fragments aside)."""
    tree = parse(page.read_text())
    return [page.parent / unquote(a["href"]) for a in tree.iter("a", href=True) if not a["href"].startswith("#")]


def test_a_fleets_page_links_each_host_to_its_own_page_from_itself_and_its_latest_copy(tmp_path):
    written = write_reports(*three(), outputs(tmp_path))
    assert written.problems == [] and written.reports == [f"JSON {tmp_path / STEM}.json", f"HTML {tmp_path / STEM}.html"]
    folder = tmp_path / STEM
    assert sorted(p.name for p in folder.iterdir()) == ["bad.html", "down1.html", "ok1.html"]
    page = parse((tmp_path / f"{STEM}.html").read_text())
    assert not page.all("section", class_="host") and not page.all("article") and not page.all("form")
    assert [(tr["data-host"], tr.one("a")["href"]) for tr in page.one("table", class_="hosts").iter("tr", data_h=True)] == [
        ("bad", f"{STEM}/bad.html"), ("down1", f"{STEM}/down1.html"), ("ok1", f"{STEM}/ok1.html")]
    causes = page.one("table", class_="causes")
    assert [a["href"] for a in causes.iter("a")] == [f"{STEM}/bad.html", f"{STEM}/down1.html"]
    for name in (f"{STEM}.html", "latest.html"):
        assert sorted({p.name for p in links(tmp_path / name)}) == ["bad.html", "down1.html", "ok1.html"]
        assert all(p.is_file() for p in links(tmp_path / name))
    bad = parse((folder / "bad.html").read_text())
    assert bad.one("head").one("title").text() == "virtnat audit: bad"
    assert [p.resolve() for p in links(folder / "bad.html")] == [(tmp_path / f"{STEM}.html").resolve()]
    section = bad.one("section", class_="host")
    assert section["data-host"] == "bad" and section.one("article", data_outcome="failed")["data-id"] == "NET-07"
    assert section.one("svg") and section.one("details", class_="facts")  # picture and raw facts
    assert bad.one("form", id="filters")  # its checks can be filtered as on a one-host page
    assert not parse((folder / "down1.html").read_text()).all("details", class_="facts")  # it has no evidence
    assert stat.S_IMODE(folder.stat().st_mode) & 0o007 == 0 and stat.S_IMODE((folder / "bad.html").stat().st_mode) & 0o007 == 0


def test_one_host_is_one_page_and_an_audit_that_did_not_run_too(tmp_path):
    doc, evidence = docs.one_host_with_failures()
    assert write_reports(doc, evidence, Outputs(html=tmp_path / "a.html")).problems == []
    broken = docs.document(docs.host("h1"), docs.host("h2"), error="profile broken")
    assert write_reports(broken, {}, Outputs(html=tmp_path / "b.html")).problems == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.html"]
    assert parse((tmp_path / "a.html").read_text()).one("section", class_="host")["data-host"] == "hv1"


def test_a_folder_that_cannot_be_written_is_no_page_and_the_latest_copy_goes(tmp_path):
    (tmp_path / "latest.html").write_text("an earlier run's")
    out = outputs(tmp_path)
    real = write_folder

    def refused(folder, files):
        real(folder.parent / "never" / folder.name, files)  # no such directory

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("virtnat.report.page_fleet.write_folder", refused)
        written = write_reports(*three(), out)
    assert written.problems == [f"cannot write {out.html}: No such file or directory", f"removed {tmp_path / 'latest.html'}: it showed an earlier run"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{STEM}.json", "latest.json"]


def test_the_folder_is_written_whole_in_place_of_an_earlier_one_or_of_a_link(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "stale.html").write_text("an earlier run's")
    write_folder(folder, [("a.html", ["<p>", "a"]), ("b.html", "b")])
    assert sorted(p.name for p in folder.iterdir()) == ["a.html", "b.html"] and (folder / "a.html").read_text() == "<p>a"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder2 = tmp_path / "linked"
    folder2.symlink_to(elsewhere)
    write_folder(folder2, [("a.html", "a")])
    assert not folder2.is_symlink() and list(elsewhere.iterdir()) == []

    def broken():
        yield "half"
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_folder(folder, [("c.html", "c"), ("d.html", broken())])
    assert sorted(p.name for p in folder.iterdir()) == ["a.html", "b.html"]  # the earlier one, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "linked", "run"]  # nothing half-made left


def test_host_file_names_are_safe_and_unique():
    hosts = [{"host": n} for n in ("hv1.example.net", "../etc/passwd", "HV1.example.net", "hv1.example.net", ".hidden",
                                   "", "x" * 300, "<b>")]
    assert host_files(hosts + [{"host": None}]) == [
        "hv1.example.net.html", "_etc_passwd.html", "HV1.example.net~2.html", "hv1.example.net~3.html", "hidden.html",
        "host.html", "x" * 100 + ".html", "_b_.html", "host~8.html"]
    assert all(os.sep not in n for n in host_files(hosts))


def test_keep_prunes_a_runs_folder_with_its_page_and_leaves_other_folders(tmp_path):
    for stem in ("hv1-20261125T010000Z", "3-hosts-20261126T010000Z"):
        (tmp_path / f"{stem}.html").write_text("x")
    old = tmp_path / "3-hosts-20261126T010000Z"
    old.mkdir()
    (old / "hv1.html").write_text("x")
    mine = tmp_path / "notes-20261101T010000Z"  # a folder of the same shape holding something else
    mine.mkdir()
    (mine / "notes.txt").write_text("x")
    (tmp_path / "to-mine-20261102T010000Z").symlink_to(old)
    write_reports(*three(), outputs(tmp_path))  # keep=2: this run and the one before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3-hosts-20261126T010000Z", "3-hosts-20261126T010000Z.html",
                                                          STEM, f"{STEM}.html", f"{STEM}.json", "latest.html", "latest.json",
                                                          "notes-20261101T010000Z", "to-mine-20261102T010000Z"]
    assert prune_reports(tmp_path, 1) == [old, tmp_path / "3-hosts-20261126T010000Z.html"]
    assert prune_reports(tmp_path, 0) == [tmp_path / STEM, tmp_path / f"{STEM}.html", tmp_path / f"{STEM}.json"]
    assert (mine / "notes.txt").exists() and (tmp_path / "to-mine-20261102T010000Z").is_symlink()
