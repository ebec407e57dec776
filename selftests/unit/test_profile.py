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


@pytest.mark.parametrize(
    "text, problem",
    [
        ('[network]\ngateway = "192.168.122.300/24"\n', "network.gateway: '192.168.122.300/24' is not an IPv4 address"),
        ('[network]\ngateway = "192.168.122.1"\n', "network.gateway: '192.168.122.1' is not an IPv4 address with a prefix"),
        ('[network]\ndhcp_start = "10.0.0.2"\n', "network.dhcp_start: 10.0.0.2 is outside the gateway's subnet"),
        ('[network]\nnmae = "x"\n', "network.nmae: unknown key"),
        ('[nets]\nname = "x"\n', "nets: unknown section"),
        ('[host]\nfirewalld = "yes"\n', "host.firewalld: 'yes' is not a bool"),
        ("[network\n", "not valid TOML"),
    ],
)
def test_bad_profiles(tmp_path, text, problem):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_profile(str(path))
    message = str(err.value)
    assert message.startswith(f"profile {path}: ") and problem in message and "\n" not in message


def test_missing_profile(tmp_path):
    with pytest.raises(ProfileError, match="file not found"):
        load_profile(str(tmp_path / "nope.toml"))
