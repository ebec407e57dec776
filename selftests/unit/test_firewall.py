"""Firewall facts from rulesets recorded on the lab host (iptables backend, firewalld's
nftables table) and from the table libvirt 10+'s nftables backend installs."""
from virtnat.facts.firewall import firewall_facts

SUBNET = "192.168.122.0/24"
ALL_ROLES = {"input", "output", "forward_in", "forward_out"}


def test_iptables_backend_on_libvirt9(data):
    fw = firewall_facts(data("libvirt9/iptables-save.txt"), data("libvirt9/nft-ruleset.json"))
    assert fw.backend == "iptables"
    assert fw.masquerade_sources == {SUBNET}
    assert fw.bridge_rules["virbr0"] == ALL_ROLES
    assert fw.zones == {"virbr0": "libvirt"}


def test_rules_in_unreferenced_chains_do_not_count(data):
    """A LIBVIRT_PRT chain nobody jumps to masquerades nothing."""
    text = data("libvirt9/iptables-save.txt").replace("-A POSTROUTING -j LIBVIRT_PRT\n", "")
    fw = firewall_facts(text, None)
    assert SUBNET not in fw.masquerade_sources
    assert fw.bridge_rules["virbr0"] == ALL_ROLES


def test_flushed_rules_leave_nothing(data):
    """What firewalld's exit does to libvirt's rules: the tables stay, the rules go."""
    probe = data("libvirt9/probe-firewalld-stopped.txt")
    from virtnat.facts.probe import parse_probe

    facts = parse_probe(probe)
    assert facts.firewall.backend is None
    assert facts.firewall.masquerade_sources == frozenset()
    assert facts.firewall.zones == {}
    assert not facts.running("firewalld")


def test_nftables_backend(data):
    fw = firewall_facts(None, data("nftables-backend/ruleset.json"))
    assert fw.backend == "nftables"
    assert fw.masquerade_sources == {SUBNET}
    assert fw.bridge_rules["virbr0"] == {"forward_in", "forward_out"}


def test_nftables_backend_with_empty_chains_is_the_silent_failure(data):
    """LAB.md: libvirtd restarted with the csum action missing leaves the table, no rules."""
    fw = firewall_facts(None, data("nftables-backend/empty.json"))
    assert fw.backend == "nftables"
    assert fw.masquerade_sources == frozenset()
    assert "virbr0" not in fw.bridge_rules


def test_firewalld_iptables_backend_zones():
    text = "*filter\n:INPUT ACCEPT [0:0]\n:INPUT_ZONES - [0:0]\n-A INPUT -j INPUT_ZONES\n" \
           "-A INPUT_ZONES -i virbr0 -g IN_libvirt\n-A INPUT_ZONES -g IN_public\nCOMMIT\n"
    assert firewall_facts(text, None).zones == {"virbr0": "libvirt"}


def test_document_era_rules_directly_in_builtin_chains():
    """libvirt before 5.1 put its rules straight into INPUT/FORWARD/OUTPUT/POSTROUTING."""
    text = """*nat
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i virbr0 -p udp -m udp --dport 53 -j ACCEPT
-A FORWARD -d 192.168.122.0/24 -o virbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -s 192.168.122.0/24 -i virbr0 -j ACCEPT
-A OUTPUT -o virbr0 -p udp -m udp --dport 68 -j ACCEPT
COMMIT
"""
    fw = firewall_facts(text, None)
    assert fw.masquerade_sources == {SUBNET}
    assert fw.bridge_rules["virbr0"] == ALL_ROLES
