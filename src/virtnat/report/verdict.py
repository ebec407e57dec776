"""A host's verdict from its checks (ok, failing, unreachable, not checked) and the one sentence
that says why; the outcomes' order of severity the page lists and colours by."""
from __future__ import annotations

from dataclasses import dataclass

from .markup import one_line, text
from .results import IMPACTS as CHECK_IMPACTS

SEVERITY = ("failed", "error", "waived", "skipped", "passed")  # worst first
IMPACTS = tuple(reversed(CHECK_IMPACTS))  # most severe first
VERDICTS = ("failing", "unreachable", "unchecked", "ok")  # worst first: the host list's order


@dataclass(frozen=True)
class Verdict:
    state: str  # one of VERDICTS
    label: str  # "ok", "2 failing", "unreachable", "not checked"
    reason: str  # one sentence


def outcome(check: dict) -> str:
    """The check's outcome; one this page does not know counts as an error, never as a pass."""
    value = check.get("outcome")
    return value if value in SEVERITY else "error"


def worst(outcomes) -> str | None:
    """The worst of outcomes, in SEVERITY's order; None when there are none."""
    ranks = [SEVERITY.index(o) for o in outcomes if o in SEVERITY]
    return SEVERITY[min(ranks)] if ranks else None


def check_name(check: dict) -> str:
    """The check as the terminal names it: `NET-07`, `VM-02[vm1:vnet0]`."""
    subject = text(check.get("subject"))
    return text(check.get("id")) + (f"[{subject}]" if subject else "")


def rank(impact) -> int:
    """0 for critical, up to len(IMPACTS) for an impact the page does not know."""
    return IMPACTS.index(impact) if impact in IMPACTS else len(IMPACTS)


def impact_rank(check: dict) -> int:
    """A check's impact's rank."""
    return rank(check.get("impact"))


def counts(host: dict) -> dict[str, int]:
    """The host's checks per outcome (all of SEVERITY), from its checks, or from its summary when
    it lists none (a summary without "waived" has none)."""
    checks = host.get("checks") or []
    if checks:
        found = [outcome(c) for c in checks]
        return {o: found.count(o) for o in SEVERITY}
    summary = host.get("summary") or {}
    return {o: summary[o] if isinstance(summary.get(o), int) else 0 for o in SEVERITY}


def most_severe(checks: list[dict]) -> dict | None:
    """The failed check of highest impact (first listed among equals), else the first error."""
    for wanted in ("failed", "error"):
        found = [c for c in checks if outcome(c) == wanted]
        if found:
            return min(found, key=impact_rank)
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _failing_reason(check: dict) -> str:
    title, message = one_line(check.get("title")), one_line(check.get("message"))
    if outcome(check) == "error":
        return f"{check_name(check)} could not be checked: {message or title}"
    impact = one_line(check.get("impact"))
    head = check_name(check) + (f" ({impact})" if impact else "") + (f": {title}" if title else "")
    return f"{head}: {message}" if message else head


def host_verdict(host: dict) -> Verdict:
    """ok (waived checks are not failing), n failing (the reason: the most severe failing check),
    unreachable (every check an error with one cause: the reason), or not checked."""
    checks = host.get("checks") or []
    n = counts(host)
    total = sum(n.values())
    if total == 0:
        return Verdict("unchecked", "not checked", "No check ran on this host.")
    if checks and n["error"] == total:
        causes = {one_line(c.get("message")) for c in checks}
        if len(causes) == 1 and causes != {""}:
            return Verdict("unreachable", "unreachable", causes.pop())
        return Verdict("unchecked", "not checked", "No check could be carried out: " + _failing_reason(checks[0]))
    if n["failed"] or n["error"]:
        parts = [f"{n['failed']} failing"] if n["failed"] else []
        parts += [_plural(n["error"], "error")] if n["error"] else []
        worst_check = most_severe(checks)
        reason = _failing_reason(worst_check) if worst_check else f"{total - n['passed']} checks did not pass."
        return Verdict("failing", ", ".join(parts), reason)
    label = "ok" + (f" · {n['waived']} waived" if n["waived"] else "")
    said = [f"{n['passed']} passed"] + [f"{n[o]} {o}" for o in ("skipped", "waived") if n[o]]
    return Verdict("ok", label, "Nothing failing: " + ", ".join(said) + ".")


def totals(hosts: list[dict]) -> tuple[dict[str, int], dict[str, int]]:
    """Hosts per verdict state and checks per outcome, over all hosts."""
    by_verdict = {v: 0 for v in VERDICTS}
    by_outcome = {o: 0 for o in SEVERITY}
    for host in hosts:
        by_verdict[host_verdict(host).state] += 1
        for o, k in counts(host).items():
            by_outcome[o] += k
    return by_verdict, by_outcome
