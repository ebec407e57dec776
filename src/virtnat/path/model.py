"""The guests' packet path on one host, judged from its facts (pure): what each kind of guest
traffic meets, what decides it, whose rule that is and the accept that would let it through."""
from __future__ import annotations

import ipaddress
import shlex
from dataclasses import dataclass, field, replace

from ..facts.fwfiles import FirewallFiles
from ..facts.model import DEFAULT_RULES, LinkFacts, PolicyRule, RouteFacts
from ..facts.ruleset import Table
from . import packets as pk
from .lasting import lasting_accept, lasting_delete
from .owners import owner, ufw_rule, ufws
from .policy import Decision, Flow, resolve, rule_ahead
from .routing import UNREACHABLE, describe, lookup, route_selector, subnet_fix
from .walk import ChainVerdict, HookVerdict, Step, walk_hook

# The placeholder for "an address on the internet" when the default route has no gateway.
INTERNET = "203.0.113.10"
# br_netfilter's switch (per network namespace since Linux 5.3): bridged IPv4 frames through the IPv4 hooks.
BRIDGE_NF = "net.bridge.bridge-nf-call-iptables"
# HOST-05's fix: what a forwarded packet needs first.
FORWARD_ON = "sysctl -w net.ipv4.ip_forward=1"
# With no route out left and no gateway known, what the operator picks the uplink and its gateway from.
SHOW_UPLINKS = "ip -4 route show table all && ip -br -4 address show up"


# The network's restart: libvirt puts back its bridge, its address and route, and its rules. A
# net-destroy takes every running guest's tap off the bridge and net-start does not put them back
# (seen on libvirt 11: VM-02 failed after it, the guest cut off), so the bridge's ports are read
# first and put back after. One per line: a port's name may hold what the shell would expand.
RESTART = ("ports=$(ls /sys/class/net/{bridge}/brif 2>/dev/null || :); virsh net-destroy {network} && virsh net-start {network} "
           "&& printf '%s\\n' \"$ports\" | while read -r port; do [ -z \"$port\" ] || ip link set dev \"$port\" master {bridge} || :; done")


def restart(network: str, bridge: str) -> str:
    """The network's restart, its guests' taps back on its bridge (RESTART)."""
    return RESTART.format(network=network, bridge=bridge)


@dataclass
class Outcome:
    """A verdict on one expectation: the failure message (None: it holds), notes, the fix, the walk."""

    failure: str | None = None
    notes: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def note(self) -> str:
        return "; ".join(dict.fromkeys(self.notes))

    @property
    def fix(self) -> str:
        return " && ".join(dict.fromkeys(self.fixes))


@dataclass
class Trip:
    """One packet's way through the hooks."""

    packet: pk.Packet
    hooks: list[HookVerdict]
    route_problem: str | None = None
    route_fix: str | None = None  # the command for route_problem
    assumed: tuple[str, ...] = ()  # what its route lookup had to assume

    @property
    def dropped_by(self) -> ChainVerdict | None:
        return next((h.dropped_by for h in self.hooks if h.dropped_by), None)

    @property
    def nat(self) -> ChainVerdict | None:
        """The NAT bound on the way out (a masquerade or SNAT); a DNAT before routing is not it."""
        return next((h.nat for h in self.hooks if h.hook == "postrouting" and h.nat), None)

    def steps(self) -> list[Step]:
        return [s for h in self.hooks for c in h.chains for s in c.steps]


class PathModel:
    def __init__(self, tables: tuple[Table, ...], routes: tuple[RouteFacts, ...], links: dict[str, LinkFacts],
                 bridge: str, gateway: str, guest: str, policy_rules: tuple[PolicyRule, ...] = (), outside: str | None = None,
                 ip_forward: str | None = "1", forwarding=lambda interface: None, local_uid: int | None = None,
                 bridge_nf: str | None = None, files: FirewallFiles | None = None):
        self.tables, self.routes, self.links, self.policy_rules = tables, routes, links, policy_rules or DEFAULT_RULES
        self.files = files  # who keeps firewall rules past a boot; None: an older probe's output
        self.ip_forward, self.forwarding_of, self.local_uid = ip_forward, forwarding, local_uid
        self.bridge_nf = bridge_nf  # net.bridge.bridge-nf-call-iptables; None: br_netfilter is not loaded
        # A mark set by the firewall (MARK, CONNMARK, meta/ct mark set) is not followed: unknown to rules.
        self.mark = None if any(r.sets_mark for t in tables for c in t.chains.values() for r in c.rules) else 0
        gw = ipaddress.ip_interface(gateway)
        self.way_out = self.route(Flow(guest, outside or INTERNET, iif=bridge, l4proto="icmp"))
        self.route_out = self.way_out.route or self.way_out.blocked
        if outside is None and self.route_out is not None and self.route_out.gateway:
            outside = self.route_out.gateway
        usable = self.way_out.route is not None
        uplink = self.route_out.dev if usable else None
        self.net = pk.Network(bridge=bridge, gateway=str(gw.ip), subnet=str(gw.network), guest=guest,
                              outside=(outside or INTERNET) if usable else None, uplink=uplink)

    def route(self, flow: Flow) -> Decision:
        """The kernel's route for a flow, through the host's policy rules."""
        return resolve(self.policy_rules, self.routes, replace(flow, fwmark=self.mark))

    # -- the pieces ---------------------------------------------------------------------------

    def route_out_problem(self) -> str | None:
        """Why guest traffic has no way out, or None (HOST-09)."""
        target = self.net.outside or INTERNET
        way = self.way_out
        if way.route is None and way.by_rule:
            return f"no route out for the guests: {way.refused}"
        if self.route_out is None:
            return f"no route out: nothing in the main routing table leads to {target} (no default route)"
        if self.route_out.type in UNREACHABLE:
            return f"no route out: the route to {target} is `{describe(self.route_out)}`"
        if self.route_out.dev == self.net.bridge:
            return f"the route out ({way.says()}) leads back into {self.net.bridge}"
        return None

    def route_out_fix(self) -> tuple[str, str | None]:
        """The command for route_out_problem, and what the operator must decide (None: nothing).
        Each route that keeps guest traffic in (unreachable, or into the bridge) goes; when no
        route out is left, the facts know no gateway: the command lists the routes and addresses
        to pick the uplink and its gateway from."""
        if self.way_out.route is None and self.way_out.by_rule:
            return rule_ahead(self.policy_rules, self.way_out.rule, f"from {self.net.subnet}"), None
        routes, route, commands = self.routes, self.route_out, []
        while route is not None and (route.type in UNREACHABLE or route.dev == self.net.bridge):
            commands.append(f"ip route del {route_selector(route)}")
            routes = tuple(r for r in routes if r is not route)
            route = lookup(routes, INTERNET)
        if route is not None:
            return " && ".join(commands), None
        commands.append(SHOW_UPLINKS)
        return " && ".join(commands), ("no gateway is known from the facts: pick the uplink and its gateway from what the fix "
                                       "lists, then `ip route add default via GATEWAY dev UPLINK`, or let the uplink's DHCP "
                                       "client or network manager give the default route back")

    @property
    def routing_note(self) -> str | None:
        """What the route out had to assume, for HOST-09's note."""
        return "; ".join(f"assumed: {a}" for a in self.way_out.assumptions) or None

    def _flow(self, packet: pk.Packet) -> Flow:
        """What a route lookup knows of the packet: forwarded, it came in on its iif; the host's own
        is looked up as from lo (DHCP's sent out of the bridge: dnsmasq names the interface)."""
        forwarded = packet.hooks == pk.FORWARD
        return Flow(packet.saddr, packet.daddr, iif=packet.iif if forwarded else None,
                    oif=packet.oif if packet.sport == 67 and not forwarded else None, l4proto=packet.l4proto,
                    sport=packet.sport, dport=packet.dport, uid=0 if forwarded else self.local_uid)

    def _reply_route_problem(self, packet: pk.Packet) -> tuple[str, str | None, tuple[str, ...]] | None:
        """Why a packet to a guest would not leave by the bridge, its fix (None: the network's
        restart, which gives the bridge its address and route back) and what the lookup assumed;
        None: it would."""
        way = self.route(self._flow(packet))
        link = self.links.get(self.net.bridge)
        if link is not None and not link.admin_up:
            return (f"cannot reach {packet.daddr}: {self.net.bridge} is administratively DOWN, so its route is gone (NET-07)",
                    f"ip link set dev {self.net.bridge} up", way.assumptions)
        if way.route is not None and way.route.dev == self.net.bridge:
            return None if not way.assumptions else (None, None, way.assumptions)
        if way.by_rule:
            leaves = way.route.dev if way.route else "nowhere"
            return (f"to {packet.daddr} would leave by {leaves} (the kernel picks {way.says()}; {self.net.bridge} is not "
                    f"in its way)", rule_ahead(self.policy_rules, way.rule, f"to {self.net.subnet}"), way.assumptions)
        route = way.route or way.blocked
        own = lookup(tuple(r for r in self.routes if r.dev == self.net.bridge), packet.daddr)
        chosen = f"the kernel picks `{describe(route)}`" if route else "no route matches"
        beside = f" over {self.net.bridge}'s `{describe(own)}`; HOST-08" if own else f"; {self.net.bridge} has no route to it"
        fix = subnet_fix(self.routes, self.links, self.net.subnet, self.net.bridge) if own else None
        return f"to {packet.daddr} would leave by {route.dev if route else 'nowhere'} ({chosen}{beside})", fix, way.assumptions

    def _forwarding_problem(self, packet: pk.Packet) -> tuple[str, str] | None:
        """Why the kernel would not forward the packet, and the fix; None: it would. Forwarding
        must be on for all (net.ipv4.ip_forward) and for the interface the packet came in on."""
        if self.ip_forward != "1":
            return f"the kernel forwards nothing: net.ipv4.ip_forward is {self.ip_forward!r} (HOST-05)", FORWARD_ON
        value = self.forwarding_of(packet.iif) if packet.iif else None
        if value is None or value == "1":
            return None
        key = f"net.ipv4.conf.{packet.iif.replace('.', '/')}.forwarding"
        lasting = shlex.quote(f"{key} = 1")
        conf = shlex.quote(f"/etc/sysctl.d/90-forwarding-{packet.iif}.conf")
        return (f"the kernel forwards nothing that comes in on {packet.iif}: {key} is {value!r}",
                f"sysctl -w {shlex.quote(key + '=1')} && printf '%s\\n' {lasting} > {conf}")

    def trip(self, packet: pk.Packet) -> Trip:
        route_problem = route_fix = None
        assumed: tuple[str, ...] = ()
        if packet.bridged:
            pass  # bridged, not routed: no route lookup, and forwarding settings do not apply
        elif packet.oif == self.net.bridge and packet.daddr != "255.255.255.255":
            route_problem, route_fix, assumed = self._reply_route_problem(packet) or (None, None, ())
        elif packet.hooks == pk.FORWARD and packet.oif != self.net.bridge:
            assumed = self.way_out.assumptions
            route_problem = self.route_out_problem()
            if route_problem:
                route_problem, route_fix = f"cannot leave: {route_problem}", self.route_out_fix()[0]
        if packet.hooks == pk.FORWARD and not packet.bridged:
            route_problem, route_fix = self._forwarding_problem(packet) or (route_problem, route_fix)
        hooks = []
        for hook in packet.hooks:
            verdict = walk_hook(self.tables, hook, packet)
            hooks.append(verdict)
            if verdict.dropped_by:
                break
        return Trip(packet, hooks, route_problem, route_fix, assumed)

    # -- judging -------------------------------------------------------------------------------

    def _evidence(self, trip: Trip) -> list[str]:
        p = trip.packet
        ports = f":{p.sport}" if p.sport else "", f":{p.dport}" if p.dport else ""
        head = (f"{p.what}: {p.l4proto} {p.saddr}{ports[0]} -> {p.daddr}{ports[1]}, in {p.iif or '-'} out {p.oif or '-'}, "
                f"ct {p.ct_state}")
        lines = [head]
        for hook in trip.hooks:
            lines.append(f"  {hook.hook}:" + ("" if hook.chains else " no base chain"))
            for chain in hook.chains:
                decided = f"{chain.kind} by {chain.rule.ref}" if chain.rule else f"policy {chain.chain.policy}"
                where = f" in {chain.rule_chain}" if chain.rule and chain.rule_chain != chain.chain.name else ""
                lines.append(f"    {chain.table.label} chain {chain.chain.name} (priority {chain.chain.priority}): {decided}{where}")
                lines.extend(f"      {s.line()}" for s in chain.steps if s.assumed)
            lines.extend(f"    {u}" for u in hook.unmodelled)
        verdict = trip.dropped_by
        lines.append(f"  => {'dropped by ' + verdict.where if verdict else 'accepted'}"
                     + (f"; {trip.route_problem}" if trip.route_problem else ""))
        return lines

    def _notes(self, trips: list[Trip]) -> list[str]:
        notes = [f"assumed: {s.line()}" for t in trips for s in t.steps() if s.assumed]
        notes += [f"{u}" for t in trips for h in t.hooks for u in h.unmodelled]
        notes += [f"assumed: {a}" for t in trips for a in t.assumed]
        return notes

    def _fix(self, trip: Trip, who: str, network: str) -> tuple[str, str | None]:
        """The fix for a dropped packet, in the language of whoever makes the table at boot, and
        the note that says how it lasts (None: the owner's own command, which does)."""
        verdict = trip.dropped_by
        if who == "libvirt":
            return restart(network, self.net.bridge), None
        if who == "firewalld":  # now, and in the configuration a reload and the next boot read
            return (f"firewall-cmd --zone=libvirt --change-interface={self.net.bridge} && "
                    f"firewall-cmd --permanent --zone=libvirt --change-interface={self.net.bridge}"), None
        if ufws(who):  # in ufw's language: its rules are loaded at every boot, an iptables rule beside them is not
            return ufw_rule(trip.packet), None
        return lasting_accept(self.tables, verdict.table, verdict.chain.name, trip.packet.accept, who, self.files)

    def judge(self, packets: list[pk.Packet], network: str) -> Outcome:
        """Every packet must be accepted on every hook and routed where it belongs."""
        outcome = Outcome()
        trips = [self.trip(p) for p in packets]
        failures: dict[str, list[str]] = {}
        kept: list[str] = []  # how each fix lasts
        for trip in trips:
            outcome.evidence.extend(self._evidence(trip))
            verdict = trip.dropped_by
            if verdict is not None:
                who = owner(verdict.table, verdict.rule_chain, policy=verdict.rule is None)
                failures.setdefault(f"dropped by {verdict.where} ({who})", []).append(trip.packet.what)
                fix, lasts = self._fix(trip, who, network)
                outcome.fixes.append(fix)
                kept.extend([lasts] if lasts else [])
            elif trip.route_problem:
                failures.setdefault(trip.route_problem, []).append(trip.packet.what)
                outcome.fixes.append(trip.route_fix or restart(network, self.net.bridge))
        outcome.notes = self._notes(trips) + kept
        if failures:
            outcome.failure = "; ".join(f"{', '.join(whats)}: {why}" for why, whats in failures.items())
        return outcome

    def dhcp(self, network: str) -> Outcome:
        return self.judge(pk.dhcp(self.net), network)

    def dns(self, network: str) -> Outcome:
        return self.judge(pk.dns(self.net), network)

    def forwarding(self, network: str) -> Outcome:
        return self.judge(pk.outbound(self.net) + pk.replies(self.net), network)

    def guests_cross(self, network: str) -> Outcome:
        """Guests reach each other over the bridge. Bridged frames meet the IPv4 hooks only where
        br_netfilter is loaded and net.bridge.bridge-nf-call-iptables is 1: then the FORWARD path
        (iif = oif = the bridge) must accept them, in every table."""
        key = f"{BRIDGE_NF} = {self.bridge_nf}"
        link = self.links.get(self.net.bridge)
        if link is not None and not link.admin_up:  # its ports are disabled: it forwards nothing, hooks or not
            return Outcome(failure=f"{self.net.bridge} is administratively DOWN: it forwards no frame between its ports "
                                   f"(NET-07)", fixes=[f"ip link set dev {self.net.bridge} up"],
                           evidence=[f"frames between two guests on {self.net.bridge}: its ports are disabled while it is down"])
        if self.bridge_nf != "1":
            why = f"{key}: they do not" if self.bridge_nf is not None else f"br_netfilter is not loaded (no {BRIDGE_NF}): they do not"
            outcome = Outcome(evidence=[f"frames between two guests on {self.net.bridge}: {why} meet the IPv4 hooks"])
        else:
            outcome = self.judge(pk.cross(self.net), network)
            outcome.evidence.insert(0, f"frames between two guests on {self.net.bridge}: {key}: br_netfilter sends them "
                                       f"through the IPv4 hooks")
            if outcome.failure:
                outcome.failure = f"with {key} (br_netfilter): {outcome.failure}"
            outcome.notes = [n for n in outcome.notes if not n.endswith("(bridge family, not modelled)")]  # said below
        outcome.notes += [f"{t.label} sees the guests' frames on the bridge's own hooks (bridge family, not modelled)"
                          for t in self.tables if t.family == "bridge" and any(
                              c.rules or c.policy != "accept" for h in pk.FORWARD for c in t.base_chains(h))]
        return outcome

    def masquerade(self, network: str) -> Outcome:
        """Each outbound packet's connection must be masqueraded (or SNATed) on its way out."""
        outcome = Outcome()
        trips = [self.trip(p) for p in pk.outbound(self.net)]
        kept: list[str] = []  # how each fix lasts
        for trip in trips:
            packet = trip.packet
            outcome.evidence.extend(self._evidence(trip))
            bound = trip.nat
            if bound is not None and bound.kind in ("masquerade", "snat"):
                continue
            if bound is not None:
                outcome.failure = outcome.failure or f"{packet.what}: {bound.kind} by {bound.where} instead of masquerading"
                fix, lasts = lasting_delete(self.tables, bound.table, bound.rule_chain, bound.rule,
                                            owner(bound.table, bound.rule_chain, policy=False), self.files)
                outcome.fixes.append(fix)
                kept.extend([lasts] if lasts else [])
                continue
            if trip.dropped_by is not None:
                continue  # PATH-03 names what drops it
            why, fix, lasts = self._unmasqueraded(trip, network)
            outcome.failure = outcome.failure or f"{packet.what}: {why}"
            outcome.fixes.append(fix)
            kept.extend([lasts] if lasts else [])
        outcome.notes = self._notes(trips) + kept
        return outcome

    def _unmasqueraded(self, trip: Trip, network: str) -> tuple[str, str, str | None]:
        nat_chains = [c for h in trip.hooks if h.hook == "postrouting" for c in h.chains if c.chain.type == "nat"]
        for chain in nat_chains:
            stop = next((s for s in reversed(chain.steps) if s.rule is not None and s.action in ("accept", "return")), None)
            if stop is not None and self._has_masquerade(chain.table):
                who = owner(chain.table, stop.chain, policy=False)
                fix, lasts = lasting_delete(self.tables, chain.table, stop.chain, stop.rule, who, self.files)
                return (f"{chain.table.label} chain {stop.chain}: {stop.rule.ref} ({who}) {stop.action}s it "
                        f"before libvirt's masquerade", fix, lasts)
        return (f"nothing masquerades it: no NAT rule for {self.net.subnet} on the way out (NET-11)", restart(network, self.net.bridge), None)

    def _has_masquerade(self, table: Table) -> bool:
        return any(r.verdict.kind in ("masquerade", "snat") for c in table.chains.values() for r in c.rules)

    # -- iptables-legacy beside nftables (NET-16) ------------------------------------------------

    def legacy_touches(self) -> tuple[list[str], list[str]]:
        """(what legacy rules do to guest packets, notes). Empty when they leave them alone."""
        legacy = tuple(t for t in self.tables if t.source == "iptables-legacy")
        touched, notes = [], []
        packets = pk.dhcp(self.net) + pk.dns(self.net) + pk.outbound(self.net) + pk.replies(self.net)
        for packet in packets:
            for hook in packet.hooks:
                verdict = walk_hook(legacy, hook, packet)
                for chain in verdict.chains:
                    for step in chain.steps:
                        if step.assumed:
                            notes.append(f"assumed: {step.line()}")
                        elif step.decides:
                            touched.append(f"{step.line()} ({packet.what})")
        return list(dict.fromkeys(touched)), list(dict.fromkeys(notes))
