"""PATH-01..04: what a guest's packets really go through on the host, across every table of
every firewall (nftables, iptables-nft, iptables-legacy), judged by the packet-path model."""
import pytest

from virtnat.checks import bridge_link, report_outcome, running_network


def judge(verdict, links, libvirt_or_none, profile, note, fix, evidence):
    """Every PATH check needs the network running and its bridge there, then the model's verdict."""
    running_network(libvirt_or_none, profile)
    bridge_link(links, libvirt_or_none, profile)
    report_outcome(verdict(profile.network), note, fix, evidence)


@pytest.mark.control(
    id="PATH-01",
    title="DHCP from guests (udp 67 in on {bridge}) is accepted by every table's input path",
    impact="critical",
    remediation="nft insert rule <family> <table> <chain> iifname \"{bridge}\" udp dport 67 accept   (in the table that drops it)",
)
def test_dhcp_reaches_dnsmasq(packet_path, links, libvirt_or_none, profile, note, fix, evidence):
    """In nftables an accept in libvirt's table does not stop another table's drop: one host
    table with an input policy of drop and no accept for the bridge, and guests never get an
    address, while every libvirt rule is in place."""
    judge(packet_path.dhcp, links, libvirt_or_none, profile, note, fix, evidence)


@pytest.mark.control(
    id="PATH-02",
    title="DNS from guests (udp and tcp 53 to the gateway) is accepted by every table's input path",
    impact="high",
    remediation="nft insert rule <family> <table> <chain> iifname \"{bridge}\" udp dport 53 accept   (in the table that drops it)",
)
def test_dns_reaches_dnsmasq(packet_path, links, libvirt_or_none, profile, note, fix, evidence):
    """Guests resolve names through the gateway's dnsmasq; dropped there, every name lookup
    in every guest times out."""
    judge(packet_path.dns, links, libvirt_or_none, profile, note, fix, evidence)


@pytest.mark.control(
    id="PATH-03",
    title="Guest traffic to the outside is forwarded ({bridge} in, uplink out), and so are the replies",
    impact="critical",
    remediation="iptables -I DOCKER-USER -i {bridge} -j ACCEPT   (or the accept for {bridge} in the table that drops it)",
)
def test_guest_traffic_is_forwarded(packet_path, links, libvirt_or_none, profile, note, fix, evidence):
    """Docker's FORWARD policy drop is harmless beside libvirt's iptables rules (same chain,
    libvirt's accepts first) and fatal beside its nftables rules (another table): the
    most common reason guests on a libvirt 10+ host suddenly have no network."""
    judge(packet_path.forwarding, links, libvirt_or_none, profile, note, fix, evidence)


@pytest.mark.control(
    id="PATH-04",
    title="Guest traffic to the outside is masqueraded: nothing in the nat path accepts or returns it first",
    impact="critical",
    remediation="iptables -t nat -D POSTROUTING <the rule that accepts {subnet}>",
)
def test_guest_traffic_is_masqueraded(packet_path, links, libvirt_or_none, profile, note, fix, evidence):
    """A nat rule that accepts the guests' subnet ahead of libvirt's masquerade sends their
    packets out with 192.168.122.x sources: they leave, and no reply ever comes back."""
    judge(packet_path.masquerade, links, libvirt_or_none, profile, note, fix, evidence)
