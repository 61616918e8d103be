"""Undo mojibake: text that was decoded with the wrong codec somewhere upstream.

A scraped page may hold a stretch that some earlier tool decoded wrongly:
UTF-8 bytes read as GBK (`鍦ㄥ叏甯傛墦`), GBK bytes read as Latin-1
(`ÔÚÈ«ÊÐ`), UTF-8 read as Latin-1 or cp1252 (`åœ¨å…¨`). Each kind is
undone by re-encoding with the codec that was wrongly used and decoding with
the right one. A stretch is changed only when the round trip gives clearly
better Chinese (by the lexicon's character frequencies), so real text in any
script is never touched. Characters that were lost for good (`锟斤拷`, the
UTF-8 bytes of U+FFFD read as GBK, and runs of U+FFFD itself) are removed and
counted in the audit.

Most lines hold no stretch any kind could repair, and a cheap pattern per kind
(`repairable`: two characters in one piece that could each give a Chinese
character of the round trip) proves that in one scan, so they skip the round trips.

This stage runs before `normalize`, which drops C1 control characters that
Latin-1 mojibake is made of.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable

from .charlm import load_charlm
from .cjk import cjk_count
from .document import Audit, CleanContext, Page


def encode_latin(text: str) -> bytes:
    """The bytes a Latin-1 or cp1252 reader turned into `text` (browsers mix the two)."""
    out = bytearray()
    for ch in text:
        if ch < "\u0100":
            out.append(ord(ch))
        else:
            try:
                out += ch.encode("cp1252")
            except UnicodeEncodeError:
                out.append(LOST_BYTE)
    return bytes(out)


def encode_gbk(text: str) -> bytes:
    """The bytes a GBK reader turned into `text`; a replacement character stands for a lost byte."""
    # GB18030 is stateless, so encoding the pieces between replacement characters whole gives
    # the same bytes as encoding character by character, without a Python call per character.
    return bytes([LOST_BYTE]).join(piece.encode("gb18030") for piece in text.split("\ufffd"))


@dataclass(frozen=True)
class MojibakeKind:
    """Text whose bytes in `right_codec` were read by a reader that `encode` undoes."""

    name: str
    encode: Callable[[str], bytes]
    right_codec: str
    run: re.Pattern  # the stretches this kind produces
    # Matches in every piece of a stretch that the round trip may repair; a line or piece without
    # a match is left as it is without one. Cheap: one C-speed scan, no round trip.
    repairable: re.Pattern


LOST_BYTE = 0xFF  # invalid in UTF-8 and GBK alike: decodes back to U+FFFD
# A stretch of mojibake: characters the wrong reader produces, with short ASCII pieces
# between them (readers keep ASCII bytes as they are, and a GBK reader swallows some into pairs).
GBK_CLASS = "\u0391-\u0451\u2010-\u2312\u2460-\u2642\u2E80-\u9FFF\uE000-\uE864\uF900-\uFFEF\ufffd"
GBK_RUN = re.compile(f"[{GBK_CLASS}](?:[\x00-\x7f]{{0,8}}[{GBK_CLASS}])*")
CP1252_HIGH = "".join(sorted({bytes([b]).decode("cp1252", errors="ignore") for b in range(0x80, 0xA0)} - {""}))
LATIN_CLASS = f"\x80-\xff{re.escape(CP1252_HIGH)}\ufffd"
LATIN_RUN = re.compile(f"[{LATIN_CLASS}](?:[\x00-\x7f]{{0,8}}[{LATIN_CLASS}])*")
# Where a stretch may be cut without cutting a character's bytes: real Chinese punctuation
# (no wrong reader produces it: UTF-8 `，` read as GBK is `锛�`) and ASCII below 0x40
# (spaces, digits, most symbols), which no GBK reader takes as the second byte of a pair.
BOUNDARY_PUNCTUATION = "，。；：！？、（）《》"
BOUNDARY = re.compile(f"([{BOUNDARY_PUNCTUATION}\x00-\x3f]+)")
PIECE_CHAR = f"[^{BOUNDARY_PUNCTUATION}\x00-\x3f]"  # what a piece (of a stretch cut at `BOUNDARY`) may hold
LOST = re.compile(r"(?:锟斤拷)+|\ufffd+")
MIN_RUN = 4  # shorter stretches hold too little evidence either way
MIN_QUALITY = -8.0  # per-character log-probability of a stretch that reads as Chinese
MIN_GAIN = 3.0  # how much better per character the round trip must read
# What a true round trip gives besides Chinese, ASCII and CJK or full-width punctuation: a run of
# U+FFFD where bytes were lost upstream (one per lost character), little more. Garbage decoded
# through the wrong codec gives many strays (kana, Greek, Sinhala, lost bytes everywhere), and a
# few real words among them would pass `quality`, which reads only the Chinese characters.
STRAY = re.compile("\ufffd+|[^\x00-\x7f\u2010-\u206f\u2e80-\u9fff\uff00-\uffef\ufffd]")
MAX_STRAY = 1  # strays a round trip may always give
MAX_STRAY_SHARE = 0.25  # ... and more only up to this share of its Chinese characters


def char_class(chars: set[str]) -> str:
    """A regex character class of exactly `chars`, written as runs of consecutive code points."""
    codes = sorted(map(ord, chars))
    runs: list[list[int]] = []
    for code in codes:
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "[" + "".join(re.escape(chr(first)) + (f"-{re.escape(chr(last))}" if last > first else "")
                         for first, last in runs) + "]"


def two_byte_chars(firsts: range, seconds: range) -> set[str]:
    """The characters whose GB18030 code is two bytes, the first in `firsts` and the second in `seconds`.

    Every pair of a first byte 81–FE and a second byte 40–FE but 7F is one character, so the
    pairs decode at once; `test_mojibake` checks the pattern built on this against `str.encode`.
    """
    pairs = bytes(byte for first in firsts for second in seconds if second != 0x7F for byte in (first, second))
    return set(pairs.decode("gb18030"))


def utf8_start_in_gbk() -> str:
    """A regex for a character whose GB18030 bytes may start a UTF-8 Chinese character in a piece.

    Every Chinese character UTF-8 decodes is a lead byte E3–E9 and two continuation bytes 80–BF.
    In the bytes of a piece (GB18030 being stateless, its characters' bytes in a row; a
    replacement character stands for `LOST_BYTE`) no ASCII byte, `LOST_BYTE` or 30–39 byte of a
    four-byte character can be one of them, so such a triple starts either at a two-byte
    character's second byte E3–E9, the next character's two bytes being 80–BF, or at a two-byte
    character's first byte E3–E9 with its second byte 80–BF (rare characters, taken whatever
    follows). Each character starts at most one triple, so the matches bound the triples.
    The regex opens with one character class, which lets the regex engine scan for it fast.
    """
    second_lead = two_byte_chars(range(0x81, 0xFF), range(0xE3, 0xEA))
    both_continuation = two_byte_chars(range(0x81, 0xC0), range(0x80, 0xC0)) - set(BOUNDARY_PUNCTUATION)
    first_lead = two_byte_chars(range(0xE3, 0xEA), range(0x80, 0xC0))
    return (f"{char_class(second_lead | first_lead)}"
            f"(?:(?<={char_class(first_lead)})|(?={char_class(both_continuation)}))")


UTF8_START_IN_GBK = utf8_start_in_gbk()
# Two such starts in one piece: a piece with fewer decodes to fewer than two Chinese characters,
# which `better` turns away. Ordinary Chinese rarely has two within one clause.
UTF8_IN_GBK_REPAIRABLE = re.compile(f"{UTF8_START_IN_GBK}{PIECE_CHAR}*?{UTF8_START_IN_GBK}")
# Two characters a Latin reader made of bytes 80–FE in one piece. Every Chinese character GB18030 or
# UTF-8 decodes holds a byte 80–FE of its own, and `encode_latin` gives each character of a piece
# one byte (0xFF for a replacement character), so a piece with fewer decodes to fewer than two
# Chinese characters, which `better` turns away. Chinese text holds `“”…·` of the Latin class,
# but rarely two of them with only Latin letters between.
LATIN_HIGH = f"\x80-\xfe{re.escape(CP1252_HIGH)}"
LATIN_REPAIRABLE = re.compile(f"[{LATIN_HIGH}][{LATIN_CLASS}\x40-\x7f]*?[{LATIN_HIGH}]")

# One place to add a kind; tried in this order (Latin first: its stretches hold no CJK).
KINDS: tuple[MojibakeKind, ...] = (
    MojibakeKind("gbk_read_as_latin", encode_latin, "gb18030", LATIN_RUN, LATIN_REPAIRABLE),
    MojibakeKind("utf8_read_as_latin", encode_latin, "utf-8", LATIN_RUN, LATIN_REPAIRABLE),
    MojibakeKind("utf8_read_as_gbk", encode_gbk, "utf-8", GBK_RUN, UTF8_IN_GBK_REPAIRABLE),
)


def quality(text: str) -> float:
    """Log-probability per Chinese character under the lexicon model: about -5 for prose, -11 for mojibake.

    Mojibake is made of real but unrelated characters that form no words;
    the word model sees that where single-character frequencies do not.
    Replacement characters (bytes lost upstream) are left out.
    """
    text = text.replace("\ufffd", " ")
    n_cjk = cjk_count(text)
    return load_charlm().score(text) / n_cjk if n_cjk else -math.inf


def round_trip(text: str, kind: MojibakeKind) -> str | None:
    """`text` turned back into bytes as the wrong reader saw them and decoded right, or None."""
    try:
        raw = kind.encode(text)
    except UnicodeEncodeError:
        return None
    return raw.decode(kind.right_codec, errors="replace")


def better(stretch: str, kind: MojibakeKind) -> str | None:
    if len(stretch) < MIN_RUN:
        return None
    fixed = round_trip(stretch, kind)
    if not fixed or fixed == stretch:
        return None
    n_cjk = cjk_count(fixed)
    strays = len(STRAY.findall(fixed))
    if n_cjk < 2 or strays > max(MAX_STRAY, MAX_STRAY_SHARE * n_cjk):
        return None
    gained = quality(fixed)
    if gained >= MIN_QUALITY and gained >= quality(stretch) + MIN_GAIN:
        return fixed
    return None


def repair_stretch(stretch: str, kind: MojibakeKind, audit: Audit) -> str:
    fixed = better(stretch, kind)
    if fixed is None:
        return stretch
    audit.repair(stretch, fixed, 1)
    return fixed


def repair_line(line: str, audit: Audit) -> str:
    """Reverse every mojibake stretch of `line` that reads clearly better; drop lost characters.

    Stretches are cut at `BOUNDARY` into pieces judged on their own, so
    clean text beside mojibake stays as it is. A piece is a substring of its
    stretch and line, so a line or stretch where a kind's `repairable` finds
    nothing has no piece it could repair and is not cut at all (most lines);
    boundary runs never match it.
    """
    for kind in KINDS:
        if kind.repairable.search(line) is None:
            continue

        def swap(match: re.Match, kind: MojibakeKind = kind) -> str:
            stretch = match.group()
            if kind.repairable.search(stretch) is None:
                return stretch
            return "".join(repair_stretch(piece, kind, audit) if kind.repairable.search(piece) else piece
                           for piece in BOUNDARY.split(stretch))

        line = kind.run.sub(swap, line)
    if "\ufffd" not in line and "锟斤拷" not in line:  # what `LOST` needs; a substring search is faster
        return line

    def drop(match: re.Match) -> str:
        audit.remove(match.group(), "mojibake_lost")
        return ""

    return LOST.sub(drop, line)


def mojibake_stage(page: Page, ctx: CleanContext) -> Page:
    """Pipeline stage: undo mojibake in every line and in the title hint."""
    for draft in page.drafts:
        draft.lines = [repair_line(line, draft.audit) for line in draft.lines]
    if page.title_hint:
        page.title_hint = repair_line(page.title_hint, page.drafts[0].audit if page.drafts else Audit())
    return page
