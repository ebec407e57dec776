"""Helpers checks share: turn a missing root fact into a failure that names it."""
from __future__ import annotations

import re

import pytest

from .errors import FactError, NotServed
from .facts.model import LibvirtFacts, LinkFacts, NetworkFacts, ProcessFacts, SystemFacts
from .facts.units import enabled
from .path.model import RESTART, restart  # noqa: F401  (RESTART: the checks' markers)
from .profile import Profile


class NotChecked(pytest.fail.Exception):
    """The check could not be carried out: a fact it needs could not be read. Reported as ERROR
    (not checked) with its one line, never as a failure."""


def not_checked(reason: str) -> None:
    """End the check as not carried out (ERROR), saying why in one line."""
    raise NotChecked(reason, pytrace=False)


def runtime_sysctl(system: SystemFacts, key: str) -> str:
    """key's value in the running kernel, or not checked when the probe could not read it."""
    return read_sysctl(key, system.sysctl_runtime.get(key))


def read_sysctl(key: str, value: str | None) -> str:
    """value, or not checked: the probe prints a key it could not read with no value."""
    if not value:
        not_checked(f"{key} could not be read (/proc/sys/{key.replace('.', '/')})")
    return value


def libvirt_not_served(error: FactError) -> bool:
    """Whether libvirt's facts are missing because nothing serves the URI (HOST-01 fails), not
    because they could not be read: no virsh, a network virsh could not read, a connection
    refused to this user (not checked)."""
    return isinstance(error, NotServed)


def defined_network(libvirt: LibvirtFacts, profile: Profile) -> NetworkFacts:
    """The profile's network, or fail: every network check depends on it (NET-01)."""
    network = libvirt.networks.get(profile.network)
    if network is None:
        known = ", ".join(sorted(libvirt.networks)) or "none"
        pytest.fail(f"network {profile.network!r} is not defined (NET-01; defined networks: {known})", pytrace=False)
    return network


def bridge_link(links: dict[str, LinkFacts], libvirt: LibvirtFacts | None, profile: Profile, fix=None) -> LinkFacts:
    """The bridge's link, or fail saying why it is missing (network not defined or inactive).
    libvirt is None when it could not be reached: the kernel's facts are checked all the same.
    Given the check's fix, a missing bridge's fix is its cause's: the network's start or restart."""
    link = links.get(profile.bridge)
    if link is not None:
        return link
    network = libvirt.networks.get(profile.network) if libvirt else None
    if libvirt is None:
        why = "libvirt cannot be reached (HOST-01)"
    elif network is None:
        why = f"network {profile.network!r} is not defined (NET-01)"
    elif not network.active:
        why = f"network {profile.network!r} is inactive (NET-02)"
        _fix(fix, start(profile.network))
    else:
        why = f"network {profile.network!r} is active but its bridge is gone"
        _fix(fix, restart(profile.network, profile.bridge))
    pytest.fail(f"{profile.bridge} does not exist: {why}", pytrace=False)


def running_network(libvirt: LibvirtFacts | None, profile: Profile, fix=None) -> NetworkFacts | None:
    """The network, or fail when it is not defined or not active: its runtime pieces need it.
    With libvirt unreachable (None) there is nothing to say, and the runtime pieces are checked as they are.
    Given the check's fix, an inactive network's fix is NET-02's."""
    if libvirt is None:
        return None
    network = defined_network(libvirt, profile)
    if not network.active:
        _fix(fix, start(profile.network))
        pytest.fail(f"network {profile.network!r} is inactive (NET-02), so nothing of it runs", pytrace=False)
    return network


def _fix(fix, command: str) -> None:
    if fix is not None:
        fix(command)


def start(network: str) -> str:
    """NET-02's fix: the network's start (its bridge, dnsmasq and rules come with it)."""
    return f"virsh net-start {network}"


def network_dnsmasq(system: SystemFacts, profile: Profile) -> tuple[tuple[ProcessFacts, ...], str | None]:
    """The network's own dnsmasq processes, and what keeps look-alikes from counting.

    Its processes carry libvirt's config for the network in their arguments; libvirt starts
    them as root and one (the DHCP script's helper) stays root. Where the probe read owners, a
    set with no root process running a dnsmasq executable is not libvirt's: any user can start a
    process named dnsmasq with those arguments."""
    conf = f"/{profile.network}.conf"
    named = tuple(p for p in system.running("dnsmasq") if "--conf-file=" in p.cmdline and conf in p.cmdline)
    if all(p.uid is None for p in named):  # owners not read (or no such process): nothing to tell apart
        return named, None
    mine = tuple(p for p in named if p.executable == "dnsmasq")
    if any(p.uid == 0 for p in mine):
        return mine, None
    found = ", ".join(f"pid {p.pid} uid {p.uid} {p.exe or '?'}" for p in named)
    return (), f"processes named dnsmasq with its config run, but none as root from a dnsmasq executable ({found}): not libvirt's"


def report_outcome(outcome, note, fix, evidence) -> None:
    """Hand a packet-path Outcome to the check's note, fix and evidence, and assert it holds."""
    evidence("\n".join(outcome.evidence))
    if outcome.note:
        note(outcome.note)
    if outcome.fix:
        fix(outcome.fix)
    assert outcome.ok, outcome.failure


# The packages of each piece, by package manager, for the fixes that install them (HOST-01,
# HOST-02, HOST-04, HOST-10).
PACKAGES = {
    "firewalld": {"apt-get": "firewalld", "dnf": "firewalld", "pacman": "firewalld"},
    "libvirt": {"apt-get": "libvirt-daemon-system", "dnf": "libvirt", "pacman": "libvirt"},
    "dnsmasq": {"apt-get": "dnsmasq-base", "dnf": "dnsmasq", "pacman": "dnsmasq"},
    "nft": {"apt-get": "nftables", "dnf": "nftables", "pacman": "nftables"},
    "network driver": {"apt-get": "libvirt-daemon-driver-network", "dnf": "libvirt-daemon-driver-network", "pacman": "libvirt"},
}
_INSTALL = {"apt-get": "apt-get install", "dnf": "dnf install", "pacman": "pacman -S --needed"}
# Debian and Ubuntu put libraries under a multiarch triplet: /usr/lib/x86_64-linux-gnu/libvirt/...
_MULTIARCH = re.compile(r"/usr/lib/[a-z0-9_]+-linux-gnu[a-z0-9_]*/")


def install(system: SystemFacts, *pieces: str) -> str:
    """The command that installs the pieces' packages. The facts tell a Debian or Ubuntu host by
    its multiarch path to libvirt's network driver: apt-get. Elsewhere they do not name the
    distribution, and the command picks the package manager the host has when it runs."""
    def command(manager: str) -> str:
        names = dict.fromkeys(PACKAGES[piece][manager] for piece in pieces)
        return f"{_INSTALL[manager]} {' '.join(names)}"
    if system.network_driver and _MULTIARCH.match(system.network_driver):
        return command("apt-get")
    return (f"if command -v apt-get >/dev/null; then {command('apt-get')}; "
            f"elif command -v dnf >/dev/null; then {command('dnf')}; else {command('pacman')}; fi")


def network_daemon_name(system: SystemFacts) -> str:
    """The daemon that holds the network driver: libvirtd, or with the modular daemons
    virtnetworkd; the one enabled at boot where the units say, else the one installed."""
    units = system.units.units if system.units else {}
    for daemon in ("libvirtd", "virtnetworkd"):
        if enabled(units.get(f"{daemon}.service")):
            return daemon
    return "virtnetworkd" if system.binaries.get("virtnetworkd") and not system.binaries.get("libvirtd") else "libvirtd"
