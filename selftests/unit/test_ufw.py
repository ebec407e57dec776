"""ufw's drop, fixed in ufw's language (issue 26, item 2): on probe output recorded from the
libvirt 11 lab with the nftables backend, no firewalld and ufw enabled with its default policies
(selftests/data/ufw/, made by `selftests/data/path/record.py libvirt11-nftables-no-firewalld ufw`),
the PATH checks name ufw and fix with `ufw allow` / `ufw route allow` rules built from the dropped
packets, with the host's own names quoted; `virtnat fix` guards each with `ufw show added`, so a
second run adds nothing (bash runs it against a ufw stand-in); the golden script and playbook."""
import os
import shutil
import subprocess

import pytest
import yaml

from selftests.e2e.pathfaults import UFW_ENABLED
from selftests.unit.checkrun import DATA, findings, outcomes
from selftests.unit.test_fix_command import GOLDEN, WRITE, document_of, parses
from selftests.unit.test_hostile_names import HOSTILE, StandIns
from selftests.unit.test_remediations import problems
from virtnat.facts.ruleset import Chain, Table
from virtnat.path import packets as pk
from virtnat.path.owners import owner, ufw_rule, ufws
from virtnat.report.fix_ansible import playbook
from virtnat.report.fix_order import command_guard, stepwise
from virtnat.report.fixes import shell_scripts

UFW = DATA.parent / "ufw" / "libvirt11-nftables-no-firewalld"
FIXES = {
    "PATH-01": "ufw allow in on virbr0 to any port 67 proto udp",
    "PATH-02": "ufw allow in on virbr0 to any port 53 proto udp && ufw allow in on virbr0 to any port 53 proto tcp",
    "PATH-03": "ufw route allow in on virbr0 out on uplink0",
    "PATH-05": "ufw route allow in on virbr0 out on virbr0",
}
NET = pk.Network(bridge="virbr0", gateway="192.168.122.1", subnet="192.168.122.0/24", guest="192.168.122.2",
                 outside="10.213.3.1", uplink="uplink0")


def recording(name: str) -> str:
    return (UFW / f"{name}.txt").read_text()


def _failing(text: str) -> dict[str, str]:
    return {c: m for c, (o, m) in outcomes(text).items() if o != "passed"}


def test_ufw_enabled_fails_exactly_the_guests_packet_path_naming_ufw():
    """Beyond what the healthy recording of the same lab fails (the stock profile asks for
    firewalld, which this lab does not run), exactly the PATH checks the e2e fault names."""
    standing = _failing(recording("healthy"))
    found = _failing(recording("ufw-enabled"))
    assert {c for c in found if found[c] != standing.get(c)} == UFW_ENABLED.expected("nftables")
    for check, text in UFW_ENABLED.culprit.items():
        assert text in found[check], found[check]


def test_the_guests_pings_pass_ufws_before_rules_as_on_the_lab():
    """ufw's before.rules accept icmp echo-request forwarded (`--icmp-type 8`, a number in
    iptables-save): the lab guest's pings out and to its peer pass with ufw on, and so they do here."""
    found = _failing(recording("ufw-enabled"))
    assert "(icmp)" not in found["PATH-03"] and "(tcp 443)" in found["PATH-03"] and "(udp 53)" in found["PATH-03"]
    assert "(icmp)" not in found["PATH-05"] and "(tcp 22)" in found["PATH-05"]


def test_each_fix_is_ufws_own_rule_and_runs_as_printed():
    fixes = {c: f["fix"] for c, f in findings(recording("ufw-enabled")).items() if c.startswith("PATH") and "fix" in f}
    assert fixes == FIXES
    assert {c: problems(f) for c, f in fixes.items() if problems(f)} == {}


@pytest.mark.parametrize("packet, rule", [
    (pk.dhcp(NET)[0], "ufw allow in on virbr0 to any port 67 proto udp"),
    (pk.dhcp(NET)[1], "ufw allow out on virbr0 to any port 68 proto udp"),
    (pk.dns(NET)[2], "ufw allow in on virbr0 to any port 53 proto tcp"),
    (pk.dns(NET)[1], "ufw allow out on virbr0"),  # an answer: ufw has no connection state to say it with
    (pk.outbound(NET)[0], "ufw route allow in on virbr0 out on uplink0"),
    (pk.replies(NET)[1], "ufw route allow in on uplink0 out on virbr0"),
    (pk.outbound(pk.Network(**{**NET.__dict__, "uplink": None}))[1], "ufw route allow in on virbr0"),
    (pk.cross(NET)[2], "ufw route allow in on virbr0 out on virbr0"),
])
def test_a_ufw_rule_from_each_kind_of_packet(packet, rule):
    assert ufw_rule(packet) == rule


def test_only_ufws_own_chains_or_a_table_of_ufws_chains_alone_get_ufws_language():
    filter_ = Table("ip", "filter", "iptables-nft", {"INPUT": Chain("INPUT", policy="drop"), "ufw-user-input": Chain("ufw-user-input")})
    shared = Table("ip", "filter", "iptables-nft", {**filter_.chains, "DOCKER-USER": Chain("DOCKER-USER")})
    assert ufws(owner(filter_)) and ufws(owner(filter_, "ufw-skip-to-policy-input", policy=False))
    assert not ufws(owner(shared))  # "Docker or ufw, whose chains are in this table": whose is not known
    assert not ufws(owner(filter_, "INPUT", policy=False))  # an admin's own rule in INPUT
    assert ufws(owner(Table("inet", "ufw", "nftables")))


@pytest.mark.parametrize("name", [n for n in HOSTILE if "\n" not in n])
def test_a_hosts_interface_names_stay_whole_in_ufws_rules(tmp_path, name):
    """bash runs each rule with a ufw stand-in: the bridge's and the uplink's names reach ufw as
    one argument each, after `on`, and nothing else runs."""
    stand_ins = StandIns(tmp_path, "ufw")
    net = pk.Network(bridge=name, gateway="192.168.122.1", subnet="192.168.122.0/24", guest="192.168.122.2",
                     outside="10.213.3.1", uplink=name + "-up")
    for packet in (pk.dhcp(net)[0], pk.outbound(net)[0]):
        [call] = stand_ins.run(ufw_rule(packet))
        assert call[0] == "ufw" and call[call.index("on") + 1] == name, call
        if "route" in call:
            assert call[len(call) - 1 - call[::-1].index("on") + 1] == name + "-up", call


def test_a_ufw_rules_guard_reads_ufws_added_rules_in_its_own_spelling():
    assert command_guard("ufw route allow in on virbr0 out on uplink0") == (
        "! ufw show added 2>/dev/null | grep -qxF -- 'ufw route allow in on virbr0 out on uplink0'")
    assert command_guard("ufw allow in on 'a b' to any port 53 proto udp") == (
        "! ufw show added 2>/dev/null | grep -qxF -- 'ufw allow in on a b to any port 53 proto udp'")
    assert command_guard("ufw reload") is None and command_guard("ufw") is None
    assert stepwise(FIXES["PATH-02"]).count("if ! ufw show added") == 2


def _document():
    """The lab's audit document: what its profile skips (no firewalld) is skipped, not failed."""
    doc = document_of(recording("ufw-enabled"), host="labhost")
    standing = _failing(recording("healthy"))
    for check in doc["hosts"][0]["checks"]:
        if check["id"] in standing and check["outcome"] == "failed":
            check["outcome"] = "skipped"
    return doc


def test_the_script_and_the_playbook_are_the_golden_ones():
    script, book = shell_scripts(_document(), "latest.json"), playbook(_document(), "latest.json")
    if WRITE:
        (GOLDEN / "ufw-enabled.sh").write_text(script)
        (GOLDEN / "ufw-enabled.yml").write_text(book)
    assert script == (GOLDEN / "ufw-enabled.sh").read_text()
    assert book == (GOLDEN / "ufw-enabled.yml").read_text()
    parses(script)
    [play] = yaml.safe_load(book.replace("!unsafe ", ""))
    assert [next(iter(set(t) - {"name", "register", "changed_when"})) for t in play["tasks"]] == ["ansible.builtin.shell"] * 4


UFW_STAND_IN = """#!/bin/sh
# ufw, as far as the script needs it: `show added` lists the rules added, an existing one is skipped.
added="$HOME/added"
if [ "$1 $2" = "show added" ]; then echo "Added user rules (see 'ufw status' for running firewall):"; cat "$added" 2>/dev/null; exit 0; fi
if grep -qxF -- "ufw $*" "$added" 2>/dev/null; then echo "Skipping adding existing rule"; exit 0; fi
echo "ufw $*" >> "$added"; echo "ufw $*" >> "$HOME/changes"; echo "Rule added"
"""


def test_run_twice_the_script_adds_each_rule_once(tmp_path):
    """bash runs the script with a ufw stand-in; the second run calls no ufw that adds a rule."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ufw").write_text(UFW_STAND_IN)
    (bin_dir / "ufw").chmod(0o755)
    for tool in ("grep", "cat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    script = shell_scripts(_document(), "latest.json")
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    for _ in range(2):
        run = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=30)
        assert run.returncode == 0, run.stderr
        assert "Skipping" not in run.stdout
    assert (tmp_path / "changes").read_text().splitlines() == [
        "ufw allow in on virbr0 to any port 67 proto udp",
        "ufw allow in on virbr0 to any port 53 proto udp",
        "ufw allow in on virbr0 to any port 53 proto tcp",
        "ufw route allow in on virbr0 out on uplink0",
        "ufw route allow in on virbr0 out on virbr0",
    ]
    assert os.path.exists(tmp_path / "added")
