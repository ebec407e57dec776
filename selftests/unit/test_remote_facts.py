"""Remote facts: the probe's virsh and ip sections recorded over SSH from the lab host, and
one-line reasons for hosts that cannot be reached."""

import pytest

from virtnat.collectors.libvirt_api import connection_error
from virtnat.collectors.reach import unreachable
from virtnat.errors import FactError, redact
from virtnat.facts.links import parse_ip_json
from virtnat.facts.probe import split_sections, system_from_sections
from virtnat.facts.virsh import libvirt_from_sections


@pytest.fixture
def sections(data):
    return split_sections(data("libvirt9/probe-remote.txt"))


def test_virsh_sections_give_libvirt_facts(sections):
    facts = libvirt_from_sections(sections, "qemu:///system", connection_error)
    assert facts.version == "9.0.0"
    net = facts.networks["default"]
    assert (net.active, net.persistent, net.autostart, net.forward_mode, net.bridge) == (True, True, True, "nat", "virbr0")
    assert facts.running_guests == ("virtnat-guest",)
    assert [n.tap for n in facts.guest_nics] == ["vnet0"]


def test_ip_and_system_sections_from_the_same_run(sections):
    links = parse_ip_json(sections["ip-link"][1], sections["ip-addr"][1])
    assert links["vnet0"].master == "virbr0"
    assert system_from_sections(sections).firewall.backend == "iptables"


def test_virsh_that_cannot_connect_is_one_line_with_the_fix():
    sections = {"virsh-networks": (1, "error: failed to connect to the hypervisor\n"
                                      "error: Failed to connect socket to '/var/run/libvirt/libvirt-sock-ro': No such file or directory")}
    with pytest.raises(FactError) as err:
        libvirt_from_sections(sections, "qemu:///system", connection_error)
    assert str(err.value) == ("cannot connect to libvirt at qemu:///system: Failed to connect socket to "
                              "'/var/run/libvirt/libvirt-sock-ro': No such file or directory; fix: start the libvirt "
                              "daemon (systemctl start libvirtd, or virtqemud and virtnetworkd)")


def test_no_virsh_on_the_host():
    with pytest.raises(FactError, match="virsh is not installed"):
        libvirt_from_sections({"virsh-networks": (127, "sh: 1: virsh: not found")}, "qemu:///system", connection_error)


class CommandResultLike:
    def __init__(self, stderr):
        self.stderr = stderr


@pytest.mark.parametrize(
    "exc, expected",
    [
        (RuntimeError(CommandResultLike("ssh: connect to host 10.0.0.9 port 22: Connection refused\n")), "is the host up and sshd running"),
        (RuntimeError(CommandResultLike("Host key verification failed.\n")), "known_hosts"),
        (OSError("timed out"), "--connect-timeout"),
        (Exception("Authentication failed."), "--ssh-identity-file"),
    ],
)
def test_unreachable_hosts_say_why(exc, expected):
    message = str(unreachable("hv9", exc))
    assert message.startswith("cannot reach hv9: ") and expected in message and "\n" not in message


def test_password_is_masked_in_reasons():
    message = str(unreachable("hv9", Exception("failed for paramiko://root:hunter2@hv9")))
    assert "hunter2" not in message


@pytest.mark.parametrize("spec, shown", [
    ("paramiko://root:hunter2@hv9", "paramiko://root:***@hv9"),
    ("ssh://alice:s3/cr3t@hv1:2222", "ssh://alice:***@hv1:2222"),
    ("paramiko://bob:p@ss@w/rd@hv2", "paramiko://bob:***@hv2"),
    ("ssh://hv3:22", "ssh://hv3:22"),
    ("ssh://carol@hv4", "ssh://carol@hv4"),
    ("alice:pw@hv1", "alice:***@hv1"),                   # a bare spec (--connection gives the scheme)
    ("bob:p@ss@w/rd@hv2:22", "bob:***@hv2:22"),
    ("root@hv1: Permission denied", "root@hv1: Permission denied"),
    ("hv5:22", "hv5:22"),
])
def test_passwords_with_at_and_slash_are_masked(spec, shown):
    assert redact(spec) == shown
    message = str(unreachable("hv", Exception(f"connect failed for {spec}: refused")))
    assert shown in message and ("***" in message) == ("***" in shown)


def test_autostart_off_is_read_apart_from_persistent(data):
    text = data("libvirt9/probe-remote.txt").replace("Autostart:      yes", "Autostart:      no")
    net = libvirt_from_sections(split_sections(text), "qemu:///system", connection_error).networks["default"]
    assert (net.persistent, net.autostart, net.active) == (True, False, True)


def test_names_with_spaces_quotes_and_markup_come_from_the_xml():
    """The probe lists networks and guests by UUID and reads each by UUID; names, which may hold
    anything, come from the XML and travel intact."""
    from virtnat.facts.probe import frame

    def domain(name, mac):
        return (f"<domain><name>{name}</name><devices><interface type='network'><mac address='{mac}'/>"
                "<source network='default'/><target dev='vnet9'/></interface></devices></domain>")
    net = ("<network><name>my net</name><forward mode='nat'/><bridge name='virbr0' stp='on'/>"
           "<ip address='192.168.122.1' prefix='24'/></network>")
    sections = {"virsh-networks": (0, "4b1c0000-0000-4000-8000-000000000001"),
                "virsh-domains": (0, "9f2e0000-0000-4000-8000-000000000002\n9f2e0000-0000-4000-8000-000000000003"),
                "net-info:4b1c0000-0000-4000-8000-000000000001": (0, "Active: yes\nPersistent: yes\nAutostart: no"),
                "net-xml:4b1c0000-0000-4000-8000-000000000001": (0, net),
                "dom-xml:9f2e0000-0000-4000-8000-000000000002": (0, domain("my vm", "52:54:00:00:00:01")),
                "dom-xml:9f2e0000-0000-4000-8000-000000000003": (0, domain("a'b &lt;img src=x onerror=alert(1)&gt;", "52:54:00:00:00:02"))}
    facts = libvirt_from_sections(split_sections(frame(sections)), "qemu:///system", connection_error)
    assert list(facts.networks) == ["my net"] and facts.networks["my net"].autostart is False
    assert facts.running_guests == ("a'b <img src=x onerror=alert(1)>", "my vm")
    assert [n.guest for n in facts.guest_nics] == ["a'b <img src=x onerror=alert(1)>", "my vm"]
