"""The packet path's fixes last where the host keeps its rules (issue 26, item 2, past ufw and
firewalld): DOCKER-USER through a unit after docker.service, a host nftables table through the
nftables.service file that makes it, a host's iptables rules through netfilter-persistent's rules.v4;
anywhere else the fix says that who makes the table is not known, with the rule now and the line to
keep apart. On the recorded faults with the probe's firewall-files section added as hosts would show
it; the probe's reading of those files; the commands run for real in a network namespace of their
own, on copies of the files; a script run twice changes nothing the second time."""
import re
import shlex
import shutil
import subprocess

import pytest

from selftests.unit import checkrun, probe_edits, report_docs, world
from selftests.unit.checkrun import DATA, GENERATIONS
from selftests.unit.test_fix_command import GOLDEN, WRITE, document_of, parses
from selftests.unit.test_hostile_names import HOSTILE
from virtnat.facts.fwfiles import defined_chains, parse_firewall_files
from virtnat.facts.probe import script
from virtnat.facts.ruleset import Rule, Table, Verdict
from virtnat.profile import Profile
from virtnat.path.lasting import OLDER_PROBE, _hostile, lasting_accept, lasting_delete
from virtnat.path.owners import accept_rule
from virtnat.report.fix_ansible import playbook
from virtnat.report.fixes import shell_scripts

# Debian 12/13's /etc/nftables.conf as the nftables package installs it, with its policies made drop
# (the recorded faults' table inet filter); rules.v4 as iptables-save writes it.
DEBIAN_CONF = """#!/usr/sbin/nft -f

flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
	chain output {
		type filter hook output priority filter;
	}
}
"""
RULES_V4 = "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"


def section(systemd=True, nftables="enabled", persistent="enabled", docker="enabled", conf=DEBIAN_CONF,
            rules_v4: str | None = RULES_V4) -> str:
    """The firewall-files section as the probe prints it."""
    lines = [f"systemd {'running' if systemd else 'not-running'}", f"unit nftables.service {nftables}",
             f"unit netfilter-persistent.service {persistent}", f"unit docker.service {docker}"]
    if rules_v4 is not None:
        lines.append("@@tables /etc/iptables/rules.v4")
        lines += ["|" + line for line in rules_v4.splitlines() if line.startswith("*") or line == "COMMIT"]
    if conf is not None:
        lines.append("@@file /etc/nftables.conf")
        lines += ["|" + line for line in conf.splitlines()]
    return "\n".join(lines)


def recorded(generation: str, fault: str, **files) -> str:
    return probe_edits.add_section((DATA / generation / f"{fault}.txt").read_text(), "firewall-files", section(**files))


def path_findings(text: str) -> dict[str, dict]:
    return {check: found for check, found in checkrun.findings(text).items() if check.startswith("PATH") and "fix" in found}


# -- reading the files --------------------------------------------------------------------------

def test_the_section_gives_units_the_tables_of_rules_v4_and_the_nft_files():
    files = parse_firewall_files(section(docker="") + "\n@@unreadable /etc/nftables.d/x.nft\n@@unsafe-name\n@@too-many")
    assert files.systemd and files.enabled("nftables.service") and not files.enabled("docker.service")
    assert files.rules_v4 == ("nat", "filter") and files.nft_conf() == "/etc/nftables.conf"
    assert files.nft_files["/etc/nftables.conf"] == DEBIAN_CONF.rstrip("\n")
    assert files.nft_defines("inet", "filter", "forward") and not files.nft_defines("ip", "filter", "forward")
    assert len(files.problems) == 3 and files.problems[0] == "/etc/nftables.d/x.nft could not be read"
    bare = parse_firewall_files("systemd not-running\nunit nftables.service \n")
    assert (bare.systemd, bare.rules_v4, bare.nft_conf(), bare.units) == (False, None, None, {"nftables.service": ""})


def test_a_section_cut_or_garbled_reads_as_what_it_says():
    """No systemd line: not systemd; framed lines outside a file's frame belong to no file; each
    problem says what it is."""
    assert parse_firewall_files("unit nftables.service enabled").systemd is False
    files = parse_firewall_files("|stray\nsystemd running\n@@unsafe-name\n|garbled\n@@too-many\n@@unreadable /etc/x.nft")
    assert files.systemd and files.nft_files == {} and files.rules_v4 is None
    assert files.problems == (
        "a file nftables.service's configuration includes has a name the probe does not print",
        "nftables.service's configuration includes more files than the probe reads", "/etc/x.nft could not be read")


def test_a_rules_v4_part_counts_once_it_is_committed():
    files = parse_firewall_files("@@tables /etc/iptables/rules.v4\n|*filter\n|COMMIT\n|*nat\n")
    assert files.rules_v4 == ("filter",)
    # a COMMIT with no table open (before the first, or a second one) commits nothing
    files = parse_firewall_files("@@tables /etc/iptables/rules.v4\n|COMMIT\n|*nat\n|COMMIT\n|COMMIT\n|*\n|COMMIT")
    assert files.rules_v4 == ("nat",)


def test_the_chains_an_nft_file_defines():
    text = """
define IF = "eth0"
table inet filter { # a comment { that opens nothing
  chain input { type filter hook input priority 0; policy drop; iifname "lo" accept comment "a # b {" }
  set allowed { type ipv4_addr; elements = { 10.0.0.1 } }
  chain forward {
    type filter hook forward priority 0; policy drop;
  }
}
table ip6 six { chain c6 { } }
add table ip x
add chain ip x y { type filter hook input priority 0; }
create chain ip x z
chain inet filter output
table bridge "a name" { chain "a chain" { } }
table filter { chain INPUT { } }
table inet $var { chain c { } }
"""
    assert defined_chains(text) == {("inet", "filter", "input"), ("inet", "filter", "forward"), ("ip6", "six", "c6"),
                                    ("ip", "x", "y"), ("ip", "x", "z"), ("inet", "filter", "output"),
                                    ("bridge", "a name", "a chain"), ("ip", "filter", "INPUT")}
    assert defined_chains(DEBIAN_CONF) == {("inet", "filter", c) for c in ("input", "forward", "output")}


def test_where_an_nft_statement_starts_and_ends():
    """A statement starts a file, or follows a ';', a line's end, '{' or '}'; a backslash ending a
    line continues it (nft(8)), one that a comment holds does not; only add, create or nothing
    before `chain` defines one."""
    assert defined_chains("table ip t { chain a { } chain b { } }") == {("ip", "t", "a"), ("ip", "t", "b")}
    assert defined_chains("chain inet filter forward") == {("inet", "filter", "forward")}
    assert defined_chains("add chain inet filter\\\nforward { type filter hook forward priority 0; }") == \
        {("inet", "filter", "forward")}
    assert defined_chains("add chain ip x y # old: \\\nadd chain ip x z") == {("ip", "x", "y"), ("ip", "x", "z")}
    assert defined_chains("add chain ip x \\") == set()  # a last line continued into nothing
    assert defined_chains("delete chain inet filter old\nflush chain inet filter input\nlist chain ip x y") == set()
    assert defined_chains("add rule ip x y counter # a # b chain ip x z\nchain ip x w") == {("ip", "x", "w")}


def test_what_names_no_chain():
    """A variable's name is not known; a family's word quoted is a table's name."""
    assert defined_chains("chain inet filter $c\ntable inet f { chain $d { } }\nadd chain inet $t c") == set()
    assert defined_chains('table "inet" { chain c { } }\ntable arp a { chain b { } }\ntable netdev n { chain d { } }') == \
        {("ip", "inet", "c"), ("arp", "a", "b"), ("netdev", "n", "d")}


def _probe_functions(root) -> str:
    """The probe's firewall-files functions, reading under root instead of /."""
    text = script()
    body = text[text.index("nft_file() {"):text.index("\n)\n", text.index("firewall_files() (")) + 3]
    return body.replace("/etc/", f"{root}/etc/").replace("/run/systemd/system", f"{root}/run/systemd/system")


def test_the_probe_reads_the_configuration_and_its_includes_bounded(tmp_path):
    etc = tmp_path / "etc"
    (etc / "nftables.d").mkdir(parents=True)
    (etc / "iptables").mkdir()
    (etc / "iptables" / "rules.v4").write_text("# iptables-save\n" + RULES_V4 + "-A INPUT -j DROP\n")
    (etc / "nftables.conf").write_text(f'flush ruleset\ninclude "{etc}/nftables.d/*.nft"\ninclude "nftables.d/rel.nft"\n'
                                       f'include "{etc}/a name.nft"\ninclude "{etc}/missing.nft"\n' + DEBIAN_CONF)
    (etc / "nftables.d" / "a.nft").write_text(f'table ip nat {{\n chain postrouting {{ }}\n}}\ninclude "{etc}/nftables.conf"\n')
    (etc / "nftables.d" / "rel.nft").write_text("table ip6 r { chain c { } }")  # no newline at its end
    (etc / "a name.nft").write_text("table ip evil { chain e { } }\n")
    run = subprocess.run(["/bin/sh", "-c", _probe_functions(tmp_path) + "\nfirewall_files"], capture_output=True, text=True,
                         timeout=30, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert run.returncode == 0, run.stderr
    files = parse_firewall_files(run.stdout)
    assert not files.systemd and files.rules_v4 == ("nat", "filter")
    assert set(files.nft_files) == {f"{etc}/nftables.conf", f"{etc}/nftables.d/a.nft", f"{etc}/nftables.d/rel.nft"}
    assert files.nft_files[f"{etc}/nftables.d/rel.nft"] == "table ip6 r { chain c { } }"
    assert files.problems == ("a file nftables.service's configuration includes has a name the probe does not print",)
    assert "evil" not in run.stdout and "-A INPUT" not in run.stdout  # rules.v4: its parts alone
    assert run.stdout.count(f"@@file {etc}/nftables.conf") <= 3  # an include of itself: three deep, no more


# -- the fixes on the recorded faults -------------------------------------------------------------

NFT_LINE = "insert rule inet filter input iifname \"virbr0\" udp dport 67 accept"


@pytest.mark.parametrize("generation", GENERATIONS)
def test_a_host_table_nftables_conf_makes_keeps_its_accept_there(generation):
    found = path_findings(recorded(generation, "host-input-drop"))
    assert found["PATH-01"]["fix"] == f"nft {NFT_LINE} && printf '\\n%s\\n' '{NFT_LINE}' >> /etc/nftables.conf"
    assert found["PATH-01"]["notes"][-1] == ("/etc/nftables.conf, which nftables.service loads at boot, makes table inet "
                                             "filter: the rule's line goes at its end, read after the table at the next boot")
    assert found["PATH-02"]["fix"].count(">> /etc/nftables.conf") == 2
    forward = path_findings(recorded(generation, "host-forward-drop"))["PATH-03"]["fix"]
    assert "'insert rule inet filter forward oifname \"virbr0\" ct state { established, related } accept' >> /etc/nftables.conf" \
        in forward


@pytest.mark.parametrize("files, why", [
    (dict(nftables="disabled"), "/etc/nftables.conf makes it, but nftables.service is not enabled: no boot loads that file"),
    (dict(conf=DEBIAN_CONF.replace("chain input", "chain in")),
     "/etc/nftables.conf (nftables.service's configuration) does not make chain input of it"),
    (dict(conf=None), "no nftables.service configuration was found (/etc/nftables.conf or /etc/sysconfig/nftables.conf)"),
])
def test_where_nothing_known_makes_the_table_the_fix_says_so_and_gives_the_line_apart(files, why):
    found = path_findings(recorded("libvirt11-nftables", "host-input-drop", **files))["PATH-01"]
    assert found["fix"] == f"nft {NFT_LINE}"
    assert found["notes"][-1] == (f"who makes table inet filter at boot is not known: {why}. The fix adds the rule now, "
                                  f"and no boot keeps it; to keep it, add `{NFT_LINE}` at the end of the file that makes "
                                  f"the table at boot")


def test_an_older_probes_facts_give_the_rule_now_and_say_why_no_more():
    found = path_findings((DATA / "libvirt9" / "host-input-drop.txt").read_text())["PATH-01"]
    assert found["fix"] == f"nft {NFT_LINE}" and OLDER_PROBE in found["notes"][-1]
    docker = path_findings((DATA / "libvirt11-nftables" / "docker-forward-drop.txt").read_text())["PATH-03"]
    assert docker["fix"] == ("iptables -I DOCKER-USER -i virbr0 -j ACCEPT && "
                             "iptables -I DOCKER-USER -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT")
    assert docker["notes"][-1].startswith("Docker keeps no DOCKER-USER rule past a boot: run `iptables -I DOCKER-USER")


def _units(fix: str) -> dict[str, list[str]]:
    """unit file -> its lines, of each `printf '%s\\n' LINE... > FILE` in a fix."""
    found = {}
    for part in fix.split(" && "):
        words = shlex.split(part)
        if words[:2] == ["printf", "%s\\n"] and words[-2] == ">":
            found[words[-1]] = words[2:-2]
    return found


def test_dockers_accepts_come_back_with_docker_through_a_unit_of_their_own():
    found = path_findings(recorded("libvirt11-nftables", "docker-forward-drop"))
    fix = found["PATH-03"]["fix"]
    units = _units(fix)
    assert len(units) == 2 and all(re.fullmatch(r"/etc/systemd/system/virtnat-docker-user-[0-9a-f]{10}\.service", u) for u in units)
    starts = sorted(line for lines in units.values() for line in lines if line.startswith("ExecStart="))
    assert starts == ["ExecStart=-iptables -D DOCKER-USER -i virbr0 -j ACCEPT",
                      "ExecStart=-iptables -D DOCKER-USER -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
                      "ExecStart=iptables -I DOCKER-USER -i virbr0 -j ACCEPT",
                      "ExecStart=iptables -I DOCKER-USER -o virbr0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"]
    for lines in units.values():
        assert {"After=docker.service", "PartOf=docker.service", "WantedBy=docker.service", "Type=oneshot"} <= set(lines)
    assert [p.split()[:2] for p in fix.split(" && ")] == [["iptables", "-I"], ["printf", "'%s\\n'"], ["systemctl", "enable"]] * 2
    assert "netfilter-persistent" not in fix
    # PATH-05's accept is another rule: another unit, never the same file written twice over
    cross = _units(path_findings(probe_edits.add_section(
        (DATA.parent / "cross" / "libvirt11-nftables" / "docker-forward-drop.txt").read_text(), "firewall-files",
        section()))["PATH-05"]["fix"])
    assert len(cross) == 1 and not set(cross) & set(units)


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
def test_systemd_reads_dockers_unit_without_a_word_to_say(tmp_path):
    fix = path_findings(recorded("libvirt11-nftables", "docker-forward-drop"))["PATH-03"]["fix"]
    for path, lines in _units(fix).items():
        unit = tmp_path / path.rsplit("/", 1)[1]
        unit.write_text("\n".join(lines) + "\n")
        run = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
        assert (run.returncode, run.stdout, run.stderr) == (0, "", ""), lines


def test_without_systemd_dockers_accept_is_the_rule_now_and_the_note_says_what_keeps_it():
    found = path_findings(recorded("libvirt11-nftables", "docker-forward-drop", systemd=False))["PATH-03"]
    assert "printf" not in found["fix"]
    assert found["notes"][-1].startswith("Docker keeps no DOCKER-USER rule past a boot, and systemd does not run here: run `")


@pytest.mark.parametrize("generation", GENERATIONS)
def test_a_hosts_own_iptables_rule_goes_in_rules_v4_where_netfilter_persistent_restores_it(generation):
    found = path_findings(recorded(generation, "rule-ahead-forward"))["PATH-03"]
    assert found["fix"] == ("iptables -I FORWARD -i virbr0 -j ACCEPT && sed -i -e '/^\\*filter[[:space:]]*$/,"
                            "/^COMMIT[[:space:]]*$/{/^COMMIT/i -I FORWARD -i virbr0 -j ACCEPT' -e '}' /etc/iptables/rules.v4")
    assert found["notes"][-1] == "netfilter-persistent restores /etc/iptables/rules.v4 at boot: the rule's line goes in its *filter part"


KEEP_V4 = ("The fix adds the rule now, and no boot keeps it; to keep it, add `-I FORWARD -i virbr0 -j ACCEPT` to the *filter "
           "part of the rules the host restores at boot (netfilter-persistent's /etc/iptables/rules.v4, from the "
           "iptables-persistent package)")


@pytest.mark.parametrize("fault, files, why", [
    ("rule-ahead-forward", dict(rules_v4=None), "there is no /etc/iptables/rules.v4"),
    ("rule-ahead-forward", dict(persistent="disabled"),
     "/etc/iptables/rules.v4 is there, but netfilter-persistent.service is not enabled: no boot loads it"),
    ("rule-ahead-forward", dict(rules_v4="*nat\nCOMMIT\n"), "/etc/iptables/rules.v4 holds no *filter part"),
    ("legacy-drop", {}, "/etc/iptables/rules.v4 is restored by iptables-restore, which is iptables-nft here, not iptables-legacy"),
])
def test_where_no_rules_v4_restores_the_table_the_rule_is_now_and_the_line_apart(fault, files, why):
    found = path_findings(recorded("libvirt9", fault, **files))["PATH-03"]
    assert found["fix"].split(" && ") == [found["fix"]] and found["fix"].endswith("-I FORWARD -i virbr0 -j ACCEPT")
    source = "iptables-legacy" if fault == "legacy-drop" else "iptables-nft"
    assert found["notes"][-1] == f"who makes the {source} filter table's rules at boot is not known: {why}. {KEEP_V4}"


def test_a_hosts_nat_rule_ahead_of_the_masquerade_goes_out_of_rules_v4_too(tmp_path):
    """PATH-04 deletes the host's accept by its place; where netfilter-persistent restores rules.v4,
    its line goes out of the *nat part as well (sed, run here on a copy), else the note says where."""
    found = path_findings(recorded("libvirt9", "rule-ahead-nat"))["PATH-04"]
    live, edit = found["fix"].split(" && ")
    assert live == "iptables -t nat -D POSTROUTING 1" and edit.startswith("sed -i -e ")
    v4 = tmp_path / "etc" / "iptables" / "rules.v4"
    v4.parent.mkdir(parents=True)
    rule = "-A POSTROUTING -s 192.168.122.0/24 -j ACCEPT"
    v4.write_text(f"*filter\n{rule}\nCOMMIT\n*nat\n{rule}\n-A POSTROUTING -s 192.168.122.0/24 -j MASQUERADE\n"
                  f"{rule} -m comment --comment x\nCOMMIT\n")
    for _ in range(2):
        subprocess.run(["/bin/sh", "-c", _on_copies(edit, tmp_path)], check=True, timeout=30)
    assert v4.read_text() == (f"*filter\n{rule}\nCOMMIT\n*nat\n-A POSTROUTING -s 192.168.122.0/24 -j MASQUERADE\n"
                              f"{rule} -m comment --comment x\nCOMMIT\n")  # that line of that part, no other
    old = path_findings((DATA / "libvirt9" / "rule-ahead-nat.txt").read_text())["PATH-04"]
    assert old["fix"] == live and old["notes"][-1] == (
        f"the fix deletes the rule now; if the rules the host restores at boot (netfilter-persistent's "
        f"/etc/iptables/rules.v4) hold `{rule}`, delete it there too, or the next boot brings it back")


@pytest.mark.parametrize("text", ["-A POSTROUTING -s 10.0.0.0/8 -m comment --comment \"50% .* [x] ^$ \\\\ /\" -j ACCEPT",
                                  "-A POSTROUTING -j ACCEPT"])
def test_the_line_to_delete_is_matched_as_it_is(tmp_path, text):
    table = Table("ip", "nat", "iptables-nft")
    fix, _ = lasting_delete((table,), table, "POSTROUTING", Rule(1, (), Verdict("accept"), text), "a host iptables-nft rule",
                            parse_firewall_files(section()))
    v4 = tmp_path / "etc" / "iptables" / "rules.v4"
    v4.parent.mkdir(parents=True)
    near = [text + " ", text.replace("A", "a"), "x" + text, text[:-1] + "."]
    v4.write_text("*nat\n" + "\n".join([text] + near) + "\nCOMMIT\n")
    subprocess.run(["/bin/sh", "-c", _on_copies(fix.split(" && ", 1)[1], tmp_path)], check=True, timeout=30)
    assert v4.read_text() == "*nat\n" + "\n".join(near) + "\nCOMMIT\n"


def test_the_owners_commands_stay_theirs():
    """libvirt's, firewalld's and ufw's tables keep their own fixes, with no file step."""
    ufw = (DATA.parent / "ufw" / "libvirt11-nftables-no-firewalld" / "ufw-enabled.txt").read_text()
    found = path_findings(probe_edits.add_section(ufw, "firewall-files", section()))
    assert all(f["fix"].startswith("ufw ") and ">" not in f["fix"] for f in found.values())


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_goes_in_no_boot_file(name):
    """An interface, table or chain a boot file would not read as it is: the rule now, a note."""
    files = parse_firewall_files(section(conf=DEBIAN_CONF.replace("inet filter", f'inet "{name}"')))
    accept = (("iif", name), ("l4proto", "udp"), ("dport", 67))
    for table, chain, who in ((Table("inet", name, "nftables"), "input", "a host nftables table"),
                              (Table("inet", "filter", "nftables"), "input", "a host nftables table"),
                              (Table("ip", "filter", "iptables-nft", chains={"DOCKER-USER": None}), "FORWARD", "Docker"),
                              (Table("ip", "filter", "iptables-nft"), "INPUT", "a host iptables-nft rule")):
        fix, note = lasting_accept((table,), table, chain, accept, who, files)
        assert fix == accept_rule(table, chain, accept), (name, fix)
        assert note.startswith("the rule names an interface, table or chain a boot file would not read as it is"), note
        assert note.endswith(f"no boot keeps it (`{fix}`)")
    # a plain interface, the table's or the chain's name hostile (facts say what a host's tools printed)
    plain = (("iif", "virbr0"), ("l4proto", "udp"), ("dport", 67))
    for table, chain in ((Table("ip", name, "iptables-nft"), "INPUT"), (Table("ip", "filter", "iptables-nft"), name),
                         (Table("ip", "nat", "iptables-nft"), name), (Table(name, "filter", "nftables"), "input"),
                         (Table("inet", name, "nftables"), "input"), (Table("inet", "filter", "nftables"), name)):
        fix, note = lasting_accept((table,), table, chain, plain, f"a host {table.source} rule", files)
        assert (fix, note) == (accept_rule(table, chain, plain), _hostile(fix)), (name, table, chain)
    replies = (("oif", name), ("ct_state", "established,related"))
    for table, chain, who in ((Table("ip", "filter", "iptables-nft", chains={"DOCKER-USER": None}), "FORWARD", "Docker"),
                              (Table("inet", "filter", "nftables"), "forward", "a host nftables table")):
        fix, note = lasting_accept((table,), table, chain, replies, who, files)
        assert (fix, note) == (accept_rule(table, chain, replies), _hostile(fix)), (name, table)


LEGACY = Table("ip", "filter", "iptables-legacy")
NFT_FILTER = Table("ip", "filter", "iptables-nft")
IN_V4 = "sed -i -e '/^\\*filter[[:space:]]*$/,/^COMMIT[[:space:]]*$/{/^COMMIT/i -I INPUT -i virbr0 -j ACCEPT' -e '}' /etc/iptables/rules.v4"


def test_where_iptables_save_showed_legacy_tables_alone_rules_v4_speaks_legacy():
    accept = (("iif", "virbr0"),)
    files = parse_firewall_files(section())
    assert lasting_accept((LEGACY,), LEGACY, "INPUT", accept, "a host iptables-legacy rule", files) == (
        f"iptables-legacy -I INPUT -i virbr0 -j ACCEPT && {IN_V4}",
        "netfilter-persistent restores /etc/iptables/rules.v4 at boot: the rule's line goes in its *filter part")
    fix, note = lasting_accept((LEGACY, NFT_FILTER), LEGACY, "INPUT", accept, "a host iptables-legacy rule", files)
    assert fix == "iptables-legacy -I INPUT -i virbr0 -j ACCEPT" and "which is iptables-nft here, not iptables-legacy" in note


def test_without_the_firewall_files_section_the_note_says_to_collect_again():
    accept = (("iif", "virbr0"),)
    fix, note = lasting_accept((NFT_FILTER,), NFT_FILTER, "INPUT", accept, "host iptables-nft rules", None)
    assert fix == "iptables -I INPUT -i virbr0 -j ACCEPT"
    assert note.startswith(f"who makes the iptables-nft filter table's rules at boot is not known: {OLDER_PROBE}. The fix")
    nft = Table("inet", "filter", "nftables")
    fix, note = lasting_accept((nft,), nft, "input", accept, "a host nftables table", None)
    assert fix == 'nft insert rule inet filter input iifname "virbr0" accept'
    assert note.startswith(f"who makes table inet filter at boot is not known: {OLDER_PROBE}. The fix")


def test_where_the_configuration_and_its_includes_make_no_such_chain_the_note_says_both():
    nft = Table("inet", "filter", "nftables")
    text = section() + "\n@@file /etc/nftables.d/x.nft\n|table inet filter { chain output { } }"
    _, note = lasting_accept((nft,), nft, "prerouting", (("iif", "virbr0"),), "a host nftables table",
                             parse_firewall_files(text))
    assert note.startswith("who makes table inet filter at boot is not known: /etc/nftables.conf (nftables.service's "
                           "configuration and its includes) does not make chain prerouting of it. The fix")
    # what the probe could not read may make it: the note says what
    text += "\n@@unreadable /etc/nftables.d/y.nft\n@@too-many"
    _, note = lasting_accept((nft,), nft, "prerouting", (("iif", "virbr0"),), "a host nftables table",
                             parse_firewall_files(text))
    assert ("does not make chain prerouting of it; /etc/nftables.d/y.nft could not be read; nftables.service's "
            "configuration includes more files than the probe reads. The fix") in note


def test_dockers_accept_comes_back_through_a_unit_and_the_note_says_so():
    table = Table("ip", "filter", "iptables-nft", chains={"DOCKER-USER": None})
    fix, note = lasting_accept((table,), table, "FORWARD", (("iif", "virbr0"),), "Docker", parse_firewall_files(section()))
    assert fix.startswith("iptables -I DOCKER-USER -i virbr0 -j ACCEPT && printf '%s\\n' '[Unit]' ")
    assert note == ("Docker keeps DOCKER-USER's rules at its restart, not at a boot: a unit of virtnat's per rule "
                    "(/etc/systemd/system/virtnat-docker-user-*.service) puts it back each time docker.service starts")


V4_DELETE = ("sed -i -e '/^\\*filter[[:space:]]*$/,/^COMMIT[[:space:]]*$/{\\%^-A INPUT -j DROP$%d' -e '}' "
             "/etc/iptables/rules.v4")
KEEP_DELETE = ("the fix deletes the rule now; if the rules the host restores at boot (netfilter-persistent's "
               "/etc/iptables/rules.v4) hold `-A INPUT -j DROP`, delete it there too, or the next boot brings it back")


@pytest.mark.parametrize("tables, files, text", [
    ((NFT_FILTER,), None, "-A INPUT -j DROP"),
    ((NFT_FILTER,), section(rules_v4=None), "-A INPUT -j DROP"),
    ((NFT_FILTER,), section(persistent="disabled"), "-A INPUT -j DROP"),
    ((LEGACY, NFT_FILTER), section(), "-A INPUT -j DROP"),  # rules.v4 speaks iptables-nft there
    ((NFT_FILTER,), section(rules_v4="*nat\nCOMMIT\n"), "-A INPUT -j DROP"),
    ((NFT_FILTER,), section(), "-A INPUT -j DROP\n-A INPUT -j ACCEPT"),  # no one line of rules.v4
])
def test_a_host_rules_deletion_leaves_rules_v4_alone_where_nothing_says_it_is_there(tables, files, text):
    rule = Rule(1, (), Verdict("drop"), text)
    fix, note = lasting_delete(tables, tables[0], "INPUT", rule, "a host iptables-nft rule",
                               files and parse_firewall_files(files))
    tool = "iptables-legacy" if tables[0] is LEGACY else "iptables"
    assert fix == f"{tool} -D INPUT 1" and note == KEEP_DELETE.replace("-A INPUT -j DROP", text)


def test_a_host_rules_deletion_takes_its_line_out_of_rules_v4_in_the_tools_language():
    rule = Rule(1, (), Verdict("drop"), "-A INPUT -j DROP")
    files = parse_firewall_files(section())
    for tables, tool in (((NFT_FILTER,), "iptables"), ((LEGACY,), "iptables-legacy")):
        assert lasting_delete(tables, tables[0], "INPUT", rule, f"a host {tables[0].source} rule", files) == (
            f"{tool} -D INPUT 1 && {V4_DELETE}",
            ("netfilter-persistent restores /etc/iptables/rules.v4 at boot: the rule goes out of its *filter part too, "
             "where it is"))
    nft = Table("inet", "filter", "nftables")
    assert lasting_delete((nft,), nft, "input", Rule(1, (), Verdict("drop"), "drop", handle=7), "a host nftables table",
                          files) == (
        "nft delete rule inet filter input handle 7",
        ("the fix deletes the rule now; if the file that makes table inet filter at boot (/etc/nftables.conf or "
         "/etc/sysconfig/nftables.conf, for nftables.service) holds it, delete it there too, or the next boot brings it back"))


# -- run for real, on copies ----------------------------------------------------------------------

def _netns() -> bool:
    return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10).returncode == 0


def _on_copies(fix: str, root) -> str:
    return fix.replace("/etc/", f"{root}/etc/")


@pytest.mark.skipif(not _netns(), reason="no network namespace of its own can be made here (root, unshare -n)")
def test_the_lasting_commands_run_as_printed_and_the_files_load(tmp_path):
    """In a network namespace of its own: nft loads Debian's file with the lines the fixes added
    (twice: its flush ruleset makes a reload whole), and iptables-restore loads rules.v4 with its
    line, the accept ahead of the host's drop."""
    (tmp_path / "etc" / "iptables").mkdir(parents=True)
    (tmp_path / "etc" / "nftables.conf").write_text(DEBIAN_CONF)
    (tmp_path / "etc" / "iptables" / "rules.v4").write_text(RULES_V4.replace(":OUTPUT ACCEPT [0:0]\n",
                                                                             ":OUTPUT ACCEPT [0:0]\n-A FORWARD -i virbr0 -j DROP\n"))
    fixes = [path_findings(recorded("libvirt11-nftables", "host-input-drop"))["PATH-02"]["fix"],
             path_findings(recorded("libvirt11-nftables", "host-forward-drop"))["PATH-03"]["fix"],
             path_findings(recorded("libvirt9", "rule-ahead-forward"))["PATH-03"]["fix"]]
    files = " && ".join(p for fix in fixes for p in fix.split(" && ") if not p.startswith(("nft ", "iptables ")))
    run = subprocess.run(["unshare", "-n", "/bin/sh", "-c", _on_copies(files, tmp_path) + f" && nft -f {tmp_path}/etc/nftables.conf"
                          f" && nft -f {tmp_path}/etc/nftables.conf && nft list ruleset && iptables-restore < "
                          f"{tmp_path}/etc/iptables/rules.v4 && iptables -S FORWARD"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.count('iifname "virbr0" udp dport 53 accept') == out.count('iifname "virbr0" tcp dport 53 accept') == 1
    assert 'oifname "virbr0" ct state { established, related } accept' in out
    assert "-A FORWARD -i virbr0 -j ACCEPT\n-A FORWARD -i virbr0 -j DROP" in out


def test_run_twice_the_lasting_steps_change_nothing_the_second_time(tmp_path):
    """virtnat fix's script for the three hosts, its files on copies, against stand-ins (world.py):
    the first run adds each rule, its line or unit, and enables each unit; the second changes nothing."""
    (tmp_path / "etc" / "iptables").mkdir(parents=True)
    (tmp_path / "etc" / "systemd" / "system").mkdir(parents=True)
    (tmp_path / "etc" / "nftables.conf").write_text(DEBIAN_CONF)
    (tmp_path / "etc" / "iptables" / "rules.v4").write_text(RULES_V4)
    doc = _document()
    state = {"sysctl": {}, "net": {"Active": True, "Persistent": True, "Autostart": True}, "links": {}, "rules": {}}
    changes = world.make(tmp_path / "bin", state)
    env = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)}
    seen = []
    for host in ("nft-host", "docker-host", "iptables-host"):
        script = _on_copies(shell_scripts(doc, "latest.json", host), tmp_path)
        for _ in range(2):
            run = subprocess.run(["/bin/bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
            assert run.returncode == 0, run.stderr
            seen.append(sorted(p.name for p in (tmp_path / "etc" / "systemd" / "system").iterdir()))
    assert len(seen[-1]) == 3  # PATH-03's two accepts and PATH-05's one
    calls = changes.read_text().splitlines()
    assert len(calls) == len(set(calls)) == 3 + 3 + 3 + 1  # PATH-01/02's, Docker's rules and units, the host's iptables
    conf = (tmp_path / "etc" / "nftables.conf").read_text()
    assert conf.startswith(DEBIAN_CONF) and conf.count("\ninsert rule ") == 3
    assert (tmp_path / "etc" / "iptables" / "rules.v4").read_text().count("-I FORWARD -i virbr0 -j ACCEPT\nCOMMIT") == 1


# -- the script and the playbook ------------------------------------------------------------------

def _document() -> dict:
    """Three hosts as audited: a table /etc/nftables.conf makes, Docker's FORWARD policy, a host's
    own iptables drop with netfilter-persistent."""
    hosts = []
    for host, generation, fault, folder in (("nft-host", "libvirt11-nftables", "host-input-drop", DATA),
                                            ("docker-host", "libvirt11-nftables", "docker-forward-drop", DATA.parent / "cross"),
                                            ("iptables-host", "libvirt9", "rule-ahead-forward", DATA)):
        text = probe_edits.add_section((folder / generation / f"{fault}.txt").read_text(), "firewall-files", section())
        entry = document_of(text, host)["hosts"][0]
        entry["checks"] = [c for c in entry["checks"] if c["id"].startswith("PATH") or c["outcome"] != "failed"]
        hosts.append(entry)
    return report_docs.document(*hosts, profile=Profile().as_dict())


def test_the_script_and_playbook_of_the_lasting_fixes_are_the_golden_ones():
    doc = _document()
    script, book = shell_scripts(doc, "latest.json"), playbook(doc, "latest.json")
    parses(script)
    for name, text in (("lasting.sh", script), ("lasting.yml", book)):
        golden = GOLDEN / name
        if WRITE:
            golden.write_text(text)
        assert text == golden.read_text(), name
