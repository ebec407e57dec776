"""Pure parser for `nft -j list ruleset`, reduced to the rules that matter for libvirt NAT."""
from __future__ import annotations

import json

from ..errors import FactError
from .iptables import Rule, reachable

LIBVIRT_TABLE = ("ip", "libvirt_network")  # libvirt 10+ with firewall_backend = "nftables"
FIREWALLD_TABLE = ("inet", "firewalld")
VERDICTS = ("accept", "drop", "reject", "return", "masquerade", "snat")


def load_ruleset(text: str | None) -> list[dict]:
    """The objects of `nft -j list ruleset`; none for no output (None: nft could not be run).
    Anything but nft's {"nftables": [objects]} is a FactError: never "no rules"."""
    if not (text or "").strip():
        return []
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FactError(f"nft -j list ruleset: not JSON: {exc}") from None
    items = data.get("nftables") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise FactError(f"nft -j list ruleset: not what nft prints (an object whose \"nftables\" is a list of objects): "
                        f"{text.strip()[:80]}")
    return items


def tables(ruleset: list[dict]) -> set[tuple[str, str]]:
    return {(o["table"]["family"], o["table"]["name"]) for o in ruleset if "table" in o}


def _chains(ruleset, table):
    """chain name -> (hook or None, [rule expr lists]) for one (family, name) table."""
    chains: dict[str, tuple[str | None, list[list[dict]]]] = {}
    for obj in ruleset:
        kind = next(iter(obj))
        body = obj[kind]
        if (body.get("family"), body.get("table")) != table:
            continue
        if kind == "chain":
            chains.setdefault(body["name"], (body.get("hook"), []))
        elif kind == "rule":
            chains.setdefault(body["chain"], (None, []))[1].append(body.get("expr", []))
    return chains


def _jump_target(expr: dict) -> str | None:
    for verb in ("jump", "goto"):
        if verb in expr:
            return expr[verb]["target"]
    return None


def _reachable(chains, start):
    def jumps(chain):
        if chain not in chains:
            return None
        return [t for exprs in chains[chain][1] for t in map(_jump_target, exprs) if t]

    return reachable(start, jumps)


def _prefix(right) -> str | None:
    if isinstance(right, dict) and "prefix" in right:
        return f"{right['prefix']['addr']}/{right['prefix']['len']}"
    return right if isinstance(right, str) else None


def _fields(exprs: list[dict]) -> dict:
    """The fields of a Rule that one rule's expressions give: iif, oif, saddr, daddr, verdict."""
    fields: dict = {}
    for expr in exprs:
        if "match" in expr:
            left, right = expr["match"]["left"], expr["match"]["right"]
            key = left.get("meta", {}).get("key") or left.get("payload", {}).get("field")
            if key in ("iifname", "iif"):  # libvirt 10+ matches by index (iif), nft prints the name
                fields["iif"] = right
            elif key in ("oifname", "oif"):
                fields["oif"] = right
            elif key == "saddr":
                fields["saddr"] = _prefix(right)
            elif key == "daddr":
                fields["daddr"] = _prefix(right)
                fields["daddr_negated"] = expr["match"].get("op") == "!="
        else:
            for verb in VERDICTS:
                if verb in expr:
                    fields["verdict"] = verb.upper()
            target = _jump_target(expr)
            if target:
                fields["verdict"] = target
    return fields


def libvirt_rules(ruleset: list[dict]) -> list[Rule]:
    """Rules of libvirt's own nftables table, labelled with the hook they hang off."""
    chains = _chains(ruleset, LIBVIRT_TABLE)
    rules = []
    for name, (hook, _) in chains.items():
        if not hook:
            continue
        for chain in _reachable(chains, name):
            table = "nat" if hook in ("postrouting", "prerouting") else "filter"
            rules.extend(Rule(table, hook.upper(), chain, **_fields(exprs)) for exprs in chains[chain][1])
    return rules


# firewalld 1.x dispatches input by zone in filter_INPUT_ZONES (`iifname X goto filter_IN_zone`);
# firewalld 2.x in filter_INPUT_POLICIES (`iifname X jump filter_IN_zone`, beside policy chains).
ZONE_CHAINS = ("filter_INPUT_ZONES", "filter_INPUT_POLICIES")


def firewalld_zones(ruleset: list[dict]) -> dict[str, str]:
    """Interface -> zone from firewalld's nftables rules."""
    zones = {}
    chains = _chains(ruleset, FIREWALLD_TABLE)
    for name in ZONE_CHAINS:
        for exprs in chains.get(name, (None, []))[1]:
            fields = _fields(exprs)
            iif, target = fields.get("iif"), fields.get("verdict", "")
            if iif and target.startswith("filter_IN_") and not target.startswith("filter_IN_policy_"):
                zones.setdefault(iif, target[len("filter_IN_"):])
    return zones
