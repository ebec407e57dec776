"""The audit's terminal summary: each check that did not pass, with its fix; one cause said once."""
from __future__ import annotations

from .inert import inert
from .results import Results


def write_summary(tr, error: str | None, by_host: dict, written, not_audited=()) -> None:
    """error: why the audit did not run; by_host: host -> its CheckResults; written: the
    finish's reports and problems; not_audited: a line per file of a facts directory left out.
    What hosts said (names, messages) is shown inert: a control character in it neither starts
    a line nor reaches the terminal."""
    if error:
        tr.write_line(f"ERROR: {inert(error)}", red=True, bold=True)
    for line in not_audited:
        tr.write_line(f"virtnat: {inert(line)}", yellow=True)
    for host, checks in by_host.items():
        tr.write_sep("-", f"virtnat: {inert(host)}")
        errors: dict[str, list[str]] = {}
        for c in checks:
            name = inert(c.name)
            if c.outcome == "error":
                errors.setdefault(inert(c.message), []).append(name)
            elif c.outcome != "passed" or c.message:
                tr.write_line(f"{name:7} {c.outcome.upper():7} {inert(c.title)}: {inert(c.message)}")
                if c.outcome == "failed" and c.remediation:
                    tr.write_line(f"{'':15} fix: {inert(c.remediation)}")
                if c.outcome == "waived" and c.waiver:
                    tr.write_line(f"{'':15} waived until {c.waiver['expires']}: {inert(c.waiver['reason'])}")
        for message, names in errors.items():
            tr.write_line(f"ERROR   {', '.join(names)}: not checked: {message}")
        summary = Results.summary(checks)
        tr.write_line(", ".join(f"{n} {k}" for k, n in summary.items() if n or k != "waived"))  # waived when there are any
    for problem in written.problems:
        tr.write_line(f"virtnat: {inert(problem)}", red=True)
    tr.write_line(f"virtnat: {'  '.join(written.reports)}" if written.reports else "virtnat: no report written")
