"""`ss -l -n -p -t -u` lines into sockets: addresses with devices and brackets, every holder,
and the lines that are not sockets."""
from virtnat.facts.model import SocketFacts
from virtnat.facts.sockets import _split_address, parse_sockets

HEADER = "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"


def test_every_process_holding_a_socket_is_kept():
    line = 'tcp   LISTEN 0      32     192.168.122.1:53    0.0.0.0:*    users:(("dnsmasq",pid=7,fd=6),("dnsmasq",pid=8,fd=6))\n'
    assert parse_sockets(HEADER + line) == (SocketFacts("tcp", "192.168.122.1", 53, None, (("dnsmasq", 7), ("dnsmasq", 8))),)


def test_a_socket_without_process_information_has_no_holders():
    # ss without root shows no users:(...) for other users' sockets
    assert parse_sockets("udp   UNCONN 0      0      0.0.0.0:67    0.0.0.0:*\n") == (SocketFacts("udp", "0.0.0.0", 67),)


def test_ipv6_and_wildcard_addresses():
    text = ('tcp   LISTEN 0      128        [::]:22       [::]:*    users:(("sshd",pid=5,fd=4))\n'
            'udp   UNCONN 0      0   [fe80::1]%virbr0:547    [::]:*\n'
            'tcp   LISTEN 0      32            *:53          *:*\n')
    assert [(s.address, s.device, s.port) for s in parse_sockets(text)] == [("::", None, 22), ("fe80::1", "virbr0", 547), ("*", None, 53)]


def test_lines_that_are_not_tcp_or_udp_sockets_are_skipped():
    text = HEADER + ("u_str LISTEN 0      4096   /run/libvirt/libvirt-sock 1234 * 0\n"
                     "tcp   LISTEN 0\n"  # cut short
                     "udp   UNCONN 0      0      0.0.0.0:*    0.0.0.0:*\n"  # no port
                     "raw   UNCONN 0      0      *:1     *:*\n")
    assert parse_sockets(text) == ()


def test_an_address_needs_a_numeric_port():
    assert _split_address("0.0.0.0%virbr0:67") == ("0.0.0.0", "virbr0", 67)
    assert _split_address("[::]:53") == ("::", None, 53)
    assert _split_address("0.0.0.0:*") is None
    assert _split_address("virbr0") is None


def test_five_fields_are_enough_and_names_may_hold_anything():
    text = ('udp UNCONN 0 0 192.168.122.1:53\n'
            'tcp LISTEN 0 5 [::1]%lo:631 [::]:* users:(("cups d",pid=12,fd=7),("",pid=13,fd=1),("x",pid=,fd=2))\n')
    assert parse_sockets(text) == (SocketFacts("udp", "192.168.122.1", 53),
                                   SocketFacts("tcp", "::1", 631, "lo", (("cups d", 12), ("", 13))))


def test_a_line_without_a_port_does_not_end_the_list():
    text = "udp UNCONN 0 0 0.0.0.0:* 0.0.0.0:*\ntcp LISTEN 0 5 127.0.0.1:53 0.0.0.0:*\n"
    assert parse_sockets(text) == (SocketFacts("tcp", "127.0.0.1", 53),)
