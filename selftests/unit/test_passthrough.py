"""pytest's --junitxml and pytest-html's --html, passed through by an audit, are written like
virtnat's own reports: at the path asked for, whole, private, and never through a symlink
planted there, at pytest-html's assets/ or at a file in it."""
import os
import shutil
import stat
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

from selftests.unit.checkrun import DATA
from virtnat import plugin
from virtnat.report.passthrough import PassThrough, Staged, asked_path, place, pointed, stage
from virtnat.state import CHECKS_DIR

HEALTHY = DATA / "libvirt9" / "healthy.txt"


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def private(path) -> bool:
    return mode(path) & ~0o640 == 0


# -- the pieces -------------------------------------------------------------------------------

def test_the_path_asked_for_is_the_one_each_plugin_would_write(monkeypatch):
    monkeypatch.setenv("OUT", "/srv/out")
    monkeypatch.setenv("HOME", "/home/auditor")
    assert asked_path("htmlpath", "$OUT/a.html", "/work") == Path("/srv/out/a.html")
    assert asked_path("xmlpath", "~/r/../a.xml", "/work") == Path("/home/auditor/a.xml")  # junitxml normalises
    assert asked_path("htmlpath", "r/a.html", "/work") == Path("/work/r/a.html")
    assert asked_path("htmlpath", "r/../a.html", "/work") == Path("/work/r/../a.html")  # pytest-html does not
    assert asked_path("xmlpath", "/abs/a.xml", "/work") == Path("/abs/a.xml")


def options(**given):
    return SimpleNamespace(option=SimpleNamespace(**given))


def test_each_report_is_staged_in_a_private_directory_beside_it(tmp_path):
    config = options(htmlpath="new/page.html", xmlpath=str(tmp_path / "j.xml"))
    staged, problem = stage(config, str(tmp_path))
    assert problem is None
    assert [(s.flag, s.value, s.target) for s in staged] == [
        ("--html", "new/page.html", tmp_path / "new" / "page.html"), ("--junitxml", str(tmp_path / "j.xml"), tmp_path / "j.xml")]
    for report in staged:
        assert report.staging.parent == report.target.parent and mode(report.staging) == 0o700
        assert report.staging.name.startswith(f".{report.target.name}.") and report.staging.name.endswith(".tmp")
        assert list(report.staging.iterdir()) == []
    assert (config.option.htmlpath, config.option.xmlpath) == ("new/page.html", str(tmp_path / "j.xml"))  # as given
    assert pointed(config, staged) == (("htmlpath", str(staged[0].written)), ("xmlpath", str(staged[1].written)))
    assert stage(options(htmlpath=None, xmlpath=""), str(tmp_path)) == ([], None)
    assert pointed(options(htmlpath=None, xmlpath=""), []) == ()


def test_junits_report_is_staged_at_the_normalised_path_junitxml_writes(tmp_path):
    [staged], problem = stage(options(xmlpath="r/../j.xml"), str(tmp_path))
    assert (staged.target, problem) == (tmp_path / "j.xml", None)


def test_a_long_reports_staging_is_named_by_its_first_64_characters(tmp_path):
    name = "r" * 100 + ".html"
    [staged], _ = stage(options(htmlpath=name), str(tmp_path))
    assert staged.staging.name.startswith("." + "r" * 64 + ".") and not staged.staging.name.startswith("." + "r" * 65)


def test_a_report_that_cannot_be_written_leaves_the_others_staged(tmp_path):
    staged, problem = stage(options(htmlpath=str(tmp_path), xmlpath="j.xml"), str(tmp_path))
    assert [s.target for s in staged] == [tmp_path / "j.xml"] and problem.startswith(f"--html={tmp_path}: ")


def test_without_pytest_html_only_junit_is_pointed(tmp_path):
    config = options(xmlpath="j.xml")  # no htmlpath: pytest-html is not there to declare it
    staged, _ = stage(config, str(tmp_path))
    assert pointed(config, staged) == (("xmlpath", str(staged[0].written)),)


def test_a_reports_missing_directories_are_made_however_deep(tmp_path):
    [staged], problem = stage(options(htmlpath="a/b/c/page.html"), str(tmp_path))
    assert problem is None and staged.staging.parent == tmp_path / "a" / "b" / "c"


def test_a_report_asked_for_at_a_missing_directorys_parent_is_refused(tmp_path):
    assert stage(options(htmlpath="gone/.."), str(tmp_path)) == ([], "--html=gone/..: cannot write a report there: Is a directory")


def test_a_report_that_cannot_be_written_there_is_one_line_and_dropped(tmp_path):
    (tmp_path / "file").write_text("")
    config = options(htmlpath=str(tmp_path), xmlpath="file/j.xml")
    staged, problem = stage(config, str(tmp_path))
    assert staged == [] and pointed(config, staged) == (("htmlpath", None), ("xmlpath", None))
    assert problem == f"--html={tmp_path}: cannot write a report there: Is a directory"
    assert stage(options(xmlpath="file/j.xml"), str(tmp_path))[1] == "--junitxml=file/j.xml: cannot write a report there: File exists"


@pytest.fixture
def outside(tmp_path):
    """A file and a directory outside the reports, which a planted link points at."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "style.css").write_text("theirs")
    return victim, folder


def staged_report(tmp_path, name="page.html", assets=("style.css",)) -> Staged:
    (tmp_path / "out").mkdir(exist_ok=True)
    staging = tmp_path / "out" / f".{name}.x.tmp"
    staging.mkdir(mode=0o700)
    (staging / name).write_text("the report")
    if assets:
        (staging / "assets").mkdir()
        for asset in assets:
            (staging / "assets" / asset).write_text(f"new {asset}")
    return Staged("htmlpath", "--html", name, tmp_path / "out" / name, staging)


def test_place_replaces_planted_links_at_the_report_and_its_assets(tmp_path, outside):
    victim, folder = outside
    report = staged_report(tmp_path, assets=("style.css", "x_0_0.txt"))
    report.target.symlink_to(victim)
    (report.target.parent / "assets").symlink_to(folder)
    place(report)
    assert victim.read_text() == "keep me" and [p.name for p in folder.iterdir()] == ["style.css"]
    assert (folder / "style.css").read_text() == "theirs"
    assert not report.target.is_symlink() and report.target.read_text() == "the report" and private(report.target)
    assets = report.target.parent / "assets"
    assert not assets.is_symlink() and sorted(p.name for p in assets.iterdir()) == ["style.css", "x_0_0.txt"]
    assert all(private(p) for p in assets.iterdir()) and list(report.staging.iterdir()) == [Path(report.staging / "assets")]


def test_place_keeps_other_assets_and_replaces_a_planted_one(tmp_path, outside):
    victim, _ = outside
    report = staged_report(tmp_path)
    assets = report.target.parent / "assets"
    assets.mkdir()
    (assets / "old_0_0.png").write_text("an older run's")
    (assets / "style.css").symlink_to(victim)
    place(report)
    assert victim.read_text() == "keep me"
    assert (assets / "old_0_0.png").read_text() == "an older run's"
    assert not (assets / "style.css").is_symlink() and (assets / "style.css").read_text() == "new style.css"


def test_place_replaces_a_planted_file_named_assets(tmp_path):
    report = staged_report(tmp_path)
    (report.target.parent / "assets").write_text("not a directory")
    place(report)
    assert (report.target.parent / "assets" / "style.css").read_text() == "new style.css"


def test_place_says_when_there_is_nothing_to_move(tmp_path):
    report = staged_report(tmp_path, assets=())
    (report.staging / report.target.name).unlink()
    with pytest.raises(FileNotFoundError, match="--html wrote nothing"):
        place(report)
    assert not report.target.exists()


def test_place_never_waits_on_a_fifo_planted_for_the_reports_directory(tmp_path, no_hang):
    report = staged_report(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(NotADirectoryError):
        place(Staged(report.dest, report.flag, report.value, tmp_path / "fifo" / "page.html", report.staging))


def _planting(monkeypatch, plant):
    """os.mkdir of assets replaced by plant(name, dir_fd): what another process puts there between
    the check of what is at assets and its open."""
    monkeypatch.setattr(os, "mkdir", lambda name, mode=0o777, *, dir_fd=None: plant(name, dir_fd))


def test_a_link_planted_at_assets_after_its_check_is_not_followed(tmp_path, outside, monkeypatch):
    _, folder = outside
    report = staged_report(tmp_path)
    _planting(monkeypatch, lambda name, dir_fd: os.symlink(folder, name, dir_fd=dir_fd))
    with pytest.raises(OSError):
        place(report)
    assert [p.name for p in folder.iterdir()] == ["style.css"] and (folder / "style.css").read_text() == "theirs"


def test_a_fifo_planted_at_assets_after_its_check_is_not_waited_on(tmp_path, no_hang, monkeypatch):
    report = staged_report(tmp_path)
    _planting(monkeypatch, lambda name, dir_fd: os.mkfifo(name, dir_fd=dir_fd))
    with pytest.raises(NotADirectoryError):
        place(report)


def _config():
    """What PassThrough reads of pytest's config; its cleanups kept in .cleanups."""
    config = SimpleNamespace(option=SimpleNamespace(), stash={}, cleanups=[], pluginmanager=SimpleNamespace(get_plugins=list))
    config.add_cleanup = config.cleanups.append
    return config


def test_the_staging_directory_is_removed_at_the_end_even_when_it_is_gone_already(tmp_path):
    config = _config()
    first, second = staged_report(tmp_path, "a.html"), staged_report(tmp_path, "b.xml", assets=())
    PassThrough(config, (first, second), record=None)
    shutil.rmtree(first.staging)
    for cleanup in config.cleanups:
        cleanup()
    assert not first.staging.exists() and not second.staging.exists()


def test_junits_summary_line_names_the_path_asked_for_once_placed(tmp_path):
    from _pytest.junitxml import xml_key
    config = _config()
    junit, page = staged_report(tmp_path, "j.xml", assets=()), staged_report(tmp_path)
    config.stash[xml_key] = logxml = SimpleNamespace(logfile=str(junit.written))
    through = PassThrough(config, (junit, page), record=None)
    through._point_at(page)
    assert logxml.logfile == str(junit.written)  # the page is not junit's
    through._point_at(junit)
    assert logxml.logfile == str(junit.target)


def test_the_option_names_the_path_asked_for_again_once_placed(tmp_path):
    config = _config()
    report = staged_report(tmp_path)
    config.option.htmlpath = str(report.written)
    PassThrough(config, (report,), record=None)._point_at(report)
    assert config.option.htmlpath == "page.html"


@pytest.mark.parametrize("run", ["no audit", "xdist worker"])
def test_only_an_audits_own_process_stages(pytester, tmp_path, run):
    html = tmp_path / "mine.html"
    if run == "no audit":
        config = pytester.parseconfig(str(Path(__file__).parent), f"--html={html}")
    else:
        config = pytester.parseconfig(str(CHECKS_DIR), f"--facts={HEALTHY}", f"--report-dir={tmp_path}", f"--html={html}")
        config.workerinput = {}
    plugin.pytest_configure(config)
    assert config.option.htmlpath == str(html) and config.pluginmanager.get_plugin("virtnat-passthrough") is None
    assert list(tmp_path.iterdir()) == []


# -- whole audits -----------------------------------------------------------------------------

class Run:
    def __init__(self, pytester, *args):
        self.result = pytester.runpytest_inprocess(str(CHECKS_DIR), "-p", "no:cacheprovider",
                                                   f"--report-dir={pytester.path / 'reports'}", f"--facts={HEALTHY}", *args)
        self.out = self.result.stdout.str()


@pytest.fixture
def planted(pytester):
    """Where the reports are asked for, each a symlink planted to a file outside; and that file."""
    out = pytester.path / "out"
    out.mkdir()
    victim = pytester.path / "victim.txt"
    victim.write_text("keep me")
    for name in ("page.html", "junit.xml"):
        (out / name).symlink_to(victim)
    return out, victim


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_an_audit_writes_junit_and_html_at_the_paths_asked_and_never_through_a_link(pytester, planted, workers):
    out, victim = planted
    elsewhere = pytester.path / "elsewhere"
    elsewhere.mkdir()
    (out / "assets").symlink_to(elsewhere)
    run = Run(pytester, *workers, f"--html={out / 'page.html'}", f"--junitxml={out / 'junit.xml'}")
    assert run.result.ret == 0
    assert victim.read_text() == "keep me" and list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["assets", "junit.xml", "page.html"]  # no staging directory left
    for name in ("page.html", "junit.xml"):
        assert not (out / name).is_symlink() and private(out / name)
    suites = ET.parse(out / "junit.xml").getroot()
    assert suites.find("testsuite").get("tests") == "38"
    page = (out / "page.html").read_text()
    assert 'href="assets/style.css"' in page and "VM-04" in page
    assert not (out / "assets").is_symlink() and [p.name for p in (out / "assets").iterdir()] == ["style.css"]
    assert f"generated xml file: {out / 'junit.xml'}" in run.out
    assert f"Generated html report: {(out / 'page.html').as_uri()}" in run.out
    assert (pytester.path / "reports" / "latest.html").read_text() != page  # virtnat's own page stays the latest


def test_a_self_contained_page_has_no_assets(pytester, planted):
    out, victim = planted
    run = Run(pytester, "--self-contained-html", f"--html={out / 'page.html'}")
    assert run.result.ret == 0 and victim.read_text() == "keep me"
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "page.html"] and (out / "junit.xml").is_symlink()
    assert not (out / "page.html").is_symlink() and "<style" in (out / "page.html").read_text()


def test_relative_paths_are_written_where_pytest_would(pytester, planted):
    out, victim = planted
    run = Run(pytester, "--html=out/page.html", "--junitxml=out/new/junit.xml")
    assert run.result.ret == 0 and victim.read_text() == "keep me"
    assert ET.parse(out / "new" / "junit.xml").getroot().tag == "testsuites"
    assert not (out / "page.html").is_symlink() and (out / "junit.xml").is_symlink()


@pytest.mark.parametrize("option, says", [("--html={dir}", "Is a directory"), ("--junitxml={dir}/file/j.xml", "File exists")])
def test_a_report_that_cannot_be_written_there_is_a_usage_error(pytester, option, says):
    (pytester.path / "file").write_text("")
    option = option.format(dir=pytester.path)
    run = Run(pytester, option)
    assert run.result.ret == 4
    assert f"ERROR: {option}: cannot write a report there: {says}" in run.out.splitlines()
    assert "Traceback" not in run.out + run.result.stderr.str()


def test_a_report_that_cannot_be_moved_into_place_is_one_line_and_never_exit_0(pytester, monkeypatch):
    from virtnat.report import passthrough

    def refused(report):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(passthrough, "place", refused)
    target = pytester.path / "junit.xml"
    run = Run(pytester, f"--junitxml={target}")
    assert run.result.ret == 1 and not target.exists()
    assert f"virtnat: cannot write {target}: Permission denied" in run.out
    assert [p.name for p in pytester.path.iterdir() if p.name.startswith(".junit.xml.")] == []  # the staging is removed
