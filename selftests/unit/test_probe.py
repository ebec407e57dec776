"""The host probe's output, recorded on the lab host, parsed into SystemFacts."""
import pytest

from virtnat.errors import FactError
from virtnat.facts.probe import parse_probe, script, split_sections


def test_healthy_lab_probe(data):
    facts = parse_probe(data("libvirt9/probe-healthy.txt"))
    assert {p.comm for p in facts.running("firewalld", "libvirtd", "dnsmasq")} == {"firewalld", "libvirtd", "dnsmasq"}
    assert facts.binaries["dnsmasq"] == "/usr/sbin/dnsmasq"
    assert facts.network_driver and facts.network_driver.endswith("libvirt_driver_network.so")
    assert facts.unit_enabled["firewalld"] == "enabled"
    assert facts.firewall.backend == "iptables"


def test_processes_of_other_namespaces_and_zombies_are_not_the_hosts():
    out = """@@virtnat:begin processes
self net:[1]
10 net:[1] dnsmasq /usr/sbin/dnsmasq --conf-file=/var/lib/libvirt/dnsmasq/default.conf
11 net:[2] firewalld /usr/bin/python3 /usr/sbin/firewalld --nofork
12 net:[1] firewalld 
@@virtnat:end processes rc=0
"""
    facts = parse_probe(_minimal(out))
    assert [p.pid for p in facts.running("dnsmasq")] == [10]
    assert facts.running("firewalld") == ()


def test_unreadable_namespace_counts_as_the_hosts():
    """A user without root cannot read another user's /proc/PID/ns/net."""
    out = "@@virtnat:begin processes\nself net:[1]\n7  firewalld /usr/bin/python3 /usr/sbin/firewalld\n@@virtnat:end processes rc=0\n"
    assert [p.pid for p in parse_probe(_minimal(out)).running("firewalld")] == [7]


def test_ruleset_without_root_says_so():
    out = _minimal("""@@virtnat:begin iptables-save
iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)
@@virtnat:end iptables-save rc=4
@@virtnat:begin nft
Operation not permitted (you must be root)
@@virtnat:end nft rc=1
""")
    facts = parse_probe(out)
    assert facts.firewall is None
    assert "needs root" in facts.firewall_error and "--sudo" in facts.firewall_error


def test_missing_sections_are_one_fact_error():
    with pytest.raises(FactError, match="no runtime"):
        parse_probe("sh: 1: Syntax error")


def test_script_frames_every_section():
    names = {line.split()[1] for line in script().splitlines() if line.startswith("section ")}
    assert names == {"runtime", "sysctl-files", "processes", "binaries", "firewalld-enabled", "iptables-save", "nft",
                     "iptables-legacy-save", "routes", "route-rules", "sockets"}
    assert split_sections("@@virtnat:begin x\na\nb\n@@virtnat:end x rc=3\n") == {"x": (3, "a\nb")}


def _minimal(extra: str) -> str:
    base = ""
    for name in ("runtime", "sysctl-files", "binaries"):
        base += f"@@virtnat:begin {name}\n@@virtnat:end {name} rc=0\n"
    if "begin processes" not in extra:
        base += "@@virtnat:begin processes\nself net:[1]\n@@virtnat:end processes rc=0\n"
    return base + extra
