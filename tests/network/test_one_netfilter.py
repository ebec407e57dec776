"""NET-16: one netfilter. iptables-legacy's tables run beside nftables', and their drops count too."""
import pytest


@pytest.mark.control(
    id="NET-16",
    title="No iptables-legacy rules beside nftables ones touch guest traffic",
    impact="high",
    remediation="iptables-legacy-save > /root/iptables-legacy.rules && iptables-legacy -F && iptables-legacy -t nat -F && iptables-legacy -P FORWARD ACCEPT && iptables-legacy -P INPUT ACCEPT",
)
def test_legacy_rules_leave_guests_alone(packet_path, firewall, note):
    """Both netfilters run on every packet: a rule written with iptables-legacy (an old tool,
    a container runtime built against it) drops guest traffic that `nft list ruleset` and
    `iptables-nft -L` never show. The fix saves the legacy rules to /root/iptables-legacy.rules
    and flushes them; the tool that wrote them writes them again until it uses iptables-nft
    (on Debian: update-alternatives --set iptables /usr/sbin/iptables-nft)."""
    legacy = [t for t in firewall.tables if t.source == "iptables-legacy"]
    if not any(t.rule_count or any(c.policy != "accept" for c in t.chains.values()) for t in legacy):
        return
    if not any(t.rule_count for t in firewall.tables if t.source != "iptables-legacy"):
        note("iptables-legacy is this host's only netfilter")
        return
    touched, notes = packet_path.legacy_touches()
    for line in notes:
        note(line)
    assert not touched, f"iptables-legacy rules beside nftables ones touch guest traffic: {'; '.join(touched[:3])}"
    note("iptables-legacy rules exist but none touches guest traffic")
