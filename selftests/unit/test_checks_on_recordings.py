"""Every check (all 33 ids) run on probe output recorded from the labs (selftests/data/path/,
made by its record.py: libvirt 9, libvirt 11 with each backend), healthy and under each fault
of the e2e matrix: exactly the checks the matrix names fail, with the culprit in their message."""
import importlib.util
import inspect
from pathlib import Path
from types import SimpleNamespace

import pytest

from selftests.e2e.pathfaults import PATH_FAULTS
from virtnat.errors import FactError
from virtnat.facts.links import parse_ip_json
from virtnat.facts.probe import split_sections, system_from_sections
from virtnat.facts.virsh import libvirt_from_sections
from virtnat.fixtures import Unavailable, guest_params, path_model
from virtnat.profile import Profile

DATA = Path(__file__).resolve().parents[1] / "data" / "path"
CHECKS = Path(__file__).resolve().parents[2] / "tests"
GENERATIONS = {"libvirt9": "iptables", "libvirt11-iptables": "iptables", "libvirt11-nftables": "nftables"}
PROFILE = Profile()


def _controls():
    """(id, check function) of every check in tests/, as the plugin collects them."""
    found = []
    for path in sorted(CHECKS.rglob("test_*.py")):
        spec = importlib.util.spec_from_file_location("rec_" + "_".join(path.relative_to(CHECKS).with_suffix("").parts), path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, fn in vars(module).items():
            marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "control"]
            if name.startswith("test_") and marks:
                found.append((marks[0].kwargs["id"], fn))
    return found


CONTROLS = _controls()


def facts(recording: Path):
    sections = split_sections(recording.read_text())
    system = system_from_sections(sections)
    links = parse_ip_json(sections["ip-link"][1], sections["ip-addr"][1])
    libvirt = libvirt_from_sections(sections, "qemu:///system", lambda uri, text: FactError(text))
    return system, links, libvirt


def outcomes(recording: Path) -> dict[str, tuple[str, str]]:
    """check id (with [guest:tap] for VM checks) -> (outcome, message), every check of tests/."""
    system, links, libvirt = facts(recording)
    noop = lambda *_: None  # noqa: E731
    target = SimpleNamespace(facts=SimpleNamespace(libvirt=lambda: libvirt))
    values = dict(system=system, links=links, libvirt=libvirt, libvirt_or_none=libvirt, profile=PROFILE, note=noop,
                  fix=noop, evidence=noop, target=target, firewall=system.firewall, routes=system.routes,
                  packet_path=path_model(system, links, PROFILE))
    nics = [n for n in guest_params(target, PROFILE) if not isinstance(n, Unavailable)]
    found = {}
    for check, fn in CONTROLS:
        wanted = inspect.signature(fn).parameters
        for nic in nics if "guest_nic" in wanted else [None]:
            label = f"{check}[{nic.label}]" if nic else check
            try:
                fn(**{k: nic if k == "guest_nic" else values[k] for k in wanted})
                found[label] = ("passed", "")
            except (AssertionError, pytest.fail.Exception) as exc:
                found[label] = ("failed", str(exc).splitlines()[0] if str(exc) else "")
            except pytest.skip.Exception as exc:
                found[label] = ("skipped", str(exc))
    return found


def test_every_check_is_run():
    assert len({c for c, _ in CONTROLS}) == len(CONTROLS) == 33


CASES = [(g, f) for g in GENERATIONS for f in PATH_FAULTS]


@pytest.mark.parametrize("generation", list(GENERATIONS))
def test_healthy_recordings_pass(generation):
    found = outcomes(DATA / generation / "healthy.txt")
    assert {c: o for c, (o, _) in found.items() if o != "passed"} == {}, found
    assert len(found) == 33 and "VM-04[virtnat-guest:vnet0]" in found


@pytest.mark.parametrize("generation, fault", CASES, ids=[f"{g}-{f.name}" for g, f in CASES])
def test_each_fault_fails_exactly_its_checks(generation, fault):
    found = outcomes(DATA / generation / f"{fault.name}.txt")
    failing = {c.split("[")[0] for c, (o, _) in found.items() if o != "passed"}
    expected = fault.expected(GENERATIONS[generation])
    if fault.network_down:  # the network cannot start: everything of it fails, NET-15 names why
        assert expected <= failing, found
    else:
        assert failing == expected, found
    for check, text in fault.culprit.items():
        if check in expected:
            assert text in found[check][1], found[check]
