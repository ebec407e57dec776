"""Pure parser: `nft -j list ruleset` into ruleset Tables, every expression kept or named unknown."""
from __future__ import annotations

import json

from ..errors import FactError
from .ruleset import Chain, Match, Rule, Table, Verdict

META = {"iifname": "iif", "iif": "iif", "oifname": "oif", "oif": "oif", "l4proto": "l4proto",
        "nfproto": "nfproto", "pkttype": "pkttype", "protocol": "ethertype"}
# Statements that do not end the rule's evaluation and say nothing about the packet.
PASSIVE = {"counter", "log", "limit", "quota", "ct helper", "ct timeout", "ct expectation", "set", "mangle",
           "notrack", "meta", "dup", "synproxy", "ct count", "secmark", "connlimit", "tproxy_mark", "flow"}
NAT = ("masquerade", "snat", "dnat", "redirect")
VERDICTS = ("accept", "drop", "reject", "return", "continue")


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


def _text(value) -> str:
    if isinstance(value, dict):
        if "prefix" in value:
            return f"{value['prefix']['addr']}/{value['prefix']['len']}"
        if "range" in value:
            return "-".join(map(_text, value["range"]))
        if "set" in value:
            items = value["set"] if isinstance(value["set"], list) else [value["set"]]
            return "{ " + ", ".join(_text(v) for v in items) + " }"
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return json.dumps(value) if isinstance(value, str) and not value.startswith("@") else str(value)


def _left(left) -> tuple[str | None, str, str | None]:
    """(field, how nft writes it, implied l4 protocol) of a match's left side; field None: unknown."""
    if not isinstance(left, dict):
        return None, _text(left), None
    if "meta" in left:
        key = left["meta"].get("key")
        return META.get(key), f"meta {key}", None
    if "payload" in left:
        proto, fld = left["payload"].get("protocol"), left["payload"].get("field")
        written = f"{proto} {fld}"
        if proto in ("ip6", "icmpv6") or proto == "arp":
            return "never", written, None  # an IPv6/ARP header: never there in an IPv4 packet
        if proto == "ip" and fld in ("saddr", "daddr"):
            return fld, written, None
        if proto == "ip" and fld == "protocol":
            return "l4proto", written, None
        if proto in ("tcp", "udp", "th", "sctp", "dccp", "udplite") and fld in ("dport", "sport"):
            return fld, written, None if proto == "th" else proto
        if proto == "icmp" and fld == "type":
            return "icmp_type", written, "icmp"
        return None, written, None
    if "ct" in left:
        key = left["ct"].get("key")
        if key in ("state", "status"):
            return f"ct_{key}", f"ct {key}", None
        return None, f"ct {key}", None
    if "fib" in left:
        fib = left["fib"]
        if fib.get("result") == "type" and fib.get("flags") in (["daddr"], ["daddr", "iif"]):
            return "daddr_type", "fib daddr type", None
        return None, f"fib {' . '.join(fib.get('flags', []))} {fib.get('result')}", None
    return None, _text(left), None


def _elements(right, sets: dict) -> tuple | None:
    """The values a right side stands for; None when it names a set the ruleset does not list."""
    if isinstance(right, str) and right.startswith("@"):
        elems = sets.get(right[1:])
        return None if elems is None else _values({"set": elems})
    return _values(right)


def _values(right) -> tuple | None:
    """The values of a literal (nft names a set, @name, only as a whole right side); None when
    the model cannot list them."""
    if isinstance(right, dict) and "set" in right:
        items = right["set"] if isinstance(right["set"], list) else [right["set"]]
        out = []
        for item in items:
            if isinstance(item, dict) and "elem" in item:
                item = item["elem"].get("val")
            out.extend(_values(item) or ())
        return tuple(out)
    if isinstance(right, list):
        return tuple(v for item in right for v in (_values(item) or ()))
    if isinstance(right, dict) and "prefix" in right:
        return (f"{right['prefix']['addr']}/{right['prefix']['len']}",)
    if isinstance(right, dict) and "range" in right:
        lo, hi = right["range"]
        return ((lo, hi),)
    if isinstance(right, (str, int, bool)):
        return (right.replace("*", "+") if isinstance(right, str) else right,)  # nft's wildcard "virbr*"
    return None


def _match(expr: dict, sets: dict) -> list[Match]:
    field, written, implied = _left(expr["left"])
    op, right = expr.get("op", "=="), expr["right"]
    text = f"{written} {'' if op in ('==', 'in') else op + ' '}{_text(right)}"
    if field == "never":
        return [Match("nfproto", ("ipv6",), text=text)]
    values = _elements(right, sets)
    if field is None or values is None or op not in ("==", "!=", "in"):
        return [Match("unknown", text=text)]
    if field in ("ct_state", "ct_status", "pkttype", "daddr_type", "l4proto", "nfproto"):
        values = tuple(str(v).lower() for v in values)
    if field == "l4proto":
        values = tuple({"6": "tcp", "17": "udp", "1": "icmp"}.get(v, v) for v in values)
    out = [Match("l4proto", (implied,), text=f"{implied}")] if implied else []
    return out + [Match(field, values, op == "!=", text)]


def _verdict_of(expr: dict) -> Verdict | None:
    kind = next(iter(expr))
    body = expr[kind]
    if kind in ("jump", "goto"):
        return Verdict(kind, body["target"])
    if kind in VERDICTS or kind in NAT:
        return Verdict(kind)
    if kind == "queue":
        return Verdict("unknown", "queue")
    return None


def _vmap(expr: dict, sets: dict) -> Verdict:
    field, written, _ = _left(expr["vmap"]["key"])
    data = expr["vmap"]["data"]
    items = data.get("set") if isinstance(data, dict) else sets.get(str(data).removeprefix("@"))
    mapping = []
    for item in items if isinstance(items, list) else []:
        match item:
            case [key, verdict]:  # key : verdict
                found = _verdict_of(verdict) if isinstance(verdict, dict) else None
                for value in _values(key) or ():
                    mapping.append((value, found or Verdict("unknown", _text(verdict))))
    if field not in ("iif", "oif", "l4proto", "dport", "sport", "saddr", "daddr") or not mapping:
        return Verdict("unknown", f"vmap on {written}")
    return Verdict("vmap", field=field, mapping=tuple(mapping))


def _rule(body: dict, position: int, sets: dict) -> Rule:
    matches: list[Match] = []
    verdict = Verdict("continue")
    words, sets_mark = [], False
    for expr in body.get("expr", []):
        kind = next(iter(expr))
        if kind == "mangle" and _left(expr["mangle"].get("key"))[1] in ("meta mark", "ct mark"):
            sets_mark = True
        if kind == "match":
            found = _match(expr["match"], sets)
            matches.extend(found)
            words.append(found[-1].text)
        elif kind == "vmap":
            verdict = _vmap(expr, sets)
            words.append(f"{_left(expr['vmap']['key'])[1]} vmap {_text(expr['vmap']['data'])}")
        elif kind == "xt":  # an iptables extension nft cannot show
            if expr["xt"].get("type") == "target":
                verdict = Verdict("unknown", f"xt target {expr['xt'].get('name')}")
            else:
                matches.append(Match("unknown", text=f"xt match {expr['xt'].get('name')}"))
            words.append(f"xt {expr['xt'].get('type')} {expr['xt'].get('name')}")
        elif (found_verdict := _verdict_of(expr)) is not None:
            verdict = found_verdict
            words.append(kind if verdict.target is None or kind == "queue" else f"{kind} {verdict.target}")
            if verdict.kind in ("accept", "drop", "reject", "return", "jump", "goto") or verdict.kind in NAT:
                break
        elif kind not in PASSIVE:
            matches.append(Match("unknown", text=f"{kind} {_text(expr[kind])}"))
    return Rule(position=position, matches=tuple(matches), verdict=verdict, text=" ".join(words), handle=body.get("handle"),
                sets_mark=sets_mark)


def _sets(objects: list[dict], family: str, table: str) -> dict[str, list]:
    found = {}
    for obj in objects:
        for kind in ("set", "map"):
            body = obj.get(kind)
            if body and body.get("family") == family and body.get("table") == table:
                if "elem" in body:
                    found[body["name"]] = body["elem"]
    return found


def tables_from_nft(objects: list[dict], skip: set[tuple[str, str]] = frozenset()) -> list[Table]:
    """Every table of `nft -j list ruleset` (already loaded), but those in skip (family, name)."""
    tables: dict[tuple[str, str], dict] = {}
    for obj in objects:
        if "table" in obj:
            key = (obj["table"]["family"], obj["table"]["name"])
            if key not in skip:
                tables[key] = {}
    for obj in objects:
        for kind in ("chain", "rule"):
            body = obj.get(kind)
            if body is None:
                continue
            key = (body.get("family"), body.get("table"))
            if key not in tables:
                continue
            chains = tables[key]
            name = body.get("name") if kind == "chain" else body.get("chain")
            entry = chains.setdefault(name, {"chain": None, "rules": []})
            if kind == "chain":
                entry["chain"] = body
            else:
                entry["rules"].append(body)
    out = []
    for (family, name), chains in tables.items():
        sets = _sets(objects, family, name)
        built = {}
        for chain_name, entry in chains.items():
            head = entry["chain"] or {}
            prio = head.get("prio")
            built[chain_name] = Chain(
                name=chain_name,
                rules=tuple(_rule(body, i, sets) for i, body in enumerate(entry["rules"], start=1)),
                hook=head.get("hook"),
                type=head.get("type"),
                priority=prio if isinstance(prio, int) else 0,
                policy=head.get("policy", "accept"),
            )
        out.append(Table(family=family, name=name, source="nftables", chains=built))
    return out
