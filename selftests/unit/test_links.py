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
