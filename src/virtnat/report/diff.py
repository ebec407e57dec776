"""What changed between two audits: per host, per check and subject, old outcome -> new outcome."""
from __future__ import annotations

import json
import reprlib
from dataclasses import dataclass

from ..inputs import MIB
from .inert import inert
from .results import OUTCOMES, id_order

JSON_LIMIT = 256 * MIB  # a report file diff reads (a 1000-host audit's is 14 MB)
JSON_DEPTH = 64  # lists and objects nested in it (virtnat writes at most a profile's 32, plus one)

ABSENT = "absent"
GOOD = ("passed", "skipped")
BAD = ("failed", "error")


@dataclass(frozen=True)
class Change:
    host: str
    check: str
    subject: str | None
    old_outcome: str
    new_outcome: str
    message: str
    worse: bool

    @property
    def name(self) -> str:
        """The check as the terminal names it: `NET-07`, `VM-02[guest:vnet0]`."""
        return self.check + (f"[{self.subject}]" if self.subject else "")


def _shown(value) -> str:
    """A value from a document, for an error line: its repr, cut short."""
    return inert(reprlib.repr(value))


def _deeper_than(value, limit: int) -> bool:
    """Whether lists and dicts nest in value more than limit levels (no recursion: any depth is answered)."""
    level = [value]
    for _ in range(limit + 1):
        level = [each for each in level if isinstance(each, (list, dict))]  # the containers at this depth
        if not level:
            return False
        level = [item for each in level for item in (each.values() if isinstance(each, dict) else each)]
    return True


def load_document(data: bytes) -> dict:
    """The audit document in a JSON report's bytes; ValueError naming the first thing that makes
    it not one (check_document's problems too)."""
    try:
        document = json.loads(data)
    except RecursionError:
        document = None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    except ValueError as exc:  # a number of more than 4300 digits
        raise ValueError(f"not JSON: {str(exc).split(':')[0]}") from None
    if document is None or _deeper_than(document, JSON_DEPTH):
        raise ValueError(f"nested too deeply (more than {JSON_DEPTH} levels of lists and objects): not a virtnat audit report")
    check_document(document)
    return document


def check_document(document) -> None:
    """Raise ValueError naming the first thing that makes `document` not a virtnat audit report,
    or one diff_documents cannot compare (a host listed twice)."""
    if not isinstance(document, dict) or document.get("tool") != "virtnat":
        raise ValueError("not a virtnat audit report (its \"tool\" is not \"virtnat\")")
    if not isinstance(document.get("hosts"), list):
        raise ValueError("not a virtnat audit report (no 'hosts' list)")
    seen: dict[str, int] = {}
    for i, host in enumerate(document["hosts"]):
        where = f"hosts[{i}]"
        if not isinstance(host, dict) or not isinstance(host.get("host"), str) or not isinstance(host.get("checks"), list):
            raise ValueError(f"{where}: not a host entry (a \"host\" name and a \"checks\" list)")
        if host["host"] in seen:
            raise ValueError(f"{where}: host {_shown(host['host'])} is listed twice (also hosts[{seen[host['host']]}]):"
                             " an audit report lists each host once")
        seen[host["host"]] = i
        for j, check in enumerate(host["checks"]):
            at = f"{where}.checks[{j}]"
            if not isinstance(check, dict):
                raise ValueError(f"{at}: not a check")
            for key, ok, what in (("id", str, "a string"), ("subject", (str, type(None)), "a string or null"),
                                  ("message", (str, type(None)), "a string or null")):
                if not isinstance(check.get(key), ok):
                    raise ValueError(f"{at}.{key}: {_shown(check.get(key))} is not {what}")
            if not isinstance(check.get("outcome"), str) or check["outcome"] not in OUTCOMES:
                raise ValueError(f"{at}.outcome: {_shown(check.get('outcome'))} is not one of {', '.join(OUTCOMES)}")


def _index(document: dict) -> dict[str, dict[tuple, dict]]:
    """{host: {(check id, subject): check}} of one audit document (one check_document accepts)."""
    hosts: dict[str, dict[tuple, dict]] = {}
    for host in document["hosts"]:
        checks = hosts.setdefault(host["host"], {})
        for check in host["checks"]:
            checks[(check["id"], check.get("subject"))] = check
    return hosts


def diff_documents(old: dict, new: dict) -> list[Change]:
    """Every check whose outcome differs between two audit documents (each one check_document
    accepts), host by host.

    A check in one document only has the outcome "absent" in the other. A change is worse
    when a good outcome (passed, skipped, or absent) becomes a bad one (failed, error), and
    for every check of a host the new audit no longer has: a host that drops out of the
    audit is no longer checked, which is never good news.
    """
    before, after = _index(old), _index(new)
    changes: list[Change] = []
    for host in [*before, *(h for h in after if h not in before)]:
        gone = host not in after
        was, now = before.get(host, {}), after.get(host, {})
        for key in sorted(set(was) | set(now), key=lambda key: id_order(*key)):
            a, b = was.get(key), now.get(key)
            old_outcome = a["outcome"] if a else ABSENT
            new_outcome = b["outcome"] if b else ABSENT
            if old_outcome == new_outcome:
                continue
            if gone:
                message = f"host {inert(host)} is not in the new audit"
            elif b is not None:
                message = b.get("message") or ""
            else:
                message = "not in the new audit"
            worse = gone or (old_outcome not in BAD and new_outcome in BAD)
            changes.append(Change(host, key[0], key[1], old_outcome, new_outcome, message, worse))
    return changes


def format_changes(changes: list[Change]) -> str:
    """Changes as text: per host a header line, then one line per change."""
    lines: list[str] = []
    by_host: dict[str, list[Change]] = {}
    for change in changes:
        by_host.setdefault(change.host, []).append(change)
    for host, items in by_host.items():
        worse = sum(c.worse for c in items)
        lines.append(f"{inert(host)}: {len(items)} change{'s' if len(items) != 1 else ''}, {worse} worse")
        for c in items:
            arrow = f"{c.old_outcome} -> {c.new_outcome}"
            message = inert(" ".join(c.message.split()))  # one line per change, whatever the message holds
            lines.append(f"  {inert(c.name):16} {arrow:18} {message}".rstrip())
    return "\n".join(lines)
