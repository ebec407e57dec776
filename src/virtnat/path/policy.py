"""Policy routing (pure): the route the kernel gives a packet, through `ip rule` in priority order
and the table each rule names, as net/core/fib_rules.c and net/ipv4/fib_rules.c decide it."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..facts.model import DEFAULT_RULES, PolicyRule, RouteFacts
from .routing import describe, lookup

# What the kernel answers for a packet whose route is one of these: it is not routed.
REFUSING = ("blackhole", "unreachable", "prohibit")


@dataclass(frozen=True)
class Flow:
    """What a route lookup knows of a packet. iif None: the host's own packet (the kernel
    looks it up as coming in on lo). fwmark or uid None: not known to the model."""

    saddr: str
    daddr: str
    iif: str | None
    oif: str | None = None  # the host's own packet sent out of a chosen interface (DHCP's, by dnsmasq)
    l4proto: str | None = None
    sport: int | None = None
    dport: int | None = None
    fwmark: int | None = 0
    uid: int | None = 0  # forwarded packets are looked up as root's (uid 0)
    tos: int = 0


@dataclass(frozen=True)
class Decision:
    """The kernel's answer: the route taken (None: not routed), the rule whose table gave it,
    why it is refused, and the selectors the model had to assume about."""

    route: RouteFacts | None
    rule: PolicyRule | None
    refused: str | None = None
    assumptions: tuple[str, ...] = ()
    blocked: RouteFacts | None = None  # the blackhole, unreachable or prohibit route that refused it

    @property
    def by_rule(self) -> bool:
        """Decided by a rule beyond every host's three."""
        return self.rule is not None and self.rule not in DEFAULT_RULES

    @property
    def table(self) -> str:
        return self.route.table if self.route else "none"

    def says(self) -> str:
        """`rule 5210 ...: default dev wg0` (or the main table's route alone) for messages."""
        if self.route is None:
            return self.refused or "no route"
        if not self.by_rule:
            return f"`{describe(self.route)}`"
        return f"rule `{self.rule.text}`: `{describe(self.route)}` of table {self.route.table}"


def _within(value: int | None, span: tuple[int, int] | None) -> bool | None:
    if span is None:
        return True
    return None if value is None else span[0] <= value <= span[1]


def _selects(rule: PolicyRule, flow: Flow) -> tuple[bool, tuple[str, ...]]:
    """Whether the rule selects the flow (`not` applied), and what the model assumed: a
    selector it cannot judge is taken not to select (the rule does not apply)."""
    unknown: list[str] = [f"`{rule.text}`: {word} is not modelled" for word in rule.unknown]
    checks: list[bool | None] = [
        rule.src is None or ipaddress.ip_address(flow.saddr) in ipaddress.ip_network(rule.src),
        rule.dst is None or ipaddress.ip_address(flow.daddr) in ipaddress.ip_network(rule.dst),
        rule.iif is None or rule.iif == (flow.iif or "lo"),
        rule.oif is None or rule.oif == flow.oif,
        rule.ipproto is None or rule.ipproto == flow.l4proto,
        _within(flow.sport, rule.sport),
        _within(flow.dport, rule.dport),
        rule.tos is None or rule.tos == flow.tos,
    ]
    if rule.fwmark is not None:
        mask = 0xFFFFFFFF if rule.fwmask is None else rule.fwmask
        checks.append(None if flow.fwmark is None else not ((rule.fwmark ^ flow.fwmark) & mask))
        if flow.fwmark is None:
            unknown.append(f"`{rule.text}`: the packet's mark is not known")
    if rule.uidrange is not None:
        checks.append(_within(flow.uid, rule.uidrange))
        if flow.uid is None:
            unknown.append(f"`{rule.text}`: the sending process's uid is not known")
    if unknown:
        return False, tuple(unknown)
    matched = all(checks)
    return (not matched if rule.invert else matched), ()


def resolve(rules: tuple[PolicyRule, ...], routes: tuple[RouteFacts, ...], flow: Flow) -> Decision:
    """The route the kernel gives the flow: each rule in turn, goto jumping ahead, nop going
    on, blackhole/unreachable/prohibit refusing; a lookup's table answers with its best route
    unless it has none, its route is a throw, or the rule suppresses it (then the next rule)."""
    rules = tuple(sorted(rules or DEFAULT_RULES, key=lambda r: r.priority))  # none read: every host's
    if flow.oif is not None:  # a lookup for a chosen interface passes over the routes of others
        routes = tuple(r for r in routes if r.dev in (None, flow.oif))
    decision = _resolve(rules, routes, flow)
    if decision.route is None and flow.oif is not None:
        # ip_route_output_key_hash_rcu: with the interface chosen, "routing tables are wrong;
        # assume the destination is on link" (the way dnsmasq's DHCP replies always get out)
        return Decision(RouteFacts(f"{flow.daddr}/32", flow.oif, table="on-link"), decision.rule, None,
                        decision.assumptions)
    return decision


def _resolve(rules: tuple[PolicyRule, ...], routes: tuple[RouteFacts, ...], flow: Flow) -> Decision:
    assumed: list[str] = []
    i = 0
    while i < len(rules):
        rule = rules[i]
        i += 1
        selected, unknown = _selects(rule, flow)
        assumed += unknown
        if not selected:
            continue
        if rule.action == "goto":
            i = next((n for n, r in enumerate(rules) if r.priority == rule.target), i)  # no such rule: go on
            continue
        if rule.action == "nop":
            continue
        if rule.action in REFUSING:
            return Decision(None, rule, f"rule `{rule.text}` refuses it ({rule.action})", tuple(assumed))
        if rule.action != "lookup":
            assumed.append(f"`{rule.text}`: action {rule.action} is not modelled")
            continue
        route = lookup(routes, flow.daddr, rule.table)  # a lookup rule names its table (iproute2's `table`)
        if route is None or route.type == "throw":
            continue
        if rule.suppress_prefixlength is not None and \
                ipaddress.ip_network(route.dst).prefixlen <= rule.suppress_prefixlength:  # dst: a network (parse_routes)
            continue
        if rule.suppress_ifgroup is not None:
            assumed.append(f"`{rule.text}`: interface groups are not modelled (taken as not suppressed)")
        if route.type in REFUSING:
            return Decision(None, rule, f"rule `{rule.text}` leads to `{describe(route)}` of table {route.table}",
                            tuple(assumed), blocked=route)
        return Decision(route, rule, None, tuple(assumed))
    return Decision(None, None, "no rule's table has a route to it", tuple(assumed))


def rule_ahead(rules: tuple[PolicyRule, ...], rule: PolicyRule, selector: str) -> str:
    """The command for a rule that sends what selector picks (`to 192.168.122.0/24`) to the main
    table just ahead of rule: at the first free priority below it."""
    taken = {r.priority for r in rules}
    priority = next((p for p in range(rule.priority - 1, 0, -1) if p not in taken), rule.priority)
    return f"ip rule add priority {priority} {selector} lookup main"
