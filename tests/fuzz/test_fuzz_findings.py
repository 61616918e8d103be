"""Inputs the fuzzer found, kept as cases: the fixed ones must keep every property; the open ones
are strict expected failures, so that fixing one turns its case red until it is moved up.

Each file is a fuzzer input as `fuzz/fuzz_clean.py` reads it: the first byte's lowest bit says
whether the rest is read as HTML (`page.html`) or as text (`page.txt`).
"""
from __future__ import annotations

import pytest

from fuzz.properties import check_bytes
from tests.conftest import FIXTURES

FINDINGS = FIXTURES / "fuzz_findings"
FIXED = [
    "title_repeat_after_markup_debris",  # the title line kept as the page's, then taken for a VIP banner
    "traditional_text_taken_for_damage",  # a traditional line alone formed a broken-font block
    "big5_garbage_private_use",  # Big5 read as GB18030: a round trip of the garbage gave a word among strays
    "garbage_round_trip_holding_a_word",  # the same, found again: only a second pass made the round trip
    "junk_page_title_named_the_document",  # a <title> of rare-character noise protected that noise in the text
    "late_markup_read_as_text_once",  # markup after the first 2 KB: text once, HTML once cleaning cut the text
    "garbled_line_taken_for_a_heading",  # Big5-as-GB18030 garbage, short, split off as a speech of its own
]
OPEN = {
    "glued_title_leaves_decoration": "an unclosed <title>: ungluing the cleaned title leaves its site decoration, "
                                     "which the second pass removes as a banner",
    "unclosed_title_swallows_markup": "an unclosed <title> takes the markup and text after it into the page "
                                      "title; its first segment, rare-character noise, names the document",
    "markup_in_text_becomes_html_once_cut": "a text page carrying a broken doctype and <p> fragments: the first "
                                            "pass keeps the tags in a title-length line, the second reads the "
                                            "cleaned text as HTML and splits it differently",
    "style_tag_in_text_glued_on_second_pass": "a Big5 text page with a <style> element and markup debris: the "
                                              "second pass joins the line holding the debris to the next",
    "garbled_salutation_glued_as_title": "a garbled salutation is unglued from the first line as its title, and "
                                         "a glyph repair makes the title differ from the line it came from",
}


def _problems(name: str) -> list[str]:
    data = (FINDINGS / name).read_bytes()
    return check_bytes(data[1:], "fuzz/page.html" if data[0] & 1 else "fuzz/page.txt")


def test_every_finding_is_listed():
    assert sorted(p.name for p in FINDINGS.iterdir()) == sorted([*FIXED, *OPEN])


@pytest.mark.parametrize("name", FIXED)
def test_fixed_finding_keeps_every_property(name):
    assert _problems(name) == []


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason))
                                  for name, reason in OPEN.items()])
def test_open_finding(name):
    assert _problems(name) == []
