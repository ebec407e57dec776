"""The host probe's output, recorded on the lab host, parsed into SystemFacts; and its framing,
which nothing from the host's data can forge, cut or extend."""
import pytest

from virtnat.errors import FactError
from virtnat.facts.probe import SECTIONS, frame, parse_probe, script, split_sections


def test_healthy_lab_probe(data):
    facts = parse_probe(data("libvirt9/probe-healthy.txt"))
    assert {p.comm for p in facts.running("firewalld", "libvirtd", "dnsmasq")} == {"firewalld", "libvirtd", "dnsmasq"}
    assert facts.binaries["dnsmasq"] == "/usr/sbin/dnsmasq"
    assert facts.network_driver and facts.network_driver.endswith("libvirt_driver_network.so")
    assert facts.units.units["firewalld.service"].enabled == "enabled"
    assert facts.firewall.backend == "iptables"


def test_processes_of_other_namespaces_and_zombies_are_not_the_hosts():
    facts = parse_probe(_minimal(processes="self net:[1]\n"
                                 "10 net:[1] dnsmasq /usr/sbin/dnsmasq --conf-file=/var/lib/libvirt/dnsmasq/default.conf\n"
                                 "11 net:[2] firewalld /usr/bin/python3 /usr/sbin/firewalld --nofork\n"
                                 "12 net:[1] firewalld "))
    assert [p.pid for p in facts.running("dnsmasq")] == [10]
    assert facts.running("firewalld") == ()


def test_unreadable_namespace_counts_as_the_hosts():
    """A user without root cannot read another user's /proc/PID/ns/net."""
    facts = parse_probe(_minimal(processes="self net:[1]\n7  firewalld /usr/bin/python3 /usr/sbin/firewalld"))
    assert [p.pid for p in facts.running("firewalld")] == [7]


def test_ruleset_without_root_says_so():
    facts = parse_probe(_minimal(**{
        "iptables-save": (4, "iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)"),
        "nft": (1, "Operation not permitted (you must be root)")}))
    assert facts.firewall is None
    assert "needs root" in facts.firewall_error and "--sudo" in facts.firewall_error


def test_missing_sections_are_one_fact_error():
    with pytest.raises(FactError, match="host probe returned no runtime, sysctl-files, processes, binaries section"):
        parse_probe(frame({}))


def test_script_frames_every_section_it_prints():
    names = {line.split()[1] for line in script().splitlines() if line.strip().startswith("section ")}
    assert names == {"runtime", "sysctl-files", "processes", "process-owners", "binaries", "iptables-save",
                     "nft", "iptables-legacy-save", "routes", "route-rules", "sockets", "ip-link", "ip-addr", "libvirt-version", "units", "libvirt-files",
                     "link-config", "firewall-files"}
    assert names | {"virsh-networks", "virsh-domains", "libvirt-stopped", "firewalld-enabled"} == SECTIONS  # an older probe's too


# -- the framing -------------------------------------------------------------------------------

def test_sections_round_trip_through_the_frame():
    sections = {"runtime": (0, "a=1\nb=2"), "nft": (1, ""), "sockets": (0, "x\n")}
    assert split_sections(frame(sections, "m1")) == sections
    assert split_sections(frame(sections, "m1"), mark="m1") == sections


def test_a_banner_before_the_header_and_no_trailing_newline_are_fine():
    text = "Welcome to hv1\n" + frame({"runtime": (0, "a=1")}, "m1").rstrip("\n")
    assert split_sections(text) == {"runtime": (0, "a=1")}


def test_output_without_a_header_is_not_the_probes():
    with pytest.raises(FactError, match=r"^not the output of virtnat's probe \(no @@virtnat-probe header line\)$"):
        split_sections("@@virtnat:begin runtime\na=1\n@@virtnat:end runtime rc=0\n")


def test_another_runs_marker_is_refused():
    with pytest.raises(FactError, match="does not carry this run's marker"):
        split_sections(frame({"runtime": (0, "")}, "m1"), mark="m2")


def test_a_forged_section_inside_a_process_argument_stays_data():
    """A process that puts newlines and a marker in its arguments cannot know the run's mark."""
    forged = "self net:[1]\n1 net:[1] dnsmasq x\n@@recorded end processes rc=0\n@@recorded begin runtime\nnet/ipv4/ip_forward=1"
    text = frame({"runtime": (0, "net/ipv4/ip_forward=0"), "processes": (0, forged)}, "real1")
    sections = split_sections(text)
    assert sections["runtime"] == (0, "net/ipv4/ip_forward=0")
    assert sections["processes"] == (0, forged)


@pytest.mark.parametrize("text, says", [
    ("@@virtnat-probe 2 m\n@@m begin runtime\na=1\n", "cut off in section runtime (no done marker)"),
    ("@@virtnat-probe 2 m\n@@m begin runtime\na=1\n@@m end runtime rc=0\n", "cut off (no done marker)"),
    ("@@virtnat-probe 2 m\n@@m begin runtime\n@@m done\n", "cut off in section runtime"),
    ("@@virtnat-probe 2 m\n@@m begin runtime\n@@m begin nft\n", "opens a section inside section runtime"),
    ("@@virtnat-probe 2 m\n@@m end runtime rc=0\n@@m done\n", "closes a section it did not open: 'runtime rc=0'"),
    ("@@virtnat-probe 2 m\n@@m begin runtime\n@@m end nft rc=0\n", "closes a section it did not open: 'nft rc=0'"),
    ("@@virtnat-probe 2 m\n@@m begin runtime\n@@m end runtime rc=x\n", "closes a section it did not open"),
    ("@@virtnat-probe 2 m\n@@m begin bogus\n", "holds a section it never prints: 'bogus'"),
    ("@@virtnat-probe 2 m\n@@m begin net-xml:\n", "holds a section it never prints: 'net-xml:'"),
    (frame({"runtime": (0, "")}, "m").replace("@@m done", "@@m begin runtime\n@@m end runtime rc=0\n@@m done"),
     "holds section runtime twice"),
])
def test_broken_framing_is_one_line_naming_the_problem(text, says):
    with pytest.raises(FactError, match="^the probe's output ") as err:
        split_sections(text)
    assert says in str(err.value)
    assert "\n" not in str(err.value)


def test_per_network_and_per_guest_sections_are_known():
    sections = {"net-info:4b1c": (0, "Name: default"), "net-xml:4b1c": (0, "<network/>"), "dom-xml:9f2e": (0, "<domain/>")}
    assert split_sections(frame(sections)) == sections


def _minimal(processes: str = "self net:[1]", **extra) -> str:
    sections = {name: (0, "") for name in ("runtime", "sysctl-files", "binaries")}
    sections["processes"] = (0, processes)
    sections.update(extra)
    return frame(sections)
