"""The plugin's own decisions, each on plain data (whole runs of it: test_plugin_runs.py)."""
from pathlib import Path
from types import SimpleNamespace

import pytest

from virtnat import plugin
from virtnat.fixtures import Unavailable
from virtnat.profile import Profile
from virtnat.report.record import Record
from virtnat.report.results import CheckResult, Results
from virtnat.state import CHECKS_DIR


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


def results(*outcomes) -> Results:
    found = Results()
    for n, (impact, outcome) in enumerate(outcomes):
        found.record(str(n), CheckResult("hv1", f"NET-{n}", "t", impact, None, outcome, "", ""))
    return found


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
    assert plugin._fails(results(*outcomes), threshold) is fails


def test_a_checks_marker_names_its_guest_and_tap_or_lists_them():
    guest = "virsh destroy --domain {guest} && virsh start --domain {guest}"
    tap = "ip link set dev {tap} up"
    listing = "virsh -r list --all && virsh -r net-dhcp-leases nat9"
    profile = Profile(network="nat9")
    assert plugin.fill_marker(profile, guest, SimpleNamespace(guest="web 1", tap="vnet3")) == \
        "virsh destroy --domain 'web 1' && virsh start --domain 'web 1'"
    assert plugin.fill_marker(profile, tap, SimpleNamespace(guest="web1", tap="vnet3")) == "ip link set dev vnet3 up"
    assert plugin.fill_marker(profile, guest, SimpleNamespace(guest="web1", tap=None)).startswith("virsh destroy --domain web1")
    assert plugin.fill_marker(profile, tap, SimpleNamespace(guest="web1", tap=None)) == listing
    for nic in (None, Unavailable("no guest", skip=True)):
        assert plugin.fill_marker(profile, guest, nic) == plugin.fill_marker(profile, tap, nic) == listing
        assert plugin.fill_marker(profile, "virsh net-start {network}", nic) == "virsh net-start nat9"


def test_the_recorder_keeps_virtnats_results_only():
    recorder = Record()
    data = dict(host="hv1", id="NET-07", title="t", impact="high", subject=None, outcome="failed", message="m",
                remediation="r")
    judged = {"text": "walk", "facts": ["system"]}
    recorder.pytest_runtest_logreport(SimpleNamespace(nodeid="n1", virtnat=data, virtnat_evidence=judged))
    recorder.pytest_runtest_logreport(SimpleNamespace(nodeid="n2"))  # a report without a check's data
    guest = dict(data, id="VM-02", subject="g:vnet0")
    recorder.pytest_runtest_logreport(SimpleNamespace(nodeid="n3", virtnat=guest, virtnat_evidence={"text": "", "facts": []}))
    assert recorder.results.checks == {"n1": CheckResult(**data), "n3": CheckResult(**guest)}
    assert recorder.evidence == {"hv1": {"NET-07": judged, "VM-02[g:vnet0]": {"text": "", "facts": []}}}


def test_where_a_module_named_by_pyargs_lives(tmp_path, monkeypatch):
    (tmp_path / "nsonly").mkdir()  # a namespace package: no file of its own
    (tmp_path / "pkgx").mkdir()
    (tmp_path / "pkgx" / "__init__.py").write_text("")
    (tmp_path / "modx.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert plugin._module_path("no_such_module_at_all") is None
    assert plugin._module_path("nsonly") is None
    assert plugin._module_path("pkgx") == (tmp_path / "pkgx").resolve()
    assert plugin._module_path("modx") == (tmp_path / "modx.py").resolve()
    assert plugin._module_path("modx.sub") is None  # a module is no package: ImportError's kin


def test_an_item_that_is_no_function_is_named_by_its_name():
    """A doctest or another plugin's item has no originalname: the control problem names it by its name."""
    marked = SimpleNamespace(path=Path("/site/test_a.py"), name="test_a[hv1]", originalname="test_a",
                             get_closest_marker=lambda name: SimpleNamespace(kwargs={"id": "SITE-01"}))
    other = SimpleNamespace(path=Path("/site/notes.txt"), name="notes.txt", get_closest_marker=lambda name: None)
    assert list(plugin._controls([marked, other])) == [(Path("/site/test_a.py"), "test_a", {"id": "SITE-01"}),
                                                       (Path("/site/notes.txt"), "notes.txt", None)]
