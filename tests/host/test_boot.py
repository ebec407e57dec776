"""HOST-10, HOST-11: what the next boot does with the libvirt daemon, as systemd will see it."""
import pytest

from virtnat.checks import install
from virtnat.facts.units import enabled

START_AT_BOOT = "after a reboot no libvirt daemon starts{until}, and network {network} with it"


def _state(units, name: str) -> str:
    unit = units.units.get(name)
    return unit.enabled if unit else "unknown"


def _installed(units, daemon: str) -> bool:
    return _state(units, f"{daemon}.service") not in ("not-found", "unknown")


@pytest.mark.control(
    id="HOST-10",
    title="The libvirt daemon (libvirtd, or virtnetworkd/virtqemud and their sockets) is enabled at boot",
    impact="high",
    remediation="systemctl enable libvirtd.service libvirtd.socket",
)
def test_libvirt_daemon_is_enabled(units, system, profile, note, fix):
    """The daemon that holds the network driver autostarts the network when it starts; if
    nothing starts it at boot, the network, its bridge and its dnsmasq stay down after a reboot,
    whatever NET-03 says. The fix enables the daemons the host has: libvirtd, or the modular
    virtqemud and virtnetworkd; where none is installed, it installs them."""
    if not units.systemctl:
        pytest.skip("no systemctl on this host: boot-time enablement cannot be read")
    modular = ("virtnetworkd", "virtqemud")
    service = network_daemon(units)  # the network driver's daemon: its start autostarts the network
    if service is not None:
        note(f"{service.name} is {service.enabled}")
        return
    found = [d for d in ("libvirtd", *modular) if _installed(units, d)]
    if not found:
        fix(install(system, "libvirt"))
        pytest.fail(f"no libvirt daemon is installed (systemd knows no libvirtd.service nor virtnetworkd.service): "
                    f"{START_AT_BOOT.format(network=profile.network, until='')}", pytrace=False)
    daemons = ["libvirtd"] if "libvirtd" in found else [d for d in modular if d in found]
    states = " and ".join(f"{d}.{k} is {_state(units, f'{d}.{k}')}" for d in daemons for k in ("service", "socket"))
    masked = [f"{d}.{k}" for d in daemons for k in ("service", "socket") if _state(units, f"{d}.{k}") == "masked"]
    unmask = f"systemctl unmask {' '.join(masked)} && " if masked else ""
    # A socket starts its daemon at a client's first connection, not at boot (Debian's
    # libvirt-guests does not connect at boot either: ON_BOOT=ignore).
    until = " until a client connects to its socket" if any(enabled(units.units.get(f"{d}.socket")) for d in daemons) else ""
    fix(f"{unmask}systemctl enable {' '.join(f'{d}.service' for d in daemons)}")
    pytest.fail(f"{states}: {START_AT_BOOT.format(network=profile.network, until=until)}", pytrace=False)


def network_daemon(units):
    """The unit of the daemon that starts the network at boot: libvirtd.service, or with the
    modular daemons virtnetworkd.service; None when neither is enabled (HOST-10)."""
    for daemon in ("libvirtd", "virtnetworkd"):
        service = units.units.get(f"{daemon}.service")
        if enabled(service):
            return service
    return None


DROP_IN = ("mkdir -p /etc/systemd/system/{unit}.d && printf '[Unit]\\nAfter=firewalld.service\\n' > "
           "/etc/systemd/system/{unit}.d/10-after-firewalld.conf && systemctl daemon-reload")


@pytest.mark.control(
    id="HOST-11",
    title="With firewalld enabled, the daemon that starts the network is ordered after firewalld at boot",
    impact="high",
    remediation=DROP_IN.format(unit="libvirtd.service"),
)
def test_network_daemon_starts_after_firewalld(units, profile, note, fix):
    """firewalld starting after the network flushes the rules libvirt put in place (its
    LIBVIRT_INP, LIBVIRT_FWO... chains) and finds virbr0 in no zone of its own: after a reboot
    guests get no DHCP, DNS or NAT until the network is restarted. Only After= makes systemd
    wait for firewalld."""
    if not profile.require_firewalld:
        pytest.skip("the profile does not require firewalld")
    if not units.systemctl:
        pytest.skip("no systemctl on this host: the boot's order cannot be read")
    firewalld = units.units.get("firewalld.service")
    if not enabled(firewalld):
        pytest.skip(f"firewalld.service is {firewalld.enabled if firewalld else 'unknown'}, not enabled: "
                    f"no firewalld starts at boot to order after (HOST-03)")
    daemon = network_daemon(units)
    if daemon is None:
        pytest.skip("no libvirt daemon starts at boot: nothing to order (HOST-10)")
    if daemon.after is None:
        pytest.skip(f"the boot's order of {daemon.name} cannot be known: no systemd runs here and its unit file "
                    f"is not readable")
    if "firewalld.service" not in daemon.after:
        fix(DROP_IN.format(unit=daemon.name))
        pytest.fail(f"{daemon.name} is not ordered after firewalld.service: at boot the network may start before "
                    f"firewalld and lose its firewall rules", pytrace=False)
    note(f"{daemon.name} is ordered after firewalld.service" + ("" if units.systemd else f" ({', '.join(daemon.files)})"))
