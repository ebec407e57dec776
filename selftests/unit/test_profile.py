"""Profiles: the document's values by default, one-line errors naming file, key and problem."""
from pathlib import Path

import pytest

from virtnat.errors import ProfileError
from virtnat.profile import Profile, load_profile

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_default_profile_equals_builtin_defaults():
    loaded = load_profile(str(ROOT / "profiles/default.toml"))
    assert {k: v for k, v in loaded.as_dict().items() if k != "source"} == {
        k: v for k, v in Profile().as_dict().items() if k != "source"
    }


def test_overrides_and_substitution(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('[network]\nname = "nat0"\nbridge = "virbr7"\ngateway = "10.7.0.1/16"\n'
                    'dhcp_start = "10.7.0.10"\ndhcp_end = "10.7.0.200"\n[host]\nipv6_forwarding = false\n')
    p = load_profile(str(path))
    assert (p.network, p.bridge, p.subnet, p.require_ipv6_forwarding) == ("nat0", "virbr7", "10.7.0.0/16", False)
    assert p.substitute("virsh net-start {network}; ip link set {bridge} up") == "virsh net-start nat0; ip link set virbr7 up"


@pytest.mark.parametrize("text, problem", [
    ('[network]\ngateway = "192.168.122.300/24"\n',
     "network.gateway: '192.168.122.300/24' is not an IPv4 address with a prefix, like 192.168.122.1/24"),
    ('[network]\ngateway = "192.168.122.1"\n', "network.gateway: '192.168.122.1' is not an IPv4 address with a prefix, like 192.168.122.1/24"),
    ('[network]\ndhcp_start = "10.0.0.2"\n', "network.dhcp_start: 10.0.0.2 is outside the gateway's subnet 192.168.122.0/24"),
    ('[network]\nnmae = "x"\n', "network.nmae: unknown key (known: name, bridge, gateway, dhcp_start, dhcp_end)"),
    ('[nets]\nname = "x"\n', "nets: unknown section (known: network, host, libvirt, waiver)"),
    ('[host]\nfirewalld = "yes"\n', "host.firewalld: 'yes' is not a bool"),
    ('[libvirt]\nuri = "qemu:///system -l /tmp/x"\n', "libvirt.uri: 'qemu:///system -l /tmp/x' is not a libvirt URI like qemu:///system "
                                                       "(a scheme, ://, and no spaces or shell characters)"),
    ('[libvirt]\nuri = "qemu:///system;reboot"\n', "libvirt.uri: 'qemu:///system;reboot' is not a libvirt URI like qemu:///system "
                                                     "(a scheme, ://, and no spaces or shell characters)"),
    ('[network]\ngateway = "fd00::1/64"\n', "network.gateway: 'fd00::1/64' is not an IPv4 address with a prefix, like 192.168.122.1/24"),
    ('[network]\ndhcp_end = "192.168.122.x"\n', "network.dhcp_end: '192.168.122.x' is not an IPv4 address"),
    ('[network]\ndhcp_end = "10.0.0.9"\n', "network.dhcp_end: 10.0.0.9 is outside the gateway's subnet 192.168.122.0/24"),
    ('[network]\ndhcp_start = "192.168.122.100"\ndhcp_end = "192.168.122.99"\n',
     "network.dhcp_start: 192.168.122.100 is after dhcp_end 192.168.122.99"),
    ('[network]\nname = ""\n', "network.name: '' is not a valid name (letters, digits, _ . + -)"),
    ('[network]\nname = "my net"\n', "network.name: 'my net' is not a valid name (letters, digits, _ . + -)"),
    ('[network]\nname = "nat;reboot"\n', "network.name: 'nat;reboot' is not a valid name (letters, digits, _ . + -)"),
    ('[network]\nname = "$(id)"\n', "network.name: '$(id)' is not a valid name (letters, digits, _ . + -)"),
    ('[network]\nbridge = "vir/br0"\n', "network.bridge: 'vir/br0' is not a valid name (letters, digits, _ . + -; at most 15)"),
    ('[network]\nbridge = "virbr0\\t"\n', "network.bridge: 'virbr0\\t' is not a valid name (letters, digits, _ . + -; at most 15)"),
    ('[network]\nbridge = "br`x`"\n', "network.bridge: 'br`x`' is not a valid name (letters, digits, _ . + -; at most 15)"),
    ('[network]\nbridge = "virbr0123456789x"\n',
     "network.bridge: 'virbr0123456789x' is not a valid name (letters, digits, _ . + -; at most 15)"),
    ('network = "nat0"\n', "network: must be a [table]"),
    ('[network]\nname = 3\n', "network.name: 3 is not a str"),
    ('[libvirt]\nuri = true\n', "libvirt.uri: True is not a str"),
    ('[libvirt]\nurl = "qemu:///system"\n', "libvirt.url: unknown key (known: uri)"),
    ('[host]\nsudo = true\n', "host.sudo: unknown key (known: firewalld, ipv6_forwarding)"),
    ('[site]\n', "site: unknown section (known: network, host, libvirt, waiver)"),
])
def test_bad_profiles(tmp_path, text, problem):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_profile(str(path))
    assert str(err.value) == f"profile {path}: {problem}"


def test_profile_that_is_not_toml(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("[network\n")
    with pytest.raises(ProfileError) as err:
        load_profile(str(path))
    message = str(err.value)
    assert message.startswith(f"profile {path}: not valid TOML: ") and "\n" not in message


def test_a_range_of_one_address_and_other_keys_are_accepted(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[network]\ndhcp_start = "192.168.122.9"\ndhcp_end = "192.168.122.9"\n'
                    '[host]\nfirewalld = false\n[libvirt]\nuri = "qemu+ssh://hv1/system"\n')
    p = load_profile(str(path))
    assert (p.dhcp_start, p.dhcp_end, p.require_firewalld, p.libvirt_uri, p.source) == (
        "192.168.122.9", "192.168.122.9", False, "qemu+ssh://hv1/system", str(path))
    assert (p.require_ipv6_forwarding, p.network, p.gateway) == (True, "default", "192.168.122.1/24")


def test_a_bridge_name_of_15_characters_is_accepted(tmp_path):
    """Linux's limit on an interface name (IFNAMSIZ less its NUL): 15 is the longest allowed."""
    path = tmp_path / "p.toml"
    path.write_text('[network]\nbridge = "virbr0123456789"\n')
    assert load_profile(str(path)).bridge == "virbr0123456789"


def test_no_path_gives_the_built_in_defaults():
    assert load_profile(None) == Profile()
    assert Profile().source == "built-in defaults"


def test_profile_that_is_not_utf8_cannot_be_read(tmp_path):
    path = tmp_path / "p.toml"
    path.write_bytes(b"\xff[network]\n")
    with pytest.raises(ProfileError) as err:
        load_profile(str(path))
    assert str(err.value) == (f"profile {path}: cannot read: 'utf-8' codec can't decode byte 0xff in position 0: "
                              "invalid start byte")


def test_profile_that_is_a_directory_cannot_be_read(tmp_path):
    with pytest.raises(ProfileError) as err:
        load_profile(str(tmp_path))
    assert str(err.value) == f"profile {tmp_path}: a directory, not a regular file: give the profile file itself"


def test_missing_profile_points_at_the_example(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ProfileError) as err:
        load_profile(str(path))
    assert str(err.value) == f"profile {path}: file not found (see profiles/default.toml for an example)"


def test_substitution_fills_the_subnet_and_extras():
    assert Profile().substitute("{subnet} {bridge} {guest}:{tap}", guest="web1", tap="vnet0") == "192.168.122.0/24 virbr0 web1:vnet0"


def test_sections_after_the_waivers_are_read_too(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('[[waiver]]\ncheck = "HOST-03"\nreason = "CHG-1"\nexpires = 2026-12-31\n\n[network]\nbridge = "br-nat"\n')
    profile = load_profile(str(path))
    assert (profile.bridge, [w.check for w in profile.waivers]) == ("br-nat", ["HOST-03"])
