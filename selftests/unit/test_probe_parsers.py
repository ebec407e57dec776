"""The probe's sections parsed into exact facts: sysctl files, processes and their owners,
binaries, rulesets that could not be read, routes and sockets, and the framing's messages."""
import pytest

from virtnat.errors import FactError
from virtnat.facts.model import PolicyRule, ProcessFacts, RouteFacts, SocketFacts, UnitFacts, UnitsFacts
from virtnat.facts.probe import (frame, parse_binaries, parse_processes, parse_sysctl_files, path_facts, split_sections,
                                 system_from_sections)

BASE = {"runtime": (0, ""), "sysctl-files": (0, ""), "processes": (0, "self net:[1]"), "binaries": (0, "")}


def system(**sections):
    return system_from_sections(dict(BASE, **sections))


# -- the framing -------------------------------------------------------------------------------

def test_frame_writes_the_probes_framing_exactly():
    assert frame({"runtime": (0, "a=1"), "nft": (3, "")}) == (
        "@@virtnat-probe 2 recorded\n"
        "@@recorded begin runtime\na=1\n\n@@recorded end runtime rc=0\n"
        "@@recorded begin nft\n\n\n@@recorded end nft rc=3\n"
        "@@recorded done\n")


def test_only_one_trailing_empty_line_is_the_probes():
    text = "@@virtnat-probe 2 m\n@@m begin runtime\na=1\n\n\n@@m end runtime rc=0\n@@m begin nft\n@@m end nft rc=0\n@@m done\n"
    assert split_sections(text) == {"runtime": (0, "a=1\n"), "nft": (0, "")}


def test_header_must_be_the_whole_line():
    with pytest.raises(FactError, match="no @@virtnat-probe header line"):
        split_sections("x@@virtnat-probe 2 m\n@@m done\n")
    with pytest.raises(FactError, match="no @@virtnat-probe header line"):
        split_sections("@@virtnat-probe 2 m x\n@@m done\n")
    assert split_sections("@@virtnat-probe 2 Ab9\n@@Ab9 done") == {}


def test_the_first_header_gives_the_marker():
    text = "@@virtnat-probe 2 m1\n@@virtnat-probe 2 m2\n@@m2 done\n@@m1 done\n"
    assert split_sections(text) == {}
    assert split_sections(text, mark="m1") == {}


@pytest.mark.parametrize("text, message", [
    (frame({"runtime": (0, "")}, "m1"), "the probe's output does not carry this run's marker: refused"),
    ("@@virtnat-probe 2 m\n@@m begin runtime\na=1\n",
     "the probe's output is cut off in section runtime (no done marker): the connection dropped or the probe was killed"),
    ("@@virtnat-probe 2 m\n", "the probe's output is cut off (no done marker): the connection dropped or the probe was killed"),
    ("@@virtnat-probe 2 m\n@@m begin runtime\n@@m begin nft\n", "the probe's output opens a section inside section runtime"),
    ("@@virtnat-probe 2 m\n@@m begin runtime\n@@m end runtime rc=0\n@@m begin runtime\n",
     "the probe's output holds section runtime twice"),
    ("@@virtnat-probe 2 m\n@@m begin " + "x" * 100 + "\n", f"the probe's output holds a section it never prints: {'x' * 80!r}"),
    ("@@virtnat-probe 2 m\n@@m end " + "y" * 100 + "\n", f"the probe's output closes a section it did not open: {'y' * 80!r}"),
    ("@@virtnat-probe 2 m\n@@m begin runtime\n@@m end runtime rc=1 \n", "the probe's output closes a section it did not open: 'runtime rc=1 '"),
])
def test_framing_errors_are_exact(text, message):
    with pytest.raises(FactError) as err:
        split_sections(text, mark="m2" if "m1" in text else None)
    assert str(err.value) == message


def test_section_kinds_need_a_key():
    assert split_sections(frame({"net-info:x": (0, "a"), "dom-xml:y": (2, "b")})) == {"net-info:x": (0, "a"), "dom-xml:y": (2, "b")}
    assert split_sections(frame({"net-xml:a:": (0, "")})) == {"net-xml:a:": (0, "")}
    for name in ("net-info:", "dom-xml:", "xnet-xml:abc"):
        with pytest.raises(FactError, match="never prints"):
            split_sections(frame({name: (0, "")}))


# -- sysctl files, processes, binaries ---------------------------------------------------------

def test_sysctl_files_with_and_without_realpath():
    text = ("ignored before any file\n@@file /etc/sysctl.d/99-sysctl.conf /etc/sysctl.conf\na = 1\n\nb=2\n"
            "@@file /usr/lib/sysctl.d/50-x.conf\nc=3\n@@file /etc/sysctl.d/x y.conf /real/x y.conf\n")
    assert parse_sysctl_files(text) == {
        "/etc/sysctl.d/99-sysctl.conf": ("/etc/sysctl.conf", "a = 1\n\nb=2\n"),
        "/usr/lib/sysctl.d/50-x.conf": ("/usr/lib/sysctl.d/50-x.conf", "c=3\n"),
        "/etc/sysctl.d/x": ("y.conf /real/x y.conf", ""),
    }


def test_processes_exactly_with_owners():
    text = ("self net:[1]\n"
            "10 net:[1] dnsmasq /usr/sbin/dnsmasq --conf-file=/x/default.conf  \n"
            "11 net:[2] libvirtd libvirtd -d\n"
            "12  firewalld python3 firewalld\n"
            "13 net:[1] zombie \n"
            "x net:[1] notapid cmd\n"
            "14 net:[1]\n"
            "16 net:[1] sh\n"
            "15 net:[1] sh sh -c a b c")
    owners = "10 0 /usr/sbin/dnsmasq (deleted)\n11 x  \nnope 0 /bin/x\n12 65534 /usr/bin/python3 with space\n"
    assert parse_processes(text, owners) == (
        ProcessFacts(10, "dnsmasq", "/usr/sbin/dnsmasq --conf-file=/x/default.conf", True, uid=0, exe="/usr/sbin/dnsmasq (deleted)"),
        ProcessFacts(11, "libvirtd", "libvirtd -d", False, uid=None, exe=None),
        ProcessFacts(12, "firewalld", "python3 firewalld", True, uid=65534, exe="/usr/bin/python3 with space"),
        ProcessFacts(15, "sh", "sh -c a b c", True),
    )


def test_processes_without_a_self_line_or_owners():
    assert parse_processes("", "") == ()
    assert parse_processes("1 net:[1] a a", "") == ()  # the first line is always the probe's own
    (proc,) = parse_processes("selfish net:[1]\n5 net:[1] a a\n", "5")
    assert proc == ProcessFacts(5, "a", "a", False, uid=None, exe=None)
    (proc,) = parse_processes("self net:[1]\n5 net:[1] a a\n", "5 7")
    assert (proc.uid, proc.exe, proc.same_netns) == (7, None, True)


def test_binaries_and_the_first_network_driver():
    text = "dnsmasq /usr/sbin/dnsmasq\nvirtqemud \nnft  /usr/sbin/nft \n\nnetwork-driver /a.so\nnetwork-driver /b.so\n"
    assert parse_binaries(text) == ({"dnsmasq": "/usr/sbin/dnsmasq", "virtqemud": None, "nft": "/usr/sbin/nft"}, "/a.so")
    assert parse_binaries("network-driver \nnetwork-driver /b.so") == ({}, "/b.so")
    assert parse_binaries("") == ({}, None)


# -- the system's facts ------------------------------------------------------------------------

def test_missing_sections_are_named_in_order():
    with pytest.raises(FactError) as err:
        system_from_sections({"sysctl-files": (0, ""), "processes": (0, "")})
    assert str(err.value) == "host probe returned no runtime, binaries section: is /bin/sh usable on the host?"


def test_runtime_persisted_and_units():
    facts = system(**{
        "runtime": (0, "net/ipv4/ip_forward = 1 \nnet.ipv6.conf.all.forwarding=0\nnoequals"),
        "sysctl-files": (0, "@@file /etc/sysctl.d/60.conf /etc/sysctl.d/60.conf\nnet.ipv4.ip_forward=1\n"
                            "@@file /etc/sysctl.conf /etc/sysctl.conf\nnet.ipv4.conf.all.forwarding=0\n"),
        "binaries": (0, "systemctl /usr/bin/systemctl\nsystemd-sysctl /lib/systemd/systemd-sysctl"),
        "firewalld-enabled": (1, "masked\n\n"),
        "processes": (0, "self net:[1]\n9 net:[1] dnsmasq dnsmasq --x"),
        "process-owners": (0, "9 0 /usr/sbin/dnsmasq"),
    })
    assert facts.sysctl_runtime == {"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "0", "noequals": ""}
    assert facts.sysctl_persisted == {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.forwarding": "1"}
    assert facts.sysctl_sources == {"net.ipv4.ip_forward": "/etc/sysctl.d/60.conf", "net.ipv4.conf.all.forwarding": "/etc/sysctl.d/60.conf"}
    assert facts.sysctl_conf_at_boot is False
    assert facts.units == UnitsFacts(systemd=False, systemctl=True, complete=False, units={
        "firewalld.service": UnitFacts("firewalld.service", "masked", loaded=None, active=None, after=None)})
    assert facts.processes == (ProcessFacts(9, "dnsmasq", "dnsmasq --x", True, uid=0, exe="/usr/sbin/dnsmasq"),)
    assert facts.network_driver is None


def test_each_interfaces_forwarding_even_with_a_dot_or_an_equals_sign_in_its_name():
    facts = system(runtime=(0, "net/ipv4/ip_forward=1\nnet/ipv4/conf/virbr0/forwarding=0\nnet/ipv4/conf/eth0.100/forwarding=1\n"
                               "net/ipv4/conf/a=b/forwarding=0\nnet/ipv6/conf/virbr0/forwarding=1\nnet/ipv4/conf/lo/forwarding="))
    assert [facts.forwarding(i) for i in ("virbr0", "eth0.100", "a=b", "lo", "eth9")] == ["0", "1", "0", "", None]
    assert facts.forwarding("virbr0", 6) == "1"


def test_without_systemd_sysctl_conf_is_read_last():
    facts = system(**{
        "sysctl-files": (0, "@@file /etc/sysctl.d/60.conf /etc/sysctl.d/60.conf\nnet.ipv4.ip_forward=1\n"
                            "@@file /etc/sysctl.conf /etc/sysctl.conf\nnet.ipv4.ip_forward=0\n"),
        "binaries": (0, "systemd-sysctl \nnetwork-driver /d.so")})
    assert facts.sysctl_conf_at_boot is True
    assert facts.sysctl_persisted["net.ipv4.ip_forward"] == "0"
    assert facts.sysctl_sources["net.ipv4.ip_forward"] == "/etc/sysctl.conf"
    assert facts.units is None  # no units section, nor an older probe's firewalld-enabled
    assert facts.network_driver == "/d.so"


@pytest.mark.parametrize("enabled, state", [
    (None, "unknown"), ((0, ""), "unknown"), ((0, "enabled\n"), "enabled"), ((1, "a\nenabled-runtime"), "enabled-runtime"),
    ((1, "not-found\n"), "not-found"),  # systemd 253 and later
    ((1, "Failed to get unit file state for firewalld.service: No such file or directory\n"), "not-found"),  # Debian 12's 252
    ((1, "Failed to get unit file state for firewalld.service: Access denied\n"),
     "Failed to get unit file state for firewalld.service: Access denied"),
])
def test_an_older_probes_firewalld_state_is_its_units(enabled, state):
    extra = {"firewalld-enabled": enabled} if enabled else {}
    facts = system(binaries=(0, "systemctl /bin/systemctl"), **extra)
    assert (facts.units.units["firewalld.service"].enabled if facts.units else "unknown") == state
    newer = system(binaries=(0, "systemctl /bin/systemctl"), units=(0, "systemd not-running\n@@unit firewalld.service masked"),
                   **extra)
    assert (newer.units.units["firewalld.service"].enabled, newer.units.complete) == ("masked", True)


IPT = "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"


def test_no_firewall_tool_at_all():
    facts = system()
    assert (facts.firewall, facts.firewall_error) == (None, "neither iptables-save nor nft is installed")
    facts = system(**{"iptables-save": (127, "sh: iptables-save: not found"), "nft": (1, "sh: nft: not found")})
    assert (facts.firewall, facts.firewall_error) == (None, "neither iptables-save nor nft is installed")


@pytest.mark.parametrize("section, error", [
    ((4, "iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n"),
     "iptables-save: needs root: run with --sudo, or audit as root (iptables-save v1.8.9 (nf_tables): Could not fetch rule set "
     "generation id: Permission denied (you must be root))"),
    ((1, "first\nOperation NOT permitted\n"), "iptables-save: needs root: run with --sudo, or audit as root (Operation NOT permitted)"),
    ((1, "x must be root"), "iptables-save: needs root: run with --sudo, or audit as root (x must be root)"),
    ((2, "line one\nsegfault\n"), "iptables-save: segfault"),
    ((2, "  \n"), "iptables-save: exit 2"),
])
def test_a_ruleset_that_cannot_be_read_says_why(section, error):
    facts = system(**{"iptables-save": section})
    assert (facts.firewall, facts.firewall_error) == (None, error)


def test_problems_of_every_ruleset_are_joined():
    facts = system(**{"iptables-save": (1, "a"), "nft": (1, "b"), "iptables-legacy-save": (1, "c")})
    assert facts.firewall_error == "iptables-save: a; nft: b; iptables-legacy-save: c"


def test_one_readable_ruleset_carries_the_others_problems():
    facts = system(**{"iptables-save": (0, IPT), "nft": (1, "Operation not permitted")})
    assert facts.firewall_error is None
    assert facts.firewall.problems == ("nft: needs root: run with --sudo, or audit as root (Operation not permitted)",)
    facts = system(**{"iptables-save": (0, IPT), "iptables-legacy-save": (3, "boom")})
    assert facts.firewall.problems == ("iptables-legacy-save: boom",)


def test_an_unparsable_ruleset_is_the_firewall_error():
    facts = system(nft=(0, "not json"))
    assert facts.firewall is None and facts.firewall_error.startswith("nft")


# -- routes, rules, sockets --------------------------------------------------------------------

def test_path_facts_read_all_three():
    found = path_facts({"routes": (0, '[{"dst": "default", "gateway": "10.0.0.1", "dev": "eth0"}]'),
                        "route-rules": (0, '[{"priority": 100, "src": "all", "table": "7"}]'),
                        "sockets": (0, "udp UNCONN 0 0 192.168.122.1:53 0.0.0.0:* users:((\"dnsmasq\",pid=9,fd=5))")})
    assert found == {"routes": (RouteFacts("0.0.0.0/0", "eth0", "10.0.0.1"),), "policy_rules": (PolicyRule(100, "lookup", "7"),),
                     "sockets": (SocketFacts("udp", "192.168.122.1", 53, None, (("dnsmasq", 9),)),), "path_problems": ()}


def test_path_facts_say_what_could_not_be_read():
    found = path_facts({"routes": (1, "Error: x\nError: Permission denied\n"), "route-rules": (0, "{")})
    assert (found["routes"], found["policy_rules"], found["sockets"]) == (None, None, None) and len(found["path_problems"]) == 3
    assert found["path_problems"][0] == "routes: Error: Permission denied"
    assert found["path_problems"][1].startswith("ip -j rule: not JSON: ")
    assert found["path_problems"][2] == "sockets: the probe returned no sockets section"
    assert path_facts({"routes": (5, " "), "route-rules": (0, "[]"), "sockets": (0, "")}) == {
        "routes": None, "policy_rules": (), "sockets": (), "path_problems": ("routes: exit 5",)}
    failed = path_facts({"routes": (0, "[]"), "route-rules": (2, "Error: rule dump failed"), "sockets": (0, "")})
    assert failed["policy_rules"] is None and failed["path_problems"] == ("route-rules: Error: rule dump failed",)
    wrong = path_facts({"routes": (0, "[]"), "route-rules": (0, '{"rules": []}'), "sockets": (0, "")})
    assert wrong["policy_rules"] is None
    assert wrong["path_problems"] == ("ip -j rule: not what iproute2 prints: a JSON dict, not a list",)


def test_system_carries_the_path_facts():
    facts = system(routes=(0, "[]"), sockets=(0, ""))
    assert (facts.routes, facts.sockets, facts.route_rules) == ((), (), ())
    assert facts.path_problems == ("route-rules: the probe returned no route-rules section",)


def test_the_first_space_splits_a_sysctl_files_path_from_its_realpath():
    text = "@@file /etc/sysctl.d/a\tb.conf  /r\nx=1\n@@file /etc/sysctl.d/c.conf\n"
    assert parse_sysctl_files(text) == {"/etc/sysctl.d/a\tb.conf": (" /r", "x=1\n"), "/etc/sysctl.d/c.conf": ("/etc/sysctl.d/c.conf", "")}


def test_the_probes_namespace_is_the_rest_of_its_self_line():
    text = "self a a\n5 a dnsmasq x\n6 a a dnsmasq y\n"
    assert [(p.pid, p.same_netns) for p in parse_processes(text, "")] == [(5, False), (6, False)]
    assert [p.same_netns for p in parse_processes("self  a\n5 a dnsmasq x\n", "")] == [False]


def test_exit_127_is_a_tool_that_is_not_installed_whatever_it_printed():
    facts = system(**{"iptables-save": (127, ""), "nft": (1, "b"), "iptables-legacy-save": (127, "exec failed")})
    assert (facts.firewall, facts.firewall_error) == (None, "nft: b")
