"""Every firewall table of a host in one shape, whatever wrote it: nftables, iptables-nft or
iptables-legacy. The packet-path model (virtnat.path) walks these; parsers fill them."""
from __future__ import annotations

from dataclasses import dataclass, field

# What a rule can match on that the model knows. Anything else is Match("unknown", ...).
FIELDS = ("iif", "oif", "saddr", "daddr", "l4proto", "sport", "dport", "ct_state", "ct_status",
          "pkttype", "nfproto", "daddr_type", "saddr_type", "icmp_type")

# iptables' tables: the base chain priorities the kernel gives them (iptables-nft uses the same).
IPTABLES_PRIORITY = {"raw": -300, "mangle": -150, "nat": -100, "filter": 0, "security": 50}
NAT_SRC_PRIORITY = 100  # nat POSTROUTING and INPUT (srcnat)


@dataclass(frozen=True)
class Match:
    """One condition of a rule: field is one of FIELDS, or "unknown" (text says what)."""

    field: str
    values: tuple = ()  # any of these; addresses as CIDR strings, ports as ints or (lo, hi)
    negate: bool = False
    text: str = ""  # as the ruleset wrote it, for messages


@dataclass(frozen=True)
class Verdict:
    """What a matching rule does. kind: accept, drop, reject, return, jump, goto, continue,
    masquerade, snat, dnat, redirect, vmap (target picked by a map on field), unknown."""

    kind: str
    target: str | None = None  # chain of jump/goto; what an unknown verdict was
    field: str | None = None  # vmap: the packet field the map is keyed on
    mapping: tuple = ()  # vmap: ((key, Verdict), ...)

    @property
    def terminal(self) -> bool:
        return self.kind in ("accept", "drop", "reject", "masquerade", "snat", "dnat", "redirect")


@dataclass(frozen=True)
class Rule:
    position: int  # 1-based place in its chain (iptables' rule number)
    matches: tuple[Match, ...]
    verdict: Verdict
    text: str  # the rule as its tool prints it
    handle: int | None = None  # nftables handle
    sets_mark: bool = False  # it sets the packet's or the connection's mark (MARK, CONNMARK, meta/ct mark set)

    @property
    def ref(self) -> str:
        where = f"handle {self.handle}" if self.handle is not None else f"rule {self.position}"
        return f"{where} ({self.text})"


@dataclass(frozen=True)
class Chain:
    name: str
    rules: tuple[Rule, ...] = ()
    hook: str | None = None  # prerouting, input, forward, output, postrouting; None: a regular chain
    type: str | None = None  # filter, nat, route
    priority: int = 0
    policy: str = "accept"  # of a base chain


@dataclass(frozen=True)
class Table:
    family: str  # ip, ip6, inet, arp, bridge, netdev
    name: str
    source: str  # "nftables", "iptables-nft", "iptables-legacy"
    chains: dict[str, Chain] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.source == "nftables":
            return f"table {self.family} {self.name}"
        return f"{self.source} table {self.name}"

    def base_chains(self, hook: str) -> list[Chain]:
        return [c for c in self.chains.values() if c.hook == hook]

    @property
    def rule_count(self) -> int:
        return sum(len(c.rules) for c in self.chains.values())
