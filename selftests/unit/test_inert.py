"""Text from a host made inert: whatever it holds, it is shown on one line, sends no control to
a terminal, can be written in UTF-8 and stays well-formed in XML."""
import unicodedata
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import pytest

from virtnat.report.inert import inert

EVERY_CHARACTER = "".join(map(chr, range(0x110000)))
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.mark.parametrize("text, shown", [
    ("HOST-01\nHOST-01 PASSED everything fine", "HOST-01\\nHOST-01 PASSED everything fine"),
    ("\x1b]0;pwned\x07\x1b[2J", "\\x1b]0;pwned\\x07\\x1b[2J"),
    ("tab\there\rback", "tab\\there\\rback"),
    ("nul\x00del\x7f", "nul\\x00del\\x7f"),
    ("c1 csi\x9b2J nel\x85", "c1 csi\\x9b2J nel\\x85"),
    ("line\u2028para\u2029", "line\\u2028para\\u2029"),
    ("gnp.\u202eexe", "gnp.\\u202eexe"),
    ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
    ("not xml \ufffe\uffff", "not xml \\ufffe\\uffff"),
])
def test_controls_are_shown_as_escapes(text, shown):
    assert inert(text) == shown


@pytest.mark.parametrize("text", ["", "hv1.example.org", "vm1;touch X;#", "C:\\path\\x1b", "café 東京 🙂", "a\u00a0b"])
def test_plain_text_is_unchanged(text):
    assert inert(text) is text


def test_any_character_ends_up_on_one_line_with_no_control():
    shown = inert(EVERY_CHARACTER)
    assert shown.splitlines() == [shown]  # no \n, \r, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029 left
    assert not [c for c in shown if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in BIDI]
    shown.encode("utf-8")  # strict: a lone surrogate would raise


def test_any_character_stays_well_formed_in_xml():
    shown = inert(EVERY_CHARACTER)
    element = ET.fromstring(f'<failure message="{escape(shown, {chr(34): "&quot;"})}">{escape(shown)}</failure>')
    assert element.text == shown and element.get("message") == shown


def test_only_the_unsafe_characters_change():
    kept, changed = [], []  # each character alone, made inert once: what it is shown as
    for c in EVERY_CHARACTER:
        shown = inert(c)
        (kept if shown == c else changed).append(shown)
    assert len(kept) + len(changed) == 0x110000
    assert len(changed) == 32 + 1 + 32 + 2 + len(BIDI) + 2048 + 2
    assert all(shown.startswith("\\") and shown.isascii() and shown.isprintable() for shown in changed)
