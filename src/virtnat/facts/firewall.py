"""Combine the iptables and nftables views into FirewallFacts (pure)."""
from __future__ import annotations

from . import iptables, nft
from .iptables import Rule
from .model import FirewallFacts
from .ruleset import Table
from .ruleset_iptables import tables_from_iptables_save, variant
from .ruleset_nft import tables_from_nft

ACCEPTING = ("ACCEPT",)


def _roles(rules: list[Rule]) -> dict[str, frozenset[str]]:
    """bridge -> the kinds of accepting rules libvirt installs for it."""
    roles: dict[str, set[str]] = {}
    for r in rules:
        if r.table != "filter" or r.verdict not in ACCEPTING:
            continue
        if r.hook == "INPUT" and r.iif:
            roles.setdefault(r.iif, set()).add("input")
        elif r.hook == "OUTPUT" and r.oif:
            roles.setdefault(r.oif, set()).add("output")
        elif r.hook == "FORWARD" and r.iif and r.saddr and r.oif is None:
            roles.setdefault(r.iif, set()).add("forward_out")
        elif r.hook == "FORWARD" and r.oif and r.daddr and r.iif is None:
            roles.setdefault(r.oif, set()).add("forward_in")
    return {bridge: frozenset(found) for bridge, found in roles.items()}


def _masquerade(rules: list[Rule]) -> frozenset[str]:
    return frozenset(
        r.saddr
        for r in rules
        if r.hook == "POSTROUTING" and r.verdict == "MASQUERADE" and r.saddr
        and (r.daddr is None or (r.daddr_negated and r.daddr == r.saddr))
    )


def _libvirt_touched(rules: list[Rule]) -> bool:
    return any(r.chain.startswith("LIBVIRT_") for r in rules)


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


def firewall_facts(iptables_save: str | None, nft_json: str | None, problems: tuple[str, ...] = (),
                   legacy_save: str | None = None) -> FirewallFacts:
    """FirewallFacts from whichever rulesets could be read (None: not available)."""
    ipt_rules = iptables.rules_from_iptables_save(iptables_save) if iptables_save else []
    ruleset = nft.load_ruleset(nft_json)
    nft_rules = nft.libvirt_rules(ruleset)
    backend = None
    if nft.LIBVIRT_TABLE in nft.tables(ruleset):
        backend = "nftables"
    elif _libvirt_touched(ipt_rules):
        backend = "iptables"
    rules = ipt_rules + nft_rules
    zones = iptables.firewalld_zones_iptables(iptables_save) if iptables_save else {}
    zones.update(nft.firewalld_zones(ruleset))
    return FirewallFacts(
        backend=backend,
        masquerade_sources=_masquerade(rules),
        bridge_rules=_roles(rules),
        zones=zones,
        problems=problems,
        tables=all_tables(iptables_save, ruleset, legacy_save),
    )
