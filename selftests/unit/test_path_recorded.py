"""The new checks (PATH-01..04, HOST-08/09, NET-15/16) run on probe output recorded from the
labs (selftests/data/path/, made by its record.py): healthy, and under each fault of the e2e
matrix, exactly the checks the matrix names fail, with the culprit in their message."""
import importlib.util
from pathlib import Path

import pytest

from selftests.e2e.pathfaults import PATH_FAULTS
from virtnat.errors import FactError
from virtnat.facts.links import parse_ip_json
from virtnat.facts.probe import split_sections, system_from_sections
from virtnat.facts.virsh import libvirt_from_sections
from virtnat.fixtures import path_model
from virtnat.profile import Profile

DATA = Path(__file__).resolve().parents[1] / "data" / "path"
CHECKS = Path(__file__).resolve().parents[2] / "tests"
GENERATIONS = {"libvirt9": "iptables", "libvirt11-iptables": "iptables", "libvirt11-nftables": "nftables"}
PROFILE = Profile()


def _load(relpath):
    spec = importlib.util.spec_from_file_location("rec_" + relpath.replace("/", "_")[:-3], CHECKS / relpath)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PATHS = _load("path/test_guest_packets.py")
ROUTES = _load("host/test_routes.py")
PORTS = _load("network/test_ports.py")
LEGACY = _load("network/test_one_netfilter.py")


def facts(recording: Path):
    sections = split_sections(recording.read_text())
    system = system_from_sections(sections)
    links = parse_ip_json(sections["ip-link"][1], sections["ip-addr"][1])
    libvirt = libvirt_from_sections(sections, "qemu:///system", lambda uri, text: FactError(text))
    return system, links, libvirt


def outcomes(recording: Path) -> dict[str, tuple[str, str]]:
    """check id -> (outcome, message) for the checks of issue 7."""
    system, links, libvirt = facts(recording)
    model = path_model(system, links, PROFILE)
    noop = lambda *_: None  # noqa: E731
    calls = {
        "PATH-01": lambda: PATHS.test_dhcp_reaches_dnsmasq(model, links, libvirt, PROFILE, noop, noop, noop),
        "PATH-02": lambda: PATHS.test_dns_reaches_dnsmasq(model, links, libvirt, PROFILE, noop, noop, noop),
        "PATH-03": lambda: PATHS.test_guest_traffic_is_forwarded(model, links, libvirt, PROFILE, noop, noop, noop),
        "PATH-04": lambda: PATHS.test_guest_traffic_is_masqueraded(model, links, libvirt, PROFILE, noop, noop, noop),
        "HOST-08": lambda: ROUTES.test_subnet_is_only_on_the_bridge(system, links, PROFILE),
        "HOST-09": lambda: ROUTES.test_route_out_exists(model, system, noop),
        "NET-15": lambda: PORTS.test_gateway_ports_belong_to_dnsmasq(system, libvirt, PROFILE, noop),
        "NET-16": lambda: LEGACY.test_legacy_rules_leave_guests_alone(model, system.firewall, noop),
    }
    found = {}
    for check, call in calls.items():
        try:
            call()
            found[check] = ("passed", "")
        except (AssertionError, pytest.fail.Exception) as exc:
            found[check] = ("failed", str(exc).splitlines()[0] if str(exc) else "")
    return found


CASES = [(g, f) for g in GENERATIONS for f in PATH_FAULTS]


@pytest.mark.parametrize("generation", list(GENERATIONS))
def test_healthy_recordings_pass(generation):
    found = outcomes(DATA / generation / "healthy.txt")
    assert {c: o for c, (o, _) in found.items() if o != "passed"} == {}, found


@pytest.mark.parametrize("generation, fault", CASES, ids=[f"{g}-{f.name}" for g, f in CASES])
def test_each_fault_fails_exactly_its_checks(generation, fault):
    found = outcomes(DATA / generation / f"{fault.name}.txt")
    failing = {c for c, (o, _) in found.items() if o == "failed"}
    expected = fault.expected(GENERATIONS[generation]) & set(found)
    if fault.network_down:  # the network cannot start: everything of it fails, NET-15 names why
        assert expected <= failing, found
    else:
        assert failing == expected, found
    for check, text in fault.culprit.items():
        if check in expected:
            assert text in found[check][1], found[check]
