"""The HTML report an operator reads: one self-contained page from the audit document and the
evidence the plugin gathered (either may lack any part: the page says what it has)."""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterator
from urllib.parse import quote

from .causes import causes, own_names
from .markup import anchor, esc, text
from .page_assets import CSS, JS, csp
from .page_causes import causes_html
from .page_checks import checks_html, facts_html, piece_lists
from .page_profile import profile_html
from .page_since import since_html
from .picture import host_picture
from .since import Since
from .verdict import SEVERITY, VERDICTS, Verdict, counts, host_verdict, totals

HOST_WORDS = {"ok": "ok", "failing": "failing", "unreachable": "unreachable", "unchecked": "not checked"}
LEGEND = (("failed", "failing or not checked"), ("waived", "waived"), ("skipped", "skipped"), ("passed", "ok"),
          ("none", "no checks"))


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def duration(started, finished) -> str:
    """How long the audit took ("1.2 s"), or "" when the times are not both ISO 8601."""
    try:
        seconds = (datetime.fromisoformat(text(finished)) - datetime.fromisoformat(text(started))).total_seconds()
    except (TypeError, ValueError):
        return ""
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def header(document: dict, hosts: list[dict]) -> str:
    """Title, version, times, and the totals: hosts by verdict, checks by outcome."""
    by_verdict, by_outcome = totals(hosts)
    took = duration(document.get("started"), document.get("finished"))
    meta = (f"virtnat {esc(document.get('version')) or '?'} · started {esc(document.get('started')) or '?'}"
            f" · finished {esc(document.get('finished')) or '?'}" + (f" ({took})" if took else ""))
    said = [f"<b>{by_verdict[v]}</b> {HOST_WORDS[v]}" for v in ("ok", "failing", "unreachable", "unchecked")
            if by_verdict[v] or v != "unchecked"]
    data = " ".join([f'data-{v}="{n}"' for v, n in by_verdict.items()] + [f'data-{o}="{n}"' for o, n in by_outcome.items()])
    return (f'<header><h1>virtnat audit</h1><p class="meta">{meta}</p>'
            f'<p class="totals" id="totals" {data}>Hosts: {len(hosts)} · {" · ".join(said)}<br>'
            f'Checks: {sum(by_outcome.values())} · {" · ".join(f"{n} {o}" for o, n in by_outcome.items())}</p></header>')


def _verdict(verdict: Verdict) -> str:
    return f'<span class="verdict v-{verdict.state}">{esc(verdict.label)}</span>'


def host_table(judged: list[tuple[int, dict, Verdict]], link: Callable[[int], str]) -> str:
    """One row per host, worst verdict first: its verdict, counts, reason and a link to its detail
    (link: its href, from the host's index)."""
    rows = []
    for h, host, verdict in judged:
        n = counts(host)
        cells = "".join(f'<td class="n">{n[o]}</td>' for o in SEVERITY)
        rows.append(f'<tr data-h="{h}" data-host="{esc(host.get("host"))}" data-verdict="{verdict.state}">'
                    f'<td><a href="{esc(link(h))}">{esc(host.get("host"))}</a></td><td>{_verdict(verdict)}</td>'
                    f"{cells}<td>{esc(verdict.reason)}</td></tr>")
    head = "".join(f"<th>{o}</th>" for o in ("host", "verdict", *SEVERITY, "reason"))
    return f'<table class="hosts"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def filters() -> str:
    """The filter bar; hidden until the script shows it (without the script nothing is filtered)."""
    boxes = "".join(f'<label><input type="checkbox" name="outcome" value="{o}" checked> {o}</label>' for o in SEVERITY)
    return (f'<form id="filters" class="filters" method="get" hidden><fieldset><legend hidden>outcomes</legend>{boxes}'
            '</fieldset><label>check id or host <input type="search" name="q" size="18" placeholder="NET-07, hv1"></label>'
            '<output id="shown"></output></form>')


def host_section(h: int, host: dict, verdict: Verdict, evidence: dict) -> str:
    """A host: verdict and reason, picture, its pieces' checks, every check, its raw facts."""
    name, checks = text(host.get("host")), [c for c in host.get("checks") or [] if isinstance(c, dict)]
    facts, fact_links = facts_html(evidence.get("facts"), h)
    n = counts(host)
    legend = "".join(f'<i class="s-{state}"></i>{words}' for state, words in LEGEND)
    picture = host_picture(name, checks, _dict(evidence.get("pieces")), anchor(f"h{h}")) if checks else ""
    return (f'<section class="host" id="{anchor(f"h{h}")}" data-h="{h}" data-host="{esc(name)}" data-verdict="{verdict.state}">'
            f'<h2>{esc(name)} {_verdict(verdict)}</h2><p class="reason">{esc(verdict.reason)}</p>'
            f'<p class="counts">{" · ".join(f"{n[o]} {o}" for o in SEVERITY)}</p>'
            + (f'{picture}<p class="legend">{legend}</p>{piece_lists(checks, h)}' if picture else "")
            + checks_html(checks, (name, h), evidence, fact_links, verdict.state == "unreachable") + facts
            + "</section>")


def render_html(document: dict, evidence: dict) -> str:
    """The whole HTML5 page, as one text (see html_parts)."""
    return "".join(html_parts(document, evidence))


def host_href(folder: str, file: str) -> str:
    """The link from the page to a host's page in folder beside it."""
    return f"{quote(folder)}/{quote(file)}"


def html_parts(document: dict, evidence: dict, files: tuple[str, list[str]] | None = None,
               back: str | None = None, since: Since | None = None) -> Iterator[str]:
    """The HTML5 page, part by part, each host's section made only when it is asked for (a
    fleet's page is large, written as it is made): header and totals (or why the audit did not
    run), the filters, with more than one host the problems by cause, what changed since the
    previous run and the hosts table (worst first), the profile, then each host's section.

    files: (folder, file name per host): each host's detail is a page of its own there (made by
    page_fleet), linked from the causes and the hosts table, instead of a section of this page
    (which then has no checks to filter). back: on such a host's page, the link to the fleet's.
    since: what changed since the previous run, said after the causes (with more than one host)."""
    document, evidence = _dict(document), _dict(evidence)
    error = text(document.get("error"))
    hosts = [] if error else [h for h in document.get("hosts") or [] if isinstance(h, dict)]
    judged = sorted(((h, host, host_verdict(host)) for h, host in enumerate(hosts)),
                    key=lambda item: VERDICTS.index(item[2].state))
    failing = sum(1 for _, _, v in judged if v.state != "ok")
    title = "virtnat audit" + (": not run" if error else f": {failing} of {len(hosts)} hosts not ok" if hosts else "")
    if back and len(hosts) == 1:
        title = f"virtnat audit: {text(hosts[0].get('host'))}"
    yield ("<!DOCTYPE html>\n"
           f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
           f'<meta http-equiv="Content-Security-Policy" content="{esc(csp())}"><link rel="icon" href="data:,">'
           f"<title>{esc(title)}</title><style>{CSS}</style></head><body>")
    if back:
        yield f'<nav class="back"><a href="{esc(back)}">← every host of this audit</a></nav>'
    yield header(document, hosts)
    if error:
        yield f'<p class="banner" role="alert">Audit not run: {esc(" ".join(error.split()))}</p>'
    elif not hosts:
        yield '<p class="banner" role="alert">No host in this audit.</p>'
    apart = files is not None and len(hosts) > 1
    if hosts and not apart:
        yield filters()
    if len(hosts) > 1:
        link = (lambda h: host_href(files[0], files[1][h])) if apart else (lambda h: "#" + anchor(f"h{h}"))
        yield causes_html(causes({**document, "hosts": hosts}, own_names(evidence, document.get("profile"))), link)
        index: dict[str, int] = {}
        for h, host in enumerate(hosts):
            index.setdefault(text(host.get("host")), h)
        yield since_html(since, lambda name: link(index[name]) if name in index else None)
        yield f'<h2 class="hosts">Hosts ({len(hosts)})</h2>' + host_table(judged, link)
    yield profile_html(document.get("profile"), evidence.get("profile_defaults"))
    host_evidence = _dict(evidence.get("hosts"))
    for h, host, verdict in [] if apart else judged:
        yield host_section(h, host, verdict, _dict(host_evidence.get(text(host.get("host")))))
    yield f"<script>{JS}</script></body></html>\n"
