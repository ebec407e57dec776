"""Who keeps a host's firewall rules past a boot, from the probe's firewall-files section (pure):
systemd, the units that load rules at boot (nftables.service, netfilter-persistent, Docker's), the
tables netfilter-persistent's rules.v4 holds, nftables.service's configuration and its includes,
and the tables and chains those files define."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

RULES_V4 = "/etc/iptables/rules.v4"
NFT_CONFS = ("/etc/nftables.conf", "/etc/sysconfig/nftables.conf")  # Debian and Arch's, Fedora and RHEL's
FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")


@dataclass(frozen=True)
class FirewallFiles:
    systemd: bool  # PID 1 is systemd
    units: dict[str, str]  # unit -> `systemctl is-enabled` ("enabled", "disabled", "" when not installed)
    rules_v4: tuple[str, ...] | None  # the tables rules.v4 holds, each with its COMMIT; None: no such file
    nft_files: dict[str, str] = field(default_factory=dict)  # path -> text, as read (first 64 KiB each)
    problems: tuple[str, ...] = ()  # what could not be read: a file, a name not printed, the limit

    def enabled(self, unit: str) -> bool:
        return self.units.get(unit) == "enabled"

    def nft_conf(self) -> str | None:
        """The configuration file nftables.service loads that is there, if any."""
        return next((path for path in NFT_CONFS if path in self.nft_files), None)

    def nft_defines(self, family: str, table: str, chain: str) -> bool:
        """Whether nftables.service's configuration (with its includes) defines that chain of that table."""
        return any((family, table, chain) in defined_chains(text) for text in self.nft_files.values())


def parse_firewall_files(text: str) -> FirewallFiles:
    systemd, units, files, problems = False, {}, {}, []
    rules_v4: list[str] | None = None
    body: list[str] | None = None  # the framed lines of the file being read
    for line in text.splitlines():
        if body is not None and line.startswith("|"):
            body.append(line[1:])
            continue
        body = None
        word, _, rest = line.partition(" ")
        if word == "systemd":
            systemd = rest == "running"
        elif word == "unit" and rest:
            unit, _, state = rest.partition(" ")
            units[unit] = state
        elif word == "@@tables":  # the one file it reads: RULES_V4
            rules_v4 = body = []
        elif word == "@@file" and rest:
            body = []
            files.setdefault(rest, body)
        elif word == "@@unreadable":
            problems.append(f"{rest} could not be read")
        elif word == "@@unsafe-name":
            problems.append("a file nftables.service's configuration includes has a name the probe does not print")
        elif word == "@@too-many":
            problems.append("nftables.service's configuration includes more files than the probe reads")
    return FirewallFiles(systemd, units, None if rules_v4 is None else _committed(rules_v4),
                         {path: "\n".join(lines) for path, lines in files.items()}, tuple(dict.fromkeys(problems)))


def _committed(lines: list[str]) -> tuple[str, ...]:
    """The tables of an iptables-restore file that end with their COMMIT."""
    done, table = [], ""
    for line in lines:
        line = line.strip()
        if line.startswith("*"):
            table = line[1:]
        elif line == "COMMIT" and table:
            done.append(table)
            table = ""
    return tuple(dict.fromkeys(done))


_ENDS = (";", "{", "}")
_TOKEN = re.compile(r'"[^"\n]*"|[{};]|[^\s{};"]+')
_CODE = re.compile(r'(?:[^"#]+|"[^"]*"?)*')  # a line up to its comment: a '#' outside quotes


def _tokens(text: str) -> list[str]:
    """nft's words, comments out, a line's end as ';' (nft ends a statement at either) unless a
    backslash ends the line, which continues it (nft(8)); the words end with ';'."""
    words = []
    for line in text.splitlines():
        code = _CODE.match(line).group()
        continued = code == line and line.endswith("\\")
        for token in _TOKEN.findall(code[:-1] if continued else code):
            words.append(token[1:-1] if token.startswith('"') else token)
        if not continued:
            words.append(";")
    return [*words, ";"]


def defined_chains(text: str) -> set[tuple[str, str, str]]:
    """(family, table, chain) of every chain an nft file defines: in a `table F T { chain C {...} }`
    block, or by `add chain F T C` / `create chain F T C` / `chain F T C`. A name made of a
    variable ($x) is not known and defines nothing here."""
    words, found = _tokens(text), set()
    depth, table = 0, None
    for i, word in enumerate(words):
        if word == "{":
            depth += 1
        elif word == "}":
            depth -= 1
            if depth < 1:
                table = None
        # a statement's first word; before the first, words[-1] is the words' last ';'
        elif words[i - 1] in _ENDS or (words[i - 1] in ("add", "create") and words[i - 2] in _ENDS):
            if depth == 0 and word == "table":
                family, name, after = _family_name(words, i + 1)
                if _named(name) and words[after] == "{":
                    table = (family, name)
            elif depth == 0 and word == "chain":
                family, name, after = _family_name(words, i + 1)
                if _named(name) and _named(words[after]):
                    found.add((family, name, words[after]))
            elif depth == 1 and table and word == "chain" and _named(words[i + 1]):
                found.add((*table, words[i + 1]))
    return found


def _named(word: str) -> bool:
    """Whether a word is a name, not a statement's end nor a variable."""
    return word not in _ENDS and not word.startswith("$")


def _family_name(words: list[str], i: int) -> tuple[str, str, int]:
    """A table's family (ip when left out) and the word of its name from words[i:], and where its
    words end (the words end with ';', so none of these runs past them)."""
    family = "ip"
    if words[i] in FAMILIES and words[i + 1] not in _ENDS:
        family, i = words[i], i + 1
    return family, words[i], i + 1
