"""The inline SVG picture of one host's packet path (guests, virbr0, forwarding, firewall, uplink,
with dnsmasq and libvirt beside it), each piece coloured and labelled by the checks that judge it."""
from __future__ import annotations

import textwrap

from .markup import anchor as safe_id
from .markup import esc, one_line, text
from .verdict import SEVERITY, check_name, outcome, worst

PIECES = ("guests", "bridge", "forwarding", "firewall", "uplink", "dnsmasq", "libvirt")
OTHER = "other"  # checks of an area no piece stands for
LABELS = {"guests": "guests", "bridge": "bridge", "forwarding": "host forwarding", "firewall": "firewall",
          "uplink": "uplink", "dnsmasq": "dnsmasq", "libvirt": "libvirt", OTHER: "other checks"}
CHECK_PIECES = {
    **{f"VM-0{n}": "guests" for n in range(1, 5)},
    **{f"NET-{n:02}": "bridge" for n in range(6, 11)},
    **{f"HOST-0{n}": "forwarding" for n in (5, 6, 7)},
    **{i: "firewall" for i in ("HOST-02", "HOST-03", "NET-11", "NET-12", "NET-14", "NET-16", "PATH-03", "PATH-04")},
    **{i: "uplink" for i in ("HOST-08", "HOST-09")},
    **{i: "dnsmasq" for i in ("NET-13", "NET-15", "PATH-01", "PATH-02")},
    **{i: "libvirt" for i in ("HOST-01", "HOST-04", "NET-01", "NET-02", "NET-03", "NET-04", "NET-05")},
}
AREA_PIECES = {"HOST": "libvirt", "NET": "libvirt", "VM": "guests"}  # ids newer than CHECK_PIECES

W, GAP = 160, 36  # a box of the path and the arrow between two
CHAIN = ("guests", "bridge", "forwarding", "firewall", "uplink", "outside")
CHAIN_Y, CHAIN_H = 104, 116
BOXES = {name: (10 + i * (W + GAP), CHAIN_Y, W, CHAIN_H) for i, name in enumerate(CHAIN)}
BOXES["libvirt"] = (10, 10, 2 * W + GAP, 66)
BOXES["dnsmasq"] = (BOXES["bridge"][0], 252, W, 66)
SIZE = (BOXES["outside"][0] + W + 10, 330)
PX_PER_CHAR = 6.4  # a fact line's average character width at the picture's font size
GUEST_LINES = 4


def piece_of(check_id) -> str:
    """The piece a check judges: from CHECK_PIECES, else by its area (HOST-10 -> libvirt), else OTHER."""
    name = text(check_id)
    if name in CHECK_PIECES:
        return CHECK_PIECES[name]
    return AREA_PIECES.get(name.partition("-")[0], OTHER)


def by_piece(checks: list[dict]) -> dict[str, list[tuple[int, dict]]]:
    """(index in checks, check) per piece, for every piece and OTHER, in PIECES' order."""
    found: dict[str, list[tuple[int, dict]]] = {p: [] for p in (*PIECES, OTHER)}
    for i, check in enumerate(checks):
        found[piece_of(check.get("id"))].append((i, check))
    return found


def piece_state(checks: list[dict]) -> str:
    """The worst outcome among checks (failed, error, waived, skipped, passed), or "none"."""
    return worst(outcome(c) for c in checks) or "none"


def piece_status(checks: list[dict]) -> str:
    """The state in words: "2 failing · 1 error", "ok · 1 waived", "ok", "skipped", "no checks"."""
    if not checks:
        return "no checks"
    n = {o: sum(1 for c in checks if outcome(c) == o) for o in SEVERITY}
    bad = [f"{n['failed']} failing"] if n["failed"] else []
    bad += [f"{n['error']} error" + "s" * (n["error"] > 1)] if n["error"] else []
    if bad:
        return " · ".join(bad + ([f"{n['waived']} waived"] if n["waived"] else []))
    if not n["passed"] and not n["waived"]:
        return "skipped"
    return " · ".join(["ok"] + [f"{n[o]} {o}" for o in ("waived", "skipped") if n[o]])


def _guests(pieces: dict, checks: list[dict]) -> list[tuple[str, str, str]] | None:
    """(guest, tap, detail) per guest interface: the evidence's, else the VM checks' subjects;
    None when neither knows."""
    listed = pieces.get("guests")
    if isinstance(listed, list):
        return [(one_line(g.get("guest")), one_line(g.get("tap")), one_line(g.get("detail")))
                for g in listed if isinstance(g, dict)]
    subjects = [s for s in dict.fromkeys(text(c.get("subject")) for c in checks if piece_of(c.get("id")) == "guests") if s]
    return [(s.rpartition(":")[0] or s, s.rpartition(":")[2], "") for s in subjects] or None


def _lines(x: float, y: float, lines: list[tuple[str, str]]) -> str:
    """SVG text lines from (css class, text), 15 px apart, starting at baseline y."""
    return " ".join(f'<text x="{x}" y="{y + 15 * i}" class="{cls}">{esc(line)}</text>' for i, (cls, line) in enumerate(lines))


def _chars(name: str) -> int:
    """How many characters of a fact fit on a line of the piece's box."""
    return int((BOXES[name][2] - 20) / PX_PER_CHAR)


def _clip(line: str, chars: int) -> str:
    return line if len(line) <= chars else line[:chars - 1] + "…"


def _fact_lines(fact, room: int, chars: int) -> list[tuple[str, str]]:
    wrapped = textwrap.wrap(one_line(fact), chars, max_lines=room, placeholder="…") if fact else []
    return [("fact", line) for line in wrapped] or [("fact unknown", "unknown")]


def _guest_lines(guests, checks: list[dict]) -> tuple[list[tuple[str, str]], str]:
    """The guests box's lines (each with its own VM checks' state) and its <title> text."""
    if guests is None:
        return [("fact unknown", "unknown")], "guests unknown"
    if not guests:
        return [("fact", "no running guest")], "no running guest"
    lines = []
    for guest, tap, _ in guests[:GUEST_LINES]:
        mine = [c for c in checks if text(c.get("subject")) in (f"{guest}:{tap}", guest)]
        state = piece_state(mine)
        mark = "✗ " if state in ("failed", "error") else ""  # in words too, not only in red
        lines.append((f"fact g-{state}", _clip(f"{mark}{guest} · {tap}", _chars("guests"))))
    if len(guests) > GUEST_LINES:
        lines.append(("fact", f"+{len(guests) - GUEST_LINES} more"))
    return lines, "; ".join(f"{g} tap {t}" + (f": {d}" if d else "") for g, t, d in guests)


def _piece(name: str, target: str, checks: list[dict], lines: list[tuple[str, str]], about: str) -> str:
    """One piece: a link to its checks, a box in its state's colour, its name, state and facts."""
    x, y, w, h = BOXES[name]
    state, status = piece_state(checks), piece_status(checks)
    judged = ", ".join(f"{check_name(c)} {outcome(c)}" for c in checks) or "none"
    title = f"{LABELS[name]}: {status}. {about}. Checks: {judged}"
    body = _lines(x + 10, y + 20, [("label", LABELS[name]), ("status", status), *lines])
    return (f'<g class="piece s-{state}" data-piece="{name}" data-state="{state}"><a href="#{esc(target)}">'
            f"<title>{esc(title)}</title>"
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8"/>{body}</a></g>')


def _arrows() -> str:
    """The chain's arrows, and the dashed links from the bridge to dnsmasq and libvirt."""
    out = []
    for left in CHAIN[:-1]:
        x, y, w, h = BOXES[left]
        x0, x1, ym = x + w, x + w + GAP, y + h / 2
        out.append(f'<path class="flow" d="M{x0 + 2},{ym} H{x1 - 8}"/>'
                   f'<path class="head" d="M{x1 - 9},{ym - 5} L{x1 - 2},{ym} L{x1 - 9},{ym + 5} Z"/>')
    bx, by, bw, bh = BOXES["bridge"]
    mid = bx + bw / 2
    out.append(f'<path class="side" d="M{mid},{by + bh} V{BOXES["dnsmasq"][1]}"/>'
               f'<text class="note" x="{mid + 6}" y="{by + bh + 20}">DHCP · DNS on the gateway</text>')
    out.append(f'<path class="side" d="M{mid},{BOXES["libvirt"][1] + BOXES["libvirt"][3]} V{by}"/>'
               f'<text class="note" x="{mid + 6}" y="{by - 10}">defines</text>')
    return "".join(out)


def _outside() -> str:
    x, y, w, h = BOXES["outside"]
    return (f'<g class="piece s-none" data-piece="outside" data-state="none"><title>outside: where masqueraded guest '
            f'traffic goes</title><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="40"/>'
            f'{_lines(x + 10, y + 20, [("label", "outside"), ("fact", "LAN, internet")])}</g>')


def host_picture(host_name: str, checks: list[dict], pieces: dict, anchor: str = "h0") -> str:
    """An inline <svg> of host_name's packet path; each piece (<g data-piece data-state>) links to
    `#{anchor}-p-{piece}`. pieces: the evidence's fact line per piece (any may be missing)."""
    pieces, anchor = (pieces if isinstance(pieces, dict) else {}), safe_id(anchor)
    grouped = {p: [c for _, c in found] for p, found in by_piece(checks).items()}
    parts = [_arrows()]
    for name in PIECES:
        target = f"{anchor}-p-{name}"
        if name == "guests":
            lines, about = _guest_lines(_guests(pieces, checks), grouped[name])
        else:
            fact = pieces.get(name)
            lines, about = _fact_lines(fact, 4 if name in CHAIN else 1, _chars(name)), one_line(fact) or "facts unknown"
        parts.append(_piece(name, target, grouped[name], lines, about))
    parts.append(_outside())
    w, h = SIZE
    return (f'<svg class="path" viewBox="0 0 {w} {h}" role="group" aria-label="packet path of {esc(host_name)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>Packet path of {esc(host_name)}: guests, virbr0, forwarding, '
            f"firewall, uplink; dnsmasq and libvirt beside it</title>{''.join(parts)}</svg>")
