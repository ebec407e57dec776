"""Link facts parsed from `ip -j` output recorded on the lab host (libvirt 9, Debian 12)."""
import pytest

from virtnat.errors import FactError
from virtnat.facts.links import parse_ip_json


def test_healthy_bridge_and_tap(data):
    links = parse_ip_json(data("libvirt9/ip-link.json"), data("libvirt9/ip-addr.json"))
    bridge, tap = links["virbr0"], links["vnet0"]
    assert (bridge.kind, bridge.admin_up, bridge.operstate, bridge.stp_enabled) == ("bridge", True, "UP", True)
    assert "192.168.122.1/24" in bridge.addresses
    assert (tap.kind, tap.master, tap.operstate, tap.admin_up) == ("tun", "virbr0", "UNKNOWN", True)
    assert tap.mac.startswith("fe:54:00:")
    assert tap.stp_enabled is None
    assert bridge.mtu == tap.mtu == 1500


def test_idle_bridge_is_admin_up_without_carrier(data):
    """The document's puzzle: flags UP, NO-CARRIER, operstate DOWN."""
    links = parse_ip_json(data("libvirt9/ip-link-idle-bridge.json"), data("libvirt9/ip-addr-idle-bridge.json"))
    assert links["virbr0"].admin_up and links["virbr0"].operstate == "DOWN"
    assert links["vnet0"].master is None


def test_destroyed_network_has_no_bridge(data):
    links = parse_ip_json(data("libvirt9/ip-link-network-destroyed.json"), data("libvirt9/ip-addr-network-destroyed.json"))
    assert "virbr0" not in links and "vnet0" in links


def test_garbage_is_a_fact_error():
    with pytest.raises(FactError, match="not JSON"):
        parse_ip_json("Error: something", "[]")


def test_bridge_set_down_is_not_admin_up(data):
    """`ip link set virbr0 down` clears UP from the flags: admin state, not carrier."""
    import json
    links_json = json.loads(data("libvirt9/ip-link.json"))
    for link in links_json:
        if link["ifname"] == "virbr0":
            link["flags"] = [f for f in link["flags"] if f not in ("UP", "LOWER_UP")]
            link["operstate"] = "DOWN"
    links = parse_ip_json(json.dumps(links_json), data("libvirt9/ip-addr.json"))
    assert not links["virbr0"].admin_up and links["vnet0"].admin_up


class _Msg(dict):
    """The little of a pyroute2 message links_from_netlink reads."""

    def __init__(self, attrs, **fields):
        super().__init__(fields)
        self.attrs = attrs

    def get_attr(self, name):
        return self.attrs.get(name)

    def __bool__(self):  # a message is there even without header fields
        return True


def test_netlink_down_link_and_bridge_stp():
    from virtnat.facts.links import links_from_netlink
    info = _Msg({"IFLA_INFO_KIND": "bridge", "IFLA_INFO_DATA": _Msg({"IFLA_BR_STP_STATE": 1})})
    bridge = _Msg({"IFLA_IFNAME": "virbr0", "IFLA_LINKINFO": info, "IFLA_OPERSTATE": "DOWN", "IFLA_ADDRESS": "52:54:00:aa:bb:cc"},
                  index=3, flags=0x1002)  # BROADCAST|MULTICAST without IFF_UP
    tap = _Msg({"IFLA_IFNAME": "vnet0", "IFLA_MASTER": 3, "IFLA_OPERSTATE": "UNKNOWN"}, index=4, flags=0x1003)
    addr = _Msg({"IFA_LOCAL": "192.168.122.1"}, index=3, prefixlen=24)
    links = links_from_netlink([bridge, tap], [addr])
    assert not links["virbr0"].admin_up and links["virbr0"].stp_enabled and links["virbr0"].addresses == ("192.168.122.1/24",)
    assert links["vnet0"].admin_up and links["vnet0"].master == "virbr0"


def test_ip_json_fields_exactly():
    import json

    from virtnat.facts.model import LinkFacts
    links_json = json.dumps([
        {"ifindex": 3, "ifname": "virbr0", "flags": ["BROADCAST", "UP"], "operstate": "DOWN", "address": "52:54:00:aa:bb:cc", "mtu": 9000,
         "linkinfo": {"info_kind": "bridge", "info_data": {"stp_state": 0}}},
        {"ifindex": 4, "ifname": "vnet0", "master": "virbr0", "linkinfo": {"info_kind": "tun", "info_data": {"stp_state": 1}}},
        {"ifindex": 5, "ifname": "br1", "linkinfo": {"info_kind": "bridge"}},
    ])
    addr_json = json.dumps([
        {"ifname": "virbr0", "addr_info": [{"local": "192.168.122.1", "prefixlen": 24}, {"family": "inet6"},
                                           {"local": "10.0.0.9", "prefixlen": 8}, {"local": "fe80::1", "prefixlen": 64}]},
        {"ifname": "vnet0"},
    ])
    assert parse_ip_json(links_json, addr_json) == {
        "virbr0": LinkFacts("virbr0", 3, "bridge", True, "DOWN", "52:54:00:aa:bb:cc", None, False,
                            ("10.0.0.9/8", "192.168.122.1/24", "fe80::1/64"), 9000),
        "vnet0": LinkFacts("vnet0", 4, "tun", False, "UNKNOWN", "", "virbr0", None, ()),
        "br1": LinkFacts("br1", 5, "bridge", False, "UNKNOWN", "", None, False, ()),
    }
    assert parse_ip_json("", "") == {}


@pytest.mark.parametrize("link_json, addr_json, message", [
    ("{}", "[]", "ip -j -d link show: expected a JSON list"),
    ("[]", '"x"', "ip -j addr show: expected a JSON list"),
    ("[]", "[{", "ip -j addr show: not JSON: Expecting property name enclosed in double quotes: line 1 column 3 (char 2)"),
    ('[{"ifname": "x"}]', "[]", "ip -j link/addr: not what iproute2 prints: KeyError 'ifindex'"),
    ('[{"ifindex": 1}]', "[]", "ip -j link/addr: not what iproute2 prints: KeyError 'ifname'"),
    ("[]", '[{"ifname": "x", "addr_info": [{"local": "1.2.3.4", "prefixlen": 99}]}]',
     "ip -j link/addr: not what iproute2 prints: ValueError '1.2.3.4/99' does not appear to be an IPv4 or IPv6 interface"),
    ('[{"ifindex": 1, "ifname": "x", "linkinfo": []}]', "[]",
     "ip -j link/addr: not what iproute2 prints: AttributeError 'list' object has no attribute 'get'"),
    ("[1]", "[]", "ip -j link/addr: not what iproute2 prints: AttributeError 'int' object has no attribute 'get'"),
    ("[]", '[{"ifname": "x", "addr_info": [5]}]', "ip -j link/addr: not what iproute2 prints: TypeError argument of type 'int' is not iterable"),
])
def test_unexpected_json_is_one_line(link_json, addr_json, message):
    with pytest.raises(FactError) as err:
        parse_ip_json(link_json, addr_json)
    assert str(err.value) == message


def test_netlink_fields_and_defaults_exactly():
    from virtnat.facts.links import links_from_netlink
    from virtnat.facts.model import LinkFacts
    info = _Msg({"IFLA_INFO_KIND": "bridge", "IFLA_INFO_DATA": _Msg({"IFLA_BR_STP_STATE": 0})})
    bridge = _Msg({"IFLA_IFNAME": "virbr0", "IFLA_LINKINFO": info, "IFLA_OPERSTATE": "UP", "IFLA_ADDRESS": "52:54:00:aa:bb:cc",
                   "IFLA_MTU": 1400}, index=3, flags=0x1)
    nodata = _Msg({"IFLA_IFNAME": "br1", "IFLA_LINKINFO": _Msg({"IFLA_INFO_KIND": "bridge"})}, index=5, flags=0x2)
    tun = _Msg({"IFLA_IFNAME": "vnet0", "IFLA_MASTER": 9, "IFLA_LINKINFO": _Msg({"IFLA_INFO_KIND": "tun",
                "IFLA_INFO_DATA": _Msg({"IFLA_BR_STP_STATE": 1})})}, index=4, flags=0x1003)
    eth = _Msg({"IFLA_IFNAME": "eth0", "IFLA_MASTER": 0}, index=2, flags=0)
    addrs = [_Msg({"IFA_LOCAL": "192.168.122.1", "IFA_ADDRESS": "192.168.122.255"}, index=3, prefixlen=24),
             _Msg({"IFA_ADDRESS": "fe80::1"}, index=3, prefixlen=64),
             _Msg({"IFA_ADDRESS": "10.0.0.1"}, index=3, prefixlen=8), _Msg({}, index=2, prefixlen=8)]
    assert links_from_netlink([bridge, nodata, tun, eth], addrs) == {
        "virbr0": LinkFacts("virbr0", 3, "bridge", True, "UP", "52:54:00:aa:bb:cc", None, False,
                            ("10.0.0.1/8", "192.168.122.1/24", "fe80::1/64"), 1400),
        "br1": LinkFacts("br1", 5, "bridge", False, "UNKNOWN", "", None, None, ()),
        "vnet0": LinkFacts("vnet0", 4, "tun", True, "UNKNOWN", "", None, None, ()),
        "eth0": LinkFacts("eth0", 2, None, False, "UNKNOWN", "", None, None, ()),
    }
