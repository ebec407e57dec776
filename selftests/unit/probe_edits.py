"""One fact changed in a recorded probe output: small text edits, one per fault, that leave
everything else of the recording as it was (so the parsers read each changed fact too)."""
from __future__ import annotations

import json
import re


def _mark(text: str) -> str:
    return re.search(r"^@@virtnat-probe 2 (\w+)$", text, re.M).group(1)


def _span(text: str, name: str) -> tuple[re.Match, str]:
    """Section `name`; `net-info:default` or `dom-xml:GUEST` also finds the section the probe
    keyed by the network's or guest's UUID (the name is in its XML)."""
    mark = _mark(text)
    frame = rf"^@@{mark} begin {{}}\n(.*?)\n?^@@{mark} end {{}} rc=(\d+)$"
    match = re.search(frame.format(re.escape(name), re.escape(name)), text, re.M | re.S)
    kind, _, who = name.partition(":")
    if match is None and who:
        xml = "dom-xml" if kind == "dom-xml" else "net-xml"
        for found in re.finditer(frame.format(f"{xml}:(\\S+)", f"{xml}:\\1"), text, re.M | re.S):
            if f"<name>{who}</name>" in found.group(2):
                return _span(text, f"{kind}:{found.group(1)}")
    assert match, f"the recording has no {name} section"
    return match, name


def body(text: str, name: str) -> str:
    return _span(text, name)[0].group(1)


def with_body(text: str, name: str, new: str, rc: int | None = None) -> str:
    (match, name), mark = _span(text, name), _mark(text)
    code = match.group(2) if rc is None else str(rc)
    return f"{text[:match.start()]}@@{mark} begin {name}\n{new}\n@@{mark} end {name} rc={code}{text[match.end():]}"


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


def add_section(text: str, name: str, new: str, rc: int = 0) -> str:
    """A section the recording lacks, framed as the probe frames it, before the done marker."""
    mark = _mark(text)
    done = f"@@{mark} done\n"
    assert done in text and f"@@{mark} begin {name}\n" not in text, name
    return text.replace(done, f"@@{mark} begin {name}\n{new}\n\n@@{mark} end {name} rc={rc}\n{done}")


def net_xml_key(text: str, network: str = "default") -> str:
    """The key (UUID) of the network's sections."""
    return _span(text, f"net-xml:{network}")[1].partition(":")[2]


def rename_nft_table(text: str, old: str, new: str) -> str:
    """The nft table `old` (any family) called `new`, in its table, chain and rule objects."""
    def change(items):
        for item in items:
            for kind, value in item.items():
                if kind == "table" and value.get("name") == old:
                    value["name"] = new
                elif isinstance(value, dict) and value.get("table") == old:
                    value["table"] = new
    return edit_nft(text, change)


def rename_guest(text: str, old: str, new: str) -> str:
    """The running guest `old` called `new` in its domain XML (escaped as XML text)."""
    from xml.sax.saxutils import escape
    return sub(text, f"dom-xml:{old}", f"<name>{old}</name>", f"<name>{escape(new)}</name>")


def rename_link(text: str, old: str, new: str) -> str:
    """The interface `old` called `new` in the links and addresses, and in the guests' XML."""
    from xml.sax.saxutils import quoteattr
    for section in ("ip-link", "ip-addr"):
        text = edit_links(text, section, lambda entries: [e.update(ifname=new) for e in entries if e.get("ifname") == old])
    for name in re.findall(r"^@@\w+ begin (dom-xml:\S+)$", text, re.M):
        part = body(text, name)
        text = with_body(text, name, part.replace(f"dev='{old}'", f"dev={quoteattr(new)}"))
    return text
