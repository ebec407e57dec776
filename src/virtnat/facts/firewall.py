"""FirewallFacts (pure): every table the kernel runs, parsed once into the ruleset Tables the
packet path walks, and what NET-11/12/14 judge, read from those same Tables: where libvirt's
rules are, what they masquerade, the accepting rules they give each bridge, firewalld's zones."""
from __future__ import annotations

from collections.abc import Iterator

from .model import FirewallFacts
from .ruleset import Chain, Rule, Table
from .ruleset_iptables import tables_from_iptables_save, variant
from .ruleset_nft import load_ruleset, tables_from_nft

LIBVIRT_TABLE = ("ip", "libvirt_network")  # libvirt 10+ with firewall_backend = "nftables"
FIREWALLD_TABLE = ("inet", "firewalld")
# firewalld dispatches input by zone: with iptables in INPUT_ZONES (`-i X -g IN_zone`); with
# nftables, 1.x in filter_INPUT_ZONES (`goto filter_IN_zone`), 2.x in filter_INPUT_POLICIES
# (`jump filter_IN_zone`, beside its policies' filter_IN_policy_* chains).
ZONE_CHAINS = {"iptables": ("INPUT_ZONES",), "nftables": ("filter_INPUT_ZONES", "filter_INPUT_POLICIES")}
ZONE_PREFIX = {"iptables": "IN_", "nftables": "filter_IN_"}


def all_tables(iptables_save: str | None, ruleset: list[dict], legacy_save: str | None) -> tuple[Table, ...]:
    """Every table the kernel runs, once: nftables' own, iptables-nft's (read through
    iptables-save, which shows the matches nft prints as opaque `xt`), iptables-legacy's."""
    tables: list[Table] = []
    skip: set[tuple[str, str]] = set()
    if iptables_save:
        ipt = tables_from_iptables_save(iptables_save)
        tables.extend(ipt)
        if variant(iptables_save) == "iptables-nft":
            skip = {("ip", t.name) for t in ipt}
        else:
            legacy_save = None  # `iptables-save` is the legacy one here: the same tables again
    tables.extend(tables_from_nft(ruleset, skip))
    if legacy_save:
        tables.extend(tables_from_iptables_save(legacy_save, "iptables-legacy"))
    return tuple(tables)


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


def _libvirts(table: Table) -> bool:
    """A table libvirt may have put its rules in: its own nftables table, or iptables' filter and nat."""
    if table.source == "nftables":
        return (table.family, table.name) == LIBVIRT_TABLE
    return table.name in ("filter", "nat")


def hooked_rules(table: Table) -> Iterator[tuple[Chain, Chain, Rule]]:
    """(base chain, chain, rule) for each rule a base chain reaches through jumps and gotos."""
    def jumps(name):
        chain = table.chains.get(name)
        if chain is None:
            return None
        return [r.verdict.target for r in chain.rules if r.verdict.kind in ("jump", "goto") and r.verdict.target in table.chains]

    for base in table.chains.values():
        if base.hook:
            for name in reachable(base.name, jumps):
                yield from ((base, table.chains[name], rule) for rule in table.chains[name].rules)


def value(rule: Rule, field: str) -> str | None:
    """What the rule requires of field: the one value of its first plain (not negated) match."""
    found = next((m for m in rule.matches if m.field == field and not m.negate), None)
    return str(found.values[0]) if found is not None and len(found.values) == 1 else None


def _role(hook: str, rule: Rule) -> tuple[str, str] | None:
    """(bridge, role) of one of the accepting rules libvirt installs for a bridge, else None."""
    iif, oif = value(rule, "iif"), value(rule, "oif")
    if hook == "input" and iif:
        return iif, "input"
    if hook == "output" and oif:
        return oif, "output"
    if hook == "forward" and iif and value(rule, "saddr") and oif is None:
        return iif, "forward_out"
    if hook == "forward" and oif and value(rule, "daddr") and iif is None:
        return oif, "forward_in"
    return None


def _masquerades(rule: Rule) -> str | None:
    """The source a masquerade rule rewrites when it leaves its own subnet (or goes anywhere)."""
    source = value(rule, "saddr")
    daddr = next((m for m in rule.matches if m.field == "daddr"), None)
    leaves = daddr is None or (daddr.negate and daddr.values == (source,))
    return source if rule.verdict.kind == "masquerade" and leaves else None


def libvirt_rules(tables: tuple[Table, ...]) -> tuple[str | None, frozenset[str], dict[str, frozenset[str]]]:
    """(backend, masqueraded sources, bridge -> roles) of the rules libvirt installs."""
    backend = "nftables" if any((t.family, t.name) == LIBVIRT_TABLE and t.source == "nftables" for t in tables) else None
    masquerade: set[str] = set()
    roles: dict[str, set[str]] = {}
    for table in filter(_libvirts, tables):
        for base, chain, rule in hooked_rules(table):
            backend = backend or ("iptables" if chain.name.startswith("LIBVIRT_") else None)
            if base.hook == "postrouting" and (source := _masquerades(rule)):
                masquerade.add(source)
            elif base.type == "filter" and rule.verdict.kind == "accept" and (role := _role(base.hook, rule)):
                roles.setdefault(role[0], set()).add(role[1])
    return backend, frozenset(masquerade), {bridge: frozenset(found) for bridge, found in roles.items()}


def _zone_dispatch(table: Table) -> str | None:
    """Which of firewalld's backends wrote this table ("nftables", "iptables"), or None."""
    if table.source == "nftables":
        return "nftables" if (table.family, table.name) == FIREWALLD_TABLE else None
    return "iptables" if table.name == "filter" else None


def firewalld_zones(tables: tuple[Table, ...]) -> dict[str, str]:
    """Interface -> zone, from the rules by which firewalld dispatches input to its zones: the
    first rule for an interface wins, its nftables table's before its iptables ones'."""
    zones: dict[str, str] = {}
    for table in sorted(tables, key=lambda t: t.source != "nftables"):
        kind = _zone_dispatch(table)
        for name in ZONE_CHAINS[kind] if kind else ():
            for rule in table.chains[name].rules if name in table.chains else ():
                iif, target = value(rule, "iif"), rule.verdict.target or ""
                if iif and target.startswith(ZONE_PREFIX[kind]) and not target.startswith("filter_IN_policy_"):
                    zones.setdefault(iif, target[len(ZONE_PREFIX[kind]):])
    return zones


def firewall_facts(iptables_save: str | None, nft_json: str | None, problems: tuple[str, ...] = (),
                   legacy_save: str | None = None) -> FirewallFacts:
    """FirewallFacts from whichever rulesets could be read (None: not available)."""
    tables = all_tables(iptables_save, load_ruleset(nft_json), legacy_save)
    backend, masquerade, roles = libvirt_rules(tables)
    return FirewallFacts(backend=backend, masquerade_sources=masquerade, bridge_rules=roles,
                         zones=firewalld_zones(tables), problems=problems, tables=tables)
