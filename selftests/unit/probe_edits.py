"""One fact changed in a recorded probe output: small text edits, one per fault, that leave
everything else of the recording as it was (so the parsers read each changed fact too)."""
from __future__ import annotations

import json
import re


def _span(text: str, name: str) -> re.Match:
    match = re.search(rf"^@@virtnat:begin {re.escape(name)}\n(.*?)\n?^@@virtnat:end {re.escape(name)} rc=(\d+)$", text, re.M | re.S)
    assert match, f"the recording has no {name} section"
    return match


def body(text: str, name: str) -> str:
    return _span(text, name).group(1)


def with_body(text: str, name: str, new: str, rc: int | None = None) -> str:
    match = _span(text, name)
    code = match.group(2) if rc is None else str(rc)
    return f"{text[:match.start()]}@@virtnat:begin {name}\n{new}\n@@virtnat:end {name} rc={code}{text[match.end():]}"


def sub(text: str, name: str, old: str, new: str, count: int = 1) -> str:
    """Replace `old` by `new` in one section, which must hold it."""
    part = body(text, name)
    assert old in part, f"{old!r} is not in section {name}"
    return with_body(text, name, part.replace(old, new, count))


def drop_lines(text: str, name: str, pattern: str) -> str:
    part = body(text, name)
    kept = [line for line in part.splitlines() if not re.search(pattern, line)]
    assert len(kept) < len(part.splitlines()), f"no line of {name} matches {pattern!r}"
    return with_body(text, name, "\n".join(kept))


def edit_links(text: str, name: str, change) -> str:
    """change(entries) edits the parsed `ip -j` JSON of section name (ip-link or ip-addr) in place."""
    entries = json.loads(body(text, name))
    change(entries)
    return with_body(text, name, json.dumps(entries))


def link(entries: list[dict], ifname: str) -> dict:
    return next(e for e in entries if e["ifname"] == ifname)


def add_sysctl_file(text: str, path: str, content: str) -> str:
    return with_body(text, "sysctl-files", f"{body(text, 'sysctl-files')}\n@@file {path} {path}\n{content}\n")


def without_forwarding_files(text: str) -> str:
    """Every persisted forwarding assignment commented out."""
    part = body(text, "sysctl-files")
    lines = ["#" + line if re.match(r"\s*net\.ipv[46]\.(ip_forward|conf\.all\.forwarding)\s*=", line) else line
             for line in part.splitlines()]
    return with_body(text, "sysctl-files", "\n".join(lines))


def edit_nft(text: str, change) -> str:
    """change(ruleset items) edits the `nft -j list ruleset` section in place."""
    document = json.loads(body(text, "nft"))
    change(document["nftables"])
    return with_body(text, "nft", json.dumps(document))
