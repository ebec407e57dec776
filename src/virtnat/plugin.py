"""The pytest plugin: options, per-host fixtures, the control marker and the reports.

Active for runs that collect the compliance checks (tests/); inert otherwise, so the
project's own selftests run without writing audit reports.
"""
from __future__ import annotations

import datetime as dt
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from .errors import FactError, ProfileError
from .profile import Profile, load_profile
from .report import html as html_report
from .report.json_report import audit_document, write_json
from .report.results import CheckResult, Results, one_line, phase_outcome
from .targets import Target

# The project's checkout: the checks live in tests/, audit reports go to reports/. Found from
# this file, not from pytest's rootdir, which an option value like `--profile /etc/x.toml`
# can mislead (pytest picks the rootdir before plugins declare their options).
PROJECT = Path(__file__).resolve().parents[2]
CHECKS_DIR = PROJECT / "tests"


def pytest_addoption(parser):
    group = parser.getgroup("virtnat", "virtnat compliance audit")
    group.addoption("--profile", default=None, metavar="FILE", help="TOML profile of expected values (default: the document's values)")
    group.addoption("--audit-json", default=None, metavar="PATH", help="write the JSON results to PATH instead of the report directory")
    group.addoption("--report-dir", default=None, metavar="DIR", help="where reports are written (default: reports/ in the project)")
    group.addoption("--libvirt-uri", default=None, metavar="URI", help="libvirt URI to read (default: the profile's, qemu:///system)")
    group.addoption("--stats-json", default=None, metavar="PATH", help="write what collecting facts cost (times, subprocesses, libvirt calls) to PATH")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


class AuditState:
    """Everything one audit run shares: profile, targets, results, report paths."""

    def __init__(self, config):
        self.config = config
        self.started = _utc_now()
        self.error: str | None = None
        try:
            self.profile = load_profile(config.getoption("profile"))
        except ProfileError as exc:
            self.error = str(exc)
            self.profile = Profile()
        uri = config.getoption("libvirt_uri") or self.profile.libvirt_uri
        specs = [s.strip() for s in (config.getoption("hosts", None) or "local://").split(",") if s.strip()]
        self.targets = [Target(spec, uri) for spec in specs]
        self.results = Results()
        self.report_dir = Path(config.getoption("report_dir") or PROJECT / "reports")
        label = self.targets[0].name if len(self.targets) == 1 else f"{len(self.targets)}-hosts"
        stem = f"{label}-{self.started.strftime('%Y%m%dT%H%M%SZ')}"
        self.json_path = Path(config.getoption("audit_json") or self.report_dir / f"{stem}.json")
        self.json_is_default = not config.getoption("audit_json")
        self.html_path = self.report_dir / f"{stem}.html"
        self.xml_path = self.report_dir / f"{stem}.xml"

        self.spawned = 0  # processes this run started, counted by an audit hook (--stats-json)

    def count_spawn(self, event: str, _args) -> None:
        if event in ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.system"):
            self.spawned += 1

    def stats(self) -> dict:
        return {
            "spawned_processes": self.spawned,
            "hosts": {t.name: asdict(t.stats) for t in self.targets},
        }

    @property
    def profile_dict(self) -> dict:
        return self.profile.as_dict()


def _is_audit(config) -> bool:
    """True when the run collects the compliance checks (tests/, a part of it, or a folder above it)."""
    for arg in config.args or [str(CHECKS_DIR)]:
        path = Path(config.invocation_params.dir, str(arg).split("::")[0]).resolve()
        if path == CHECKS_DIR or CHECKS_DIR in path.parents or path in CHECKS_DIR.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "control(id, title, impact, remediation): a compliance check of virtnat")
    if not _is_audit(config) or hasattr(config, "workerinput"):
        return
    state = AuditState(config)
    config._virtnat = state
    state.report_dir.mkdir(parents=True, exist_ok=True)
    # Reports by default: pytest-html and junitxml read these options in their own configure.
    if not getattr(config.option, "htmlpath", None):
        config.option.htmlpath = str(state.html_path)
        config.option.self_contained_html = True
    else:
        state.html_path = Path(config.option.htmlpath)
    if not config.option.xmlpath:
        config.option.xmlpath = str(state.xml_path)
    if config.option.tbstyle == "auto":
        config.option.tbstyle = "no"  # virtnat prints each check's message and fix itself
    if config.option.reportchars == "fE":
        config.option.reportchars = "N"  # virtnat's own summary replaces pytest's short one
    if config.pluginmanager.hasplugin("html"):
        config.pluginmanager.register(html_report, "virtnat-html")
    if config.getoption("stats_json"):
        sys.addaudithook(state.count_spawn)


def _state(config) -> AuditState | None:
    return getattr(config, "_virtnat", None)


# -- parametrization: one test per host, and per guest interface for VM checks ------------------

class Unavailable:
    """Stands in for a guest interface when there is none to check (skip) or none could be listed (error)."""

    def __init__(self, reason: str, skip: bool):
        self.reason, self.skip = reason, skip

    def __repr__(self):
        return "no-guest" if self.skip else "no-facts"


def _guest_params(target: Target, profile: Profile):
    try:
        libvirt = target.facts.libvirt()
    except FactError as exc:
        return [Unavailable(str(exc), skip=False)]
    nics = [n for n in libvirt.guest_nics if n.network == profile.network or (n.network is None and n.bridge == profile.bridge)]
    if not nics:
        return [Unavailable(f"no running guest has an interface on network {profile.network!r}", skip=True)]
    return nics


def pytest_generate_tests(metafunc):
    state = _state(metafunc.config)
    if state is None or "target" not in metafunc.fixturenames:
        return
    if "guest_nic" not in metafunc.fixturenames:
        metafunc.parametrize("target", state.targets, ids=[t.name for t in state.targets], scope="module")
        return
    pairs, ids = [], []
    for target in state.targets:
        params = [Unavailable(state.error, skip=False)] if state.error else _guest_params(target, state.profile)
        for nic in params:
            pairs.append((target, nic))
            label = nic.label if not isinstance(nic, Unavailable) else repr(nic)
            ids.append(f"{target.name}-{label}" if len(state.targets) > 1 else label)
    metafunc.parametrize(("target", "guest_nic"), pairs, ids=ids, indirect=["guest_nic"], scope="module")


def pytest_collection_modifyitems(session, config, items):
    state = _state(config)
    if state is None:
        return
    if state.error:  # a broken profile stops the run before any check
        config.hook.pytest_deselected(items=list(items))
        items[:] = []


# -- fixtures: facts, collected once per host, a one-line ERROR when they cannot be -------------

def _facts_or_error(collect):
    try:
        return collect()
    except FactError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def profile(request) -> Profile:
    state = _state(request.config)
    return state.profile if state else Profile()


@pytest.fixture
def guest_nic(request):
    nic = request.param
    if isinstance(nic, Unavailable):
        if nic.skip:
            pytest.skip(nic.reason)
        pytest.fail(nic.reason, pytrace=False)
    return nic


@pytest.fixture
def libvirt(target):
    return _facts_or_error(target.facts.libvirt)


@pytest.fixture
def libvirt_or_none(target):
    """libvirt's facts, or None where libvirt cannot be reached (HOST-01 says why): for checks
    of kernel and firewall facts that libvirt only helps to explain."""
    try:
        return target.facts.libvirt()
    except FactError:
        return None


@pytest.fixture
def links(target):
    return _facts_or_error(target.facts.links)


@pytest.fixture
def system(target):
    return _facts_or_error(target.facts.system)


@pytest.fixture
def firewall(system):
    if system.firewall is None:
        pytest.fail(f"firewall rules could not be read: {system.firewall_error}", pytrace=False)
    return system.firewall


@pytest.fixture
def note(request):
    """note(text): a remark shown with the check's outcome, e.g. why a pass is normal."""
    return lambda text: request.node.user_properties.append(("note", text))


# -- results ------------------------------------------------------------------------------------

def _subject_values(nic) -> dict:
    if nic is None or isinstance(nic, Unavailable):
        return {"guest": "<guest>", "tap": "<tap>"}
    return {"guest": nic.guest, "tap": nic.tap or "<tap>"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    state = _state(item.config)
    marker = item.get_closest_marker("control")
    if state is None or marker is None:
        return
    decided = phase_outcome(call.when, report)
    if decided is None:
        return
    control = dict(marker.kwargs)
    params = item.callspec.params if hasattr(item, "callspec") else {}
    target, nic = params.get("target"), params.get("guest_nic")
    notes = [v for k, v in item.user_properties if k == "note"]
    if decided == "skipped" and call.excinfo is not None:
        message = one_line(call.excinfo)
    elif decided == "passed":
        message = "; ".join(notes)
    else:
        message = one_line(call.excinfo) or report.longreprtext.strip().splitlines()[-1:][0]
    result = CheckResult(
        host=target.name if target else "?",
        id=control.get("id", item.name),
        title=control.get("title", ""),
        impact=control.get("impact", ""),
        subject=None if nic is None or isinstance(nic, Unavailable) else nic.label,
        outcome=decided,
        message=message,
        remediation=state.profile.substitute(control.get("remediation", ""), **_subject_values(nic)),
    )
    state.results.record(item.nodeid, result)
    report.virtnat = {"id": result.id, "title": result.title, "host": result.host, "subject": result.subject,
                      "impact": result.impact, "message": result.message, "remediation": result.remediation}
    for key in ("id", "title", "impact", "remediation"):
        item.user_properties.append((key, getattr(result, key)))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    state = _state(session.config)
    if state is None:
        return
    if state.error:
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
    document = audit_document(state.results, None if state.error else state.profile_dict, state.started.isoformat(), _utc_now().isoformat(), state.error)
    write_json(state.json_path, document)
    if state.json_is_default:
        shutil.copyfile(state.json_path, state.report_dir / "latest.json")
    if session.config.getoption("stats_json"):
        write_json(Path(session.config.getoption("stats_json")), state.stats())


def pytest_terminal_summary(terminalreporter, config):
    state = _state(config)
    if state is None:
        return
    tr = terminalreporter
    if state.error:
        tr.write_line(f"ERROR: {state.error}", red=True, bold=True)
    for host, checks in state.results.by_host().items():
        tr.write_sep("-", f"virtnat: {host}")
        errors: dict[str, list[str]] = {}
        for c in checks:
            name = c.id + (f"[{c.subject}]" if c.subject else "")
            if c.outcome == "error":
                errors.setdefault(c.message, []).append(name)
            elif c.outcome != "passed" or c.message:
                tr.write_line(f"{name:7} {c.outcome.upper():7} {c.title}: {c.message}")
                if c.outcome == "failed" and c.remediation:
                    tr.write_line(f"{'':15} fix: {c.remediation}")
        for message, names in errors.items():  # one cause, said once
            tr.write_line(f"ERROR   {', '.join(names)}: not checked: {message}")
        summary = Results.summary(checks)
        tr.write_line(", ".join(f"{n} {k}" for k, n in summary.items()))
    tr.write_line(f"virtnat: JSON {state.json_path}  HTML {state.html_path}  JUnit {config.option.xmlpath}")


def pytest_unconfigure(config):
    state = _state(config)
    if state is None or not state.html_path.exists():
        return
    if state.html_path.parent == state.report_dir:
        shutil.copyfile(state.html_path, state.report_dir / "latest.html")
