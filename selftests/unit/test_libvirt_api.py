"""libvirt facts through libvirt-python, on libvirt's own test driver (in-process, read-only)
and on URIs that cannot connect."""
import libvirt
import pytest

from virtnat.collectors import Stats
from virtnat.collectors.libvirt_api import LibvirtApiSource, _version, connection_error
from virtnat.errors import FactError
from virtnat.facts.model import DhcpRange, GuestNic, NetworkFacts, NetworkDefinition

# A test-driver host: two running guests listed out of order, one shut off, a NAT network and
# an isolated one.
NODE = """<node>
  <domain type='test'>
    <name>zeta</name><memory>65536</memory><os><type>hvm</type></os>
    <devices><interface type='network'><mac address='52:54:00:00:00:02'/><source network='default'/></interface></devices>
  </domain>
  <domain type='test'>
    <name>alpha</name><memory>65536</memory><os><type>hvm</type></os>
    <devices><interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/></interface></devices>
  </domain>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>off</name><memory>65536</memory><os><type>hvm</type></os>
    <test:runstate>5</test:runstate>
  </domain>
  <network>
    <name>default</name><forward mode='nat'/><bridge name='virbr0' stp='on'/>
    <ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip>
  </network>
  <network>
    <name>iso</name><bridge name='virbr9' stp='off'/><ip address='10.9.0.1' prefix='16'/>
  </network>
</node>
"""

DEFAULT_NETWORK = NetworkFacts(name="default", active=True, persistent=True, autostart=False, stp=True,
                               # the test driver has no inactive XML (VIR_NETWORK_XML_INACTIVE: unsupported flags)
                               definition=NetworkDefinition("nat", "virbr0", ("192.168.122.1/24",),
                                                            (DhcpRange("192.168.122.2", "192.168.122.254"),)))


def test_default_test_driver_gives_its_network_and_guest():
    stats = Stats()
    facts = LibvirtApiSource("test:///default", stats).collect()
    assert facts.uri == "test:///default"
    assert facts.version == _version(libvirt.getVersion())
    assert facts.networks == {"default": DEFAULT_NETWORK}
    assert facts.running_guests == ("test",)
    assert facts.guest_nics == (GuestNic(guest="test", mac="aa:bb:cc:dd:ee:ff", tap="testnet0", network="default", bridge=None),)
    # open, list networks, 5 per network (live and inactive XML, three flags), list domains, 1 per guest, version
    assert stats.libvirt_calls == 10


def test_running_guests_only_sorted_by_name(tmp_path):
    node = tmp_path / "node.xml"
    node.write_text(NODE)
    uri = f"test://{node}"
    facts = LibvirtApiSource(uri, Stats()).collect()
    assert facts.uri == uri
    assert facts.running_guests == ("alpha", "zeta")
    assert [(n.guest, n.mac, n.network, n.bridge) for n in facts.guest_nics] == [
        ("alpha", "52:54:00:00:00:01", None, "br0"), ("zeta", "52:54:00:00:00:02", "default", None)]
    assert facts.networks["default"] == DEFAULT_NETWORK
    iso = facts.networks["iso"]
    assert (iso.forward_mode, iso.bridge, iso.stp, iso.gateway, iso.dhcp_ranges) == (None, "virbr9", False, "10.9.0.1/16", ())


class Recording(LibvirtApiSource):
    """Keeps the connection it opened, to look at it after collect()."""

    def _call(self, fn, *args):
        result = super()._call(fn, *args)
        if fn is libvirt.openReadOnly:
            self.conn = result
        return result


def test_connection_is_closed_after_collecting():
    source = Recording("test:///default", Stats())
    source.collect()
    with pytest.raises(libvirt.libvirtError, match="invalid connection pointer"):
        source.conn.listAllNetworks()


class FailingListing(Recording):
    """The driver refuses the domain listing (flags it does not support): a real libvirt error."""

    def _call(self, fn, *args):
        if getattr(fn, "__name__", "") == "listAllDomains":
            args = (1 << 30,)
        return super()._call(fn, *args)


def test_error_while_reading_is_one_line_and_closes_the_connection():
    source = FailingListing("test:///default", Stats())
    with pytest.raises(FactError) as err:
        source.collect()
    assert str(err.value) == "libvirt at test:///default: unsupported flags (0x40000000) in function testConnectListAllDomains"
    with pytest.raises(libvirt.libvirtError, match="invalid connection pointer"):
        source.conn.getLibVersion()


def test_absent_socket_says_start_the_daemon():
    uri = "qemu+unix:///system?socket=/nonexistent"
    stats = Stats()
    with pytest.raises(FactError) as err:
        LibvirtApiSource(uri, stats).collect()
    assert str(err.value) == (
        f"cannot connect to libvirt at {uri}: Failed to connect socket to '/nonexistent': No such file or directory; "
        "fix: start the libvirt daemon (systemctl start libvirtd, or virtqemud and virtnetworkd)")
    assert stats.libvirt_calls == 1


def test_refused_tcp_connection_says_start_the_daemon():
    uri = "qemu+tcp://127.0.0.1:1/system"  # loopback port 1: nothing listens
    with pytest.raises(FactError) as err:
        LibvirtApiSource(uri, Stats()).collect()
    assert str(err.value) == (f"cannot connect to libvirt at {uri}: unable to connect to server at '127.0.0.1:1': "
                              "Connection refused; fix: start the libvirt daemon (systemctl start libvirtd)")


@pytest.mark.parametrize("number, text", [(9000000, "9.0.0"), (10004001, "10.4.1"), (11010012, "11.10.12")])
def test_version_numbers_read_as_major_minor_micro(number, text):
    assert _version(number) == text


@pytest.mark.parametrize("message, fix", [
    ("Failed to connect socket to '/run/libvirt/virtqemud-sock-ro': No such device", "start the libvirt daemon (systemctl start libvirtd, or virtqemud and virtnetworkd)"),
    ("access denied by policy", "run the audit as root or as a member of the libvirt group"),
    ("Cannot recv data: Connection refused", "start the libvirt daemon (systemctl start libvirtd)"),
    ("XML error: failed to parse xml document", "check that a libvirt daemon serves this URI (virsh -r -c URI version)"),
])
def test_each_connection_error_names_its_fix(message, fix):
    assert str(connection_error("qemu:///system", message)) == f"cannot connect to libvirt at qemu:///system: {message}; fix: {fix}"


def test_failed_socket_without_no_such_is_not_taken_for_an_absent_daemon():
    text = str(connection_error("qemu:///system", "Failed to connect socket to '/run/x': Connection refused"))
    assert text.endswith("; fix: start the libvirt daemon (systemctl start libvirtd)")


@pytest.mark.parametrize("message", ["", "  \n "])
def test_empty_connection_error_reads_unknown(message):
    assert str(connection_error("qemu:///system", message)) == (
        "cannot connect to libvirt at qemu:///system: unknown error; "
        "fix: check that a libvirt daemon serves this URI (virsh -r -c URI version)")


def test_libvirt_prints_nothing_of_its_own_when_it_fails(capfd):
    """libvirt's default error handler writes every error to stderr; the audit's one line is
    the only trace a failed connection leaves."""
    with pytest.raises(FactError):
        LibvirtApiSource("bogus:///system", Stats()).collect()
    assert capfd.readouterr().err == ""


def test_the_facts_of_a_stopped_daemon_are_taken_without_connecting():
    """The fallback is asked first: a connection to a stopped daemon's socket would start it."""
    stats, without_daemon = Stats(), LibvirtApiSource("test:///default", Stats()).collect()
    facts = LibvirtApiSource("qemu+unix:///system?socket=/nonexistent", stats, fallback=lambda: without_daemon).collect()
    assert facts is without_daemon and stats.libvirt_calls == 0
