"""HOST-01..04: the daemons and userland libvirt's NAT network runs on."""
import pytest

from virtnat.checks import libvirt_not_served, not_checked
from virtnat.errors import FactError
from virtnat.facts.units import describe_stopped
from virtnat.fixtures import units_missing


@pytest.mark.control(
    id="HOST-01",
    title="A libvirt daemon serves the system URI",
    impact="critical",
    remediation="systemctl enable --now libvirtd   (or, with modular daemons: systemctl enable --now virtqemud.socket virtnetworkd.socket)",
)
def test_libvirt_daemon_serves_system_uri(target, system, note):
    """Without a daemon behind qemu:///system nothing defines, starts or repairs the
    network, and virsh answers nothing at all."""
    try:
        libvirt = target.facts.libvirt()
    except FactError as exc:
        if not libvirt_not_served(exc):
            not_checked(str(exc))
        pytest.fail(str(exc), pytrace=False)
    if libvirt.stopped:  # systemd starts it on a client's connection only while its socket listens
        states = describe_stopped(libvirt.stopped)
        assert all(socket == "active" for _, _, socket in libvirt.stopped), (
            f"no libvirt daemon runs and no socket starts one ({states}): nothing serves {libvirt.uri}")
        note(f"libvirt {libvirt.version} at {libvirt.uri}: {states}: the daemon starts at a client's connection; "
             f"read from libvirt's state files, without starting it")
        return
    daemons = sorted({p.comm for p in system.running("libvirtd", "virtqemud", "virtnetworkd")})
    note(f"libvirt {libvirt.version} at {libvirt.uri} ({', '.join(daemons) or 'daemon process not seen'})")


@pytest.mark.control(
    id="HOST-02",
    title="firewalld is installed and running",
    impact="high",
    remediation="apt-get install firewalld (or dnf/pacman); systemctl start firewalld; systemctl restart libvirtd",
)
def test_firewalld_is_running(system, profile):
    """libvirt hands virbr0 to firewalld's "libvirt" zone; without firewalld, `virsh
    net-start` fails with "Failed to initialize a valid firewall backend" (the document)."""
    if not profile.require_firewalld:
        pytest.skip("the profile does not require firewalld")
    assert system.binaries.get("firewalld"), "firewalld is not installed"
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
    remediation="apt-get install dnsmasq-base iptables nftables libvirt-daemon-driver-network   (package names vary by distribution)",
)
def test_nat_userland_is_installed(system):
    """libvirt starts dnsmasq for DHCP/DNS and programs NAT with iptables or nft; its network
    driver does the rest. Any one missing and `virsh net-start` fails."""
    missing = []
    if not system.binaries.get("dnsmasq"):
        missing.append("dnsmasq")
    if not (system.binaries.get("iptables") or system.binaries.get("nft")):
        missing.append("iptables or nft")
    if not (system.network_driver or system.binaries.get("virtnetworkd")):
        missing.append("libvirt network driver (libvirt_driver_network.so or virtnetworkd)")
    assert not missing, f"missing: {', '.join(missing)}"
