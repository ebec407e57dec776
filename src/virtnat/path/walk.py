"""Walk a packet through every table on a hook, the way netfilter does (pure).

Every base chain registered on the hook runs, in priority order, whatever table it is in:
an accept ends only its own base chain, a drop anywhere ends the packet. Jumps and gotos are
followed, returns and policies honoured. A rule that matches on something the model does not
know is taken as not matching, and the walk says so."""
from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field

from ..facts.ruleset import Chain, Match, Rule, Table, Verdict
from .packets import Packet

FAMILIES = ("ip", "inet")  # the tables an IPv4 packet meets on the routing hooks
NAT_KINDS = ("masquerade", "snat", "dnat", "redirect")
DROPS = ("drop", "reject")
MAX_DEPTH = 64


@dataclass(frozen=True)
class Step:
    """One rule that matched (or may have), where it is, and what it did."""

    table: Table
    chain: str
    rule: Rule | None  # None: the base chain's policy
    action: str  # accept, drop, jump X, return, policy accept...
    assumed: str | None = None  # set when the rule matches on what the model does not know

    def line(self) -> str:
        where = f"{self.table.label} chain {self.chain}"
        if self.rule is None:
            return f"{where}: {self.action}"
        if self.assumed:
            return f"{where}: {self.rule.ref}: {self.assumed}"
        return f"{where}: {self.rule.ref} -> {self.action}"

    @property
    def decides(self) -> bool:
        """True when this step's own action settles the packet's fate in its base chain."""
        kind = self.action.split()[0]
        return not self.assumed and (kind not in ("jump", "goto", "return", "policy", "continue")
                                     or (kind == "policy" and self.action != "policy accept"))


@dataclass
class ChainVerdict:
    """What one base chain decided for the packet."""

    table: Table
    chain: Chain
    kind: str  # accept, drop, reject, or a NAT kind
    rule: Rule | None  # the deciding rule; None: the policy
    rule_chain: str  # the chain the deciding rule is in
    steps: list[Step] = field(default_factory=list)

    @property
    def where(self) -> str:
        if self.rule is None:
            return f"{self.table.label} chain {self.chain.name}: policy {self.chain.policy}"
        return f"{self.table.label} chain {self.rule_chain}: {self.rule.ref}"


@dataclass
class HookVerdict:
    hook: str
    chains: list[ChainVerdict]
    dropped_by: ChainVerdict | None = None
    nat: ChainVerdict | None = None  # the nat chain that bound the connection's NAT
    unmodelled: list[str] = field(default_factory=list)  # tables on the hook the model does not walk


def _addr_in(addr: str, net: str) -> bool:
    try:
        return ipaddress.ip_address(addr) in ipaddress.ip_network(net, strict=False)
    except ValueError:
        return False


# Each trip asks again, and a fleet's hosts share their addresses and rules: parsing them every
# time was a few percent of a fleet audit (profiled at 200 hosts). (Wrapped here, not decorated:
# mutmut mutates it.)
_addr_in_cached = functools.lru_cache(maxsize=1 << 14)(_addr_in)


def _in_net(addr: str | None, value) -> bool:
    return addr is not None and _addr_in_cached(addr, str(value))


def _iface(name: str | None, value) -> bool:
    value = str(value)
    if name is None:
        return False
    return name.startswith(value[:-1]) if value.endswith("+") else name == value


def _port(port: int | None, value) -> bool:
    if port is None:
        return False
    if isinstance(value, (tuple, list)):
        return value[0] <= port <= value[1]
    try:
        return port == int(value)
    except (TypeError, ValueError):
        return False


def match_one(match: Match, packet: Packet) -> bool | None:
    """True or False, or None when the model cannot tell (a field it does not know, "unknown" too)."""
    name = match.field
    actual = packet.field(name)
    if name in ("iif", "oif"):
        hit = any(_iface(actual, v) for v in match.values)
    elif name in ("saddr", "daddr"):
        hit = any(_in_net(actual, v) for v in match.values)
    elif name in ("sport", "dport"):
        hit = any(_port(actual, v) for v in match.values)
    elif name == "ct_status":
        hit = any(v in actual for v in match.values)
    elif name in ("l4proto", "ct_state", "pkttype", "daddr_type", "saddr_type", "icmp_type", "nfproto", "ethertype"):
        hit = actual is not None and str(actual) in {str(v) for v in match.values}
    else:
        return None
    return hit != match.negate


def rule_matches(rule: Rule, packet: Packet) -> bool | None:
    hits = {match_one(match, packet) for match in rule.matches}
    if False in hits:
        return False
    return None if None in hits else True


def _vmap(verdict: Verdict, packet: Packet) -> Verdict | None:
    for key, target in verdict.mapping:
        if match_one(Match(verdict.field, (key,)), packet):
            return target
    return None


class _Run:
    """One base chain's walk: the trail of matching rules, and the decision."""

    def __init__(self, table: Table, packet: Packet):
        self.table, self.packet, self.steps = table, packet, []

    def chain(self, name: str, depth: int = 0) -> tuple[str, Rule | None, str]:
        """(kind, deciding rule, its chain); kind "return" when the chain ran out or returned."""
        chain = self.table.chains.get(name)
        if chain is None or depth > MAX_DEPTH:
            return "return", None, name
        for rule in chain.rules:
            hit = rule_matches(rule, self.packet)
            if hit is False:
                continue
            verdict = rule.verdict
            if verdict.kind == "vmap":
                verdict = _vmap(verdict, self.packet) or Verdict("continue")
            if hit is None:
                if verdict.kind != "continue":
                    unknown = "; ".join(m.text for m in rule.matches if m.field == "unknown")
                    self.steps.append(Step(self.table, name, rule, verdict.kind,
                                           f"matches on {unknown}, which the model does not know: taken as not matching"))
                continue
            if verdict.kind == "continue":
                continue
            if verdict.kind == "unknown":
                self.steps.append(Step(self.table, name, rule, "continue",
                                       f"its action {verdict.target} is not modelled: taken as going on"))
                continue
            self.steps.append(Step(self.table, name, rule, f"{verdict.kind} {verdict.target}" if verdict.target else verdict.kind))
            if verdict.kind == "jump":
                kind, decider, where = self.chain(verdict.target, depth + 1)
                if kind != "return":
                    return kind, decider, where
                continue
            if verdict.kind == "goto":
                return self.chain(verdict.target, depth + 1)
            return verdict.kind, rule, name
        return "return", None, name


def walk_chain(table: Table, chain: Chain, packet: Packet) -> ChainVerdict:
    run = _Run(table, packet)
    kind, rule, where = run.chain(chain.name)
    if kind == "return":
        kind, rule, where = chain.policy, None, chain.name
        run.steps.append(Step(table, chain.name, None, f"policy {chain.policy}"))
    return ChainVerdict(table, chain, kind, rule, where, run.steps)


def base_chains(tables: tuple[Table, ...], hook: str) -> list[tuple[Table, Chain]]:
    found = [(t, c) for t in tables if t.family in FAMILIES for c in t.base_chains(hook)]
    return sorted(found, key=lambda tc: tc[1].priority)


def walk_hook(tables: tuple[Table, ...], hook: str, packet: Packet) -> HookVerdict:
    seen = packet.at(hook)
    result = HookVerdict(hook, [])
    for table in tables:
        if table.family in ("bridge", "netdev") and table.base_chains(hook) and table.rule_count:
            result.unmodelled.append(f"{table.label} ({table.family} family, not modelled)")
    for table, chain in base_chains(tables, hook):
        if chain.type == "nat" and (seen.ct_state != "new" or result.nat):
            continue  # NAT chains see a connection's first packet, until one binds its NAT on this hook
        verdict = walk_chain(table, chain, seen)
        result.chains.append(verdict)
        if verdict.kind in DROPS:
            result.dropped_by = verdict
            return result
        if verdict.kind in NAT_KINDS:
            result.nat = verdict
    return result
