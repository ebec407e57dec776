"""The virtnat command: diff, report pruning and argument parsing. No audit runs here."""
import json

import pytest

from virtnat import __version__, cli
from virtnat.plugin import CHECKS_DIR


def document(outcome, host="hv1"):
    return {"tool": "virtnat", "version": "0.1.0", "started": "2026-11-27T22:19:57+00:00",
            "finished": "2026-11-27T22:19:59+00:00", "profile": None,
            "hosts": [{"host": host, "summary": {}, "checks": [
                {"id": "NET-07", "title": "t", "impact": "critical", "subject": None, "outcome": outcome,
                 "message": "virbr0 is administratively DOWN", "remediation": "ip link set virbr0 up"}]}]}


@pytest.fixture
def reports(tmp_path):
    def write(name, doc):
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        return str(path)
    return write


def test_diff_worse_exits_1(reports, capsys):
    code = cli.main(["diff", reports("old.json", document("passed")), reports("new.json", document("failed"))])
    out = capsys.readouterr().out
    assert code == 1
    assert "hv1: 1 change, 1 worse" in out
    assert "NET-07           passed -> failed   virbr0 is administratively DOWN" in out


def test_diff_better_exits_0(reports, capsys):
    assert cli.main(["diff", reports("old.json", document("failed")), reports("new.json", document("passed"))]) == 0
    assert "failed -> passed" in capsys.readouterr().out


def test_diff_no_changes(reports, capsys):
    path = reports("same.json", document("passed"))
    assert cli.main(["diff", path, path]) == 0
    assert capsys.readouterr().out == "no changes\n"


@pytest.mark.parametrize("content, reason", [
    (None, "No such file or directory"),
    ("{not json", "not JSON"),
    ("[1, 2]", "not a virtnat audit report"),
])
def test_diff_unreadable_file_is_one_line_exit_2(tmp_path, reports, capsys, content, reason):
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    code = cli.main(["diff", str(bad), reports("new.json", document("passed"))])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith(f"virtnat diff: cannot read {bad}: ") and reason in line


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"virtnat {__version__}"


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["diff", "only-one.json"], ["audit", "--keep", "0"],
                                  ["audit", "--keep", "many"], ["audit", "-k", "NET"], ["audit", "--bogus"]])
def test_usage_errors_are_one_line_exit_4(capsys, argv):
    assert cli.main(argv) == 4
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("virtnat") and "error:" in line


@pytest.mark.parametrize("option, says", [
    ("--connect-timeout=0", "virtnat audit: error: argument --connect-timeout: '0' must be at least 1\n"),
    ("--command-timeout=1.5", "virtnat audit: error: argument --command-timeout: '1.5' is not a whole number\n"),
    ("--keep=-2", "virtnat audit: error: argument --keep: '-2' must be at least 1\n"),
    ("--fail-on=severe", "virtnat audit: error: argument --fail-on: invalid choice: 'severe' (choose from "),
    ("--bogus", "virtnat: error: unrecognized arguments: --bogus\n"),
])
def test_audit_options_are_checked_before_pytest_runs(monkeypatch, capsys, option, says):
    monkeypatch.setattr(pytest, "main", lambda argv: pytest.fail(f"pytest ran with {argv}"))
    assert cli.main(["audit", option]) == 4
    assert capsys.readouterr().err.startswith(says)


def test_audit_arguments_use_the_equals_form():
    args = cli.build_parser().parse_args([
        "audit", "--hosts=ansible://hypervisors", "--ansible-inventory=/etc/virtnat/inventory.ini",
        "--profile", "/etc/virtnat/site.toml", "--report-dir=/var/lib/virtnat/reports",
        "--prometheus=/tmp/virtnat.prom", "--keep", "30", "-n", "4", "--", "-k", "NET", "-x"])
    assert (args.keep, args.prometheus) == (30, "/tmp/virtnat.prom")
    assert cli.pytest_args(args) == [
        "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning", "--hosts=ansible://hypervisors",
        "--ansible-inventory=/etc/virtnat/inventory.ini", "--profile=/etc/virtnat/site.toml",
        "--report-dir=/var/lib/virtnat/reports", "--numprocesses=4", str(CHECKS_DIR), "-k", "NET", "-x"]


def test_audit_defaults_add_nothing_and_never_audit_json():
    args = cli.build_parser().parse_args(["audit"])
    argv = cli.pytest_args(args)
    assert argv == ["-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning", str(CHECKS_DIR)]
    assert not any(a.startswith("--audit-json") for a in argv)  # it would stop latest.json's refresh


def test_relative_report_dir_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = cli.build_parser().parse_args(["audit", "--report-dir=out"])
    assert f"--report-dir={tmp_path / 'out'}" in cli.pytest_args(args)


def test_prune_keeps_the_newest_runs(tmp_path):
    runs = ["hv1-20261125T010000Z", "hv1-20261126T010000Z", "2-hosts-20261127T010000Z", "hv1-20261128T010000Z"]
    for stem in runs:
        for suffix in (".html", ".json", ".xml"):
            (tmp_path / f"{stem}{suffix}").write_text("x")
    others = ["latest.html", "latest.json", ".gitkeep", "notes.txt", "hv1-20261101T010000Z.json.tmp", "hv1-yesterday.json"]
    for name in others:
        (tmp_path / name).write_text("x")
    (tmp_path / "hv1-20261101T010000Z.xml").mkdir()  # a directory is not a report

    removed = cli.prune_reports(tmp_path, 2)

    assert sorted(p.name for p in removed) == sorted(f"{s}{x}" for s in runs[:2] for x in (".html", ".json", ".xml"))
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(others + ["hv1-20261101T010000Z.xml"]
                          + [f"{s}{x}" for s in runs[2:] for x in (".html", ".json", ".xml")])
    assert cli.prune_reports(tmp_path, 2) == []  # nothing more to do


def test_prune_counts_incomplete_runs(tmp_path):
    (tmp_path / "hv1-20261125T010000Z.json").write_text("x")  # a run whose HTML was never written
    (tmp_path / "hv1-20261126T010000Z.json").write_text("x")
    (tmp_path / "hv1-20261126T010000Z.html").write_text("x")
    assert [p.name for p in cli.prune_reports(tmp_path, 1)] == ["hv1-20261125T010000Z.json"]


def test_fresh_report_ignores_a_stale_latest(tmp_path):
    import datetime as dt
    latest = tmp_path / "latest.json"
    latest.write_text(json.dumps(document("passed")))  # started 2026-11-27T22:19:57Z
    assert cli._fresh_report(latest, dt.datetime(2026, 11, 27, 22, 19, 57, tzinfo=dt.timezone.utc)) is not None
    assert cli._fresh_report(latest, dt.datetime(2026, 11, 27, 22, 20, tzinfo=dt.timezone.utc)) is None
    assert cli._fresh_report(tmp_path / "missing.json", dt.datetime.now(dt.timezone.utc)) is None


def test_audit_flow_with_a_stand_in_for_pytest(tmp_path, monkeypatch):
    """audit's own work around pytest: prometheus from the fresh latest.json, then pruning."""
    import datetime as dt
    reports_dir = tmp_path / "reports"
    reports_dir.mkdir()
    for day in (24, 25, 26):
        (reports_dir / f"hv1-202611{day}T010000Z.json").write_text("{}")
    seen = []

    def fake_main(argv):  # what the plugin leaves behind: a timestamped report and latest.json
        seen.append(argv)
        doc = document("failed")
        doc["started"] = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        (reports_dir / "hv1-20261127T010000Z.json").write_text(json.dumps(doc))
        (reports_dir / "latest.json").write_text(json.dumps(doc))
        return 1

    monkeypatch.setattr(pytest, "main", fake_main)
    prom = tmp_path / "virtnat.prom"
    code = cli.main(["audit", f"--report-dir={reports_dir}", f"--prometheus={prom}", "--keep", "2"])
    assert code == 1 and seen[0][-1] == str(CHECKS_DIR)
    assert 'virtnat_check_passed{host="hv1",check="NET-07",subject=""} 0' in prom.read_text()
    assert sorted(p.name for p in reports_dir.iterdir()) == [
        "hv1-20261126T010000Z.json", "hv1-20261127T010000Z.json", "latest.json"]


def test_audit_without_a_new_report_says_so_in_the_metrics(tmp_path, monkeypatch, capsys):
    reports_dir = tmp_path / "reports"
    reports_dir.mkdir()
    (reports_dir / "latest.json").write_text(json.dumps(document("passed")))  # yesterday's, all passed
    monkeypatch.setattr(pytest, "main", lambda argv: 4)  # pytest refused its options
    prom = tmp_path / "virtnat.prom"
    assert cli.main(["audit", f"--report-dir={reports_dir}", f"--prometheus={prom}"]) == 4
    assert "virtnat_audit_success 0" in prom.read_text()
    [line] = capsys.readouterr().err.splitlines()
    assert line == f"virtnat audit: no report written in {reports_dir} (pytest exit code 4)"


def test_without_report_dir_the_checkouts_reports_are_read(tmp_path, monkeypatch, capsys):
    from virtnat.plugin import PROJECT
    monkeypatch.setattr(pytest, "main", lambda argv: 4)
    prom = tmp_path / "virtnat.prom"
    assert cli.main(["audit", f"--prometheus={prom}"]) == 4  # a latest.json there is older than this run
    assert capsys.readouterr().err == f"virtnat audit: no report written in {PROJECT / 'reports'} (pytest exit code 4)\n"
    text = prom.read_text()
    assert "virtnat_audit_success 0" in text and "virtnat_audit_timestamp_seconds " in text
    assert "virtnat_audit_duration_seconds " in text and "virtnat_host_checks{" not in text


def test_every_connection_option_reaches_pytest_in_the_equals_form():
    args = cli.build_parser().parse_args([
        "audit", "--facts=saved/", "--ssh-config=vagrant.cfg", "--ssh-identity-file=id_ed25519", "--sudo",
        "--connect-timeout", "5", "--command-timeout", "30", "--libvirt-uri=qemu+ssh://{host}/system"])
    assert cli.pytest_args(args)[4:] == [
        "--facts=saved/", "--ssh-config=vagrant.cfg", "--ssh-identity-file=id_ed25519", "--connect-timeout=5",
        "--command-timeout=30", "--libvirt-uri=qemu+ssh://{host}/system", "--sudo", str(CHECKS_DIR)]


def test_fresh_report_takes_a_time_without_zone_as_utc(tmp_path):
    import datetime as dt
    latest = tmp_path / "latest.json"
    doc = document("passed")
    doc["started"] = "2026-11-27T22:19:57"
    latest.write_text(json.dumps(doc))
    assert cli._fresh_report(latest, dt.datetime(2026, 11, 27, 22, 19, 57, tzinfo=dt.timezone.utc)) == doc
    assert cli._fresh_report(latest, dt.datetime(2026, 11, 27, 22, 19, 58, tzinfo=dt.timezone.utc)) is None


@pytest.mark.parametrize("content", ["{not json", '{"hosts": []}', '{"started": 5}', '{"started": "yesterday"}', "[]"])
def test_fresh_report_that_cannot_be_read_is_none(tmp_path, content):
    import datetime as dt
    latest = tmp_path / "latest.json"
    latest.write_text(content)
    assert cli._fresh_report(latest, dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)) is None


def test_audit_alone_only_runs_pytest(tmp_path, monkeypatch):
    reports_dir = tmp_path / "reports"
    reports_dir.mkdir()
    (reports_dir / "hv1-20261125T010000Z.json").write_text("{}")
    monkeypatch.setattr(pytest, "main", lambda argv: 0)
    assert cli.main(["audit", f"--report-dir={reports_dir}"]) == 0
    assert [p.name for p in reports_dir.iterdir()] == ["hv1-20261125T010000Z.json"]


def test_keep_without_a_report_directory_prunes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pytest, "main", lambda argv: 4)
    assert cli.main(["audit", f"--report-dir={tmp_path / 'never-made'}", "--keep", "1"]) == 4
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("pytest_code, code", [(0, 1), (1, 1), (4, 4)])
def test_unwritable_metrics_are_one_line_and_never_exit_0(tmp_path, monkeypatch, capsys, pytest_code, code):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    prom = blocker / "virtnat.prom"
    monkeypatch.setattr(pytest, "main", lambda argv: pytest_code)
    assert cli.main(["audit", f"--report-dir={tmp_path / 'reports'}", f"--prometheus={prom}"]) == code
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == f"virtnat audit: cannot write {prom}: File exists"


def _with_check(**change):
    doc = document("passed")
    doc["hosts"][0]["checks"][0].update(change)
    return doc


@pytest.mark.parametrize("doc, what", [
    ({"hosts": []}, 'not a virtnat audit report (its "tool" is not "virtnat")'),
    ({"tool": "other", "hosts": [{"host": "hv1", "checks": []}]}, 'not a virtnat audit report (its "tool" is not "virtnat")'),
    ({"tool": "virtnat", "hosts": {}}, "not a virtnat audit report (no 'hosts' list)"),
    ({"tool": "virtnat", "hosts": ["hv1"]}, 'hosts[0]: not a host entry (a "host" name and a "checks" list)'),
    ({"tool": "virtnat", "hosts": [{"host": 7, "checks": []}]}, 'hosts[0]: not a host entry (a "host" name and a "checks" list)'),
    ({"tool": "virtnat", "hosts": [{"host": "hv1", "checks": [5]}]}, "hosts[0].checks[0]: not a check"),
    (_with_check(id=7), "hosts[0].checks[0].id: 7 is not a string"),
    (_with_check(message=["x"]), "hosts[0].checks[0].message: ['x'] is not a string or null"),
    (_with_check(subject=1), "hosts[0].checks[0].subject: 1 is not a string or null"),
    (_with_check(outcome="PASS"), "hosts[0].checks[0].outcome: 'PASS' is not one of passed, failed, skipped, error"),
])
def test_diff_of_a_malformed_report_is_one_line_exit_2(reports, capsys, doc, what):
    bad = reports("bad.json", doc)
    assert cli.main(["diff", bad, reports("good.json", document("passed"))]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"virtnat diff: cannot read {bad}: {what}\n")


def test_diff_takes_a_null_message_and_subject(reports, capsys):
    old = reports("old.json", _with_check(message=None))
    assert cli.main(["diff", old, reports("new.json", document("failed"))]) == 1
    assert "NET-07" in capsys.readouterr().out


def test_interrupted_audit_exits_130_with_one_line(monkeypatch, capsys, tmp_path):
    def interrupted(argv):
        raise KeyboardInterrupt

    monkeypatch.setattr(pytest, "main", interrupted)
    assert cli.main(["audit", f"--report-dir={tmp_path}"]) == 130
    assert capsys.readouterr().err == "virtnat: interrupted\n"


@pytest.mark.parametrize("exit_arg, code", [(None, 0), ("a plugin gave up", 1), (3, 3)])
def test_system_exit_inside_the_audit_becomes_an_exit_code(monkeypatch, tmp_path, exit_arg, code):
    def exits(argv):
        raise SystemExit(exit_arg)

    monkeypatch.setattr(pytest, "main", exits)
    assert cli.main(["audit", f"--report-dir={tmp_path}"]) == code


def test_help_exits_0(capsys):
    assert cli.main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: virtnat [-h] [--version] COMMAND ...")


def test_the_readme_shows_the_help_virtnat_prints(monkeypatch, capsys):
    """The README's copy of `virtnat --help`, `virtnat audit --help` and `virtnat diff --help`
    is what the command prints at 100 columns, option for option and word for word."""
    readme = (CHECKS_DIR.parent / "README.md").read_text().splitlines()
    start = readme.index("    $ virtnat --help")
    block = []
    for line in readme[start:]:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    shown = "\n".join(block).strip().split("\n\n$ ")
    monkeypatch.setenv("COLUMNS", "100")
    printed = []
    for args in (["--help"], ["audit", "--help"], ["diff", "--help"]):
        assert cli.main(args) == 0
        printed.append(f"virtnat {' '.join(args)}\n{capsys.readouterr().out.rstrip()}")
    assert shown[0].startswith("$ ")
    assert [shown[0][2:], *shown[1:]] == printed
