"""A host's checks on the page: failures first, each with its message, its fix to copy and its
evidence folded; the checks of each piece of the picture; the host's raw facts, once, folded."""
from __future__ import annotations

from .markup import anchor, esc, one_line, pretty, text
from .picture import LABELS, OTHER, by_piece, piece_state, piece_status
from .verdict import check_name, impact_rank, outcome

SHOWN = ("failed", "error", "waived")  # listed open, in this order; skipped and passed are folded
HEADINGS = {"failed": "Failing", "error": "Could not be checked", "waived": "Waived"}


def check_evidence(checks_evidence, check: dict) -> dict:
    """The check's evidence entry ({"text", "facts"}), or {}."""
    found = checks_evidence.get(check_name(check)) if isinstance(checks_evidence, dict) else None
    return found if isinstance(found, dict) else {}


def _evidence(entry: dict, fact_links: dict[str, str], always: bool) -> str:
    """The folded evidence: the check's own text and links to the raw facts it judged."""
    walk = text(entry.get("text"))
    kinds = [text(k) for k in entry.get("facts") or [] if k] if isinstance(entry.get("facts"), list) else []
    if not walk and not (always and kinds):
        return ""
    links = ", ".join(f'<a href="#{fact_links[k]}">{esc(k)}</a>' if k in fact_links else f"{esc(k)} (not collected)"
                      for k in kinds)
    return ("<details class=\"evidence\"><summary>evidence</summary>" + (f"<pre>{esc(walk)}</pre>" if walk else "")
            + (f"<p>facts judged: {links}</p>" if links else "") + "</details>")


def _waiver(check: dict) -> str:
    waiver = check.get("waiver")
    if outcome(check) != "waived" or not waiver:
        return ""
    if not isinstance(waiver, dict):
        return f'<p class="waiver">waived: {esc(one_line(waiver))}</p>'
    until = f" until {esc(one_line(waiver.get('expires')))}" if waiver.get("expires") else ""
    return f'<p class="waiver">waived{until}: {esc(one_line(waiver.get("reason")))}</p>'


def check_html(check: dict, where: tuple[str, int, str], entry: dict, fact_links: dict[str, str], fix: bool) -> str:
    """One check as an <article class="check"> with data-outcome, data-id, data-subject, data-host
    and data-h (the host's index). where: (host name, host index, the article's id)."""
    host, h, own = where
    o = outcome(check)
    subject, impact, message = text(check.get("subject")), text(check.get("impact")), text(check.get("message"))
    head = (f'<p class="head"><span class="badge b-{o}">{o}</span> {esc(check.get("id"))}'
            + (f' <span class="subject">{esc(subject)}</span>' if subject else "")
            + f' <span class="title">{esc(check.get("title"))}</span>'
            + (f' <span class="impact i-{anchor(impact)}">{esc(impact)}</span>' if impact else "") + "</p>")
    remedy = text(check.get("remediation")) if fix and o in SHOWN else ""
    return (f'<article class="check o-{o}" id="{own}" data-outcome="{o}" data-id="{esc(check.get("id"))}" '
            f'data-subject="{esc(subject)}" data-host="{esc(host)}" data-h="{h}">{head}'
            + (f'<p class="msg">{esc(message)}</p>' if message else "") + _waiver(check)
            + (f'<div class="fix"><pre><code>{esc(remedy)}</code></pre>'
               '<button type="button" class="copy" hidden>copy</button></div>' if remedy else "")
            + _evidence(entry, fact_links, o in SHOWN) + "</article>")


def checks_html(checks: list[dict], host: tuple[str, int], evidence: dict, fact_links: dict[str, str], one_cause: bool) -> str:
    """The host's checks: failed, errors, waived, then skipped and passed folded (errors folded too
    when one cause, said in the verdict, stopped them all). host: (name, index)."""
    name, h = host
    checks_evidence = evidence.get("checks")
    rows: dict[str, list[tuple[int, dict]]] = {}
    for i, check in enumerate(checks):
        rows.setdefault(outcome(check), []).append((i, check))

    def articles(group: list[tuple[int, dict]], fix: bool) -> str:
        return "".join(check_html(c, (name, h, anchor(f"h{h}", f"c{i}")), check_evidence(checks_evidence, c), fact_links, fix)
                       for i, c in group)

    parts = []
    for o in SHOWN:
        group = sorted(rows.get(o, []), key=lambda ic: (impact_rank(ic[1]), ic[0]))  # the most severe first
        if not group:
            continue
        if o == "error" and one_cause:
            parts.append(f'<details class="group fold"><summary>{len(group)} checks could not be carried out '
                         f"(the cause is above)</summary>{articles(group, False)}</details>")
            continue
        parts.append(f'<div class="group"><h3>{HEADINGS[o]} ({len(group)})</h3>{articles(group, True)}</div>')
    rest = rows.get("skipped", []) + rows.get("passed", [])
    if rest:
        said = ", ".join(f"{len(rows[o])} {o}" for o in ("passed", "skipped") if rows.get(o))
        # (index, check) pairs: the indices are unique, so sorting never compares two checks
        parts.append(f'<details class="group fold"><summary>{said}</summary>{articles(sorted(rest), False)}</details>')
    return "".join(parts) or "<p>No check ran on this host.</p>"


def piece_lists(checks: list[dict], h: int) -> str:
    """Per piece of the picture, a folded list (the picture's link target) of its checks."""
    parts = []
    pieces = by_piece(checks)
    if not pieces[OTHER]:  # other checks' list, only when there are some
        del pieces[OTHER]
    for piece, found in pieces.items():
        mine = [c for _, c in found]
        items = "".join(f'<li><a href="#{anchor(f"h{h}", f"c{i}")}">{esc(c.get("id"))}'
                        + (f"[{esc(c.get('subject'))}]" if c.get("subject") else "")
                        + f"</a> {outcome(c)}: {esc(one_line(c.get('title')))}</li>" for i, c in found)
        state = piece_state(mine)
        parts.append(f'<details class="piecelist s-{state}" id="{anchor(f"h{h}", "p", piece)}" data-piece="{piece}" '
                     f'data-state="{state}"><summary>{LABELS[piece]}: {piece_status(mine)}</summary>'
                     + (f"<ul>{items}</ul>" if items else "") + "</details>")
    return f'<div class="piecelists">{"".join(parts)}</div>'


def facts_html(facts, h: int) -> tuple[str, dict[str, str]]:
    """The host's raw facts, each kind folded as pretty JSON (or why it was not collected), and
    the element id of each kind, for the checks' evidence to link to."""
    if not isinstance(facts, dict) or not facts:
        return "", {}
    links = {text(kind): anchor(f"h{h}", f"f{i}") for i, kind in enumerate(facts)}
    inner = "".join(f'<details class="fact" id="{links[text(kind)]}"><summary>{esc(kind)}</summary>'
                    f"<pre>{esc(pretty(value))}</pre></details>" for kind, value in facts.items())
    return (f'<details class="facts"><summary>Raw facts: {esc(", ".join(links))}</summary>{inner}</details>', links)
