"""The lab's guest is a real Linux (lab/guest/) that does DHCP, DNS and NAT in rounds and
reports what it got on its serial console: the truth the suite's verdicts are compared with."""
import ipaddress
import re
import time

GUEST = "virtnat-guest"


def dhcp_range(lab) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    xml = lab.sh("virsh -r net-dumpxml default")
    start, end = re.search(r"<range start='([\d.]+)' end='([\d.]+)'", xml).groups()
    return ipaddress.IPv4Address(start), ipaddress.IPv4Address(end)


def test_healthy_guest_gets_lease_dns_and_nat(lab):
    truth = lab.guest_truth()
    assert truth["dhcp"] and truth["dns"] and truth["dnstcp"] and truth["out"] and truth["peer"], truth
    addr = ipaddress.IPv4Address(truth["addr"])
    assert addr in ipaddress.IPv4Network("192.168.122.0/24")
    start, end = dhcp_range(lab)
    assert start <= addr <= end, (truth, start, end)
    # The lease libvirt's dnsmasq handed out for the guest's MAC is the address the guest uses.
    mac = lab.sh(f"virsh -r domiflist {GUEST}").split()[-1]
    leases = lab.sh("virsh -r net-dhcp-leases default")
    assert any(mac in line and f"{addr}/" in line for line in leases.splitlines()), leases
    assert lab.audit().rc == 0


def test_ip_forward_off_breaks_only_nat(lab):
    """HOST-05's fault as the guest lives it: its lease and DNS still work (the host answers
    them itself), its traffic to the outside does not; and back once forwarding is on."""
    mark = lab.guest_mark()
    lab.sh("sysctl -qw net.ipv4.ip_forward=0")
    try:
        before = lab.sh("cat /proc/sys/net/ipv4/ip_forward").strip()
        truth = lab.guest_truth(after=mark)
        run = lab.audit()
        after = lab.sh("cat /proc/sys/net/ipv4/ip_forward").strip()
    finally:
        mark = lab.guest_mark()
        lab.sh("sysctl -qw net.ipv4.ip_forward=1")
    assert before == after == "0", "forwarding was not off all through the guest's round and the audit"
    assert not truth["out"], truth
    assert truth["dhcp"] and truth["dns"], truth
    assert run.check("HOST-05")["outcome"] == "failed", "the suite sees what the guest lives"
    assert run.check("HOST-05")["message"] == "net.ipv4.ip_forward is '0', expected '1'"
    truth = lab.guest_truth(after=mark)
    assert truth["dhcp"] and truth["dns"] and truth["out"], truth


def test_idle_guest_runs_no_rounds(lab):
    """Between requests the guest sends nothing: it leaves the audited host as it is."""
    lab.guest_truth()
    mark = lab.guest_mark()
    time.sleep(3)
    assert lab.guest_mark() == mark


def test_the_second_guest_holds_its_reserved_address(lab):
    """The first guest pings 192.168.122.3 (lab/common.sh PEER_ADDR): the network reserves it
    for the second guest's MAC, and that guest took it."""
    assert "<host mac='52:54:00:76:6e:03' ip='192.168.122.3'/>" in lab.sh("virsh -r net-dumpxml default")
    assert "VIRTNAT-GUEST peer addr=192.168.122.3" in (lab.guest_console.with_name("peer-console.log")).read_text()
    assert lab.guest_truth()["peer"] is True
