"""NET-11, NET-12, NET-14: the NAT and filter rules libvirt installs, and firewalld's zone."""
import pytest

from virtnat.checks import RESTART, network_daemon_name, running_network

# The accepting rules libvirt installs for a NAT bridge, per backend. The nftables backend
# (libvirt 10+) adds no INPUT/OUTPUT rules of its own.
REQUIRED_ROLES = {
    "iptables": ("input", "output", "forward_in", "forward_out"),
    "nftables": ("forward_in", "forward_out"),
}
ROLE_TEXT = {
    "input": "DHCP/DNS from guests (INPUT)",
    "output": "DHCP/DNS to guests (OUTPUT)",
    "forward_in": "replies to guests (FORWARD -o bridge)",
    "forward_out": "traffic from guests (FORWARD -i bridge)",
}


def _where(firewall, system, profile):
    where = f"{firewall.backend} backend" if firewall.backend else "no libvirt rules in iptables or nftables"
    if profile.require_firewalld and not system.running("firewalld"):
        where += "; firewalld is not running (HOST-02), and its exit flushes libvirt's rules"
    return where


@pytest.mark.control(
    id="NET-11",
    title="NAT masquerade for {subnet} is in place",
    impact="critical",
    remediation=RESTART,
)
def test_masquerade_is_in_place(firewall, system, libvirt_or_none, profile, note, fix):
    """Without masquerading, guest packets leave with 192.168.122.x source addresses and no
    reply ever comes back, while the network still reads "active". The fix restarts the
    network: libvirt reinstalls its rules. Where they go missing again, firewalld's and
    libvirtd's logs say who removed them."""
    running_network(libvirt_or_none, profile, fix)
    note(_where(firewall, system, profile))
    assert profile.subnet in firewall.masquerade_sources, (
        f"NAT rules are missing: no masquerade for {profile.subnet} ({_where(firewall, system, profile)}; "
        f"masqueraded: {', '.join(sorted(firewall.masquerade_sources)) or 'nothing'})"
    )


@pytest.mark.control(
    id="NET-12",
    title="libvirt's filter rules for {bridge} are in place",
    impact="high",
    remediation=RESTART,
)
def test_filter_rules_are_in_place(firewall, system, libvirt_or_none, profile, note, fix):
    """libvirt's INPUT/FORWARD/OUTPUT rules let guests get DHCP and DNS from the host and
    forward their traffic; a host firewall reload that drops them cuts the guests off."""
    running_network(libvirt_or_none, profile, fix)
    note(_where(firewall, system, profile))
    found = firewall.bridge_rules.get(profile.bridge, frozenset())
    required = REQUIRED_ROLES.get(firewall.backend or "iptables")
    missing = [ROLE_TEXT[r] for r in required if r not in found]
    assert not missing, f"{profile.bridge}: rules missing for {', '.join(missing)} ({_where(firewall, system, profile)})"


@pytest.mark.control(
    id="NET-14",
    title='With firewalld, {bridge} is in firewalld\'s "libvirt" zone',
    impact="high",
    remediation="firewall-cmd --zone=libvirt --change-interface={bridge} && "
                "firewall-cmd --permanent --zone=libvirt --change-interface={bridge}",
)
def test_bridge_is_in_libvirt_zone(firewall, system, libvirt_or_none, profile, fix):
    """In any other zone (usually "public") firewalld rejects the guests' DHCP and DNS
    requests to the host. libvirt puts the bridge in the zone itself when the network starts,
    so the network's restart (`virsh net-destroy` and `net-start`) does it too. The fix binds it
    now and in firewalld's permanent configuration, so that no permanent binding elsewhere (a
    zone file naming the bridge) takes it back at a reload or the next boot (not yet proven by
    a reload on the lab); with firewalld not running, the fix is HOST-02's."""
    if not profile.require_firewalld:
        pytest.skip("the profile does not require firewalld")
    running_network(libvirt_or_none, profile, fix)
    if not system.running("firewalld"):
        fix(f"systemctl start firewalld && systemctl restart {network_daemon_name(system)}")
        pytest.fail(f"firewalld is not running (HOST-02), so {profile.bridge} is in no zone", pytrace=False)
    zone = firewall.zones.get(profile.bridge)
    assert zone == "libvirt", f"{profile.bridge} is in zone {zone or 'none'!r}, expected 'libvirt'"
