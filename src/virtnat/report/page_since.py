"""What changed since the previous run, on the fleet's page: how many hosts got worse and better,
then the checks that changed alike on the same hosts, one row each with their hosts (folded): the
worse ones, then folded the better ones and the other changes; and the hosts that came or went."""
from __future__ import annotations

from typing import Callable

from .markup import esc
from .since import Moved, Since


def _hosts(names: tuple[str, ...], link: Callable[[str], str | None]) -> str:
    shown = ", ".join(f'<a href="{esc(link(n))}">{esc(n)}</a>' if link(n) else esc(n) for n in names)
    return f'<details class="on"><summary>{len(names)} host{"" if len(names) == 1 else "s"}</summary>{shown}</details>'


def _table(kind: str, moved: tuple[Moved, ...], link: Callable[[str], str | None]) -> str:
    rows = "".join(f'<tr class="moved" data-kind="{kind}" data-ids="{esc(" ".join(m.checks))}" data-hosts="{len(m.hosts)}">'
                   f'<td class="id">{esc(", ".join(m.checks))}</td><td><span class="badge b-{esc(m.old)}">{esc(m.old)}</span> → '
                   f'<span class="badge b-{esc(m.new)}">{esc(m.new)}</span></td><td class="n">{len(m.hosts)}</td>'
                   f"<td>{_hosts(m.hosts, link)}</td></tr>" for m in moved)
    return (f'<table class="since" data-kind="{kind}"><thead><tr><th>checks</th><th>was → is</th><th>hosts</th><th>which</th></tr>'
            f"</thead><tbody>{rows}</tbody></table>")


def since_html(since: Since | None, link: Callable[[str], str | None]) -> str:
    """The section; link: the href of a host's detail, from its name (None for a host not on the page)."""
    if since is None:
        return ""
    head = f'<section class="since"><h2>Since the previous run</h2><p class="meta">compared with {esc(since.label)}'
    if since.problem:
        return f"{head}: {esc(since.problem)}</p></section>"
    said = [f"<b>{since.hosts_worse}</b> host{'' if since.hosts_worse == 1 else 's'} got worse", f"<b>{since.hosts_better}</b> got better"]
    said += [f"{len(since.new_hosts)} new in this audit"] if since.new_hosts else []
    said += [f"{len(since.gone_hosts)} no longer in it"] if since.gone_hosts else []
    parts = [f'{head}</p><p class="totals">{" · ".join(said)}</p>']
    if since.worse:
        parts.append(f"<h3>Worse ({len(since.worse)})</h3>{_table('worse', since.worse, link)}")
    for kind, moved, words in (("better", since.better, "Better"), ("other", since.other, "Other changes")):
        if moved:
            parts.append(f'<details class="fold"><summary>{words} ({len(moved)})</summary>{_table(kind, moved, link)}</details>')
    for kind, names in (("new", since.new_hosts), ("gone", since.gone_hosts)):
        if names:
            parts.append(f'<div class="hostsmoved" data-kind="{kind}">{"New in this audit" if kind == "new" else "No longer in this audit"}: '
                         f"{_hosts(names, link)}</div>")
    if not (since.worse or since.better or since.other or since.new_hosts or since.gone_hosts):
        parts.append("<p>No check changed its outcome.</p>")
    return "".join(parts) + "</section>"
