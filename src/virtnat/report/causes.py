"""A fleet's problems grouped by cause: the same check failing (or not carried out) for the same
reason on many hosts is one cause, whatever each host's own names.

A check's message is made comparable across hosts by taking out what is the host's own: its
name (and its first label, `hv1` of `hv1.example.net`), the parts of the check's subject (the
guest and its tap), process ids, and, when the evidence has the host's links, its interfaces'
names, addresses and MACs, each as a placeholder (‹host›, ‹subject›, pid ‹n›, ‹interface›,
‹address›, ‹mac›). A value the profile names (the bridge, the gateway) is never taken out: it is
the site's, not the host's. Names shorter than 3 characters are left, as they would also be
words of the message. Checks that fail on the same hosts for the same reason are one cause too
(the checks of an unreachable host, NET-06 to NET-10 when the bridge is missing)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .markup import one_line, text
from .page_profile import flatten
from .results import id_order
from .verdict import outcome, rank

PROBLEMS = ("failed", "error")
SHORTEST = 3  # a shorter own name is left in the message
PID = re.compile(r"\bpid (\d+)\b")


@dataclass(frozen=True)
class Cause:
    outcome: str  # failed or error
    checks: tuple[tuple[str, str, str], ...]  # (id, title, impact) per check, most severe first
    message: str  # with the hosts' own names taken out
    hosts: tuple[tuple[int, str], ...]  # (index in the document's hosts, name), in the document's order

    @property
    def impact(self) -> str:
        return self.checks[0][2]


def own_names(evidence, profile) -> dict[str, dict[str, str]]:
    """Per host of evidence, {name: placeholder} of what its collected links say is its own:
    interface names, addresses (without their prefix) and MACs, less what profile names and
    loopback's."""
    site = {one_line(v) for v in flatten(profile).values()} if isinstance(profile, dict) else set()
    site |= {v.partition("/")[0] for v in site}
    hosts = evidence.get("hosts") if isinstance(evidence, dict) else None
    found: dict[str, dict[str, str]] = {}
    for host, entry in (hosts.items() if isinstance(hosts, dict) else ()):
        facts = entry.get("facts") if isinstance(entry, dict) else None
        links = facts.get("links") if isinstance(facts, dict) else None
        names: dict[str, str] = {}
        for name, link in (links.items() if isinstance(links, dict) else ()):
            if not isinstance(link, dict) or name == "lo":
                continue
            names[text(name)] = "‹interface›"
            names.update((text(a).partition("/")[0], "‹address›") for a in link.get("addresses") or [] if isinstance(a, str))
            if isinstance(link.get("mac"), str):
                names[link["mac"]] = "‹mac›"
        found[text(host)] = {n: p for n, p in names.items() if n not in site and not n.startswith("127.") and n != "::1"}
    return found


def _pattern(names) -> re.Pattern | None:
    """One expression matching any of names as a whole word (not inside a longer name or address)."""
    kept = sorted((n for n in names if len(n) >= SHORTEST), key=len, reverse=True)
    if not kept:
        return None
    return re.compile(r"(?<![\w-])(?<!\w[.:])(" + "|".join(map(re.escape, kept)) + r")(?![\w-]|[.:]\w)")


def comparable(message: str, names: dict[str, str], pattern: re.Pattern | None = None) -> str:
    """message on one line, each of names (and any process id) replaced by its placeholder;
    pattern: _pattern(names), when it is already made."""
    line = PID.sub("pid ‹n›", one_line(message))
    pattern = pattern or _pattern(names)
    return pattern.sub(lambda m: names[m.group(1)], line) if pattern else line


def _names(name: str, subject: str, own: dict[str, str]) -> tuple[dict[str, str], re.Pattern | None]:
    """A host's own names for a check of subject, and their pattern."""
    names = dict(own)
    names.update((part, "‹subject›") for part in subject.split(":") if part)
    names[name.split(".")[0]] = "‹host›"
    names[name] = "‹host›"
    return names, _pattern(names)


def causes(document: dict, own: dict[str, dict[str, str]] | None = None) -> list[Cause]:
    """The failed and error checks of document's hosts grouped by cause (see the module), most
    severe impact first, then most hosts, then by check id. own: own_names of the evidence."""
    own = own or {}
    hosts = document.get("hosts") if isinstance(document, dict) and not document.get("error") else None
    grouped: dict[tuple[str, str, str], dict] = {}  # (outcome, id, message) -> {"check": first, "hosts": {h: name}}
    for h, host in enumerate(hosts if isinstance(hosts, list) else []):
        if not isinstance(host, dict):
            continue
        name, made = text(host.get("host")), {}  # made: (names, pattern) per subject, each made once
        for check in host.get("checks") or []:
            if not isinstance(check, dict) or outcome(check) not in PROBLEMS:
                continue
            subject = text(check.get("subject"))
            if subject not in made:
                made[subject] = _names(name, subject, own.get(name, {}))
            message = comparable(text(check.get("message")), *made[subject])
            entry = grouped.setdefault((outcome(check), text(check.get("id")), message), {"check": check, "hosts": {}})
            entry["hosts"][h] = name
    # the checks of one reason on the very same hosts are one cause
    merged: dict[tuple[str, str, tuple], list[dict]] = {}
    for (o, _id, message), entry in grouped.items():
        merged.setdefault((o, message, tuple(entry["hosts"].items())), []).append(entry["check"])
    found = []
    for (o, message, on), checks in merged.items():
        listed = sorted(((text(c.get("id")), one_line(c.get("title")), text(c.get("impact"))) for c in checks),
                        key=lambda c: (rank(c[2]), id_order(c[0])))
        found.append(Cause(o, tuple(listed), message, on))
    return sorted(found, key=lambda c: (rank(c.impact), -len(c.hosts), PROBLEMS.index(c.outcome), id_order(c.checks[0][0]), c.message))
