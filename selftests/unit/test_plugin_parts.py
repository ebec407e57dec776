"""The plugin's own decisions, each on plain data (whole runs of it: test_plugin_runs.py)."""
from pathlib import Path
from types import SimpleNamespace

import pytest

from virtnat import plugin
from virtnat.fixtures import Unavailable
from virtnat.report.results import CheckResult
from virtnat.state import CHECKS_DIR, AuditState


class Options:
    def __init__(self, **values):
        self.values = values

    def getoption(self, name, default=None):
        return self.values.get(name, default)


def config(args, cwd=CHECKS_DIR.parent, pyargs=False):
    return SimpleNamespace(args=args, invocation_params=SimpleNamespace(dir=cwd), option=SimpleNamespace(pyargs=pyargs))


@pytest.mark.parametrize("args, cwd, audit", [
    ([], CHECKS_DIR.parent, True),                       # pytest in the checkout: testpaths = tests
    (["tests"], CHECKS_DIR.parent, True),
    (["tests/network/test_bridge.py::test_bridge_is_up"], CHECKS_DIR.parent, True),
    ([str(CHECKS_DIR.parent)], Path("/"), True),          # a folder above the checks
    (["."], CHECKS_DIR / "network", True),
    (["selftests/unit"], CHECKS_DIR.parent, False),
    (["selftests/unit", "tests/vm"], CHECKS_DIR.parent, True),
    (["/proc"], CHECKS_DIR.parent, False),
    (["../tests2"], CHECKS_DIR, False),
    (["network"], CHECKS_DIR, True),                     # relative to where pytest was started
    (["tests::test_x"], CHECKS_DIR.parent, True),        # a node id: the path is before ::
    ([f"{CHECKS_DIR.parent}::x"], Path("/"), True),
])
def test_a_run_is_an_audit_when_it_collects_the_checks(args, cwd, audit):
    assert plugin._is_audit(config(args, cwd)) is audit


@pytest.mark.parametrize("args, audit", [
    (["virtnat.catalog"], True),                # pytest --pyargs virtnat.catalog: the built-in checks, wherever installed
    (["virtnat"], True),                        # the package above them
    (["virtnat.report"], False),
    (["virtnat.report.junit"], False),          # a module
    (["no.such.module"], False),
    (["selftests.unit", "virtnat.catalog"], True),
    (["tests"], True),                          # a path still works with --pyargs
])
def test_with_pyargs_a_module_name_names_the_checks(args, audit):
    assert plugin._is_audit(config(args, CHECKS_DIR.parent, pyargs=True)) is audit


def test_without_pyargs_a_module_name_is_a_path():
    assert plugin._is_audit(config(["virtnat.catalog"], CHECKS_DIR.parent)) is False


def test_only_a_configured_audit_has_state_and_only_xdist_workers_have_workerinput():
    config = SimpleNamespace(stash=pytest.Stash())
    assert plugin.state_of(config) is None
    config.stash[plugin.STATE] = "state"
    assert plugin.state_of(config) == "state"
    assert plugin._is_worker(SimpleNamespace(workerinput={})) and not plugin._is_worker(SimpleNamespace())


def results_state(*outcomes):
    state = AuditState(Options(facts=__file__))  # any existing file: no host is contacted
    for n, (impact, outcome) in enumerate(outcomes):
        state.results.record(str(n), CheckResult("hv1", f"NET-{n}", "t", impact, None, outcome, "", ""))
    return state


@pytest.mark.parametrize("outcomes, threshold, fails", [
    ([("low", "failed")], "low", True),
    ([("low", "failed")], "medium", False),
    ([("medium", "error")], "medium", True),
    ([("high", "failed")], "critical", False),
    ([("critical", "failed")], "critical", True),
    ([("critical", "passed"), ("critical", "skipped")], "low", False),
    ([("unknown", "failed")], "critical", True),  # an impact nobody named counts as the highest
    ([("low", "failed"), ("critical", "error")], "high", True),
    ([], "low", False),
])
def test_the_run_fails_only_at_or_above_the_threshold(outcomes, threshold, fails):
    assert plugin._fails(results_state(*outcomes), threshold) is fails


def test_a_checks_subject_values_for_remediations():
    assert plugin._subject_values(None) == {"guest": "<guest>", "tap": "<tap>"}
    assert plugin._subject_values(Unavailable("no guest", skip=True)) == {"guest": "<guest>", "tap": "<tap>"}
    assert plugin._subject_values(SimpleNamespace(guest="web1", tap="vnet3")) == {"guest": "web1", "tap": "vnet3"}
    assert plugin._subject_values(SimpleNamespace(guest="web1", tap=None)) == {"guest": "web1", "tap": "<tap>"}


def test_the_recorder_keeps_virtnats_results_only():
    state = results_state()
    recorder = plugin.Recorder(state)
    data = dict(host="hv1", id="NET-07", title="t", impact="high", subject=None, outcome="failed", message="m",
                remediation="r")
    judged = {"text": "walk", "facts": ["system"]}
    recorder.pytest_runtest_logreport(SimpleNamespace(nodeid="n1", virtnat=data, virtnat_evidence=judged))
    recorder.pytest_runtest_logreport(SimpleNamespace(nodeid="n2"))  # a report without a check's data
    guest = dict(data, id="VM-02", subject="g:vnet0")
    recorder.pytest_runtest_logreport(SimpleNamespace(nodeid="n3", virtnat=guest, virtnat_evidence={"text": "", "facts": []}))
    assert state.results.checks == {"n1": CheckResult(**data), "n3": CheckResult(**guest)}
    assert state.evidence == {"hv1": {"NET-07": judged, "VM-02[g:vnet0]": {"text": "", "facts": []}}}


def paths_state(tmp_path, **options):
    return AuditState(Options(facts=__file__, report_dir=str(tmp_path / "reports"), **options))


def test_writable_report_paths_change_nothing(tmp_path):
    state = paths_state(tmp_path, audit_json=str(tmp_path / "out/a.json"))
    plugin._check_report_paths(None, state)
    assert (state.error, state.reports_written, state.json_written) == (None, True, True)
    assert (tmp_path / "reports").is_dir() and (tmp_path / "out").is_dir()


def test_an_unwritable_report_dir_stops_the_reports_but_not_an_audit_json_elsewhere(tmp_path):
    (tmp_path / "reports").write_text("a file")
    state = paths_state(tmp_path, audit_json=str(tmp_path / "a.json"))
    plugin._check_report_paths(None, state)
    assert state.error == f"--report-dir={tmp_path}/reports: cannot write reports there: Not a directory"
    assert (state.reports_written, state.json_written) == (False, True)


def test_an_unwritable_report_dir_stops_the_default_json_too(tmp_path):
    (tmp_path / "reports").write_text("a file")
    state = paths_state(tmp_path)
    plugin._check_report_paths(None, state)
    assert (state.reports_written, state.json_written) == (False, False)


def test_an_unwritable_default_report_dir_says_how_to_choose_another(tmp_path, monkeypatch):
    (tmp_path / "state").write_text("a file")
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    state = AuditState(Options(facts=__file__))
    plugin._check_report_paths(None, state)
    assert state.error == (f"the default report directory {tmp_path}/state/reports (--report-dir=DIR for another): "
                           "cannot write reports there: Not a directory")


def test_an_unwritable_audit_json_is_named(tmp_path):
    (tmp_path / "file").write_text("")
    state = paths_state(tmp_path, audit_json=str(tmp_path / "file/a.json"))
    plugin._check_report_paths(None, state)
    assert state.error == f"--audit-json={tmp_path}/file/a.json: cannot write reports there: Not a directory"
    assert (state.reports_written, state.json_written) == (True, False)


def test_the_first_problem_is_the_one_reported(tmp_path):
    (tmp_path / "reports").write_text("a file")
    (tmp_path / "file").write_text("")
    state = paths_state(tmp_path, audit_json=str(tmp_path / "file/a.json"))
    state.error = "profile x: broken"
    plugin._check_report_paths(None, state)
    assert state.error == "profile x: broken"
    assert (state.reports_written, state.json_written) == (False, False)
