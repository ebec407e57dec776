"""Pure parser: `iptables-save` (nf_tables or legacy) into ruleset Tables, every match kept."""
from __future__ import annotations

import shlex

from ..errors import FactError
from .ruleset import IPTABLES_PRIORITY, NAT_SRC_PRIORITY, Chain, Match, Rule, Table, Verdict

HOOKS = {"PREROUTING": "prerouting", "INPUT": "input", "FORWARD": "forward", "OUTPUT": "output", "POSTROUTING": "postrouting"}
TERMINAL = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject", "RETURN": "return", "MASQUERADE": "masquerade",
            "SNAT": "snat", "DNAT": "dnat", "REDIRECT": "redirect"}
# Targets that act on the packet and let it go on to the next rule.
NON_TERMINAL = {"LOG", "NFLOG", "ULOG", "CHECKSUM", "MARK", "CONNMARK", "TCPMSS", "CT", "NOTRACK", "TRACE",
                "CLASSIFY", "DSCP", "TOS", "TTL", "SET", "AUDIT", "CONNSECMARK", "SECMARK", "IDLETIMER"}
CORE = {"-s": "saddr", "--source": "saddr", "-d": "daddr", "--destination": "daddr", "-i": "iif",
        "--in-interface": "iif", "-o": "oif", "--out-interface": "oif", "-p": "l4proto", "--protocol": "l4proto"}
# Options of match modules the model understands: option -> field.
MODULE_OPTIONS = {
    "tcp": {"--dport": "dport", "--destination-port": "dport", "--sport": "sport", "--source-port": "sport"},
    "udp": {"--dport": "dport", "--destination-port": "dport", "--sport": "sport", "--source-port": "sport"},
    "multiport": {"--dports": "dport", "--destination-ports": "dport", "--sports": "sport", "--source-ports": "sport",
                  "--ports": "port"},
    "conntrack": {"--ctstate": "ct_state", "--ctstatus": "ct_status"},
    "state": {"--state": "ct_state"},
    "addrtype": {"--dst-type": "daddr_type", "--src-type": "saddr_type"},
    "pkttype": {"--pkt-type": "pkttype"},
    "icmp": {"--icmp-type": "icmp_type"},
    "comment": {"--comment": None},  # says nothing about the packet
}
PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "all": None, "0": None}
# iptables-save writes an icmp type as its number (ufw's before.rules: `--icmp-type 8`), nft and
# the packets by name; a type with its code (8/0) is the type here (the packets carry no code).
ICMP_TYPES = {"0": "echo-reply", "3": "destination-unreachable", "4": "source-quench", "5": "redirect",
              "8": "echo-request", "9": "router-advertisement", "10": "router-solicitation", "11": "time-exceeded",
              "12": "parameter-problem", "13": "timestamp-request", "14": "timestamp-reply"}


def parse_tables(text: str) -> dict[str, dict[str, list[list[str]]]]:
    """table -> chain -> list of rules, each the tokens after `-A CHAIN`."""
    tables: dict[str, dict[str, list[list[str]]]] = {}
    chains: dict[str, list[list[str]]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            if line.startswith("*"):
                chains = tables.setdefault(line[1:].strip(), {})
            elif line.startswith(":"):
                chains.setdefault(line[1:].split()[0], [])
            elif line.startswith("-A "):
                tokens = shlex.split(line)
                chains.setdefault(tokens[1], []).append(tokens[2:])
        except (IndexError, ValueError):
            raise FactError(f"iptables-save line {number} is not iptables-save's: {line[:80]!r}") from None
    return tables


def variant(text: str) -> str:
    """Which iptables wrote this output: "iptables-nft" or "iptables-legacy"."""
    return "iptables-nft" if "(nf_tables)" in text else "iptables-legacy"


def _ports(value: str) -> tuple:
    out = []
    for part in value.split(","):
        lo, _, hi = part.partition(":")
        out.append((int(lo or 0), int(hi or 65535)) if _ else int(lo))
    return tuple(out)


def _values(field: str, value: str) -> tuple:
    if field in ("dport", "sport"):
        try:
            return _ports(value)
        except ValueError:
            return (value,)
    if field in ("ct_state", "ct_status", "daddr_type", "saddr_type", "pkttype"):
        return tuple(v.lower() for v in value.split(","))
    if field == "l4proto":
        return (PROTOCOLS.get(value.lower(), value.lower()),)
    if field in ("saddr", "daddr"):
        return tuple(value.split(","))
    if field == "icmp_type":
        return (None,) if value == "any" else (ICMP_TYPES.get(value.split("/")[0], value),)
    return (value,)


def _is_value(tokens: list[str], i: int) -> bool:
    return i < len(tokens) and tokens[i] != "!" and not (tokens[i].startswith("-") and len(tokens[i]) > 1 and not tokens[i][1].isdigit())


def _matches(tokens: list[str]) -> list[Match]:
    """Conditions of a rule from its tokens before -j/-g."""
    matches: list[Match] = []
    module, negate, i = None, False, 0
    unknown: list[str] = []  # tokens of a module the model does not know

    def flush():
        if unknown:
            matches.append(Match("unknown", text=" ".join(unknown)))
            unknown.clear()

    while i < len(tokens):
        tok = tokens[i]
        if tok == "!":
            negate, i = True, i + 1
            continue
        if tok == "-m":
            flush()
            module, i = tokens[i + 1], i + 2
            if module not in MODULE_OPTIONS:
                unknown.extend(["-m", module])
            continue
        has_value = _is_value(tokens, i + 1)
        value = tokens[i + 1] if has_value else None
        step = 2 if has_value else 1
        text = " ".join((["!"] if negate else []) + tokens[i:i + step])
        if tok in CORE:
            flush()
            module = None if tok not in ("-p", "--protocol") else module
            field = CORE[tok]
            values = _values(field, value or "")
            if values != (None,):  # -p all: any protocol, no condition
                matches.append(Match(field, values, negate, text))
        elif module in MODULE_OPTIONS and tok in MODULE_OPTIONS[module]:
            field = MODULE_OPTIONS[module][tok]
            if field == "port":  # multiport --ports: either direction
                matches.append(Match("unknown", text=text))
            elif field:
                values = _values(field, value or "")
                if values == (None,):  # --icmp-type any: every icmp packet, no condition
                    negate, i = False, i + step
                    continue
                status = tuple(v for v in values if v in ("snat", "dnat"))
                if field == "ct_state" and status:  # conntrack's virtual SNAT/DNAT states are statuses
                    values = tuple(v for v in values if v not in status)
                    matches.append(Match("ct_status", status, negate, text))
                if values:
                    matches.append(Match(field, values, negate, text))
        elif module in MODULE_OPTIONS or module is None:
            matches.append(Match("unknown", text=text))  # a known module's option the model does not read
        else:
            unknown.extend(tokens[i:i + step] if not negate else ["!", *tokens[i:i + step]])
        negate, i = False, i + step
    flush()
    return matches


def _verdict(goto: bool, target: str, chains: dict) -> Verdict:
    if target in chains:
        return Verdict("goto" if goto else "jump", target)
    if target in TERMINAL:
        return Verdict(TERMINAL[target])
    if target in NON_TERMINAL:
        return Verdict("continue", target)
    return Verdict("unknown", target)


def _rule(tokens: list[str], position: int, chain: str, chains: dict) -> Rule:
    verdict, cut = Verdict("continue"), len(tokens)
    for i, tok in enumerate(tokens):
        if tok in ("-j", "--jump", "-g", "--goto") and i + 1 < len(tokens):
            verdict, cut = _verdict(tok in ("-g", "--goto"), tokens[i + 1], chains), i
            break
    text = shlex.join(["-A", chain, *tokens])
    return Rule(position=position, matches=tuple(_matches(tokens[:cut])), verdict=verdict, text=text,
                sets_mark=verdict.target in ("MARK", "CONNMARK"))


def _policies(text: str) -> dict[tuple[str, str], str]:
    policies, table = {}, None
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":") and table:
            parts = line[1:].split()
            if len(parts) > 1 and parts[1] != "-":
                policies[(table, parts[0])] = parts[1].lower()
    return policies


def tables_from_iptables_save(text: str, source: str | None = None) -> list[Table]:
    """Each table of the output, its builtin chains as base chains with the kernel's priorities."""
    source = source or variant(text)
    policies = _policies(text)
    tables = []
    for name, raw in parse_tables(text).items():
        chains = {}
        for chain, rules in raw.items():
            hook = HOOKS.get(chain)
            priority = IPTABLES_PRIORITY.get(name, 0)
            if name == "nat" and hook in ("postrouting", "input"):
                priority = NAT_SRC_PRIORITY
            kind = "nat" if name == "nat" else ("route" if name == "mangle" and hook == "output" else "filter")
            chains[chain] = Chain(
                name=chain,
                rules=tuple(_rule(tokens, i, chain, raw) for i, tokens in enumerate(rules, start=1)),
                hook=hook,
                type=kind if hook else None,
                priority=priority,
                policy=policies.get((name, chain), "accept"),
            )
        tables.append(Table(family="ip", name=name, source=source, chains=chains))
    return tables
