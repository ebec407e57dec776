"""The plugin's hooks called one at a time on a real pytest config (pytester.parseconfig), without
running an audit: what each sets, registers, parametrizes, records and writes. Whole runs:
test_plugin_runs.py."""
import base64
import json
import pickle
import re
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from _pytest.config.argparsing import Parser

from selftests.unit.checkrun import DATA
from selftests.unit.test_results import Terminal
from virtnat import plugin
from virtnat.report.finish import Outputs
from virtnat.failures import ShortFailures
from virtnat.fixtures import FINDINGS, FIX, RunFixtures, Unavailable
from virtnat.report.results import CheckResult
from virtnat.state import CHECKS_DIR

PROJECT = Path(__file__).resolve().parents[2]

HEALTHY = DATA / "libvirt9" / "healthy.txt"
DOCKER_NFT = DATA / "libvirt11-nftables" / "docker-forward-drop.txt"


# -- options ----------------------------------------------------------------------------------

def plugin_options():
    parser = Parser(_ispytest=True)
    plugin.pytest_addoption(parser)
    return parser, parser.getgroup("virtnat")


def readme_options() -> dict[str, tuple[str, str]]:
    """README's table of options: --name -> (the option as written, its meaning without backticks)."""
    rows = re.findall(r"^\| `(--[\w-]+)(=[^`]*)?` \| (.+) \|$", (PROJECT / "README.md").read_text(), re.M)
    return {name: (name + value, meaning.replace("`", "")) for name, value, meaning in rows}


def test_the_readme_documents_each_option_as_pytest_help_says_it():
    parser, group = plugin_options()
    documented = readme_options()
    for option in group.options:
        [name] = option.names()
        attrs = option.attrs()
        written = name if attrs["nargs"] == 0 else f"{name}={attrs['metavar']}"  # a switch takes no value
        assert documented[name] == (written, attrs["help"]), name


def test_option_defaults_and_values():
    parser, group = plugin_options()
    assert [o.names()[0] for o in group.options] == [
        "--profile", "--audit-json", "--report-dir", "--libvirt-uri", "--connect-timeout", "--fail-on",
        "--command-timeout", "--facts", "--waivers", "--prometheus", "--prometheus-detail", "--keep", "--part", "--stats-json"]
    defaults = vars(parser.parse_known_args([]))
    del defaults["file_or_dir"]  # pytest's own
    assert defaults == {
        "profile": None, "audit_json": None, "report_dir": None, "libvirt_uri": None, "connect_timeout": 10,
        "fail_on": "low", "command_timeout": 60, "facts": None, "waivers": None, "prometheus": None, "prometheus_detail": False,
        "keep": None, "part": None, "stats_json": None}
    given = parser.parse_known_args(["--connect-timeout=3", "--command-timeout=7", "--fail-on=high", "--facts=a,b", "--keep=2"])
    assert (given.connect_timeout, given.command_timeout, given.fail_on, given.facts, given.keep) == (3, 7, "high", "a,b", 2)


def test_pytest_help_shows_the_options_under_virtnats_heading(pytester):
    out = pytester.runpytest_inprocess("--help").stdout.str()
    assert "\nvirtnat compliance audit:\n  --profile=FILE" in out


@pytest.mark.parametrize("argument", ["--connect-timeout=0", "--command-timeout=0", "--command-timeout=x",
                                      "--fail-on=severe", "--keep=0"])
def test_option_values_that_cannot_work_are_refused(argument):
    parser, _ = plugin_options()
    with pytest.raises(pytest.UsageError):
        parser.parse_known_args([argument])


# -- configure --------------------------------------------------------------------------------

@pytest.fixture
def configured(pytester, tmp_path, monkeypatch):
    """pytest_configure on a real config of an audit of recorded facts; the config."""
    hooks = []
    monkeypatch.setattr(plugin.sys, "addaudithook", hooks.append)

    def configure(*args, checks=str(CHECKS_DIR)):
        config = pytester.parseconfig(checks, f"--report-dir={tmp_path / 'reports'}", *args)
        config.audit_hooks = hooks
        plugin.pytest_configure(config)
        return config
    return configure


def test_a_run_of_other_tests_gets_the_marker_and_nothing_else(configured):
    config = configured(checks=str(Path(__file__).parent))
    assert "control(id, title, impact, remediation): a compliance check of virtnat" in config.getini("markers")
    assert plugin.state_of(config) is None
    assert config.pluginmanager.get_plugin("virtnat-recorder") is None
    assert config.option.tbstyle == "auto" and not config.option.xmlpath and not config.option.htmlpath


def test_an_audit_writes_every_report_to_the_report_dir_by_default(configured, tmp_path):
    config = configured(f"--facts={HEALTHY}")
    audit = plugin.state_of(config)
    plan = audit.plan
    assert audit.error is None and [t.name for t in plan.targets] == ["healthy"]
    assert not config.option.htmlpath and not config.option.xmlpath  # virtnat writes its own, not pytest-html and junitxml
    reports = tmp_path / "reports"
    assert plan.outputs == Outputs(json=reports / f"{plan.outputs.json.stem}.json", html=reports / f"{plan.outputs.json.stem}.html",
                                   junit=reports / f"{plan.outputs.json.stem}.xml", latest_json=reports / "latest.json",
                                   latest_html=reports / "latest.html", prune_dir=reports)
    assert (config.option.tbstyle, config.option.reportchars) == ("no", "N")
    assert config.pluginmanager.get_plugin("virtnat-recorder") is audit.record
    assert config.pluginmanager.get_plugin("virtnat-html") is plugin.html_columns
    assert config.audit_hooks == []  # processes are counted only for --stats-json
    assert audit.collection is not None and plan.targets[0].facts_started  # collection started here
    audit.wait_for_facts()
    assert "default" in plan.targets[0].facts.libvirt().networks


def test_paths_and_styles_given_by_the_user_stay(configured, tmp_path):
    html, xml = tmp_path / "mine.html", tmp_path / "mine.xml"
    config = configured(f"--facts={HEALTHY}", f"--html={html}", f"--junitxml={xml}", "--tb=short", "-rA")
    plan = plugin.state_of(config).plan  # pytest-html and junitxml write theirs; virtnat's own are in the report dir
    for given, asked in ((config.option.htmlpath, html), (config.option.xmlpath, xml)):
        staged = Path(given)  # moved onto the path asked for at the end (test_passthrough.py)
        assert staged.name == asked.name and staged.parent.parent == tmp_path
        assert staged.parent.name.startswith(f".{asked.name}.") and stat.S_IMODE(staged.parent.stat().st_mode) == 0o700
    assert config.pluginmanager.get_plugin("virtnat-passthrough").staged[0].target == html
    assert plan.outputs.html.parent == plan.outputs.junit.parent == tmp_path / "reports"
    assert (config.option.tbstyle, config.option.reportchars) == ("short", "A")


def test_stats_json_counts_the_processes_of_the_run(configured, tmp_path):
    config = configured(f"--facts={HEALTHY}", f"--stats-json={tmp_path / 's.json'}")
    assert config.audit_hooks == [plugin.state_of(config).count_spawn]


@pytest.mark.parametrize("args, dist", [
    (["-n", "2"], "loadgroup"),                         # one worker per host: its facts stay in one place
    (["-n", "2", "--dist=load"], "loadgroup"),
    (["-n", "2", "--dist=loadscope"], "loadscope"),      # the user's own choice stays
    ([], "no"),
])
def test_xdist_workers_get_one_host_each(configured, args, dist):
    config = configured(f"--facts={HEALTHY}", *args)
    assert config.option.dist == dist


def test_a_usage_error_collects_nothing_and_collect_only_contacts_no_host(configured):
    broken = configured(f"--facts={HEALTHY}", "--profile=/nonexistent.toml")
    assert plugin.state_of(broken).error and plugin.state_of(broken).collection is None
    listing = configured(f"--facts={HEALTHY}", "--collect-only")
    assert plugin.state_of(listing).error is None and plugin.state_of(listing).collection is None


def test_an_unwritable_report_dir_writes_no_html_or_junit(configured, tmp_path):
    (tmp_path / "reports").write_text("a file")
    config = configured(f"--facts={HEALTHY}")
    audit = plugin.state_of(config)
    assert audit.error.startswith(f"--report-dir={tmp_path / 'reports'}: ")
    assert audit.plan.outputs == Outputs(json=None, html=None, junit=None)


@pytest.mark.parametrize("given, keep", [([], None), (["--keep=3"], 3)])
def test_prometheus_and_keep_reach_the_finish(configured, tmp_path, given, keep):
    config = configured(f"--facts={HEALTHY}", f"--prometheus={tmp_path / 'node' / 'virtnat.prom'}", *given)
    outputs = plugin.state_of(config).plan.outputs
    assert (outputs.prometheus, outputs.keep, outputs.prune_dir) == (tmp_path / "node" / "virtnat.prom", keep, tmp_path / "reports")


def test_an_unwritable_prometheus_path_is_a_usage_error_and_the_other_reports_are_written(configured, tmp_path):
    (tmp_path / "node").write_text("a file")
    config = configured(f"--facts={HEALTHY}", f"--prometheus={tmp_path / 'node' / 'virtnat.prom'}")
    audit = plugin.state_of(config)
    assert audit.error == f"--prometheus={tmp_path / 'node' / 'virtnat.prom'}: cannot write reports there: Not a directory"
    assert audit.plan.outputs.prometheus is None and audit.plan.outputs.json.parent == tmp_path / "reports"


def test_workers_take_the_controllers_facts_and_nothing_else(configured, pytester, tmp_path):
    controller = configured(f"--facts={HEALTHY}")
    node = SimpleNamespace(config=controller, workerinput={})
    plugin.pytest_configure_node(node)
    collected = pickle.loads(base64.b64decode(node.workerinput[plugin.FACTS_KEY]))
    assert collected == [plugin.state_of(controller).plan.targets[0].facts.collected()]

    worker = pytester.parseconfig(str(CHECKS_DIR), f"--facts={DOCKER_NFT}", f"--report-dir={tmp_path / 'w'}")
    worker.workerinput = node.workerinput
    plugin.pytest_configure(worker)
    audit = plugin.state_of(worker)
    assert audit.collection is None and worker.pluginmanager.get_plugin("virtnat-recorder") is None
    # the facts are the controller's (healthy), not those of the file named on the worker's command line
    assert audit.plan.targets[0].facts.collected() == collected[0]
    assert not (tmp_path / "w").exists()


def test_no_facts_are_handed_over_when_the_run_stopped_early(configured):
    node = SimpleNamespace(config=configured(f"--facts={HEALTHY}", "--profile=/nonexistent.toml"), workerinput={})
    plugin.pytest_configure_node(node)
    assert node.workerinput == {}
    bare = SimpleNamespace(config=SimpleNamespace(stash=pytest.Stash()), workerinput={})
    plugin.pytest_configure_node(bare)
    assert bare.workerinput == {}


# -- parametrization and collection -----------------------------------------------------------

class Metafunc:
    def __init__(self, config, *fixturenames):
        self.config, self.fixturenames, self.calls = config, fixturenames, []

    def parametrize(self, *args, **kwargs):
        self.calls.append((args, kwargs))


def test_host_checks_run_once_per_host(configured):
    config = configured(f"--facts={HEALTHY},{DOCKER_NFT}")
    metafunc = Metafunc(config, "target", "firewall")
    plugin.pytest_generate_tests(metafunc)
    targets = plugin.state_of(config).plan.targets
    assert metafunc.calls == [(("target", targets), {"ids": ["healthy", "docker-forward-drop"], "scope": "module"})]


def test_guest_checks_run_once_per_guest_interface_named_by_host_when_there_are_several(configured):
    one = configured(f"--facts={HEALTHY}")
    metafunc = Metafunc(one, "target", "guest_nic")
    plugin.pytest_generate_tests(metafunc)
    [((names, pairs), kwargs)] = metafunc.calls
    assert names == ("target", "guest_nic")
    assert kwargs == {"ids": ["virtnat-guest:vnet0"], "indirect": ["guest_nic"], "scope": "module"}
    assert [(t.name, n.label) for t, n in pairs] == [("healthy", "virtnat-guest:vnet0")]

    two = configured(f"--facts={HEALTHY},{DOCKER_NFT}")
    metafunc = Metafunc(two, "target", "guest_nic")
    plugin.pytest_generate_tests(metafunc)
    assert metafunc.calls[0][1]["ids"] == ["healthy-virtnat-guest:vnet0", "docker-forward-drop-virtnat-guest:vnet0"]


def test_without_hosts_each_check_still_runs_once_to_say_why(configured):
    config = configured(f"--facts={HEALTHY}", "--profile=/nonexistent.toml")
    audit = plugin.state_of(config)
    host = Metafunc(config, "target")
    plugin.pytest_generate_tests(host)
    assert host.calls == [(("target", [None]), {"ids": ["no-host"], "scope": "module"})]
    guest = Metafunc(config, "target", "guest_nic")
    plugin.pytest_generate_tests(guest)
    [((_, [(target, nic)]), kwargs)] = guest.calls
    assert target is None and kwargs["ids"] == ["no-facts"]
    assert (nic.reason, nic.skip) == (audit.error, False)


def test_tests_that_take_no_host_and_runs_that_are_no_audit_are_left_alone(configured):
    metafunc = Metafunc(configured(f"--facts={HEALTHY}"), "tmp_path")
    plugin.pytest_generate_tests(metafunc)
    other = Metafunc(configured(checks=str(Path(__file__).parent)), "target")
    plugin.pytest_generate_tests(other)
    assert metafunc.calls == other.calls == []


class Item:
    made = 0

    def __init__(self, target=None, callspec=True):
        if callspec:
            self.callspec = SimpleNamespace(params={"target": target} if target else {})
        self.markers = []
        Item.made += 1
        self.path, self.originalname = CHECKS_DIR / "host" / "test_x.py", f"test_{Item.made}"
        self.control = {"id": f"X-{Item.made}", "title": "t", "impact": "low", "remediation": "r"}

    def get_closest_marker(self, name):
        return SimpleNamespace(kwargs=self.control) if name == "control" else None

    def add_marker(self, marker):
        self.markers.append(marker)


def test_each_hosts_checks_are_grouped_for_one_xdist_worker(configured):
    config = configured(f"--facts={HEALTHY}", "-n", "2")
    target = plugin.state_of(config).plan.targets[0]
    items = [Item(target), Item(), Item(callspec=False)]
    plugin.pytest_collection_modifyitems(None, config, items)
    assert len(items) == 3
    assert [(m.name, m.args) for m in items[0].markers] == [("xdist_group", ("healthy",))]
    assert items[1].markers == items[2].markers == []


@pytest.mark.parametrize("workers", [[], ["-n", "0"]], ids=["no -n", "-n 0"])
def test_one_process_groups_nothing(configured, workers):
    config = configured(f"--facts={HEALTHY}", *workers)
    items = [Item(plugin.state_of(config).plan.targets[0])]
    plugin.pytest_collection_modifyitems(None, config, items)
    assert items[0].markers == []


def test_a_check_without_a_control_is_a_usage_error_before_any_runs(configured):
    config = configured(f"--facts={HEALTHY}")
    config.hook.pytest_deselected = lambda items: None
    items = [Item(), Item()]
    items[1].control = None
    items[1].get_closest_marker = lambda name: None
    plugin.pytest_collection_modifyitems(None, config, items)
    audit = plugin.state_of(config)
    assert items == [] and audit.record.check_problem.startswith("virtnat's host/test_x.py::test_")
    assert audit.error == audit.record.check_problem and audit.plan.error is None  # the plan stays as it was


def test_a_usage_error_deselects_every_check(configured):
    config = configured(f"--facts={HEALTHY}", "--profile=/nonexistent.toml")
    deselected = []
    config.hook.pytest_deselected = lambda items: deselected.extend(items)
    items = [Item(), Item()]
    kept = list(items)
    plugin.pytest_collection_modifyitems(None, config, items)
    assert items == [] and deselected == kept


def test_other_runs_keep_their_items():
    items = [Item(), Item()]
    plugin.pytest_collection_modifyitems(None, SimpleNamespace(stash=pytest.Stash()), items)
    assert len(items) == 2 and items[0].markers == []


# -- each check's result ----------------------------------------------------------------------

CONTROL = pytest.mark.control(id="NET-07", title="virbr0 is up", impact="high", remediation="ip link set {bridge} up")


class CheckItem:
    def __init__(self, config, marker=CONTROL.mark, **params):
        self.config, self.marker, self.name = config, marker, "test_bridge_is_up"
        self.callspec = SimpleNamespace(params=params)
        self.user_properties = []
        self.stash = pytest.Stash()
        self.fixturenames = ["request", "target", "links", "note", *params]  # as pytest lists them

    def get_closest_marker(self, name):
        return self.marker if name == "control" else None


class Report:
    def __init__(self, outcome="passed", longreprtext=""):
        self.skipped, self.failed = outcome == "skipped", outcome == "failed"
        self.longreprtext = longreprtext


def make_report(item, when="call", report=None, excinfo=None):
    report = report or Report()
    hook = plugin.pytest_runtest_makereport(item, SimpleNamespace(when=when, excinfo=excinfo))
    next(hook)
    with pytest.raises(StopIteration) as done:
        hook.send(report)
    assert done.value.value is report
    return report


def test_a_passing_check_reports_its_notes_and_control(configured):
    config = configured(f"--facts={HEALTHY}")
    target = plugin.state_of(config).plan.targets[0]
    item = CheckItem(config, target=target)
    FINDINGS.note("iptables backend")  # as the check's note and evidence fixtures record them
    FINDINGS.note("STP on")
    FINDINGS.evidence("walk")
    report = make_report(item)
    assert report.virtnat == dict(host="healthy", id="NET-07", title="virbr0 is up", impact="high", subject=None,
                                  outcome="passed", message="iptables backend; STP on", remediation="ip link set virbr0 up",
                                  waiver=None)
    assert report.virtnat_evidence == {"text": "walk", "facts": ["links"]}
    assert item.user_properties[2:] == [("id", "NET-07"), ("title", "virbr0 is up"), ("impact", "high"),
                                        ("remediation", "ip link set virbr0 up")]


def test_a_failure_says_its_first_line_and_the_checks_own_fix(configured):
    config = configured(f"--facts={HEALTHY}")
    nic = plugin.state_of(config).plan.targets[0].facts.libvirt().guest_nics[0]
    item = CheckItem(config, pytest.mark.control(id="VM-04", remediation="virsh start {guest} # {tap}").mark,
                     target=plugin.state_of(config).plan.targets[0], guest_nic=nic)
    excinfo = SimpleNamespace(value=AssertionError("vnet0 is not on virbr0\nassert False"))
    report = make_report(item, report=Report("failed"), excinfo=excinfo)
    assert report.virtnat["message"] == "vnet0 is not on virbr0"
    assert report.virtnat["subject"] == "virtnat-guest:vnet0"
    assert (report.virtnat["title"], report.virtnat["impact"]) == ("", "")
    assert report.virtnat["remediation"] == "virsh start virtnat-guest # vnet0"
    assert report.virtnat_evidence == {"text": "", "facts": ["libvirt", "links"]}  # guest_nic: libvirt's facts
    item.stash[FIX] = "nft insert rule ip filter FORWARD accept"
    assert make_report(item, report=Report("failed"), excinfo=excinfo).virtnat["remediation"] == \
        "nft insert rule ip filter FORWARD accept"


def test_a_check_without_parameters_or_remediation_reports_as_much(configured):
    config = configured(f"--facts={HEALTHY}")
    item = CheckItem(config, pytest.mark.control(id="HOST-99").mark)
    del item.callspec  # not parametrized: no host
    report = make_report(item, report=Report("failed"), excinfo=SimpleNamespace(value=AssertionError("broken")))
    assert (report.virtnat["host"], report.virtnat["remediation"], report.virtnat["message"]) == ("?", "", "broken")


WAIVERS = """[[waiver]]
check = "NET-07"
hosts = "heal*"
reason = "{reason}"
expires = {expires}
"""


@pytest.mark.parametrize("hosts, expires, outcome, message, waiver", [
    ("heal*", "2099-12-31", "waived", "virbr0 is DOWN", {"reason": "CHG-1", "expires": "2099-12-31"}),
    ("heal*", "2020-01-01", "failed", "virbr0 is DOWN (its waiver expired after 2020-01-01: CHG-1)", None),
    ("hv-*", "2099-12-31", "failed", "virbr0 is DOWN", None),  # another host's waiver
])
def test_a_failure_a_waiver_covers_is_waived_until_it_expires(configured, tmp_path, hosts, expires, outcome, message, waiver):
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(WAIVERS.replace("heal*", hosts).format(reason="CHG-1", expires=expires))
    config = configured(f"--facts={HEALTHY}", f"--waivers={waivers}")
    item = CheckItem(config, target=plugin.state_of(config).plan.targets[0])
    excinfo = SimpleNamespace(value=AssertionError("virbr0 is DOWN"))
    report = make_report(item, report=Report("failed"), excinfo=excinfo)
    assert (report.virtnat["outcome"], report.virtnat["message"], report.virtnat["waiver"]) == (outcome, message, waiver)
    passed = make_report(CheckItem(config, target=plugin.state_of(config).plan.targets[0]))
    assert (passed.virtnat["outcome"], passed.virtnat["waiver"]) == ("passed", None)  # only failures are waived


def test_without_an_exception_the_last_line_of_the_report_is_the_message(configured):
    item = CheckItem(configured(f"--facts={HEALTHY}"))
    report = make_report(item, report=Report("failed", "E  one\nE  two\n"))
    assert (report.virtnat["host"], report.virtnat["message"]) == ("?", "E  two")
    assert make_report(CheckItem(item.config), report=Report("failed", "")).virtnat["message"] == ""


def test_a_guest_check_without_a_guest_names_none(configured):
    config = configured(f"--facts={HEALTHY}")
    item = CheckItem(config, pytest.mark.control(id="VM-01", remediation="virsh domiflist {guest} {tap}").mark,
                     guest_nic=Unavailable("no running guest", skip=True))
    report = make_report(item, report=Report("skipped"))
    assert (report.virtnat["outcome"], report.virtnat["subject"]) == ("skipped", None)
    assert report.virtnat["remediation"] == "virsh -r list --all && virsh -r net-dhcp-leases default"  # guests to pick from


def test_the_id_is_the_test_name_for_a_control_without_one(configured):
    item = CheckItem(configured(f"--facts={HEALTHY}"), pytest.mark.control(title="t").mark)
    assert make_report(item).virtnat["id"] == "test_bridge_is_up"


def test_a_setup_that_passes_decides_nothing_and_a_teardown_error_decides_once(configured):
    item = CheckItem(configured(f"--facts={HEALTHY}"))
    assert not hasattr(make_report(item, when="setup"), "virtnat")
    make_report(item)
    teardown = make_report(item, when="teardown", report=Report("failed"), excinfo=SimpleNamespace(value=OSError("gone")))
    assert (teardown.virtnat["outcome"], teardown.virtnat["message"]) == ("error", "OSError: gone")
    assert [k for k, _ in item.user_properties] == ["id", "title", "impact", "remediation"]


def test_tests_that_are_no_check_and_runs_that_are_no_audit_get_nothing(configured):
    config = configured(f"--facts={HEALTHY}")
    assert not hasattr(make_report(CheckItem(config, marker=None)), "virtnat")
    other = CheckItem(configured(checks=str(Path(__file__).parent)))
    assert not hasattr(make_report(other), "virtnat") and other.user_properties == []


# -- the end of the run -----------------------------------------------------------------------

def record(audit, *outcomes):
    """Checks' results, as the recorder takes them from pytest's reports."""
    for n, (impact, outcome) in enumerate(outcomes):
        data = vars(CheckResult("healthy", f"NET-{n:02}", "t", impact, None, outcome, "m", "fix"))
        audit.record.pytest_runtest_logreport(SimpleNamespace(nodeid=str(n), virtnat=data, virtnat_evidence={}))


@pytest.mark.parametrize("outcomes, fail_on, status, code", [
    ([("low", "passed")], "low", pytest.ExitCode.OK, 0),
    ([("low", "failed")], "low", pytest.ExitCode.TESTS_FAILED, 1),
    ([("low", "failed")], "high", pytest.ExitCode.TESTS_FAILED, 0),   # below the threshold: exit 0
    ([("high", "error")], "high", pytest.ExitCode.OK, 1),             # pytest's OK, virtnat's error counts
    ([("low", "passed")], "low", pytest.ExitCode.INTERRUPTED, 2),     # pytest's own ends stay
    ([("critical", "failed")], "low", pytest.ExitCode.INTERNAL_ERROR, 3),
])
def test_the_exit_code_is_decided_by_the_checks_at_or_above_fail_on(configured, outcomes, fail_on, status, code):
    config = configured(f"--facts={HEALTHY}", f"--fail-on={fail_on}")
    record(plugin.state_of(config), *outcomes)
    session = SimpleNamespace(config=config, exitstatus=status)
    plugin.pytest_sessionfinish(session, status)
    assert session.exitstatus == code


def test_the_json_document_and_its_latest_copy_are_written_at_the_end(configured, tmp_path):
    config = configured(f"--facts={HEALTHY}", f"--stats-json={tmp_path / 'stats.json'}")
    audit = plugin.state_of(config)
    record(audit, ("high", "failed"))
    plugin.pytest_sessionfinish(SimpleNamespace(config=config, exitstatus=1), 1)
    import gc
    assert gc.get_freeze_count() > 0  # what the checks made, frozen for pytest's last collections (the cleanup gives it back)
    json_path = audit.plan.outputs.json
    document = json.loads(json_path.read_text())
    assert json_path.parent == tmp_path / "reports"
    assert document["profile"] == audit.plan.profile.as_dict() and "error" not in document
    assert [(h["host"], h["summary"]["failed"]) for h in document["hosts"]] == [("healthy", 1)]
    assert (tmp_path / "reports" / "latest.json").read_text() == json_path.read_text()
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert list(stats["hosts"]) == ["healthy"] and stats["collection_wall_seconds"] >= 0


def test_an_audit_json_elsewhere_is_not_the_latest(configured, tmp_path):
    config = configured(f"--facts={HEALTHY}", f"--audit-json={tmp_path / 'out.json'}")
    plugin.pytest_sessionfinish(SimpleNamespace(config=config, exitstatus=0), 0)
    assert json.loads((tmp_path / "out.json").read_text())["hosts"] == []
    assert not (tmp_path / "reports" / "latest.json").exists() and not (tmp_path / "stats.json").exists()


def test_a_usage_error_exits_4_with_the_error_and_no_profile(configured, tmp_path):
    config = configured(f"--facts={HEALTHY}", "--profile=/nonexistent.toml")
    audit = plugin.state_of(config)
    session = SimpleNamespace(config=config, exitstatus=pytest.ExitCode.NO_TESTS_COLLECTED)
    plugin.pytest_sessionfinish(session, session.exitstatus)
    assert session.exitstatus == pytest.ExitCode.USAGE_ERROR
    document = json.loads(audit.plan.outputs.json.read_text())
    assert document["error"] == audit.error and document["profile"] is None


def test_without_a_writable_json_nothing_is_written(configured, tmp_path):
    (tmp_path / "file").write_text("")
    config = configured(f"--facts={HEALTHY}", f"--audit-json={tmp_path / 'file' / 'a.json'}")
    plugin.pytest_sessionfinish(SimpleNamespace(config=config, exitstatus=0), 0)
    assert sorted(p.name.split("-2")[0] for p in (tmp_path / "reports").iterdir()) == ["healthy", "healthy", "latest.html"]
    assert not any(p.suffix == ".json" for p in (tmp_path / "reports").iterdir())  # the HTML and JUnit are written


def test_workers_and_other_runs_write_nothing(configured, tmp_path):
    config = configured(f"--facts={HEALTHY}")
    config.workerinput = {}
    session = SimpleNamespace(config=config, exitstatus=1)
    plugin.pytest_sessionfinish(session, 1)
    other = SimpleNamespace(config=configured(checks=str(Path(__file__).parent)), exitstatus=1)
    plugin.pytest_sessionfinish(other, 1)
    assert session.exitstatus == other.exitstatus == 1
    assert list((tmp_path / "reports").iterdir()) == []


def test_the_terminal_summary_is_virtnats_for_an_audit_only(configured):
    config = configured(f"--facts={HEALTHY}")
    record(plugin.state_of(config), ("high", "failed"))
    terminal = Terminal()
    plugin.pytest_terminal_summary(terminal, config)
    assert [line for line, _ in terminal.lines[:3]] == ["--- virtnat: healthy", "NET-00  FAILED  t: m", "                fix: fix"]
    other = Terminal()
    plugin.pytest_terminal_summary(other, configured(checks=str(Path(__file__).parent)))
    assert other.lines == []
    worker = configured(f"--facts={HEALTHY}")
    worker.workerinput = {}
    plugin.pytest_terminal_summary(other, worker)  # the controller prints the fleet's summary
    assert other.lines == []


def test_an_audits_fixtures_are_registered_under_virtnats_name_with_its_profile(configured):
    config = configured(f"--facts={HEALTHY}")
    fixtures = config.pluginmanager.get_plugin("virtnat-run-fixtures")
    assert isinstance(fixtures, RunFixtures) and fixtures._profile is plugin.state_of(config).plan.profile


def test_short_failures_are_registered_under_virtnats_name_unless_a_traceback_is_asked_for(configured):
    assert isinstance(configured(f"--facts={HEALTHY}").pluginmanager.get_plugin("virtnat-short-failures"), ShortFailures)
    assert configured(f"--facts={HEALTHY}", "--tb=long").pluginmanager.get_plugin("virtnat-short-failures") is None


def test_the_terminal_summary_names_each_file_of_the_facts_directory_not_audited(configured, tmp_path):
    (tmp_path / "facts").mkdir()
    (tmp_path / "facts" / "healthy.facts").write_bytes(HEALTHY.read_bytes())
    (tmp_path / "facts" / "hv2.facts").symlink_to(tmp_path / "gone")
    terminal = Terminal()
    plugin.pytest_terminal_summary(terminal, configured(f"--facts={tmp_path / 'facts'}"))
    assert terminal.lines[0] == (f"virtnat: --facts: {tmp_path}/facts/hv2.facts is not audited: a symbolic link to nothing",
                                 {"yellow": True})


def test_the_terminal_summary_of_a_usage_error_says_it(configured):
    config = configured(f"--facts={HEALTHY}", "--profile=/nonexistent.toml")
    terminal = Terminal()
    plugin.pytest_terminal_summary(terminal, config)
    assert terminal.lines[0] == ("ERROR: profile /nonexistent.toml: file not found (see profiles/default.toml for an example)",
                                 {"red": True, "bold": True})


def private(path) -> bool:
    """The owner reads and writes, the group reads at most, others nothing."""
    mode = stat.S_IMODE(path.stat().st_mode)
    return mode & 0o600 == 0o600 and mode & ~0o640 == 0


def test_every_report_is_written_at_the_end_private_with_its_latest_copies(configured, tmp_path):
    config = configured(f"--facts={HEALTHY}", f"--prometheus={tmp_path / 'virtnat.prom'}")
    audit = plugin.state_of(config)
    audit.wait_for_facts()
    record(audit, ("high", "failed"))
    plugin.pytest_sessionfinish(SimpleNamespace(config=config, exitstatus=1), 1)
    outputs = audit.plan.outputs
    for path in (outputs.json, outputs.html, outputs.junit, tmp_path / "reports" / "latest.html"):
        assert private(path), path
    assert (tmp_path / "reports" / "latest.html").read_text() == outputs.html.read_text()
    assert "NET-00" in outputs.html.read_text() and 'name="NET-00"' in outputs.junit.read_text()
    assert stat.S_IMODE((tmp_path / "virtnat.prom").stat().st_mode) == 0o644  # node_exporter reads it as another user
    assert audit.record.written.reports == [f"JSON {outputs.json}", f"HTML {outputs.html}", f"JUnit {outputs.junit}",
                                            f"Prometheus {tmp_path / 'virtnat.prom'}"]


def test_a_report_that_cannot_be_written_at_the_end_never_exits_0(configured, tmp_path):
    config = configured(f"--facts={HEALTHY}", f"--prometheus={tmp_path / 'virtnat.prom'}")
    (tmp_path / "virtnat.prom").mkdir()  # made after the start, where the metrics go
    session = SimpleNamespace(config=config, exitstatus=0)
    plugin.pytest_sessionfinish(session, 0)
    assert session.exitstatus == 1
    assert plugin.state_of(config).record.written.problems == [f"cannot write {tmp_path / 'virtnat.prom'}: Is a directory"]


def test_an_audits_objects_are_frozen_from_its_collection_to_its_configs_cleanup(configured, monkeypatch):
    import gc
    at_exit = []
    monkeypatch.setattr(plugin.atexit, "register", at_exit.append)
    monkeypatch.setattr(plugin._freeze_at_exit, "registered", False, raising=False)
    other = configured(checks=str(Path(__file__).parent))
    plugin.pytest_collection_finish(SimpleNamespace(config=other))
    assert gc.get_freeze_count() == 0 and at_exit == [] and gc.isenabled()  # no audit: nothing frozen
    config = configured(f"--facts={HEALTHY}")
    try:
        for _ in range(2):
            plugin.pytest_collection_finish(SimpleNamespace(config=config))
        assert gc.get_freeze_count() > 0 and not gc.isenabled()  # and no automatic pass while the checks run
        assert at_exit == [gc.freeze]  # frozen again at exit, for Python's last collection; registered once
    finally:
        config._ensure_unconfigure()  # runs pytest_unconfigure, then the config's cleanups
    assert gc.get_freeze_count() == 0 and gc.isenabled()
