"""The evidence behind the verdicts, for the reports: the line per piece of the packet path,
made from each recording's facts (one fact changed at a time), the raw facts as plain data, and
the fact kinds a check judged."""
import dataclasses
from pathlib import Path

from selftests.unit import probe_edits as e
from selftests.unit.checkrun import DATA, facts
from virtnat.errors import FactError
from virtnat.evidence import fact_kinds, host_evidence, pieces, plain
from virtnat.profile import Profile

HEALTHY9 = (DATA / "libvirt9" / "healthy.txt").read_text()


def collected(text: str) -> dict:
    system, links, libvirt = facts(text)
    return {"system": system, "links": links, "libvirt": libvirt}


def test_each_piece_of_a_healthy_libvirt9_host():
    assert pieces(collected(HEALTHY9), Profile()) == {
        "libvirt": "libvirt 9.0.0 · network default: active, autostart",
        "guests": [{"guest": "virtnat-guest", "tap": "vnet0", "detail": "UP on virbr0"}],
        "bridge": "virbr0 · UP · 192.168.122.1/24 · STP on",
        "forwarding": "ip_forward 1 (at boot: 1)",
        "firewall": "iptables · masquerade 192.168.122.0/24",
        "dnsmasq": "dnsmasq pid 26354, 26355",
        "uplink": "default via 10.213.2.1 dev uplink0",
    }


def test_the_nftables_backend_and_its_masquerade():
    text = (DATA / "libvirt11-nftables" / "healthy.txt").read_text()
    assert pieces(collected(text), Profile())["firewall"] == "nftables · masquerade 192.168.122.0/24"


def _down(name):
    def change(entries):
        entry = e.link(entries, name)
        entry["flags"] = [f for f in entry["flags"] if f not in ("UP", "LOWER_UP")]
        entry["operstate"] = "DOWN"
    return e.edit_links(HEALTHY9, "ip-link", change)


def test_a_bridge_and_a_tap_that_are_down():
    assert pieces(collected(_down("virbr0")), Profile())["bridge"] == "virbr0 · DOWN · 192.168.122.1/24 · STP on"
    assert pieces(collected(_down("vnet0")), Profile())["guests"] == [
        {"guest": "virtnat-guest", "tap": "vnet0", "detail": "DOWN on virbr0"}]


def test_a_bridge_up_without_carrier_says_its_operstate():
    text = e.edit_links(HEALTHY9, "ip-link", lambda entries: e.link(entries, "virbr0").update(operstate="DOWN"))
    assert pieces(collected(text), Profile())["bridge"] == "virbr0 · UP (DOWN) · 192.168.122.1/24 · STP on"


def test_a_bridge_without_address_or_stp_and_a_tap_without_bridge():
    def bare(entries):
        bridge = e.link(entries, "virbr0")
        bridge["addr_info"] = [a for a in bridge.get("addr_info", []) if a["family"] != "inet"]
    text = e.edit_links(HEALTHY9, "ip-addr", bare)
    text = e.edit_links(text, "ip-link", lambda entries: e.link(entries, "virbr0")["linkinfo"]["info_data"].update(stp_state=0))
    text = e.edit_links(text, "ip-link", lambda entries: e.link(entries, "vnet0").pop("master"))
    found = pieces(collected(text), Profile())
    assert found["bridge"] == "virbr0 · UP · no IPv4 address · STP off"
    assert found["guests"][0]["detail"] == "UP on no bridge"


def test_a_missing_bridge_and_a_guest_without_tap():
    text = HEALTHY9
    for section in ("ip-link", "ip-addr"):
        text = e.edit_links(text, section, lambda entries: entries.remove(e.link(entries, "vnet0")))
    found = pieces(collected(text), Profile(bridge="br9"))
    assert found["bridge"] == "br9 missing"
    assert found["guests"] == [{"guest": "virtnat-guest", "tap": "vnet0", "detail": "no tap"}]  # on network default


def test_forwarding_off_and_not_persisted():
    text = e.sub(HEALTHY9, "runtime", "net/ipv4/ip_forward=1", "net/ipv4/ip_forward=0")
    assert pieces(collected(text), Profile())["forwarding"] == "ip_forward 0 (at boot: 1)"
    assert pieces(collected(e.without_forwarding_files(HEALTHY9)), Profile())["forwarding"] == "ip_forward 1 (at boot: not set)"


def test_no_dnsmasq_no_default_route_and_another_network():
    system, links, libvirt = facts(HEALTHY9)
    system = dataclasses.replace(system, processes=(), routes=tuple(r for r in system.routes if r.dst != "0.0.0.0/0"))
    found = pieces({"system": system, "links": links, "libvirt": libvirt}, Profile(network="other"))
    assert (found["dnsmasq"], found["uplink"]) == ("no dnsmasq running", "no default route")
    assert found["libvirt"] == "libvirt 9.0.0 · network other: not defined"
    assert found["guests"] == []
    unread = dataclasses.replace(system, routes=None, firewall=None, firewall_error="iptables-save: permission denied")
    found = pieces({"system": unread}, Profile())
    assert (found["uplink"], found["firewall"]) == ("routes not read", "rules not read: iptables-save: permission denied")


def test_an_inactive_network_without_autostart_and_a_default_route_without_gateway():
    system, links, libvirt = facts(HEALTHY9)
    net = dataclasses.replace(libvirt.networks["default"], active=False, autostart=False)
    libvirt = dataclasses.replace(libvirt, networks={"default": net})
    route = dataclasses.replace(next(r for r in system.routes if r.dst == "0.0.0.0/0"), gateway=None, dev="ppp0")
    system = dataclasses.replace(system, routes=(route,), firewall=dataclasses.replace(system.firewall, backend=None, masquerade_sources=frozenset()))
    found = pieces({"system": system, "links": links, "libvirt": libvirt}, Profile())
    assert found["libvirt"] == "libvirt 9.0.0 · network default: inactive, no autostart"
    assert found["uplink"] == "default dev ppp0"
    assert found["firewall"] == "no libvirt rules · masquerade none"


def test_facts_that_could_not_be_collected_leave_their_pieces_out():
    found = pieces({"libvirt": FactError("libvirt: refused"), "links": FactError("x"), "system": FactError("y")}, Profile())
    assert found == {}
    system, links, _ = facts(HEALTHY9)
    assert set(pieces({"system": system, "links": links, "libvirt": FactError("refused")}, Profile())) == {
        "bridge", "forwarding", "firewall", "dnsmasq", "uplink"}


@dataclasses.dataclass
class Fact:
    name: str
    tags: frozenset


def test_plain_facts_are_json_data():
    value = {"links": [Fact("virbr0", frozenset({"b", "a", 3}))], "libvirt": OSError("refused"), 3: (2, 1),
             "path": Path("/etc/x"), "none": None, "ratio": 0.5, "on": True}
    assert plain(value) == {"links": [{"name": "virbr0", "tags": [3, "a", "b"]}], "libvirt": "not collected: refused",
                            "3": [2, 1], "path": "/etc/x", "none": None, "ratio": 0.5, "on": True}


def test_the_fact_kinds_a_check_judged_come_from_its_fixtures():
    assert fact_kinds(["request", "target", "links", "profile"]) == ["links"]
    assert fact_kinds(["packet_path", "system", "firewall", "routes", "links"]) == ["links", "system"]
    assert fact_kinds(["guest_nic", "libvirt_or_none"]) == ["libvirt"]
    assert fact_kinds(["note", "fix"]) == []


def test_host_evidence_holds_pieces_facts_and_checks():
    checks = {"PATH-03": {"text": "FORWARD accept", "facts": ["system"]}}
    found = host_evidence({"libvirt": FactError("refused")}, Profile(), checks)
    assert found == {"pieces": {}, "facts": {"libvirt": "not collected: refused"}, "checks": checks}


def test_the_firewall_facts_show_each_rulesets_rules_as_text():
    system, _, _ = facts(HEALTHY9)
    shown = plain(system)["firewall"]
    assert shown["backend"] == "iptables" and shown["masquerade_sources"] == ["192.168.122.0/24"]
    assert list(shown)[-1] == "tables"  # the rules last, once, as text (never the parsed rulesets)
    assert shown["tables"]["iptables-nft table mangle"]["POSTROUTING"] == [
        "filter hook postrouting priority -150; policy accept", "-A POSTROUTING -j LIBVIRT_PRT"]
    assert shown["tables"]["iptables-nft table mangle"]["LIBVIRT_PRT"] == [
        "regular chain", "-A LIBVIRT_PRT -o virbr0 -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill"]
    nft, _, _ = facts((DATA / "libvirt11-nftables" / "healthy.txt").read_text())
    assert any(label.startswith("table ip libvirt_network") for label in plain(nft)["firewall"]["tables"])


def test_a_bridge_line_takes_ipv4_only_says_unknown_carrier_is_fine_and_a_non_bridge():
    system, links, libvirt = facts(HEALTHY9)
    bridge = dataclasses.replace(links["virbr0"], operstate="UNKNOWN", addresses=("fe80::1/64", "192.168.122.1/24"))
    found = pieces({"links": {**links, "virbr0": bridge}}, Profile())
    assert found["bridge"] == "virbr0 · UP · 192.168.122.1/24 · STP on"
    plain_link = dataclasses.replace(links["virbr0"], stp_enabled=None, addresses=("fe80::1/64",))
    assert pieces({"links": {**links, "virbr0": plain_link}}, Profile())["bridge"] == "virbr0 · UP · no IPv4 address · not a bridge"


def test_two_masqueraded_subnets_two_default_routes_no_runtime_value_and_a_guest_without_tap():
    system, links, libvirt = facts(HEALTHY9)
    default = next(r for r in system.routes if r.dst == "0.0.0.0/0")
    system = dataclasses.replace(
        system, sysctl_runtime={}, routes=(default, dataclasses.replace(default, gateway="10.9.9.1", dev="eth9")),
        firewall=dataclasses.replace(system.firewall, masquerade_sources=frozenset({"10.1.0.0/24", "192.168.122.0/24"})))
    nic = dataclasses.replace(libvirt.guest_nics[0], tap=None)
    libvirt = dataclasses.replace(libvirt, guest_nics=(nic,))
    found = pieces({"system": system, "links": {**links, "": links["vnet0"]}, "libvirt": libvirt}, Profile())
    assert found["firewall"] == "iptables · masquerade 10.1.0.0/24, 192.168.122.0/24"
    assert found["uplink"] == "default via 10.213.2.1 dev uplink0; default via 10.9.9.1 dev eth9"
    assert found["forwarding"] == "ip_forward ? (at boot: 1)"
    assert found["guests"] == [{"guest": "virtnat-guest", "tap": nic.mac, "detail": "no tap"}]  # no link named ""
