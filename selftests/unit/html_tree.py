"""A page parsed into a tree of elements (html.parser), to assert on its structure, not its bytes."""
from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None = None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def __getitem__(self, name: str) -> str | None:
        return self.attrs[name]

    def get(self, name: str, default=None):
        return self.attrs.get(name, default)

    def iter(self, tag: str | None = None, **attrs: str):
        """Every element below this one (depth first) with that tag and those attributes
        (data_piece="bridge" matches data-piece, class_ class; True matches any value)."""
        for child in self.children:
            if isinstance(child, Node):
                wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
                if (tag is None or child.tag == tag) and all(
                        k in child.attrs and (v is True or child.attrs[k] == v) for k, v in wanted.items()):
                    yield child
                yield from child.iter(tag, **attrs)

    def all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        return list(self.iter(tag, **attrs))

    def one(self, tag: str | None = None, **attrs: str) -> Node:
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}> found, expected one"
        return found[0]

    def text(self) -> str:
        """The text below this element, whitespace runs made single spaces."""
        parts: list[str] = []

        def walk(node: Node) -> None:
            for child in node.children:
                parts.append(child) if isinstance(child, str) else walk(child)
        walk(self)
        return " ".join("".join(parts).split())

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.at = Node("#document", {})
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_startendtag(self, tag, attrs):
        self.at.children.append(Node(tag, dict(attrs), self.at))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.at.tag != tag:
            self.problems.append(f"</{tag}> closes <{self.at.tag}>")
            while self.at.parent is not None and self.at.tag != tag:
                self.at = self.at.parent
        if self.at.parent is not None:
            self.at = self.at.parent

    def handle_data(self, data):
        self.at.children.append(data)


def visible_text(tree: Node) -> str:
    """The page's text as a reader sees it: its scripts and styles emptied (in place) first."""
    for code in tree.all("script") + tree.all("style"):
        code.children.clear()
    return tree.text()


def parse(page: str) -> Node:
    """The page's tree; raises AssertionError if an end tag does not close the open element."""
    builder = _Builder()
    builder.feed(page)
    builder.close()
    assert not builder.problems and builder.at is builder.root, builder.problems[:5] or f"<{builder.at.tag}> left open"
    return builder.root
