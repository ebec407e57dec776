"""Run every check of tests/ on one probe output, the way the plugin would, without pytest's
runner: check id (with [guest:tap] for VM checks) -> (outcome, first line of the message)."""
import copy
import functools
import importlib.util
import inspect
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from virtnat.checks import NotChecked
from virtnat.errors import FactError
from virtnat.facts.links import parse_ip_json
from virtnat.facts.probe import split_sections, system_from_sections
from virtnat.facts.virsh import libvirt_from_sections
from virtnat.fixtures import (
    Unavailable,
    firewall_missing,
    guest_params,
    path_missing,
    path_model,
    routes_missing,
    units_missing,
)
from virtnat.profile import Profile

DATA = Path(__file__).resolve().parents[1] / "data" / "path"
CHECKS = Path(__file__).resolve().parents[2] / "tests"
GENERATIONS = {"libvirt9": "iptables", "libvirt11-iptables": "iptables", "libvirt11-nftables": "nftables"}
# What every recording of a generation reports beyond its fault: the recordings predate the
# persistent definition (NET-17 cannot know), and Debian 13's libvirtd.service has no
# After=firewalld.service (HOST-11 reads it from the unit file: the boot trap is real there).
OLD_PROBE = "network 'default': its persistent definition was not read (facts from an older probe)"
DEBIAN13_ORDER = ("libvirtd.service is not ordered after firewalld.service: at boot the network may start before "
                  "firewalld and lose its firewall rules")
# HOST-12 is not judged: the recordings predate the link-config section (the systemd lab's newer ones hold it).
NO_LINK_CONFIG = "the facts hold no link-config section (an older probe's output): collect them again"
STANDING = {"libvirt9": {"NET-17": ("skipped", OLD_PROBE), "HOST-12": ("skipped", NO_LINK_CONFIG)},
            "libvirt11-iptables": {"NET-17": ("skipped", OLD_PROBE), "HOST-11": ("failed", DEBIAN13_ORDER),
                                   "HOST-12": ("skipped", NO_LINK_CONFIG)},
            "libvirt11-nftables": {"NET-17": ("skipped", OLD_PROBE), "HOST-11": ("failed", DEBIAN13_ORDER),
                                   "HOST-12": ("skipped", NO_LINK_CONFIG)}}
PROFILE = Profile()


def load_checks(relpath: str):
    """The module of tests/RELPATH (e.g. "network/test_bridge.py"), loaded by its path as pytest
    would; it is not registered in sys.modules, so each caller gets its own."""
    spec = importlib.util.spec_from_file_location("checks_" + relpath.removesuffix(".py").replace("/", "_"), CHECKS / relpath)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _controls():
    """(id, check function) of every check in tests/, as the plugin collects them."""
    found = []
    for path in sorted(CHECKS.rglob("test_*.py")):
        module = load_checks(path.relative_to(CHECKS).as_posix())
        for name, fn in vars(module).items():
            marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "control"]
            if name.startswith("test_") and marks:
                found.append((marks[0].kwargs["id"], fn))
    return found


CONTROLS = _controls()


def facts(text: str):
    sections = split_sections(text)
    system = system_from_sections(sections)
    links = parse_ip_json(sections["ip-link"][1], sections["ip-addr"][1])
    try:
        libvirt = libvirt_from_sections(sections, "qemu:///system", lambda uri, text: FactError(text))
    except FactError as exc:  # what HostFacts keeps: HOST-01 fails with it, what needs libvirt errors
        libvirt = exc
    return system, links, libvirt


def _once(function):
    """functools.lru_cache(maxsize=None), except while mutmut gathers which tests reach which
    function (MUTANT_UNDER_TEST=stats): then every call runs, or a test asking for a recording an
    earlier test ran would not be seen to reach the parsers and checks, and no mutant of theirs
    would be tested against it (the run of 586480d: HOST-12's sysctl.d fix, tested by
    test_forwarding_boot.py on a recording test_boot_systemd.py ran first)."""
    cached = functools.lru_cache(maxsize=None)(function)

    @functools.wraps(function)
    def once(text: str):
        return function(text) if os.environ.get("MUTANT_UNDER_TEST") == "stats" else cached(text)
    return once


@_once
def read_facts(text: str):
    """facts(text), once per process, for the callers that only read them: every check's run below,
    and the guests test_remediations names (parsing a recording is a third of a run of every check)."""
    return facts(text)


@_once
def _run(text: str) -> tuple[dict, dict]:
    """Every check on a recording, once per process: several tests ask the same recording for its
    outcomes and its findings (a run of every check is most of their time). Unbounded: the
    recordings and their one-fact faults are a few hundred texts, asked again by test_checks_one_fact,
    test_remediations and test_fix_command (their results are a few KB each)."""
    found: dict[str, dict] = {}
    return run_checks(*read_facts(text), record=found), found


def outcomes(text: str) -> dict[str, tuple[str, str]]:
    """check id (with [guest:tap] for VM checks) -> (outcome, message), every check of tests/."""
    return dict(_run(text)[0])


def findings(text: str) -> dict[str, dict]:
    """check id -> what it recorded beyond its outcome: {"notes": [...], "fix": ..., "evidence": ...}
    (the keys it recorded), every check of tests/ that recorded something."""
    return copy.deepcopy(_run(text)[1])


def _recorders(record: dict, label: str) -> dict:
    def note(text):
        record.setdefault(label, {}).setdefault("notes", []).append(text)

    def keep(key):
        return lambda text: record.setdefault(label, {}).__setitem__(key, text)
    return dict(note=note, fix=keep("fix"), evidence=keep("evidence"))


def run_checks(system, links, libvirt, record: dict | None = None) -> dict[str, tuple[str, str]]:
    """Every check on these facts, as the plugin's fixtures hand them over: libvirt may be the
    FactError reading it raised; a fixture whose facts are missing (libvirt, the firewall rules,
    the routes) makes its checks an error with the fixture's message. With `record`, what each
    check noted, its fix and its evidence go there, by check label."""
    error, libvirt = (libvirt, None) if isinstance(libvirt, FactError) else (None, libvirt)

    def read_libvirt():  # what HostFacts.libvirt() does: the facts, or the FactError raised again
        if error:
            raise error
        return libvirt
    noop = lambda *_: None  # noqa: E731
    target = SimpleNamespace(facts=SimpleNamespace(libvirt=read_libvirt))
    values = dict(system=system, links=links, libvirt_or_none=libvirt, profile=PROFILE, note=noop, fix=noop,
                  evidence=noop, target=target)
    missing = {}
    for name, value, why in (("libvirt", libvirt, error and str(error)), ("firewall", system.firewall, firewall_missing(system)),
                             ("routes", system.routes, routes_missing(system)), ("units", system.units, units_missing(system)),
                             ("packet_path", None, path_missing(system))):
        if why:
            missing[name] = why
        else:
            values[name] = value if name != "packet_path" else path_model(system, links, PROFILE)
    nics = guest_params(target, PROFILE)
    found = {}
    for check, fn in CONTROLS:
        wanted = inspect.signature(fn).parameters
        lacking = [missing[k] for k in wanted if k in missing]
        if lacking:  # its fixture fails with the one line of why (a setup error)
            found[check] = ("error", lacking[0])
            continue
        for nic in nics if "guest_nic" in wanted else [None]:
            if isinstance(nic, Unavailable):  # what the guest_nic fixture does with it
                found[check] = ("skipped" if nic.skip else "error", nic.reason)
                continue
            label = f"{check}[{nic.label}]" if nic else check
            given = dict(values, **_recorders(record, label)) if record is not None else values
            try:
                fn(**{k: nic if k == "guest_nic" else given[k] for k in wanted})
                found[label] = ("passed", "")
            except NotChecked as exc:  # the plugin reports it as an error, not a failure
                found[label] = ("error", str(exc))
            except (AssertionError, pytest.fail.Exception) as exc:
                found[label] = ("failed", str(exc).splitlines()[0] if str(exc) else "")
            except pytest.skip.Exception as exc:
                found[label] = ("skipped", str(exc))
    return found
