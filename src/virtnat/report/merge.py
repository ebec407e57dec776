"""Several audits as one: the document one audit of all their hosts would have made (times aside),
and the evidence behind it where the inputs carry it (an audit's --part). `virtnat merge` writes
every report from them, as the audit's finish does.

Only audits that can be one are merged: the same virtnat version and the same profile (else the
checks or what they expect differ from host to host, and no single audit could have made the
document), each audit run (no usage error), and each host in one input only."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..inputs import MIB, Refused, read_regular
from ..profile import Profile
from .diff import load_document
from .inert import inert
from .json_report import document_of
from .results import IMPACTS

# What merge reads of one input: a part carries its hosts' raw facts, ~100-200 KB a host.
PART_LIMIT = 2048 * MIB
EVIDENCE = "evidence"  # the key of a part's evidence, by host


class MergeError(Exception):
    """Why the inputs cannot be merged, in one line that names the file(s) and the fix."""


@dataclass(frozen=True)
class Merged:
    document: dict
    evidence: dict  # as the finish takes it: profile_defaults, and hosts -> their evidence
    without_evidence: tuple[str, ...]  # the inputs that carry none (a plain JSON report, not a part)


def read_input(path: str) -> dict:
    """The audit document (with its evidence, if a part) in the file at path; MergeError if not one."""
    try:
        data = read_regular(path, PART_LIMIT, "an input of virtnat merge")
    except FileNotFoundError:
        raise MergeError(f"{inert(path)}: no such file: give the JSON report of an audit (its --audit-json or --part)") from None
    except OSError as exc:
        raise MergeError(f"{inert(path)}: cannot read it: {exc.strerror or exc}") from None
    except Refused as exc:
        raise MergeError(f"{inert(path)}: {exc}: give the JSON report of an audit (its --audit-json or --part)") from None
    try:
        document = load_document(data)
    except ValueError as exc:
        raise MergeError(f"{inert(path)}: {inert(str(exc))}: give the JSON report of an audit (its --audit-json or --part)") from None
    if document.get("error"):
        raise MergeError(f"{inert(path)}: that audit did not run ({inert(' '.join(str(document['error']).split()))}): "
                         "fix it, audit those hosts again, then merge")
    if EVIDENCE in document and not isinstance(document[EVIDENCE], dict):
        raise MergeError(f"{inert(path)}: its \"evidence\" is not an object: give the JSON report of an audit")
    return document


def _first_difference(a, b, where: str = "") -> str:
    """Where two profiles differ first, as `network.bridge: 'virbr0' and 'virbr7'`."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):  # a JSON object's keys are text
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{where}.{key}" if where else str(key))
    return f"{where or 'profile'}: {inert(repr(a))[:60]} and {inert(repr(b))[:60]}"


def when(stamp) -> dt.datetime | None:
    """An ISO 8601 time as a UTC datetime (a time without a zone is UTC, as virtnat writes it); None if not one."""
    try:
        found = dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
    return found.astimezone(dt.timezone.utc) if found.tzinfo else found.replace(tzinfo=dt.timezone.utc)


def _earliest(stamps: list, latest: bool = False):
    """The earliest (latest) of the ISO 8601 times, as written; None if none is one."""
    known = [(at, stamp) for stamp in stamps if (at := when(stamp)) is not None]
    return (max if latest else min)(known, key=lambda pair: pair[0])[1] if known else None


def merge(inputs: list[tuple[str, dict]]) -> Merged:
    """inputs: (path, document) in the order given; the hosts keep that order (the blocks of one
    audit given in order make its document). MergeError for inputs that cannot be one audit."""
    if not inputs:
        raise MergeError("no input: give the JSON reports of the audits to merge")
    first_path, first = inputs[0]
    seen: dict[str, str] = {}
    hosts, evidence, without, not_audited = [], {}, [], []
    for path, document in inputs:
        if document.get("version") != first.get("version"):
            raise MergeError(f"{inert(first_path)} is virtnat {inert(str(first.get('version')))}'s, {inert(path)} "
                             f"virtnat {inert(str(document.get('version')))}'s: audit every block with one version")
        if document.get("profile") != first.get("profile"):
            raise MergeError(f"{inert(first_path)} and {inert(path)} were audited against different profiles "
                             f"({_first_difference(first.get('profile'), document.get('profile'))}): "
                             "audit every block with one profile")
        carried = document.get(EVIDENCE)
        if carried is None and document["hosts"]:
            without.append(path)
        for host in document["hosts"]:
            name = host["host"]
            if name in seen:
                raise MergeError(f"host {inert(name)} is in both {inert(seen[name])} and {inert(path)}: "
                                 "give each host's audit once")
            seen[name] = path
            hosts.append(host)
            if carried is not None and isinstance(carried.get(name), dict):
                evidence[name] = carried[name]
        not_audited += [line for line in document.get("not_audited") or [] if isinstance(line, str)]
    started = _earliest([d.get("started") for _, d in inputs])
    finished = _earliest([d.get("finished") for _, d in inputs], latest=True)
    document = document_of(hosts, first.get("profile"), started, finished, None, not_audited,
                           version=first.get("version"))  # the audits' version: it made the verdicts
    return Merged(document, {"profile_defaults": Profile().as_dict(), "hosts": evidence}, tuple(without))



def fails(document: dict, threshold: str) -> bool:
    """As an audit's exit status says: a check failed or could not be carried out at the
    threshold's impact or above (an unknown impact counts as the highest)."""
    floor = IMPACTS.index(threshold)
    return any(check.get("outcome") in ("failed", "error")
               and (IMPACTS.index(check.get("impact")) if check.get("impact") in IMPACTS else len(IMPACTS)) >= floor
               for host in document["hosts"] for check in host["checks"])
