"""Safe character normalisation: only changes that can never alter meaning.

Full NFKC would turn Chinese punctuation (，：（）！) into ASCII and change how
the text reads and how it is tokenised, so NFKC is applied only to the blocks
where it maps a look-alike to the real character: Kangxi radicals and the
CJK radicals supplement (`⽅`→`方`, seen in text copied from PDFs), CJK
compatibility ideographs, and full-width ASCII digits and letters. Control,
zero-width and bidi characters go; white space is tidied; empty lines go.
"""
from __future__ import annotations

import re
import unicodedata

from .document import CleanContext, Page

# Blocks where NFKC only maps look-alikes onto the characters they imitate.
NFKC_BLOCKS = (
    (0x2E80, 0x2EFF),  # CJK radicals supplement
    (0x2F00, 0x2FDF),  # Kangxi radicals
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x2F800, 0x2FA1F),  # CJK compatibility ideographs supplement
    (0xFF10, 0xFF19),  # full-width digits
    (0xFF21, 0xFF3A),  # full-width capitals
    (0xFF41, 0xFF5A),  # full-width small letters
)
# CJK radicals supplement forms that NFKC leaves alone although PDFs use them for the
# whole character (⻓江 for 长江); from Unicode's EquivalentUnifiedIdeograph data.
RADICAL_LOOKALIKES = dict(zip(
    "⺁⺊⺌⺒⺓⺗⺠⺩⺬⺮⺶⻁⻄⻅⻆⻉⻋⻓⻔⻗⻘⻙⻚⻛⻜⻝⻢⻣⻤⻥⻦⻧⻨⻩⻪⻬⻮⻰",
    "厂卜小巳幺心民王示竹羊虎西见角贝车长门雨青韦页风飞食马骨鬼鱼鸟卤麦黄黾齐齿龙",
))
# Invisible characters that carry no text: zero-width, bidi controls, soft hyphen, BOM.
INVISIBLE = (
    [0x00AD, 0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
    + list(range(0x200E, 0x2010))
    + list(range(0x202A, 0x202F))
    + list(range(0x2061, 0x2070))
)
# White space that should read as an ordinary space (NBSP, ideographic space, thin spaces …).
SPACES = [0x00A0, 0x1680, 0x3000, 0x202F, 0x205F] + list(range(0x2000, 0x200B))


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for lo, hi in NFKC_BLOCKS:
        for cp in range(lo, hi + 1):
            mapped = unicodedata.normalize("NFKC", chr(cp))
            if mapped != chr(cp) and len(mapped) == 1:
                table[cp] = mapped
    for lookalike, real in RADICAL_LOOKALIKES.items():
        table[ord(lookalike)] = real
    for cp in list(range(0x00, 0x20)) + [0x7F] + list(range(0x80, 0xA0)):
        if chr(cp) not in "\n\t":
            table[cp] = None
    table[ord("\t")] = " "
    for cp in INVISIBLE:
        table[cp] = None
    for cp in SPACES:
        table[cp] = " "
    # Lone surrogates cannot be written as UTF-8; they are never text.
    for cp in range(0xD800, 0xE000):
        table[cp] = None
    return table


TRANSLATION = _build_table()
# The same mapping for `re.sub`: most text has none of these characters, and finding the few
# with one regex scan is many times faster than `str.translate` looking up every character.
REPLACEMENTS = {chr(cp): to or "" for cp, to in TRANSLATION.items()}


def _character_class(codepoints: list[int]) -> re.Pattern:
    """One regex class of code-point ranges (a class of ranges scans fast, one of thousands of members not)."""
    ranges: list[list[int]] = []
    for cp in sorted(codepoints):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return re.compile("[" + "".join(re.escape(chr(lo)) + ("-" + re.escape(chr(hi)) if hi > lo else "")
                                    for lo, hi in ranges) + "]")


TO_REPLACE = _character_class(list(TRANSLATION))
NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b\x0c]")
# What every `NEWLINES` match starts with: most text has none, and one class scans fast (the
# alternation above is tried at every position).
NEWLINE_START = re.compile(r"[\r\u2028\u2029\x85\x0b\x0c]")
SPACE_RUNS = re.compile(r"  +")  # two or more: a leading literal lets the regex engine skip to spaces fast


def _replace(match: re.Match) -> str:
    return REPLACEMENTS[match.group()]


def normalize_text(text: str) -> str:
    """Return `text` with look-alikes mapped, invisibles dropped, white space tidied, empty lines out."""
    if NEWLINE_START.search(text):
        text = NEWLINES.sub("\n", text)
    text = SPACE_RUNS.sub(" ", TO_REPLACE.sub(_replace, text))
    lines = (line.strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def normalize_lines(lines: list[str]) -> list[str]:
    """`normalize_text` over a list of lines; lines may come back split or dropped."""
    text = normalize_text("\n".join(lines))
    return text.split("\n") if text else []


def normalize_stage(page: Page, ctx: CleanContext) -> Page:
    """Pipeline stage: normalise every draft of the page and its title hint."""
    for draft in page.drafts:
        draft.lines = normalize_lines(draft.lines)
    if page.title_hint:
        page.title_hint = normalize_text(page.title_hint).replace("\n", " ") or None
    return page
