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
