"""Fixtures the checks use: facts, collected once per host, a one-line ERROR when they cannot be.

The facts fixtures are module-scoped, like the host (`target`) they depend on: set up once per
file of checks and host, not per check (a fleet runs each check on every host). A fixture that
fails is failed, with the same line, for every check of that file and host."""
from __future__ import annotations

import pytest

from .errors import FactError
from .evidence import on_network
from .path.model import BRIDGE_NF, PathModel
from .profile import Profile

# What a check found beyond pass/fail: its own remediation (the fix for what it found), and
# evidence for the HTML report (the walk a packet took). Kept off user_properties, which JUnit prints.
FIX = pytest.StashKey[str]()
EVIDENCE = pytest.StashKey[str]()


class Unavailable:
    """Stands in for a guest interface when there is none to check (skip) or none could be listed (error)."""

    def __init__(self, reason: str, skip: bool):
        self.reason, self.skip = reason, skip

    def __repr__(self):
        return "no-guest" if self.skip else "no-facts"


def guest_params(target, profile: Profile) -> list:
    """The guest interfaces on the profile's network, or one Unavailable saying why there are none."""
    try:
        libvirt = target.facts.libvirt()
    except FactError as exc:
        return [Unavailable(str(exc), skip=False)]
    nics = [n for n in libvirt.guest_nics if on_network(n, profile)]
    if not nics:
        return [Unavailable(f"no running guest has an interface on network {profile.network!r}", skip=True)]
    return nics


def _facts_or_error(collect):
    try:
        return collect()
    except FactError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def guest_nic(request):
    nic = request.param
    if isinstance(nic, Unavailable):
        if nic.skip:
            pytest.skip(nic.reason)
        pytest.fail(nic.reason, pytrace=False)
    return nic


@pytest.fixture(scope="module")
def libvirt(target):
    return _facts_or_error(target.facts.libvirt)


@pytest.fixture(scope="module")
def libvirt_or_none(target):
    """libvirt's facts, or None where libvirt cannot be reached (HOST-01 says why): for checks
    of kernel and firewall facts that libvirt only helps to explain."""
    try:
        return target.facts.libvirt()
    except FactError:
        return None


@pytest.fixture(scope="module")
def links(target):
    return _facts_or_error(target.facts.links)


@pytest.fixture(scope="module")
def system(target):
    return _facts_or_error(target.facts.system)


def units_missing(system) -> str | None:
    """Why the facts hold no units (the one line of the units fixture's ERROR), else None."""
    if system.units is None:
        return "the facts hold no units section (an older probe's output): collect them again"
    if not system.units.complete:
        return "the facts hold firewalld.service's enablement alone (an older probe's output): collect them again"
    return None


def firewall_missing(system) -> str | None:
    """Why the firewall cannot be judged, else None: no ruleset could be read, or one of them
    could not (a partial view misses another table's drop, firewalld's zones, libvirt's nftables rules)."""
    if system.firewall is None:
        return f"firewall rules could not be read: {system.firewall_error}"
    if system.firewall.problems:
        return f"firewall rules could not be read: {'; '.join(system.firewall.problems)}"
    return None


def routes_missing(system) -> str | None:
    if system.routes is None:
        return f"routes could not be read: {'; '.join(system.path_problems)}"
    return None


def path_missing(system) -> str | None:
    """Why the packet path cannot be modelled, else None (in the order its fixtures fail)."""
    if why := firewall_missing(system) or routes_missing(system):
        return why
    if system.route_rules is None:
        return f"policy routing rules could not be read: {'; '.join(system.path_problems)}"
    return None


def _fail_if(why: str | None) -> None:
    if why:
        pytest.fail(why, pytrace=False)


@pytest.fixture(scope="module")
def units(system):
    """The daemons' systemd units (HOST-10, HOST-11), or ERROR when the facts hold none."""
    _fail_if(units_missing(system))
    return system.units


@pytest.fixture(scope="module")
def firewall(system):
    _fail_if(firewall_missing(system))
    return system.firewall


class Findings:
    """What the running check found beyond pass or fail: its notes, its own fix, its evidence.
    A process runs one check at a time; the plugin moves them onto the check's item before its
    report is made. The fixtures handing out these methods are session-scoped and take no
    `request`: for each `request` a fixture takes, pytest builds a fixture definition at every
    check, a fleet audit's largest cost per check."""

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self.notes: list[str] = []
        self.found: dict = {}

    def note(self, text: str) -> None:
        self.notes.append(text)

    def fix(self, command: str) -> None:
        self.found[FIX] = command

    def evidence(self, text: str) -> None:
        self.found[EVIDENCE] = text

    def move_to(self, item) -> None:
        item.user_properties.extend(("note", text) for text in self.notes)
        for key, text in self.found.items():
            item.stash[key] = text
        self.clear()


FINDINGS = Findings()


@pytest.fixture(scope="session")
def note():
    """note(text): a remark shown with the check's outcome, e.g. why a pass is normal."""
    return FINDINGS.note


@pytest.fixture(scope="session")
def fix():
    """fix(command): the remediation for what this check found, in place of the marker's."""
    return FINDINGS.fix


@pytest.fixture(scope="session")
def evidence():
    """evidence(text): what the check judged, shown with it in the HTML report."""
    return FINDINGS.evidence


class RunFixtures:
    """The fixtures whose value is the run's, held by a registered instance so that they take no
    `request` (see Findings): the profile."""

    def __init__(self, profile: Profile):
        self._profile = profile

    @pytest.fixture(scope="session")
    def profile(self) -> Profile:
        return self._profile


@pytest.fixture(scope="module")
def routes(system):
    _fail_if(routes_missing(system))
    return system.routes


@pytest.fixture(scope="module")
def packet_path(system, firewall, routes, links, profile) -> PathModel:
    """The model of the guests' packet path on this host, from its rulesets, routes and links."""
    _fail_if(path_missing(system))
    return path_model(system, links, profile)


def path_model(system, links, profile: Profile) -> PathModel:
    """The packet-path model of a host whose firewall and routes could be read."""
    dnsmasq = [p.uid for p in system.running("dnsmasq") if f"/{profile.network}.conf" in p.cmdline]
    return PathModel(system.firewall.tables, system.routes, links, profile.bridge, profile.gateway, profile.dhcp_start,
                     system.policy_rules, ip_forward=system.sysctl_runtime.get("net.ipv4.ip_forward"),
                     forwarding=system.forwarding, local_uid=dnsmasq[0] if len(dnsmasq) == 1 else None,
                     bridge_nf=system.sysctl_runtime.get(BRIDGE_NF), files=system.firewall_files)
