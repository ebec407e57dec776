"""A fleet's page opens with its problems by cause (causes.py): one row per cause, with its
impact, its check (or checks), what was found, how many hosts and which, folded."""
from __future__ import annotations

from typing import Callable

from .causes import Cause
from .markup import anchor, esc

SHOWN_CHECKS = 2  # a cause's further checks are folded


def _check(check_id: str, title: str) -> str:
    return f'<span class="id">{esc(check_id)}</span> {esc(title)}'


def _checks(cause: Cause) -> str:
    shown = "<br>".join(_check(i, t) for i, t, _ in cause.checks[:SHOWN_CHECKS])
    rest = cause.checks[SHOWN_CHECKS:]
    if not rest:
        return shown
    return (f'{shown}<details class="more"><summary>and {len(rest)} more checks</summary>'
            + "<br>".join(_check(i, t) for i, t, _ in rest) + "</details>")


def cause_row(cause: Cause, link: Callable[[int], str]) -> str:
    """One cause as a table row (data-outcome, data-ids, data-hosts: the number of hosts); link:
    the href of a host's detail, from its index."""
    impact = f'<span class="impact i-{anchor(cause.impact)}">{esc(cause.impact)}</span>' if cause.impact else ""
    hosts = ", ".join(f'<a href="{esc(link(h))}">{esc(name)}</a>' for h, name in cause.hosts)
    said = ("could not be checked: " if cause.outcome == "error" else "") + (esc(cause.message) or "(no message)")
    n = len(cause.hosts)
    return (f'<tr class="cause o-{cause.outcome}" data-outcome="{cause.outcome}" '
            f'data-ids="{esc(" ".join(i for i, _, _ in cause.checks))}" data-hosts="{n}">'
            f"<td>{impact}</td>"
            f"<td>{_checks(cause)}</td>"
            f'<td><span class="badge b-{cause.outcome}">{cause.outcome}</span> {said}</td>'
            f'<td class="n">{n}</td>'
            f'<td><details class="on"><summary>{n} host{"" if n == 1 else "s"}</summary>{hosts}</details></td></tr>')


def causes_html(causes: list[Cause], link: Callable[[int], str]) -> str:
    """The problems by cause, worst impact and most hosts first; a line when there are none."""
    if not causes:
        return ('<section class="causes"><h2>Problems by cause</h2>'
                "<p>None: on every host every check passed, was skipped or was waived.</p></section>")
    head = "".join(f"<th>{h}</th>" for h in ("impact", "check", "what was found (each host's own names as ‹…›)", "hosts", "which"))
    return (f'<section class="causes"><h2>Problems by cause ({len(causes)})</h2>'
            f'<table class="causes"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(cause_row(c, link) for c in causes)}</tbody></table></section>')
