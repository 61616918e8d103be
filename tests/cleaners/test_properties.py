"""Hostile input through the live recipe: no crash, valid UTF-8 out, one answer per file, idempotent.

The properties themselves are in `fuzz/properties.py` (shared with the atheris target); this file
feeds them bounded hypothesis examples of every kind of hostile input the issue names, plus the few
inputs too big to generate (a 10 MB line, 100,000 tags).
"""
from __future__ import annotations

import codecs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaners.pipeline import clean_bytes
from fuzz.properties import check_bytes, check_text

BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
LONE_SURROGATES = "\ud800\udbff\udc00\udfff"
# Characters a Chinese page is made of, plus the ones that break naive code.
SPEECH = ("同志们今年工作报告发展经济社会改革开放人民群众党中央坚持推进全面建设"
          "，。、；：？！“”（）《》【】—…·　0123456789ABCabc -_|/<>&#\t\r"
          "⽅⾯⼯ＡＢＣ１２３\x00\x07\x1b\x7f\x85\u2028\u2029\ue000\U0001f600")
ENCODINGS = ("utf-8", "gb18030", "cp950", "utf-16-le", "utf-16-be", "utf-16", "utf-8-sig", "cp1252")

chars = st.one_of(st.sampled_from(SPEECH + ZERO_WIDTH + BIDI), st.characters())
lines = st.text(chars, max_size=120)
texts = st.lists(lines, max_size=30).map("\n".join)
writable_texts = st.lists(st.text(st.one_of(st.sampled_from(SPEECH + ZERO_WIDTH + BIDI),
                                            st.characters(blacklist_categories=("Cs",))), max_size=120),
                          max_size=30).map("\n".join)


def encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace" if encoding in ("cp950", "cp1252") else "strict")


@st.composite
def encoded_files(draw) -> bytes:
    """Text in one or two encodings (mixed in one file), cut anywhere, with NULs sprinkled in."""
    parts = [encoded(draw(writable_texts), draw(st.sampled_from(ENCODINGS)))
             for _ in range(draw(st.integers(1, 2)))]
    raw = b"".join(parts)
    cut = draw(st.integers(0, 3))
    raw = raw[:len(raw) - cut] if cut else raw  # a truncated multi-byte sequence at the end
    for position in draw(st.lists(st.integers(0, max(len(raw), 1)), max_size=3)):
        raw = raw[:position] + b"\x00" + raw[position:]
    return raw


TAGS = ("div", "p", "span", "b", "td", "tr", "table", "li", "ul", "h1", "h2", "a", "br", "script", "style",
        "nav", "header", "footer", "form", "title", "pre", "iframe", "section")
CLASSES = ("", "content", "article", "share-bar", "ad", "nav", "main", "footer", "related", "vip", "side")


def _element(tag: str, css: str, children: list[str], closed: bool) -> str:
    attrs = f' class="{css}"' if css else ""
    return f"<{tag}{attrs}>{''.join(children)}" + (f"</{tag}>" if closed else "")


html_text = st.text(st.one_of(st.sampled_from(SPEECH + ZERO_WIDTH + BIDI), st.characters(blacklist_categories=("Cs",))),
                    max_size=40)
html_trees = st.recursive(
    st.one_of(html_text.map(lambda t: t.replace("<", "&lt;")),
              st.sampled_from(("&amp;", "&#0;", "&#xd800;", "<!-- c -->", "<![CDATA[x]]>"))),
    lambda children: st.builds(_element, st.sampled_from(TAGS), st.sampled_from(CLASSES),
                               st.lists(children, max_size=5), st.booleans()),
    max_leaves=25,
)


@st.composite
def html_files(draw) -> bytes:
    title = draw(st.one_of(st.none(), html_text))
    head = f"<head><meta charset=\"{draw(st.sampled_from(('utf-8', 'gbk', 'big5', 'bogus')))}\">" + (
        f"<title>{title}</title>" if title is not None else "") + "</head>"
    html = f"<!DOCTYPE html><html>{head}<body>{draw(html_trees)}</body></html>"
    return encoded(html, draw(st.sampled_from(("utf-8", "gb18030", "utf-16"))))


def _assert_properties(problems: list[str]) -> None:
    assert problems == []


@BOUNDED
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_have_every_property(raw):
    _assert_properties(check_bytes(raw, "site/page.txt"))


@BOUNDED
@given(encoded_files())
def test_truncated_mixed_and_nul_laden_text_files_have_every_property(raw):
    _assert_properties(check_bytes(raw, "site/page.txt"))


@BOUNDED
@given(html_files())
def test_nested_and_broken_html_has_every_property(raw):
    _assert_properties(check_bytes(raw, "site/page.html"))


@BOUNDED
@given(texts)
def test_decoded_text_with_zero_width_bidi_and_lone_surrogates_has_every_property(text):
    _assert_properties(check_text(text, "site/page.txt"))


PARAGRAPH = "各位代表，现在我代表政府向大会报告工作，请予审议。"


def _nested(depth: int) -> bytes:
    return f"<html><body>{'<div>' * depth}{PARAGRAPH}{'</div>' * depth}</body></html>".encode()


def _flat(tags: int, per_paragraph: int = 100) -> bytes:
    """`tags` sibling <span>s in paragraphs of `per_paragraph`: a huge tree, a page of ordinary length."""
    paragraph = f"<p>{PARAGRAPH}" + "<span>字</span>" * (per_paragraph - 1) + "</p>"
    return ("<html><body>" + paragraph * (tags // per_paragraph) + "</body></html>").encode()


HUGE = [
    pytest.param(b"a" * 10_000_000, "site/one_line.txt", id="one 10 MB line"),
    pytest.param(f"{PARAGRAPH}\n".encode() + "长" .encode() * 3_500_000 + f"\n{PARAGRAPH}".encode(),
                 "site/one_line_between.txt", id="10 MB line between paragraphs"),
    pytest.param(_nested(100_000), "site/nested.html", id="100,000 nested tags"),
    pytest.param(_flat(100_000), "site/flat.html", id="100,000 sibling tags"),
    pytest.param((ZERO_WIDTH + BIDI).join(PARAGRAPH).encode() * 200, "site/invisible.txt",
                 id="zero-width and bidi between every character"),
    pytest.param(codecs.BOM_UTF8 + b"\xe5\x90" + PARAGRAPH.encode("gb18030"), "site/mixed.txt",
                 id="UTF-8 BOM then truncated UTF-8 then GB18030"),
]


@pytest.mark.parametrize("raw, source_path", HUGE)
def test_inputs_too_big_to_generate_have_every_property(raw, source_path):
    _assert_properties(check_bytes(raw, source_path))


def test_a_10_mb_line_is_dropped_and_its_neighbours_kept():
    raw = f"{PARAGRAPH}\n".encode() + b"x" * 10_000_000 + f"\n{PARAGRAPH}".encode()
    outcome = clean_bytes(raw, "site/one_line_between.txt")
    assert [doc.text for doc in outcome.docs] == [f"{PARAGRAPH}\n{PARAGRAPH}"]
    assert [r.rule for r in outcome.docs[0].removed] == ["limit:line_length"]


@pytest.mark.parametrize("text", [
    "标题\ud800\n正文\udfff内容。",
    LONE_SURROGATES * 1000,
    f"{BIDI}{PARAGRAPH}{ZERO_WIDTH}",
])
def test_lone_surrogates_never_reach_the_output(text):
    _assert_properties(check_text(text, "site/page.txt"))
