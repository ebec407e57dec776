"""Pure parser for `iptables-save` output, reduced to the rules that matter for libvirt NAT."""
from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..errors import FactError

# Where a packet enters the filter/nat tables, and the role an ACCEPT there plays.
BUILTIN = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")


@dataclass(frozen=True)
class Rule:
    """One rule, in iptables or nftables, in the terms checks need."""

    table: str
    hook: str  # the builtin chain / base-chain hook it is reachable from
    chain: str
    iif: str | None = None
    oif: str | None = None
    saddr: str | None = None
    daddr: str | None = None
    daddr_negated: bool = False
    verdict: str | None = None  # ACCEPT, MASQUERADE, REJECT, RETURN, a goto target...


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


def _option(tokens: list[str], *names: str) -> tuple[str | None, bool]:
    """Value of the first of names in tokens and whether a '!' precedes it."""
    for i, tok in enumerate(tokens):
        if tok in names and i + 1 < len(tokens):
            return tokens[i + 1], tokens[i - 1:i] == ["!"]
    return None, False


def reachable(start: str, jumps) -> list[str]:
    """Chains a packet can traverse from start; jumps(chain) lists a chain's jump targets,
    or None for a chain that does not exist."""
    seen, todo = [], [start]
    while todo:
        chain = todo.pop()
        targets = None if chain in seen else jumps(chain)
        if targets is None:
            continue
        seen.append(chain)
        todo.extend(targets)
    return seen


def _reachable(chains: dict[str, list[list[str]]], start: str) -> list[str]:
    """Chains reachable from builtin chain start through -j/-g jumps."""
    def jumps(chain):
        if chain not in chains:
            return None
        return [t for t in (_option(tokens, "-j", "-g")[0] for tokens in chains[chain]) if t in chains]

    return reachable(start, jumps)


def rules_from_iptables_save(text: str) -> list[Rule]:
    """Every rule in the filter and nat tables, labelled with the builtin chain it hangs off."""
    rules = []
    for table, chains in parse_tables(text).items():
        if table not in ("filter", "nat"):
            continue
        for hook in BUILTIN:
            for chain in _reachable(chains, hook):
                for tokens in chains[chain]:
                    daddr, negated = _option(tokens, "-d", "--destination")
                    rules.append(
                        Rule(
                            table=table,
                            hook=hook,
                            chain=chain,
                            iif=_option(tokens, "-i", "--in-interface")[0],
                            oif=_option(tokens, "-o", "--out-interface")[0],
                            saddr=_option(tokens, "-s", "--source")[0],
                            daddr=daddr,
                            daddr_negated=negated,
                            verdict=_option(tokens, "-j", "-g")[0],
                        )
                    )
    return rules


def firewalld_zones_iptables(text: str) -> dict[str, str]:
    """Interface -> zone from firewalld's iptables backend (`-A INPUT_ZONES -i X -g IN_zone`)."""
    zones = {}
    for tokens in parse_tables(text).get("filter", {}).get("INPUT_ZONES", []):
        iif, _ = _option(tokens, "-i")
        target, _ = _option(tokens, "-g", "-j")
        if iif and target and target.startswith("IN_"):
            zones.setdefault(iif, target[3:])
    return zones
