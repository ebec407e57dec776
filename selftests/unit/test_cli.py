"""The virtnat command: diff and argument parsing; `audit` only translates its options for pytest. No audit runs here."""
import json
import re

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
    ("--shards=0", "virtnat audit: error: argument --shards: '0' must be at least 1\n"),
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
        "--prometheus=/tmp/virtnat.prom", "--keep", "30", "--waivers=w.toml", "-n", "4", "--", "-k", "NET", "-x"])
    assert (args.keep, args.prometheus) == (30, "/tmp/virtnat.prom")
    assert cli.pytest_args(args) == [
        "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning", "--hosts=ansible://hypervisors",
        "--ansible-inventory=/etc/virtnat/inventory.ini", "--numprocesses=4", "--profile=/etc/virtnat/site.toml",
        "--report-dir=/var/lib/virtnat/reports", "--waivers=w.toml", "--prometheus=/tmp/virtnat.prom", "--keep=30", str(CHECKS_DIR),
        "-k", "NET", "-x"]


def test_audit_defaults_add_nothing():
    args = cli.build_parser().parse_args(["audit"])
    assert cli.pytest_args(args) == ["-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning", str(CHECKS_DIR)]


def test_relative_report_dir_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = cli.build_parser().parse_args(["audit", "--report-dir=out"])
    assert f"--report-dir={tmp_path / 'out'}" in cli.pytest_args(args)


def test_every_connection_option_reaches_pytest_in_the_equals_form():
    args = cli.build_parser().parse_args([
        "audit", "--facts=saved/", "--ssh-config=vagrant.cfg", "--ssh-identity-file=id_ed25519", "--sudo",
        "--connect-timeout", "5", "--command-timeout", "30", "--libvirt-uri=qemu+ssh://{host}/system", "--shards", "3"])  # the command's own
    assert cli.pytest_args(args)[4:] == [
        "--ssh-config=vagrant.cfg", "--ssh-identity-file=id_ed25519", "--sudo", "--libvirt-uri=qemu+ssh://{host}/system",
        "--connect-timeout=5", "--command-timeout=30", "--facts=saved/", *LEAN, str(CHECKS_DIR)]


LEAN = ["-p", "no:logging", "-p", "no:warnings", "--capture=no", "-p", "no:threadexception", "-p", "no:unraisableexception",
        "-p", "no:unittest", "-p", "no:tmpdir", "-p", "no:subtests"]


@pytest.mark.parametrize("argv, lean", [
    (["--facts=saved/"], True),
    (["--facts=saved/", "--hosts=local://"], False),
    (["--facts=saved/", "--ansible-inventory=inventory.ini"], False),
    (["--hosts=local://"], False),
], ids=["bundles alone", "with hosts", "with an inventory", "hosts alone"])
def test_an_audit_of_bundles_alone_leaves_out_the_plugins_with_nothing_to_catch(argv, lean):
    """No connection and no process: nothing to capture, log or warn about, around 36 checks per host."""
    args = cli.pytest_args(cli.build_parser().parse_args(["audit", *argv]))
    assert (args[-len(LEAN) - 1:-1] == LEAN) is lean and ("--capture=no" in args) is lean


@pytest.mark.parametrize("code", [0, 1, 4])
def test_audit_only_runs_pytest_and_gives_its_exit_code(tmp_path, monkeypatch, code):
    seen = []
    monkeypatch.setattr(pytest, "main", lambda argv: seen.append(argv) or code)
    assert cli.main(["audit", f"--report-dir={tmp_path}", "--keep=1", f"--prometheus={tmp_path / 'v.prom'}"]) == code
    assert seen == [["-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning", f"--report-dir={tmp_path}",
                     f"--prometheus={tmp_path / 'v.prom'}", "--keep=1", str(CHECKS_DIR)]]
    assert list(tmp_path.iterdir()) == []  # the plugin writes the reports, prunes and writes the metrics


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
    (_with_check(outcome="PASS"), "hosts[0].checks[0].outcome: 'PASS' is not one of passed, failed, skipped, error, waived"),
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


class _Recorder:
    """pytest's parser as a plugin's pytest_addoption uses it: records each option's names."""

    def __init__(self):
        self.flags = []

    def getgroup(self, *_args, **_kwargs):
        return self

    def addini(self, *_args, **_kwargs):
        pass

    def addoption(self, *names, **_kwargs):
        self.flags.append(names)


def test_audit_help_lists_every_option_the_plugins_declare(monkeypatch, capsys):
    """One command line: each option virtnat's plugin and pytest-html declare is an option of
    `virtnat audit`, listed in its --help and taken directly (no `--` needed)."""
    from pytest_html.plugin import pytest_addoption as html_options

    from virtnat.plugin import pytest_addoption

    declared = _Recorder()
    pytest_addoption(declared)
    html_options(declared)
    assert len(declared.flags) >= 16 and ("--audit-json",) in declared.flags and ("--html",) in declared.flags
    monkeypatch.setenv("COLUMNS", "200")
    assert cli.main(["audit", "--help"]) == 0
    shown = capsys.readouterr().out
    for names in declared.flags:
        for name in names:
            assert re.search(rf"^  {re.escape(name)}\b", shown, re.M), f"{name} is not in `virtnat audit --help`"
    parsed = cli.build_parser().parse_args(["audit", "--audit-json=a.json", "--stats-json=s.json", "--html=p.html",
                                            "--self-contained-html", "--css=a.css", "--css=b.css"])
    assert cli.pytest_args(parsed)[4:-1] == ["--audit-json=a.json", "--stats-json=s.json", "--html=p.html",
                                             "--self-contained-html", "--css=a.css", "--css=b.css"]


def test_every_option_is_declared_once_and_the_cli_and_plugin_offer_the_same():
    """options.OPTIONS is the one table: no flag twice; pytest gets virtnat's own from it (and
    testinfra's and pytest-html's from them), and `virtnat audit` takes each of them directly."""
    from pytest_html.plugin import pytest_addoption as html_options
    from testinfra.plugin import pytest_addoption as testinfra_options

    from virtnat.options import OPTIONS
    from virtnat.plugin import pytest_addoption

    flags = [flag for option in OPTIONS for flag in option.flags]
    assert len(flags) == len(set(flags))
    plugin, testinfra, html = _Recorder(), _Recorder(), _Recorder()
    pytest_addoption(plugin)
    testinfra_options(testinfra)
    html_options(html)
    pytest_side = {n for names in plugin.flags + html.flags for n in names}
    pytest_side |= {n for names in testinfra.flags for n in names if n in flags}  # the testinfra options virtnat takes
    parser = cli.build_parser()
    audit_parser = parser._subparsers._group_actions[0].choices["audit"]
    cli_side = {flag for action in audit_parser._actions for flag in action.option_strings if flag not in ("-h", "--help")}
    assert cli_side == pytest_side | {"--checks", "-n", "--shards"}  # the command's own
    assert {o.flags[0] for o in OPTIONS if o.owner == "testinfra"} <= {n for names in testinfra.flags for n in names}


def test_collect_takes_the_plugins_host_options_only(capsys):
    assert cli.main(["collect", "--help"]) == 0
    shown = capsys.readouterr().out
    assert all(f"  {flag} " in shown for flag in ("--profile", "--connect-timeout", "--command-timeout", "--out"))
    assert "--audit-json" not in shown and "--html" not in shown


def test_the_script_ends_the_process_at_once_with_mains_code(monkeypatch, capsys):
    """`virtnat` (the console script): what main printed is out, then os._exit with its code."""
    monkeypatch.setattr(cli, "main", lambda: print("virtnat: JSON reports/a.json") or 3)
    ended = []
    monkeypatch.setattr(cli.os, "_exit", ended.append)
    cli.run()
    assert ended == [3] and capsys.readouterr().out == "virtnat: JSON reports/a.json\n"


def test_site_checks_reach_pytest_as_paths_after_the_built_in_ones(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "test_site_mtu.py").write_text("")
    args = cli.build_parser().parse_args(["audit", f"--checks={site}", f"--checks={site}", "--", "-k", "SITE"])
    argv = cli.pytest_args(args)
    assert argv[-5:] == [str(CHECKS_DIR), str(site), str(site), "-k", "SITE"]
    assert not any(a.startswith("--checks") for a in argv)  # no option of pytest's: a path
    assert cli.pytest_args(cli.build_parser().parse_args(["audit"]))[-1] == str(CHECKS_DIR)


def test_site_checks_named_as_a_built_in_file_or_missing_stop_the_audit(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pytest, "main", lambda argv: pytest.fail(f"pytest ran with {argv}"))
    clash = tmp_path / "clash"
    (clash / "deep").mkdir(parents=True)
    (clash / "deep" / "test_bridge.py").write_text("")
    assert cli.main(["audit", f"--checks={clash}"]) == 4
    assert capsys.readouterr().err == (f"virtnat audit: --checks={clash}: test_bridge.py is the name of a built-in check file: "
                                       "rename it (e.g. test_site_bridge.py)\n")
    assert cli.main(["audit", f"--checks={tmp_path / 'nowhere'}"]) == 4
    assert f"--checks={tmp_path / 'nowhere'}: not a directory" in capsys.readouterr().err
    assert cli._site_checks_problem([str(tmp_path)]) is not None  # clash/deep/test_bridge.py lies below it too
    assert cli._site_checks_problem([str(clash / "deep" / "..")]) is not None


def test_an_audit_writes_no_bytecode_where_virtnat_is_installed(monkeypatch):
    seen = []
    monkeypatch.setattr(pytest, "main", lambda argv: seen.append(cli.sys.dont_write_bytecode) or 0)
    monkeypatch.setattr(cli.sys, "dont_write_bytecode", False)
    assert cli.main(["audit", "--facts=/nonexistent"]) == 0 and seen == [True]


def test_fix_prints_each_script_whole_and_nothing_more(reports, capsys):
    path = reports("r.json", document("failed"))
    assert cli.main(["fix", path]) == 0
    shown = capsys.readouterr().out
    from virtnat.report.fix_ansible import playbook
    from virtnat.report.fixes import shell_scripts
    assert shown == shell_scripts(json.loads(open(path).read()), path, None) and f"# virtnat fix for host hv1, from {path} " in shown
    assert cli.main(["fix", path, "--ansible", "--host=hv1"]) == 0
    assert capsys.readouterr().out == playbook(json.loads(open(path).read()), path, "hv1")


def test_an_options_arguments_for_pytest():
    from virtnat.options import OPTIONS, Option
    sudo = next(o for o in OPTIONS if o.flags == ("--sudo",))
    assert (sudo.argv(True), sudo.argv(False)) == (["--sudo"], [])
    workers = next(o for o in OPTIONS if o.flags == ("-n",))
    assert workers.argv("auto") == ["--numprocesses=auto"]
    assert Option(("-x", "--ex-ample"), "h").argv("v") == ["--ex-ample=v"]
    assert Option(("-x",), "h").argv("v") == ["-x=v"]  # no long flag: the first
