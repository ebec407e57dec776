"""The documents' relative links lead somewhere: every `[text](path)` and `[text](path#anchor)` in
README.md, CONTRIBUTING.md and docs/*.md names a file or directory of the repository, and an anchor
names a heading of its target (GitHub's slug of it). And the README stays short enough for an
operator: at most 300 lines."""

import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
DOCUMENTS = [PROJECT / "README.md", PROJECT / "CONTRIBUTING.md", *sorted((PROJECT / "docs").glob("*.md"))]
# [text](target) and ![alt](target); the text may run over a line break. Not inside code.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
INDENTED = re.compile(r"^(?: {4}|\t).*$", re.M)
CODE_SPAN = re.compile(r"`[^`]*`")


def prose(text: str) -> str:
    """The text without fenced or indented code blocks and inline code spans, where a link is text."""
    return CODE_SPAN.sub("", INDENTED.sub("", FENCE.sub("", text)))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: links as their text, lowercase, only letters, digits, `_`,
    `-` and spaces kept, each space a dash."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings; a repeated one gets -1, -2, as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#* *$", FENCE.sub("", path.read_text()), re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(document: Path) -> list[str]:
    return [target for target in LINK.findall(prose(document.read_text()))
            if not re.match(r"[a-z][a-z0-9+.-]*:", target, re.I)]


def test_the_documents_are_found():
    names = {path.relative_to(PROJECT).as_posix() for path in DOCUMENTS}
    assert {"README.md", "CONTRIBUTING.md", "docs/site-checks.md", "docs/mutation.md"} <= names


def broken_links(document: Path, root: Path = PROJECT) -> list[str]:
    """The relative links of a document that lead to no file or directory under root, or to no
    heading of the Markdown file they name."""
    broken = []
    for target in relative_links(document):
        path, _, anchor = target.partition("#")
        file = (document.parent / path).resolve() if path else document
        if not file.exists() or root not in (file, *file.parents):
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(root)}")
    return broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.relative_to(PROJECT).as_posix())
def test_every_relative_link_resolves(document):
    assert not broken_links(document), f"{document.name}: " + "; ".join(broken_links(document))


def test_the_readme_is_at_most_300_lines():
    lines = len((PROJECT / "README.md").read_text().splitlines())
    assert lines <= 300, f"README.md has {lines} lines: move what operators do not need to docs/"


@pytest.mark.parametrize(("heading", "anchor"), [
    ("systemd hosts: the next boot", "systemd-hosts-the-next-boot"),
    ("Collect now, audit later: fact bundles", "collect-now-audit-later-fact-bundles"),
    ("The guests' packets", "the-guests-packets"),
    ("In this repository: two commands", "in-this-repository-two-commands"),
    ("pytest-html's and pytest's own reports", "pytest-htmls-and-pytests-own-reports"),
    ("`virtnat diff`", "virtnat-diff"),
    ("See [the lab](docs/lab.md)", "see-the-lab"),
])
def test_slugs_are_githubs(heading, anchor):
    assert slug(heading) == anchor


def test_a_broken_link_and_a_missing_heading_are_found(tmp_path):
    (tmp_path / "a.md").write_text("# Title\n\n## Two words\n\n## Two words\n")
    doc = tmp_path / "b.md"
    doc.write_text("[ok](a.md#two-words-1) [gone](nothing.md) [no heading](a.md#three)\n"
                   "    [in code](nothing.md)\n`[span](nothing.md)` [web](https://example.net/x) [self](#b)\n")
    assert broken_links(doc, tmp_path) == ["nothing.md: no such file", "a.md#three: no heading #three in a.md",
                                           "#b: no heading #b in b.md"]
