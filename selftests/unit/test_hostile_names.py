"""A name a host gives (a guest's, a tap's) goes into a fix as one quoted word: pasted into a shell,
the fix runs what it says and nothing the name says. Proven two ways for every check whose fix
names the guest or its tap: the shell's words of the fix are those of the fix for a plain name,
and the fix run by bash with stand-ins for its commands runs them with the name as one argument."""
import shlex
import subprocess

import pytest

from virtnat.facts.model import GuestNic
from virtnat.plugin import fill_marker
from virtnat.profile import Profile

from .checkrun import CONTROLS

HOSTILE = [
    "vm1;touch PWNED;#",
    "$(touch PWNED)",
    "`touch PWNED`",
    "vm1' ; touch PWNED ; '",
    'vm1" ; touch PWNED ; "',
    "vm1 && touch PWNED",
    "vm1|touch PWNED",
    "vm1>PWNED",
    "vm1\ntouch PWNED",
    "vm1$IFS;touch${IFS}PWNED",
    "*",
    "-rf",
    "--help",
]
# The options a name follows in the fixes: a name that starts with a dash is still the name.
TAKES_NAME = ("--domain", "--interface", "dev")
NAMED = [(check_id, fn.pytestmark[0].kwargs["remediation"]) for check_id, fn in CONTROLS
         if any(f"{{{key}}}" in [m.kwargs for m in fn.pytestmark if m.name == "control"][0]["remediation"]
                for key in ("guest", "tap"))]


def _fix(template: str, guest: str, tap: str) -> str:
    nic = GuestNic(guest=guest, mac="52:54:00:12:34:56", tap=tap, network="default", bridge=None)
    return fill_marker(Profile(), template, nic)


def _words(command: str) -> list[str]:
    """The shell's words and operators (; && | > ( ...) of a command, as bash splits them."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def test_the_checks_whose_fix_names_a_guest_or_tap():
    assert sorted(check_id for check_id, _ in NAMED) == ["VM-01", "VM-02", "VM-03", "VM-04"]


@pytest.mark.parametrize("check_id, template", NAMED, ids=[i for i, _ in NAMED])
@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_is_one_word_where_a_plain_one_is(check_id, template, name):
    plain = _words(_fix(template, "GUESTNAME", "TAPNAME"))
    hostile = _words(_fix(template, name, name + "-tap"))
    assert hostile == [w.replace("GUESTNAME", name).replace("TAPNAME", name + "-tap") for w in plain]


def test_a_plain_name_is_written_as_it_is():
    assert _fix("virsh destroy --domain {guest} && ip link set dev {tap} up", "vm-1.lab_2", "vnet0") == (
        "virsh destroy --domain vm-1.lab_2 && ip link set dev vnet0 up")


class StandIns:
    """Stand-ins for commands (nothing else on bash's PATH) that record each call's arguments;
    run(fix) runs a fix in bash in an empty folder and gives the calls it made."""

    def __init__(self, tmp_path, *commands: str):
        self.bin, self.log, self.work = tmp_path / "bin", tmp_path / "calls", tmp_path / "work"
        self.bin.mkdir()
        self.work.mkdir()
        for command in commands:
            (self.bin / command).write_text(f"#!/bin/sh\nprintf '%s\\036' \"${{0##*/}}\" \"$@\" >> {self.log}\nprintf '\\035' >> {self.log}\n")
            (self.bin / command).chmod(0o755)

    def run(self, fix: str) -> list[list[str]]:
        """The calls bash made running fix (command name first); asserts it wrote nothing."""
        self.log.write_text("")
        subprocess.run(["/bin/bash", "-c", fix], cwd=self.work, env={"PATH": str(self.bin), "HOME": str(self.work)},
                       capture_output=True, timeout=10)
        assert list(self.work.iterdir()) == [], f"{fix!r} made {list(self.work.iterdir())}"
        return [call.split("\x1e")[:-1] for call in self.log.read_text().split("\x1d")[:-1]]


@pytest.mark.parametrize("check_id, template", NAMED, ids=[i for i, _ in NAMED])
def test_bash_runs_the_fix_and_nothing_the_names_say(tmp_path, check_id, template):
    """Each hostile name in turn: bash runs the fix with stand-ins for virsh and ip (nothing else
    is on its PATH), in a folder of its own; no PWNED file appears, and each stand-in got the
    guest's and the tap's names as whole arguments."""
    stand_ins = StandIns(tmp_path, "virsh", "ip")
    for name in HOSTILE:
        fix = _fix(template, name, name + "-tap")
        calls = stand_ins.run(fix)
        assert calls, f"{check_id}: {fix!r} ran no command"
        for call in calls:
            assert call[0] in ("virsh", "ip"), call
            named = [i for i, arg in enumerate(call) if arg in (name, name + "-tap")]
            assert named, f"{check_id}: {call} lacks the whole name {name!r}"
            assert all(call[i - 1] in TAKES_NAME for i in named), f"{check_id}: {call}: a name is not an option's value"


def _path_fixes(name: str) -> dict[str, str]:
    """The packet path's fixes (the accept to add, the rule to delete) where a host named the
    table, the chain and the interface: nftables and iptables."""
    from virtnat.facts.ruleset import Rule, Table, Verdict
    from virtnat.path.owners import accept_rule, delete_rule

    accept = (("iif", name + "-if"), ("l4proto", "udp"), ("dport", 67))
    rule = Rule(position=2, matches=(), verdict=Verdict("accept"), text="", handle=10)
    nft, ipt = Table("inet", name, "nftables"), Table("ip", name, "iptables-nft")
    return {"nft insert": accept_rule(nft, name + "-chain", accept), "nft delete": delete_rule(nft, name + "-chain", rule),
            "iptables insert": accept_rule(ipt, name + "-chain", accept), "iptables delete": delete_rule(ipt, name + "-chain", rule)}


@pytest.mark.parametrize("name", [n for n in HOSTILE if "\n" not in n and '"' not in n])
def test_the_packet_paths_fixes_keep_a_hosts_names_whole(tmp_path, name):
    """bash runs each fix with stand-ins for nft and iptables: nothing else runs, and each name
    the host gave reaches them as one argument (nft's in its own double quotes when not plain)."""
    stand_ins = StandIns(tmp_path, "nft", "iptables")
    for what, fix in _path_fixes(name).items():
        [call] = stand_ins.run(fix)
        assert call[0] == what.split()[0], call
        for whole in (name, name + "-chain") + ((name + "-if",) if "insert" in what else ()):
            assert (f'"{whole}"' if call[0] == "nft" else whole) in call, f"{what}: {call} lacks {whole!r} as one argument"


@pytest.mark.parametrize("name", ['a"b', "a\nb"])
def test_a_name_nft_cannot_spell_stays_shell_quoted_alone(name):
    """No nft spelling holds a double quote or a line break: the name reaches nft as it is."""
    words = shlex.split(_path_fixes(name)["nft delete"])
    assert words[:6] == ["nft", "delete", "rule", "inet", name, name + "-chain"]


def test_plain_names_in_the_packet_paths_fixes_read_as_before():
    fixes = _path_fixes("filter")
    assert fixes["nft insert"] == 'nft insert rule inet filter filter-chain iifname "filter-if" udp dport 67 accept'
    assert fixes["nft delete"] == "nft delete rule inet filter filter-chain handle 10"
    assert fixes["iptables insert"] == "iptables -I filter-chain -i filter-if -p udp --dport 67 -j ACCEPT"
    assert fixes["iptables delete"] == "iptables -D filter-chain 2"


RECORDED_DROPS = [(generation, fault) for generation in ("libvirt9", "libvirt11-iptables", "libvirt11-nftables")
                  for fault in ("host-forward-drop", "host-input-drop")]


@pytest.mark.parametrize("generation, fault", RECORDED_DROPS, ids=[f"{g}-{f}" for g, f in RECORDED_DROPS])
def test_a_recorded_hosts_table_named_to_harm_stays_one_word_in_its_fix(tmp_path, generation, fault):
    """The lab's recordings of a host table that drops the guests' packets, with that table
    renamed to each hostile name: the PATH checks' fixes, run by bash with stand-ins, pass the
    name to nft whole, in nft's quotes, and run nothing else."""
    from selftests.unit import probe_edits
    from selftests.unit.checkrun import DATA, findings

    stand_ins = StandIns(tmp_path, "nft")
    recording = (DATA / generation / f"{fault}.txt").read_text()
    for name in [n for n in HOSTILE if "\n" not in n and '"' not in n]:
        fixes = {check: found["fix"] for check, found in findings(probe_edits.rename_nft_table(recording, "filter", name)).items()
                 if check.startswith("PATH") and "fix" in found}
        assert fixes, f"{name!r}: no PATH check gave a fix"
        for check, fix in fixes.items():
            calls = stand_ins.run(fix)
            assert calls and all(c[0] == "nft" and f'"{name}"' in c for c in calls), (check, fix, calls)


def test_vm01s_fix_by_the_mac_keeps_the_names_whole(tmp_path):
    """A guest interface that declares no tap is named by its MAC (VM-01's fix, which VM-02..04
    give too): bash runs it with a virsh stand-in, the guest's name and the MAC whole."""
    from .checkrun import load_checks

    recreate_tap = load_checks("vm/test_taps.py").recreate_tap
    stand_ins = StandIns(tmp_path, "virsh")
    for name in HOSTILE:
        nic = GuestNic(guest=name, mac=name + "-mac", tap=None, network="default", bridge=None)
        calls = stand_ins.run(recreate_tap(nic))
        assert len(calls) == 2, (name, calls)
        for call in calls:
            assert call[call.index("--domain") + 1] == name and call[call.index("--interface") + 1] == name + "-mac", call


def test_the_subnets_fix_keeps_an_interfaces_name_whole(tmp_path):
    """HOST-08's fix, which PATH-01/02 give too when a reply to a guest would leave by another
    interface: bash runs it with an ip stand-in, each interface's name whole after dev."""
    from virtnat.facts.model import LinkFacts, RouteFacts
    from virtnat.path.routing import subnet_fix

    stand_ins = StandIns(tmp_path, "ip")
    for name in HOSTILE:
        links = {name: LinkFacts(name, 5, None, True, "UP", "", addresses=("192.168.122.9/24",))}
        routes = (RouteFacts("192.168.122.128/25", name + "-r"),)
        calls = stand_ins.run(subnet_fix(routes, links, "192.168.122.0/24", "virbr0"))
        assert [c[:3] for c in calls] == [["ip", "addr", "del"], ["ip", "route", "del"]], (name, calls)
        assert calls[0][calls[0].index("dev") + 1] == name and calls[1][calls[1].index("dev") + 1] == name + "-r", calls


def test_a_sysctl_files_name_is_one_word_of_host06s_fix(tmp_path):
    """HOST-06's fix edits the file that persists another value: bash runs it with stand-ins for
    sed and sysctl, the file's name whole and last."""
    from virtnat.facts.model import SystemFacts

    from .checkrun import load_checks

    forwarding = load_checks("host/test_forwarding.py")
    stand_ins = StandIns(tmp_path, "sed", "sysctl")
    for name in HOSTILE:
        path = f"/etc/sysctl.d/{name}.conf"
        system = SystemFacts({}, {"net.ipv4.ip_forward": "0"}, {"net.ipv4.ip_forward": path}, True, (), {}, None, {}, None)
        fixes = []
        with pytest.raises(AssertionError):
            forwarding.test_ipv4_forwarding_is_persisted(system, fixes.append)
        sed, sysctl = stand_ins.run(fixes[0])
        assert sed[:2] == ["sed", "-i"] and sed[-1] == path and sysctl == ["sysctl", "--system"], (name, sed)
