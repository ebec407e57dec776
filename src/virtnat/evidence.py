"""The evidence behind a host's verdicts, as plain data for the reports: a line per piece of the
guests' packet path (what the picture shows), the raw facts, and what each check judged."""
from __future__ import annotations

from dataclasses import fields, is_dataclass
from functools import lru_cache

from .errors import FactError
from .facts.model import FirewallFacts
from .profile import Profile

# The fixtures a check asks for, and the fact kind each one reads.
FACT_OF_FIXTURE = {"libvirt": "libvirt", "libvirt_or_none": "libvirt", "guest_nic": "libvirt", "links": "links",
                   "system": "system", "firewall": "system", "routes": "system", "packet_path": "system",
                   "units": "system"}


def fact_kinds(fixturenames) -> list[str]:
    """The fact kinds a check judged, from the fixtures it uses (their dependencies included)."""
    return sorted({FACT_OF_FIXTURE[name] for name in fixturenames if name in FACT_OF_FIXTURE})


@lru_cache(maxsize=None)
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


def ruleset_text(tables) -> dict:
    """Every table as its tool would list it: per chain its hook and policy, then its rules' text
    (the parsed matches are the packet walk's business; people read rules)."""
    shown = {}
    for table in tables:
        chains = {}
        for chain in table.chains.values():
            head = f"{chain.type} hook {chain.hook} priority {chain.priority}; policy {chain.policy}" if chain.hook else "regular chain"
            chains[chain.name] = [head, *(rule.text for rule in chain.rules)]
        shown[table.label] = chains
    return shown


def plain(value):
    """Facts as JSON-able data: dataclasses as dicts (rulesets as their rules' text), sets
    sorted, a FactError as its line."""
    if isinstance(value, FirewallFacts):
        found = {name: plain(getattr(value, name)) for name in _field_names(FirewallFacts) if name != "tables"}
        return {**found, "tables": ruleset_text(value.tables)}
    if is_dataclass(value) and not isinstance(value, type):
        return {name: plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, Exception):
        return f"not collected: {value}"
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def on_network(nic, profile: Profile) -> bool:
    """A guest interface on the profile's network (or plugged into its bridge directly)."""
    return nic.network == profile.network or (nic.network is None and nic.bridge == profile.bridge)


def _libvirt(libvirt, profile: Profile) -> str:
    net = libvirt.networks.get(profile.network)
    if net is None:
        return f"libvirt {libvirt.version} · network {profile.network}: not defined"
    flags = ["active" if net.active else "inactive", "autostart" if net.autostart else "no autostart"]
    return f"libvirt {libvirt.version} · network {net.name}: {', '.join(flags)}"


def _guests(libvirt, links, profile: Profile) -> list[dict]:
    guests = []
    for nic in (n for n in libvirt.guest_nics if on_network(n, profile)):
        link = (links or {}).get(nic.tap) if nic.tap else None
        detail = "no tap" if link is None else f"{'UP' if link.admin_up else 'DOWN'} on {link.master or 'no bridge'}"
        guests.append({"guest": nic.guest, "tap": nic.tap or nic.mac, "detail": detail})
    return guests


def _bridge(links, profile: Profile) -> str:
    link = links.get(profile.bridge)
    if link is None:
        return f"{profile.bridge} missing"
    state = ("UP" if link.admin_up else "DOWN") + ("" if link.operstate in ("UP", "UNKNOWN") or not link.admin_up else f" ({link.operstate})")
    addresses = [a for a in link.addresses if ":" not in a] or ["no IPv4 address"]
    stp = {True: "STP on", False: "STP off", None: "not a bridge"}[link.stp_enabled]
    return " · ".join([link.name, state, *addresses, stp])


def _forwarding(system) -> str:
    runtime = system.sysctl_runtime.get("net.ipv4.ip_forward", "?")
    persisted = system.sysctl_persisted.get("net.ipv4.ip_forward")
    return f"ip_forward {runtime} (at boot: {persisted if persisted is not None else 'not set'})"


def _firewall(system) -> str:
    if system.firewall is None:
        return f"rules not read: {system.firewall_error}"
    masquerade = ", ".join(sorted(system.firewall.masquerade_sources)) or "none"
    return f"{system.firewall.backend or 'no libvirt rules'} · masquerade {masquerade}"


def _dnsmasq(system) -> str:
    pids = [str(p.pid) for p in system.running("dnsmasq")]
    return f"dnsmasq pid {', '.join(pids)}" if pids else "no dnsmasq running"


def _uplink(system) -> str:
    if system.routes is None:
        return "routes not read"
    defaults = [r for r in system.routes if r.dst == "0.0.0.0/0" and r.table == "main" and r.type == "unicast"]
    if not defaults:
        return "no default route"
    return "; ".join(f"default{f' via {r.gateway}' if r.gateway else ''} dev {r.dev}" for r in defaults)


def pieces(collected: dict, profile: Profile) -> dict:
    """One line per piece of the packet path from the facts that were collected; a piece whose
    facts are missing is left out (the report shows it as unknown)."""
    libvirt, links, system = (collected.get(k) for k in ("libvirt", "links", "system"))
    libvirt = None if isinstance(libvirt, FactError) else libvirt
    links = None if isinstance(links, FactError) else links
    system = None if isinstance(system, FactError) else system
    found: dict = {}
    if libvirt is not None:
        found["libvirt"] = _libvirt(libvirt, profile)
        found["guests"] = _guests(libvirt, links, profile)
    if links is not None:
        found["bridge"] = _bridge(links, profile)
    if system is not None:
        for name, line in (("forwarding", _forwarding), ("firewall", _firewall), ("dnsmasq", _dnsmasq), ("uplink", _uplink)):
            found[name] = line(system)
    return found


def host_evidence(collected: dict, profile: Profile, checks: dict) -> dict:
    """A host's evidence: its pieces, its raw facts (by kind, in name order, however they came
    in), and each check's own (id[subject] -> text, kinds)."""
    return {"pieces": pieces(collected, profile), "facts": plain(dict(sorted(collected.items()))), "checks": checks}
