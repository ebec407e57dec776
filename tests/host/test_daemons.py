"""HOST-01..04: the daemons and userland libvirt's NAT network runs on."""
import pytest

from virtnat.checks import install, libvirt_not_served, network_daemon_name, not_checked
from virtnat.errors import FactError
from virtnat.facts.units import describe_stopped
from virtnat.fixtures import units_missing


@pytest.mark.control(
    id="HOST-01",
    title="A libvirt daemon serves the system URI",
    impact="critical",
    remediation="systemctl enable --now libvirtd",
)
def test_libvirt_daemon_serves_system_uri(target, system, note, fix):
    """Without a daemon behind qemu:///system nothing defines, starts or repairs the
    network, and virsh answers nothing at all. The fix starts the daemons the host has
    (libvirtd, or the modular virtqemud and virtnetworkd by their sockets), or installs them."""
    try:
        libvirt = target.facts.libvirt()
    except FactError as exc:
        if not libvirt_not_served(exc):
            not_checked(str(exc))
        fix(_start_libvirt(system))
        pytest.fail(str(exc), pytrace=False)
    if libvirt.stopped:  # systemd starts it on a client's connection only while its socket listens
        states = describe_stopped(libvirt.stopped)
        silent = [f"{daemon}.socket" for daemon, _, socket in libvirt.stopped if socket != "active"]
        if silent:
            fix(f"systemctl enable --now {' '.join(silent)}")
        assert not silent, (
            f"no libvirt daemon runs and no socket starts one ({states}): nothing serves {libvirt.uri}")
        note(f"libvirt {libvirt.version} at {libvirt.uri}: {states}: the daemon starts at a client's connection; "
             f"read from libvirt's state files, without starting it")
        return
    daemons = sorted({p.comm for p in system.running("libvirtd", "virtqemud", "virtnetworkd")})
    note(f"libvirt {libvirt.version} at {libvirt.uri} ({', '.join(daemons) or 'daemon process not seen'})")


def _start_libvirt(system) -> str:
    """The command that starts the libvirt daemons the host has, or installs them."""
    if system.binaries.get("libvirtd"):
        return "systemctl enable --now libvirtd"
    if system.binaries.get("virtqemud") or system.binaries.get("virtnetworkd"):
        return "systemctl enable --now virtqemud.socket virtnetworkd.socket"
    return install(system, "libvirt")


@pytest.mark.control(
    id="HOST-02",
    title="firewalld is installed and running",
    impact="high",
    remediation="apt-get install firewalld && systemctl start firewalld && systemctl restart libvirtd",
)
def test_firewalld_is_running(system, profile, fix):
    """libvirt hands virbr0 to firewalld's "libvirt" zone; without firewalld, `virsh
    net-start` fails with "Failed to initialize a valid firewall backend" (the document).
    Started, firewalld flushes the rules libvirt put in place: the fix restarts the daemon that
    holds the network driver (libvirtd, or virtnetworkd), which puts them back. It installs
    firewalld with the host's package manager (apt-get on Debian, dnf, pacman)."""
    if not profile.require_firewalld:
        pytest.skip("the profile does not require firewalld")
    start = f"systemctl start firewalld && systemctl restart {network_daemon_name(system)}"
    if not system.binaries.get("firewalld"):
        fix(f"{install(system, 'firewalld')} && {start}")
    assert system.binaries.get("firewalld"), "firewalld is not installed"
    if not system.running("firewalld"):
        fix(start)
    assert system.running("firewalld"), "firewalld is installed but not running"


@pytest.mark.control(
    id="HOST-03",
    title="firewalld is enabled at boot",
    impact="medium",
    remediation="systemctl enable firewalld",
)
def test_firewalld_is_enabled(system, profile):
    """A firewalld that does not start at boot is not there after the next reboot: libvirt
    starts the network with its own rules alone (measured on the systemd lab: iptables chains
    LIBVIRT_* and the masquerade, no firewalld table) and virbr0 is in no firewalld zone, so the
    host runs without the firewall the site chose."""
    if not profile.require_firewalld:
        pytest.skip("the profile does not require firewalld")
    if system.units is None:
        not_checked(units_missing(system))
    if not system.units.systemctl:
        pytest.skip("no systemctl on this host: boot-time enablement cannot be read")
    firewalld = system.units.units.get("firewalld.service")
    state = firewalld.enabled if firewalld else "unknown"
    if state == "unknown":
        not_checked("firewalld.service's enablement at boot could not be read (systemctl answered nothing)")
    assert state != "not-found", "firewalld is not installed: systemd knows no firewalld.service"
    assert state in ("enabled", "enabled-runtime", "alias"), f"firewalld.service is {state!r}, expected 'enabled': {NOT_AT_BOOT}"


NOT_AT_BOOT = ("after a reboot firewalld does not run; the network starts with libvirt's own firewall rules alone, "
               "virbr0 in no firewalld zone")


@pytest.mark.control(
    id="HOST-04",
    title="The NAT network's userland is present: dnsmasq, iptables or nft, libvirt's network driver",
    impact="high",
    remediation="apt-get install dnsmasq-base iptables nftables libvirt-daemon-driver-network",
)
def test_nat_userland_is_installed(system, fix):
    """libvirt starts dnsmasq for DHCP/DNS and programs NAT with iptables or nft; its network
    driver does the rest. Any one missing and `virsh net-start` fails. The fix installs what is
    missing with the host's package manager (the package names differ: Debian's dnsmasq-base)."""
    missing, packages = [], []
    if not system.binaries.get("dnsmasq"):
        missing.append("dnsmasq")
        packages.append("dnsmasq")
    if not (system.binaries.get("iptables") or system.binaries.get("nft")):
        missing.append("iptables or nft")
        packages.append("nft")
    if not (system.network_driver or system.binaries.get("virtnetworkd")):
        missing.append("libvirt network driver (libvirt_driver_network.so or virtnetworkd)")
        packages.append("network driver")
    if missing:
        fix(install(system, *packages))
    assert not missing, f"missing: {', '.join(missing)}"
