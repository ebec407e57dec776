"""The audit's terminal summary: each check that did not pass, with its fix; one cause said once."""
from __future__ import annotations

from .results import Results


def write_summary(tr, state) -> None:
    if state.error:
        tr.write_line(f"ERROR: {state.error}", red=True, bold=True)
    for host, checks in state.results.by_host().items():
        tr.write_sep("-", f"virtnat: {host}")
        errors: dict[str, list[str]] = {}
        for c in checks:
            name = c.id + (f"[{c.subject}]" if c.subject else "")
            if c.outcome == "error":
                errors.setdefault(c.message, []).append(name)
            elif c.outcome != "passed" or c.message:
                tr.write_line(f"{name:7} {c.outcome.upper():7} {c.title}: {c.message}")
                if c.outcome == "failed" and c.remediation:
                    tr.write_line(f"{'':15} fix: {c.remediation}")
        for message, names in errors.items():
            tr.write_line(f"ERROR   {', '.join(names)}: not checked: {message}")
        summary = Results.summary(checks)
        tr.write_line(", ".join(f"{n} {k}" for k, n in summary.items()))
    xml = getattr(state.config.option, "xmlpath", None)
    written = [f"JSON {state.json_path}"] if state.json_written else []
    if state.reports_written:
        written += [f"HTML {state.html_path}", f"JUnit {xml}"]
    tr.write_line(f"virtnat: {'  '.join(written)}" if written else "virtnat: no report written")
