"""The pytest plugin: options, per-host parametrization, the control marker and the reports.

Active for runs that collect the compliance checks (tests/); inert otherwise, so the
project's own selftests run without writing audit reports. Facts are collected once per
host at session start, hosts in parallel; pytest-xdist workers get them from the controller.
"""
from __future__ import annotations

import atexit
import base64
import gc
import importlib.util
import pickle
import sys
from pathlib import Path

import pytest

from .checks import NotChecked
from .controls import control_problem
from .fixtures import (  # noqa: F401  (fixtures of the checks)
    EVIDENCE, FINDINGS, FIX, RunFixtures, Unavailable, evidence, firewall, fix, guest_nic, guest_params, libvirt,
    libvirt_or_none, links, note, packet_path, routes, system, units,
)
from .evidence import fact_kinds
from .failures import ShortFailures
from .options import declare
from .profile import Profile
from .report import html_columns
from .report.finish import write_reports
from .report.json_report import audit_document, write_json
from .report.passthrough import PassThrough
from .report.results import IMPACTS, CheckResult, Results, one_line, phase_outcome
from .report.terminal import write_summary
from .state import CATALOG, CHECKS_DIR, STATE, Audit, Plan, plan_audit, state_of, utc_now
from .waivers import judge

FACTS_KEY = "virtnat_facts"


def pytest_addoption(parser):
    declare(parser)


def _is_audit(config) -> bool:
    """True when the run collects the compliance checks (the catalog, a part of it, or a folder
    above it), named by path or, with --pyargs, by module (virtnat.catalog)."""
    for arg in config.args or [str(CHECKS_DIR)]:
        name = str(arg).split("::")[0]
        path = Path(config.invocation_params.dir, name).resolve()
        if config.option.pyargs and not path.exists():  # pytest declares --pyargs
            path = _module_path(name) or path
        if path == CHECKS_DIR or CHECKS_DIR in path.parents or path in CHECKS_DIR.parents or path in CATALOG.parents:
            return True
    return False


def _module_path(name: str) -> Path | None:
    """Where a module or package named on the command line (--pyargs) lives, if it is importable."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:  # a namespace package's origin is None (Python 3.7+)
        return None
    origin = Path(spec.origin).resolve()
    return origin.parent if spec.submodule_search_locations else origin


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "control(id, title, impact, remediation): a compliance check of virtnat")
    if not _is_audit(config):
        config.pluginmanager.register(RunFixtures(Profile()), "virtnat-run-fixtures")
        return
    audit = config.stash[STATE] = Audit(plan_audit(config, worker=_is_worker(config)))
    _carry_out(config, audit)


def _carry_out(config, audit: Audit) -> None:
    """Set and register what the audit's plan says, and start collecting the hosts' facts."""
    plan = audit.plan
    config.pluginmanager.register(RunFixtures(plan.profile), "virtnat-run-fixtures")
    config.add_cleanup(_collector_back)  # registered before pytest's own cleanups, so run after them: see pytest_collection_finish
    for dest, value in plan.pytest_options:
        setattr(config.option, dest, value)
    if plan.short_failures:
        config.pluginmanager.register(ShortFailures(), "virtnat-short-failures")
    if _is_worker(config):
        facts = config.workerinput.get(FACTS_KEY)
        if facts:
            for target, collected in zip(plan.targets, pickle.loads(base64.b64decode(facts))):
                target.preload(collected)
        return
    if plan.stats_json:
        sys.addaudithook(audit.count_spawn)
    if plan.passthrough:
        config.pluginmanager.register(PassThrough(config, plan.passthrough, audit.record), "virtnat-passthrough")
    audit.start_collection()
    config.pluginmanager.register(audit.record, "virtnat-recorder")
    if config.pluginmanager.hasplugin("html"):  # pytest-html's own report, when --html asks for it
        config.pluginmanager.register(html_columns, "virtnat-html")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist: hand each worker the facts the controller collected."""
    audit = state_of(node.config)
    if audit is not None and not audit.plan.error:
        audit.wait_for_facts()
        collected = [t.facts.collected() for t in audit.plan.targets]
        node.workerinput[FACTS_KEY] = base64.b64encode(pickle.dumps(collected)).decode()


# -- parametrization: one test per host, and per guest interface for VM checks ------------------

def pytest_generate_tests(metafunc):
    audit = state_of(metafunc.config)
    if audit is None or "target" not in metafunc.fixturenames:
        return
    plan = audit.plan
    targets = plan.targets or [None]
    if "guest_nic" not in metafunc.fixturenames:
        metafunc.parametrize("target", targets, ids=[t.name if t else "no-host" for t in targets], scope="module")
        return
    pairs, ids = [], []
    for target in targets:
        params = [Unavailable(plan.error, skip=False)] if plan.error else guest_params(target, plan.profile)
        for nic in params:
            pairs.append((target, nic))
            label = nic.label if not isinstance(nic, Unavailable) else repr(nic)
            ids.append(f"{target.name}-{label}" if len(targets) > 1 else label)
    metafunc.parametrize(("target", "guest_nic"), pairs, ids=ids, indirect=["guest_nic"], scope="module")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    audit = state_of(config)
    if audit is None:
        return
    if not audit.plan.error:
        audit.record.checks_collected(control_problem(_controls(items), CHECKS_DIR))
    if audit.error:  # a broken profile, host list or check stops the run before any check
        config.hook.pytest_deselected(items=list(items))
        items[:] = []
        return
    if not getattr(config.option, "numprocesses", None):
        return  # one process: no worker to keep a host's checks on (36,000 markers at 1000 hosts)
    for item in items:
        target = item.callspec.params.get("target") if hasattr(item, "callspec") else None
        if target is not None:
            item.add_marker(pytest.mark.xdist_group(target.name))


def _controls(items):
    for item in items:
        marker = item.get_closest_marker("control")
        yield item.path, getattr(item, "originalname", None) or item.name, None if marker is None else marker.kwargs


# -- results ------------------------------------------------------------------------------------

# A guest check's marker where the facts name no guest or tap: the guests and leases to pick from.
LIST_GUESTS = "virsh -r list --all && virsh -r net-dhcp-leases {network}"


def fill_marker(profile, template: str, nic) -> str:
    """A check's own remediation filled from the profile and, for a guest check, its guest and
    tap (quoted for the shell); where it needs one the facts do not name, LIST_GUESTS."""
    named = nic is not None and not isinstance(nic, Unavailable)
    if ("{guest}" in template and not named) or ("{tap}" in template and not (named and nic.tap)):
        return profile.substitute(LIST_GUESTS)
    return profile.substitute(template, **({"guest": nic.guest, "tap": nic.tap} if named else {}))  # {tap}: only with a tap (above)


def _waived(plan: Plan, outcome: str, check_id: str, host: str, message: str) -> tuple[str, str, dict | None]:
    """A failure that a waiver covers is waived (outcome, message, the waiver); one whose waiver
    has expired stays a failure and says so."""
    if outcome != "failed":
        return outcome, message, None
    waiver, expired = judge(plan.waivers, check_id, host, plan.started.date())
    if waiver is not None:
        return "waived", message, {"reason": waiver.reason, "expires": waiver.expires}
    if expired is not None:
        message += f" (its waiver expired after {expired.expires}: {expired.reason})"
    return outcome, message, None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the check's outcome to the report (it travels from xdist workers as it is)."""
    FINDINGS.move_to(item)
    report = yield
    _attach_result(item, call, report)
    return report


def _attach_result(item, call, report) -> None:
    decided = phase_outcome(call.when, report)  # first: most phases decide nothing (a passed setup or teardown)
    if decided is None:
        return
    if decided == "failed" and call.excinfo is not None and isinstance(call.excinfo.value, NotChecked):
        decided = "error"  # a fact it needs could not be read: not checked, never a false failure
    audit = state_of(item.config)
    marker = item.get_closest_marker("control")
    if audit is None or marker is None:
        return
    control = dict(marker.kwargs)
    params = item.callspec.params if hasattr(item, "callspec") else {}
    target, nic = params.get("target"), params.get("guest_nic")
    notes = [v for k, v in item.user_properties if k == "note"]
    if decided == "passed":
        message = "; ".join(notes)
    else:
        message = one_line(call.excinfo) or (report.longreprtext.strip().splitlines() or [""])[-1]
    host, check_id = target.name if target else "?", control.get("id", item.name)
    decided, message, waiver = _waived(audit.plan, decided, check_id, host, message)
    result = CheckResult(
        host=host,
        id=check_id,
        title=audit.title(control.get("title", "")),
        impact=control.get("impact", ""),
        subject=None if nic is None or isinstance(nic, Unavailable) else nic.label,
        outcome=decided,
        message=message,
        remediation=item.stash.get(FIX, None) or fill_marker(audit.plan.profile, control.get("remediation", ""), nic),
        waiver=waiver,
    )
    report.virtnat = dict(vars(result))
    report.virtnat_evidence = {"text": item.stash.get(EVIDENCE, ""), "facts": fact_kinds(item.fixturenames)}
    if not any(key == "id" for key, _ in item.user_properties):  # a teardown error decides again
        for key in ("id", "title", "impact", "remediation"):
            item.user_properties.append((key, getattr(result, key)))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    audit = state_of(session.config)
    if audit is None or _is_worker(session.config):
        return
    audit.wait_for_facts()  # evidence and stats are complete
    gc.freeze()  # what came while the checks ran (facts, results) joins what collection froze
    plan, record = audit.plan, audit.record
    if audit.error:
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
    elif session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if _fails(record.results, plan.fail_on) else pytest.ExitCode.OK
    expected = None if audit.error else plan.profile.as_dict()
    document = audit_document(record.results, expected, plan.started.isoformat(), utc_now().isoformat(), audit.error,
                              plan.not_audited)
    record.finished(write_reports(document, audit.evidence_dict(), plan.outputs))
    if record.written.problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # a report asked for is missing: never a clean exit
    if plan.stats_json:
        write_json(plan.stats_json, audit.stats())


def _fails(results: Results, threshold: str) -> bool:
    """A check failed or could not be carried out at the threshold's impact or above (an
    unknown impact counts as the highest)."""
    floor = IMPACTS.index(threshold)
    return any(r.outcome in ("failed", "error") and (IMPACTS.index(r.impact) if r.impact in IMPACTS else len(IMPACTS)) >= floor
               for checks in results.by_host().values() for r in checks)


def pytest_terminal_summary(terminalreporter, config):
    audit = state_of(config)
    if audit is not None and not _is_worker(config):
        write_summary(terminalreporter, audit.error, audit.record.results.by_host(), audit.record.written, audit.plan.not_audited)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    """An audit's checks and facts, collected now, live until the run ends: they are moved out of
    the garbage collector's sight, and its automatic passes stop until the run ends. Each full
    pass walked all of them again (a fleet's are millions of objects): at 1000 hosts they took
    7 s while the checks ran, and pytest's last collection and Python's at exit 8 s more. What
    the checks make is frozen too when they are done (pytest_sessionfinish); the config's cleanup
    gives everything back after pytest's own last collection (an in-process run leaves no
    garbage behind), and at exit it is frozen again for Python's."""
    if state_of(session.config) is not None:
        gc.freeze()
        gc.disable()
        _freeze_at_exit()


def _collector_back() -> None:
    gc.unfreeze()
    gc.enable()


def _freeze_at_exit() -> None:
    if not getattr(_freeze_at_exit, "registered", False):
        atexit.register(gc.freeze)
        _freeze_at_exit.registered = True
