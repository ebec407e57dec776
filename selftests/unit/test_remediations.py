"""Every remediation runs as printed (issue 26, item 1): each control's marker, filled from the
profile (the stock one and a site's), and every fix a check gives on the recorded faults (the
packet-path recordings of every generation, and every one-fact fault of test_checks_one_fact) is
a command: no <placeholder>, no prose in parentheses or in place of a command, and bash parses it
(`bash -n`). Nothing here runs a fix: bash runs them with stand-ins in test_hostile_names."""
import functools
import re
import shlex
import subprocess

import pytest

from selftests.unit import checkrun
from selftests.unit.checkrun import CONTROLS, DATA, GENERATIONS, PROFILE
from selftests.unit.test_checks_one_fact import BACKENDS, FAULTS, healthy
from virtnat.errors import FactError
from virtnat.facts.model import GuestNic
from virtnat.plugin import fill_marker
from virtnat.profile import Profile

# The commands a fix may run: the tools that own the settings, and the shell's own words.
COMMANDS = {"virsh", "ip", "systemctl", "sysctl", "nft", "iptables", "iptables-legacy", "iptables-legacy-save",
            "firewall-cmd", "ufw", "apt-get", "dnf", "pacman", "mkdir", "printf", "echo", "kill", "command", "sed",
            "networkctl", "nmcli", "read", "[", ":", "ls", "cat"}
KEYWORDS = {"if", "then", "elif", "else", "fi", "while", "do", "done"}
ENDS = {"fi", "done"}  # after these a separator comes before the next command
SUBSTITUTION = re.compile(r"\$\([^()]*\)")  # $(...): a value, its own commands judged apart
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
SEPARATORS = {";", "&&", "||", "|"}
PLACEHOLDER = re.compile(r"<[A-Za-z][^<>]*>")
SITE = Profile(network="nat0", bridge="virbr7", gateway="10.7.0.1/16", dhcp_start="10.7.0.2", dhcp_end="10.7.255.254")
MARKERS = [(check_id, next(m for m in fn.pytestmark if m.name == "control").kwargs["remediation"]) for check_id, fn in CONTROLS]
NIC = GuestNic(guest="vm-1", mac="52:54:00:12:34:56", tap="vnet3", network="default", bridge=None)


def _unquoted(command: str) -> str:
    """The command with what its quotes hold taken out (the quotes stay, empty)."""
    out, quote = [], None
    for char in command:
        if quote:
            if char == quote:
                quote = None
                out.append(char)
        elif char in "'\"":
            quote = char
            out.append(char)
        else:
            out.append(char)
    return "".join(out)


def first_words(command: str) -> list[str]:
    """The command name of each simple command, as bash reads them (keywords and a leading
    assignment skipped), those of each $(...) too."""
    inner = [word for found in SUBSTITUTION.findall(_unquoted(command)) for word in first_words(found[2:-1])]
    lexer = shlex.shlex(SUBSTITUTION.sub("", command), posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    words, expect = [], True
    for token in lexer:
        if token in SEPARATORS:
            expect = True
        elif expect and token in KEYWORDS:
            expect = token not in ENDS
        elif expect and ASSIGNMENT.match(token):
            continue
        elif expect:
            words.append(token)
            expect = False
    return words + inner


def problems(command: str) -> list[str]:
    """What keeps command from running as printed; [] when nothing does."""
    return list(_problems(command))


@functools.lru_cache(maxsize=None)
def _problems(command: str) -> tuple[str, ...]:
    """problems(command), judged once per process: the same few fixes come back on most recorded
    faults, and each judgment runs bash."""
    found = []
    if not command.strip():
        return ("empty",)
    if PLACEHOLDER.search(command):
        found.append(f"a placeholder {PLACEHOLDER.search(command).group()}")
    if re.search(r"(?<!\$)\(", _unquoted(command)):
        found.append("prose in parentheses")
    unknown = [w for w in first_words(command) if w not in COMMANDS]
    if unknown:
        found.append(f"not a command: {unknown}")
    parsed = subprocess.run(["/bin/bash", "-n", "-c", command], capture_output=True, text=True, timeout=10, check=False)
    if parsed.returncode:
        found.append(f"bash -n: {parsed.stderr.strip()}")
    return tuple(found)


def test_the_judge_finds_what_the_issues_named():
    def kinds(command):
        return [p.split(":")[0] for p in problems(command)]
    assert kinds("ip route add default via <your gateway> dev <uplink>") == ["a placeholder <your gateway>", "bash -n"]
    assert kinds("virsh net-destroy default && virsh net-start default   (libvirt reinstalls its rules; check logs)") == [
        "prose in parentheses", "not a command", "bash -n"]
    assert problems("stop the other server, or make it listen elsewhere") == ["not a command: ['stop']"]
    assert kinds("apt-get install firewalld (or dnf/pacman); systemctl start firewalld") == ["prose in parentheses", "bash -n"]
    assert problems("kill $(cat /run/x.pid) && printf '(a) <b>' > /tmp/f") == ["a placeholder <b>"]  # quoted: still a placeholder
    assert problems("if command -v apt-get >/dev/null; then apt-get install x; else pacman -S x; fi && systemctl start x") == []
    assert problems("x=$(frobnicate /a || :); while read -r y; do [ -z \"$y\" ] || ip link set \"$y\" up; done") == [
        "not a command: ['frobnicate']"]  # an assignment, a loop and what $(...) runs


@pytest.mark.parametrize("profile", [PROFILE, SITE], ids=["stock", "site"])
@pytest.mark.parametrize("check_id, template", MARKERS, ids=[i for i, _ in MARKERS])
def test_every_marker_runs_as_printed(check_id, template, profile):
    assert problems(fill_marker(profile, template, NIC)) == []
    assert problems(fill_marker(profile, template, None)) == []  # a guest check with no guest named


def _remediations(text: str) -> dict[str, str]:
    """check label -> the remediation the report holds, for every check that failed or could not
    be carried out: its own fix, else its marker filled as the plugin fills it."""
    found, given = checkrun.outcomes(text), checkrun.findings(text)
    libvirt = checkrun.read_facts(text)[2]
    nics = {} if isinstance(libvirt, FactError) else {n.label: n for n in libvirt.guest_nics}
    markers = dict(MARKERS)
    printed = {}
    for label, (outcome, _) in found.items():
        if outcome not in ("failed", "error"):
            continue
        if "fix" in given.get(label, {}):
            printed[label] = given[label]["fix"]
            continue
        nic = nics.get(label.partition("[")[2].rstrip("]"))
        printed[label] = fill_marker(PROFILE, markers[label.split("[")[0]], nic)
    return printed


RECORDED = [(g, p.stem) for g in GENERATIONS for p in sorted((DATA / g).glob("*.txt"))]


@pytest.mark.parametrize("generation, name", RECORDED, ids=[f"{g}-{n}" for g, n in RECORDED])
def test_every_fix_on_the_recorded_faults_runs_as_printed(generation, name):
    printed = _remediations((DATA / generation / f"{name}.txt").read_text())
    assert {label: problems(command) for label, command in printed.items() if problems(command)} == {}


ONE_FACT = [(g, name) for g in BACKENDS for name in FAULTS]


@pytest.mark.parametrize("generation, name", ONE_FACT, ids=[f"{g}-{n}" for g, n in ONE_FACT])
def test_every_fix_on_the_one_fact_faults_runs_as_printed(generation, name):
    edit, _ = FAULTS[name]
    printed = _remediations(edit(healthy(generation), BACKENDS[generation]))
    assert {label: problems(command) for label, command in printed.items() if problems(command)} == {}


def test_forwarding_off_points_at_the_sysctl_not_a_firewall_rule():
    """Issue 26's wrong cause: with net.ipv4.ip_forward=0, PATH-03's fix is HOST-05's."""
    edit, _ = FAULTS["forwarding-off"]
    for generation in GENERATIONS:
        printed = _remediations(edit(healthy(generation), BACKENDS[generation]))
        assert printed["PATH-03"] == printed["HOST-05"] == "sysctl -w net.ipv4.ip_forward=1"
