"""Text from a host, made inert for a terminal, a log line or an XML file: every character that
could move the cursor, start a line, retitle or clear a terminal, reorder what is shown or make
a file not well-formed is shown as a visible escape instead."""
from __future__ import annotations

import re

# C0 controls (newline and tab too: inside one value they would start a line or shift columns),
# DEL and C1 controls (U+0085 NEL, U+009B CSI), the line and paragraph separators, the
# bidirectional formatting characters (they make shown text read in another order), lone
# surrogates (no encoding writes them) and U+FFFE/U+FFFF (not allowed in XML).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def inert(text: str) -> str:
    """text with each unsafe character shown as an escape (`\\x1b`, `\\n`, `\\u2028`); text
    without one is returned unchanged, backslashes included."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text
