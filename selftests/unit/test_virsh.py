"""libvirt facts from the probe's virsh sections: state flags, versions, guests in name order,
and the one-line errors when virsh cannot answer."""
import pytest

from virtnat.errors import FactError
from virtnat.facts.model import GuestNic
from virtnat.facts.virsh import _flags, libvirt_from_sections

NET = "<network><name>{}</name><forward/><bridge name='{}'/><ip address='10.0.0.1' prefix='24'/></network>"
INFO = "Name:           default\nUUID:           4b1c\nActive:         yes\nPersistent:     no\nAutostart:      yes\nBridge:         virbr0"


def domain(name, *taps):
    nics = "".join(f"<interface type='network'><mac address='52:54:00:00:00:0{i}'/><source network='default'/>"
                   f"<target dev='{tap}'/></interface>" for i, tap in enumerate(taps))
    return f"<domain><name>{name}</name><devices>{nics}</devices></domain>"


def error(uri, text):
    return FactError(f"{uri}|{text}")


def read(**sections):
    return libvirt_from_sections(sections, "qemu+ssh://hv/system", error)


def test_flags_are_yes_or_not():
    assert _flags(INFO) == {"name": False, "uuid": False, "active": True, "persistent": False, "autostart": True, "bridge": False}
    assert _flags("  Active :  yes \nAutostart: Yes\nx") == {"active": True, "autostart": False, "x": False}


def test_networks_by_name_with_their_flags_and_guests_by_name():
    facts = read(**{"libvirt-version": (0, "Compiled against library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.0\n"),
                    "virsh-networks": (0, "u1\nu2\n"), "virsh-domains": (0, "d1 d2 d3"),
                    "net-info:u1": (0, INFO), "net-xml:u1": (0, NET.format("default", "virbr0")),
                    "net-info:u2": (0, ""), "net-xml:u2": (0, NET.format("lab", "virbr1")),
                    "dom-xml:d1": (0, domain("zed", "vnet2")), "dom-xml:d2": (1, "error: domain gone"),
                    "dom-xml:d3": (0, domain("alpha", "vnet0", "vnet1"))})
    assert (facts.uri, facts.version) == ("qemu+ssh://hv/system", "9.0.0")
    assert list(facts.networks) == ["default", "lab"]
    default, lab = facts.networks["default"], facts.networks["lab"]
    assert (default.active, default.persistent, default.autostart, default.bridge) == (True, False, True, "virbr0")
    assert (lab.active, lab.persistent, lab.autostart, lab.bridge) == (False, False, False, "virbr1")
    assert facts.running_guests == ("alpha", "zed")
    assert facts.guest_nics == (GuestNic("alpha", "52:54:00:00:00:00", "vnet0", "default", None),
                                GuestNic("alpha", "52:54:00:00:00:01", "vnet1", "default", None),
                                GuestNic("zed", "52:54:00:00:00:00", "vnet2", "default", None))


def test_two_guests_of_one_name_are_two_guests_each_checked():
    """A guest is its UUID: two domains named alike (a hostile or broken host) both count, in UUID
    order, so the failing tap of one is not hidden behind the other."""
    facts = read(**{"virsh-networks": (0, ""), "virsh-domains": (0, "uuid-b uuid-a"),
                    "dom-xml:uuid-b": (0, domain("vm1", "vnet7")), "dom-xml:uuid-a": (0, domain("vm1", "vnet0"))})
    assert facts.running_guests == ("vm1", "vm1")
    assert [n.tap for n in facts.guest_nics] == ["vnet0", "vnet7"]


def test_no_networks_no_guests_unknown_version():
    facts = read(**{"virsh-networks": (0, ""), "libvirt-version": (0, "virsh version 9.0.0 beta")})
    assert (facts.version, facts.networks, facts.guest_nics, facts.running_guests) == ("unknown", {}, (), ())
    assert read(**{"virsh-networks": (0, "")}).version == "unknown"
    assert read(**{"virsh-networks": (0, ""), "libvirt-version": (1, "10.1.0")}).version == "10.1.0"
    assert read(**{"virsh-networks": (0, ""), "dom-xml:x": (0, domain("a")), "virsh-domains": (0, "x\ny")}).running_guests == ("a",)
    assert read(**{"virsh-networks": (0, ""), "dom-xml:x": (0, "  \n"), "virsh-domains": (0, "x")}).running_guests == ()


@pytest.mark.parametrize("sections, message", [
    ({"net-xml:u1": (0, "<network/>")}, "virsh could not read network 'u1': "),
    ({"net-info:u1": (1, " error: network not found \n"), "net-xml:u1": (0, "<network/>")},
     "virsh could not read network 'u1': error: network not found"),
    ({"net-info:u1": (0, INFO), "net-xml:u1": (1, "error: gone\n")}, "virsh could not read network 'u1': error: gone"),
    ({"net-info:u1": (0, INFO), "net-xml:u1": (0, "\n ")}, "virsh could not read network 'u1': "),
    ({"net-info:u1": (0, INFO)}, "virsh could not read network 'u1': "),
])
def test_a_network_virsh_could_not_read(sections, message):
    with pytest.raises(FactError) as err:
        read(**{"virsh-networks": (0, "u1")}, **sections)
    assert str(err.value) == message


@pytest.mark.parametrize("networks", [None, (127, ""), (1, "sh: virsh: not found")])
def test_no_virsh(networks):
    with pytest.raises(FactError) as err:
        read(**({"virsh-networks": networks} if networks else {}))
    assert str(err.value) == "virsh is not installed on the host: install libvirt-clients (or give --libvirt-uri)"


def test_connection_error_gets_virshs_lines_without_the_generic_one():
    with pytest.raises(FactError) as err:
        read(**{"virsh-networks": (1, "error: failed to connect to the hypervisor\nerror: Permission denied\nsee error: x")})
    assert str(err.value) == "qemu+ssh://hv/system|Permission denied\nsee error: x"


def test_a_listing_is_read_whatever_its_words():
    with pytest.raises(FactError) as err:
        read(**{"virsh-networks": (0, "not found")})
    assert str(err.value) == "virsh could not read network 'not': "
