"""PATH-01..05: what a guest's packets really go through on the host, across every table of
every firewall (nftables, iptables-nft, iptables-legacy), judged by the packet-path model."""
import pytest

from virtnat.checks import bridge_link, read_sysctl, report_outcome, running_network
from virtnat.path.model import BRIDGE_NF


def judge(verdict, links, libvirt_or_none, profile, note, fix, evidence):
    """Every PATH check needs the network running and its bridge there, then the model's verdict."""
    running_network(libvirt_or_none, profile, fix)
    bridge_link(links, libvirt_or_none, profile, fix)
    report_outcome(verdict(profile.network), note, fix, evidence)


@pytest.mark.control(
    id="PATH-01",
    title="DHCP from guests (udp 67 in on {bridge}) is accepted by every table's input path",
    impact="critical",
    remediation="nft insert rule inet filter input iifname \"{bridge}\" udp dport 67 accept",
)
def test_dhcp_reaches_dnsmasq(packet_path, links, libvirt_or_none, profile, note, fix, evidence):
    """In nftables an accept in libvirt's table does not stop another table's drop: one host
    table with an input policy of drop and no accept for the bridge, and guests never get an
    address, while every libvirt rule is in place. The fix is the accept in the table and chain
    that drop it (the marker's is for Debian's /etc/nftables.conf, table inet filter); a drop by
    libvirt's or firewalld's own table is fixed by them (the network's restart, the zone). Where
    nftables.service's file makes that table, the accept's line goes at its end too, or the note
    says that no boot keeps it (docs/fix.md)."""
    judge(packet_path.dhcp, links, libvirt_or_none, profile, note, fix, evidence)


@pytest.mark.control(
    id="PATH-02",
    title="DNS from guests (udp and tcp 53 to the gateway) is accepted by every table's input path",
    impact="high",
    remediation="nft insert rule inet filter input iifname \"{bridge}\" udp dport 53 accept && "
                "nft insert rule inet filter input iifname \"{bridge}\" tcp dport 53 accept",
)
def test_dns_reaches_dnsmasq(packet_path, links, libvirt_or_none, profile, note, fix, evidence):
    """Guests resolve names through the gateway's dnsmasq; dropped there, every name lookup
    in every guest times out. The fix is the accepts in the table and chain that drop them, as
    PATH-01's."""
    judge(packet_path.dns, links, libvirt_or_none, profile, note, fix, evidence)


@pytest.mark.control(
    id="PATH-03",
    title="Guest traffic to the outside is forwarded ({bridge} in, uplink out), and so are the replies",
    impact="critical",
    remediation="iptables -I DOCKER-USER -i {bridge} -j ACCEPT && "
                "iptables -I DOCKER-USER -o {bridge} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
)
def test_guest_traffic_is_forwarded(packet_path, links, libvirt_or_none, profile, note, fix, evidence):
    """Docker's FORWARD policy drop is harmless beside libvirt's iptables rules (same chain,
    libvirt's accepts first) and fatal beside its nftables rules (another table): the
    most common reason guests on a libvirt 10+ host suddenly have no network (the marker's fix).
    The fix is the accept in the table and chain that drop the packets, and what keeps it past a
    boot: in DOCKER-USER, a unit that puts it back each time docker.service starts (Docker keeps
    no rule of that chain past a boot); with forwarding off (HOST-05) it is the sysctl, with no
    route out (HOST-09) the route's."""
    read_sysctl("net.ipv4.ip_forward", packet_path.ip_forward)  # the model's walk through FORWARD asks it
    judge(packet_path.forwarding, links, libvirt_or_none, profile, note, fix, evidence)


@pytest.mark.control(
    id="PATH-04",
    title="Guest traffic to the outside is masqueraded: nothing in the nat path accepts or returns it first",
    impact="critical",
    remediation="iptables -t nat -D POSTROUTING -s {subnet} -j ACCEPT",
)
def test_guest_traffic_is_masqueraded(packet_path, links, libvirt_or_none, profile, note, fix, evidence):
    """A nat rule that accepts the guests' subnet ahead of libvirt's masquerade sends their
    packets out with 192.168.122.x sources: they leave, and no reply ever comes back. The fix
    deletes that rule by its place (the marker's, by its spec); with no masquerade at all
    (NET-11) it is the network's restart."""
    judge(packet_path.masquerade, links, libvirt_or_none, profile, note, fix, evidence)


@pytest.mark.control(
    id="PATH-05",
    title="Guests on {bridge} reach each other: bridged frames are accepted where br_netfilter sends them through FORWARD",
    impact="high",
    remediation="iptables -I FORWARD -i {bridge} -o {bridge} -j ACCEPT",
)
def test_guests_reach_each_other(packet_path, links, libvirt_or_none, profile, note, fix, evidence):
    """With br_netfilter loaded and net.bridge.bridge-nf-call-iptables=1 (Docker loads it, and
    it is per network namespace since Linux 5.3), frames between two guests on the bridge go
    through the IPv4 FORWARD hook in and out on the bridge, in every table: a drop policy or
    rule there cuts the guests off from each other, while each still reaches the host and the
    outside. libvirt's own accept (LIBVIRT_FWX, or its nftables table's guest_cross) ends only
    its own chain: Docker's FORWARD policy drop beside libvirt's nftables backend drops them.
    The fix is the accept in the table and chain that drop them (DOCKER-USER where Docker's
    chains are; the marker's, the iptables FORWARD chain); without br_netfilter, or with the
    sysctl 0, bridged frames never meet these hooks."""
    if packet_path.bridge_nf is not None:  # present: br_netfilter is loaded, and the value decides
        read_sysctl(BRIDGE_NF, packet_path.bridge_nf)
    judge(packet_path.guests_cross, links, libvirt_or_none, profile, note, fix, evidence)
