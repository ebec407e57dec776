"""Text for the HTML page: every value from a document or its evidence, escaped, never a repr."""
from __future__ import annotations

import json
import re
from html import escape


def text(value) -> str:
    """value as a reader sees it: strings as they are, None as nothing, anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)  # the document and evidence are JSON data


def esc(value) -> str:
    """text(value), escaped for element content and quoted attribute values alike."""
    return escape(text(value))  # quotes too


def one_line(value) -> str:
    """text(value) with its whitespace runs (newlines too) made single spaces."""
    return " ".join(text(value).split())


def anchor(*parts) -> str:
    """An element id from parts (indexes and the page's own names): letters, digits and dashes only."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", "-".join(str(p) for p in parts)).strip("-") or "x"


def pretty(value) -> str:
    """A fact as the page shows it: JSON indented, a string as it is."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)
